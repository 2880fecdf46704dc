"""What an approved reply becomes in the outbox: which channel carries it, to what, under which key.

The channel is the source's ``reply_via`` setting (manual when the source is
gone from settings or names none). The target is what that platform needs to
answer the right post: the post's own id for Mastodon and Bluesky, the
author's address for email, the post's link for a webhook relay or a person
posting by hand. The key names the case and the draft version, so the same
approved version is queued once however often "send" is pressed.
"""

from __future__ import annotations

from typing import Any

from voxwatch.domain import Outgoing
from voxwatch.errors import SettingsError
from voxwatch.settings import Settings

MANUAL = "manual"


def reply_channel(settings: Settings, source: str) -> str:
    try:
        return str(getattr(settings.source(source), "reply_via", MANUAL))
    except SettingsError:
        return MANUAL


def reply_target(channel: str, case: dict[str, Any]) -> str:
    if channel in ("mastodon", "bluesky"):
        return str(case["external_id"])
    if channel == "email":
        return str(case["author"] or "")
    return str(case["url"] or case["external_id"])


def reply_key(case_id: str, version: int) -> str:
    return f"reply-{case_id}-v{version}"


def reply_message(settings: Settings, case: dict[str, Any], draft: dict[str, Any]) -> Outgoing:
    """The outbox entry for ``draft`` (an approved version of ``case``'s reply)."""
    channel = reply_channel(settings, case["source"])
    return Outgoing(
        key=reply_key(case["id"], draft["version"]),
        kind="reply",
        channel=channel,
        target=reply_target(channel, case),
        body=draft["body"],
        case_id=case["id"],
        draft_version=draft["version"],
        subject=f"Re: your message to {settings.brand.name}",
        extra={
            "mention_url": case["url"] or "",
            "lang": draft["lang"] or "",
            "version": str(draft["version"]),
        },
        state="awaiting_link" if channel == MANUAL else "pending",
    )
