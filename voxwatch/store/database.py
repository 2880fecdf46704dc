"""What every store engine offers, and the schema they share.

VoxWatch keeps its data in DuckDB (one file: the embedded default, no server) or in
PostgreSQL (a server a team shares, when several machines write at once). Both run
the same statements from ``queries`` and the same ``migrations``; the few places
where the two engines differ live in ``dialect``. A store is used only through
``read(fn)`` and ``write(fn)``, which hand ``fn`` a connection for one transaction.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

from voxwatch.store import dialect
from voxwatch.store.migrations import MIGRATIONS, Migration

log = logging.getLogger(__name__)
T = TypeVar("T")
Engine = Literal["duckdb", "postgres"]


class Cursor(Protocol):
    """What a statement returns: its rows and their column names."""

    @property
    def description(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class Connection(Protocol):
    """One transaction's connection: ``execute(sql, params)`` with ``?`` placeholders, on either engine."""

    def execute(self, query: str, parameters: Any = None, /) -> Cursor: ...


class Store(ABC):
    """A database: ``read(fn)`` and ``write(fn)`` run ``fn(connection)`` in one transaction.

    ``write`` is the single way anything is written: a failure leaves nothing
    half-stored. ``fn`` touches only the connection, so an engine may run it again
    when a concurrent transaction forced it to give up (PostgreSQL does).
    """

    engine: Engine

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data is, for messages: a file path or a URL without its password."""

    @abstractmethod
    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run a query function in a transaction that sees one consistent state."""

    @abstractmethod
    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one transaction: all of it is stored, or none."""

    @abstractmethod
    def check(self) -> None:
        """StoreError when the store cannot be read whole; run before anything writes."""

    def close(self) -> None:  # noqa: B027 - an engine without pooled connections has nothing to close
        """Let go of any connections held for reuse."""

    def make_way(self) -> None:  # noqa: B027 - an engine that locks rows lets others in by itself
        """Between two transactions of one long write: let anyone waiting for the store go first."""

    def _write_schema(self, fn: Callable[[Connection], T]) -> T:
        """``write`` for a migration: an engine whose writers run side by side makes them take turns."""
        return self.write(fn)

    def _prepare(self) -> None:  # noqa: B027 - nothing to create on a server
        """Make room for the data before the first migration (a file's folder)."""

    def migrate(self, migrations: Sequence[Migration] | None = None) -> list[str]:
        """Check the store, create it if needed and apply pending migrations; return their names.

        Each migration checks and applies inside one write transaction, so two
        processes starting at once cannot both apply it. ``migrations``: the first
        few only (a benchmark builds a store as it was, then upgrades it).
        """
        self.check()
        self._prepare()
        applied: list[str] = []
        for migration in MIGRATIONS if migrations is None else migrations:

            def _apply(conn: Connection, m: Migration = migration) -> bool:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                    " name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
                )
                seen = conn.execute(
                    "SELECT count(*) FROM schema_migrations WHERE version = ?", [m.version]
                ).fetchone()
                if seen and seen[0]:
                    return False
                conn.execute(dialect.schema_sql(self.engine, m.sql))
                if self.engine == "postgres" and m.postgres_sql:
                    conn.execute(m.postgres_sql)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [m.version, m.name, datetime.now(UTC)],
                )
                return True

            if self._write_schema(_apply):
                log.info(
                    "store %s: applied migration %03d %s", self.location, migration.version, migration.name
                )
                applied.append(migration.name)
        return applied
