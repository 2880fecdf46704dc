"""A reply to a Mastodon mention in the demo goes out once, even if the sender is killed mid-send.

The demo's own Mastodon-shaped server (``voxwatch.demo``) runs in this test's
process, so it outlives the ``voxwatch cases send`` process that a crash point
kills right after the post and before our commit. The next delivery round finds
the post on the account (``Publisher.find``) and records it instead of posting
again; the customer's answer, collected on the next run, closes the loop.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flows.pipeline import pipeline_flow
from responders.cases import CaseService
from responders.delivery import outbox_for
from responders.identity import IdentityService
from responders.service import utcnow
from voxwatch.demo.mastodon import DEMO_MASTODON_TOKEN
from voxwatch.demo.run import MASTODON_TOKEN_ENV, write_demo_settings
from voxwatch.demo.server import DemoServer
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, store_for

# The session's demo run is made once per worker: keep its users on one worker.
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture
def demo(demo_run: tuple[Path, dict], tmp_path: Path) -> Iterator[tuple[DemoServer, Path]]:
    """The routed sample week (a copy of the session's store) on a demo server of this test's own."""
    with DemoServer() as server:
        config = write_demo_settings(tmp_path, server.base_url)
        shutil.copy(demo_run[0].parent / "voxwatch.duckdb", tmp_path / "voxwatch.duckdb")
        yield server, config


def our_replies(server: DemoServer) -> list[dict]:
    answer = httpx.get(
        f"{server.base_url}/api/v1/accounts/1/statuses",
        headers={"Authorization": f"Bearer {DEMO_MASTODON_TOKEN}"},
    )
    return list(answer.raise_for_status().json())


def mastodon_complaint(settings: Settings) -> dict:
    (case,) = [
        c
        for c in CaseService(settings).list()
        if c["source"] == "mastodon-larkspur" and c["author"] == "priya@mastodon.example"
    ]
    return CaseService(settings).show(case["id"])


def send_and_die(config: Path, case_id: str, actor: str, token: str) -> int:
    env = os.environ | {"VOXWATCH_CRASH_AT": "after_publish", "VOXWATCH_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-m", "voxwatch", "cases", "send", case_id, "--as", actor, "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode


def test_a_reply_is_posted_once_across_a_kill_its_link_is_kept_and_the_answer_closes_the_loop(
    demo: tuple[DemoServer, Path],
) -> None:
    server, config = demo
    settings = load_settings(config)
    assert os.environ.get(MASTODON_TOKEN_ENV) == DEMO_MASTODON_TOKEN  # set by the session's demo
    case = mastodon_complaint(settings)
    owner = case["owner"]
    service = CaseService(settings)
    service.draft(case["id"], owner)
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya")
    _, token = IdentityService(settings).issue("grace", owner)

    assert send_and_die(config, case["id"], owner, token) == -signal.SIGKILL
    (posted,) = our_replies(server)  # the post went up; our commit never happened
    assert posted["in_reply_to_id"] == "113500000000000102"
    (entry,) = store_for(settings).read(lambda c: queries.outbox_entries(c, kind="reply"))
    assert (entry["state"], entry["external_url"]) == ("sending", None)

    report = outbox_for(settings, utcnow).deliver_due()  # the dead sender's claim lapses at once
    assert report.sent == 1
    assert our_replies(server) == [posted]  # found, not posted again
    after = service.show(case["id"])
    assert after["reply_url"] == posted["url"] and after["status"] == "sent"
    assert after["first_response_at"].isoformat(timespec="milliseconds") == posted["created_at"].replace(
        "Z", "+00:00"
    )
    published = [a for a in after["audit"] if a["action"] == "published"]
    assert len(published) == 1
    approved_body = after["draft"]["body"]
    assert approved_body in posted["content"].replace("&#x27;", "'")  # exactly the approved words

    pipeline_flow(str(config))  # collects the customer's answer to our reply
    closed = service.show(case["id"])
    assert [f["outcome"] for f in closed["follow_ups"]] == ["closed"]
    assert closed["status"] == "closed" and our_replies(server) == [posted]
