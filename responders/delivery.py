"""Wiring the outbox to settings: which client carries each message, and who hears of a failed reply.

Replies go through the publisher their channel names (``responders.publishing``);
notices through the team's channels (``responders.notify``). A reply given up
for good tells its owner (and the comms channel), through the outbox as well.
"""

from __future__ import annotations

from typing import Any

from responders.notify import notice_messages, notice_publisher, secrets_of
from responders.outbox import Clock, Outbox
from responders.publishing import factory
from responders.publishing.base import Publisher
from voxwatch.domain import Notice, Outgoing
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for


def _publisher(settings: Settings, entry: dict[str, Any]) -> Publisher:
    if entry["kind"] == "notice":
        return notice_publisher(settings.notifications, entry["channel"])
    return factory.publisher_for(entry["channel"], settings)


def failure_notices(settings: Settings, entry: dict[str, Any], error: str) -> list[Outgoing]:
    """A reply given up for good: tell its owner by email and the comms channel."""
    case_id = entry["case_id"]
    case = store_for(settings).read(lambda conn: queries.get_case(conn, case_id)) if case_id else None
    owner = next((p for p in settings.responders if case and p.name == case["owner"]), None)
    notice = Notice(
        event="publish_failed",
        subject=f"[VoxWatch] the reply to case {case_id} could not be posted",
        text=f"Channel {entry['channel']}, draft v{entry['draft_version']}: {error}. "
        "Post it by hand and record the link on the case, or send it again.",
        case_id=case_id,
    )
    return notice_messages(notice, settings.notifications, [owner.email] if owner and owner.email else [])


def secrets(settings: Settings) -> tuple[str, ...]:
    """Every secret value in settings, for redacting errors before they are logged or stored."""
    return secrets_of(settings.notifications) + factory.secrets_of(settings)


def outbox_for(settings: Settings, clock: Clock) -> Outbox:
    """An outbox for one round of delivery: one client per channel, so a Bluesky login is reused."""
    clients: dict[tuple[str, str], Publisher] = {}

    def publisher_for(entry: dict[str, Any]) -> Publisher:
        which = (entry["kind"], entry["channel"])
        if which not in clients:
            clients[which] = _publisher(settings, entry)
        return clients[which]

    return Outbox(
        store_for(settings),
        publisher_for,
        clock,
        secrets=secrets(settings),
        on_failure=lambda entry, error: failure_notices(settings, entry, error),
        max_attempts={"notice": settings.notifications.retries},
    )
