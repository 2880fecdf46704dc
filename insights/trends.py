"""What leaders see on the trends page: daily sentiment by a breakdown, spikes, themes, KPIs.

One read (``read_trends``) takes everything from the store in one connection;
``trend_figures`` adds the spike marks that the page, the benchmark and the tests
all share. The headline figures (volume, net sentiment, care KPIs) come from
``insights.kpis.headline``, which the monthly report calls too.

Totals never come from a breakdown: by theme a mention counts once under each of
its themes, so the per-day totals (``totals_daily``) are read un-broken-down, and
both they and the lines per source, language or theme (``lines``) have every day
of the period, zero days included.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from insights.kpis import headline
from insights.spikes import daily_spikes
from voxwatch.settings import Settings
from voxwatch.store import Store, queries
from voxwatch.store.database import Connection
from voxwatch.store.queries.analytics import daily_label_totals, first_mention_at
from voxwatch.store.queries.rollups import day_start  # periods are whole UTC days, the rollups' days

LABELS = ("negative", "neutral", "positive")


def read_trends(conn: Connection, model_id: str, since: datetime, now: datetime, by: str) -> dict[str, Any]:
    """Everything the trends page reads, in one connection (bench/dashboard_queries.py times this).

    The period is whole UTC days, from ``since``'s day to the end of ``now``'s. The spike
    baseline needs the 7 days before it, so negatives per day start a week early.
    """
    first_day = day_start(since)
    end = day_start(now) + timedelta(days=1)
    days = days_between(first_day, end)
    daily = [r for r in queries.daily_sentiment(conn, model_id, first_day, by) if r["day"] < end]
    return {
        "daily": daily,
        "lines": lines_by(daily, by, days),
        "totals_daily": daily_totals(daily_label_totals(conn, model_id, first_day, end), days),
        "negatives": queries.daily_negative_counts(conn, model_id, first_day - timedelta(days=7), now),
        "first_day": first_day,
        "themes": queries.top_complaint_themes(conn, first_day, 5, end),
        **headline(conn, model_id, first_day, end, now),
    }


def days_between(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC day from ``start``'s to the last one before ``end``."""
    day, out = day_start(start), []
    while day < end:
        out.append(day)
        day += timedelta(days=1)
    return out


def daily_totals(rows: list[dict[str, Any]], days: list[datetime]) -> list[dict[str, Any]]:
    """(day, label, mentions) for every day and label, zero days included, each mention once."""
    counts = {(day_start(r["day"]), r["label"]): int(r["mentions"]) for r in rows}
    return [
        {"day": d, "label": label, "mentions": counts.get((d, label), 0)} for d in days for label in LABELS
    ]


def lines_by(daily: list[dict[str, Any]], by: str, days: list[datetime]) -> list[dict[str, Any]]:
    """(day, group, mentions) for every day and every group seen, so no line skips a zero day."""
    counts: dict[tuple[datetime, str], int] = {}
    for r in daily:
        key = (day_start(r["day"]), str(r[by]))
        counts[key] = counts.get(key, 0) + int(r["mentions"])
    groups = sorted({group for _, group in counts})
    return [{"day": d, by: g, "mentions": counts.get((d, g), 0)} for d in days for g in groups]


def negatives_per_day(daily: list[dict[str, Any]], start: datetime, end: datetime) -> list[tuple[Any, int]]:
    """(day, negative mentions) for every day from ``start`` to ``end``, zero days included."""
    counts: dict[Any, int] = {}
    for row in daily:
        if row["label"] == "negative":
            counts[row["day"]] = counts.get(row["day"], 0) + int(row["mentions"])
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    while day <= end:
        out.append((day, counts.get(day, 0)))
        day += timedelta(days=1)
    return out


def trend_figures(
    store: Store, settings: Settings, model_id: str, days: int = 90, by: str = "source"
) -> dict[str, Any]:
    """Daily sentiment by ``by`` over the last ``days``, with spike marks, themes and the headline."""
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    result = store.read(lambda conn: read_trends(conn, model_id, since, now, by))
    marked = daily_spikes(result.pop("negatives"), settings.spikes)
    result["spikes"] = [d for d in marked if d["day"] >= result["first_day"]]
    return result


def covered_days(store: Store, model_id: str, now: datetime | None = None) -> int | None:
    """How many days back the data goes from today (the page's default period); None without data."""
    first = store.read(lambda conn: first_mention_at(conn, model_id))
    if first is None:
        return None
    return max((day_start(now or datetime.now(UTC)) - day_start(first)).days, 1)


def totals_csv(totals_daily: list[dict[str, Any]]) -> str:
    """The per-day totals as CSV (day, label, mentions): each mention once, every day present."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["day", "label", "mentions"])
    writer.writeheader()
    writer.writerows({**r, "day": r["day"].date().isoformat()} for r in totals_daily)
    return buffer.getvalue()


def breakdown_csv(daily: list[dict[str, Any]], by: str) -> str:
    """Mentions per day, ``by`` and label as CSV; by theme a mention is in one row per theme."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["day", by, "label", "mentions"])
    writer.writeheader()
    writer.writerows({**r, "day": r["day"].date().isoformat()} for r in daily)
    return buffer.getvalue()


STANDARD_PERIODS = (7, 30, 90)


def period_choices(covered: int | None) -> tuple[list[int], int]:
    """The periods to offer and the default one: what the data covers, not a fixed 90 days."""
    if covered is None:
        return list(STANDARD_PERIODS), STANDARD_PERIODS[0]
    return sorted({*STANDARD_PERIODS, covered}), covered
