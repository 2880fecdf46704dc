"""The DuckDB store: one file, the embedded default; the one class that owns DuckDB connections.

DuckDB lets one process at a time hold a database file open for writing, and the
pipeline flow and the dashboard are separate processes that both write. So every
read and every write opens a short-lived connection, does its work in one
transaction and closes it; opening is retried with backoff while another process
holds the lock. No connection outlives a call, so none is shared across threads.

DuckDB's lock is not a queue: a process writing a big page in chunks could take
the file back before a waiting click ever saw it free. So whoever waits says so,
with a shared ``flock`` on a file beside the store (``<store>.waiting``), and the
chunked writer, between chunks, holds back until nobody does (``make_way``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import duckdb
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from voxwatch.errors import StoreError
from voxwatch.store.database import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


def _is_lock_conflict(exc: BaseException) -> bool:
    """Another process holds the file: worth waiting for (not "block", which names corruption)."""
    message = str(exc).lower()
    return isinstance(exc, duckdb.IOException) and (
        "could not set lock" in message or "conflicting lock" in message
    )


CORRUPT_HINT = (
    "the file is damaged or is not a VoxWatch store: restore it from a backup, or move it "
    "away and run again to start a new store"
)


def _is_corruption(exc: BaseException) -> bool:
    message = str(exc).lower()
    return any(
        sign in message
        for sign in ("not a valid duckdb database", "could not read enough bytes", "corrupt", "checksum")
    )


def _store_error(path: Path, exc: BaseException, doing: str) -> StoreError:
    """One line naming the file and what to do, for every DuckDB error at this boundary."""
    if _is_corruption(exc):
        return StoreError(f"store {path} cannot be read ({doing}): {CORRUPT_HINT}. DuckDB said: {exc}")
    if _is_lock_conflict(exc):
        return StoreError(
            f"store {path} is held by another process ({doing}); try again when it is done. "
            f"DuckDB said: {exc}"
        )
    return StoreError(f"store {path}: {doing} failed: {exc}")


# Store files read whole by ``check`` in this process: (size, mtime) then. The CLI checks before
# Prefect starts and the flow checks again before migrating; the second read is skipped.
_VERIFIED: dict[str, tuple[int, int]] = {}
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


# Between two chunks of a long write: the least pause, and the most spent letting waiters in.
PAUSE_SECONDS = 0.05
MAKE_WAY_SECONDS = 2.0


def _waiting_file(path: Path) -> Path:
    return path.with_name(path.name + ".waiting")


@contextmanager
def _waiting(path: Path) -> Iterator[None]:
    """Say, while inside, that this process waits for the store's lock (a shared flock, gone if it dies).

    Best effort: a folder that cannot take the file only loses the signal.
    """
    try:
        fd = os.open(_waiting_file(path), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        with suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _someone_waits(path: Path) -> bool:
    """True while another process holds the waiting file's shared lock."""
    try:
        fd = os.open(_waiting_file(path), os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing lets go of the probe's lock too
    return False


def _write_lock(path: Path) -> threading.Lock:
    """One lock per store file in this process."""
    with _LOCKS_LOCK:
        return _WRITE_LOCKS.setdefault(str(path.resolve()), threading.Lock())


class DuckDBStore(Store):
    """A DuckDB file: ``read(fn)`` and ``write(fn)`` run ``fn(connection)``."""

    engine = "duckdb"

    def __init__(self, path: Path | str, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def _connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        try:
            conn = self._open(read_only)
        except duckdb.Error as exc:
            raise _store_error(self.path, exc, "opening it") from exc
        try:
            conn.execute("SET TimeZone = 'UTC'")
            yield conn
        except duckdb.Error as exc:
            if _is_corruption(exc):
                raise _store_error(self.path, exc, "reading it") from exc
            raise
        finally:
            conn.close()

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open the file; while another process holds it, say so and try again until the lock timeout."""
        started = time.monotonic()
        try:
            return duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            if not _is_lock_conflict(exc):
                raise
        retrying = Retrying(
            retry=retry_if_exception(_is_lock_conflict),
            wait=wait_random_exponential(multiplier=0.02, max=0.1),  # each failed try costs ~7 ms of CPU
            stop=stop_after_delay(max(self.lock_timeout - (time.monotonic() - started), 0)),
            reraise=True,
        )
        with _waiting(self.path):
            return retrying(duckdb.connect, str(self.path), read_only=read_only)

    def make_way(self) -> None:
        """Pause between two chunks, longer while another process waits for the file (up to 2 s)."""
        time.sleep(PAUSE_SECONDS)
        deadline = time.monotonic() + MAKE_WAY_SECONDS
        while _someone_waits(self.path) and time.monotonic() < deadline:
            time.sleep(0.01)

    def read(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run a query function on a fresh connection."""
        with self._connect() as conn:
            return fn(conn)

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn`` in one transaction: all of it is stored, or none.

        Threads of one process (sources collected side by side) take turns, so
        their transactions never conflict with each other inside DuckDB.
        """
        with _write_lock(self.path), self._connect() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    def check(self) -> None:
        """Read every table of an existing store once, read-only; StoreError if it is damaged.

        Run before anything writes (``migrate`` calls it), so a truncated or
        corrupted file is reported with what to do instead of being written to.
        Reading every column makes DuckDB verify each block's checksum.
        """
        if not self.path.exists():
            return
        seen = self.path.stat()
        fingerprint = (seen.st_size, seen.st_mtime_ns)
        if _VERIFIED.get(str(self.path.resolve())) == fingerprint:
            return  # read whole already in this process, and not written since

        def _scan(conn: duckdb.DuckDBPyConnection) -> None:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'SELECT max(hash(COLUMNS(*))) FROM "{table}"').fetchall()

        with self._connect(read_only=True) as conn:
            try:
                _scan(conn)
            except duckdb.Error as exc:
                raise _store_error(self.path, exc, "checking it") from exc
        _VERIFIED[str(self.path.resolve())] = fingerprint

    def _prepare(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
