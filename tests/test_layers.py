"""The layering holds for every module, and every module imports on its own.

``lint-imports`` (in the README's test command) checks the imports against
``.importlinter``; but a module that sits in no layer is checked by nothing, so
this test fails when a new module is not covered by the contract. It also
imports every module by itself, so a module that only works when something
else was imported first, or does work at import time that fails, is caught by
a fast test.
"""

from __future__ import annotations

import configparser
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("voxwatch", "flows", "sentiment", "responders", "insights", "dashboard")
# Scripts that run at import: Streamlit pages (tests/test_dashboard_pages.py runs them in AppTest)
# and ``python -m voxwatch`` (tests/test_cli_demo.py runs it).
SCRIPTS = ("dashboard.app", "dashboard.pages.", "voxwatch.__main__")


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append(name.removesuffix(".__init__"))
    return found


def contract() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return parser


def layers() -> list[list[str]]:
    text = contract()["importlinter:contract:layers"]["layers"]
    return [
        [part.strip() for part in line.replace("|", ":").split(":") if part.strip()]
        for line in text.splitlines()
        if line.strip()
    ]


def layer_of(module: str) -> int | None:
    for index, names in enumerate(layers()):
        if any(module == name or module.startswith(name + ".") for name in names):
            return index
    return None


def test_the_contract_names_every_root_package() -> None:
    roots = contract()["importlinter"]["root_packages"].split()
    assert sorted(roots) == sorted(PACKAGES)


@pytest.mark.parametrize("module", [m for m in modules() if m not in PACKAGES and m != "voxwatch.__main__"])
def test_every_module_sits_in_a_layer(module: str) -> None:
    assert layer_of(module) is not None, f"{module} is in no layer of .importlinter: add it where it belongs"


@pytest.mark.parametrize(
    ("upper", "lower"),
    [
        ("voxwatch.cli.main", "flows.pipeline"),
        ("dashboard.data", "responders.cases"),
        ("flows.route", "insights.spikes"),
        ("responders.cases", "voxwatch.store.queries.cases"),
        ("voxwatch.store.stages", "voxwatch.settings"),
        ("voxwatch.settings", "voxwatch.permissions"),
    ],
)
def test_layers_are_ordered_from_the_doors_down(upper: str, lower: str) -> None:
    high, low = layer_of(upper), layer_of(lower)
    assert high is not None and low is not None and high < low


def test_the_stages_are_peers_in_one_layer() -> None:
    stage_layer = {layer_of(stage) for stage in ("flows.sources", "sentiment", "responders", "insights")}
    assert len(stage_layer) == 1


@pytest.mark.parametrize("module", [m for m in modules() if not m.startswith(SCRIPTS)])
def test_every_module_imports_on_its_own_and_says_what_it_is_for(module: str) -> None:
    imported = importlib.import_module(module)
    if Path(imported.__file__ or "").stat().st_size > 0:
        assert (imported.__doc__ or "").strip(), f"{module} has no docstring saying why it exists"
