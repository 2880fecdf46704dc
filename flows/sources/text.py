"""Small pure helpers every parser uses: JSON bodies, markup to plain text, dates."""

from __future__ import annotations

import calendar
import json
import time
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from voxwatch.domain import RawResponse
from voxwatch.errors import ParseError


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


def load_json(raw: RawResponse) -> Any:
    """The response body as JSON, or a ParseError naming the URL."""
    try:
        return json.loads(raw.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{raw.url}: response is not valid JSON ({exc})") from exc


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
