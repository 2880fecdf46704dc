"""SLA due times per tier, from settings (defaults from DOMAIN.md).

With business hours configured, the clock only runs inside working hours on
working days that are not holidays: a complaint at 17:30 on Friday with a 2 hour
target is due at 10:30 on Monday when the team works 9 to 18, Monday to Friday.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from voxwatch.domain import RoutingCandidate, Tier
from voxwatch.settings import BusinessHours, SlaSettings


def clock_start(candidate: RoutingCandidate) -> datetime:
    """When the SLA clock starts: at publication, but never before we were watching.

    A post from before a source was first collected could not have been
    answered sooner, so a first backfill does not open a flood of breaches.
    """
    said = candidate.mention.published_at or candidate.mention.collected_at
    watching = candidate.watch_started_at
    return max(said, watching) if watching else said


def add_working_time(since: datetime, hours: float, calendar: BusinessHours | None) -> datetime:
    """``since`` plus ``hours`` of working time under ``calendar`` (or plain time)."""
    if calendar is None:
        return since + timedelta(hours=hours)
    zone = ZoneInfo(calendar.timezone)
    cursor = since.astimezone(zone)
    remaining = timedelta(hours=hours)
    for _ in range(3660):  # ten years of days: a calendar with no working day ends here
        day_start = datetime.combine(cursor.date(), calendar.start, zone)
        day_end = datetime.combine(cursor.date(), calendar.end, zone)
        working_day = cursor.weekday() in calendar.weekdays and cursor.date() not in calendar.holidays
        if working_day and cursor < day_end:
            cursor = max(cursor, day_start)
            available = day_end - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(since.tzinfo)
            remaining -= available
        next_day = cursor.date() + timedelta(days=1)
        cursor = datetime.combine(next_day, calendar.start, zone)
    raise ValueError("business hours leave no working time")


def is_working_time(calendar: BusinessHours, moment: datetime) -> bool:
    """Whether ``moment`` falls inside the calendar's hours on a working day."""
    local = moment.astimezone(ZoneInfo(calendar.timezone))
    return (
        local.weekday() in calendar.weekdays
        and local.date() not in calendar.holidays
        and calendar.start <= local.time() < calendar.end
    )


def first_response_due(sla: SlaSettings, tier: Tier, since: datetime) -> datetime:
    hours = sla.urgent_first_response_hours if tier is Tier.URGENT else sla.normal_first_response_hours
    return add_working_time(since, hours, sla.business_hours)


def resolution_due(sla: SlaSettings, since: datetime) -> datetime:
    return add_working_time(since, sla.resolution_hours, sla.business_hours)
