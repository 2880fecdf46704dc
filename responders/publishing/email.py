"""Replies by email, for sources whose mentions carry the author's address.

The reply goes to ``delivery.target`` when it is an email address (a mention
from a feed or a review page gives none: that is refused, naming the case). Its
``Message-ID`` is derived from the delivery key, the same on every try, so a
client or archive that dedupes on it shows one message even if a retry after a
lost answer sends it twice; ``In-Reply-To`` / ``References`` follow
``delivery.extra["message_id"]`` when the source gave the original's.

SMTP answers are mapped as SMTP means them: 4xx replies and lost connections
may pass (``TransientPublishError``; ``PossiblyPosted`` once the message was
being sent), 5xx are final (``PublishError``).

``find`` cannot work: SMTP has no way to ask whether a message went out, and
the sent mail is not ours to read. It raises ``OutcomeUnknown``, so the outbox
asks a person to check and either confirm or send again.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from pydantic import SecretStr

from responders.publishing.base import Delivery, Posted, redact
from responders.publishing.errors import PossiblyPosted, about
from voxwatch.errors import OutcomeUnknown, PublishError, TransientPublishError

DEFAULT_SUBJECT = "Re: your message"
ADDRESS = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+")
SENDING = "sending through"


def address_of(target: str) -> str | None:
    """The email address in ``target`` (``mailto:`` and a display name allowed), or None."""
    _, address = parseaddr(target.strip().removeprefix("mailto:"))
    return address if ADDRESS.fullmatch(address) else None


def message_id(key: str) -> str:
    """The Message-ID every try of the same delivery carries."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@voxwatch>"


def build_message(delivery: Delivery, address: str, sender: str) -> EmailMessage:
    """The reply as a plain-text message; ValueError when a header would not be valid."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = delivery.subject or DEFAULT_SUBJECT
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(delivery.key)
    original = delivery.extra.get("message_id")
    if original:
        message["In-Reply-To"] = original
        message["References"] = original
    message.set_content(delivery.text)
    return message


class EmailPublisher:
    """Sends replies through an SMTP server (STARTTLS and login when configured)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 587,
        user: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = True,
        sender: str = "voxwatch@localhost",
        timeout: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.starttls = starttls
        self.sender = sender
        self.timeout = timeout

    def publish(self, delivery: Delivery) -> Posted:
        address = address_of(delivery.target)
        if address is None:
            raise PublishError(
                f"email: {about(delivery)}: the source gives no address to reply to "
                f"(target {delivery.target!r} is not an email address)"
            )
        try:
            message = build_message(delivery, address, self.sender)
        except (ValueError, TypeError) as exc:
            raise PublishError(f"email: the reply for {about(delivery)} cannot be written: {exc}") from None
        self.send(message, f"the reply for {about(delivery)} to {address}")
        return Posted(str(message["Message-ID"]), None)

    def find(self, delivery: Delivery) -> Posted | None:
        raise OutcomeUnknown(
            f"email: SMTP cannot tell whether an earlier try of the reply for {about(delivery)} "
            f"reached {delivery.target} (Message-ID {message_id(delivery.key)})"
        )

    def send(self, message: EmailMessage, what: str) -> None:
        """Send ``message`` (``what`` names it in errors); SMTP failures raised as ours."""
        stage = "connecting to"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    stage = "starting TLS with"
                    smtp.starttls()
                if self.user and self.password is not None:
                    stage = "logging in to"
                    smtp.login(self.user, self.password.get_secret_value())
                stage = SENDING
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._error(exc, stage, what) from None

    def _error(self, exc: Exception, stage: str, what: str) -> PublishError:
        """An SMTP failure as ours: 4xx and lost connections may pass, 5xx and the rest will not."""
        secrets = (self.password.get_secret_value() if self.password else None,)
        doing = f"email: {stage} {self.host}:{self.port} with {what}"
        code, reply = _reply(exc)
        if code is not None:
            kind = TransientPublishError if 400 <= code < 500 else PublishError
            return kind(redact(f"{doing}: the server answered {code} {reply}", secrets))
        name = type(exc).__name__
        if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
            return PublishError(redact(f"{doing}: {name}: {exc}", secrets))
        if stage == SENDING:
            return PossiblyPosted(redact(f"{doing}: {name} while sending; it may have gone out", secrets))
        return TransientPublishError(redact(f"{doing}: {name}: {exc}", secrets))


def _reply(exc: Exception) -> tuple[int | None, str]:
    """The SMTP reply code and text an exception carries (the first refused recipient's, if several)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, _text(exc.smtp_error)
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))
        return code, _text(text)
    return None, ""


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
