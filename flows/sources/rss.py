"""RSS and Atom feeds: news, blogs, alerts, Reddit's ``.rss`` listings and searches.

feedparser does the hard parts: declared and undeclared encodings, and broken
feeds parsed as far as they go (its ``bozo`` flag). A feed that yields nothing
and is broken is an error, not "no new posts".
"""

from __future__ import annotations

import hashlib

import feedparser

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import from_struct_time, html_to_text
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    return FetchRequest(url=source.url, expect="xml")


def _entry_text(entry: feedparser.FeedParserDict) -> str:
    if entry.get("content"):
        return html_to_text(entry.content[0].get("value", ""))
    return html_to_text(entry.get("summary", ""))


def parse(raw: RawResponse) -> ParsedPage:
    feed = feedparser.parse(raw.body, response_headers={"content-type": raw.content_type or ""})
    if feed.bozo and not feed.entries and not feed.feed:
        raise ParseError(f"{raw.url}: not a readable feed ({feed.get('bozo_exception')})")
    mentions = []
    for entry in feed.entries:
        title = html_to_text(entry.get("title", ""))
        text = _entry_text(entry) or title
        if not text:
            continue
        ident = entry.get("id") or entry.get("link")
        if not ident:
            ident = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:24]
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
    return ParsedPage(mentions=mentions)
