"""The one place the HTTP publishers' failures become ours: mapped, worded, and redacted.

Every call a publisher makes goes through ``JsonApi.call``, which turns what can
go wrong into ``voxwatch.errors``' publishing errors:

- a timeout, a refused or dropped connection, HTTP 408, 429 or 5xx: the try may
  pass later, ``TransientPublishError`` (``retry_after`` from ``Retry-After``,
  or the ``X-RateLimit-Reset`` / ``RateLimit-Reset`` Mastodon and Bluesky send);
  ``PossiblyPosted`` when a post was sent and the answer was lost;
- any other 4xx: ``Refused``, with the platform's own error (Mastodon's
  ``{"error": ...}``, XRPC's ``{"error": ..., "message": ...}``);
- a bad URL, a redirect, a body that is not the JSON promised: ``PublishError``.

No library exception leaves (each is raised ``from None``, so its text, which
for httpx holds the URL, is not chained either), and every message passes
through ``redact`` with the publisher's secrets. httpx logs each request's URL
at INFO; ``hide_in_logs`` redacts registered secrets (a webhook URL carries its
token) from the ``httpx`` logger's records.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx

from responders.publishing.base import redact
from responders.publishing.errors import PossiblyPosted, Refused
from voxwatch import __version__
from voxwatch.errors import PublishError, TransientPublishError
from voxwatch.httptime import header_time

USER_AGENT = f"VoxWatch/{__version__} (customer care replies; +https://github.com/voxwatch/voxwatch)"
TRANSIENT_STATUSES = frozenset({408, 425, 429})
SAFE_METHODS = frozenset({"GET", "HEAD"})
# After the request went out: a POST that meets one of these may have landed.
LOST_ANSWER = (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
MAX_DETAIL = 300  # characters of a platform's error text kept in our message
# Below this a reset header is a delay in seconds, above it a Unix time (as Bluesky sends).
ERROR_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")

Secrets = Callable[[], Iterable[str | None]]


class _RedactingFilter(logging.Filter):
    """Rewrites a record's message with every registered secret replaced by ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            secrets = tuple(self.secrets)
        message = record.getMessage()
        cleaned = redact(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_LOG_FILTER = _RedactingFilter()
logging.getLogger("httpx").addFilter(_LOG_FILTER)


def hide_in_logs(*secrets: str | None) -> None:
    """Keep these secrets out of httpx's own log lines (it logs every request's URL)."""
    with _LOG_FILTER.lock:
        _LOG_FILTER.secrets.update(s for s in secrets if s and len(s) >= 4)


def retry_after(response: httpx.Response, now: datetime | None = None) -> datetime | None:
    """When the platform asked us back: Retry-After first, else a rate-limit reset header."""
    now = now or datetime.now(UTC)
    for name in ("retry-after", "x-ratelimit-reset", "ratelimit-reset"):
        when = header_time(response.headers.get(name), now)
        if when is not None:
            return max(when, now)
    return None


def platform_error(response: httpx.Response) -> tuple[str | None, str]:
    """The platform's error name, if it gave one, and its words, from a JSON or a text body.

    XRPC answers ``{"error": "RecordNotFound", "message": "..."}``; Mastodon puts its
    sentence in ``error`` alone (``{"error": "Record not found"}``), so ``error`` is
    taken for a name only when it looks like one.
    """
    try:
        body = response.json()
    except ValueError:
        return None, response.text.strip()[:MAX_DETAIL]
    if not isinstance(body, dict):
        return None, str(body)[:MAX_DETAIL]
    error = str(body.get("error") or "")
    message = str(body.get("message") or body.get("error_description") or "")
    code = error if ERROR_NAME.fullmatch(error) else None
    words = f"{error}: {message}" if error and message else (message or error)
    return code, words[:MAX_DETAIL]


def status_error(response: httpx.Response, doing: str, secrets: Iterable[str | None]) -> PublishError:
    """A non-2xx answer as ours: 408/425/429/5xx may pass, anything else is a refusal."""
    status = response.status_code
    code, detail = platform_error(response)
    message = redact(f"{doing}: HTTP {status}" + (f" {detail}" if detail else ""), secrets)
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientPublishError(message, retry_after=retry_after(response))
    return Refused(message, status=status, code=code)


def transport_error(exc: Exception, doing: str, method: str, secrets: Iterable[str | None]) -> PublishError:
    """An httpx exception as ours; the name of its class is kept, its text (with the URL) is not trusted."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
        return TransientPublishError(redact(f"{doing}: could not connect ({kind})", secrets))
    if isinstance(exc, LOST_ANSWER):
        if method in SAFE_METHODS:
            return TransientPublishError(redact(f"{doing}: no answer ({kind})", secrets))
        lost = f"{doing}: sent, but no answer came back ({kind}); it may have landed"
        return PossiblyPosted(redact(lost, secrets))
    if isinstance(exc, httpx.TransportError):
        return TransientPublishError(redact(f"{doing}: {kind}: {exc}", secrets))
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return PublishError(redact(f"{doing}: not a usable http(s) URL ({kind})", secrets))
    return PublishError(redact(f"{doing}: {kind}: {exc}", secrets))


MAPPED = (httpx.HTTPError, httpx.InvalidURL, UnicodeError)


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every call: building one (reading the CA bundle) costs more than a request."""
    return httpx.create_ssl_context()


class JsonApi:
    """One platform's JSON API at ``base_url``: every call either answers JSON or raises ours.

    ``secrets`` is asked afresh for each message, so a session token obtained later
    (Bluesky's access JWT) is redacted as well as the configured ones.
    """

    def __init__(self, platform: str, base_url: str, timeout: float, secrets: Secrets) -> None:
        self.platform = platform
        self.base_url = base_url  # paths are appended as given: a webhook's own URL keeps its slash
        self.timeout = timeout
        self.secrets = secrets

    def call(
        self,
        method: str,
        path: str,
        doing: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        need_json: bool = True,
    ) -> Any:
        """Send one request; return the parsed JSON body (``None`` for none when not ``need_json``)."""
        doing = f"{self.platform}: {doing}"
        try:
            response = httpx.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"} | (headers or {}),
                timeout=self.timeout,
                follow_redirects=False,
                verify=_tls(),
            )
        except MAPPED as exc:
            raise transport_error(exc, doing, method, self.secrets()) from None
        return self._read(response, doing, method, need_json)

    def _read(self, response: httpx.Response, doing: str, method: str, need_json: bool) -> Any:
        if response.status_code >= 300:
            raise status_error(response, doing, self.secrets())
        try:
            return response.json()
        except ValueError:
            if not need_json:
                return None
            kind = TransientPublishError if method in SAFE_METHODS else PossiblyPosted
            got = response.headers.get("content-type", "no content type")
            message = f"{doing}: HTTP {response.status_code} but not JSON ({got})"
            raise kind(redact(message, self.secrets())) from None

    def error(self, doing: str, problem: str) -> PublishError:
        """A well-formed answer that lacks what we need: a refusal naming what was missing."""
        return PublishError(redact(f"{self.platform}: {doing}: {problem}", self.secrets()))


def pick(data: Any, *path: str | int) -> Any:
    """``data[path[0]][path[1]]...`` or None when any step is missing or of the wrong shape."""
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and -len(data) <= step < len(data):
            data = data[step]
        elif isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data
