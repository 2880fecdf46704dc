"""The case life cycle on a small real store: ownership, drafts, lint, approval, publishing, audit.

Each test seeds its own handful of posts (tests/builders.py) through the real
stages, so the cases, owners and audit trails below come from the product's own
routing: English complaints go to the care team (amy, ben), urgent ones to the
escalations desk (sara), Chinese ones to amy, spam is dismissed at triage.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from responders.authors import AuthorService
from responders.cases import CaseService
from responders.delivery import outbox_for
from responders.feedback import LabelFeedback
from responders.publish import WebhookPublisher
from responders.templates import plain_text_name
from tests.builders import Post, case_ids, seed_posts
from tests.fakes import FakeRelay, wired
from voxwatch.errors import InvalidTransition, PermissionDenied, UnapprovedText
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

POSTS = [
    Post("Love the new Acme beans, great roast!", 0.05, author="mtorres_88", minutes_ago=600),
    Post("Is the Acme store on Main Street open on Sundays?", 0.3, author="mtorres_88", minutes_ago=300),
    Post("The barista at Acme Union Square was rude and my flat white was cold.", 0.8, author="mtorres_88"),
    Post("The grinder in the Acme home brew kit stopped working after a week.", 0.75, author="dana"),
    Post("This is the third time I report this: my Acme order never arrived.", 0.9, author="lee"),
    Post("Found a piece of glass in my Acme croissant this morning.", 0.9, author="kim", source="shop"),
    Post("Same here. Their Acme app charged my card twice for one coffee.", 0.7, author="raj"),
    Post("Acme's app has been down all morning and I cannot order.", 0.7, author="noor"),
    Post("外卖送到的时候咖啡全洒了，Acme的包装太差了。", 0.8, author="小王", lang="zh"),
    Post("Acme est vraiment nul, ma commande est arrivée froide.", 0.8, author="jean", lang="fr"),
    Post("Buy cheap followers now, click here for Acme deals", 0.6, author="deals4u"),
    Post("Acme代购，加我微信，便宜", 0.6, author="小李代购", lang="zh"),
]
LEE_REPLY = "Hi lee, I'm sorry about the missing order. We will get back to you within 2 hours with news."


@pytest.fixture
def service(team: Settings) -> CaseService:
    """The team's fresh store with the posts above collected, scored and routed."""
    routed = seed_posts(store_for(team), team, POSTS)
    assert len(routed) == 11  # all but the praise: complaints, a question, and spam (dismissed)
    return CaseService(team)


def case_of(service: CaseService, text_start: str) -> dict:
    found = service.store.read(
        lambda c: c.execute(
            "SELECT c.id FROM cases c JOIN mentions m ON m.id = c.mention_id WHERE m.text LIKE ?",
            [text_start + "%"],
        ).fetchall()
    )
    assert len(found) == 1, text_start
    return service.show(found[0][0])


def to_approved(service: CaseService, case: dict) -> None:
    owner = case["owner"]
    service.draft(case["id"], owner)
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya")


def test_the_whole_loop_from_claim_to_close_is_audited(service: CaseService) -> None:
    case = case_of(service, "The barista at Acme Union Square")
    owner = case["owner"]
    assert case["team"] == "care" and owner in ("amy", "ben")
    draft = service.draft(case["id"], owner)
    assert draft["findings"] == [] and draft["template_key"] == "first_response/en@v1"
    assert "We will get back to you by" in draft["body"]  # the reply-time promise
    assert draft["body"].startswith("Hi mtorres_88,") and "from Acme" in draft["body"]
    service.submit(case["id"], owner)
    service.approve(case["id"], "maya", "good tone")
    service.send(case["id"], owner)  # no publisher for this source: posted by hand, link recorded
    service.record_reply_link(case["id"], owner, "https://social.example/@acme/2")
    service.follow_up(case["id"], owner, "customer confirmed the new barista training")
    service.close(case["id"], owner)

    final = service.show(case["id"])
    assert final["status"] == "closed"
    assert final["first_response_at"] and final["followed_up_at"] and final["resolved_at"]
    assert final["follow_up_waived"] is None
    assert [a["action"] for a in final["audit"]] == [
        "collected",
        "scored",
        "triaged",
        "routed",
        "drafted",
        "submitted",
        "approved",
        "sent",
        "published",
        "followed_up",
        "closed",
    ]
    assert {a["actor"] for a in final["audit"][:4]} == {"system"}
    assert {a["actor"] for a in final["audit"][4:]} == {owner, "maya"}
    assert final["draft"]["state"] == "sent" and final["draft"]["decided_by"] == "maya"


