"""Hacker News through the Algolia search API (``search_by_date``), no key needed.

The cursor is the newest ``created_at_i`` stored; the next request asks only for
items after it (``numericFilters=created_at_i>X``). A run walks every page; when a
query has more hits than Algolia will page through (1,000), the walk continues
with a slice of older items (``created_at_i<=`` the oldest seen), so none is missed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import html_to_text, load_json
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings

ITEM_URL = "https://news.ycombinator.com/item?id={}"


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    params = {"query": source.query or "", "tags": "(story,comment)", "hitsPerPage": "100"}
    if state.cursor:
        params["numericFilters"] = f"created_at_i>{int(state.cursor)}"
    return FetchRequest(url=source.url, params=params, expect="json")


def _hit_mention(hit: dict[str, Any]) -> Mention | None:
    body = hit.get("comment_text") or hit.get("story_text") or ""
    title = hit.get("title") or hit.get("story_title")
    text = html_to_text(str(body)) or html_to_text(str(title or ""))
    if not text or hit.get("objectID") is None:
        return None
    created = hit.get("created_at_i")
    return Mention(
        external_id=str(hit["objectID"]),
        text=text,
        title=html_to_text(str(title)) if title else None,
        url=ITEM_URL.format(hit["objectID"]),
        author=hit.get("author"),
        published_at=datetime.fromtimestamp(int(created), tz=UTC) if created is not None else None,
    )


def parse(raw: RawResponse) -> ParsedPage:
    payload = load_json(raw)
    if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
        raise ParseError(f"{raw.url}: JSON has no 'hits' list; not an Algolia search response")
    hits = [h for h in payload["hits"] if isinstance(h, dict)]
    mentions = [m for m in (_hit_mention(h) for h in hits) if m]
    stamps = [int(h["created_at_i"]) for h in hits if h.get("created_at_i") is not None]
    filters = parse_qs(urlsplit(raw.url).query).get("numericFilters", [""])[0]
    page = int(payload.get("page", 0) or 0)
    # Newest first: the run's first page (no upper bound, page 0) holds the newest item.
    cursor = str(max(stamps)) if stamps and page == 0 and "created_at_i<" not in filters else None
    return ParsedPage(mentions=mentions, next_cursor=cursor, next_page=_next_page(payload, filters, stamps))


def _next_page(payload: dict[str, Any], filters: str, stamps: list[int]) -> dict[str, str] | None:
    """The next page of this run; past Algolia's 1,000-hit cap, a new slice of older items."""
    page = int(payload.get("page", 0) or 0)
    pages = int(payload.get("nbPages", 1) or 1)
    if page + 1 < pages:
        return {"page": str(page + 1)}
    per_page = int(payload.get("hitsPerPage", 0) or 0)
    if stamps and per_page and int(payload.get("nbHits", 0) or 0) > pages * per_page:
        lower = [f for f in filters.split(",") if f.startswith("created_at_i>")]
        return {"page": "0", "numericFilters": ",".join([*lower, f"created_at_i<={min(stamps)}"])}
    return None
