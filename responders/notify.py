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

from datetime import UTC, datetime

from pydantic import SecretStr

from responders.outbox import Clock, Outbox, message_key
from responders.publishing.base import Delivery, Posted, Publisher
from responders.publishing.email import EmailPublisher, build_message
from responders.publishing.http import JsonApi, hide_in_logs
from voxwatch.domain import Notice, Outgoing
from voxwatch.errors import PublishError
from voxwatch.settings import NotificationSettings
from voxwatch.store import Store, queries

WEBHOOK_TARGET = "comms channel"  # what the store records instead of the secret URL


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


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
    """Posts a notice to a Slack-compatible incoming webhook as ``{"text": ...}``.

    Through ``JsonApi``, the one place HTTP failures become ours (transient or
    final, worded and redacted), as for the webhook that relays replies.
    """

    name = "webhook"

    def __init__(self, settings: NotificationSettings) -> None:
        url = _secret(settings.webhook_url)
        if not url:
            raise PublishError("no webhook is configured ([notifications] webhook_url)")
        hide_in_logs(url)  # httpx logs each request's URL, and this one carries a token
        self.api = JsonApi("webhook", url, settings.timeout_seconds, lambda: (url,))

    def publish(self, delivery: Delivery) -> Posted:
        payload = {"text": f"*{delivery.subject}*\n{delivery.text}"}
        headers = {"Idempotency-Key": delivery.key}
        self.api.call("POST", "", "sending the alert", json=payload, headers=headers, need_json=False)
        return Posted(None, None)

    def find(self, delivery: Delivery) -> Posted | None:
        return None  # a chat channel cannot be searched: send again, with the same Idempotency-Key


class EmailNotice:
    """Sends a notice by SMTP to the recipients named in the message's target.

    The message is written and sent as replies by email are (``responders.publishing.email``):
    the same Message-ID from the key on every try, the same SMTP error mapping.
    """

    name = "email"

    def __init__(self, settings: NotificationSettings) -> None:
        if not settings.smtp_host:
            raise PublishError("no SMTP server is configured ([notifications] smtp_host)")
        self.sender = settings.email_from
        self.smtp = EmailPublisher(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_starttls,
            settings.email_from,
            settings.timeout_seconds,
        )

    def publish(self, delivery: Delivery) -> Posted:
        message = build_message(delivery, delivery.target, self.sender)
        self.smtp.send(message, f"the alert to {delivery.target}")
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
