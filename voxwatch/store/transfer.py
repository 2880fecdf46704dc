"""Moving an installation from its DuckDB file to a Postgres server (``voxwatch migrate-store``).

Both ends are brought to the same schema by the same migrations first; then every
table is copied in one Postgres transaction, so a failure half way leaves the target
as empty as it was. The target must be empty (only migrated): merging two histories
is not a copy, and copying twice would double nothing but still overwrite someone's
store. Counts are compared table by table before committing, and the sequences
(case numbers, audit ids, the outbox order) continue after the copied rows.
"""

from __future__ import annotations

import logging
from typing import Any

from voxwatch.errors import StoreError
from voxwatch.store import dialect
from voxwatch.store.database import Connection, Store
from voxwatch.store.queries.rows import insert_many

log = logging.getLogger(__name__)
ROWS_PER_FETCH = 5_000
BOOKKEEPING = "schema_migrations"  # written by each end's own migrations, never copied


def _tables(conn: Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [name for (name,) in rows if name != BOOKKEEPING]


def _columns(conn: Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table (names come from the catalogue, never from input)."""
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in _tables(conn)}


def copy_store(source: Store, target: Store) -> dict[str, int]:
    """Copy every row of ``source`` into the empty Postgres ``target``; the rows per table copied."""
    if target.engine != "postgres":
        raise StoreError(f"store {target.location}: the target of a move must be a Postgres database")
    source.migrate()
    target.migrate()
    counts = source.read(row_counts)
    there = {table: n for table, n in target.read(row_counts).items() if n}
    if there:
        listed = ", ".join(f"{table} ({n})" for table, n in sorted(there.items()))
        raise StoreError(
            f"store {target.location} is not empty ({listed}); nothing was copied. "
            "Move into a new, empty database"
        )

    def _copy(into: Connection) -> dict[str, int]:
        source.read(lambda out: _copy_tables(out, into, list(counts)))
        copied = row_counts(into)
        differ = {t: (counts[t], copied.get(t)) for t in counts if copied.get(t) != counts[t]}
        if differ:  # raised inside the transaction: nothing is committed
            raise StoreError(f"store {target.location}: copied counts differ from the source's: {differ}")
        _continue_sequences(out_sequences(source), into)
        return copied

    copied = target.write(_copy)
    log.info("copied %s rows from %s to %s", sum(copied.values()), source.location, target.location)
    return copied


def _copy_tables(out: Connection, into: Connection, tables: list[str]) -> None:
    for table in tables:
        columns = _columns(out, table)
        names = ", ".join(f'"{c}"' for c in columns)
        cursor: Any = out.execute(f'SELECT {names} FROM "{table}"')
        while rows := cursor.fetchmany(ROWS_PER_FETCH):
            insert_many(
                into, f'INSERT INTO "{table}" ({names})', rows, f"({', '.join(['?'] * len(columns))})"
            )


def out_sequences(store: Store) -> dict[str, int]:
    """Each sequence's last value given out (none for a sequence never used)."""
    sql = dialect.SEQUENCE_VALUES[store.engine]
    return {name: int(value) for name, value in store.read(lambda c: c.execute(sql).fetchall()) if value}


def _continue_sequences(values: dict[str, int], into: Connection) -> None:
    for name, value in values.items():
        into.execute("SELECT setval(?, ?)", [name, value])
