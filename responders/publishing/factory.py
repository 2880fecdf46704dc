"""Which publisher carries a reply: chosen by the channel a source's ``reply_via`` names.

``responders.delivery`` calls ``publisher_for(channel, settings)`` for every reply
in the outbox, and ``secrets_of(settings)`` for what to redact from errors.
"""

from __future__ import annotations

from responders.publishing.base import Publisher
from voxwatch.errors import PublishError
from voxwatch.settings import Settings


def publisher_for(channel: str, settings: Settings) -> Publisher:
    """The client for ``channel``, configured from settings; PublishError when it cannot be."""
    raise PublishError(f"no publisher for channel {channel!r} yet")


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """The publishing secrets in settings (tokens, passwords, secret URLs), for redaction."""
    return ()
