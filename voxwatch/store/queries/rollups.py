"""Per-day counts kept as rows arrive and leave (migration 10), and the reads that use them.

The trends page read every scored mention of its period each time (0.9 s at a
million mentions, ten times that at ten million). The counts it needs are kept
per UTC day instead, changed in the same transaction as the rows they count:
``count_scores`` when scores are stored, ``count_complaints`` when triage is,
and both with ``sign=-1`` before an erasure deletes them. So a rollup is never
ahead of or behind its rows (``tests/test_rollups.py`` counts the rows to check).

Reads use a rollup only for whole UTC days; a period starting or ending inside
a day (the monthly report in a business time zone) counts the rows themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from voxwatch.store.database import Connection

# The UTC day a mention happened on (queries.analytics.AT); sessions run in UTC on both engines.
DAY = "date_trunc('day', coalesce(m.published_at, m.collected_at))"
# A complaint from someone who complained before (routing's reason), among a triage's reasons.
REPEAT_COMPLAINT = (
    "EXISTS (SELECT 1 FROM unnest(tr.reasons) AS r(reason) WHERE starts_with(reason, 'repeat complainer:'))"
)
THEMES_OR_NONE = "unnest(CASE WHEN cardinality(s.themes) = 0 THEN ARRAY['none']::VARCHAR[] ELSE s.themes END)"


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of the day ``moment`` falls in: the rollups' days, and every period's."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def whole_days(*moments: datetime | None) -> bool:
    """Every given moment is a UTC midnight (None, an open end, counts as one)."""
    return all(m is None or (m.utcoffset() == timedelta(0) and m == day_start(m)) for m in moments)


def add_counts(
    conn: Connection, table: str, keys: str, values: str, select: str, params: list[object]
) -> None:
    """Add the counts ``select`` gives (keys, then the counts) to ``table``; drop rows that reach zero.

    ``values``: the count columns, the first of which counts the rows (zero: nothing left).
    """
    names = [v.strip() for v in values.split(",")]
    added = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in names)
    conn.execute(
        f"INSERT INTO {table} ({keys}, {values}) {select} ON CONFLICT ({keys}) DO UPDATE SET {added}",
        params,
    )
    conn.execute(f"DELETE FROM {table} WHERE {names[0]} = 0")


def count_scores(
    conn: Connection, mention_ids: Sequence[str], sign: int, model_id: str | None = None
) -> None:
    """Count (``sign=1``) or uncount (``-1``) the scores of ``mention_ids`` (of ``model_id``, or all)."""
    if not mention_ids:
        return
    where = "WHERE s.mention_id = ANY(?) AND (?::VARCHAR IS NULL OR s.model_id = ?)"
    params: list[object] = [sign, list(mention_ids), model_id, model_id]
    add_counts(
        conn,
        "daily_sentiment",
        "model_id, day, source, lang, label",
        "mentions",
        f"SELECT s.model_id, {DAY}, m.source, coalesce(m.lang, 'und'), s.label, CAST(? AS BIGINT) * count(*) "
        f"FROM scores s JOIN mentions m ON m.id = s.mention_id {where} GROUP BY 1, 2, 3, 4, 5",
        params,
    )
    add_counts(
        conn,
        "daily_theme_sentiment",
        "model_id, day, theme, label",
        "mentions",
        f"SELECT s.model_id, {DAY}, t.theme, s.label, CAST(? AS BIGINT) * count(*) "
        f"FROM scores s JOIN mentions m ON m.id = s.mention_id, {THEMES_OR_NONE} AS t(theme) {where} "
        "GROUP BY 1, 2, 3, 4",
        params,
    )


def count_complaints(conn: Connection, mention_ids: Sequence[str], sign: int) -> None:
    """Count (or uncount) the complaints of the triage records of ``mention_ids``.

    Per day of the mention and theme (the trends' themes), and per day of triage with
    how many were repeat complaints (the care KPIs' repeat rate).
    """
    if not mention_ids:
        return
    add_counts(
        conn,
        "daily_complaint_themes",
        "day, theme",
        "complaints",
        f"SELECT {DAY}, t.theme, CAST(? AS BIGINT) * count(*) "
        "FROM triage tr JOIN scores s ON s.mention_id = tr.mention_id AND s.model_id = tr.model_id "
        "JOIN mentions m ON m.id = tr.mention_id, unnest(s.themes) AS t(theme) "
        "WHERE tr.validity = 'complaint' AND tr.mention_id = ANY(?) GROUP BY 1, 2",
        [sign, list(mention_ids)],
    )
    add_counts(
        conn,
        "daily_complaint_repeats",
        "day",
        "complaints, repeats",
        "SELECT date_trunc('day', tr.triaged_at), CAST(? AS BIGINT) * count(*), "
        f"CAST(? AS BIGINT) * count(*) FILTER (WHERE {REPEAT_COMPLAINT}) "
        "FROM triage tr WHERE tr.validity = 'complaint' AND tr.mention_id = ANY(?) GROUP BY 1",
        [sign, sign, list(mention_ids)],
    )


# Reads: the same rows the live queries in ``analytics`` give, from the rollups.

SENTIMENT_BY = {"source": "source", "language": "lang"}


def daily_sentiment_rollup(
    conn: Connection, model_id: str, since: datetime, by: str
) -> list[tuple[object, ...]]:
    """(day, ``by`` value, label, mentions) from ``since`` (a UTC midnight) on."""
    if by == "theme":
        sql = (
            "SELECT day, theme, label, sum(mentions) FROM daily_theme_sentiment "
            "WHERE model_id = ? AND day >= ? GROUP BY day, theme, label ORDER BY day, theme, label"
        )
    else:
        column = SENTIMENT_BY[by]
        sql = (
            f"SELECT day, {column}, label, sum(mentions) FROM daily_sentiment "
            f"WHERE model_id = ? AND day >= ? GROUP BY day, {column}, label ORDER BY day, {column}, label"
        )
    return [tuple(row) for row in conn.execute(sql, [model_id, since]).fetchall()]


def label_counts(
    conn: Connection,
    model_id: str,
    since: datetime,
    until: datetime | None,
    per_day: bool,
    label: str | None = None,
) -> list[tuple[object, ...]]:
    """(day, label, mentions) per day, or (label, mentions) over the period, in ``[since, until)``."""
    head = "day, label" if per_day else "label"
    return [
        tuple(row)
        for row in conn.execute(
            f"SELECT {head}, sum(mentions) FROM daily_sentiment WHERE model_id = ? AND day >= ? "
            "AND (?::TIMESTAMPTZ IS NULL OR day < ?) AND (?::VARCHAR IS NULL OR label = ?) "
            f"GROUP BY {head} ORDER BY {head}",
            [model_id, since, until, until, label, label],
        ).fetchall()
    ]


def complaint_themes(
    conn: Connection, since: datetime, until: datetime | None, limit: int | None
) -> list[tuple[object, ...]]:
    """(theme, complaints) in ``[since, until)``, most first."""
    return [
        tuple(row)
        for row in conn.execute(
            "SELECT theme, sum(complaints) AS n FROM daily_complaint_themes "
            "WHERE day >= ? AND (?::TIMESTAMPTZ IS NULL OR day < ?) "
            "GROUP BY theme HAVING sum(complaints) > 0 ORDER BY n DESC, theme LIMIT ?",
            [since, until, until, limit],
        ).fetchall()
    ]


def complaint_repeats(conn: Connection, since: datetime, until: datetime) -> tuple[int, int]:
    """(repeat complaints, complaints) triaged in ``[since, until)``."""
    row = conn.execute(
        "SELECT coalesce(sum(repeats), 0), coalesce(sum(complaints), 0) FROM daily_complaint_repeats "
        "WHERE day >= ? AND day < ?",
        [since, until],
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def first_day(conn: Connection, model_id: str) -> datetime | None:
    """The earliest day with a scored mention of ``model_id``: how far back the trends have data."""
    row = conn.execute("SELECT min(day) FROM daily_sentiment WHERE model_id = ?", [model_id]).fetchone()
    return row[0] if row else None
