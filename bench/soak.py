"""Soak: a source that keeps publishing, ``voxwatch serve`` collecting it, people working cases, all at once.

    python bench/soak.py [--minutes 10] [--per-minute 30] [--people 3]

For ``--minutes`` (default 10) a local server on 127.0.0.1 publishes new
mentions on an Algolia-shaped search API (steadily, with a burst every few
minutes), and answers one request in ten with a malformed page, one in ten
with a 429 with a short ``Retry-After`` and one in ten with a 503. ``voxwatch
serve`` collects, scores and routes it on a one-minute schedule, while
simulated people in other processes claim, draft, submit, approve and send
through the case service. Then publishing stops, one
last ``voxwatch run`` drains what is left, and the script prints:

- mentions published vs stored (lost = published but not stored), duplicates
  (a post stored twice, or a mention with two cases);
- cases vs complaints (every complaint triaged as needing a case has one);
- store lock errors seen by people, and the p50 / p95 latency of their actions;
- the pipeline's lag from publication to the case in the inbox (p50 / p95 / max).

It stops by itself; every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import harness

COMPLAINTS = [
    "Acme charged me twice and support ignores me, I want a refund",
    "The Acme app crashed again and lost my order, worst service ever",
    "Acme delivery is three days late and nobody answers the phone",
    "My Acme kettle broke after a week and they refuse to replace it",
]
OTHER = [
    "Lovely coffee from Acme this morning, thank you",
    "Does Acme ship to Canada?",
    "Acme opened a new shop downtown today",
]

SETTINGS = """
[brand]
name = "Acme"
keywords = ["acme"]

[store]
path = "{store}"

[[sources]]
name = "search"
kind = "hackernews"
url = "{url}"
query = "acme"
interval_minutes = 1
min_request_interval_seconds = 0

[[responders]]
name = "amy"
display_name = "Amy"
team = "care"
capacity = 100000

[[responders]]
name = "ben"
display_name = "Ben"
team = "care"
capacity = 100000

[[responders]]
name = "maya"
display_name = "Maya"
team = "comms"
roles = ["approver"]
capacity = 0

