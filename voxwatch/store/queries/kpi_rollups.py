"""Care KPIs per case-opening day (migration 11): what the trends page's KPI tiles add up.

The response KPIs and service recovery are over the cases opened in a period.
Counted from the cases each time, they grew with history (1.07 s at 2,000,000
mentions, 8 s at 10,000,000). Unlike a mention's sentiment, a case keeps changing
after it is stored (answered, closed, reopened, dismissed, its reply sent, its
author's next post linked, that post's label corrected), so a day's figures are
not counted up and down: they are computed again from that day's cases, in the
same transaction as the change (``refresh_case_days``), by the very SQL that
counts a period straight from the rows (``from_rows=True``). A day is the UTC day
the case was opened.

Medians need more than counts: each day keeps how many cases took each whole
number of minutes to their first response and to resolution, and a period's
median is taken from those counts (``median_of_counts``), to the minute.

What depends on the moment of reading stays live: the unanswered cases whose due
time has passed (``unanswered_overdue``) and the open backlog's ages, both over a
small set of cases that Postgres indexes (DuckDB scans the columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from voxwatch.store.database import Connection
from voxwatch.store.queries.rollups import day_start

# Bounds that stand for "ever" in a period with an open end (a range the indexes can use).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
ONE_DAY = timedelta(days=1)

# The cases a period's KPIs are over: routed (not dismissed as invalid), opened in [?, ?).
_OPENED = "c.status <> 'dismissed' AND c.created_at >= ? AND c.created_at < ?"
# A case answered at its first contact: closed with exactly one reply sent (DOMAIN.md).
_ONE_REPLY = "(SELECT count(*) FROM drafts d WHERE d.case_id = c.id AND d.state = 'sent') = 1"

COUNT_COLUMNS = (
    "cases",
    "answered",
    "answered_in_time",
    "closed",
    "closed_one_reply",
    "answered_complaints",
    "spoke_again",
    "recovered",
)

# Per opening day: cases, answered, answered by the due time, closed, closed after one reply.
COUNTS = (
    "SELECT date_trunc('day', c.created_at) AS day, count(*) AS cases, "
    " count(c.first_response_at) AS answered, "
    " count(*) FILTER (WHERE c.first_response_at <= c.first_response_due) AS answered_in_time, "
    " count(*) FILTER (WHERE c.status = 'closed') AS closed, "
    f" count(*) FILTER (WHERE c.status = 'closed' AND {_ONE_REPLY}) AS closed_one_reply "
    f"FROM cases c WHERE {_OPENED} GROUP BY 1"
)

# Per opening day, service recovery (analytics.service_recovery): complaints answered in
# public, how many of their authors spoke again (the first post linked to the case, by
# when it was said), and how many of those next posts were not negative, a person's
# latest label correction winning over the model's label. Parameters: the bounds twice.
RECOVERY = (
    "SELECT date_trunc('day', a.created_at) AS day, count(*) AS answered_complaints, "
    " count(n.case_id) AS spoke_again, count(*) FILTER (WHERE n.label <> 'negative') AS recovered "
    "FROM (SELECT c.id, c.created_at FROM cases c JOIN triage t ON t.mention_id = c.mention_id "
    f" WHERE t.validity = 'complaint' AND c.first_response_at IS NOT NULL AND {_OPENED}) AS a "
    "LEFT JOIN (SELECT case_id, label FROM ("
    "  SELECT f.case_id, coalesce((SELECT lc.label FROM label_corrections lc"
    "   WHERE lc.mention_id = f.mention_id ORDER BY lc.corrected_at DESC, lc.label LIMIT 1), f.label)"
    "  AS label, "
    "  row_number() OVER (PARTITION BY f.case_id ORDER BY f.said_at, f.mention_id) AS rank "
    f"  FROM case_followups f JOIN cases c ON c.id = f.case_id WHERE {_OPENED}) AS ranked "
    " WHERE rank = 1) AS n ON n.case_id = a.id "
    "GROUP BY 1"
)


def _minutes(interval: str) -> str:
    """SQL for an interval in whole minutes (floored), on both engines."""
    return f"CAST(floor(extract(epoch FROM {interval}) / 60) AS BIGINT)"


MEASURES = {"first_response": "c.first_response_at", "resolution": "c.resolved_at"}

# Per opening day and measure: how many cases took each whole number of minutes.
# Parameters: the bounds once per measure.
DURATIONS = (
    "SELECT day, measure, minutes, count(*) AS cases FROM ("
    + " UNION ALL ".join(
        f"SELECT date_trunc('day', c.created_at) AS day, CAST('{measure}' AS VARCHAR) AS measure, "
        f"{_minutes(f'{column} - c.created_at')} AS minutes FROM cases c "
        f"WHERE {column} IS NOT NULL AND {_OPENED}"
        for measure, column in MEASURES.items()
    )
    + ") AS d GROUP BY day, measure, minutes"
)


def refresh_case_days(conn: Connection, days: Iterable[datetime]) -> None:
    """Compute the KPI rollups of each of ``days`` again from the cases opened on it."""
    for day in sorted({day_start(d) for d in days}):
        bounds = [day, day + ONE_DAY]
        conn.execute("DELETE FROM daily_case_kpis WHERE day = ?", [day])
        conn.execute("DELETE FROM daily_case_durations WHERE day = ?", [day])
        conn.execute(f"INSERT INTO daily_case_kpis (day, {', '.join(COUNT_COLUMNS[:5])}) {COUNTS}", bounds)
        conn.execute(
            "UPDATE daily_case_kpis SET answered_complaints = r.answered_complaints, "
            f"spoke_again = r.spoke_again, recovered = r.recovered FROM ({RECOVERY}) AS r "
            "WHERE daily_case_kpis.day = r.day",
            bounds * 2,
        )
        conn.execute(f"INSERT INTO daily_case_durations {DURATIONS}", bounds * len(MEASURES))


def refresh_cases(conn: Connection, case_ids: Sequence[str]) -> None:
    """Refresh the days the cases ``case_ids`` were opened on (after changing them)."""
    if case_ids:
        opened = _days(conn, "SELECT created_at FROM cases WHERE id = ANY(?)", [list(case_ids)])
        refresh_case_days(conn, opened)


def case_days_of_mentions(conn: Connection, mention_ids: Sequence[str]) -> set[datetime]:
    """The opening days of the cases ``mention_ids`` opened or follow up: what their changes move."""
    if not mention_ids:
        return set()
    ids = list(mention_ids)
    return _days(
        conn,
        "SELECT created_at FROM cases WHERE mention_id = ANY(?) "
        "OR id IN (SELECT case_id FROM case_followups WHERE mention_id = ANY(?))",
        [ids, ids],
    )


def _days(conn: Connection, sql: str, params: list[object]) -> set[datetime]:
    return {day_start(at) for (at,) in conn.execute(sql, params).fetchall()}


# Reads: a period's sums, from the rollups or (``from_rows``) from the cases themselves.


def case_counts(conn: Connection, since: datetime, until: datetime, from_rows: bool) -> dict[str, int]:
    """The ``COUNT_COLUMNS`` summed over the cases opened in ``[since, until)``."""
    if from_rows:
        sums = ", ".join(f"coalesce(sum({name}), 0)" for name in COUNT_COLUMNS[:5])
        first = conn.execute(f"SELECT {sums} FROM ({COUNTS}) AS per_day", [since, until]).fetchone()
        second = conn.execute(
            "SELECT coalesce(sum(answered_complaints), 0), coalesce(sum(spoke_again), 0), "
            f"coalesce(sum(recovered), 0) FROM ({RECOVERY}) AS per_day",
            [since, until] * 2,
        ).fetchone()
        assert first is not None and second is not None
        values = [*first, *second]
    else:
        sums = ", ".join(f"coalesce(sum({name}), 0)" for name in COUNT_COLUMNS)
        row = conn.execute(
            f"SELECT {sums} FROM daily_case_kpis WHERE day >= ? AND day < ?", [since, until]
        ).fetchone()
        assert row is not None
        values = list(row)
    return {name: int(value) for name, value in zip(COUNT_COLUMNS, values, strict=True)}


def durations(
    conn: Connection, measure: str, since: datetime, until: datetime, from_rows: bool
) -> list[tuple[int, int]]:
    """(whole minutes, cases) for ``measure`` over the cases opened in ``[since, until)``, shortest first."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {sorted(MEASURES)}")
    if from_rows:
        rows = conn.execute(
            f"SELECT minutes, sum(cases) FROM ({DURATIONS}) AS per_day WHERE measure = ? "
            "GROUP BY minutes ORDER BY minutes",
            [since, until] * len(MEASURES) + [measure],
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT minutes, sum(cases) FROM daily_case_durations WHERE measure = ? AND day >= ? AND day < ? "
            "GROUP BY minutes ORDER BY minutes",
            [measure, since, until],
        ).fetchall()
    return [(int(minutes), int(n)) for minutes, n in rows]


def median_of_counts(counts: Sequence[tuple[int, int]]) -> float | None:
    """The median of values given as sorted (value, how many): interpolated, as ``percentile_cont(0.5)``."""
    total = sum(n for _, n in counts)
    if not total:
        return None
    middle = (total - 1) / 2
    low_rank, high_rank = int(middle), int(middle) + (middle % 1 > 0)
    low = high = None
    seen = 0
    for value, n in counts:
        if low is None and low_rank < seen + n:
            low = value
        if high_rank < seen + n:
            high = value
            break
        seen += n
    assert low is not None and high is not None
    return low + (high - low) * (middle - int(middle))


def unanswered_overdue(conn: Connection, now: datetime, since: datetime, until: datetime) -> int:
    """Routed cases opened in ``[since, until)`` still unanswered after their first-response due time."""
    row = conn.execute(
        "SELECT count(*) FROM cases c WHERE c.first_response_at IS NULL AND c.first_response_due < ? "
        f"AND {_OPENED}",
        [now, since, until],
    ).fetchone()
    assert row is not None
    return int(row[0])
