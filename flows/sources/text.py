"""Small pure helpers every parser uses to turn markup into plain text and dates."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime

from lxml import etree
from lxml import html as lxml_html


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed. Never rendered.

    lxml rather than BeautifulSoup: this runs once per mention, and lxml is
    several times faster on the short fragments feeds and APIs carry.
    """
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(markup.split())
    for tag in root.xpath("//script|//style"):
        tag.drop_tree()
    return " ".join(" ".join(root.itertext()).split())


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