[routing]
default_team = "care"
"""


class Source:
    """The mentions published so far, and the faults the server shows now and then."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.hits: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.requests = 0
        self.faults = {"malformed": 0, "429": 0, "503": 0}

    def publish(self, count: int) -> None:
        with self.lock:
            for _ in range(count):
                n = len(self.hits)
                pool = COMPLAINTS if self.random.random() < 0.6 else OTHER
                self.hits.append(
                    {
                        "objectID": str(100_000 + n),
                        "created_at_i": int(time.time()),
                        "author": f"customer{n}",
                        "comment_text": f"{self.random.choice(pool)} (order {n})",
                        "published": time.time(),
                    }
                )

    def answer(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.requests += 1
            roll = self.random.random()
            if roll < 0.1:
                self.faults["malformed"] += 1
                return 200, {"Content-Type": "application/json"}, b'{"hits": [{"objectID": '
            if roll < 0.2:
                self.faults["429"] += 1
                return 429, {"Retry-After": "2"}, b"slow down"
            if roll < 0.3:
                self.faults["503"] += 1
                return 503, {}, b"busy"
            hits = list(self.hits)
        body = harness.search_page(hits, query, 50)
        body["hits"] = [{k: v for k, v in h.items() if k != "published"} for h in body["hits"]]
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def person(config: str, name: str, until: float, results: Any, seed: int) -> None:
    """One person working cases until ``until``: claim, draft, submit; or, as maya, approve."""
    from responders.cases import CaseService
    from voxwatch.errors import CaseError, StoreError
    from voxwatch.settings import load_settings

    service = CaseService(load_settings(config))
    rng = random.Random(seed)
    latencies: list[float] = []
    lock_errors = other_refusals = 0

    def act(fn: Any, *args: Any) -> None:
        nonlocal lock_errors, other_refusals
        start = time.perf_counter()
        try:
            fn(*args)
        except StoreError:
            lock_errors += 1
        except CaseError:
            other_refusals += 1  # someone else got there first: normal in a team
        latencies.append(time.perf_counter() - start)

    while time.time() < until:
        try:
            cases = service.list()
        except StoreError:
            lock_errors += 1
            continue
        if name == "maya":
            waiting = [c for c in cases if c["status"] == "pending_approval"]
            if waiting:
                act(service.approve, rng.choice(waiting)["id"], "maya")
        else:
            mine = [c for c in cases if c["owner"] == name]
            approved = [c for c in mine if c["status"] == "approved"]
            drafting = [c for c in mine if c["status"] == "drafting"]
            assigned = [c for c in mine if c["status"] == "assigned"]
            if approved:
                act(service.send, approved[0]["id"], name)
            elif drafting:
                act(service.submit, drafting[0]["id"], name)
            elif assigned:
                act(service.draft, assigned[0]["id"], name)
            elif cases:
                act(service.assign, rng.choice(cases)["id"], name, name)
        time.sleep(rng.uniform(0.2, 1.0))
    results.put(
        {"name": name, "latencies": latencies, "lock_errors": lock_errors, "refusals": other_refusals}
    )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--per-minute", type=int, default=30, help="mentions published per minute, on average"
    )
    parser.add_argument("--people", type=int, default=3, help="amy, ben, then maya approving")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="voxwatch-soak-"))
    source = Source(args.seed)
    server = harness.serve(source.answer)
    config = folder / "voxwatch.toml"
    url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/search_by_date"
    config.write_text(
        SETTINGS.format(store=(folder / "voxwatch.duckdb").as_posix(), url=url), encoding="utf-8"
    )
    env = os.environ | {"VOXWATCH_LOG_FILE": str(folder / "voxwatch.log")}
    print(f"soak: {args.minutes:g} min, ~{args.per_minute}/min, store and logs in {folder}", flush=True)

    subprocess.run(
        [sys.executable, "-m", "voxwatch", "run", "--config", str(config)],
        env=env,
        check=False,
        capture_output=True,
    )  # create the store before people and serve start
    serve = subprocess.Popen(
        [sys.executable, "-m", "voxwatch", "serve", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    until = time.time() + args.minutes * 60
    results: Any = multiprocessing.Queue()
    names = ["amy", "ben", "maya"][: max(1, args.people)]
    people = [
        multiprocessing.Process(target=person, args=(str(config), n, until, results, i))
        for i, n in enumerate(names)
    ]
    for p in people:
        p.start()
    rng = random.Random(args.seed)
    while time.time() < until:
        burst = rng.random() < 0.05
        source.publish(args.per_minute if burst else max(1, round(rng.expovariate(1) * args.per_minute / 12)))
        time.sleep(5)
    people_results = [results.get(timeout=120) for _ in people]
    for p in people:
        p.join(timeout=30)
    os.killpg(serve.pid, signal.SIGINT)
    try:
        serve.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
    drain = subprocess.run(
        [sys.executable, "-m", "voxwatch", "run", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
    )
    if drain.returncode not in (0, 3):
        print(drain.stderr[-3000:])
    report(folder / "voxwatch.duckdb", source, people_results)
    server.shutdown()


def report(db: Path, source: Source, people: list[dict[str, Any]]) -> None:
    with duckdb.connect(str(db), read_only=True) as conn:
        stored = dict(conn.execute("SELECT external_id, collected_at FROM mentions").fetchall())
        twice = conn.execute("SELECT count(*) - count(DISTINCT external_id) FROM mentions").fetchone()[0]
        cases_twice = conn.execute("SELECT count(*) - count(DISTINCT mention_id) FROM cases").fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        complaints = conn.execute(
            "SELECT count(*) FROM triage WHERE validity IN ('complaint', 'question', 'invalid')"
        ).fetchone()[0]
        without_case = conn.execute(
            "SELECT count(*) FROM triage t WHERE t.validity IN ('complaint', 'question', 'invalid') "
            "AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.mention_id = t.mention_id)"
        ).fetchone()[0]
        opened = dict(
            conn.execute(
                "SELECT m.external_id, c.created_at FROM cases c JOIN mentions m ON m.id = c.mention_id"
            ).fetchall()
        )
    published = {h["objectID"]: h["published"] for h in source.hits}
    lost = sorted(set(published) - set(stored))
    lags = [opened[i].timestamp() - published[i] for i in opened if i in published]
    latencies = [x for p in people for x in p["latencies"]]
    lock_errors = sum(p["lock_errors"] for p in people)
    print(f"mentions published {len(published)}, stored {len(stored)}, lost {len(lost)}, duplicated {twice}")
    print(
        f"cases {cases} for {complaints} mentions that need one; without a case {without_case}; "
        f"a second case for one mention {cases_twice}"
    )
    print(f"source requests {source.requests}; faults served {source.faults}")
    print(
        f"people: {len(latencies)} actions, lock errors seen {lock_errors}, refusals (taken by someone else) "
        f"{sum(p['refusals'] for p in people)}"
    )
    print(
        f"action latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
    )
    if lags:
        print(
            f"lag publication -> inbox: p50 {statistics.median(lags):.0f} s, "
            f"p95 {percentile(lags, 0.95):.0f} s, "
            f"max {max(lags):.0f} s"
        )


if __name__ == "__main__":
    main()
