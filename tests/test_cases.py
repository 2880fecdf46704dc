"""The case life cycle on a real store: ownership, drafts, lint, approval, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from responders.authors import AuthorService
from responders.cases import CaseService
from responders.feedback import LabelFeedback
from responders.publish import WebhookPublisher
from tests.conftest import copy_demo
from voxwatch.errors import InvalidTransition, PermissionDenied, UnapprovedText
from voxwatch.settings import load_settings
from voxwatch.store import queries


@pytest.fixture
def service(demo_run: tuple[Path, dict], tmp_path: Path) -> CaseService:
    """A private copy of the routed sample week."""
    return CaseService(load_settings(copy_demo(demo_run, tmp_path)))


def case_of(service: CaseService, text_start: str) -> dict:
    found = service.store.read(
        lambda c: c.execute(
            "SELECT c.id FROM cases c JOIN mentions m ON m.id = c.mention_id WHERE m.text LIKE ?",
            [text_start + "%"],
        ).fetchall()
    )
    assert len(found) == 1, text_start
    return service.show(found[0][0])


def test_the_whole_loop_from_claim_to_close_is_audited(service: CaseService) -> None:
    case = case_of(service, "The barista at Larkspur Union Square")
    owner = case["owner"]
    draft = service.draft(case["id"], owner)
    assert draft["findings"] == [] and draft["template_key"] == "first_response/en@v1"
    assert "We will get back to you by" in draft["body"]  # the reply-time promise
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya", "good tone")
    service.send(case["id"], owner)
    service.follow_up(case["id"], owner, "customer confirmed the new barista training")
    service.close(case["id"], owner)

    final = service.show(case["id"])
    assert final["status"] == "closed"
    assert final["first_response_at"] and final["followed_up_at"] and final["resolved_at"]
    assert [a["action"] for a in final["audit"]] == [
        "collected",
        "scored",
        "triaged",
        "routed",
        "drafted",
        "submitted",
        "approved",
        "sent",
        "followed_up",
        "closed",
    ]
    assert {a["actor"] for a in final["audit"][4:]} == {owner, "maya"}


def test_a_chinese_case_gets_the_chinese_template_with_a_reply_time(service: CaseService) -> None:
    case = case_of(service, "外卖送到的时候")
    draft = service.draft(case["id"], case["owner"])
    assert draft["template_key"] == "first_response/zh@v1"
    assert "前给您答复" in draft["body"] and "月" in draft["body"]
    assert draft["findings"] == []


def test_a_draft_full_of_forbidden_phrases_is_flagged_and_cannot_be_submitted(service: CaseService) -> None:
    case = case_of(service, "The grinder in the home brew kit")
    bad = (
        "I don't know what happened, there is nothing we can do. You should have read the manual. "
        "It's our fault, so we will refund $50 and fix it by Friday. Check out our new 20% off beans!"
    )
    draft = service.draft(case["id"], case["owner"], situation="apology_recovery", body=bad)
    rules = {f["rule"] for f in draft["findings"]}
    assert {
        "forbidden-phrase",
        "blames-customer",
        "premature-fault",
        "promise-needs-approval",
        "selling-in-recovery",
    } <= rules
    first = next(f for f in draft["findings"] if f["rule"] == "forbidden-phrase")
    assert bad[first["start"] : first["end"]] == "I don't know"
    with pytest.raises(InvalidTransition, match="fix the linter's findings"):
        service.submit(case["id"], case["owner"])


def test_nobody_approves_their_own_draft_and_responders_cannot_approve(service: CaseService) -> None:
    case = case_of(service, "This is the third time I report this")
    assert case["owner"] == "sara"  # escalations desk, who is also an approver
    service.draft(case["id"], "sara")
    service.submit(case["id"], "sara")
    with pytest.raises(PermissionDenied, match="wrote this draft"):
        service.approve(case["id"], "sara")
    with pytest.raises(PermissionDenied, match="may not approve"):
        service.approve(case["id"], "amy")
    with pytest.raises(InvalidTransition, match="needs a comment"):
        service.reject(case["id"], "maya", "  ")
    service.reject(case["id"], "maya", "Name the order numbers and what we do next.")
    after = service.show(case["id"])
    assert after["status"] == "drafting"
    assert after["draft"]["state"] == "rejected" and after["draft"]["decided_by"] == "maya"


def test_unapproved_text_is_never_published(service: CaseService, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/publish", method="POST").respond_with_data("ok")
    publisher = WebhookPublisher(httpserver.url_for("/publish"))
    case = case_of(service, "Found a piece of glass")
    service.draft(case["id"], case["owner"])
    with pytest.raises(InvalidTransition, match="cannot send"):
        service.send(case["id"], case["owner"], publisher=publisher)
    with pytest.raises(UnapprovedText):  # the adapter refuses on its own, whoever calls it
        publisher(service.show(case["id"])["draft"])
    service.submit(case["id"], case["owner"])
    with pytest.raises(UnapprovedText):
        publisher(service.show(case["id"])["draft"])
    assert [r for r, _ in httpserver.log if r.path == "/publish"] == []
    service.approve(case["id"], "maya")
    service.send(case["id"], case["owner"], publisher=publisher)
    (request,) = [r for r, _ in httpserver.log if r.path == "/publish"]
    assert request.json["text"] == service.show(case["id"])["draft"]["body"]


def test_closing_needs_the_follow_up_or_a_reason_to_waive_it(service: CaseService) -> None:
    case = case_of(service, "Same here. Their app charged my card")
    owner = case["owner"]
    service.draft(case["id"], owner)
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya")
    service.send(case["id"], owner)
    with pytest.raises(InvalidTransition, match="follow-up is not done"):
        service.close(case["id"], owner)
    service.close(case["id"], owner, waive_follow_up="customer asked not to be contacted again")
    closed = service.show(case["id"])
    assert closed["status"] == "closed" and closed["follow_up_waived"].startswith("customer asked")
    service.reopen(case["id"], owner, "customer wrote again")
    assert service.show(case["id"])["status"] == "assigned"


def test_handoff_keeps_the_first_owner_accountable_and_is_recorded(service: CaseService) -> None:
    case = case_of(service, "Larkspur's app has been down")
    first = case["owner"]
    service.handoff(case["id"], first, "needs the app team's incident report", to_team="escalations")
    after = service.show(case["id"])
    assert after["team"] == "escalations" and after["owner"] == "sara"
    assert after["first_owner"] == first
    (handoff,) = after["handoffs"]
    assert (handoff["actor"], handoff["from_owner"], handoff["to_owner"]) == (first, first, "sara")
    assert handoff["reason"] == "needs the app team's incident report"
    assert after["audit"][-1]["action"] == "handed_off"


def test_jinja_in_an_author_name_is_data_not_code(service: CaseService) -> None:
    case = case_of(service, "The barista at Larkspur Union Square")
    service.store.write(
        lambda c: c.execute(
            "UPDATE mentions SET author = ? WHERE id = ?",
            ["{{ ''.__class__.__mro__ }}{{ 7*7 }}", case["mention_id"]],
        )
    )
    draft = service.draft(case["id"], case["owner"])
    assert draft["body"].startswith("Hi {{ ''.__class__.__mro__ }}{{ 7*7 }},")


def test_confidential_author_notes_are_only_for_allowed_roles(service: CaseService) -> None:
    AuthorService(service.settings).add_note(
        "amy", "reddit-larkspur", "/u/mtorres_88", "Prefers email contact", False
    )
    AuthorService(service.settings).add_note(
        "grace", "reddit-larkspur", "/u/mtorres_88", "Refund dispute with legal", True
    )
    responder_view = AuthorService(service.settings).view("amy", "reddit-larkspur", "/u/mtorres_88")
    supervisor_view = AuthorService(service.settings).view("grace", "reddit-larkspur", "/u/mtorres_88")
    assert [n["note"] for n in responder_view["notes"]] == ["Prefers email contact"]
    assert len(supervisor_view["notes"]) == 2
    assert responder_view["interactions"] == 3 and responder_view["latest_mood"] == "negative"


def test_the_audit_log_is_append_only_in_code() -> None:
    root = Path(__file__).parent.parent
    for path in root.glob("**/*.py"):
        if ".venv" in path.parts or path.parent.name == "tests":
            continue
        text = path.read_text(encoding="utf-8").lower()
        assert "update audit_log" not in text and "delete from audit_log" not in text, path


def test_cases_list_shows_open_cases_most_urgent_first(service: CaseService) -> None:
    listed = service.list()
    dues = [c["first_response_due"] for c in listed]
    assert dues == sorted(dues) and listed
    assert all(c["status"] not in ("closed", "dismissed") for c in listed)
    dismissed = {c["author"] for c in service.store.read(lambda c: queries.list_cases(c, ["dismissed"]))}
    assert dismissed == {"/u/deals4u_official", "/u/edgelord_9000", "小李代购", "offtopic_ann"}


def test_correcting_the_label_is_stored_beside_the_score_and_audited(service: CaseService) -> None:
    case = case_of(service, "Same here. Their app")
    assert case["label"] == "negative" and case["corrected_label"] is None
    LabelFeedback(service.settings).correct(case["id"], "amy", "neutral")
    after = service.show(case["id"])
    assert (
        after["corrected_label"] == "neutral" and after["label"] == "negative"
    )  # the model's suggestion stays
    assert after["audit"][-1]["action"] == "label_corrected"
    with pytest.raises(InvalidTransition, match="label must be one of"):
        LabelFeedback(service.settings).correct(case["id"], "amy", "furious")
