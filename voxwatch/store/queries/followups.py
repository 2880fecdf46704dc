"""Follow-ups: answered cases a new mention may follow up, the links made, and a case's next mentions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from voxwatch.domain import (
    AnsweredCase,
    CaseStatus,
    FollowUp,
    FollowUpOutcome,
    RoutingCandidate,
    latest_answered,
    normalise_author,
)
from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups
from voxwatch.store.queries.rows import dict_rows

# (source, normalised author) -> that author's answered cases on that source
Answered = dict[tuple[str, str], list[AnsweredCase]]


def answered_cases(conn: Connection, sources: Sequence[str], since: datetime, until: datetime) -> Answered:
    """Cases on ``sources`` whose reply was posted in ``[since, until]``, by author.

    Authors are matched as ``normalise_author`` matches them ("@Pat" is "pat"), in
    Python as erasure does, so SQL and Python can never disagree on who is who. A
    dismissed case was judged not worth answering and is never followed up.
    """
    rows = conn.execute(
        "SELECT c.id, c.status, c.owner, c.first_response_at, m.source, m.author "
        "FROM cases c JOIN mentions m ON m.id = c.mention_id "
        "WHERE c.first_response_at IS NOT NULL AND c.status <> 'dismissed' AND m.author IS NOT NULL "
        "AND m.source = ANY(?) AND c.first_response_at BETWEEN ? AND ?",
        [list(sources), since, until],
    ).fetchall()
    found: Answered = {}
    for case_id, status, owner, replied_at, source, author in rows:
        key = normalise_author(author)
        if key is not None:
            case = AnsweredCase(case_id, CaseStatus(status), owner, replied_at)
            found.setdefault((source, key), []).append(case)
    return found


def with_answered_cases(
    conn: Connection, candidates: list[RoutingCandidate], window: timedelta
) -> list[RoutingCandidate]:
    """``candidates`` with the answered case each follows up (the latest reply within ``window``)."""
    said = [c.said_at for c in candidates]
    if not said:
        return candidates
    sources = sorted({c.mention.source for c in candidates})
    answered = answered_cases(conn, sources, min(said) - window, max(said))
    out = []
    for candidate in candidates:
        key = normalise_author(candidate.mention.author)
        mine = answered.get((candidate.mention.source, key), []) if key is not None else []
        case = latest_answered(mine, candidate.said_at, window)
        out.append(candidate if case is None else replace(candidate, answered_case=case))
    return out


def insert_follow_up(conn: Connection, follow_up: FollowUp, outcome: FollowUpOutcome, at: datetime) -> bool:
    """Link the mention to its case once; False if it was linked already (nothing is changed then)."""
    with kpi_rollups.recounted(conn, [follow_up.case_id]):  # service recovery reads the case's next post
        inserted = conn.execute(
            "INSERT INTO case_followups VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING mention_id",
            [follow_up.mention_id, follow_up.case_id, follow_up.label, outcome.value, follow_up.said_at, at],
        ).fetchall()
    return bool(inserted)


def case_follow_ups(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """The author's next mentions linked to a case, oldest first, with a person's label correction."""
    return dict_rows(
        conn.execute(
            "SELECT f.mention_id, f.said_at, f.label, (SELECT lc.label FROM label_corrections lc "
            " WHERE lc.mention_id = f.mention_id ORDER BY lc.corrected_at DESC LIMIT 1) AS corrected_label, "
            "f.outcome, f.linked_at, m.text, m.url "
            "FROM case_followups f JOIN mentions m ON m.id = f.mention_id "
            "WHERE f.case_id = ? ORDER BY f.said_at, f.mention_id",
            [case_id],
        )
    )
