"""Hacker News through the Algolia search API (``search_by_date``), no key needed.

The cursor is the newest ``created_at_i`` stored; the next request asks only for
items after it (``numericFilters=created_at_i>X``), which is also how to page past
Algolia's 1,000-hit cap.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import html_to_text
from voxwatch.domain import Mention
from voxwatch.errors import ParseError
from voxwatch.settings import SourceSettings
from voxwatch.store.queries import SourceState

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
    try:
        payload = json.loads(raw.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"{raw.url}: response is not valid JSON ({exc})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
        raise ParseError(f"{raw.url}: JSON has no 'hits' list; not an Algolia search response")
    hits = [h for h in payload["hits"] if isinstance(h, dict)]
    mentions = [m for m in (_hit_mention(h) for h in hits) if m]
    stamps = [int(h["created_at_i"]) for h in hits if h.get("created_at_i") is not None]
    return ParsedPage(mentions=mentions, next_cursor=str(max(stamps)) if stamps else None)
