"""The monthly leader report: the trends page's figures for one month, as one HTML file.

DOMAIN.md's monthly review: indicators, themes, what changed since last month,
and owners. The HTML comes from a Jinja2 template with autoescaping on, so a
mention or a person's name can never become markup. Leaders open it in a
browser, print it to PDF, or mail it on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

from insights.kpis import headline, net_sentiment
from insights.spikes import daily_spikes
from voxwatch.i18n import ENGLISH, translator
from voxwatch.settings import Settings
from voxwatch.store import Store, queries
from voxwatch.store.database import Connection

__all__ = ["current_month", "month_bounds", "monthly_figures", "net_sentiment", "render_html"]


def current_month(now: datetime | None = None) -> date:
    """The first day of the month ``now`` falls in, in UTC (default: the real clock).

    Trends and reports count days and months in UTC, as the store does (its
    session time zone is UTC), never in the server's own zone: ``date.today()`` on
    a server east or west of Greenwich turns the month hours early or late, and
    then picks a month whose figures do not exist yet.
    """
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError(f"now must be time-zone aware, got naive {moment.isoformat()!r}")
    return moment.astimezone(UTC).date().replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """``[first day 00:00 UTC, first day of next month)``."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def monthly_figures(store: Store, settings: Settings, model_id: str, month: date) -> dict[str, Any]:
    """Everything the report shows, read in one go."""
    start, end = month_bounds(month)
    prev_start, _ = month_bounds(start.date() - timedelta(days=1))
    now = min(datetime.now(UTC), end)

    def _read(conn: Connection) -> dict[str, Any]:
        return {
            **headline(conn, model_id, start, end, now),  # the trends page's definitions, for this month
            "previous_totals": queries.sentiment_totals(conn, model_id, prev_start, start),
            "themes": queries.top_complaint_themes(conn, start, None, end),
            "previous_themes": queries.top_complaint_themes(conn, prev_start, None, start),
            "owners": queries.owner_summary(conn, start, end),
            "negatives": queries.daily_negative_counts(
                conn, model_id, start - timedelta(days=7), end - timedelta(days=1)
            ),
            "spikes_told": queries.spikes_between(conn, start, end),
        }

    data = store.read(_read)
    marked = [d for d in daily_spikes(data.pop("negatives"), settings.spikes) if d["day"] >= start]
    previous = {row["theme"]: row["complaints"] for row in data["previous_themes"]}
    return {
        **data,
        "brand": settings.brand.name,
        "month": start.strftime("%B %Y"),  # as the CLI and file names say it; the report says it per locale
        "month_start": start.date(),
        "generated_at": datetime.now(UTC),
        "net": data["net_sentiment"],
        "previous_net": net_sentiment(data["previous_totals"]),
        "previous_volume": sum(data["previous_totals"].values()),
        "top_themes": [{**row, "previous": previous.get(row["theme"], 0)} for row in data["themes"][:5]],
        "spike_days": [d for d in marked if d["spike"]],
    }


def render_html(
    figures: dict[str, Any], lang: str = ENGLISH, theme_names: Mapping[str, str] | None = None
) -> str:
    """The report as a self-contained HTML page (autoescaped), in ``lang`` (``voxwatch.i18n``).

    The template's words go through the same catalogue as the dashboard's (``_`` in the
    template), dates and numbers through the locale's formats; themes are shown by the
    names the caller gives (``sentiment.themes.theme_labels``), else by id.
    """
    tr = translator(lang)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["num"] = lambda v, digits=1: "-" if v is None else tr.number(v, digits)
    env.filters["day"] = tr.day
    env.filters["moment"] = tr.moment
    env.globals["_"] = tr
    env.globals["recorded"] = tr.recorded
    env.filters["theme"] = lambda theme_id: (theme_names or {}).get(theme_id, theme_id)
    template = env.from_string(
        resources.files("insights").joinpath("templates/monthly_report.html.j2").read_text(encoding="utf-8")
    )
    return template.render(**{**figures, "month": tr.month(figures["month_start"]), "lang": lang})
