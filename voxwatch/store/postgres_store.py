"""The PostgreSQL store: a server that a team's processes, on any machines, share.

DuckDB lets one process at a time write a file; a team with several pipeline
workers and a dozen people in the dashboard needs a server. Connections come
from a psycopg 3 pool, one pool per process and server (a pool is made for
threads to share; a forked worker makes its own).

Concurrency. Every write transaction runs SERIALIZABLE: Postgres then commits
only what some serial order of the transactions would also have produced, so
each read-then-write in ``stages`` and ``queries`` (claim a case if it has no
owner, store a mention unless its id is there, approve the latest draft) is
exactly as correct as on DuckDB, where writers take turns on the file. A
transaction that lost such a race is rolled back by Postgres
(``SerializationFailure``, or ``DeadlockDetected``) and run again here from
the start, against what the winner committed: the loser then reads the new
owner, the stored mention, the newer draft, and does what it would have done
had it come second. So no person ever sees a lock error, only the outcome.
Reads run REPEATABLE READ: one consistent snapshot, like DuckDB's.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_random_exponential

from voxwatch.errors import StoreError
from voxwatch.settings import public_url
from voxwatch.store import dialect
from voxwatch.store.database import Connection, Cursor, Store

log = logging.getLogger(__name__)
T = TypeVar("T")
Isolation = Literal["SERIALIZABLE", "REPEATABLE READ", "READ COMMITTED"]
# What Postgres says when it rolled a transaction back so that another could win: run it again.
RACE_LOST = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
CONNECT_TIMEOUT_SECONDS = 10


class _NumberLoader(Loader):
    """NUMERIC results (``sum`` of BIGINT, ``avg``) as int or float, as DuckDB returns them, not Decimal."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode("ascii")
        return float(text) if any(c in text for c in ".eEN") else int(text)


def _json_as_text(data: str | bytes) -> str:
    """JSON columns come back as their text, as from DuckDB; the queries decode what they need."""
    return data if isinstance(data, str) else bytes(data).decode("utf-8")


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_loader("numeric", _NumberLoader)
    set_json_loads(_json_as_text, conn)


class _PostgresConnection:
    """A psycopg connection that reads the queries' ``?`` placeholders."""

    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, query: str, parameters: Any = None, /) -> Cursor:
        if parameters is None:
            return self._conn.execute(query.encode("utf-8"))  # bytes: psycopg reads no % in it
        values = [dialect.postgres_text(v) if isinstance(v, str) else v for v in parameters]
        return self._conn.execute(dialect.postgres_placeholders(query), values)


_POOLS: dict[tuple[int, str, str], ConnectionPool[Any]] = {}
_POOLS_LOCK = threading.Lock()


def _close_pools() -> None:
    with _POOLS_LOCK:
        for key, pool in list(_POOLS.items()):
            if key[0] == os.getpid():
                pool.close()
        _POOLS.clear()


atexit.register(_close_pools)


class PostgresStore(Store):
    """A PostgreSQL database at ``url``; the password comes from settings (the environment)."""

    engine = "postgres"

    def __init__(
        self, url: str, password: str | None = None, lock_timeout: float = 30.0, pool_size: int = 4
    ) -> None:
        self.url = url
        self._password = password
        self.lock_timeout = lock_timeout
        self.pool_size = pool_size

    @property
    def location(self) -> str:
        return public_url(self.url)

    def _kwargs(self) -> dict[str, Any]:
        # Days, windows and "today" are UTC on both engines: the session's zone says so.
        kwargs: dict[str, Any] = {
            "options": "-c TimeZone=UTC",
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "autocommit": True,  # each read and write is one explicit transaction (``_transaction``)
        }
        if self._password is not None:
            kwargs["password"] = self._password
        return kwargs

    def _pool(self) -> ConnectionPool[Any]:
        key = (os.getpid(), self.url, self._password or "")
        with _POOLS_LOCK:
            pool = _POOLS.get(key)
            if pool is not None:
                return pool
            self._probe()
            pool = ConnectionPool(
                self.url,
                kwargs=self._kwargs(),
                min_size=1,
                max_size=self.pool_size,
                configure=_configure,
                check=ConnectionPool.check_connection,  # a server restarted since is noticed, not fatal
                timeout=self.lock_timeout,
                name=f"voxwatch {self.location}",
                open=True,
            )
            _POOLS[key] = pool
            return pool

    def _probe(self) -> None:
        """Connect once, so a wrong host, database or password is one clear message, not a pool timeout."""
        try:
            psycopg.connect(self.url, **self._kwargs()).close()
        except psycopg.Error as exc:
            raise StoreError(f"store {self.location} cannot be reached: {str(exc).strip()}") from exc

    def _transaction(self, fn: Callable[[Connection], T], isolation: Isolation) -> T:
        def _once() -> T:
            try:
                with self._pool().connection() as conn, conn.transaction():
                    conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}".encode())
                    return fn(_PostgresConnection(conn))
            except PoolTimeout as exc:
                raise StoreError(
                    f"store {self.location}: no free connection within {self.lock_timeout:g} s; "
                    "raise [store] pool_size or try again"
                ) from exc
            except psycopg.OperationalError as exc:
                if isinstance(exc, RACE_LOST):
                    raise
                raise StoreError(f"store {self.location}: {str(exc).strip()}") from exc

        retrying = Retrying(
            retry=retry_if_exception_type(RACE_LOST),
            wait=wait_random_exponential(multiplier=0.01, max=0.25),
            stop=stop_after_delay(self.lock_timeout),
            reraise=True,
        )
        return retrying(_once)

    def read(self, fn: Callable[[Connection], T]) -> T:
        return self._transaction(fn, "REPEATABLE READ")

    def write(self, fn: Callable[[Connection], T]) -> T:
        return self._transaction(fn, "SERIALIZABLE")

    def _write_schema(self, fn: Callable[[Connection], T]) -> T:
        """Migrations take turns on an advisory lock, then read what the one before committed.

        DDL is outside what SERIALIZABLE guards, so two processes starting at once
        would both create a table; the lock makes the second wait, and READ
        COMMITTED lets it then see the first one's ``schema_migrations`` row.
        """

        def _locked(conn: Connection) -> T:
            conn.execute("SELECT pg_advisory_xact_lock(?)", [dialect.MIGRATION_LOCK])
            return fn(conn)

        return self._transaction(_locked, "READ COMMITTED")

    def check(self) -> None:
        """The server answers and the database accepts a connection (Postgres checks its own pages)."""
        self.read(lambda conn: conn.execute("SELECT 1").fetchone())

    def close(self) -> None:
        with _POOLS_LOCK:
            pool = _POOLS.pop((os.getpid(), self.url, self._password or ""), None)
        if pool is not None:
            pool.close()
