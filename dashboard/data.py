"""What the dashboard pages read and do, cached briefly so reruns do not hit the store.

Only caching and wiring live here: each function hands over to a stage
(``insights.trends``, ``insights.report``, ``responders.cases`` ...) or to a
query in ``voxwatch.store.queries``. Pages call these and never see SQL.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from insights.report import monthly_figures, render_html
from insights.trends import covered_days, trend_figures
from responders.authors import AuthorService
from responders.cases import CaseService
from responders.feedback import LabelFeedback
from responders.lint import Finding, lint, load_rules
from responders.settings_editor import Area, area_text, save_area
from sentiment.themes import theme_labels
from voxwatch.errors import AmbiguousCase, CaseNotFound
from voxwatch.settings import CONFIG_ENV, Settings, load_settings
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
    """The case ``case_id`` names (number, id or id start); None when none does.

    A start of an id that fits several cases raises ``AmbiguousCase`` (its ``candidates``
    let the page offer them).
    """
    try:
        return service().show(case_id)
    except AmbiguousCase:
        raise
    except CaseNotFound:
        return None


@st.cache_resource
def _authors_for(path: str) -> AuthorService:
    return AuthorService(settings_for(path))


@st.cache_resource
def _feedback_for(path: str) -> LabelFeedback:
    return LabelFeedback(settings_for(path))


def label_feedback() -> LabelFeedback:
    """Label corrections go through this (stored beside the model's score)."""
    return _feedback_for(config_path())


@st.cache_data(ttl=15, show_spinner=False)
def author_history(actor: str, source: str, author: str) -> dict[str, Any]:
    return _authors_for(config_path()).view(actor, source, author)


@st.cache_data(ttl=15, show_spinner=False)
def pending_approvals() -> list[dict[str, Any]]:
    return service().store.read(queries.pending_approvals)


@st.cache_data(ttl=15, show_spinner=False)
def source_health() -> list[dict[str, Any]]:
    return service().store.read(queries.source_health)


def lint_findings(text: str, situation: str | None, lang: str | None) -> list[Finding]:
    """The linter on the text being edited, with the user's extra rules."""
    return lint(text, situation, lang, load_rules(current_settings().library.lint_rules))


@st.cache_data(ttl=15, show_spinner=False)
def open_cases(config_path: str, model_id: str, limit: int = 200) -> list[dict[str, Any]]:
    settings = settings_for(config_path)
    return store_for(settings).read(lambda conn: queries.inbox(conn, model_id, limit))


@st.cache_data(ttl=60, show_spinner=False)
def trends(model_id: str, days: int = 90, by: str = "source") -> dict[str, Any]:
    """What leaders look at: daily sentiment by source, language or theme, spikes, themes, KPIs."""
    return trend_figures(service().store, current_settings(), model_id, days, by)


@st.cache_data(ttl=300, show_spinner=False)
def data_days(model_id: str) -> int | None:
    """How many days back the scored mentions go: the trends page's default period."""
    return covered_days(service().store, model_id)


@st.cache_data(ttl=300, show_spinner=False)
def monthly_report_html(model_id: str, month: date, lang: str = "en") -> str:
    """The leader report for one month (insights/report.py), in the interface language."""
    settings = current_settings()
    figures = monthly_figures(service().store, settings, model_id, month)
    return render_html(figures, lang, theme_labels(lang, settings.library.themes))


def theme_names(lang: str) -> dict[str, str]:
    """Theme id -> its name in the interface language (themes.toml's ``labels``)."""
    return theme_labels(lang, current_settings().library.themes)


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
