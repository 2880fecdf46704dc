"""Small pure helpers every parser uses: JSON bodies, page decoding, markup to plain text, dates."""

from __future__ import annotations

import calendar
import codecs
import json
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import chardet
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


def from_any_date(value: str | None) -> datetime | None:
    """An RFC 822 date (RSS) or an ISO-8601 one (Atom); junk is None."""
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return from_iso(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _known(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def _http_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return _known(value)
    return None


def page_encoding(body: bytes, content_type: str | None) -> str:
    """The encoding a browser would use for an HTML page (WHATWG's sniffing, in its order).

    A byte-order mark first, then the HTTP ``charset``, then a ``<meta charset>`` in
    the first 4 KB, then UTF-8 if the bytes decode cleanly as UTF-8, then a
    detector's guess (chardet), and Windows-1252 as the last resort.
    """
    for mark, name in _BOMS:
        if body.startswith(mark):
            return name
    declared = _http_charset(content_type)
    if declared:
        return declared
    meta = _META_CHARSET.search(body[:4096])
    if meta and (named := _known(meta.group(1).decode("ascii", "replace"))):
        return "utf-8" if named.startswith("utf-16") else named  # a page that says so in ASCII is not UTF-16
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    guess = chardet.detect(body[:65536]).get("encoding")
    return _known(guess) or "cp1252"


def decode_page(raw: RawResponse) -> str:
    """The page as text, decoded as a browser would; undecodable bytes become U+FFFD."""
    encoding = page_encoding(raw.body, raw.content_type)
    text = raw.body.decode(encoding, errors="replace").lstrip("\ufeff")
    return _XML_DECLARATION.sub("", text, count=1)  # lxml refuses str with an encoding declaration
