"""The last check before anything is published: only a draft a comms lead approved leaves.

Kept apart from the publishers (which take a ``Delivery`` and trust the outbox
that built it) so any path that starts from a draft can refuse an unapproved one
with the same words.
"""

from __future__ import annotations

from typing import Any

from voxwatch.errors import UnapprovedText


def ensure_approved(draft: dict[str, Any]) -> None:
    """Raise ``UnapprovedText`` unless ``draft`` is approved and says by whom."""
    if draft.get("state") != "approved" or not draft.get("decided_by"):
        state = draft.get("state", "unknown")
        raise UnapprovedText(f"draft {draft.get('id', '?')} is {state}, not approved: refusing to publish")
