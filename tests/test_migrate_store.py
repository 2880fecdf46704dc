"""``voxwatch migrate-store``: a routed DuckDB store moved into Postgres, whole or not at all.

The source is the sample week routed by the real pipeline (every table has rows:
raw responses as bytes, JSON, lists, timestamps); the target is a real Postgres
database. A move killed at any moment leaves the target empty or complete, never
half-filled.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import copy_demo
from tests.postgres_server import PostgresServer
from voxwatch.cli import app
from voxwatch.store import DuckDBStore, Store
from voxwatch.store.postgres_store import PostgresStore
from voxwatch.store.transfer import out_sequences, row_counts

pytestmark = pytest.mark.xdist_group("demo")


def everything(store: Store) -> dict[str, list[Any]]:
    """Every row of every table, in an order both engines agree on."""

    def _read(conn: Any) -> dict[str, list[Any]]:
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in row_counts(conn)
        }

    return store.read(_read)


def move(source: Path, url: str) -> Any:
    return CliRunner().invoke(app, ["migrate-store", "--from", f"duckdb:{source}", "--to", url])


def test_a_routed_store_moves_whole_and_its_numbers_continue(
    demo_run: tuple[Path, dict], tmp_path: Path, postgres_server: PostgresServer
) -> None:
    copy_demo(demo_run, tmp_path)
    source, url = DuckDBStore(tmp_path / "voxwatch.duckdb"), postgres_server.database(empty=True)
    result = move(source.path, url)
    assert result.exit_code == 0, result.output
    target = PostgresStore(url)
    counts = source.read(row_counts)
    assert counts["mentions"] > 20 and counts["cases"] > 5 and counts["raw_responses"] > 0
    assert target.read(row_counts) == counts
    assert everything(target) == everything(source)  # row for row, value for value
    assert out_sequences(target) == out_sequences(source)  # the next case number follows the last one
    assert "ok:" in result.output and "mentions:" in result.output


def test_a_target_that_is_not_empty_is_refused_and_left_alone(
    demo_run: tuple[Path, dict], tmp_path: Path, postgres_server: PostgresServer
) -> None:
    copy_demo(demo_run, tmp_path)
    url = postgres_server.database(empty=True)
    assert move(tmp_path / "voxwatch.duckdb", url).exit_code == 0
    before = PostgresStore(url).read(row_counts)
    again = move(tmp_path / "voxwatch.duckdb", url)
    assert again.exit_code == 2
    assert "is not empty" in again.output and "nothing was copied" in again.output
    assert PostgresStore(url).read(row_counts) == before


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        (["--from", "voxwatch.duckdb", "--to", "postgresql://vox@127.0.0.1/v"], "duckdb:PATH"),
        (["--from", "duckdb:/no/such/file.duckdb", "--to", "postgresql://vox@127.0.0.1/v"], "no DuckDB file"),
        (
            ["--from", "duckdb:{file}", "--to", "postgresql://vox:hunter2@127.0.0.1/v"],
            "VOXWATCH_STORE__PASSWORD",
        ),
        (["--from", "duckdb:{file}", "--to", "sqlite:///v.db"], "postgresql://"),
    ],
)
def test_a_wrong_source_or_target_is_refused_naming_it(
    tmp_path: Path, given: list[str], refusal: str
) -> None:
    file = tmp_path / "voxwatch.duckdb"
    DuckDBStore(file).migrate()
    result = CliRunner().invoke(app, ["migrate-store", *[g.format(file=file) for g in given]])
    assert result.exit_code == 2
    assert refusal in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize("after_seconds", [0.5, 1.5, 2.5, 4.0])
def test_a_move_killed_at_any_moment_leaves_the_target_empty_or_whole(
    demo_run: tuple[Path, dict], tmp_path: Path, postgres_server: PostgresServer, after_seconds: float
) -> None:
    copy_demo(demo_run, tmp_path)
    source, url = DuckDBStore(tmp_path / "voxwatch.duckdb"), postgres_server.database(empty=True)
    mover = subprocess.Popen(
        [sys.executable, "-m", "voxwatch", "migrate-store", "--from", f"duckdb:{source.path}", "--to", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after_seconds)
    mover.send_signal(signal.SIGKILL)
    mover.wait(timeout=30)
    target = PostgresStore(url)
    target.migrate()
    landed = target.read(row_counts)
    if any(landed.values()):
        assert landed == source.read(row_counts)  # it had committed: all of it
    else:
        assert move(source.path, url).exit_code == 0  # nothing landed: the move can simply run again
        assert target.read(row_counts) == source.read(row_counts)
