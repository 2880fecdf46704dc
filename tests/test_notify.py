"""Notifications through a real local SMTP server and a real local webhook receiver."""

from __future__ import annotations

import logging
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from flows.pipeline import pipeline_flow
from responders.delivery import outbox_for
from responders.escalation import escalate_overdue
from responders.notify import Notice, Notifier
from tests.builders import Post, fresh_store, seed_posts, write_team_settings
from voxwatch.settings import NotificationSettings, load_settings
from voxwatch.store import queries, store_for

# The session-wide demo run is made once per worker: keep its users on one worker.
pytestmark = [pytest.mark.xdist_group("demo"), pytest.mark.both_engines]


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def routed(tmp_path: Path) -> Path:
    """A fresh store with a few routed cases (tests/builders.py); its settings path."""
    path = write_team_settings(tmp_path)
    settings = load_settings(path)
    seed_posts(
        fresh_store(settings),
        settings,
        [
            Post("The Acme app keeps crashing and I lost my order", 0.9, author="ann"),
            Post("Acme charged me twice, third time I report this, going to the press", 0.95, author="bo"),
            Post("Acme delivery was two days late again", 0.8, author="cy"),
        ],
    )
    return path


def channels(webhook: str, smtp_port: int) -> NotificationSettings:
    return NotificationSettings(
        webhook_url=webhook, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_starttls=False, retries=3
    )


