"""A ``kill -9`` at any boundary of the pipeline loses nothing and doubles nothing.

``voxwatch run`` runs as a user runs it, in its own process, against a local
source that keeps publishing; ``VOXWATCH_CRASH_AT`` kills it (SIGKILL, no
clean-up) at a named boundary: after a fetch, after storing mentions but before
the cursor moves, after scoring, between opening cases, after routing, while
sending an urgent case's alert. Each
seed is a different sequence of crashes, with new posts published before every
run; after a last clean run, every post is stored once, scored once, triaged
once and has at most one case, every complaint has one, and every urgent case's
alert reached the team's channel.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.settings_files import source, write_settings

COMPLAINTS = [
    "Found glass in my Acme pastry, my lawyer will hear about this",  # urgent: its alert must go out
    "The Acme app crashed again and deleted my order, this is the worst service ever",
    "Acme delivery never arrived and nobody answers the phone, absolutely furious",
    "Terrible experience with Acme, the product broke on day one and they refuse to help",
]
PRAISE = "Lovely coffee from Acme this morning, thank you, great service"

# Each seed: the crash points of successive runs (None: a clean run), each run publishing new posts.
SEEDS = {
    "fetch-store-score-cases-route": [
        "after_fetch:2",
        "after_store_mentions:1",
        "after_score:1",
        "between_cases:2",
        "after_route:1",
        None,
    ],
    "store-cases-alert-route-score": [
        "after_store_mentions:2",
        "between_cases:1",
        "outbox_claimed:1",  # killed while sending an alert
        "after_route:1",  # killed after opening cases, before telling anyone
        "after_score:1",
        None,
    ],
}


class Publisher:
    """An Algolia-shaped search that gains posts over time and pages them three at a time."""

    def __init__(self) -> None:
        self.hits: list[dict] = []

    def publish(self, count: int) -> None:
        for _ in range(count):
            n = len(self.hits)
            text = PRAISE if n % 5 == 4 else COMPLAINTS[n % len(COMPLAINTS)]
            self.hits.append(
                {
                    "objectID": str(1000 + n),
                    "created_at_i": 1_900_000_000 + n,
                    "author": f"user{n}",
                    "comment_text": f"{text} (order {n})",
                }
            )

    def __call__(self, request: Request) -> Response:
        since = 0
        for part in request.args.get("numericFilters", "").split(","):
            if part.startswith("created_at_i>"):
                since = int(part.removeprefix("created_at_i>"))
        found = sorted((h for h in self.hits if h["created_at_i"] > since), key=lambda h: -h["created_at_i"])
        page = int(request.args.get("page", "0"))
        pages = max(1, -(-len(found) // 3))
        answer = {
            "hits": found[page * 3 : page * 3 + 3],
            "page": page,
            "nbPages": pages,
            "hitsPerPage": 3,
            "nbHits": len(found),
        }
        return Response(json.dumps(answer), content_type="application/json")


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    """One Prefect API server for every run in this module (each run would otherwise start its own)."""
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    yield server.api_url


class AlertChannel:
    """A webhook that keeps each alert's Idempotency-Key: what the team was told, and how often."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, request: Request) -> Response:
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        return Response("ok")


def voxwatch_run(
    config: Path, crash: str | None, api: str | None, marker: str = "", webhook: str | None = None
) -> int:
    env = os.environ | {"VOXWATCH_LOG_FILE": str(config.parent / "voxwatch.log"), "CRASH_TEST_MARK": marker}
    if webhook:
        env["VOXWATCH_NOTIFICATIONS__WEBHOOK_URL"] = webhook
    env.pop("VOXWATCH_CRASH_AT", None)
    if crash:
        env["VOXWATCH_CRASH_AT"] = crash
    if api:
        env["PREFECT_API_URL"] = api
    done = subprocess.run(
        [sys.executable, "-m", "voxwatch", "run", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"run ended with {done.returncode}: {done.stderr[-2000:]}")
    return done.returncode


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def counts(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return tuple(row)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_a_kill_at_any_boundary_loses_nothing_and_doubles_nothing(
    seed: str, tmp_path: Path, httpserver: HTTPServer, prefect_api: str
) -> None:
    publisher, alerts = Publisher(), AlertChannel()
    httpserver.expect_request("/search").respond_with_handler(publisher)
    httpserver.expect_request("/alerts").respond_with_handler(alerts)
    config = write_settings(
        tmp_path,
        source(
            "hn", "hackernews", httpserver.url_for("/search"), query="acme", min_request_interval_seconds=0
        ),
    )
    killed = []
    for crash in SEEDS[seed]:
        publisher.publish(5)
        run = voxwatch_run(config, crash, prefect_api, webhook=httpserver.url_for("/alerts"))
        killed.append(run == -signal.SIGKILL)
    assert killed == [True] * 5 + [False]  # every crash point was reached, and the last run was clean

    db = tmp_path / "voxwatch.duckdb"
    published = len(publisher.hits)
    assert counts(db, "SELECT count(*), count(DISTINCT external_id) FROM mentions") == (published, published)
    model_scores = "SELECT count(*), count(DISTINCT mention_id) FROM scores"
    assert counts(db, model_scores) == (published, published)  # one model: scored once each
    assert counts(db, "SELECT count(*), count(DISTINCT mention_id) FROM triage") == (published, published)
    cases, distinct = counts(db, "SELECT count(*), count(DISTINCT mention_id) FROM cases")
    assert cases == distinct
    unanswered = (
        "SELECT count(*) FROM triage t WHERE t.validity IN ('complaint', 'question', 'invalid') "
        "AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.mention_id = t.mention_id)"
    )
    assert counts(db, unanswered) == (0,)
    assert cases >= published * 3 // 5  # the complaints among them
    routed = "SELECT count(*) FROM audit_log WHERE action IN ('routed', 'dismissed')"
    assert counts(db, routed) == (cases,)  # one routing entry per case, none twice
    assert counts(db, "SELECT cursor FROM source_state") == (str(1_900_000_000 + published - 1),)
    # Every urgent case's alert went out: queued with its case, delivered on a later run if a
    # crash came first. A send cut off mid-way is sent again under the same key (at least once).
    (urgent,) = counts(db, "SELECT count(*) FROM cases WHERE tier = 'urgent'")
    assert urgent >= published // 5  # the glass complaints
    sent = "SELECT count(*), count(DISTINCT key) FROM outbox WHERE event = 'urgent_case' AND state = 'sent'"
    assert counts(db, sent) == (urgent, urgent)
    assert set(alerts.keys) == {row[0] for row in rows(db, "SELECT key FROM outbox WHERE kind = 'notice'")}


def prefect_servers(marker: str) -> list[int]:
    """Pids of Prefect API servers started from a process that carried ``marker`` in its environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if (
            b"prefect.server.api.server:create_app" in cmdline
            and f"CRASH_TEST_MARK={marker}".encode() in environ
        ):
            found.append(int(entry.name))
    return found


def test_a_killed_run_leaves_no_prefect_server_behind(tmp_path: Path, httpserver: HTTPServer) -> None:
    publisher = Publisher()
    publisher.publish(3)
    httpserver.expect_request("/search").respond_with_handler(publisher)
    config = write_settings(
        tmp_path,
        source(
            "hn", "hackernews", httpserver.url_for("/search"), query="acme", min_request_interval_seconds=0
        ),
    )
    marker = uuid.uuid4().hex
    assert voxwatch_run(config, "after_fetch", api=None, marker=marker) == -signal.SIGKILL
    deadline = time.monotonic() + 20
    while prefect_servers(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert prefect_servers(marker) == []
