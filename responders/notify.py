"""Notifications: what the team hears (urgent cases, SLA breaches, spikes, failed replies).

A notice becomes outbox messages (``notice_messages``), one per configured
channel: a Slack-compatible webhook and email. They are queued in the same
transaction as the change that calls for them and delivered by the outbox, so
a crash delays an alert but never loses it, and a key per event and channel
means a rerun never sends it twice. The channel clients here are publishers
like any other (``responders.publishing.base``). An alert whose send was cut off
between the channel's answer and our commit is sent again with the same
``Idempotency-Key`` header (email: the same Message-ID): a lost alert is worse
than one a relay can dedupe.

Secrets (the webhook URL, the SMTP password) come from settings, which take
them from the environment only; they are never written to the store or logs:
the outbox and notifications tables record the channel and the recipient, and
every error passes through ``redact``.
"""

from __future__ import annotations

import hashlib
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import httpx
from pydantic import SecretStr

from responders.outbox import Clock, Outbox, message_key
from responders.publishing.base import Delivery, Posted, Publisher
from responders.publishing.http import hide_in_logs
from voxwatch.domain import Notice, Outgoing
from voxwatch.errors import PublishError, TransientPublishError
from voxwatch.settings import NotificationSettings
from voxwatch.store import Store, queries

WEBHOOK_TARGET = "comms channel"  # what the store records instead of the secret URL


def _secret(value: str | SecretStr | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def notice_messages(
    notice: Notice, settings: NotificationSettings, emails: list[str] | None = None
) -> list[Outgoing]:
    """The outbox messages ``notice`` becomes on the channels settings configure."""
    messages: list[Outgoing] = []
    identity = (notice.event, notice.case_id or "", notice.ref or notice.subject)

    def message(channel: str, target: str) -> Outgoing:
        return Outgoing(
            key=message_key("notice", *identity, channel, target),
            kind="notice",
            channel=channel,
            target=target,
            body=notice.text,
            case_id=notice.case_id,
            event=notice.event,
            subject=notice.subject,
        )

    if settings.webhook_url:
        messages.append(message("webhook", WEBHOOK_TARGET))
    recipients = sorted({e for e in (emails or []) if e})
    if settings.smtp_host and recipients:
        messages.append(message("email", ", ".join(recipients)))
    return messages


def secrets_of(settings: NotificationSettings) -> tuple[str, ...]:
    values = (_secret(settings.webhook_url), _secret(settings.smtp_password))
    return tuple(v for v in values if v)


class WebhookNotice:
    """Posts a notice to a Slack-compatible incoming webhook as ``{"text": ...}``."""

    name = "webhook"

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings

    def publish(self, delivery: Delivery) -> Posted:
        url = _secret(self.settings.webhook_url)
        if not url:
            raise PublishError("no webhook is configured ([notifications] webhook_url)")
        hide_in_logs(url)  # httpx logs each request's URL, and this one carries a token
        payload = {"text": f"*{delivery.subject}*\n{delivery.text}"}
        try:
            response = httpx.post(
                url,
                json=payload,
                headers={"Idempotency-Key": delivery.key},
                timeout=self.settings.timeout_seconds,
            )
        except httpx.HTTPError as exc:  # the message names the URL: the outbox redacts it
            raise TransientPublishError(f"webhook: {type(exc).__name__}: {exc}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientPublishError(f"webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise PublishError(f"webhook refused the notice: {response.status_code}")
        return Posted(None, None)

    def find(self, delivery: Delivery) -> Posted | None:
        return None  # a chat channel cannot be searched: send again, with the same Idempotency-Key


class EmailNotice:
    """Sends a notice by SMTP to the recipients named in the message's target."""

    name = "email"

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings

    def _message(self, delivery: Delivery) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.email_from
        message["To"] = delivery.target
        message["Subject"] = delivery.subject or "VoxWatch"
        digest = hashlib.sha256(delivery.key.encode()).hexdigest()[:32]
        message["Message-ID"] = make_msgid(idstring=digest, domain="voxwatch.invalid")
        message.set_content(delivery.text)
        return message

    def publish(self, delivery: Delivery) -> Posted:
        if not self.settings.smtp_host:
            raise PublishError("no SMTP server is configured ([notifications] smtp_host)")
        try:
            with smtplib.SMTP(
                self.settings.smtp_host, self.settings.smtp_port, timeout=self.settings.timeout_seconds
            ) as smtp:
                if self.settings.smtp_starttls:
                    smtp.starttls()
                password = _secret(self.settings.smtp_password)
                if self.settings.smtp_user and password:
                    smtp.login(self.settings.smtp_user, password)
                smtp.send_message(self._message(delivery))
        except smtplib.SMTPResponseException as exc:
            kind = TransientPublishError if exc.smtp_code < 500 else PublishError
            raise kind(f"SMTP {self.settings.smtp_host} answered {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientPublishError(
                f"SMTP {self.settings.smtp_host}: {type(exc).__name__}: {exc}"
            ) from None
        return Posted(None, None)

    def find(self, delivery: Delivery) -> Posted | None:
        return None  # SMTP cannot be asked: send again with the same Message-ID


def notice_publisher(settings: NotificationSettings, channel: str) -> Publisher:
    if channel == "webhook":
        return WebhookNotice(settings)
    if channel == "email":
        return EmailNotice(settings)
    raise PublishError(f"no notice channel {channel!r}")


class Notifier:
    """Queues a notice and delivers it now; what fails stays queued for the next round."""

    def __init__(self, settings: NotificationSettings, store: Store, clock: Clock | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def outbox(self) -> Outbox:
        return Outbox(
            self.store,
            lambda entry: notice_publisher(self.settings, entry["channel"]),
            self.clock,
            secrets=secrets_of(self.settings),
            max_attempts={"notice": self.settings.retries},
        )

    def notify(self, notice: Notice, emails: list[str] | None = None) -> dict[str, bool]:
        """Queue ``notice`` on every configured channel and try each now; say which were sent."""
        messages = notice_messages(notice, self.settings, emails)
        now = self.clock()
        self.store.write(lambda conn: [queries.enqueue(conn, m, now) for m in messages])
        outbox = self.outbox()
        return {m.channel: outbox.deliver(m.key) == "sent" for m in messages}
