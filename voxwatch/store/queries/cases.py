"""Cases and hand-offs: opening, reading, changing and listing them, and each owner's load."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from voxwatch.domain import (
    CaseStatus,
    Routing,
    case_number_label,
    parse_case_number,
)
from voxwatch.errors import AmbiguousCase
from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups
from voxwatch.store.queries.rows import dict_rows, insert_many, set_clause

OPEN_STATUSES = tuple(s.value for s in CaseStatus if s not in (CaseStatus.CLOSED, CaseStatus.DISMISSED))
# An open case in SQL, spelled out (our own constants, never input) as Postgres's partial
# index of open cases (migration 11) is, so the planner can use it where a parameter hides the list.
OPEN = "status IN ({})".format(", ".join(f"'{status}'" for status in OPEN_STATUSES))


def open_load(conn: Connection) -> dict[str, int]:
    """Open cases per owner: the load that balancing looks at."""
    rows = conn.execute(
        f"SELECT owner, count(*) FROM cases WHERE owner IS NOT NULL AND {OPEN} GROUP BY owner"
    ).fetchall()
    return {owner: count for owner, count in rows}


def insert_case(conn: Connection, case_id: str, routing: Routing, at: datetime) -> bool:
    """Create the case for a mention once, with the next case number; False if it already had one."""
    return case_id in insert_cases(conn, [(case_id, routing)], at)


def insert_cases(conn: Connection, cases: Sequence[tuple[str, Routing]], at: datetime) -> set[str]:
    """Create each mention's case once, numbered in the order given; the ids created now.

    A number is drawn only for a case that is really new: routing the same mention
    again must neither renumber its case nor use up a number (no gaps from reruns),
    so the cases already there are read first, in one query for the batch.
    """
    wanted: dict[str, Routing] = {}
    mentions: set[str] = set()
    for case_id, routing in cases:  # one case per id and per mention, the first given
        if case_id not in wanted and routing.mention_id not in mentions:
            wanted[case_id] = routing
            mentions.add(routing.mention_id)
    if not wanted:
        return set()
    there = conn.execute(
        "SELECT id, mention_id FROM cases WHERE id = ANY(?) OR mention_id = ANY(?)",
        [list(wanted), [r.mention_id for r in wanted.values()]],
    ).fetchall()
    taken = {value for row in there for value in row}
    rows = [
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
            routing.validity_reason if routing.status is CaseStatus.DISMISSED else None,
            routing.first_response_due,
            routing.resolution_due,
            at,
            at,
        ]
        for case_id, routing in wanted.items()
        if case_id not in taken and routing.mention_id not in taken
    ]
    created = insert_many(
        conn,
        "INSERT INTO cases (id, mention_id, tier, reasons, rule, team, owner, first_owner, status, "
        "dismissed_reason, first_response_due, resolution_due, created_at, updated_at, number)",
        rows,
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, nextval('case_number'))",
        "ON CONFLICT DO NOTHING RETURNING id",
    )
    new = [case_id for (case_id,) in created]
    kpi_rollups.count_cases(conn, new, 1)  # the KPI rollups move with the cases, in this transaction
    return set(new)


_LARGEST_NUMBER = 2**63 - 1  # BIGINT: anything longer is no case number, and no error either
# At most this many candidates are named when an id prefix fits several cases.
_CANDIDATES_SHOWN = 10


def find_case_id(conn: Connection, ref: str) -> str | None:
    """The id of the case ``ref`` names, however a person wrote it; None when none fits.

    Accepted: a case number (``VW-1042``, ``vw-1042``, ``1042``), a full id
    (``case-ab3e...``), or the start of an id, with or without ``case-``, that fits
    exactly one case. Bare digits are always a number, never an id's start (write
    ``case-1234`` for that): what a person typed means one thing, whatever is stored.
    A start that fits several cases raises ``AmbiguousCase`` naming them (number and
    id), so a person can pick one.
    """
    text = ref.strip()
    number = parse_case_number(text)
    if number is not None:
        if number > _LARGEST_NUMBER:
            return None
        found = conn.execute("SELECT id FROM cases WHERE number = ?", [number]).fetchone()
        return str(found[0]) if found is not None else None
    if not text:
        return None
    prefix = text if text.startswith("case-") else f"case-{text}"
    fits = conn.execute(
        "SELECT id, number FROM cases WHERE starts_with(id, ?) ORDER BY id = ? DESC, number, id LIMIT ?",
        [prefix, prefix, _CANDIDATES_SHOWN + 1],
    ).fetchall()
    if not fits:
        return None
    if len(fits) == 1 or fits[0][0] == prefix:  # a full id wins over the longer ids it starts
        return str(fits[0][0])
    raise AmbiguousCase(ref, [_candidate(case_id, number) for case_id, number in fits[:_CANDIDATES_SHOWN]])


def _candidate(case_id: str, number: int | None) -> str:
    return f"{case_number_label(number)} ({case_id})" if number is not None else case_id


def inbox(conn: Connection, model_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Open cases, most urgent first (earliest first-response due time).

    The page's cases are picked first and only they are joined to their mention,
    triage and score: joining every open case first read millions of rows for
    200 (half the page's time at 2,000,000 mentions on DuckDB).
    """
    return dict_rows(
        conn.execute(
            "SELECT c.id AS case_id, c.number, c.first_response_due, c.tier, c.status, c.owner, c.team, "
            "c.reasons, t.validity, m.source, m.url, m.author, m.lang, m.text, m.published_at, "
            "s.label, s.p_negative, s.themes, c.escalated_at, c.first_response_at, c.resolution_due "
            f"FROM (SELECT * FROM cases WHERE {OPEN} ORDER BY first_response_due, id LIMIT ?) AS c "
            "JOIN mentions m ON m.id = c.mention_id "
            "LEFT JOIN triage t ON t.mention_id = c.mention_id "
            "LEFT JOIN scores s ON s.mention_id = c.mention_id AND s.model_id = ? "
            "ORDER BY c.first_response_due, c.id",
            [limit, model_id],
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
    """The case with its mention, triage and score (``number`` among its columns), by exact id."""
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


# What a case's KPIs are computed from (kpi_rollups): changing one moves its opening day's counts.
KPI_INPUTS = frozenset({"status", "first_response_at", "first_response_due", "resolved_at", "created_at"})


def update_case(conn: Connection, case_id: str, changes: dict[str, Any]) -> None:
    moved = [case_id] if KPI_INPUTS & changes.keys() else []
    with kpi_rollups.recounted(conn, moved):
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
            "SELECT c.id, c.number, c.status, c.tier, c.owner, c.first_owner, c.team, c.first_response_due, "
            "c.escalated_at, m.source, m.author, m.lang, left(m.text, 120) AS excerpt "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "WHERE (?::VARCHAR[] IS NULL OR c.status = ANY(?)) AND (?::VARCHAR IS NULL OR c.owner = ?) "
            "AND (?::VARCHAR IS NULL OR c.team = ?) ORDER BY c.first_response_due, c.id LIMIT ?",
            [statuses, list(statuses or []), owner, owner, team, team, limit],
        )
    )


