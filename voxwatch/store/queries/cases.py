"""Cases and hand-offs: opening, reading, changing and listing them, and each owner's load."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from voxwatch.domain import (
    CaseStatus,
    Routing,
)
from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows, set_clause

OPEN_STATUSES = tuple(s.value for s in CaseStatus if s not in (CaseStatus.CLOSED, CaseStatus.DISMISSED))


def open_load(conn: Connection) -> dict[str, int]:
    """Open cases per owner: the load that balancing looks at."""
    rows = conn.execute(
        "SELECT owner, count(*) FROM cases WHERE owner IS NOT NULL AND list_contains(?, status) "
        "GROUP BY owner",
        [list(OPEN_STATUSES)],
    ).fetchall()
    return {owner: count for owner, count in rows}


def insert_case(conn: Connection, case_id: str, routing: Routing, at: datetime) -> bool:
    """Create the case for a mention once; return False if it already had one."""
    dismissed = routing.validity_reason if routing.status is CaseStatus.DISMISSED else None
    inserted = conn.execute(
        "INSERT INTO cases (id, mention_id, tier, reasons, rule, team, owner, first_owner, status, "
        "dismissed_reason, first_response_due, resolution_due, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        [
            case_id,
            routing.mention_id,
            routing.tier.value,
            routing.reasons,
            routing.rule,
            routing.team,
            routing.owner,
            routing.owner,
            routing.status.value,
            dismissed,
            routing.first_response_due,
            routing.resolution_due,
            at,
            at,
        ],
    ).fetchall()
    return bool(inserted)


def inbox(conn: Connection, model_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Open cases, most urgent first (earliest first-response due time)."""
    return dict_rows(
        conn.execute(
            "SELECT c.id AS case_id, c.first_response_due, c.tier, c.status, c.owner, c.team, "
            "c.reasons, t.validity, m.source, m.url, m.author, m.lang, m.text, m.published_at, "
            "s.label, s.p_negative, s.themes, c.escalated_at, c.first_response_at, c.resolution_due "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "LEFT JOIN triage t ON t.mention_id = m.id "
            "LEFT JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
            "WHERE list_contains(?, c.status) "
            "ORDER BY c.first_response_due, c.id LIMIT ?",
            [model_id, list(OPEN_STATUSES), limit],
        )
    )


CASE_COLUMNS = frozenset(
    {
        "tier",
        "reasons",
        "team",
        "owner",
        "first_owner",
        "status",
        "dismissed_reason",
        "first_response_due",
        "resolution_due",
        "updated_at",
        "reply_url",
        "first_response_at",
        "followed_up_at",
        "follow_up_waived",
        "resolved_at",
        "escalated_at",
        "resolution_escalated_at",
    }
)


def get_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    found = dict_rows(
        conn.execute(
            "SELECT c.*, m.source, m.external_id, m.author, m.lang, m.text, m.url, m.published_at, "
            "t.validity, t.reason AS validity_reason, t.model_id, s.label, s.p_negative, s.p_neutral, "
            "s.p_positive, s.themes, (SELECT lc.label FROM label_corrections lc WHERE lc.mention_id = "
            " c.mention_id ORDER BY lc.corrected_at DESC LIMIT 1) AS corrected_label "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "LEFT JOIN triage t ON t.mention_id = c.mention_id "
            "LEFT JOIN scores s ON s.mention_id = c.mention_id AND s.model_id = t.model_id WHERE c.id = ?",
            [case_id],
        )
    )
    return found[0] if found else None


def update_case(conn: Connection, case_id: str, changes: dict[str, Any]) -> None:
    conn.execute(
        f"UPDATE cases SET {set_clause(changes, CASE_COLUMNS)} WHERE id = ?", [*changes.values(), case_id]
    )


def list_cases(
    conn: Connection,
    statuses: Sequence[str] | None = None,
    owner: str | None = None,
    team: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Cases, most urgent first, filtered by status, owner and team when given."""
    return dict_rows(
        conn.execute(
            "SELECT c.id, c.status, c.tier, c.owner, c.first_owner, c.team, c.first_response_due, "
            "c.escalated_at, m.source, m.author, m.lang, left(m.text, 120) AS excerpt "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "WHERE (? IS NULL OR list_contains(?, c.status)) AND (? IS NULL OR c.owner = ?) "
            "AND (? IS NULL OR c.team = ?) ORDER BY c.first_response_due, c.id LIMIT ?",
            [statuses, list(statuses or []), owner, owner, team, team, limit],
        )
    )


def overdue_cases(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Open cases past their first-response due time, with no first response, not yet escalated."""
    return dict_rows(
        conn.execute(
            "SELECT id, tier, reasons, owner, first_owner, team, first_response_due FROM cases "
            "WHERE list_contains(?, status) AND first_response_at IS NULL AND escalated_at IS NULL "
            "AND first_response_due < ? ORDER BY first_response_due",
            [list(OPEN_STATUSES), now],
        )
    )


def overdue_resolutions(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Open cases past their resolution due time whose resolution breach is not yet escalated.

    Apart from ``overdue_cases``: a case answered on time can still miss being resolved,
    and each target escalates once (``resolution_escalated_at``).
    """
    return dict_rows(
        conn.execute(
            "SELECT id, tier, reasons, owner, first_owner, team, resolution_due FROM cases "
            "WHERE list_contains(?, status) AND resolved_at IS NULL AND resolution_escalated_at IS NULL "
            "AND resolution_due < ? ORDER BY resolution_due, id",
            [list(OPEN_STATUSES), now],
        )
    )


def insert_handoff(
    conn: Connection,
    case_id: str,
    at: datetime,
    actor: str,
    from_team: str,
    to_team: str,
    from_owner: str | None,
    to_owner: str | None,
    reason: str,
) -> None:
    conn.execute(
        "INSERT INTO handoffs (case_id, occurred_at, actor, from_team, to_team, from_owner, to_owner, "
        "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [case_id, at, actor, from_team, to_team, from_owner, to_owner, reason],
    )


def handoffs(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    return dict_rows(conn.execute("SELECT * FROM handoffs WHERE case_id = ? ORDER BY id", [case_id]))


def pending_approvals(conn: Connection) -> list[dict[str, Any]]:
    """Drafts waiting for a comms lead, oldest first, with the mention beside them."""
    rows = dict_rows(
        conn.execute(
            "SELECT d.id AS draft_id, d.case_id, d.version, d.situation, d.lang, d.template_key, d.body, "
            "d.author AS drafted_by, d.created_at, d.findings, m.text AS mention, m.author, m.source, c.tier "
            "FROM drafts d JOIN cases c ON c.id = d.case_id JOIN mentions m ON m.id = c.mention_id "
            "WHERE d.state = 'pending_approval' ORDER BY d.created_at"
        )
    )
    for row in rows:
        row["findings"] = json.loads(row["findings"])
    return rows
