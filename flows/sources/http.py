"""Fetching, shared by every source: the one place httpx errors become ours, and the one retry policy.

Transient failures (timeouts, connection errors, 429, 5xx) are retried here,
with backoff, inside an overall deadline per fetch; nothing else retries them
(the Prefect tasks do not), so retries never multiply. A ``Retry-After`` that is
short is waited out; a longer one raises ``RateLimited`` with the time to come
back, which the collect flow stores so later runs wait too. Everything else
that is wrong (401/403/404, a redirect loop, HTML where JSON was expected, a
body over the size cap, a body still trickling in at the deadline) raises
``SourceError`` and marks the source degraded; it is never read as "no new posts".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from flows.sources.base import FetchRequest, RawResponse
from flows.sources.polite import POLITENESS, Politeness, seconds_until
from voxwatch import __version__
from voxwatch.errors import RateLimited, SourceError, TransientSourceError

USER_AGENT = f"VoxWatch/{__version__} (brand-mention monitor; +https://github.com/voxwatch/voxwatch)"
MAX_BODY_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
BACKOFF_SECONDS = (1.0, 4.0, 10.0)  # waits between the attempts of one fetch (with jitter)

_EXPECTED_TYPES = {
    "json": ("json",),
    "xml": ("xml", "rss", "atom", "text/plain"),
    "html": ("html", "xhtml"),
}


@dataclass(frozen=True)
class Limits:
    """How long one fetch may take in all, how many attempts, what to wait out inside a run."""

    deadline_seconds: float = 60.0
    attempts: int = len(BACKOFF_SECONDS) + 1
    max_wait_in_run_seconds: float = 10.0
    max_bytes: int = MAX_BODY_BYTES
    timeout: httpx.Timeout = field(default_factory=lambda: TIMEOUT)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        return self.ends - time.monotonic()


def _read_capped(response: httpx.Response, source: str, cap: int, deadline: _Deadline) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise SourceError(source, f"{response.url}: body of {declared} bytes is over the {cap}-byte cap")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise SourceError(source, f"{response.url}: body is over the {cap}-byte cap")
        if deadline.left() <= 0:
            raise TransientSourceError(
                source,
                f"{response.url}: body still arriving after {deadline.seconds:g} s "
                f"({size} bytes so far); not read as complete",
            )
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
    """Seconds the server asked us to wait (429/503 with Retry-After), if it said."""
    if response.status_code not in (429, 503):
        return None
    return seconds_until(response.headers.get("retry-after"))


def _status_error(source: str, url: object, status: int) -> SourceError:
    """A 4xx or 5xx as ours: 429 and 5xx may pass (retried), the rest will not."""
    kind = TransientSourceError if status == 429 or status >= 500 else SourceError
    return kind(source, f"{url}: HTTP {status}")


def _to_raw(
    response: httpx.Response, request: FetchRequest, source: str, max_bytes: int, deadline: _Deadline
) -> RawResponse:
    status = response.status_code
    if status >= 400:
        raise _status_error(source, response.url, status)
    body = b""
    if status != 304:
        _check_type(response, request, source)
        body = _read_capped(response, source, max_bytes, deadline)
    return RawResponse(
        url=str(response.url),
        status=status,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=body,
        fetched_at=datetime.now(UTC),
    )


def as_source_error(source: str, url: str, exc: Exception) -> SourceError:
    """Every httpx error (and a URL httpx cannot use) as ours, naming the source and the URL.

    The one place they are mapped: timeouts and transport failures may pass and are
    transient; a redirect loop, an undecodable body or a bad URL will not.
    """
    if isinstance(exc, httpx.TimeoutException):
        return TransientSourceError(source, f"{url}: timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.TooManyRedirects):
        return SourceError(source, f"{url}: too many redirects (a redirect loop?)")
    if isinstance(exc, httpx.DecodingError):
        return SourceError(source, f"{url}: the body could not be decoded ({exc})")
    if isinstance(exc, httpx.HTTPStatusError):
        return _status_error(source, exc.request.url, exc.response.status_code)
    if isinstance(exc, httpx.UnsupportedProtocol):  # a URL that no retry will mend
        return SourceError(source, f"{url}: not an http(s) URL ({exc})")
    if isinstance(exc, httpx.TransportError):
        return TransientSourceError(source, f"{url}: {type(exc).__name__}: {exc}")
    return SourceError(source, f"{url}: {type(exc).__name__}: {exc}")


MAPPED = (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError)


def _one_attempt(
    client: httpx.Client,
    request: FetchRequest,
    source: str,
    limits: Limits,
    deadline: _Deadline,
    polite: Politeness,
) -> RawResponse | float:
    """One GET: the response, or the seconds the server asked us to wait before trying again."""
    polite.wait_turn(request.url, request.min_interval)
    left = max(deadline.left(), 0.1)  # waiting for headers counts against the deadline too
    timeout = httpx.Timeout(
        min(limits.timeout.read or left, left), connect=min(limits.timeout.connect or left, left)
    )
    with client.stream("GET", request.url, params=request.params or None, timeout=timeout) as response:
        polite.observe(request.url, response.headers)
        wait = _retry_after(response)
        if wait is not None:
            if wait > min(limits.max_wait_in_run_seconds, max(deadline.left(), 0.0)):
                until = datetime.now(UTC) + timedelta(seconds=wait)
                status = response.status_code
                asked = f"asked to wait until {until:%Y-%m-%d %H:%M} UTC"
                raise RateLimited(source, f"{response.url}: HTTP {status}, {asked}", until)
            return wait
        return _to_raw(response, request, source, limits.max_bytes, deadline)


def _backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (0-based), jittered so sources do not align."""
    return BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)] * (1 + random.uniform(-0.5, 0.5))


