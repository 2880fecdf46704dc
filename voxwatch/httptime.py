"""When a server asked us to come back: one reading of ``Retry-After`` and rate-limit reset headers.

Sources (``flows.sources.polite``) and publishers (``responders.publishing.http``)
both obey these headers, whose values come in four shapes: a delay in seconds, a
Unix time (``X-RateLimit-Reset`` on many APIs), an HTTP date, or an ISO 8601 time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

EPOCH_THRESHOLD = 1_000_000_000  # larger numbers are Unix times, smaller ones a delay in seconds


def header_time(value: str | None, now: datetime) -> datetime | None:
    """The moment a header names, read from ``now``; None when the value is missing or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        return _date(value)
    if math.isnan(number) or number == math.inf:
        return None
    number = max(number, 0.0)  # a delay below zero (even -inf) means: now
    try:
        if number > EPOCH_THRESHOLD:
            return datetime.fromtimestamp(number, tz=UTC)
        return now + timedelta(seconds=number)
    except (OverflowError, OSError, ValueError):  # a time past what a datetime can hold
        return None


def _date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
