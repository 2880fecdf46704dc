"""Bluesky post search (``app.bsky.feed.searchPosts``), which needs a login.

Settings: ``url`` is the service (``https://bsky.social``), ``query`` the search.
The account comes from the environment only: ``VOXWATCH_BLUESKY__IDENTIFIER``
(handle or email) and ``VOXWATCH_BLUESKY__APP_PASSWORD`` (an app password, never
the main one). Without them the source is marked degraded with that message.

The cursor is the newest post time stored; the next search asks ``since`` it,
and walks the search's own ``cursor`` pages, logging in once for the whole run.
``parse`` also reads ``getPostThread`` and ``getAuthorFeed`` answers, which need
no login, so their recordings can be replayed.
"""

from __future__ import annotations

from typing import Any

import httpx

from flows.sources.base import FetchRequest, ParsedPage, RawResponse
from flows.sources.text import from_iso, load_json
from voxwatch.domain import Mention, SourceState
from voxwatch.errors import ParseError, SourceError
from voxwatch.settings import Settings, SourceSettings

PAGE_SIZE = 100


def build_request(source: SourceSettings, state: SourceState) -> FetchRequest:
    params = {"q": source.query or "", "limit": str(PAGE_SIZE), "sort": "latest"}
    if state.cursor:
        params["since"] = state.cursor
    return FetchRequest(
        url=f"{source.url.rstrip('/')}/xrpc/app.bsky.feed.searchPosts", params=params, expect="json"
    )


def prepare(source: SourceSettings, settings: Settings, client: httpx.Client) -> dict[str, str]:
    """Log in with the app password from the environment; return the bearer header.

    Called once per run (``flows.collect.log_in``); the header serves every page.
    """
    credentials = settings.bluesky
    if not credentials.identifier or credentials.app_password is None:
        raise SourceError(
            source.name,
            "Bluesky search needs a login: set VOXWATCH_BLUESKY__IDENTIFIER and "
            "VOXWATCH_BLUESKY__APP_PASSWORD (an app password) in the environment",
        )
    url = f"{source.url.rstrip('/')}/xrpc/com.atproto.server.createSession"
    body = {"identifier": credentials.identifier, "password": credentials.app_password.get_secret_value()}
    response = client.post(url, json=body)
    if response.status_code in (400, 401):
        raise SourceError(
            source.name, f"Bluesky refused the login for {credentials.identifier} (HTTP 401/400)"
        )
    response.raise_for_status()
    try:
        answer = response.json()
    except ValueError:
        raise SourceError(source.name, f"Bluesky's login answer from {url} is not JSON") from None
    token = answer.get("accessJwt") if isinstance(answer, dict) else None
    if not token:
        raise SourceError(source.name, "Bluesky login answered without an access token")
    return {"Authorization": f"Bearer {token}"}


def _posts(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise ParseError("not a Bluesky response object")
    if isinstance(payload.get("posts"), list):  # searchPosts
        return [p for p in payload["posts"] if isinstance(p, dict)]
    if isinstance(payload.get("feed"), list):  # getAuthorFeed
        return [item["post"] for item in payload["feed"] if isinstance(item, dict) and "post" in item]
    if isinstance(payload.get("thread"), dict):  # getPostThread: the post and every reply
        found, stack = [], [payload["thread"]]
        while stack:
            node = stack.pop(0)
            if isinstance(node, dict) and isinstance(node.get("post"), dict):
                found.append(node["post"])
                stack.extend(node.get("replies") or [])
        return found
    raise ParseError("no posts, feed or thread in the response")


def _mention(post: dict[str, Any]) -> Mention | None:
    record = post.get("record") or {}
    text = str(record.get("text") or "").strip()
    if not text or not post.get("uri"):
        return None  # image-only posts have nothing to read
    author = post.get("author") or {}
    handle = author.get("handle")
    rkey = str(post["uri"]).rsplit("/", 1)[-1]
    return Mention(
        external_id=str(post["uri"]),
        text=text,
        url=f"https://bsky.app/profile/{handle}/post/{rkey}" if handle else None,
        author=handle,
        published_at=from_iso(record.get("createdAt") or post.get("indexedAt")),
    )


def parse(raw: RawResponse) -> ParsedPage:
    payload = load_json(raw)
    try:
        posts = _posts(payload)
    except ParseError as exc:
        raise ParseError(f"{raw.url}: {exc}") from None
    mentions = [m for m in (_mention(p) for p in posts) if m]
    stamps = [m.published_at for m in mentions if m.published_at]
    newest = max(stamps).isoformat().replace("+00:00", "Z") if stamps else None
    # searchPosts pages with an opaque cursor; the run's first page holds the newest post.
    first_page = "cursor=" not in raw.url
    more = payload.get("cursor") if isinstance(payload.get("posts"), list) and posts else None
    return ParsedPage(
        mentions=mentions,
        next_cursor=newest if first_page else None,
        next_page={"cursor": str(more)} if more else None,
    )