def test_a_chinese_case_gets_the_chinese_template_with_a_reply_time(service: CaseService) -> None:
    case = case_of(service, "外卖送到的时候")
    assert case["owner"] == "amy"  # the only one in care who reads Chinese
    draft = service.draft(case["id"], case["owner"])
    assert draft["template_key"] == "first_response/zh@v1" and draft["lang"] == "zh"
    assert draft["body"].startswith("小王您好")
    assert "前给您答复" in draft["body"] and "月" in draft["body"]
    assert draft["findings"] == []


def test_a_language_without_templates_waits_unassigned_then_falls_back_to_english(
    service: CaseService,
) -> None:
    case = case_of(service, "Acme est vraiment nul")
    assert (case["status"], case["owner"], case["team"]) == ("new", None, "care")  # nobody reads French
    service.assign(case["id"], "grace", "ben")
    draft = service.draft(case["id"], "ben")
    assert draft["template_key"] == "first_response/en@v1" and draft["lang"] == "fr"


def test_a_draft_full_of_forbidden_phrases_is_flagged_and_cannot_be_submitted(service: CaseService) -> None:
    case = case_of(service, "The grinder in the Acme home brew kit")
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
    after = service.show(case["id"])
    assert after["status"] == "drafting" and after["draft"]["state"] == "draft"
    assert after["audit"][-1]["action"] == "drafted"  # the refused submit left no trace
    fixed = service.draft(case["id"], case["owner"], situation="apology_recovery")
    assert fixed["version"] == draft["version"] + 1 and fixed["findings"] == []
    service.submit(case["id"], case["owner"])
    assert service.show(case["id"])["status"] == "pending_approval"


def test_only_the_owner_drafts_replies(service: CaseService) -> None:
    case = case_of(service, "The grinder in the Acme home brew kit")
    other = "ben" if case["owner"] == "amy" else "amy"
    with pytest.raises(InvalidTransition, match=f"only the owner \\({case['owner']}\\)"):
        service.draft(case["id"], other)
    with pytest.raises(PermissionDenied, match="may not draft"):
        service.draft(case["id"], "maya")
    assert service.show(case["id"])["draft"] is None


def test_nobody_approves_their_own_draft_and_responders_cannot_approve(service: CaseService) -> None:
    case = case_of(service, "This is the third time I report this")
    assert case["owner"] == "sara" and case["tier"] == "urgent"  # escalations desk, also an approver
    service.draft(case["id"], "sara")
    service.submit(case["id"], "sara")
    with pytest.raises(PermissionDenied, match="wrote this draft"):
        service.approve(case["id"], "sara")
    with pytest.raises(PermissionDenied, match="wrote this draft"):
        service.reject(case["id"], "sara", "not good enough")
    with pytest.raises(PermissionDenied, match="may not approve"):
        service.approve(case["id"], "amy")
    with pytest.raises(InvalidTransition, match="needs a comment"):
        service.reject(case["id"], "maya", "  ")
    assert service.show(case["id"])["status"] == "pending_approval"
    service.reject(case["id"], "maya", "Name the order numbers and what we do next.")
    after = service.show(case["id"])
    assert after["status"] == "drafting"
    assert after["draft"]["state"] == "rejected" and after["draft"]["decided_by"] == "maya"
    assert after["draft"]["decision_comment"] == "Name the order numbers and what we do next."


