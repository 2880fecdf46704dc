"""The Postgres store: migrations once under concurrent starts, races run again, clear errors.

The queries themselves run on both engines in the modules marked ``both_engines``;
this module holds what belongs to the store classes: the schema, transactions that
lose a race, settings and connection errors, and the placeholder translation.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import team_settings, write_team_settings
from tests.postgres_server import PostgresServer
from voxwatch.errors import SettingsError, StoreError
from voxwatch.settings import load_settings, public_url
from voxwatch.store import Store, queries, store_for
from voxwatch.store.dialect import postgres_placeholders
from voxwatch.store.migrations import MIGRATIONS
from voxwatch.store.postgres_store import PostgresStore

pytestmark = pytest.mark.both_engines


def test_migrations_apply_once_in_order_on_an_empty_database(postgres_server: PostgresServer) -> None:
    store = PostgresStore(postgres_server.database(empty=True))
    assert store.migrate() == [m.name for m in MIGRATIONS]
    assert store.migrate() == []
    versions = store.read(lambda c: c.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall())
    assert [v for (v,) in versions] == [m.version for m in MIGRATIONS]


def test_processes_starting_at_once_apply_each_migration_once(postgres_server: PostgresServer) -> None:
    url = postgres_server.database(empty=True)
    program = (
        "import sys; from voxwatch.store.postgres_store import PostgresStore; "
        "print(len(PostgresStore(sys.argv[1]).migrate()))"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", program, url], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    applied = [int(p.communicate(timeout=60)[0]) for p in starts]
    assert [p.returncode for p in starts] == [0, 0, 0]
    assert sum(applied) == len(MIGRATIONS)  # each migration applied by exactly one of them
    rows = PostgresStore(url).read(lambda c: c.execute("SELECT version FROM schema_migrations").fetchall())
    assert sorted(v for (v,) in rows) == [m.version for m in MIGRATIONS]


def test_a_transaction_that_loses_a_race_runs_again_and_nothing_is_lost(team) -> None:
    """Read-then-write from 4 threads at once: every increment counts, on both engines, with no error."""
    store = store_for(team)
    store.write(lambda c: queries.raise_session_generation(c, "amy", datetime.now(UTC)))

    def increment(conn: queries.Connection) -> None:
        (current,) = conn.execute("SELECT generation FROM dashboard_sessions WHERE person = 'amy'").fetchone()
        conn.execute("UPDATE dashboard_sessions SET generation = ? WHERE person = 'amy'", [current + 1])

    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                store.write(increment)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert store.read(lambda c: queries.session_generation(c, "amy")) == 1 + 40


def test_a_failed_write_leaves_nothing(team) -> None:
    store = store_for(team)

    def half_then_fail(conn: queries.Connection) -> None:
        queries.record_sign_in_failure(conn, "account", "amy", datetime.now(UTC))
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        store.write(half_then_fail)
    assert (
        store.read(
            lambda c: queries.sign_in_failures_since(c, "account", "amy", datetime(2000, 1, 1, tzinfo=UTC))
        )
        == []
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
def test_any_text_travels_as_a_parameter_beside_literal_marks(team, value: str) -> None:
    """Literal ``?`` and ``%`` stay literals; the parameter comes back exactly (Postgres: NUL as U+FFFD)."""
    store: Store = store_for(team)
    row = store.read(lambda c: c.execute("SELECT '?%''?', ?, '%s'", [value]).fetchone())
    expected = value if store.engine == "duckdb" else value.replace("\x00", "\ufffd")
    assert tuple(row) == ("?%'?", expected, "%s")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT ?", "SELECT %s"),
        ("SELECT '?' , ?", "SELECT '?' , %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ("SELECT 100 % ?", "SELECT 100 %% %s"),
        ("SELECT '50%' -- a ? in a comment\n, ?", "SELECT '50%%' -- a ? in a comment\n, %s"),
        ('SELECT "odd?name" FROM t WHERE a = ?', 'SELECT "odd?name" FROM t WHERE a = %s'),
    ],
)
def test_placeholders_become_psycopgs_outside_quotes_and_comments(sql: str, expected: str) -> None:
    assert postgres_placeholders(sql) == expected


def test_a_password_in_the_settings_file_or_url_is_refused(tmp_path: Path) -> None:
    config = write_team_settings(tmp_path, store_url="postgresql://vox:hunter2@db.example/voxwatch")
    with pytest.raises(SettingsError, match="VOXWATCH_STORE__PASSWORD") as refused:
        load_settings(config)
    assert "hunter2" not in str(refused.value)
    text = config.read_text(encoding="utf-8").replace("vox:hunter2@", "vox@")
    config.write_text(text.replace("[store]\n", '[store]\npassword = "hunter2"\n'), encoding="utf-8")
    with pytest.raises(SettingsError, match=r"store\.password is a secret"):
        load_settings(config)


def test_a_url_that_is_not_postgres_is_refused_naming_the_key(tmp_path: Path) -> None:
    config = write_team_settings(tmp_path, store_url="mysql://vox@db.example/voxwatch")
    with pytest.raises(SettingsError, match=r"store\.url.*postgresql://"):
        load_settings(config)


def test_the_password_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer
) -> None:
    monkeypatch.setenv("VOXWATCH_STORE__PASSWORD", "from-the-environment")
    settings_ = team_settings(tmp_path, store_url=postgres_server.database())
    store = store_for(settings_)
    assert isinstance(store, PostgresStore)
    assert store._password == "from-the-environment"
    assert "from-the-environment" not in store.location


def test_a_server_that_does_not_answer_is_a_store_error_naming_it() -> None:
    store = PostgresStore("postgresql://vox@127.0.0.1:9/voxwatch", password="hunter2", lock_timeout=2)
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9/voxwatch cannot be reached") as refused:
        store.read(lambda c: None)
    assert "hunter2" not in str(refused.value)


def test_a_url_with_a_password_is_shown_without_it() -> None:
    assert (
        public_url("postgresql://vox:hunter2@db.example:5433/v") == "postgresql://vox:***@db.example:5433/v"
    )
    assert public_url("postgresql://vox@db.example/v") == "postgresql://vox@db.example/v"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT id FROM cases WHERE {open} ORDER BY first_response_due, id LIMIT 200",
        "SELECT now() - created_at FROM cases WHERE {open}",
    ],
)
def test_postgres_finds_open_cases_through_their_partial_index(postgres_server, query: str) -> None:
    """The inbox and the backlog read open cases through ``cases_open``, not by reading every case.

    Postgres uses a partial index only where it can prove the query's condition is the
    index's own; with sequential scans turned off, a plan without the index means it cannot.
    """
    import psycopg

    from voxwatch.store.queries.cases import OPEN

    url = postgres_server.database()
    try:
        with psycopg.connect(url) as conn:
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + query.format(open=OPEN)).fetchall())
    finally:
        postgres_server.drop(url)
    assert "cases_open" in plan, plan
