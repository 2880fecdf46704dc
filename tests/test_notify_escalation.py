"""SLA escalation and urgent-case announcements on a fresh small store, told through real channels.

Escalating and opening a case queue their notices in the outbox in the same
transaction; ``deliver`` then runs a round of the outbox as the route flow does.

tests/test_notify.py checks one delivery of each channel and the pipeline over the
demo week; here the cases are seeded one by one (tests/builders.py), so each test
knows which case is due when, who owns it and who must hear about it. The webhook
is a real HTTP server on 127.0.0.1 (pytest-httpserver) and email goes to a real
SMTP server (aiosmtpd) that keeps what it receives.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from responders.cases import CaseService
from responders.delivery import outbox_for
from responders.escalation import escalate_overdue
from responders.notify import Notifier
from tests.builders import Post, seed_posts
from voxwatch.domain import SYSTEM_ACTOR, Notice, Routing, Tier
from voxwatch.settings import NotificationSettings, Settings
from voxwatch.store import queries, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

POSTS = [
    Post("My Acme order arrived cold and an hour late.", 0.8, author="pat"),
    Post("The Acme app logged me out and lost my loyalty points.", 0.7, author="quinn"),
    Post("Found glass in my Acme croissant, this is unsafe.", 0.95, author="kim"),
    Post("Ma commande Acme est arrivée froide.", 0.8, author="jean", lang="fr"),
    Post("Buy cheap followers now, click here for Acme deals", 0.6, author="deals4u"),
]


class Inbox:
    """An aiosmtpd handler that keeps what it receives: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def by_subject(self) -> dict[str, EmailMessage]:
        return {subject(message): message for _, message in self.messages}


def subject(message: EmailMessage) -> str:
    """The subject as a mail client shows it (a long one is folded right after ``Subject:``)."""
    return str(message["Subject"]).strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    port, inbox = free_port(), Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def routed(team: Settings) -> list[Routing]:
    """The posts above routed on the team's fresh store: what the route flow would announce."""
    return seed_posts(store_for(team), team, POSTS)


def wire(settings: Settings, webhook: str | None, smtp_port: int | None, retries: int = 2) -> Settings:
    settings.notifications = NotificationSettings(
        webhook_url=webhook,
        smtp_host="127.0.0.1" if smtp_port else None,
        smtp_port=smtp_port or 25,
        smtp_starttls=False,
        email_from="voxwatch@acme.example",
        retries=retries,
    )
    return settings


def case_of(settings: Settings, author: str) -> dict[str, Any]:
    def _read(conn: Any) -> dict[str, Any]:
        (case_id,) = conn.execute(
            "SELECT c.id FROM cases c JOIN mentions m ON m.id = c.mention_id WHERE m.author = ?", [author]
        ).fetchone()
        case = queries.get_case(conn, case_id)
        assert case is not None
        case["audit"] = queries.case_audit(conn, case_id)
        return case

    return store_for(settings).read(_read)


def set_case(settings: Settings, case_id: str, changes: dict[str, Any]) -> None:
    """Put a case in a state directly, where how it got there is not what a test is about."""
    store_for(settings).write(lambda conn: queries.update_case(conn, case_id, changes))


def notifications(settings: Settings) -> list[dict[str, Any]]:
    return store_for(settings).read(lambda c: queries.notifications(c))


def hooks(server: HTTPServer) -> list[str]:
    return [request.json["text"] for request, _ in server.log if request.path == "/hook"]