def test_a_rejected_draft_must_be_redrafted_before_it_is_submitted_again(service: CaseService) -> None:
    case = case_of(service, "This is the third time I report this")
    first = service.draft(case["id"], "sara")
    service.submit(case["id"], "sara")
    service.reject(case["id"], "maya", "Say when the refund lands.")
    with pytest.raises(InvalidTransition, match="no open draft to submit"):
        service.submit(case["id"], "sara")
    second = service.draft(case["id"], "sara", body=LEE_REPLY)
    assert second["version"] == first["version"] + 1
    service.submit(case["id"], "sara")
    service.approve(case["id"], "maya")
    after = service.show(case["id"])
    assert after["status"] == "approved" and after["draft"]["version"] == second["version"]
    assert after["draft"]["body"] == LEE_REPLY and second["findings"] == []


def relayed(settings: Settings, relay: FakeRelay) -> CaseService:
    """The shop's replies go out through a webhook relay (``reply_via = "webhook"``)."""
    settings.source("shop").reply_via = "webhook"
    return CaseService(wired(settings, relay=relay))


def test_unapproved_text_is_never_published(service: CaseService, fake_relay: FakeRelay) -> None:
    relay = relayed(service.settings, fake_relay)
    publisher = WebhookPublisher(SecretStr(fake_relay.url))
    case = case_of(relay, "Found a piece of glass")
    relay.draft(case["id"], case["owner"])
    with pytest.raises(InvalidTransition, match="cannot send"):
        relay.send(case["id"], case["owner"])
    with pytest.raises(UnapprovedText):  # the adapter refuses on its own, whoever calls it
        publisher(relay.show(case["id"])["draft"])
    relay.submit(case["id"], case["owner"])
    with pytest.raises(UnapprovedText):
        publisher(relay.show(case["id"])["draft"])
    assert fake_relay.deliveries == {}
    relay.approve(case["id"], "maya")
    entry = relay.send(case["id"], case["owner"])
    ((key, body),) = fake_relay.deliveries.items()
    sent = relay.show(case["id"])["draft"]
    assert key == entry["key"] and body["text"] == sent["body"] and body["case_id"] == case["id"]


def test_a_failed_publish_keeps_the_reply_queued_and_a_later_round_sends_it_once(
    service: CaseService, fake_relay: FakeRelay
) -> None:
    relay = relayed(service.settings, fake_relay)
    fake_relay.fail(502, {"error": "down"}, method="POST")
    case = case_of(relay, "Found a piece of glass")
    to_approved(relay, case)
    entry = relay.send(case["id"], case["owner"])
    assert entry["state"] == "pending" and "502" in entry["last_error"]
    after = relay.show(case["id"])
    assert after["status"] == "sent" and after["first_response_at"] is None  # not public yet
    assert after["outbox"][0]["state"] == "pending"
    outbox_for(relay.settings, lambda: entry["next_attempt_at"] + timedelta(seconds=1)).deliver_due()
    public = relay.show(case["id"])
    assert public["first_response_at"] is not None and public["reply_url"] == "https://relay.example/posts/1"
    assert len(fake_relay.deliveries) == 1


def test_closing_needs_the_follow_up_or_a_reason_to_waive_it(service: CaseService) -> None:
    case = case_of(service, "Same here. Their Acme app charged my card")
    owner = case["owner"]
    to_approved(service, case)
    service.send(case["id"], owner)
    with pytest.raises(InvalidTransition, match="follow-up is not done"):
        service.close(case["id"], owner)
    with pytest.raises(InvalidTransition, match="follow-up is not done"):
        service.close(case["id"], owner, waive_follow_up="   ")
    service.close(case["id"], owner, waive_follow_up="customer asked not to be contacted again")
    closed = service.show(case["id"])
    assert closed["status"] == "closed" and closed["follow_up_waived"].startswith("customer asked")
    assert closed["followed_up_at"] is None and closed["resolved_at"] is not None
    service.reopen(case["id"], owner, "customer wrote again")
    reopened = service.show(case["id"])
    assert reopened["status"] == "assigned" and reopened["resolved_at"] is None
    assert reopened["audit"][-1]["action"] == "reopened"


