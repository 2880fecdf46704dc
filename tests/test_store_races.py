"""Races between real processes: claims, approvals against edits, two pipeline workers.

Each test starts separate Python processes that wait at a start line (a file
appearing) and then act at the same moment, as two people or two workers do.
The claims and the approval race run on both engines (DuckDB's writers take turns
on the file; Postgres decides with SERIALIZABLE transactions run again when they
lose); the two workers need Postgres, the engine several workers share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from responders.cases import CaseService
from tests.builders import Post, seed_posts, team_settings
from tests.postgres_server import PostgresServer
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, store_for
from voxwatch.store.queries.rows import dict_rows

pytestmark = pytest.mark.both_engines

# A third responder in the care team, so two people of one team can reach for one case.
CLEO = """
[[responders]]
name = "cleo"
display_name = "Cleo Martin"
team = "care"
languages = ["en"]
capacity = 15
"""

# Run by each racer: get ready (imports, a first read), wait for the start line, act, report.
RACER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from responders.cases import CaseService
    from voxwatch.errors import VoxWatchError
    from voxwatch.settings import load_settings

    config, start, action = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    service = CaseService(load_settings(config))
    service.show(action["case"])
    print("ready", flush=True)
    while not start.exists():
        time.sleep(0.005)
    try:
        if action["do"] == "claim":
            service.claim(action["case"], action["as"], action["seen_owner"])
        elif action["do"] == "approve":
            service.approve(action["case"], action["as"], version=action["version"])
        elif action["do"] == "draft":
            service.draft(action["case"], action["as"], body=action["body"])
        print(json.dumps({"won": True}))
    except VoxWatchError as exc:
        print(json.dumps({"won": False, "said": str(exc)}))
""")


