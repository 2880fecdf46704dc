"""Notifications: a Slack-compatible webhook and email, retried, recorded, never blocking.

Secrets (the webhook URL, the SMTP password) come from settings, which take
them from the environment only; they are never written to the store or logs:
the notifications table records the channel and the recipient, not the URL.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
from tenacity import Retrying, stop_after_attempt, wait_exponential

from voxwatch.domain import Notice
from voxwatch.settings import NotificationSettings
from voxwatch.store import Store, queries

log = logging.getLogger(__name__)
DELIVERY_ERRORS = (httpx.HTTPError, smtplib.SMTPException, OSError)


class Notifier:
    def __init__(self, settings: NotificationSettings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.settings.retries),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )

    def _post_webhook(self, notice: Notice) -> None:
        assert self.settings.webhook_url is not None
        payload = {"text": f"*{notice.subject}*\n{notice.text}"}
        response = httpx.post(self.settings.webhook_url, json=payload, timeout=self.settings.timeout_seconds)
        response.raise_for_status()

    def _send_email(self, notice: Notice, recipients: list[str]) -> None:
        message = EmailMessage()
        message["From"] = self.settings.email_from
        message["To"] = ", ".join(recipients)
        message["Subject"] = notice.subject
        message.set_content(notice.text)
        assert self.settings.smtp_host is not None
        with smtplib.SMTP(
            self.settings.smtp_host, self.settings.smtp_port, timeout=self.settings.timeout_seconds
        ) as smtp:
            if self.settings.smtp_starttls:
                smtp.starttls()
            if self.settings.smtp_user and self.settings.smtp_password:
                smtp.login(self.settings.smtp_user, self.settings.smtp_password.get_secret_value())
            smtp.send_message(message)

    def _deliver(self, channel: str, target: str, notice: Notice, send: object) -> bool:
        attempts = 0
        error: str | None = None
        try:
            for attempt in self._retrying():
                with attempt:
                    attempts += 1
                    send()  # type: ignore[operator]
        except DELIVERY_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "%s notification %r to %s failed after %d attempt(s): %s",
                channel,
                notice.event,
                target,
                attempts,
                error,
            )
        status = "failed" if error else "sent"
        now = datetime.now(UTC)
        self.store.write(
            lambda conn: queries.insert_notification(
                conn,
                now,
                channel,
                target,
                notice.event,
                notice.case_id,
                notice.subject,
                status,
                attempts,
                error,
            )
        )
        return error is None

    def notify(self, notice: Notice, emails: list[str] | None = None) -> dict[str, bool]:
        """Send on every configured channel; returns which succeeded. Never raises for delivery."""
        results: dict[str, bool] = {}
        if self.settings.webhook_url:
            results["webhook"] = self._deliver(
                "webhook", "comms channel", notice, lambda: self._post_webhook(notice)
            )
        recipients = [e for e in (emails or []) if e]
        if self.settings.smtp_host and recipients:
            results["email"] = self._deliver(
                "email", ", ".join(recipients), notice, lambda: self._send_email(notice, recipients)
            )
        return results
