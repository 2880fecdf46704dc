"""Read models for leaders: the pipeline summary, daily sentiment, themes, response KPIs, owners.

Also service recovery: what answered customers said next (``service_recovery``). Counts of
mentions per day come from the rollups (``rollups``) for whole UTC days; ``from_rows=True``
counts the rows themselves instead, the reference the rollups are tested against.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups, rollups
from voxwatch.store.queries.cases import OPEN, OPEN_STATUSES
from voxwatch.store.queries.rows import dict_rows

# What "routed" means wherever a count of routed cases is shown (the pipeline summary, the
# route flow's log, the trends and the report): a case that was opened and not dismissed
# as invalid. ``is_routed`` is the same rule for a case in hand.
ROUTED = "status <> 'dismissed'"


def is_routed(status: str) -> bool:
    """A routed case: opened for the team, not dismissed as invalid (``ROUTED`` in SQL)."""
    return str(status) != "dismissed"


def median_hours(interval: str) -> str:
    """SQL for the median of an interval column expression in whole minutes, as hours (on both engines).

    To the minute, as the per-day rollups keep durations (``kpi_rollups``), so every
    median a leader reads is the same kind of figure.
    """
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {kpi_rollups.minutes_sql(interval)}) / 60.0"


def pipeline_counts(conn: Connection, model_id: str, threshold: float) -> dict[str, Any]:
    one = conn.execute(
        "SELECT (SELECT count(*) FROM mentions), "
        "(SELECT count(*) FROM scores WHERE model_id = ?), "
        "(SELECT count(*) FROM scores WHERE model_id = ? AND p_negative >= ?), "
        f"(SELECT count(*) FROM cases WHERE {ROUTED}), "
        f"(SELECT count(*) FROM cases WHERE NOT ({ROUTED}))",
        [model_id, model_id, threshold],
    ).fetchone()
    assert one is not None
    per_owner = conn.execute(
        f"SELECT coalesce(owner, '(unassigned)'), count(*) FROM cases WHERE {ROUTED} "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return {
        "collected": one[0],
        "scored": one[1],
        "negative": one[2],
        "routed": one[3],
        "dismissed": one[4],
        "per_owner": dict(per_owner),
    }


# When a mention happened: its publication time, else when we collected it.
AT = "coalesce(m.published_at, m.collected_at)"


# What a trends breakdown may group by; the only names that reach the SQL text.
BREAKDOWNS = {"source": "m.source", "language": "coalesce(m.lang, 'und')", "theme": "theme"}


def daily_sentiment(
    conn: Connection, model_id: str, since: datetime, by: str = "source", from_rows: bool = False
) -> list[dict[str, Any]]:
    """Mentions per day, ``by`` (source, language or theme) and sentiment label since ``since``.

    By theme, a mention counts once under each of its themes (untagged ones under "none").
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {sorted(BREAKDOWNS)}")
    if rollups.whole_days(since) and not from_rows:  # kept per day as scores are stored (queries/rollups.py)
        columns = ("day", by, "label", "mentions")
        return [
            dict(zip(columns, row, strict=True))
            for row in rollups.daily_sentiment_rollup(conn, model_id, since, by)
        ]
    themes = (
        ", unnest(CASE WHEN cardinality(s.themes) = 0 THEN ARRAY['none']::VARCHAR[] ELSE s.themes END)"
        " AS theme"
        if by == "theme"
        else ""
    )
    return dict_rows(
        conn.execute(
            f"SELECT day, {BREAKDOWNS[by]} AS {by}, label, count(*) AS mentions FROM ("
            f" SELECT date_trunc('day', {AT}) AS day, m.source, m.lang, "
            f" s.label{themes} FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
            f" WHERE {AT} >= ?) AS m "
            f"GROUP BY day, {by}, label ORDER BY day, {by}, label",
            [model_id, since],
        )
    )


def daily_negative_counts(
    conn: Connection, model_id: str, start: datetime, end: datetime, from_rows: bool = False
) -> list[tuple[Any, int]]:
    """(day, negative mentions) for every day from ``start`` to ``end``, zero days included.

    Whole days whatever the times given, so always from the rollup (``from_rows``: from the rows).
    """
    if from_rows:
        return _daily_negative_counts_from_rows(conn, model_id, start, end)
    first, last = rollups.day_start(start), rollups.day_start(end)
    counted = rollups.label_counts(conn, model_id, first, last + timedelta(days=1), True, "negative")
    per_day = {day: int(n) for day, _label, n in counted}  # type: ignore[call-overload]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [(day, per_day.get(day, 0)) for day in days]