def fetch(
    request: FetchRequest,
    source: str,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: Limits | None = None,
    polite: Politeness = POLITENESS,
    session: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RawResponse:
    """GET one page within ``limits.deadline_seconds``; a 304 comes back with status 304 and no body.

    ``session`` holds headers from a login done once per run (``login``). HTML
    pages are fetched only where robots.txt allows; each host is paced.
    """
    limits = limits or Limits()
    headers = {"User-Agent": USER_AGENT} | (session or {})
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = _Deadline(limits.deadline_seconds)
    last: SourceError | None = None
    try:
        with httpx.Client(timeout=limits.timeout, follow_redirects=True, headers=headers) as client:
            if request.expect == "html" and not polite.allowed(request.url, USER_AGENT, client):
                raise SourceError(source, f"{request.url}: robots.txt disallows fetching it for {USER_AGENT}")
            for attempt in range(limits.attempts):
                try:
                    outcome = _one_attempt(client, request, source, limits, deadline, polite)
                except TransientSourceError as exc:
                    last, pause = exc, _backoff(attempt)
                except MAPPED as exc:
                    mapped = as_source_error(source, request.url, exc)
                    if not isinstance(mapped, TransientSourceError):
                        raise mapped from exc
                    last, pause = mapped, _backoff(attempt)
                else:
                    if isinstance(outcome, RawResponse):
                        return outcome
                    polite.hold_off(request.url, outcome)  # the server's own wait, then ask again
                    last, pause = TransientSourceError(source, f"{request.url}: asked to wait"), 0.0
                if attempt + 1 == limits.attempts or deadline.left() <= pause:
                    break
                sleep(pause)
    except MAPPED as exc:
        raise as_source_error(source, request.url, exc) from exc
    assert last is not None
    raise last


def login(
    prepare: Callable[[httpx.Client], dict[str, str]], source: str, url: str, limits: Limits | None = None
) -> dict[str, str]:
    """Run a source's log-in (or access check) once for the run; its headers serve every page.

    Whatever the log-in raises from httpx, or a body that is not what it expects,
    becomes a ``SourceError`` naming the source.
    """
    try:
        timeout = (limits or Limits()).timeout
        with httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}) as client:
            return prepare(client)
    except MAPPED as exc:
        raise as_source_error(source, url, exc) from exc
