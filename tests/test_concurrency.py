"""A running pipeline and a person's actions in another process both succeed.

DuckDB lets one process write at a time; every connection is short and retried,
so neither side fails or loses work while the other writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from responders.cases import CaseService
from tests.conftest import copy_demo
from voxwatch.settings import load_settings
from voxwatch.store import queries

# The session-wide demo run is made once per worker: keep its users on one worker.
pytestmark = pytest.mark.xdist_group("demo")


def test_a_flow_and_dashboard_actions_in_two_processes_both_succeed(
    demo_run: tuple[Path, dict], tmp_path: Path
) -> None:
    config = copy_demo(demo_run, tmp_path)
    service = CaseService(load_settings(config))
    open_cases = service.store.read(lambda c: queries.list_cases(c, ["assigned"], owner="amy"))
    assert len(open_cases) >= 2

    # Make the flow write a lot: forget the triage so the route stage redoes it all.
    service.store.write(lambda c: c.execute("DELETE FROM triage"))
    flow = subprocess.Popen(
        [sys.executable, "-m", "voxwatch", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    actions = 0
    deadline = time.monotonic() + 240
    while flow.poll() is None and time.monotonic() < deadline:
        case = open_cases[actions % len(open_cases)]
        service.draft(
            case["id"], "amy", body=f"Hi, we will look into this and reply by 14:00. (edit {actions})"
        )
        actions += 1
    output, _ = flow.communicate(timeout=240)
    assert flow.returncode == 0, output[-2000:]
    assert actions > 0
    drafts = service.store.read(lambda c: c.execute("SELECT count(*) FROM drafts").fetchone()[0])
    assert drafts == actions  # every action landed
    triaged = service.store.read(lambda c: c.execute("SELECT count(*) FROM triage").fetchone()[0])
    assert triaged == demo_run[1]["collected"]  # and so did the flow's work
