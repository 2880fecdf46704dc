"""Two refinements of ``voxwatch.errors``' publishing errors that callers can act on.

``Refused`` keeps the platform's HTTP status and error name, so a publisher can
tell "no such record" (nothing posted yet) from "bad token" without parsing
messages. ``PossiblyPosted`` marks a transient failure after the request went
out (a read timeout, a dropped connection): the post may be there, so whoever
retries should look (``Publisher.find``) before posting again. Both are still
the errors the outbox already handles, so nothing has to know about them.
"""

from __future__ import annotations

from responders.publishing.base import Delivery
from voxwatch.errors import PublishError, TransientPublishError


class Refused(PublishError):
    """The platform said no for good (a 4xx): ``status`` and ``code`` are its own words for why."""

    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class PossiblyPosted(TransientPublishError):
    """The request went out and no answer came back: it may have landed; look before retrying."""


def about(delivery: Delivery) -> str:
    """How an error names the message: by its case when it has one, else by its key."""
    return f"case {delivery.case_id}" if delivery.case_id else f"message {delivery.key}"