def _daily_negative_counts_from_rows(
    conn: Connection, model_id: str, start: datetime, end: datetime
) -> list[tuple[Any, int]]:
    return [
        (day, int(count))
        for day, count in conn.execute(
            "SELECT d.day, count(m.id) FROM generate_series("
            "date_trunc('day', ?::TIMESTAMPTZ), date_trunc('day', ?::TIMESTAMPTZ), INTERVAL '1 day') "
            "AS d(day) "
            f"LEFT JOIN (SELECT m.id, date_trunc('day', {AT}) AS day FROM mentions m "
            " JOIN scores s ON s.mention_id = m.id AND s.model_id = ? AND s.label = 'negative' "
            f" WHERE {AT} >= ?::TIMESTAMPTZ - INTERVAL '1 day') m ON m.day = d.day "
            "GROUP BY d.day ORDER BY d.day",
            [start, end, model_id, start],
        ).fetchall()
    ]


def top_complaint_themes(
    conn: Connection,
    since: datetime,
    limit: int | None = 5,
    until: datetime | None = None,
    from_rows: bool = False,
) -> list[dict[str, Any]]:
    """The most frequent themes among complaints in ``[since, until)``, most first (``limit=None``: all)."""
    if rollups.whole_days(since, until) and not from_rows:
        found = rollups.complaint_themes(conn, since, until, limit)
        return [{"theme": theme, "complaints": int(n)} for theme, n in found]  # type: ignore[call-overload]
    return dict_rows(
        conn.execute(
            "SELECT theme, count(*) AS complaints FROM ("
            " SELECT unnest(s.themes) AS theme FROM triage t JOIN scores s ON s.mention_id = t.mention_id "
            " AND s.model_id = t.model_id JOIN mentions m ON m.id = t.mention_id "
            f" WHERE t.validity = 'complaint' AND {AT} >= ? AND (?::TIMESTAMPTZ IS NULL OR {AT} < ?)) AS c "
            "GROUP BY theme ORDER BY complaints DESC, theme LIMIT ?",
            [since, until, until, limit],
        )
    )


def response_kpis(
    conn: Connection,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    from_rows: bool = False,
) -> dict[str, Any]:
    """Care KPIs (DOMAIN.md): response and resolution times, SLA, repeats, backlog.

    Over all cases, or those opened in ``[since, until)`` (the backlog is always now's).
    From the per-day rollups (``kpi_rollups``) when the period is whole UTC days; medians
    are to the minute either way. The SLA counts a case once answered, or once its due
    time has passed unanswered (a count taken as it is read).
    """
    rollup = rollups.whole_days(since, until) and not from_rows
    start, end = since or kpi_rollups.EARLIEST, until or kpi_rollups.LATEST
    counts = kpi_rollups.case_counts(conn, start, end, from_rows=not rollup)
    overdue = kpi_rollups.unanswered_overdue(conn, now, start, end)
    repeats, complaints = (
        rollups.complaint_repeats(conn, start, end) if rollup else _complaint_repeats(conn, start, end)
    )
    medians = {
        measure: kpi_rollups.median_of_counts(kpi_rollups.durations(conn, measure, start, end, not rollup))
        for measure in kpi_rollups.MEASURES
    }
    sla_due = counts["answered"] + overdue
    return {
        "median_first_response_hours": _hours(medians["first_response"]),
        "median_resolution_hours": _hours(medians["resolution"]),
        "sla_met_pct": 100.0 * counts["answered_in_time"] / sla_due if sla_due else None,
        "first_contact_resolution_pct": (
            100.0 * counts["closed_one_reply"] / counts["closed"] if counts["closed"] else None
        ),
        "repeat_complaint_pct": 100.0 * repeats / complaints if complaints else None,
        "open_backlog_by_age": open_backlog(conn, now),
    }


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else minutes / 60.0