def race(config: Path, tmp_path: Path, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start one process per action, let them all go at once; what each said."""
    start = tmp_path / f"go-{time.monotonic_ns()}"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(config), str(start), json.dumps(action)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for action in actions
    ]
    for racer in racers:
        assert racer.stdout is not None
        line = racer.stdout.readline().strip()
        assert line == "ready", racer.stderr.read() if racer.stderr else line
    start.touch()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def care(tmp_path: Path, store_url: str | None) -> tuple[Settings, Path]:
    from tests.builders import fresh_store

    settings = team_settings(tmp_path, CLEO, store_url)
    fresh_store(settings)
    return settings, tmp_path / "voxwatch.toml"


def test_two_people_claiming_one_case_at_once_one_wins_and_the_other_is_told_who(
    care: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, config = care
    opened = seed_posts(store_for(settings), settings, [Post(f"acme lost my parcel {n}") for n in range(3)])
    service = CaseService(settings)
    actions = []
    for routed in opened:
        case_id = f"case-{routed.mention_id}"
        seen = service.show(case_id)["owner"]  # what both people's screens show
        claimers = [name for name in ("amy", "ben", "cleo") if name != seen][:2]
        actions += [{"do": "claim", "case": case_id, "as": who, "seen_owner": seen} for who in claimers]
    results = race(config, tmp_path, actions)

    for index, routed in enumerate(opened):
        pair = results[2 * index : 2 * index + 2]
        claimers = [a["as"] for a in actions[2 * index : 2 * index + 2]]
        shown = service.show(f"case-{routed.mention_id}")
        trail = [(e["actor"], e["action"], e["after"]) for e in shown["audit"]]
        asked = actions[2 * index : 2 * index + 2]
        assert sorted(r["won"] for r in pair) == [False, True], (pair, asked, trail)
        winner = claimers[[r["won"] for r in pair].index(True)]
        loser = next(r for r in pair if not r["won"])
        assert f"{winner} has this case now" in loser["said"]
        case = service.show(f"case-{routed.mention_id}")
        assert case["owner"] == winner
        claims = [e for e in case["audit"] if e["action"] == "assigned"]
        assert len(claims) == 1 and claims[0]["actor"] == winner  # the loser changed nothing


def test_an_approval_racing_an_edit_sends_only_approved_words(
    care: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The owner writes a new version as the approver approves the one they read; then the owner sends.

    Whichever commits first, what reaches the outbox is a version an approver
    approved, word for word, and the version the approver read is the one approved.
    """
    settings, config = care
    service = CaseService(settings)
    opened = seed_posts(store_for(settings), settings, [Post(f"acme broke my order {n}") for n in range(3)])
    actions = []
    for routed in opened:
        case_id, owner = f"case-{routed.mention_id}", str(routed.owner)
        service.draft(case_id, owner, body="Sorry about your order. We will reply by 14:00 with a fix.")
        service.submit(case_id, owner)
        actions += [
            {"do": "approve", "case": case_id, "as": "maya", "version": 1},
            {"do": "draft", "case": case_id, "as": owner, "body": "EDITED AFTER REVIEW: unapproved words"},
        ]
    race(config, tmp_path, actions)

    for routed in opened:
        case_id, owner = f"case-{routed.mention_id}", str(routed.owner)
        shown = service.show(case_id)
        try:
            service.send(case_id, owner, version=shown["draft"]["version"])
        except Exception as refused:
            assert "approved" in str(refused)
        drafts = service.store.read(
            lambda c, cid=case_id: dict_rows(
                c.execute("SELECT version, body, state, decided_by FROM drafts WHERE case_id = ?", [cid])
            )
        )
        approved = {d["version"]: d for d in drafts if d["decided_by"] == "maya"}
        assert list(approved) == [1]  # the version the approver read, never the edit
        for entry in queries_outbox(service, case_id):
            assert entry["draft_version"] in approved
            assert entry["body"].startswith(approved[entry["draft_version"]]["body"])
            assert "EDITED" not in entry["body"]


def queries_outbox(service: CaseService, case_id: str) -> list[dict[str, Any]]:
    return service.store.read(lambda c: [e for e in queries.case_outbox(c, case_id) if e["kind"] == "reply"])


def test_a_claim_from_a_stale_screen_changes_nothing(care: tuple[Settings, Path]) -> None:
    settings, _ = care
    (routed,) = seed_posts(store_for(settings), settings, [Post("acme charged me twice")])
    case_id = f"case-{routed.mention_id}"
    service = CaseService(settings)
    other = next(name for name in ("amy", "ben", "cleo") if name != routed.owner)
    service.claim(case_id, other, routed.owner)
    service.claim(case_id, other, routed.owner)  # twice from the same screen: still theirs, no new entry
    third = next(name for name in ("amy", "ben", "cleo") if name not in (routed.owner, other))
    with pytest.raises(Exception, match=f"{other} has this case now"):
        service.claim(case_id, third, routed.owner)
    case = service.show(case_id)
    assert case["owner"] == other
    assert [e["actor"] for e in case["audit"] if e["action"] == "assigned"] == [other]


def test_an_approval_of_a_version_no_longer_waiting_is_refused(care: tuple[Settings, Path]) -> None:
    settings, _ = care
    (routed,) = seed_posts(store_for(settings), settings, [Post("acme lost my refund")])
    case_id, owner = f"case-{routed.mention_id}", str(routed.owner)
    service = CaseService(settings)
    service.draft(case_id, owner, body="Sorry. We will reply by 14:00.")
    service.submit(case_id, owner)
    service.reject(case_id, "maya", "say what happens next", version=1)
    service.draft(case_id, owner, body="Sorry. A refund is on its way; we will reply by 14:00.")
    service.submit(case_id, owner)
    with pytest.raises(Exception, match="v2 is waiting now, not v1"):
        service.approve(case_id, "maya", version=1)
    assert service.show(case_id)["draft"]["state"] == "pending_approval"
    service.approve(case_id, "maya", version=2)
    assert service.show(case_id)["draft"]["state"] == "approved"


def test_two_pipeline_workers_on_one_source_store_and_route_each_mention_once(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """Two ``voxwatch run`` processes collect, score and route the same sources into one Postgres store."""
    from voxwatch.demo.run import demo_sources

    with demo_sources(tmp_path) as config:
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("[store]\n", f'[store]\nurl = "{postgres_server.database()}"\n'), "utf-8"
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "voxwatch", "run", "--config", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=os.environ.copy(),
            )
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=400)[0] for worker in workers]
        assert [w.returncode for w in workers] == [0, 0], "\n".join(o[-2000:] for o in outputs)
        store = store_for(load_settings(config))
        before = store.read(totals)
        again = subprocess.run(
            [sys.executable, "-m", "voxwatch", "run", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=400,
        )
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    after = store.read(totals)
    assert before["mentions"] > 20
    assert before["scored"] == before["triaged"] == before["mentions"]  # each scored and triaged, once
    assert before["audit_opened"] == before["cases"]  # each case's trail opened once
    assert before["numbers"] == list(range(1, before["cases"] + 1))  # numbered without gaps or repeats
    assert after == before  # a third run finds nothing new to store or route


def totals(conn: queries.Connection) -> dict[str, Any]:
    one = conn.execute(
        "SELECT (SELECT count(*) FROM mentions), (SELECT count(DISTINCT mention_id) FROM scores), "
        "(SELECT count(*) FROM triage), (SELECT count(*) FROM cases), "
        "(SELECT count(*) FROM audit_log WHERE entity = 'case' AND action = 'collected')"
    ).fetchone()
    numbers = [n for (n,) in conn.execute("SELECT number FROM cases ORDER BY number").fetchall()]
    keys = ("mentions", "scored", "triaged", "cases", "audit_opened")
    return dict(zip(keys, one, strict=True)) | {"numbers": numbers}
