"""Triage: scored mentions not yet triaged (with what triage needs), and triage records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from voxwatch.domain import (
    RoutingCandidate,
    Score,
    TriageRecord,
)
from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups
from voxwatch.store.queries.followups import with_answered_cases
from voxwatch.store.queries.mentions import _MENTION_COLUMNS, _stored_mention
from voxwatch.store.queries.rollups import count_complaints
from voxwatch.store.queries.rows import insert_many


def untriaged(
    conn: Connection,
    model_id: str,
    threshold: float,
    follow_up_window: timedelta | None = None,
    source: str | None = None,
) -> list[RoutingCandidate]:
    """Scored mentions without a triage, oldest first, with the author's earlier complaints.

    With ``follow_up_window`` (the route flow passes ``[sla] follow_up_window_hours``),
    each also carries the author's answered case it follows up, if any
    (``with_answered_cases``); without it none does, as for a dry run. With ``source``,
    only that source's mentions: a source's pipeline run routes its own.
    """
    rows = conn.execute(
        f"SELECT {_MENTION_COLUMNS}, s.label, s.p_negative, s.p_neutral, s.p_positive, s.themes, "
        "(SELECT count(*) FROM mentions p JOIN scores ps ON ps.mention_id = p.id AND ps.model_id = ? "
        " WHERE p.source = m.source AND p.author = m.author AND p.id <> m.id "
        "   AND ps.p_negative >= ? AND coalesce(p.published_at, p.collected_at) "
        "       < coalesce(m.published_at, m.collected_at)) AS prior, "
        "(SELECT min(f.collected_at) FROM mentions f WHERE f.source = m.source) AS watch_started "
        "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
        "WHERE NOT EXISTS (SELECT 1 FROM triage t WHERE t.mention_id = m.id) "
        "AND (?::VARCHAR IS NULL OR m.source = ?) "
        "ORDER BY coalesce(m.published_at, m.collected_at), m.id",
        [model_id, threshold, model_id, source, source],
    ).fetchall()
    found = [
        RoutingCandidate(
            mention=_stored_mention(row[:10]),
            score=Score(
                label=row[10],
                probs={"negative": row[11], "neutral": row[12], "positive": row[13]},
                model_id=model_id,
                themes=tuple(row[14]),
            ),
            prior_negatives=int(row[15]),
            watch_started_at=row[16],
        )
        for row in rows
    ]
    return found if follow_up_window is None else with_answered_cases(conn, found, follow_up_window)


def insert_triage(conn: Connection, record: TriageRecord, at: datetime) -> None:
    insert_triages(conn, [record], at)


def insert_triages(conn: Connection, records: Sequence[TriageRecord], at: datetime) -> None:
    """Each mention's triage, once (a record for a mention triaged before is skipped)."""
    once = {r.mention_id: r for r in reversed(records)}  # the first record of a mention wins
    rows = [
        [r.mention_id, r.model_id, r.validity.value, r.reason, r.tier.value, r.reasons, at]
        for r in records
        if once.get(r.mention_id) is r
    ]
    # A case opened before its mention's triage (not the stages' order) counts as a complaint now.
    with kpi_rollups.recounted(conn, kpi_rollups.cases_of_mentions(conn, list(once))):
        stored = insert_many(
            conn,
            "INSERT INTO triage",
            rows,
            "(?, ?, ?, ?, ?, ?, ?)",
            "ON CONFLICT DO NOTHING RETURNING mention_id",
        )
    count_complaints(conn, [mention_id for (mention_id,) in stored], 1)
