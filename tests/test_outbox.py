"""The outbox against a Mastodon-shaped server: once, on time, visibly failed, and never leaking a token.

Each test routes one complaint from a Mastodon source whose replies go out through
``reply_via = "mastodon"``, takes it to an approved draft, and sends it, with the
fake instance (tests/fakes) answering as Mastodon does, faults included.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from responders.cases import CaseService
from responders.delivery import outbox_for
from tests.builders import Post, fresh_store, seed_posts, team_settings
from tests.fakes import FakeMastodon, wired
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

COMPLAINT = Post("Acme charged me twice and nobody answers, not OK.", 0.9, author="bob", source="social")


def mastodon_team(tmp_path: Path, fake: FakeMastodon) -> Settings:
    extra = (
        f'\n[[sources]]\nname = "social"\nkind = "mastodon"\nurl = "{fake.base_url}"\n'
        'query = "acme"\nreply_via = "mastodon"\n'
    )
    settings = wired(team_settings(tmp_path, extra), mastodon=fake)
    fresh_store(settings)
    (routed,) = seed_posts(store_for(settings), settings, [COMPLAINT])
    mention = store_for(settings).read(
        lambda c: c.execute("SELECT external_id FROM mentions WHERE id = ?", [routed.mention_id]).fetchone()
    )
    fake.add_remote_status(mention[0], acct="bob@other.example", text=COMPLAINT.text)
    return settings


def approved_case(settings: Settings) -> dict[str, Any]:
    service = CaseService(settings)
    (case,) = service.list()
    owner = case["owner"]
    service.draft(case["id"], owner)
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya")
    return service.show(case["id"])


def reply_entry(settings: Settings) -> dict[str, Any]:
    (entry,) = store_for(settings).read(lambda c: queries.outbox_entries(c, kind="reply"))
    return entry


def test_an_approved_reply_is_posted_as_a_reply_once_with_its_link(
    tmp_path: Path, fake_mastodon: FakeMastodon
) -> None:
    settings = mastodon_team(tmp_path, fake_mastodon)
    case = approved_case(settings)
    entry = CaseService(settings).send(case["id"], case["owner"], version=case["draft"]["version"])
    (status,) = fake_mastodon.our_statuses()
    assert entry["state"] == "sent" and entry["external_url"] == status["url"]
    (post,) = fake_mastodon.seen("POST", "/api/v1/statuses")
    assert post.headers["Idempotency-Key"] == entry["key"] and status["in_reply_to_id"] is not None
    assert post.body["status"] == f"@bob@other.example {case['draft']['body']}"  # the approved words
    after = CaseService(settings).show(case["id"])
    assert after["reply_url"] == status["url"] and after["first_response_at"] is not None
    outbox_for(settings, lambda: after["first_response_at"] + timedelta(hours=1)).deliver_due()
    assert len(fake_mastodon.our_statuses()) == 1  # a later round sends nothing again


@pytest.mark.parametrize(
    ("status", "headers", "state_after", "retried_after"),
    [
        (500, {}, "pending", timedelta(seconds=30)),
        (503, {}, "pending", timedelta(seconds=30)),
        (429, {"Retry-After": "600"}, "pending", timedelta(seconds=600)),
        (401, {}, "failed", None),
        (422, {}, "failed", None),
    ],
)
def test_a_transient_failure_is_retried_later_and_a_final_one_is_failed_visibly(
    tmp_path: Path,
    fake_mastodon: FakeMastodon,
    status: int,
    headers: dict[str, str],
    state_after: str,
    retried_after: timedelta | None,
) -> None:
    settings = mastodon_team(tmp_path, fake_mastodon)
    case = approved_case(settings)
    fake_mastodon.fail(status, {"error": "no"}, headers, method="POST", path="/api/v1/statuses")
    entry = CaseService(settings).send(case["id"], case["owner"])
    assert entry["state"] == state_after and fake_mastodon.our_statuses() == []
    shown = CaseService(settings).show(case["id"])
    assert shown["outbox"][0]["last_error"]  # on the case
    if retried_after is not None:
        assert entry["next_attempt_at"] - entry["last_attempt_at"] >= retried_after - timedelta(seconds=1)
        outbox_for(settings, lambda: entry["next_attempt_at"] + timedelta(seconds=1)).deliver_due()
        assert reply_entry(settings)["state"] == "sent" and len(fake_mastodon.our_statuses()) == 1
        return
    assert [a["action"] for a in shown["audit"]][-1] == "publish_failed"
    (health,) = [s for s in store_for(settings).read(queries.source_health) if s["name"] == "social"]
    assert health["replies_failing"] == 1 and health["last_publish_error"]


def test_a_reply_given_up_tells_its_owner(
    tmp_path: Path, fake_mastodon: FakeMastodon, fake_smtp: Any
) -> None:
    settings = wired(mastodon_team(tmp_path, fake_mastodon), smtp=fake_smtp)
    case = approved_case(settings)
    fake_mastodon.fail(401, {"error": "The access token is invalid"}, method="POST", path="/api/v1/statuses")
    assert CaseService(settings).send(case["id"], case["owner"])["state"] == "failed"
    outbox_for(settings, lambda: CaseService(settings).clock()).deliver_due()  # the notice it queued
    owner_email = settings.person(case["owner"]).email
    notices = store_for(settings).read(lambda c: queries.outbox_entries(c, kind="notice"))
    assert [n["event"] for n in notices] == ["publish_failed"]
    if owner_email:
        assert notices[0]["target"] == owner_email and notices[0]["state"] == "sent"


@pytest.mark.parametrize("forgets_key", [False, True])
def test_a_lost_answer_never_makes_a_second_post(
    tmp_path: Path, fake_mastodon: FakeMastodon, forgets_key: bool
) -> None:
    settings = mastodon_team(tmp_path, fake_mastodon)
    case = approved_case(settings)
    if forgets_key:  # past Mastodon's hour, the Idempotency-Key no longer protects: find() must
        fake_mastodon.by_key = _Forgetful()
    fake_mastodon.fail(None, after=True, method="POST", path="/api/v1/statuses")  # lands; answer lost
    entry = CaseService(settings).send(case["id"], case["owner"])
    if entry["state"] != "sent":
        outbox_for(settings, lambda: entry["next_attempt_at"] + timedelta(seconds=1)).deliver_due()
    (status,) = fake_mastodon.our_statuses()
    assert reply_entry(settings)["state"] == "sent" and reply_entry(settings)["external_url"] == status["url"]


class _Forgetful(dict):
    """An idempotency-key table that keeps nothing."""

    def __setitem__(self, key: str, value: str) -> None:
        pass


def test_a_token_never_reaches_an_error_a_log_line_or_the_store(
    tmp_path: Path, fake_mastodon: FakeMastodon, caplog: pytest.LogCaptureFixture
) -> None:
    settings = mastodon_team(tmp_path, fake_mastodon)
    case = approved_case(settings)
    token = fake_mastodon.token
    echo = {"error": f"token {token} is not valid for https://x.example/?access_token={token}"}
    fake_mastodon.fail(401, echo, method="POST", path="/api/v1/statuses")
    caplog.set_level(logging.DEBUG)
    entry = CaseService(settings).send(case["id"], case["owner"])
    assert entry["state"] == "failed" and "***" in entry["last_error"]
    assert token not in caplog.text
    store_file = store_for(settings).path
    assert token.encode() not in store_file.read_bytes()
    for table in ("outbox", "audit_log", "notifications"):
        rows = store_for(settings).read(lambda c, t=table: c.execute(f"SELECT * FROM {t}").fetchall())
        assert token not in repr(rows)
