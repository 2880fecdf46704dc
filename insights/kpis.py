"""The one definition of each headline figure, for the trends page, the report and their CSV.

Volume and sentiment totals count each mention once (never from a breakdown);
net sentiment is (positive - negative) / (positive + negative); the care KPIs are
over the cases opened in the period (the open backlog is always now's). The page
(``insights.trends``) and the monthly report (``insights.report``) both call
``headline``, so the same period shows the same numbers in both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voxwatch.i18n import N_
from voxwatch.store import queries
from voxwatch.store.database import Connection

# The open backlog's age buckets, as the store names them (queries.response_kpis), marked for the catalogue.
BACKLOG_AGES = (N_("under 2 h"), N_("2-24 h"), N_("1-2 days"), N_("over 2 days"))


def net_sentiment(totals: dict[str, int]) -> float | None:
    """(positive - negative) / (positive + negative); None without either."""
    pos, neg = totals.get("positive", 0), totals.get("negative", 0)
    return (pos - neg) / (pos + neg) if pos + neg else None


def headline(
    conn: Connection, model_id: str, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """Sentiment totals, volume, net sentiment and care KPIs for mentions and cases in ``[start, end)``."""
    totals = queries.sentiment_totals(conn, model_id, start, end)
    return {
        "totals": totals,
        "volume": sum(totals.values()),
        "net_sentiment": net_sentiment(totals),
        "kpis": queries.response_kpis(conn, now, start, end) | queries.service_recovery(conn, start, end),
    }
