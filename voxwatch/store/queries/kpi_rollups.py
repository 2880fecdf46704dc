"""Care KPIs per case-opening day (migration 11): what the trends page's KPI tiles add up.

The response KPIs and service recovery are over the cases opened in a period.
Counted from the cases each time, they grew with history (1.07 s at 2,000,000
mentions, 8 s at 10,000,000). Unlike a mention's sentiment, a case keeps changing
after it is stored (answered, closed, reopened, dismissed, its reply sent, its
author's next post linked, that post's label corrected), so every write that
changes what a case counts for uncounts the case before and counts it again
after (``recounted``), in the same transaction, by the very SQL that counts a
period straight from the rows (``from_rows=True``), picking the case by its id.
(Computing the whole day again instead cost 0.1-0.2 s a click at 2,000,000
mentions, and made every two actions on one day's cases a serialization conflict
on Postgres.) A day is the UTC day the case was opened.

Medians need more than counts: each day keeps how many cases took each whole
number of minutes to their first response and to resolution, and a period's
median is taken from those counts (``median_of_counts``), to the minute.

What depends on the moment of reading stays live: the unanswered cases whose due
time has passed (``unanswered_overdue``) and the open backlog's ages, both over a
small set of cases that Postgres indexes (DuckDB scans the columns).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from voxwatch.store.database import Connection
from voxwatch.store.queries.rollups import add_counts

# Bounds that stand for "ever" in a period with an open end (a range the indexes can use).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

# Which cases a statement counts: those opened in [?, ?) (a period's reads), or given by id
# (``count_cases``: one action's cases, found by primary key however many there are).
OPENED_IN = "c.created_at >= ? AND c.created_at < ?"
THESE = "c.id = ANY(?)"
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


def counts_sql(which: str) -> str:
    """Per opening day, of the routed cases ``which`` picks: cases, answered, answered by the
    due time, closed, closed after one reply. Parameters: ``which``'s once."""
    return (
        "SELECT date_trunc('day', c.created_at) AS day, count(*) AS cases, "
        " count(c.first_response_at) AS answered, "
        " count(*) FILTER (WHERE c.first_response_at <= c.first_response_due) AS answered_in_time, "
        " count(*) FILTER (WHERE c.status = 'closed') AS closed, "
        f" count(*) FILTER (WHERE c.status = 'closed' AND {_ONE_REPLY}) AS closed_one_reply "
        f"FROM cases c WHERE c.status <> 'dismissed' AND {which} GROUP BY 1"
    )


def recovery_sql(which: str) -> str:
    """Per opening day, service recovery (analytics.service_recovery) of the cases ``which`` picks.

    Complaints answered in public, how many of their authors spoke again (the first
    post linked to the case, by when it was said), and how many of those next posts
    were not negative, a person's latest label correction winning over the model's
    label. Parameters: ``which``'s twice.
    """
    return (
        "SELECT date_trunc('day', a.created_at) AS day, count(*) AS answered_complaints, "
        " count(n.case_id) AS spoke_again, count(*) FILTER (WHERE n.label <> 'negative') AS recovered "
        "FROM (SELECT c.id, c.created_at FROM cases c JOIN triage t ON t.mention_id = c.mention_id "
        " WHERE t.validity = 'complaint' AND c.first_response_at IS NOT NULL AND c.status <> 'dismissed' "
        f" AND {which}) AS a "
        "LEFT JOIN (SELECT case_id, label FROM ("
        "  SELECT f.case_id, coalesce((SELECT lc.label FROM label_corrections lc"
        "   WHERE lc.mention_id = f.mention_id ORDER BY lc.corrected_at DESC, lc.label LIMIT 1), f.label)"
        "  AS label, "
        "  row_number() OVER (PARTITION BY f.case_id ORDER BY f.said_at, f.mention_id) AS rank "
        f"  FROM case_followups f JOIN cases c ON c.id = f.case_id WHERE {which}) AS ranked "
        " WHERE rank = 1) AS n ON n.case_id = a.id "
        "GROUP BY 1"
    )


def minutes_sql(interval: str) -> str:
    """SQL for an interval in whole minutes (floored), on both engines."""
    return f"CAST(floor(extract(epoch FROM {interval}) / 60) AS BIGINT)"


