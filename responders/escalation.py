"""SLA breaches escalate: priority raised, supervisors told, the case marked.

Escalation happens once per case and target: a missed first response once
(``escalated_at``), a missed resolution once (``resolution_escalated_at``). The
supervisors' notice is queued in the outbox in the same transaction as the
escalation and delivered after it (``responders.outbox``), so a failed or
interrupted notice never undoes an escalation, and is never lost to a crash.
(Urgent new cases are announced by ``responders.alerts``, queued with the case.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from responders.notify import notice_messages
from voxwatch.domain import SYSTEM_ACTOR, Notice, Tier, case_number_label
from voxwatch.permissions import Action
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for
from voxwatch.store.database import Connection


class Target(NamedTuple):
    """One SLA target whose breach escalates, once per case, as recorded in ``marker``."""

    name: str  # "first_response" or "resolution": returned with each escalated case
    due: str  # the case column holding the due time
    marker: str  # the case column set when the breach was escalated
    missing: str  # what the customer has not had, for people to read
    event: str  # the notification event
    overdue: Callable[[Connection, datetime], list[dict[str, Any]]]


FIRST_RESPONSE = Target(
    "first_response",
    "first_response_due",
    "escalated_at",
    "first response",
    "sla_breach",
    queries.overdue_cases,
)
RESOLUTION = Target(
    "resolution",
    "resolution_due",
    "resolution_escalated_at",
    "resolution",
    "resolution_breach",
    queries.overdue_resolutions,
)


def escalate_overdue(settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """Escalate every open case past its first-response or resolution due time; return them.

    Each escalated case comes back once per breached target, with ``target`` naming it.
    Resolution breaches are read after first-response ones are written, so a case that
    breaches both in one run keeps both reasons.
    """
    now = now or datetime.now(UTC)
    supervisors = [p.email for p in settings.people_who_may(Action.HEAR_ABOUT_BREACHES) if p.email]

    def _write(conn: Connection) -> list[dict[str, Any]]:
        escalated: list[dict[str, Any]] = []
        for target in (FIRST_RESPONSE, RESOLUTION):
            for case in target.overdue(conn, now):
                _escalate(conn, case, target, now)
                escalated.append({**case, "target": target.name})
                notice = _breach_notice(escalated[-1])
                for message in notice_messages(notice, settings.notifications, supervisors):
                    queries.enqueue(conn, message, now)
        return escalated

    return store_for(settings).write(_write)


def _breach_reason(case: dict[str, Any], target: Target) -> str:
    return f"SLA breached: {target.missing} was due {case[target.due]:%Y-%m-%d %H:%M} UTC"


def _escalate(conn: Connection, case: dict[str, Any], target: Target, now: datetime) -> None:
    """Raise the case to urgent, mark the breach escalated, and audit it as the system."""
    reason = _breach_reason(case, target)
    changes = {
        "tier": Tier.URGENT.value,
        "reasons": [*case["reasons"], reason],
        target.marker: now,
        "updated_at": now,
    }
    queries.update_case(conn, case["id"], changes)
    after = {"tier": Tier.URGENT.value, "reason": reason}
    if target is RESOLUTION:
        after["target"] = target.name
    queries.append_audit(
        conn, now, SYSTEM_ACTOR, "case", case["id"], "escalated", {"tier": case["tier"]}, after
    )


def _breach_notice(case: dict[str, Any]) -> Notice:
    target = RESOLUTION if case["target"] == RESOLUTION.name else FIRST_RESPONSE
    label = "SLA breached" if target is FIRST_RESPONSE else "Resolution SLA breached"
    still = "has had none" if target is FIRST_RESPONSE else "is not resolved"
    name = case_number_label(case["number"]) if case.get("number") is not None else case["id"]
    return Notice(
        event=target.event,
        subject=f"[VoxWatch] {label} on {name} ({case['team']})",  # the number people search for
        text=(
            f"Case {name} owned by {case['owner'] or 'nobody'} "
            f"(accountable: {case['first_owner'] or 'nobody'}) had its {target.missing} due "
            f"{case[target.due]:%Y-%m-%d %H:%M} UTC and {still}. It is now urgent."
        ),
        case_id=case["id"],
    )
