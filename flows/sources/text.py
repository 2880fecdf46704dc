"""Small pure helpers every parser uses to turn markup into plain text and dates."""

from __future__ import annotations

import calendar
import time
import warnings
from datetime import UTC, datetime

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed. Never rendered."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser gives UTC ``struct_time``s."""
    if value is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def from_iso(value: object) -> datetime | None:
    """An ISO-8601 date or datetime; naive values are taken as UTC; junk is None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
