"""Only the approved words go out: an edit after approval is a new version that needs approval again.

On the manual channel (a source with no publisher) the person posts by hand and
records the link; the outbox keeps exactly the approved version's text, whatever
happens to the draft afterwards.
"""

from __future__ import annotations

import json

import pytest

from responders.cases import CaseService
from tests.builders import Post, seed_posts
from voxwatch.errors import InvalidTransition
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

POSTS = [Post("The barista at Acme Union Square was rude and my flat white was cold.", 0.8, author="kim")]
EDITED = "Hi kim, sorry about that. We will get back to you within 2 hours with what we found."


@pytest.fixture
def service(team: Settings) -> CaseService:
    seed_posts(store_for(team), team, POSTS)
    return CaseService(team)


def only_case(service: CaseService) -> dict:
    (case,) = service.list()
    return service.show(case["id"])


def approved(service: CaseService) -> dict:
    case = only_case(service)
    service.draft(case["id"], case["owner"])
    service.submit(case["id"], case["owner"])
    service.approve(case["id"], "maya")
    return service.show(case["id"])


def test_an_edit_after_approval_is_a_new_version_that_must_be_approved_again(service: CaseService) -> None:
    case = approved(service)
    owner, approved_body = case["owner"], case["draft"]["body"]
    edited = service.draft(case["id"], owner, body=EDITED)
    assert edited["version"] == case["draft"]["version"] + 1 and edited["state"] == "draft"
    with pytest.raises(InvalidTransition, match="cannot send"):
        service.send(case["id"], owner)
    after = service.show(case["id"])
    assert after["status"] == "drafting" and after["outbox"] == []
    # the approved version itself is untouched
    rows = service.store.read(
        lambda c: c.execute("SELECT version, state, body FROM drafts ORDER BY version").fetchall()
    )
    assert rows[0] == (1, "approved", approved_body) and rows[1] == (2, "draft", EDITED)


@pytest.mark.parametrize("stale", [1, 3])
def test_send_names_the_version_the_person_saw_and_refuses_any_other(
    service: CaseService, stale: int
) -> None:
    case = approved(service)
    owner = case["owner"]
    service.draft(case["id"], owner, body=EDITED)
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya")
    with pytest.raises(InvalidTransition, match=f"draft v{stale} is not the approved one"):
        service.send(case["id"], owner, version=stale)
    assert service.show(case["id"])["status"] == "approved"
    entry = service.send(case["id"], owner, version=2)
    assert (entry["draft_version"], entry["body"]) == (2, EDITED)


def test_the_outbox_keeps_exactly_the_approved_text_and_the_audit_names_its_version(
    service: CaseService,
) -> None:
    case = approved(service)
    owner, body = case["owner"], case["draft"]["body"]
    entry = service.send(case["id"], owner, version=1)
    assert (entry["state"], entry["channel"], entry["body"]) == ("awaiting_link", "manual", body)
    sent = service.show(case["id"])
    assert sent["status"] == "sent" and sent["first_response_at"] is None  # not public yet
    assert sent["audit"][-1]["action"] == "sent"
    assert json.loads(sent["audit"][-1]["after"])["draft_version"] == 1

    service.record_reply_link(case["id"], owner, "https://social.example/@acme/1")
    public = service.show(case["id"])
    assert public["reply_url"] == "https://social.example/@acme/1" and public["first_response_at"]
    (entry,) = public["outbox"]
    assert (entry["state"], entry["external_url"]) == ("sent", "https://social.example/@acme/1")
    assert public["audit"][-1]["action"] == "published"


def test_sending_twice_queues_the_approved_version_once(service: CaseService) -> None:
    case = approved(service)
    service.send(case["id"], case["owner"])
    with pytest.raises(InvalidTransition, match="cannot send"):
        service.send(case["id"], case["owner"])
    assert len(service.store.read(lambda c: queries.outbox_entries(c, kind="reply"))) == 1


@pytest.mark.parametrize("link", ["javascript:alert(1)", "not a link", ""])
def test_a_recorded_link_must_be_a_web_link(service: CaseService, link: str) -> None:
    case = approved(service)
    service.send(case["id"], case["owner"])
    with pytest.raises(InvalidTransition, match="is not a link"):
        service.record_reply_link(case["id"], case["owner"], link)
    assert service.show(case["id"])["reply_url"] is None
