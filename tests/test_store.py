"""The store: ordered migrations, all-or-nothing writes, lock conflicts retried."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voxwatch.domain import Mention
from voxwatch.errors import StoreError
from voxwatch.store import DuckDBStore, Store, queries
from voxwatch.store.migrations import MIGRATIONS

WINDOW = timedelta(hours=72)


def migrated(tmp_path: Path) -> Store:
    store = DuckDBStore(tmp_path / "vw.duckdb", lock_timeout=20)
    store.migrate()
    return store


def test_migrations_apply_once_in_order(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "vw.duckdb")
    assert store.migrate() == [m.name for m in MIGRATIONS]
    assert store.migrate() == []
    versions = store.read(lambda c: c.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall())
    assert [v for (v,) in versions] == [m.version for m in MIGRATIONS]


def test_write_is_all_or_nothing(tmp_path: Path) -> None:
    store = migrated(tmp_path)
    now = datetime.now(UTC)

    def half_then_fail(conn) -> None:
        queries.insert_mentions(conn, "blog", [Mention("1", "first")], now, None, WINDOW)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        store.write(half_then_fail)
    assert store.read(lambda c: c.execute("SELECT count(*) FROM mentions").fetchone()) == (0,)


def test_inserting_the_same_mention_twice_adds_one_row(tmp_path: Path) -> None:
    store = migrated(tmp_path)
    now = datetime.now(UTC)
    batch = [Mention("42", "hello"), Mention("43", "again")]
    assert store.write(lambda c: queries.insert_mentions(c, "blog", batch, now, None, WINDOW)).new == 2
    assert store.write(lambda c: queries.insert_mentions(c, "blog", batch, now, None, WINDOW)).new == 0
    # the same external id from another source is another mention
    assert store.write(lambda c: queries.insert_mentions(c, "forum", batch[:1], now, None, WINDOW)).new == 1


def test_hostile_text_is_stored_as_data(tmp_path: Path) -> None:
    store = migrated(tmp_path)
    hostile = "'); DROP TABLE mentions; -- {{ 7*7 }} <script>alert(1)</script>"
    store.write(
        lambda c: queries.insert_mentions(c, "blog", [Mention("x", hostile)], datetime.now(UTC), None, WINDOW)
    )
    assert store.read(lambda c: c.execute("SELECT text FROM mentions").fetchone()) == (hostile,)


def test_a_write_waits_for_another_process_holding_the_lock(tmp_path: Path) -> None:
    store = migrated(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import duckdb, sys, time
                conn = duckdb.connect({str(store.path)!r})
                print("locked", flush=True)
                time.sleep(2)
                conn.close()
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    store.write(
        lambda c: queries.insert_mentions(c, "blog", [Mention("1", "t")], datetime.now(UTC), None, WINDOW)
    )
    holder.wait(timeout=30)
    assert time.monotonic() - started > 0.5  # it really had to wait for the other process
    assert store.read(lambda c: c.execute("SELECT count(*) FROM mentions").fetchone()) == (1,)


def test_lock_held_too_long_is_a_clear_store_error(tmp_path: Path) -> None:
    store = migrated(tmp_path)
    impatient = DuckDBStore(store.path, lock_timeout=0.5)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(store.path)!r}); "
            "print('x', flush=True); time.sleep(5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline()
        with pytest.raises(StoreError, match=str(store.path)):
            impatient.read(lambda c: None)
    finally:
        holder.kill()
        holder.wait()
