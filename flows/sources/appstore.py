"""Apple App Store customer reviews, from the public JSON feed (no key).

Settings: ``url`` is the feed for one storefront and app, e.g.
``https://itunes.apple.com/cn/rss/customerreviews/page=1/id=APP_ID/sortby=mostrecent/json``.
The first entry of a page can be the app's own metadata rather than a review
(it has no rating); it is skipped.
"""

from __future__ import annotations

from typing import Any

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import from_iso, html_to_text, load_json
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    return FetchRequest(url=source.url, expect="json")


def _label(node: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if isinstance(node, dict):
        node = node.get("label")
    return str(node) if node is not None else None


def _review(entry: dict[str, Any]) -> Mention | None:
    rating = _label(entry, "im:rating")
    body = html_to_text(_label(entry, "content") or "")
    review_id = _label(entry, "id")
    if rating is None or not body or not review_id:
        return None  # the app metadata entry, or an empty review
    link = entry.get("link")
    href = link.get("attributes", {}).get("href") if isinstance(link, dict) else None
    return Mention(
        external_id=review_id,
        text=body,
        title=_label(entry, "title"),
        url=href,
        author=_label(entry, "author", "name"),
        published_at=from_iso(_label(entry, "updated")),
        rating=float(rating),
    )


def parse(raw: RawResponse) -> ParsedPage:
    payload = load_json(raw)
    feed = payload.get("feed") if isinstance(payload, dict) else None
    if not isinstance(feed, dict):
        raise ParseError(f"{raw.url}: JSON has no 'feed'; not an App Store reviews feed")
    entries = feed.get("entry", [])
    if isinstance(entries, dict):  # a page with one entry is not a list
        entries = [entries]
    mentions = [m for m in (_review(e) for e in entries if isinstance(e, dict)) if m]
    return ParsedPage(mentions=mentions)
