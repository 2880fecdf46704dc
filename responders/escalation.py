"""Urgent cases are announced; SLA breaches escalate: priority raised, supervisors told, the case marked.

Escalation happens once per case (``escalated_at``), and telling people happens
after the store is updated, so a notification failure never undoes or blocks it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from responders.notify import Notifier
from voxwatch.domain import SYSTEM_ACTOR, CaseStatus, Notice, Routing, Tier, case_id_for
from voxwatch.permissions import Action
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for
from voxwatch.store.database import Connection


def announce_urgent_cases(settings: Settings, created: list[Routing]) -> int:
    """Tell the comms channel (and the owner by email) about each new urgent case; return how many."""
    notifier = Notifier(settings.notifications, store_for(settings))
    emails = {p.name: p.email for p in settings.responders if p.email}
    urgent = [r for r in created if r.tier is Tier.URGENT and r.status is not CaseStatus.DISMISSED]
    for routing in urgent:
        notifier.notify(
            Notice(
                event="urgent_case",
                subject=f"[VoxWatch] urgent case for {routing.owner or routing.team}",
                text=(
                    f"Why: {'; '.join(routing.reasons)}. Team {routing.team}, "
                    f"owner {routing.owner or 'unassigned'}, "
                    f"first response due {routing.first_response_due:%Y-%m-%d %H:%M} UTC."
                ),
                case_id=case_id_for(routing.mention_id),
            ),
            emails=[emails[routing.owner]] if routing.owner in emails else [],
        )
    return len(urgent)


def escalate_overdue(settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """Escalate every open case past its first-response due time; return them."""
    now = now or datetime.now(UTC)
    store = store_for(settings)

    def _write(conn: Connection) -> list[dict[str, Any]]:
        overdue = queries.overdue_cases(conn, now)
        for case in overdue:
            reason = f"SLA breached: first response was due {case['first_response_due']:%Y-%m-%d %H:%M} UTC"
            changes = {
                "tier": Tier.URGENT.value,
                "reasons": [*case["reasons"], reason],
                "escalated_at": now,
                "updated_at": now,
            }
            queries.update_case(conn, case["id"], changes)
            queries.append_audit(
                conn,
                now,
                SYSTEM_ACTOR,
                "case",
                case["id"],
                "escalated",
                {"tier": case["tier"]},
                {"tier": Tier.URGENT.value, "reason": reason},
            )
        return overdue

    escalated = store.write(_write)
    if escalated:
        supervisors = [p.email for p in settings.people_who_may(Action.HEAR_ABOUT_BREACHES) if p.email]
        notifier = Notifier(settings.notifications, store)
        for case in escalated:
            notifier.notify(
                Notice(
                    event="sla_breach",
                    subject=f"[VoxWatch] SLA breached on {case['id']} ({case['team']})",
                    text=(
                        f"Case {case['id']} owned by {case['owner'] or 'nobody'} "
                        f"(accountable: {case['first_owner'] or 'nobody'}) had its first response due "
                        f"{case['first_response_due']:%Y-%m-%d %H:%M} UTC and has had none. It is now urgent."
                    ),
                    case_id=case["id"],
                ),
                emails=supervisors,
            )
    return escalated
