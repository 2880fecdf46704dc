"""RSS and Atom feeds: news, blogs, alerts, Reddit's ``.rss`` listings and searches.

feedparser does the hard parts: declared and undeclared encodings, and broken
feeds parsed as far as they go (its ``bozo`` flag). Where feedparser gives up on
a broken feed, lxml's recovering parser reads what it can (items whose tags carry
an undeclared prefix, a mangled XML declaration) before the feed is called
broken. A feed that yields nothing and is broken, or an empty body, is an error,
not "no new posts".
"""

from __future__ import annotations

import hashlib

import feedparser
from lxml import etree

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import from_any_date, from_struct_time, html_to_text
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    return FetchRequest(url=source.url, expect="xml")


def _entry_text(entry: feedparser.FeedParserDict) -> str:
    if entry.get("content"):
        return html_to_text(entry.content[0].get("value", ""))
    return html_to_text(entry.get("summary", ""))


ITEM_TAGS = ("item", "entry")
# What a forum shows in place of a post its author or a moderator deleted.
DELETED_MARKERS = frozenset({"[deleted]", "[removed]", "[deleted by user]"})
FIELDS = {
    "title": ("title",),
    "link": ("link",),
    "id": ("guid", "id"),
    "text": ("encoded", "content", "description", "summary"),
    "author": ("creator", "author", "name"),
    "date": ("pubdate", "published", "updated", "date"),
}


def _local(tag: object) -> str:
    """A tag's name without namespace or prefix, even a prefix nobody declared."""
    return str(tag).rsplit("}", 1)[-1].rsplit(":", 1)[-1].casefold() if isinstance(tag, str) else ""


def _first(item: etree._Element, names: tuple[str, ...]) -> str:
    for name in names:
        for node in item.iter():
            if node is not item and _local(node.tag) == name:
                value = node.get("href") if name == "link" and node.get("href") else node.text
                if value and value.strip():
                    return value.strip()
    return ""


def _recovered_entries(body: bytes) -> list[feedparser.FeedParserDict]:
    """Items lxml's recovering parser finds in a feed feedparser could not read, shaped like its entries."""
    try:
        root = etree.fromstring(body, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    entries = []
    for item in root.iter():
        if _local(item.tag) not in ITEM_TAGS:
            continue
        found = {key: _first(item, names) for key, names in FIELDS.items()}
        when = from_any_date(found["date"])
        entries.append(
            feedparser.FeedParserDict(
                title=found["title"],
                link=found["link"],
                id=found["id"],
                summary=found["text"],
                author=found["author"],
                published_parsed=when.utctimetuple() if when else None,
            )
        )
    return entries


def parse(raw: RawResponse) -> ParsedPage:
    if not raw.body.strip():
        raise ParseError(f"{raw.url}: empty response where a feed was expected")
    feed = feedparser.parse(raw.body, response_headers={"content-type": raw.content_type or ""})
    entries = feed.entries
    if feed.bozo and not entries:
        entries = _recovered_entries(raw.body)
    if feed.bozo and not entries and not feed.feed:
        raise ParseError(f"{raw.url}: not a readable feed ({feed.get('bozo_exception')})")
    mentions, deleted = [], []
    for entry in entries:
        title = html_to_text(entry.get("title", ""))
        text = _entry_text(entry) or title
        if not text:
            continue
        ident = entry.get("id") or entry.get("link")
        if not ident:
            ident = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:24]
        if text.strip().casefold() in DELETED_MARKERS:  # Reddit shows a deleted post like this
            deleted.append(str(ident))
            continue
        mentions.append(
            Mention(
                external_id=str(ident),
                text=text,
                title=title or None,
                url=entry.get("link"),
                author=entry.get("author") or None,
                published_at=from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
            )
        )
    return ParsedPage(mentions=mentions, deleted=deleted)