def test_the_first_response_time_is_kept_when_a_second_reply_is_sent(service: CaseService) -> None:
    case = case_of(service, "Same here. Their Acme app charged my card")
    to_approved(service, case)
    service.send(case["id"], case["owner"])
    service.record_reply_link(case["id"], case["owner"], "https://social.example/@acme/3")
    first = service.show(case["id"])["first_response_at"]
    service.draft(case["id"], case["owner"], situation="apology_recovery")
    service.submit(case["id"], case["owner"])
    service.approve(case["id"], "maya")
    service.send(case["id"], case["owner"])
    service.record_reply_link(case["id"], case["owner"], "https://social.example/@acme/4")
    after = service.show(case["id"])
    assert first is not None and after["first_response_at"] == first and after["status"] == "sent"
    assert [a["action"] for a in after["audit"]].count("sent") == 2


def test_handoff_keeps_the_first_owner_accountable_and_is_recorded(service: CaseService) -> None:
    case = case_of(service, "Acme's app has been down")
    first = case["owner"]
    assert case["team"] == "care"
    service.handoff(case["id"], first, "needs the app team's incident report", to_team="escalations")
    after = service.show(case["id"])
    assert after["team"] == "escalations" and after["owner"] == "sara"
    assert after["first_owner"] == first and after["status"] == "assigned"
    (handoff,) = after["handoffs"]
    assert (handoff["actor"], handoff["from_owner"], handoff["to_owner"]) == (first, first, "sara")
    assert (handoff["from_team"], handoff["to_team"]) == ("care", "escalations")
    assert handoff["reason"] == "needs the app team's incident report"
    assert after["audit"][-1]["action"] == "handed_off" and after["audit"][-1]["actor"] == first


@pytest.mark.parametrize(
    ("where", "refusal"),
    [
        ({"to": "maya"}, "maya is not a responder and cannot own cases"),  # an approver only
        ({"to": "grace"}, "grace is not a responder and cannot own cases"),  # a supervisor only
        ({"to_team": "comms"}, "no responders in team 'comms'"),  # nobody there may own cases
        ({"to_team": "leadership"}, "no responders in team 'leadership'"),
    ],
)
def test_a_case_is_never_handed_to_someone_who_cannot_own_it(
    service: CaseService, where: dict[str, str], refusal: str
) -> None:
    case = case_of(service, "Acme's app has been down")
    with pytest.raises(InvalidTransition, match=refusal):
        service.handoff(case["id"], case["owner"], "someone else should take it", **where)
    after = service.show(case["id"])
    assert (after["owner"], after["team"], after["handoffs"]) == (case["owner"], case["team"], [])


def test_jinja_or_markup_in_an_author_name_is_plain_data_not_code(service: CaseService) -> None:
    case = case_of(service, "The barista at Acme Union Square")
    name = "{{ ''.__class__.__mro__ }}{{ 7*191 }} [Sam](http://evil.example) @everyone"
    service.store.write(
        lambda c: c.execute("UPDATE mentions SET author = ? WHERE id = ?", [name, case["mention_id"]])
    )
    draft = service.draft(case["id"], case["owner"])
    assert draft["body"].startswith(f"Hi {plain_text_name(name)},") and draft["findings"] == []
    for piece in ("1337", "{{", "http", "](", "@"):  # 1337 cannot be part of a time or a date
        assert piece not in draft["body"], piece


def test_confidential_author_notes_are_only_for_allowed_roles(service: CaseService) -> None:
    authors = AuthorService(service.settings)
    authors.add_note("amy", "blog", "mtorres_88", "Prefers email contact", False)
    authors.add_note("grace", "blog", "mtorres_88", "Refund dispute with legal", True)
    responder_view = authors.view("amy", "blog", "mtorres_88")
    assert [n["note"] for n in responder_view["notes"]] == ["Prefers email contact"]
    for reader in ("grace", "maya", "sara"):  # supervisor, approver, and a responder who also approves
        assert len(authors.view(reader, "blog", "mtorres_88")["notes"]) == 2, reader
    assert responder_view["interactions"] == 3 and responder_view["latest_mood"] == "negative"
    assert [m["label"] for m in responder_view["mentions"]] == ["neutral", "neutral", "negative"]
    noted = service.store.read(lambda c: queries.audit_entries(c, "author", 10))
    assert sorted((e["actor"], e["action"], e["entity_id"]) for e in noted) == [
        ("amy", "noted", "blog:mtorres_88"),
        ("grace", "noted", "blog:mtorres_88"),
    ]


