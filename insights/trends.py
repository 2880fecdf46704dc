"""What leaders see on the trends page: daily sentiment by a breakdown, spikes, themes, KPIs.

One read (``read_trends``) takes everything from the store in one connection;
``trend_figures`` adds the spike marks and net sentiment that the page, the
benchmark and the tests all share.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from insights.report import net_sentiment
from insights.spikes import daily_spikes
from voxwatch.settings import Settings
from voxwatch.store import Store, queries


def read_trends(conn: Any, model_id: str, since: datetime, now: datetime, by: str) -> dict[str, Any]:
    """Everything the trends page reads, in one connection (bench/dashboard_queries.py times this).

    The spike baseline needs the 7 days before the period, so the daily counts
    start a week early; by source or language, negatives per day are summed from
    them instead of a second pass over the store.
    """
    start = since - timedelta(days=7)
    first_day = since.replace(hour=0, minute=0, second=0, microsecond=0)
    daily = queries.daily_sentiment(conn, model_id, start, by)
    shown = [row for row in daily if row["day"] >= first_day]
    if by == "theme":  # a mention counts once per theme here, so count negatives and totals apart
        negatives = queries.daily_negative_counts(conn, model_id, start, now)
        totals = queries.sentiment_totals(conn, model_id, since, now)
    else:
        negatives = negatives_per_day(daily, start, now)
        totals = {}
        for row in shown:
            totals[row["label"]] = totals.get(row["label"], 0) + row["mentions"]
    return {
        "daily": shown,
        "negatives": negatives,
        "first_day": first_day,
        "totals": totals,
        "themes": queries.top_complaint_themes(conn, since),
        "kpis": queries.response_kpis(conn, now) | queries.service_recovery(conn),
    }


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
    """Daily sentiment by ``by`` over the last ``days``, with spike marks, themes, KPIs, net sentiment."""
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    result = store.read(lambda conn: read_trends(conn, model_id, since, now, by))
    marked = daily_spikes(result.pop("negatives"), settings.spikes)
    result["spikes"] = [d for d in marked if d["day"] >= result["first_day"]]
    result["net_sentiment"] = net_sentiment(result.pop("totals"))
    return result
