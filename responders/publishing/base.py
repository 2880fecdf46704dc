"""The shape every publisher has: ``publish`` posts once, ``find`` looks for an earlier post.

The outbox calls ``publish`` outside any store transaction. When an earlier
attempt's outcome is unknown (the process died between the platform's answer
and our commit, or the connection dropped after the request went out), it calls
``find`` first: a publisher that can look at the account's recent replies says
whether the reply is already there, so nothing is posted twice. One that cannot
look (plain SMTP) raises ``OutcomeUnknown`` and a person decides.

Errors: ``TransientPublishError`` (timeouts, 5xx, 429: retried with backoff),
``PublishError`` (refused for good: a 4xx, no address, no token), never a
library exception; messages pass through ``redact`` so no token leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """One message to put in public (a reply) or to send to the team (a notice)."""

    key: str  # the idempotency key: the same on every attempt for the same message
    channel: str  # "mastodon", "bluesky", "email", "webhook", "manual"
    target: str  # what we answer: a post's URI or URL, an email address, a recipient
    text: str
    case_id: str | None = None
    subject: str | None = None  # email subject, notice title
    extra: dict[str, str] = field(default_factory=dict)  # e.g. the mention's URL, the draft version


@dataclass(frozen=True)
class Posted:
    """Where the message landed: the platform's id, a link a person can open, and when it went up.

    ``posted_at`` is the platform's own time for the post, when it says: the first
    response counts from then, even if our record of it comes later (a retry that
    found the post after a crash).
    """

    external_id: str | None
    url: str | None
    posted_at: datetime | None = None


class Publisher(Protocol):
    name: str

    def publish(self, delivery: Delivery) -> Posted:
        """Post ``delivery`` once; raise TransientPublishError or PublishError on failure."""
        ...

    def find(self, delivery: Delivery) -> Posted | None:
        """An earlier post of ``delivery`` if the platform shows one, else None.

        Raises OutcomeUnknown when the platform gives no way to tell.
        """
        ...


def redact(message: str, secrets: Iterable[str | None]) -> str:
    """``message`` with every secret (token, password, secret URL) replaced by ``***``."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message