MEASURES = {"first_response": "c.first_response_at", "resolution": "c.resolved_at"}


def durations_sql(which: str) -> str:
    """Per opening day and measure, how many of the routed cases ``which`` picks took each whole
    number of minutes. Parameters: ``which``'s once per measure."""
    return (
        "SELECT day, measure, minutes, count(*) AS cases FROM ("
        + " UNION ALL ".join(
            f"SELECT date_trunc('day', c.created_at) AS day, CAST('{measure}' AS VARCHAR) AS measure, "
            f"{minutes_sql(f'{column} - c.created_at')} AS minutes FROM cases c "
            f"WHERE {column} IS NOT NULL AND c.status <> 'dismissed' AND {which}"
            for measure, column in MEASURES.items()
        )
        + ") AS d GROUP BY day, measure, minutes"
    )


# Writes: each change to a case is an uncount of what it was and a count of what it is.


def count_cases(conn: Connection, case_ids: Sequence[str], sign: int) -> None:
    """Count (``sign=1``) or uncount (``-1``) the cases ``case_ids`` in their opening days' rollups."""
    if not case_ids:
        return
    ids = list(dict.fromkeys(case_ids))
    values = ", ".join(COUNT_COLUMNS)
    add_counts(
        conn,
        "daily_case_kpis",
        "day",
        values,
        "SELECT k.day, "
        + ", ".join(f"s.sign * k.{name}" for name in COUNT_COLUMNS[:5])
        + ", "
        + ", ".join(f"s.sign * coalesce(r.{name}, 0)" for name in COUNT_COLUMNS[5:])
        + f" FROM ({counts_sql(THESE)}) AS k LEFT JOIN ({recovery_sql(THESE)}) AS r ON r.day = k.day, "
        "(SELECT CAST(? AS BIGINT) AS sign) AS s",
        [ids, ids, ids, sign],
    )
    add_counts(
        conn,
        "daily_case_durations",
        "day, measure, minutes",
        "cases",
        f"SELECT d.day, d.measure, d.minutes, s.sign * d.cases FROM ({durations_sql(THESE)}) AS d, "
        "(SELECT CAST(? AS BIGINT) AS sign) AS s",
        [ids] * len(MEASURES) + [sign],
    )


@contextmanager
def recounted(conn: Connection, case_ids: Sequence[str]) -> Iterator[None]:
    """Around a change to ``case_ids`` (or what their KPIs read): uncount them before, count them after.

    In the same transaction as the change, so the rollups never show half of it.
    """
    count_cases(conn, case_ids, -1)
    yield
    count_cases(conn, case_ids, 1)


def cases_of_mentions(conn: Connection, mention_ids: Sequence[str]) -> list[str]:
    """The cases ``mention_ids`` opened or follow up: whose KPIs a change to those mentions moves."""
    if not mention_ids:
        return []
    ids = list(mention_ids)
    rows = conn.execute(
        "SELECT id FROM cases WHERE mention_id = ANY(?) "
        "UNION SELECT case_id FROM case_followups WHERE mention_id = ANY(?)",
        [ids, ids],
    ).fetchall()
    return sorted(str(case_id) for (case_id,) in rows)


# Reads: a period's sums, from the rollups or (``from_rows``) from the cases themselves.


def case_counts(conn: Connection, since: datetime, until: datetime, from_rows: bool) -> dict[str, int]:
    """The ``COUNT_COLUMNS`` summed over the cases opened in ``[since, until)``."""
    if from_rows:
        sums = ", ".join(f"coalesce(sum({name}), 0)" for name in COUNT_COLUMNS[:5])
        first = conn.execute(
            f"SELECT {sums} FROM ({counts_sql(OPENED_IN)}) AS per_day", [since, until]
        ).fetchone()
        second = conn.execute(
            "SELECT coalesce(sum(answered_complaints), 0), coalesce(sum(spoke_again), 0), "
            f"coalesce(sum(recovered), 0) FROM ({recovery_sql(OPENED_IN)}) AS per_day",
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
            f"SELECT minutes, sum(cases) FROM ({durations_sql(OPENED_IN)}) AS per_day WHERE measure = ? "
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
        f"AND c.status <> 'dismissed' AND {OPENED_IN}",
        [now, since, until],
    ).fetchone()
    assert row is not None
    return int(row[0])
