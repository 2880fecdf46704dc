"""The suite starts its slowest modules first, and the list it does so by names real modules."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import SLOW_FIRST, pytest_collection_modifyitems


@pytest.mark.parametrize("name", SLOW_FIRST)
def test_each_slow_module_listed_exists(name: str) -> None:
    assert (Path(__file__).parent / f"{name}.py").is_file(), f"{name} is listed in SLOW_FIRST but gone"


def test_slow_modules_go_first_and_everything_keeps_its_own_order() -> None:
    names = ["test_a::one", f"{SLOW_FIRST[1]}::one", "test_b::one", f"{SLOW_FIRST[0]}::one", "test_a::two"]
    names += [f"{SLOW_FIRST[1]}::two"]
    items = [SimpleNamespace(path=Path("tests") / f"{n.split('::')[0]}.py", name=n) for n in names]
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.name for i in items] == [
        f"{SLOW_FIRST[0]}::one",
        f"{SLOW_FIRST[1]}::one",
        f"{SLOW_FIRST[1]}::two",
        "test_a::one",
        "test_b::one",
        "test_a::two",
    ]