def test_webhook_and_email_are_delivered_and_recorded(
    routed: Path, httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    store = store_for(load_settings(routed))
    notifier = Notifier(channels(httpserver.url_for("/hook"), port), store)
    result = notifier.notify(
        Notice("urgent_case", "Urgent: glass in pastry", "Why: safety"), ["grace@x.example"]
    )
    assert result == {"webhook": True, "email": True}
    (request,) = [request for request, _ in httpserver.log if request.path == "/hook"]
    assert request.json == {"text": "*Urgent: glass in pastry*\nWhy: safety"}
    ((rcpt, content),) = inbox.messages
    assert rcpt == ["grace@x.example"] and "Subject: Urgent: glass in pastry" in content
    rows = store.read(lambda c: queries.notifications(c))
    assert [(r["channel"], r["status"]) for r in rows] == [("webhook", "sent"), ("email", "sent")]
    assert all(httpserver.url_for("/hook") not in str(r) for r in rows)  # the secret URL is not stored


def test_a_failing_webhook_stays_queued_is_retried_with_backoff_and_given_up_after_its_retries(
    routed: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    store = store_for(load_settings(routed))
    now = datetime.now(UTC)
    settings = NotificationSettings(webhook_url=httpserver.url_for("/hook"), retries=3)
    assert Notifier(settings, store, lambda: now).notify(Notice("urgent_case", "s", "t")) == {
        "webhook": False
    }
    (entry,) = store.read(lambda c: queries.outbox_entries(c))
    assert (entry["state"], entry["attempts"]) == ("pending", 1) and entry["next_attempt_at"] > now
    # Not due yet: a round now sends nothing; later rounds retry until the retries are spent.
    assert Notifier(settings, store, lambda: now).outbox().deliver_due().retrying == 0
    for hours in (1, 2):
        Notifier(settings, store, lambda h=hours: now + timedelta(hours=h)).outbox().deliver_due()
    assert [request.path for request, _ in httpserver.log if request.path == "/hook"] == ["/hook"] * 3
    (entry,) = store.read(lambda c: queries.outbox_entries(c))
    assert (entry["state"], entry["attempts"]) == ("failed", 3) and "500" in entry["last_error"]
    rows = store.read(lambda c: queries.notifications(c))
    assert [r["status"] for r in rows] == ["retrying", "retrying", "failed"]


def test_the_same_notice_is_queued_once_and_sent_once(routed: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    store = store_for(load_settings(routed))
    notifier = Notifier(NotificationSettings(webhook_url=httpserver.url_for("/hook")), store)
    notice = Notice("urgent_case", "Urgent", "t", case_id="case-1")
    assert notifier.notify(notice) == {"webhook": True}
    notifier.notify(notice)
    assert len([r for r, _ in httpserver.log if r.path == "/hook"]) == 1
    (request,) = [r for r, _ in httpserver.log if r.path == "/hook"]
    assert request.headers["Idempotency-Key"].startswith("notice-")


def test_sla_breach_escalates_once_and_tells_the_supervisor(
    routed: Path, httpserver: HTTPServer, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    httpserver.expect_request("/hook").respond_with_data("ok")
    settings = load_settings(routed)
    settings.notifications = channels(httpserver.url_for("/hook"), port)
    store = store_for(settings)
    open_before = store.read(lambda c: queries.list_cases(c, list(queries.OPEN_STATUSES)))
    later = datetime.now(UTC) + timedelta(days=3)

    escalated = escalate_overdue(settings, now=later)
    outbox_for(settings, lambda: later).deliver_due()  # as the route flow does after escalating
    assert {c["id"] for c in escalated} == {c["id"] for c in open_before}
    case = store.read(lambda c: queries.get_case(c, escalated[0]["id"]))
    assert case is not None and case["tier"] == "urgent" and case["escalated_at"] is not None
    assert any(r.startswith("SLA breached") for r in case["reasons"])
    assert store.read(lambda c: queries.case_audit(c, case["id"]))[-1]["action"] == "escalated"
    assert len(inbox.messages) == len(escalated)
    assert all(rcpt == ["grace@acme.example"] for rcpt, _ in inbox.messages)
    assert escalate_overdue(settings, now=later) == []  # once per case


def test_routing_completes_when_every_notification_fails(
    demo_run: tuple[Path, dict], tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    monkeypatch.setenv("VOXWATCH_NOTIFICATIONS__WEBHOOK_URL", httpserver.url_for("/hook"))
    monkeypatch.setenv("VOXWATCH_NOTIFICATIONS__RETRIES", "2")
    config = tmp_path / "voxwatch.toml"
    shutil.copy(demo_run[0], config)  # same live sample sources, empty store
    summary = pipeline_flow(str(config))
    assert summary["routed"] == demo_run[1]["routed"]
    store = store_for(load_settings(config))
    rows = store.read(lambda c: queries.notifications(c))
    urgent = [r for r in rows if r["event"] == "urgent_case"]
    assert urgent and all(r["status"] == "retrying" and r["attempts"] == 1 for r in urgent)
    queued = [e for e in store.read(lambda c: queries.outbox_entries(c)) if e["event"] == "urgent_case"]
    assert len(queued) == len(urgent) and all(e["state"] == "pending" for e in queued)  # not lost


@pytest.mark.parametrize("failure", ["refused", "http-500"])
def test_the_webhook_secret_never_reaches_a_stored_error_or_a_log_line(
    routed: Path, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    secret = "T0KEN-abcdef123456"
    if failure == "refused":
        with socket.socket() as probe:  # a port nothing listens on: httpx names the URL in its error
            probe.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks/{secret}"
    else:
        httpserver.expect_request(f"/hooks/{secret}").respond_with_data("down", status=500)
        url = httpserver.url_for(f"/hooks/{secret}")
    caplog.set_level(logging.DEBUG)
    store = store_for(load_settings(routed))
    notifier = Notifier(NotificationSettings(webhook_url=url, retries=1), store)
    assert notifier.notify(Notice("urgent_case", "s", "t")) == {"webhook": False}
    (entry,) = store.read(lambda c: queries.outbox_entries(c))
    assert entry["state"] == "failed" and entry["last_error"]
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")]  # not the server's
    assert ours and not [line for line in ours if secret in line]
    assert secret not in repr(store.read(lambda c: c.execute("SELECT * FROM notifications").fetchall()))
    assert secret not in repr(store.read(lambda c: c.execute("SELECT * FROM outbox").fetchall()))