def hours_from_now(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def deliver(settings: Settings, now: datetime | None = None) -> None:
    """One round of the outbox, as the route flow runs after routing and escalating."""
    outbox_for(settings, lambda: now or datetime.now(UTC)).deliver_due()


def escalate(settings: Settings, now: datetime) -> list[dict[str, Any]]:
    escalated = escalate_overdue(settings, now=now)
    deliver(settings, now)
    return escalated


def seed_wired(settings: Settings, posts: list[Post] = POSTS) -> list[Routing]:
    """Route the posts with the channels already wired, then deliver what the new cases queued."""
    created = seed_posts(store_for(settings), settings, posts)
    deliver(settings)
    return created


def test_the_seeded_cases_are_routed_as_these_tests_expect(team: Settings, routed: list[Routing]) -> None:
    assert len(routed) == 5
    assert {case_of(team, a)["owner"] for a in ("pat", "quinn")} == {"amy", "ben"}  # one each
    assert {case_of(team, a)["tier"] for a in ("pat", "quinn")} == {"normal"}
    assert (case_of(team, "kim")["owner"], case_of(team, "kim")["tier"]) == ("sara", "urgent")
    assert case_of(team, "jean")["status"] == "new" and case_of(team, "deals4u")["status"] == "dismissed"


def test_nothing_is_escalated_or_told_before_it_is_due(
    team: Settings, routed: list[Routing], httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    wire(team, httpserver.url_for("/hook"), smtp[0])
    assert escalate_overdue(team, now=hours_from_now(1)) == []
    assert notifications(team) == [] and hooks(httpserver) == [] and smtp[1].messages == []
    assert case_of(team, "kim")["escalated_at"] is None


def test_urgent_cases_breach_first_and_normal_ones_only_when_their_day_is_up(
    team: Settings, routed: list[Routing]
) -> None:
    (urgent,) = escalate_overdue(team, now=hours_from_now(3))  # urgent: two hours
    assert urgent["id"] == case_of(team, "kim")["id"]
    later = escalate_overdue(team, now=hours_from_now(25))  # normal: twenty-four hours
    assert {c["id"] for c in later} == {case_of(team, a)["id"] for a in ("pat", "quinn", "jean")}
    assert case_of(team, "deals4u")["escalated_at"] is None  # dismissed cases never breach


def test_an_overdue_case_escalates_once_audited_by_the_system(team: Settings, routed: list[Routing]) -> None:
    when = hours_from_now(25)
    escalated = escalate_overdue(team, now=when)
    assert len(escalated) == 4
    dues = [c["first_response_due"] for c in escalated]
    assert dues == sorted(dues) and escalated[0]["id"] == case_of(team, "kim")["id"]
    pat = case_of(team, "pat")
    assert (pat["tier"], pat["escalated_at"]) == ("urgent", when)
    due = f"{pat['first_response_due']:%Y-%m-%d %H:%M}"
    assert pat["reasons"][-1] == f"SLA breached: first response was due {due} UTC"
    entry = pat["audit"][-1]
    assert (entry["actor"], entry["action"]) == (SYSTEM_ACTOR, "escalated")
    assert json.loads(entry["before"]) == {"tier": "normal"}
    assert json.loads(entry["after"]) == {"tier": "urgent", "reason": pat["reasons"][-1]}
    assert escalate_overdue(team, now=when) == []
    # However late it gets, the first response is not escalated again (a week on, only the
    # resolution target is newly breached).
    later = escalate_overdue(team, now=hours_from_now(24 * 7))
    assert {c["target"] for c in later} == {"resolution"}
    targets = [
        json.loads(a["after"]).get("target")
        for a in case_of(team, "pat")["audit"]
        if a["action"] == "escalated"
    ]
    assert targets == [None, "resolution"]  # one first-response escalation, then one for resolution


def test_a_missed_resolution_escalates_once_even_after_a_timely_first_response(
    team: Settings, routed: list[Routing], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    wire(team, None, port)
    pat = case_of(team, "pat")
    answered = {"status": "sent", "first_response_at": pat["created_at"] + timedelta(minutes=5)}
    set_case(team, pat["id"], answered)  # answered in time: no first-response breach
    assert pat["resolution_due"].tzinfo is not None  # TIMESTAMPTZ comes back aware
    before_due = pat["resolution_due"] - timedelta(minutes=1)
    assert [c for c in escalate_overdue(team, now=before_due) if c["id"] == pat["id"]] == []
    when = pat["resolution_due"] + timedelta(minutes=1)
    escalated = escalate(team, when)
    mine = [c for c in escalated if c["id"] == pat["id"]]
    assert [c["target"] for c in mine] == ["resolution"]
    after = case_of(team, "pat")
    due = f"{pat['resolution_due']:%Y-%m-%d %H:%M}"
    assert (after["tier"], after["resolution_escalated_at"], after["escalated_at"]) == ("urgent", when, None)
    assert after["reasons"][-1] == f"SLA breached: resolution was due {due} UTC"
    entry = after["audit"][-1]
    assert (entry["actor"], entry["action"]) == (SYSTEM_ACTOR, "escalated")
    assert json.loads(entry["after"]) == {
        "tier": "urgent",
        "reason": after["reasons"][-1],
        "target": "resolution",
    }
    mail = inbox.by_subject()[f"[VoxWatch] Resolution SLA breached on VW-{pat['number']} ({pat['team']})"]
    assert f"had its resolution due {due} UTC and is not resolved" in mail.get_content()
    assert {r["event"] for r in notifications(team) if r["case_id"] == pat["id"]} == {"resolution_breach"}
    # Once per case: not again on the next run, nor a week later.
    assert [c for c in escalate_overdue(team, now=when + timedelta(days=7)) if c["id"] == pat["id"]] == []
    assert [a["action"] for a in case_of(team, "pat")["audit"]].count("escalated") == 1


def test_a_case_late_on_both_targets_in_one_run_keeps_both_reasons(
    team: Settings, routed: list[Routing]
) -> None:
    jean = case_of(team, "jean")
    escalated = escalate_overdue(team, now=jean["resolution_due"] + timedelta(hours=1))
    assert [c["target"] for c in escalated if c["id"] == jean["id"]] == ["first_response", "resolution"]
    after = case_of(team, "jean")
    assert after["escalated_at"] is not None and after["resolution_escalated_at"] is not None
    assert [r.split(" was due")[0] for r in after["reasons"][-2:]] == [
        "SLA breached: first response",
        "SLA breached: resolution",
    ]


def test_closed_and_dismissed_cases_never_breach_their_resolution_target(
    team: Settings, routed: list[Routing]
) -> None:
    quinn = case_of(team, "quinn")
    done = quinn["created_at"] + timedelta(hours=1)
    set_case(team, quinn["id"], {"status": "closed", "first_response_at": done, "resolved_at": done})
    late = escalate_overdue(team, now=hours_from_now(24 * 30))
    assert {c["id"] for c in late if c["target"] == "resolution"} == {
        case_of(team, a)["id"] for a in ("pat", "kim", "jean")
    }
    assert case_of(team, "quinn")["resolution_escalated_at"] is None
    assert case_of(team, "deals4u")["resolution_escalated_at"] is None


def test_cases_with_a_first_response_are_not_escalated_but_drafts_do_not_count(
    team: Settings, routed: list[Routing]
) -> None:
    service = CaseService(team)
    pat, quinn = case_of(team, "pat"), case_of(team, "quinn")
    answered, drafted = pat["id"], quinn["id"]
    service.draft(answered, pat["owner"])
    service.submit(answered, pat["owner"])
    service.approve(answered, "maya")
    service.send(answered, pat["owner"])
    service.record_reply_link(answered, pat["owner"], "https://social.example/@acme/9")  # public now
    service.draft(drafted, quinn["owner"])
    service.dismiss(case_of(team, "jean")["id"], "grace", "not about our shop")
    escalated = {c["id"] for c in escalate_overdue(team, now=hours_from_now(25))}
    assert escalated == {drafted, case_of(team, "kim")["id"]}
    assert case_of(team, "pat")["tier"] == "normal"


def test_supervisors_are_emailed_and_the_channel_told_about_each_breach(
    team: Settings, routed: list[Routing], httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    port, inbox = smtp
    wire(team, httpserver.url_for("/hook"), port)
    escalated = escalate(team, hours_from_now(25))
    # amy and maya have addresses too, but only the supervisor hears about breaches
    assert [rcpt for rcpt, _ in inbox.messages] == [["grace@acme.example"]] * len(escalated)
    subjects = [f"[VoxWatch] SLA breached on VW-{c['number']} ({c['team']})" for c in escalated]
    assert [subject(message) for _, message in inbox.messages] == subjects
    assert {message["From"] for _, message in inbox.messages} == {"voxwatch@acme.example"}
    assert [text.splitlines()[0] for text in hooks(httpserver)] == [f"*{s}*" for s in subjects]
    rows = notifications(team)
    assert [(r["case_id"], r["channel"], r["status"]) for r in rows] == [
        (c["id"], channel, "sent") for c in escalated for channel in ("webhook", "email")
    ]
    assert {r["event"] for r in rows} == {"sla_breach"}
    assert {r["target"] for r in rows if r["channel"] == "email"} == {"grace@acme.example"}


def test_the_breach_email_names_the_owner_and_who_stays_accountable(
    team: Settings, routed: list[Routing], smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    wire(team, None, port)
    pat, jean = case_of(team, "pat"), case_of(team, "jean")
    CaseService(team).handoff(pat["id"], pat["owner"], "the app team must look at it", to_team="escalations")
    escalate(team, hours_from_now(25))
    mail = inbox.by_subject()
    to_pat = mail[f"[VoxWatch] SLA breached on VW-{pat['number']} (escalations)"].get_content()
    to_jean = mail[f"[VoxWatch] SLA breached on VW-{jean['number']} (care)"].get_content()
    assert f"Case VW-{pat['number']} owned by sara (accountable: {pat['owner']})" in to_pat
    assert "owned by nobody (accountable: nobody)" in to_jean
    assert to_pat.rstrip().endswith("has had none. It is now urgent.")


def test_a_failing_webhook_is_retried_later_and_neither_blocks_the_escalation_nor_the_email(
    team: Settings, routed: list[Routing], httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    port, inbox = smtp
    wire(team, httpserver.url_for("/hook"), port, retries=2)
    when = hours_from_now(3)
    (escalated,) = escalate(team, when)
    assert case_of(team, "kim")["escalated_at"] is not None
    deliver(team, when)  # not due again yet: the backoff holds
    assert len(hooks(httpserver)) == 1
    deliver(team, when + timedelta(hours=1))  # the next round tries again, as often as settings say
    assert len(hooks(httpserver)) == 2
    webhook, email, webhook_again = notifications(team)
    assert (webhook["channel"], webhook["status"], webhook["attempts"]) == ("webhook", "retrying", 1)
    assert (email["channel"], email["status"], email["attempts"]) == ("email", "sent", 1)
    assert (webhook_again["status"], webhook_again["attempts"]) == ("failed", 2)
    assert "500" in webhook_again["last_error"] and webhook_again["sent_at"] is None
    assert webhook["case_id"] == email["case_id"] == escalated["id"]
    assert len(inbox.messages) == 1


def test_an_unreachable_mail_server_is_recorded_as_failed(team: Settings, routed: list[Routing]) -> None:
    wire(team, None, free_port(), retries=1)  # nothing listens there
    (escalated,) = escalate(team, hours_from_now(3))
    (row,) = notifications(team)
    assert (row["channel"], row["status"], row["attempts"]) == ("email", "failed", 1)
    assert row["target"] == "grace@acme.example" and row["case_id"] == escalated["id"]
    assert "Connection" in row["last_error"] or "refused" in row["last_error"].lower()
    assert case_of(team, "kim")["tier"] == "urgent"


def test_urgent_cases_are_announced_to_the_channel_and_their_owner(
    team: Settings, httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    port, inbox = smtp
    wire(team, httpserver.url_for("/hook"), port)
    team.person("sara").email = "sara@acme.example"
    seed_wired(team)  # one urgent; normal and dismissed ones are not announced
    kim = case_of(team, "kim")
    (text,) = hooks(httpserver)
    assert text.startswith("*[VoxWatch] urgent case for sara*\nWhy: legal or safety words")
    assert "Team escalations, owner sara, first response due" in text
    ((rcpt, message),) = inbox.messages
    assert rcpt == ["sara@acme.example"] and subject(message) == "[VoxWatch] urgent case for sara"
    assert message.get_content().startswith("Why: legal or safety words")
    rows = notifications(team)
    assert [(r["channel"], r["event"], r["case_id"], r["status"]) for r in rows] == [
        ("webhook", "urgent_case", kim["id"], "sent"),
        ("email", "urgent_case", kim["id"], "sent"),
    ]


def test_an_owner_without_an_address_hears_only_through_the_channel(
    team: Settings, httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    port, inbox = smtp
    wire(team, httpserver.url_for("/hook"), port)
    assert team.person("sara").email is None
    seed_wired(team)
    assert len(hooks(httpserver)) == 1 and inbox.messages == []
    assert [r["channel"] for r in notifications(team)] == ["webhook"]


def test_an_urgent_case_nobody_can_take_is_announced_for_the_team(
    team: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    wire(team, httpserver.url_for("/hook"), None)
    post = Post("Acme: j'ai trouvé du verre, my lawyer will hear about it.", 0.9, author="luc", lang="fr")
    created = seed_wired(team, [post])
    assert [(r.tier, r.team, r.owner) for r in created] == [(Tier.URGENT, "escalations", None)]
    (text,) = hooks(httpserver)
    assert text.startswith("*[VoxWatch] urgent case for escalations*")
    assert "owner unassigned" in text


def test_without_channels_nothing_is_queued_or_recorded(team: Settings, routed: list[Routing]) -> None:
    assert team.notifications.webhook_url is None and team.notifications.smtp_host is None
    assert any(r.tier is Tier.URGENT for r in routed)
    deliver(team)
    assert notifications(team) == [] and store_for(team).read(lambda c: queries.outbox_entries(c)) == []


def test_one_email_goes_to_every_recipient_and_blank_addresses_are_skipped(
    team: Settings, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    notifier = Notifier(wire(team, None, port).notifications, store_for(team))
    notice = Notice("sla_breach", "Breach on case-1", "It is now urgent.", case_id="case-1")
    assert notifier.notify(notice, ["grace@acme.example", "", "maya@acme.example"]) == {"email": True}
    ((rcpt, message),) = inbox.messages
    assert rcpt == ["grace@acme.example", "maya@acme.example"]
    assert message["To"] == "grace@acme.example, maya@acme.example"
    assert message.get_content().strip() == "It is now urgent."
    (row,) = notifications(team)
    assert (row["target"], row["case_id"], row["subject"]) == (
        "grace@acme.example, maya@acme.example",
        "case-1",
        "Breach on case-1",
    )


def test_no_recipients_means_no_email_attempt(team: Settings, smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    notifier = Notifier(wire(team, None, port).notifications, store_for(team))
    assert notifier.notify(Notice("sla_breach", "s", "t"), ["", ""]) == {}
    assert notifier.notify(Notice("sla_breach", "s", "t")) == {}
    assert inbox.messages == [] and notifications(team) == []
