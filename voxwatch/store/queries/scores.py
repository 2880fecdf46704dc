"""The model's scores per mention and model version, and people's corrections kept beside them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from voxwatch.domain import (
    Score,
)
from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups
from voxwatch.store.queries.rollups import count_scores
from voxwatch.store.queries.rows import insert_many


def insert_scores(conn: Connection, scored: Iterable[tuple[str, Score]], at: datetime) -> int:
    rows = [
        [
            mid,
            s.model_id,
            s.label,
            s.probs["negative"],
            s.probs["neutral"],
            s.probs["positive"],
            list(s.themes),
            at,
        ]
        for mid, s in scored
    ]
    stored = insert_many(
        conn,
        "INSERT INTO scores",
        rows,
        "(?, ?, ?, ?, ?, ?, ?, ?)",
        "ON CONFLICT DO NOTHING RETURNING mention_id, model_id",
    )
    by_model: dict[str, list[str]] = {}
    for mention_id, model_id in stored:
        by_model.setdefault(model_id, []).append(mention_id)
    for model_id, mention_ids in by_model.items():  # the day's counts move with the rows, in this transaction
        count_scores(conn, mention_ids, 1, model_id)
    return len(rows)


def insert_label_correction(
    conn: Connection, mention_id: str, model_id: str, label: str, actor: str, at: datetime
) -> None:
    # A corrected follow-up changes its case's service recovery.
    with kpi_rollups.recounted(conn, kpi_rollups.cases_of_mentions(conn, [mention_id])):
        conn.execute(
            "INSERT INTO label_corrections VALUES (?, ?, ?, ?, ?)", [mention_id, model_id, label, actor, at]
        )
