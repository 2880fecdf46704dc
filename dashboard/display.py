"""How the pages show things: countdowns in words, links only when they are safe to click.

Pure functions, no Streamlit: tested directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit


def safe_link(url: str | None) -> str | None:
    """A source link only if it is plain http(s); anything else is not made clickable."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def due_in(due: datetime, now: datetime | None = None) -> str:
    """'due in 1 h 20 min' or 'overdue by 3 h 5 min': what a responder reads first."""
    now = now or datetime.now(UTC)
    minutes = int((due - now).total_seconds() // 60)
    hours, mins = divmod(abs(minutes), 60)
    span = f"{hours} h {mins} min" if hours else f"{mins} min"
    return f"due in {span}" if minutes >= 0 else f"overdue by {span}"
