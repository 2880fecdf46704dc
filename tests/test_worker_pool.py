"""``voxwatch deploy --pool``: a real Prefect server, two workers, one Postgres store.

The server is ``prefect server start`` on 127.0.0.1; the workers are ``prefect
worker start --pool`` processes, each running one flow at a time in a subprocess
of its own, as on separate machines. Every source's deployment (and score and
route) is triggered through the server's API; afterwards both workers have run
flows, and every mention of the sample week is stored, scored and routed once.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.postgres_server import PostgresServer
from tests.test_store_races import totals
from voxwatch.settings import load_settings
from voxwatch.store import store_for

POOL = "voxwatch-test"
PREFECT = [sys.executable, "-m", "prefect"]
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def prefect_api(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[tuple[str, dict[str, str]]]:
    """A Prefect server of this test's own: its API URL, and the environment that points at it.

    Its database is Postgres too, as a team's would be (SQLite answered 503 while four
    processes wrote flow run states at once).
    """
    port = _free_port()
    database = postgres_server.database(empty=True).replace("postgresql://", "postgresql+asyncpg://")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_API_DATABASE_CONNECTION_URL": database,
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("prefect server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
    try:
        yield api, env | {"PREFECT_API_URL": api}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def ran_by(log: str) -> set[str]:
    """The flow runs a worker's log says it submitted, less those it had to give up to another."""
    submitted = set(re.findall(r"submitting flow run '([0-9a-f-]+)'", log))
    return submitted - set(re.findall(r"Aborted submission of flow run '([0-9a-f-]+)'", log))


def run_deployment(api: str, name: str) -> str:
    """Ask the server for a run of deployment ``flow/deployment`` now; the flow run's id."""
    deployment = httpx.get(f"{api}/deployments/name/{name}", timeout=10).raise_for_status().json()
    created = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=10)
    return str(created.raise_for_status().json()["id"])


def wait_for(api: str, run_ids: list[str], timeout: float) -> dict[str, str]:
    """Each run's final state, once all have one."""
    deadline = time.monotonic() + timeout
    while True:
        runs = httpx.post(
            f"{api}/flow_runs/filter", json={"flow_runs": {"id": {"any_": run_ids}}}, timeout=10
        )
        states = {r["id"]: r["state_type"] for r in runs.raise_for_status().json()}
        if all(states.get(i) in TERMINAL for i in run_ids) or time.monotonic() > deadline:
            return states
        time.sleep(1)


def stop(worker: subprocess.Popen[bytes]) -> None:
    """Ask a worker to stop; kill it if it has not within 30 s (a loaded CI machine once waited 60 s)."""
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=30)


def test_two_workers_on_one_pool_store_score_and_route_every_mention_once(
    prefect_api: tuple[str, dict[str, str]], postgres_server: PostgresServer, tmp_path: Path
) -> None:
    from voxwatch.demo.run import demo_sources

    api, env = prefect_api
    with demo_sources(tmp_path / "demo") as config:
        url = f'url = "{postgres_server.database()}"'
        config.write_text(
            config.read_text(encoding="utf-8").replace("[store]\n", f"[store]\n{url}\n"), "utf-8"
        )
        env |= {k: os.environ[k] for k in os.environ if k.startswith(("VOXWATCH_", "BLUESKY_", "MASTODON_"))}
        deployed = subprocess.run(
            [sys.executable, "-m", "voxwatch", "deploy", "--pool", POOL, "--config", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        names = [line.split()[1] for line in deployed.stdout.splitlines() if line.startswith("deployed ")]
        assert (
            "score/score" in names
            and "route/route" in names
            and len(names) == 2 + len(load_settings(config).sources)
        )
        logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    POOL,
                    "--name",
                    f"w{n}",
                    "--limit",
                    "1",
                ],
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            for n, log in zip((1, 2), logs, strict=True)
        ]
        try:
            sources = [run_deployment(api, n) for n in names if n.startswith("pipeline/")]
            states = wait_for(api, sources, timeout=480)
            on_demand = [run_deployment(api, "score/score"), run_deployment(api, "route/route")]
            states |= wait_for(api, on_demand, timeout=240)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                stop(worker)
    output = [log.read_text(encoding="utf-8") for log in logs]
    assert set(states.values()) == {"COMPLETED"}, states
    ran = [ran_by(text) for text in output]
    assert all(ran), "each worker ran at least one flow: " + repr([len(r) for r in ran])
    assert ran[0] | ran[1] == set(states) and not ran[0] & ran[1]  # each run by exactly one worker
    counts = store_for(load_settings(config)).read(totals)
    assert counts["mentions"] > 20
    assert counts["scored"] == counts["triaged"] == counts["mentions"]
    assert counts["audit_opened"] == counts["cases"]
    assert counts["numbers"] == list(range(1, counts["cases"] + 1))