def overdue_cases(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Open cases past their first-response due time, with no first response, not yet escalated."""
    return dict_rows(
        conn.execute(
            "SELECT id, number, tier, reasons, owner, first_owner, team, first_response_due FROM cases "
            f"WHERE {OPEN} AND first_response_at IS NULL AND escalated_at IS NULL "
            "AND first_response_due < ? ORDER BY first_response_due",
            [now],
        )
    )


def overdue_resolutions(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Open cases past their resolution due time whose resolution breach is not yet escalated.

    Apart from ``overdue_cases``: a case answered on time can still miss being resolved,
    and each target escalates once (``resolution_escalated_at``).
    """
    return dict_rows(
        conn.execute(
            "SELECT id, number, tier, reasons, owner, first_owner, team, resolution_due FROM cases "
            f"WHERE {OPEN} AND resolved_at IS NULL AND resolution_escalated_at IS NULL "
            "AND resolution_due < ? ORDER BY resolution_due, id",
            [now],
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
            "d.author AS drafted_by, d.created_at, d.findings, m.text AS mention, m.author, m.source, "
            "c.tier, c.number "
            "FROM drafts d JOIN cases c ON c.id = d.case_id JOIN mentions m ON m.id = c.mention_id "
            "WHERE d.state = 'pending_approval' ORDER BY d.created_at"
        )
    )
    for row in rows:
        row["findings"] = json.loads(row["findings"])
    return rows
