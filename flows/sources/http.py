"""Fetching, shared by every source: the one place httpx errors become ours.

Transient failures (timeouts, connection errors, 429, 5xx) raise
``TransientSourceError`` so the fetch task retries them; everything else that is
wrong (401/403/404, HTML where JSON was expected, a body over the size cap)
raises ``SourceError`` and marks the source degraded; it is never read as "no
new posts".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from flows.sources.base import FetchRequest, RawResponse
from flows.sources.polite import POLITENESS, Politeness, seconds_until
from voxwatch import __version__
from voxwatch.errors import SourceError, TransientSourceError

USER_AGENT = f"VoxWatch/{__version__} (brand-mention monitor; +https://github.com/voxwatch/voxwatch)"
MAX_BODY_BYTES = 10 * 1024 * 1024
RETRY_AFTER_ATTEMPTS = 2
MAX_RETRY_AFTER_SECONDS = 60.0
TIMEOUT = httpx.Timeout(20.0, connect=10.0)

_EXPECTED_TYPES = {
    "json": ("json",),
    "xml": ("xml", "rss", "atom", "text/plain"),
    "html": ("html", "xhtml"),
}


def _read_capped(response: httpx.Response, source: str, cap: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise SourceError(source, f"{response.url}: body of {declared} bytes is over the {cap}-byte cap")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise SourceError(source, f"{response.url}: body is over the {cap}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_type(response: httpx.Response, request: FetchRequest, source: str) -> None:
    content_type = response.headers.get("content-type", "").lower()
    wanted = _EXPECTED_TYPES.get(request.expect)
    if not wanted or not content_type:
        return
    if request.expect != "html" and "html" in content_type:
        raise SourceError(
            source, f"{response.url}: got HTML ({content_type}) where {request.expect} was expected"
        )
    if not any(token in content_type for token in wanted):
        raise SourceError(source, f"{response.url}: unexpected content type {content_type!r}")


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before asking again, when the server said so and it is short."""
    if response.status_code not in (429, 503):
        return None
    wait = seconds_until(response.headers.get("retry-after"))
    return wait if wait is not None and wait <= MAX_RETRY_AFTER_SECONDS else None


def _to_raw(response: httpx.Response, request: FetchRequest, source: str, max_bytes: int) -> RawResponse:
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientSourceError(source, f"{response.url}: HTTP {status}")
    if status >= 400:
        raise SourceError(source, f"{response.url}: HTTP {status}")
    body = b""
    if status != 304:
        _check_type(response, request, source)
        body = _read_capped(response, source, max_bytes)
    return RawResponse(
        url=str(response.url),
        status=status,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=body,
        fetched_at=datetime.now(UTC),
    )


def fetch(
    request: FetchRequest,
    source: str,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_BODY_BYTES,
    timeout: httpx.Timeout = TIMEOUT,
    polite: Politeness = POLITENESS,
    auth: Callable[[httpx.Client], dict[str, str]] | None = None,
) -> RawResponse:
    """GET one page; a 304 comes back as a ``RawResponse`` with status 304 and no body.

    ``auth`` logs in first for sources that need it. HTML pages are fetched only
    where robots.txt allows; each host is paced; a
    429/503 with a short ``Retry-After`` is waited out and asked again here,
    anything longer becomes a transient error for the task's own retries.
    """
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client:
            if request.expect == "html" and not polite.allowed(request.url, USER_AGENT, client):
                raise SourceError(source, f"{request.url}: robots.txt disallows fetching it for {USER_AGENT}")
            if auth is not None:  # a source that needs a login gets its token on this client
                client.headers.update(auth(client))
            for attempt in range(RETRY_AFTER_ATTEMPTS + 1):
                polite.wait_turn(request.url, request.min_interval)
                with client.stream("GET", request.url, params=request.params or None) as response:
                    polite.observe(request.url, response.headers)
                    wait = _retry_after(response)
                    if wait is not None and attempt < RETRY_AFTER_ATTEMPTS:
                        polite.hold_off(request.url, wait)  # obey, then ask again
                        continue
                    return _to_raw(response, request, source, max_bytes)
            raise AssertionError("unreachable: the last attempt returns or raises")
    except httpx.TimeoutException as exc:
        raise TransientSourceError(source, f"{request.url}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientSourceError(source, f"{request.url}: {type(exc).__name__}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise SourceError(source, f"{request.url}: invalid URL ({exc})") from exc
