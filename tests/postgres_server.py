"""A real PostgreSQL server for tests, from Debian's ``postgresql`` package, started by the test run.

One server per test process (pytest-xdist worker), in a temporary folder, on a free
port of 127.0.0.1, with fsync off (nothing here must survive a power cut). Every
test that asks for one gets a database of its own, copied from a template that
has every migration applied, so a fresh store costs one ``CREATE DATABASE``.

Postgres refuses to run as root; when the tests do (CI containers), the server
runs as the ``postgres`` user the package created.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

TEMPLATE = "voxwatch_template"


def _bindir() -> Path:
    """Where Debian keeps the server's programs (``pg_ctl`` is not on PATH there)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)")
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """``start()``, ``database()`` for a fresh migrated database's URL, ``stop()``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="voxwatch-pg-"))
        self.port = _free_port()
        self._names = itertools.count()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_user, *command], check=True, capture_output=True, cwd=self.folder)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        bindir = _bindir()
        data = self.folder / "data"
        initdb = str(bindir / "initdb")
        self._run(initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=300"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = str(self.folder / "log")
        self._run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start")
        self._admin(f"CREATE DATABASE {TEMPLATE}")
        from voxwatch.store.postgres_store import PostgresStore

        template = PostgresStore(self.url(TEMPLATE))
        template.migrate()
        template.close()  # a template with a connection open cannot be copied

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.encode())

    def database(self, empty: bool = False) -> str:
        """The URL of a new database with every migration applied (``empty``: none)."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name}" + ("" if empty else f" TEMPLATE {TEMPLATE}"))
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a test's database, closing this process's pool and any other process's connections."""
        from voxwatch.store.postgres_store import PostgresStore

        PostgresStore(url).close()
        self._admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        try:
            self._run(str(_bindir() / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
