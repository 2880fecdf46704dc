"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives and fails on demand.

``fail_at("RCPT" | "DATA", "451 4.3.0 Try again later")`` answers the next such
command with that reply; ``delay`` holds DATA for that many seconds (longer than
the client's timeout: the message arrives, the answer does not). With ``user`` and
``password`` set it requires AUTH (over plain text: the tests have no TLS), and
answers a wrong password with ``auth_failure``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def _platform_log(record: logging.LogRecord) -> bool:
    """The server's own protocol log (every line it sends) is the platform's, not ours: it is
    kept out of the tests' captured logs, which check what our code logs."""
    return False


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class FakeSmtp:
    user: str | None = None
    password: str | None = None
    auth_failure: str = "535 5.7.8 Authentication credentials invalid"
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)
    port: int = 0

    def fail_at(self, command: str, reply: str, times: int = 1) -> None:
        self.faults.setdefault(command, []).extend([reply] * times)

    def _fault(self, command: str) -> str | None:
        queued = self.faults.get(command) or []
        return queued.pop(0) if queued else None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        fault = self._fault("RCPT")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault = self._fault("DATA")
        if fault:
            return fault
        message = cast(EmailMessage, message_from_bytes(envelope.original_content, policy=policy.default))
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        return (
            AuthResult(success=True)
            if ok
            else AuthResult(success=False, handled=False, message=self.auth_failure)
        )

    def controller(self) -> Controller:
        server_log = logging.getLogger("mail.log")
        if _platform_log not in server_log.filters:
            server_log.addFilter(_platform_log)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        auth: dict[str, Any] = {}
        if self.user:
            auth = {"authenticator": self.authenticate, "auth_require_tls": False, "auth_required": True}
        return Controller(self, hostname="127.0.0.1", port=self.port, **auth)
