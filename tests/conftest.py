"""Shared fixtures: real servers on 127.0.0.1, real DuckDB files, the real model.

Nothing of our own is mocked. Prefect runs for real against its temporary local
server, in a private PREFECT_HOME so tests never touch a user's Prefect data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer
    from voxwatch.store import Store

pytest_plugins = ["tests.fakes"]  # fake Mastodon, Bluesky, webhook relay and SMTP servers

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


def pytest_configure(config: pytest.Config) -> None:
    from voxwatch.runtime import prepare_environment

    # Rich fixes a console's width when it is made if COLUMNS is set then (pytest-xdist workers
    # inherit one); without it, width is read at each print, so a test's COLUMNS is honoured.
    os.environ.pop("COLUMNS", None)
    prefect_home = Path(tempfile.mkdtemp(prefix="voxwatch-prefect-"))
    os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    prepare_environment()


@pytest.fixture(scope="session")
def scorer():
    """The real shipped model, loaded once per test session."""
    from sentiment.model import load_scorer
    from voxwatch.settings import ModelSettings

    return load_scorer(ModelSettings())


@pytest.fixture(scope="session")
def torch_scorer():
    """The same model on the plain torch path (no ONNX), the reference the fast path is checked against."""
    from sentiment.model import load_scorer
    from voxwatch.settings import ModelSettings

    return load_scorer(ModelSettings(backend="torch"))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    """The sample week collected, scored and routed once by the real pipeline flow.

    Yields the settings path and the flow's summary; the demo server stays up for
    the whole session so tests can run the pipeline again against it.
    """
    from flows.pipeline import pipeline_flow
    from voxwatch.demo.run import demo_sources

    data_dir = tmp_path_factory.mktemp("demo")
    with demo_sources(data_dir) as config:
        yield config, pipeline_flow(str(config))


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def copy_demo(demo_run: tuple[Path, dict], target: Path) -> Path:
    """A private copy of the routed sample week (settings and store) in ``target``; its settings path."""
    config, _ = demo_run
    shutil.copy(config, target / "voxwatch.toml")
    shutil.copy(config.parent / "voxwatch.duckdb", target / "voxwatch.duckdb")
    return target / "voxwatch.toml"


def copy_fixture(name: str, target: Path) -> Path:
    return Path(shutil.copy(FIXTURES / name, target))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_engines`` run once on a DuckDB file and once on a Postgres database."""
    if "store_engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_engines"):
        metafunc.parametrize("store_engine", ["duckdb", "postgres"], indirect=True)


@pytest.fixture
def store_engine(request: pytest.FixtureRequest) -> str:
    """Which engine a test's store runs on: DuckDB, unless the test is marked ``both_engines``."""
    return str(getattr(request, "param", "duckdb"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real Postgres server for this test process (tests/postgres_server.py)."""
    from tests.postgres_server import PostgresServer

    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store_url(store_engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh migrated Postgres database's URL for a Postgres test, None for a DuckDB one."""
    if store_engine == "duckdb":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.database()
    yield url
    server.drop(url)


@pytest.fixture
def unmigrated_store(store_engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store with no migration applied, on the test's engine: to build an older store in."""
    from voxwatch.store import DuckDBStore
    from voxwatch.store.postgres_store import PostgresStore

    if store_engine == "duckdb":
        yield DuckDBStore(tmp_path / "old.duckdb")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.database(empty=True)
    yield PostgresStore(url)
    server.drop(url)


@pytest.fixture
def team(tmp_path: Path, store_url: str | None):
    """The Acme team's settings, with a fresh migrated store of its own (tests/builders.py)."""
    from tests.builders import fresh_store, team_settings

    settings = team_settings(tmp_path, store_url=store_url)
    fresh_store(settings)
    return settings