def test_an_author_with_no_history_has_an_empty_view(service: CaseService) -> None:
    view = AuthorService(service.settings).view("amy", "blog", "nobody_here")
    assert (view["interactions"], view["latest_mood"], view["mentions"], view["notes"]) == (0, None, [], [])


def test_the_audit_log_is_append_only_in_code() -> None:
    """Only erasure (a person asking to be forgotten) may redact entries, and only there."""
    root = Path(__file__).parent.parent
    erasure = root / "voxwatch" / "store" / "queries" / "erasure.py"
    assert "update audit_log" in erasure.read_text(encoding="utf-8").lower()
    for path in root.glob("**/*.py"):
        if ".venv" in path.parts or path.parent.name == "tests" or path == erasure:
            continue
        text = path.read_text(encoding="utf-8").lower()
        assert "update audit_log" not in text and "delete from audit_log" not in text, path


def test_cases_list_shows_open_cases_most_urgent_first(service: CaseService) -> None:
    listed = service.list()
    dues = [c["first_response_due"] for c in listed]
    assert dues == sorted(dues) and len(listed) == 9
    assert all(c["status"] not in ("closed", "dismissed") for c in listed)
    assert {c["tier"] for c in listed[:2]} == {"urgent"}  # two hours beat twenty-four
    dismissed = {c["author"] for c in service.store.read(lambda c: queries.list_cases(c, ["dismissed"]))}
    assert dismissed == {"deals4u", "小李代购"}


def test_cases_list_filters_by_owner_team_and_status(service: CaseService) -> None:
    assert {c["owner"] for c in service.list(team="escalations")} == {"sara"}
    assert len(service.list(team="escalations")) == 2
    amy = service.list(owner="amy")
    assert amy and {c["owner"] for c in amy} == {"amy"}
    assert {c["author"] for c in service.list(status="new")} == {"jean"}
    assert service.list(status="closed") == []


def test_actions_use_the_service_clock(team: Settings) -> None:
    routed = seed_posts(store_for(team), team, [Post("My Acme order was wrong again and again.", 0.8)])
    fixed = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    service = CaseService(team, clock=lambda: fixed)
    (case_id,) = case_ids(routed)
    owner = routed[0].owner
    assert owner is not None
    draft = service.draft(case_id, owner)
    assert draft["created_at"] == fixed
    service.submit(case_id, owner)
    service.approve(case_id, "maya")
    service.send(case_id, owner)
    service.record_reply_link(case_id, owner, "https://social.example/@acme/5")
    after = service.show(case_id)
    assert after["first_response_at"] == fixed and after["updated_at"] == fixed
    assert after["draft"]["decided_at"] == fixed and after["draft"]["sent_at"] == fixed
    assert {a["occurred_at"] for a in after["audit"][4:]} == {fixed}


def test_correcting_the_label_is_stored_beside_the_score_and_audited(service: CaseService) -> None:
    case = case_of(service, "Same here. Their Acme app")
    assert case["label"] == "negative" and case["corrected_label"] is None
    feedback = LabelFeedback(service.settings)
    feedback.correct(case["id"], "amy", "neutral")
    after = service.show(case["id"])
    assert after["corrected_label"] == "neutral" and after["label"] == "negative"  # the model's stays
    entry = after["audit"][-1]
    assert (entry["action"], entry["actor"]) == ("label_corrected", "amy")
    assert '"negative"' in entry["before"] and '"neutral"' in entry["after"]
    with pytest.raises(InvalidTransition, match="label must be one of"):
        feedback.correct(case["id"], "amy", "furious")


def test_a_second_correction_replaces_the_first_and_records_what_it_replaced(service: CaseService) -> None:
    case = case_of(service, "Same here. Their Acme app")
    feedback = LabelFeedback(service.settings)
    feedback.correct(case["id"], "amy", "neutral")
    feedback.correct(case["id"], "grace", "positive")
    after = service.show(case["id"])
    assert after["corrected_label"] == "positive" and after["label"] == "negative"
    last = after["audit"][-1]
    assert last["actor"] == "grace" and '"neutral"' in last["before"] and '"positive"' in last["after"]