def _complaint_repeats(conn: Connection, since: datetime, until: datetime) -> tuple[int, int]:
    """(repeat complaints, complaints) triaged in ``[since, until)``, from the triage rows."""
    row = conn.execute(
        f"SELECT count(*) FILTER (WHERE {rollups.REPEAT_COMPLAINT}), count(*) FROM triage tr "
        "WHERE tr.validity = 'complaint' AND tr.triaged_at >= ? AND tr.triaged_at < ?",
        [since, until],
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def open_backlog(conn: Connection, now: datetime) -> dict[str, int]:
    """Open cases by how long ago they were opened (the care KPIs' backlog)."""
    backlog = conn.execute(
        "SELECT CASE WHEN age < INTERVAL '2 hours' THEN 'under 2 h' "
        " WHEN age < INTERVAL '24 hours' THEN '2-24 h' WHEN age < INTERVAL '48 hours' THEN '1-2 days' "
        " ELSE 'over 2 days' END AS bracket, count(*) AS cases "
        f"FROM (SELECT ?::TIMESTAMPTZ - created_at AS age FROM cases WHERE {OPEN}) AS open_cases "
        "GROUP BY bracket",
        [now],
    ).fetchall()
    return {str(bracket): int(n) for bracket, n in backlog}


def service_recovery(
    conn: Connection, since: datetime | None = None, until: datetime | None = None, from_rows: bool = False
) -> dict[str, Any]:
    """Service recovery (DOMAIN.md): of the complaints answered in public, how many did we win back?

    The share of answered complaints (a complaint's case with a posted reply, opened
    in ``[since, until)`` or ever) whose author's next mention, linked by routing within
    the follow-up window (``case_followups``), is not negative; a person's label
    correction wins over the model's label. Complaints whose author never spoke
    again are left out of the share, not counted as won: silence is not an answer.
    ``service_recovery_n`` says how many the share is of, so nobody reads 100% from one case.
    The counts are kept per opening day (``kpi_rollups.recovery_sql`` says them in SQL).
    """
    rollup = rollups.whole_days(since, until) and not from_rows
    counts = kpi_rollups.case_counts(
        conn, since or kpi_rollups.EARLIEST, until or kpi_rollups.LATEST, from_rows=not rollup
    )
    spoke_again, recovered = counts["spoke_again"], counts["recovered"]
    return {
        "service_recovery_pct": 100.0 * recovered / spoke_again if spoke_again else None,
        "service_recovery_n": spoke_again,
        "answered_complaints": counts["answered_complaints"],
    }


def sentiment_totals(
    conn: Connection, model_id: str, since: datetime, until: datetime, from_rows: bool = False
) -> dict[str, int]:
    """Mentions per label published in ``[since, until)``."""
    if rollups.whole_days(since, until) and not from_rows:
        counted = rollups.label_counts(conn, model_id, since, until, False)
        return {str(label): int(n) for label, n in counted}  # type: ignore[call-overload]
    rows = conn.execute(
        "SELECT s.label, count(*) FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
        f"WHERE {AT} >= ? AND {AT} < ? "
        "GROUP BY s.label",
        [model_id, since, until],
    ).fetchall()
    return {label: int(n) for label, n in rows}


def owner_summary(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per owner: cases opened in the period, closed, open now, median first response (hours)."""
    return dict_rows(
        conn.execute(
            "SELECT coalesce(owner, '(unassigned)') AS owner, count(*) AS cases, "
            " count(*) FILTER (WHERE status = 'closed') AS closed, "
            " count(*) FILTER (WHERE status = ANY(?)) AS still_open, "
            f" {median_hours('first_response_at - created_at')} AS median_first_response_hours "
            "FROM cases WHERE status <> 'dismissed' AND created_at >= ? AND created_at < ? "
            "GROUP BY 1 ORDER BY cases DESC, owner",
            [list(OPEN_STATUSES), since, until],
        )
    )


def daily_label_totals(
    conn: Connection, model_id: str, since: datetime, until: datetime, from_rows: bool = False
) -> list[dict[str, Any]]:
    """Mentions per day and label in ``[since, until)``, each mention counted once (no breakdown).

    The per-day totals the trends page stacks and exports: a mention with three themes
    is still one mention here, whatever breakdown the lines below it use.
    """
    if rollups.whole_days(since, until) and not from_rows:
        counted = rollups.label_counts(conn, model_id, since, until, True)
        return [{"day": day, "label": label, "mentions": n} for day, label, n in counted]
    return dict_rows(
        conn.execute(
            f"SELECT date_trunc('day', {AT}) AS day, s.label, count(*) AS mentions "
            "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
            f"WHERE {AT} >= ? AND {AT} < ? GROUP BY day, s.label ORDER BY day, s.label",
            [model_id, since, until],
        )
    )


def first_mention_at(conn: Connection, model_id: str, from_rows: bool = False) -> datetime | None:
    """When the earliest scored mention happened (from the rollups: its UTC day).

    How far back the trends have data; the page needs only the day.
    """
    if not from_rows:
        return rollups.first_day(conn, model_id)
    row = conn.execute(
        f"SELECT min({AT}) FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ?",
        [model_id],
    ).fetchone()
    return row[0] if row else None
