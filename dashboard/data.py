"""What the dashboard pages read, cached briefly so reruns do not hit the store.

Pages call these functions and never see SQL; the queries themselves live in
``voxwatch.store.queries``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from voxwatch.settings import CONFIG_ENV, Settings, load_settings
from voxwatch.store import queries, store_for


@st.cache_resource
def settings_for(path: str) -> Settings:
    return load_settings(path)


def current_settings() -> Settings:
    """The settings named by ``$VOXWATCH_CONFIG`` (set by ``voxwatch dashboard``)."""
    return settings_for(os.environ.get(CONFIG_ENV, "voxwatch.toml"))


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
