"""Spikes: negative counts per 24-hour window, the examples of a window, and recorded spikes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries.analytics import AT
from voxwatch.store.queries.rows import dict_rows


def negative_counts_per_window(conn: Connection, model_id: str, end: datetime, windows: int) -> list[int]:
    """Negative mentions in each 24 h window ending at ``end``: newest first."""
    rows = conn.execute(
        f"SELECT floor(extract(epoch FROM ?::TIMESTAMPTZ - {AT}) / 86400)::INTEGER AS w, count(*) "
        "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? AND s.label = 'negative' "
        f"WHERE {AT} > ?::TIMESTAMPTZ - ?::INTEGER * INTERVAL '1 day' "
        f"AND {AT} <= ? GROUP BY w",
        [end, model_id, end, windows, end],
    ).fetchall()
    counts = dict(rows)
    return [int(counts.get(w, 0)) for w in range(windows)]


def window_negatives(
    conn: Connection, model_id: str, start: datetime, end: datetime, limit: int
) -> dict[str, Any]:
    """The themes and the most negative mentions of one window, for a spike notice."""
    where = (
        "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? AND s.label = 'negative' "
        f"WHERE {AT} > ? AND {AT} <= ? "
    )
    themes = conn.execute(
        f"SELECT theme, count(*) AS n FROM (SELECT unnest(s.themes) AS theme {where}) AS tagged "
        "GROUP BY theme ORDER BY n DESC, theme LIMIT 5",
        [model_id, start, end],
    ).fetchall()
    examples = dict_rows(
        conn.execute(
            f"SELECT m.id, m.source, m.author, m.text, m.url {where} "
            "ORDER BY s.p_negative DESC, m.id LIMIT ?",
            [model_id, start, end, limit],
        )
    )
    return {"themes": [{"theme": t, "mentions": n} for t, n in themes], "examples": examples}


def latest_spike(conn: Connection) -> dict[str, Any] | None:
    rows = dict_rows(conn.execute("SELECT * FROM spikes ORDER BY detected_at DESC LIMIT 1"))
    return rows[0] if rows else None


def insert_spike(conn: Connection, spike: dict[str, Any]) -> int:
    row = conn.execute(
        "INSERT INTO spikes (detected_at, window_start, window_end, mentions, baseline_mean, baseline_sd, "
        "threshold, themes, examples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [
            spike["detected_at"],
            spike["window_start"],
            spike["window_end"],
            spike["mentions"],
            spike["baseline_mean"],
            spike["baseline_sd"],
            spike["threshold"],
            json.dumps(spike["themes"]),
            json.dumps(spike["examples"], default=str),
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def recent_spikes(conn: Connection, since: datetime) -> list[dict[str, Any]]:
    return dict_rows(
        conn.execute("SELECT * FROM spikes WHERE detected_at >= ? ORDER BY detected_at", [since])
    )


def spikes_between(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    return dict_rows(
        conn.execute(
            "SELECT * FROM spikes WHERE detected_at >= ? AND detected_at < ? ORDER BY detected_at",
            [since, until],
        )
    )
