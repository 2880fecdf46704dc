"""Which notices a new case calls for: an urgent case is announced to the channel and its owner.

Pure, like ``decide``: the notices travel with the decision and are queued in the
outbox in the transaction that opens the case, so opening the case and promising
to tell someone about it happen together or not at all.
"""

from __future__ import annotations

from responders.notify import notice_messages
from voxwatch.domain import CaseStatus, Notice, Outgoing, Routing, Tier, case_id_for
from voxwatch.settings import Settings


def urgent_notice(routing: Routing) -> Notice:
    return Notice(
        event="urgent_case",
        subject=f"[VoxWatch] urgent case for {routing.owner or routing.team}",
        text=(
            f"Why: {'; '.join(routing.reasons)}. Team {routing.team}, "
            f"owner {routing.owner or 'unassigned'}, "
            f"first response due {routing.first_response_due:%Y-%m-%d %H:%M %Z}."
        ),
        case_id=case_id_for(routing.mention_id),
    )


def new_case_messages(settings: Settings, routing: Routing | None) -> tuple[Outgoing, ...]:
    """The messages opening ``routing``'s case calls for: none unless it is urgent and open."""
    if routing is None or routing.tier is not Tier.URGENT or routing.status is CaseStatus.DISMISSED:
        return ()
    emails = [p.email for p in settings.responders if p.name == routing.owner and p.email]
    return tuple(notice_messages(urgent_notice(routing), settings.notifications, emails))
