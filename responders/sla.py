"""SLA due times per tier, from settings (defaults from DOMAIN.md).

With business hours configured, the clock only runs inside working hours on
working days that are not holidays: a complaint at 17:30 on Friday with a 2 hour
target is due at 10:30 on Monday when the team works 9 to 18, Monday to Friday.

The clock counts real time. Working spans are laid out on the team's local
calendar (see ``BusinessHours``: same-day, overnight and 24-hour spans) and then
measured in UTC, so a 2 hour target is 2 hours for the customer even on the night
the clocks change. Every moment in and out of this module is time-zone aware; a
naive datetime has no single meaning and is refused with a ``ValueError`` that
names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from voxwatch.domain import RoutingCandidate, Tier
from voxwatch.settings import BusinessHours, SlaSettings

# Ten years of days: a calendar with no working day (or all holidays) stops here.
SEARCH_DAYS = 3660
QUARTER_HOUR = timedelta(minutes=15)


def require_aware(moment: datetime, name: str) -> datetime:
    """``moment`` itself, or a ``ValueError`` naming it when it has no time zone.

    A naive datetime could be UTC or any local time; guessing would move a due time
    by hours without anyone noticing, so the SLA code refuses it at the door.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a time-zone-aware datetime, got naive {moment.isoformat()!r}")
    return moment


def clock_start(candidate: RoutingCandidate) -> datetime:
    """When the SLA clock starts: at publication, but never before we were watching.

    A post from before a source was first collected could not have been
    answered sooner, so a first backfill does not open a flood of breaches.
    """
    mention = candidate.mention
    said = require_aware(mention.published_at or mention.collected_at, f"mention {mention.id} time")
    watching = candidate.watch_started_at
    if watching is None:
        return said
    return max(said, require_aware(watching, f"watch start of {mention.source}"))


def local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``zone``'s wall clock reads ``clock`` on ``day``, with ``fold=0``.

    A time that happens twice (clocks going back) is its first occurrence; one that
    never happens (clocks going forward) keeps the offset from before the change,
    as PEP 495 defines, so it lands as far past the jump as it was into the gap.
    """
    return datetime.combine(day, clock, zone).replace(fold=0).astimezone(UTC)


def working_span(calendar: BusinessHours, day: date) -> tuple[datetime, datetime] | None:
    """The UTC ``[opens, closes)`` of ``day``'s working span, or None when ``day`` is off.

    An overnight (or 24-hour) span closes on the next day but belongs to ``day``.
    A span made empty by a clock change (both ends inside the missing hour) is None.
    """
    if day.weekday() not in calendar.weekdays or day in calendar.holidays:
        return None
    zone = ZoneInfo(calendar.timezone)
    closing_day = day + timedelta(days=1) if calendar.overnight else day
    opens = local_to_utc(day, calendar.start, zone)
    closes = local_to_utc(closing_day, calendar.end, zone)
    return (opens, closes) if closes > opens else None


def working_spans(calendar: BusinessHours, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working spans in order, starting with the one that may already be open at ``since``.

    Spans from consecutive days can touch, and around a clock change can even overlap;
    callers walk them with a cursor that only moves forward, so no time counts twice.
    """
    day = since.astimezone(ZoneInfo(calendar.timezone)).date() - timedelta(days=1)
    for offset in range(SEARCH_DAYS):
        span = working_span(calendar, day + timedelta(days=offset))
        if span is not None:
            yield span


def add_working_time(since: datetime, hours: float, calendar: BusinessHours | None) -> datetime:
    """``since`` plus ``hours`` of working time under ``calendar`` (or plain time).

    The answer is in ``since``'s time zone. Subtract two such datetimes only after
    ``astimezone(UTC)``: Python subtracts wall clocks when both share one zone object.
    """
    require_aware(since, "SLA start")
    if hours < 0:
        raise ValueError(f"an SLA target cannot be negative, got {hours} hours")
    remaining = timedelta(hours=hours)
    if calendar is None:
        return (since.astimezone(UTC) + remaining).astimezone(since.tzinfo)
    cursor = since.astimezone(UTC)
    for opens, closes in working_spans(calendar, since):
        cursor = max(cursor, opens)
        if cursor >= closes:
            continue
        if remaining <= closes - cursor:
            return (cursor + remaining).astimezone(since.tzinfo)
        remaining -= closes - cursor
        cursor = closes
    raise ValueError("business hours leave no working time")


def is_working_time(calendar: BusinessHours, moment: datetime) -> bool:
    """Whether ``moment`` falls inside a working span (opening instant in, closing instant out)."""
    instant = require_aware(moment, "moment").astimezone(UTC)
    today = instant.astimezone(ZoneInfo(calendar.timezone)).date()
    spans = (working_span(calendar, today - timedelta(days=1)), working_span(calendar, today))
    return any(span is not None and span[0] <= instant < span[1] for span in spans)


def first_response_due(sla: SlaSettings, tier: Tier, since: datetime) -> datetime:
    """When the first reply is due: the tier's target in working time from ``since``, in UTC.

    UTC, as the store keeps it, so a notice that says "UTC" beside it is right even
    when the post gave its time with another offset.
    """
    hours = sla.urgent_first_response_hours if tier is Tier.URGENT else sla.normal_first_response_hours
    since = require_aware(since, "first-response clock start")
    return add_working_time(since, hours, sla.business_hours).astimezone(UTC)


def resolution_due(sla: SlaSettings, since: datetime) -> datetime:
    """When the case should be resolved: the resolution target in working time from ``since``, in UTC."""
    since = require_aware(since, "resolution clock start")
    return add_working_time(since, sla.resolution_hours, sla.business_hours).astimezone(UTC)


def round_up_to_quarter_hour(moment: datetime) -> datetime:
    """The first quarter hour at or after ``moment``: people promise 17:15, not 17:08:41."""
    instant = require_aware(moment, "moment").astimezone(UTC)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    quarters = -(-(instant - epoch) // QUARTER_HOUR)  # whole quarter hours, rounded up, in integers
    return (epoch + quarters * QUARTER_HOUR).astimezone(moment.tzinfo)


def promised_time(due: datetime, now: datetime, sla: SlaSettings) -> datetime:
    """The time to promise a customer: ``due``, or, once that has passed, a time we can still keep.

    A promise already in the past breaks trust twice, so a late case promises the
    urgent first-response target in working time from ``now``, on a quarter hour.
    """
    require_aware(due, "reply-by due time")
    require_aware(now, "now")
    if due.astimezone(UTC) > now.astimezone(UTC):  # in UTC: a fold=1 time compares oddly across zones
        return due
    soonest = add_working_time(now, sla.urgent_first_response_hours, sla.business_hours)
    return round_up_to_quarter_hour(soonest)
