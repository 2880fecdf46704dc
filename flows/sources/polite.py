"""Being a polite crawler: robots.txt, a per-host pace, and the server's own limits.

One ``Politeness`` per process is shared by every fetch (``POLITENESS``), so two
sources on the same host still take turns. It remembers, per host, when the next
request may go: after the minimum interval, after a ``Retry-After``, or after an
``X-RateLimit-Reset`` once the remaining allowance reached zero.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from protego import Protego

from voxwatch.httptime import header_time

MIN_INTERVAL_SECONDS = 1.0
MAX_WAIT_SECONDS = 120.0  # never sleep longer inside a run; later runs pick up from the cursor


def seconds_until(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` or reset header as seconds from now: delta-seconds, epoch, or a date."""
    now = time.time() if now is None else now
    when = header_time(value, datetime.fromtimestamp(now, UTC))
    # Rounded to the microsecond a datetime holds, so "Retry-After: 10" is 10 s, not 10.0000001.
    return None if when is None else round(max(0.0, when.timestamp() - now), 6)


class Politeness:
    def __init__(
        self, min_interval: float = MIN_INTERVAL_SECONDS, sleep: Callable[[float], None] = time.sleep
    ):
        self.min_interval = min_interval
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at: dict[str, float] = {}
        self._robots: dict[str, Protego | None] = {}

    @staticmethod
    def host(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def wait_turn(self, url: str, interval: float | None = None) -> float:
        """Sleep until this host may be asked again; returns the seconds waited."""
        host = self.host(url)
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at.get(host, 0.0))
            self._next_at[host] = start + (self.min_interval if interval is None else interval)
        delay = min(start - now, MAX_WAIT_SECONDS)
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)

    def hold_off(self, url: str, seconds: float) -> None:
        """The server asked us to wait: no request to this host before then."""
        host = self.host(url)
        with self._lock:
            self._next_at[host] = max(self._next_at.get(host, 0.0), time.monotonic() + seconds)

    def observe(self, url: str, headers: httpx.Headers) -> None:
        """Follow ``X-RateLimit-Remaining: 0`` with its reset time."""
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.strip() in ("0", "0.0"):
            wait = seconds_until(headers.get("x-ratelimit-reset"))
            if wait:
                self.hold_off(url, min(wait, MAX_WAIT_SECONDS))

    def allowed(self, url: str, user_agent: str, client: httpx.Client) -> bool:
        """robots.txt says yes (or there is none / it cannot be read)."""
        host = self.host(url)
        if host not in self._robots:
            parser: Protego | None = None
            try:
                response = client.get(f"{host}/robots.txt")
                if response.status_code == 200:
                    parser = Protego.parse(response.text)
            except httpx.HTTPError:
                parser = None
            self._robots[host] = parser
        parser = self._robots[host]
        return parser is None or bool(parser.can_fetch(url, user_agent))


POLITENESS = Politeness()
