"""What the dashboard pages read, cached briefly so reruns do not hit the store.

Pages call these functions and never see SQL; the queries themselves live in
``voxwatch.store.queries``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import streamlit as st

from dashboard.report import monthly_figures, net_sentiment, render_html
from responders.cases import CaseNotFound, CaseService
from responders.lint import Finding, lint, load_rules
from responders.spikes import daily_spikes
from voxwatch.settings import CONFIG_ENV, Settings, load_settings
from voxwatch.settings_admin import Area, area_text, save_area
from voxwatch.store import queries, store_for


@st.cache_resource
def settings_for(path: str) -> Settings:
    return load_settings(path)


def config_path() -> str:
    """The settings file named by ``$VOXWATCH_CONFIG`` (set by ``voxwatch dashboard``)."""
    return os.environ.get(CONFIG_ENV, "voxwatch.toml")


def current_settings() -> Settings:
    return settings_for(config_path())


@st.cache_resource
def _service_for(path: str) -> CaseService:
    return CaseService(settings_for(path))


def service() -> CaseService:
    """Every action goes through this: the same rules as the command line."""
    return _service_for(config_path())


def forget_reads() -> None:
    """After an action, cached reads are stale."""
    st.cache_data.clear()


@st.cache_data(ttl=15, show_spinner=False)
def case_detail(case_id: str) -> dict[str, Any] | None:
    try:
        return service().show(case_id)
    except CaseNotFound:
        return None


@st.cache_data(ttl=15, show_spinner=False)
def author_history(actor: str, source: str, author: str) -> dict[str, Any]:
    return service().author_view(actor, source, author)


@st.cache_data(ttl=15, show_spinner=False)
def pending_approvals() -> list[dict[str, Any]]:
    return service().store.read(queries.pending_approvals)


@st.cache_data(ttl=15, show_spinner=False)
def source_health() -> list[dict[str, Any]]:
    return service().store.read(queries.source_health)


def lint_findings(text: str, situation: str | None, lang: str | None) -> list[Finding]:
    """The linter on the text being edited, with the user's extra rules."""
    return lint(text, situation, lang, load_rules(current_settings().library.lint_rules))


def safe_link(url: str | None) -> str | None:
    """A source link only if it is plain http(s); anything else is not made clickable."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


@st.cache_data(ttl=15, show_spinner=False)
def open_cases(config_path: str, model_id: str, limit: int = 200) -> list[dict[str, Any]]:
    settings = settings_for(config_path)
    return store_for(settings).read(lambda conn: queries.inbox(conn, model_id, limit))


def due_in(due: datetime, now: datetime | None = None) -> str:
    """'due in 1 h 20 min' or 'overdue by 3 h 5 min': what a responder reads first."""
    now = now or datetime.now(UTC)
    minutes = int((due - now).total_seconds() // 60)
    hours, mins = divmod(abs(minutes), 60)
    span = f"{hours} h {mins} min" if hours else f"{mins} min"
    return f"due in {span}" if minutes >= 0 else f"overdue by {span}"


def is_breached(case: dict[str, Any], now: datetime | None = None) -> bool:
    """Escalated, or past its first-response due time with no response yet."""
    return case.get("escalated_at") is not None or case["first_response_due"] < (now or datetime.now(UTC))


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
        "kpis": queries.response_kpis(conn, now),
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


@st.cache_data(ttl=60, show_spinner=False)
def trends(model_id: str, days: int = 90, by: str = "source") -> dict[str, Any]:
    """What leaders look at: daily sentiment by source, language or theme, spikes, themes, KPIs."""
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    result = service().store.read(lambda conn: read_trends(conn, model_id, since, now, by))
    marked = daily_spikes(result.pop("negatives"), current_settings().spikes)
    result["spikes"] = [d for d in marked if d["day"] >= result["first_day"]]
    result["net_sentiment"] = net_sentiment(result.pop("totals"))
    return result


@st.cache_data(ttl=300, show_spinner=False)
def monthly_report_html(model_id: str, month: date) -> str:
    """The leader report for one month (dashboard/report.py)."""
    return render_html(monthly_figures(service().store, current_settings(), model_id, month))


def filter_cases(cases: list[dict[str, Any]], **chosen: list[str]) -> list[dict[str, Any]]:
    """Keep the cases whose field matches one of the chosen values (no choice: any).

    ``themes`` matches when any of the case's themes is chosen.
    """

    def keep(case: dict[str, Any]) -> bool:
        for field, values in chosen.items():
            if not values:
                continue
            have = case.get(field)
            if field == "themes":
                if not set(have or []) & set(values):
                    return False
            elif (have if have is not None else "(none)") not in values:
                return False
        return True

    return [case for case in cases if keep(case)]


@st.cache_data(ttl=15, show_spinner=False)
def team_load() -> dict[str, int]:
    """Open cases per owner, for balancing a burst."""
    return service().store.read(queries.open_load)


def settings_area(path: str, area: Area) -> str:
    """The TOML an admin edits for one area (not cached: the file is the truth)."""
    return area_text(Path(path), area)


def save_settings_area(area: Area, text: str, actor: str) -> None:
    """Validate, save, audit; then every cached settings object and read is dropped."""
    save_area(Path(config_path()), area, text, actor, service().store)
    st.cache_resource.clear()
    forget_reads()


@st.cache_data(ttl=15, show_spinner=False)
def settings_audit() -> list[dict[str, Any]]:
    return service().store.read(lambda conn: queries.audit_entries(conn, "settings", 20))
