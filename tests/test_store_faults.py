"""A damaged store is reported in one line, naming the file and what to do, and is never written to.

Each kind of damage a disk or a person can do to the DuckDB file (cut short,
overwritten, bytes flipped in the middle, not a database at all) is tried on a
store holding routed cases, through the commands a person runs first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.builders import Post, fresh_store, seed_posts, write_team_settings
from voxwatch.cli import app
from voxwatch.errors import StoreError
from voxwatch.settings import load_settings
from voxwatch.store import store_for


def truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def flip_middle(path: Path) -> None:
    """Overwrite bytes across the data blocks: the header still opens, the checksums do not match."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        for tenth in range(2, 10):
            handle.seek(size * tenth // 10)
            handle.write(os.urandom(4096))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "garbage": garbage,
    "flipped": flip_middle,
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with settings and a store holding 300 routed cases, made once for the module."""
    folder = tmp_path_factory.mktemp("pristine")
    settings = load_settings(write_team_settings(folder))
    store = fresh_store(settings)
    posts = [
        Post(f"The Acme app crashed on order {i}, I want a refund", 0.9, author=f"c{i}") for i in range(300)
    ]
    seed_posts(store, settings, posts)
    return folder


def private_copy(pristine: Path, target: Path) -> tuple[Path, Path]:
    """(settings path, store path) of a copy of the pristine store in ``target``."""
    shutil.copy(pristine / "voxwatch.duckdb", target / "voxwatch.duckdb")
    return write_team_settings(target), target / "voxwatch.duckdb"


@pytest.fixture
def damaged_store(pristine: Path, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """(settings path, store path) of a copy of the pristine store, damaged as the test asks."""
    config, path = private_copy(pristine, tmp_path)
    DAMAGE[request.param](path)
    return config, path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damaged_store", sorted(DAMAGE), indirect=True)
@pytest.mark.parametrize("command", [["run"], ["collect"], ["check-store"]])
def test_a_damaged_store_is_one_clear_line_and_left_as_it_was(
    damaged_store: tuple[Path, Path], command: list[str]
) -> None:
    config, path = damaged_store
    before = digest(path)
    result = CliRunner().invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    message = " ".join(lines)
    assert str(path) in message.replace("\n", "") and "restore it from a backup" in message
    assert digest(path) == before  # no migration, no settings registered, nothing written
    assert not path.with_name(path.name + ".wal").exists()


@pytest.mark.parametrize("damaged_store", sorted(DAMAGE), indirect=True)
def test_reading_cases_from_a_damaged_store_never_shows_a_traceback(damaged_store: tuple[Path, Path]) -> None:
    """A listing reads only what it needs: damage it does not touch goes unnoticed, else one line."""
    config, path = damaged_store
    before = digest(path)
    result = CliRunner().invoke(app, ["cases", "list", "--config", str(config)])
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    if result.exit_code != 0:
        assert result.exit_code == 2 and str(path) in result.stderr.replace("\n", "")
    assert digest(path) == before


@pytest.mark.parametrize("damage", [truncate, garbage, flip_middle])
def test_migrate_checks_before_it_writes(
    pristine: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    config, _ = private_copy(pristine, tmp_path)
    settings = load_settings(config)
    store = store_for(settings)
    damage(store.path)
    before = digest(store.path)
    with pytest.raises(StoreError, match="restore it from a backup"):
        store_for(settings).migrate()
    assert digest(store.path) == before


def test_a_healthy_store_passes_the_check(team) -> None:  # type: ignore[no-untyped-def]
    store_for(team).check()
    result = CliRunner().invoke(
        app, ["check-store", "--config", str(team.store.path.parent / "voxwatch.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout
