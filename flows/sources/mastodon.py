"""Mastodon hashtag timelines (``/api/v1/timelines/tag/:tag``).

Settings: ``url`` is the instance (``https://mastodon.social``) and ``query`` the
hashtag. The cursor is the newest status id stored; the next request asks for
statuses after it with ``min_id``. A full page is followed, within the same run,
by the Link header's ``rel="prev"`` page (the newer statuses), so a burst of
posts is read to the end. The instance's ``timelines_access`` is checked first.
``parse`` also reads a single status and a status context, so any recorded
Mastodon answer can be replayed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import from_iso, html_to_text, load_json
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError, SourceError
from voxwatch.settings import Settings, SourceSettings

PAGE_SIZE = 40  # the API's maximum


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    tag = (source.query or "").lstrip("#")
    params = {"limit": str(PAGE_SIZE)}
    if state.cursor:
        params["min_id"] = state.cursor
    return FetchRequest(
        url=f"{source.url.rstrip('/')}/api/v1/timelines/tag/{tag}", params=params, expect="json"
    )


def prepare(source: SourceSettings, settings: Settings, client: httpx.Client) -> dict[str, str]:
    """Check the instance lets anonymous readers see hashtag feeds (Mastodon 4.6 may not)."""
    try:
        response = client.get(f"{source.url.rstrip('/')}/api/v2/instance")
        config = response.json().get("configuration", {}) if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}  # older instances: no such setting, feeds are public
    access = (config.get("timelines_access") or {}).get("hashtag_feeds") or {}
    if access and "public" not in access.values():
        raise SourceError(
            source.name,
            f"{source.url} does not show hashtag feeds to anonymous readers (timelines_access: {access})",
        )
    return {}


def _statuses(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return [s for s in payload if isinstance(s, dict)]
    if isinstance(payload, dict) and "content" in payload and "id" in payload:
        return [payload]
    if isinstance(payload, dict) and ("ancestors" in payload or "descendants" in payload):
        return [
            s for key in ("ancestors", "descendants") for s in payload.get(key, []) if isinstance(s, dict)
        ]
    raise ParseError("not a Mastodon status, status list or status context")


def _mention(status: dict[str, Any]) -> Mention | None:
    original = status.get("reblog") or status  # a boost is the original post, counted once
    text = html_to_text(str(original.get("content") or ""))
    spoiler = html_to_text(str(original.get("spoiler_text") or ""))
    if not text and not spoiler:
        return None
    account = original.get("account") or {}
    followers = account.get("followers_count")
    return Mention(
        external_id=str(original.get("uri") or original["id"]),
        text=f"{spoiler}\n{text}".strip() if spoiler else text,
        url=original.get("url") or original.get("uri"),
        author=account.get("acct") or account.get("username"),
        published_at=from_iso(original.get("created_at")),
        # the author's declared language is often wrong; the collect stage detects it
        author_reach=int(followers) if isinstance(followers, int) else None,
    )


def parse(raw: RawResponse) -> ParsedPage:
    payload = load_json(raw)
    try:
        statuses = _statuses(payload)
    except ParseError as exc:
        raise ParseError(f"{raw.url}: {exc}") from None
    mentions = [m for m in (_mention(s) for s in statuses) if m]
    ids = [int(s["id"]) for s in statuses if str(s.get("id", "")).isdigit()]
    newer = _link_min_id(raw.headers.get("link")) if len(statuses) >= PAGE_SIZE else None
    return ParsedPage(
        mentions=mentions,
        next_cursor=str(max(ids)) if ids else None,
        next_page={"min_id": newer} if newer else None,
    )


def _link_min_id(link: str | None) -> str | None:
    """The ``min_id`` of the Link header's ``rel="prev"`` page: the statuses newer than these."""
    for part in (link or "").split(","):
        if 'rel="prev"' in part and "<" in part and ">" in part:
            url = part[part.index("<") + 1 : part.index(">")]
            found = parse_qs(urlsplit(url).query).get("min_id")
            if found:
                return found[0]
    return None
