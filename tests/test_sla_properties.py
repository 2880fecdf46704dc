"""SLA time is real time: properties across clock changes, night shifts, 24/7 teams and holidays.

A 2 hour target must be 2 hours for the customer on the night the clocks change, too.
``add_working_time`` walks working spans; it is checked here against two oracles that
know nothing of it:

- ``quarters_worked`` reads the local wall clock of every quarter hour and asks whether
  a person on that calendar is at work then (the plain reading of a calendar). It is
  exact for the usual calendars below, whose opening and closing times never fall
  inside a clock change in these zones.
- ``working_time_between`` lays every working day's span out in UTC from the zone's
  offset (``fold=0`` for a wall time that is missing or repeated, as the settings
  document), merges them and adds up the overlap with ``[start, end)``: exact to the
  microsecond for any calendar, including ones that open inside the missing hour.

Start times are drawn anywhere in 2026 and, mostly, within days of a clock change of
the zone (found by scanning the zone, not from a table), given in UTC, in the
calendar's own zone (where ``fold`` tells the two 01:30s of an autumn night apart) or
in a fixed offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.sla import (
    add_working_time,
    clock_start,
    first_response_due,
    is_working_time,
    promised_time,
    resolution_due,
    round_up_to_quarter_hour,
)
from voxwatch.domain import RoutingCandidate, Score, StoredMention, Tier
from voxwatch.settings import BusinessHours, SlaSettings

# Zones with clock changes of one hour at 01:00 UTC (London), at local 02:00 (New York),
# in the southern summer (Sydney, Santiago, whose change is at local midnight), of half
# an hour (Lord Howe), and zones without any (Shanghai, UTC).
ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Shanghai",
    "UTC",
)
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]
WEEKDAYS = [0, 1, 2, 3, 4]
QUARTER = timedelta(minutes=15)
LONDON = ZoneInfo("Europe/London")


# --- the oracles ---------------------------------------------------------------------------------------


def is_day_on(calendar: BusinessHours, day: date) -> bool:
    return day.weekday() in calendar.weekdays and day not in calendar.holidays


def at_work_by_the_wall_clock(calendar: BusinessHours, instant: datetime) -> bool:
    """Whether the local wall clock at ``instant`` shows a time inside a working span.

    A night shift (or a 24-hour day) belongs to the day it starts on: after midnight,
    the question is whether yesterday was a working day.
    """
    local = instant.astimezone(ZoneInfo(calendar.timezone))
    day, clock = local.date(), local.time()
    if calendar.start < calendar.end:
        return is_day_on(calendar, day) and calendar.start <= clock < calendar.end
    return (is_day_on(calendar, day) and clock >= calendar.start) or (
        is_day_on(calendar, day - timedelta(days=1)) and clock < calendar.end
    )


def quarters_worked(calendar: BusinessHours, start: datetime, end: datetime) -> int:
    """Quarter hours in ``[start, end)`` (both on the UTC quarter-hour grid) spent at work."""
    count, cursor, end = 0, start.astimezone(UTC), end.astimezone(UTC)
    while cursor < end:
        count += at_work_by_the_wall_clock(calendar, cursor)
        cursor += QUARTER
    return count


def utc_of(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """When ``zone``'s clock shows ``clock`` on ``day``, by its offset at that wall time (fold=0)."""
    wall = datetime.combine(day, clock)
    offset = zone.utcoffset(wall)
    assert offset is not None
    return (wall - offset).replace(tzinfo=UTC)


def spans_between(calendar: BusinessHours, first: date, last: date) -> list[tuple[datetime, datetime]]:
    """Every working day's span from ``first`` to ``last`` in UTC, merged where they touch or overlap."""
    zone = ZoneInfo(calendar.timezone)
    raw = []
    day = first
    while day <= last:
        if is_day_on(calendar, day):
            closing_day = day if calendar.start < calendar.end else day + timedelta(days=1)
            opens, closes = utc_of(day, calendar.start, zone), utc_of(closing_day, calendar.end, zone)
            if closes > opens:
                raw.append((opens, closes))
        day += timedelta(days=1)
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in sorted(raw):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def local_days(calendar: BusinessHours, start: datetime, end: datetime) -> tuple[date, date]:
    zone = ZoneInfo(calendar.timezone)
    return start.astimezone(zone).date() - timedelta(days=2), end.astimezone(zone).date() + timedelta(days=1)


def working_time_between(start: datetime, end: datetime, calendar: BusinessHours) -> timedelta:
    """Working time in ``[start, end)``: the overlap of each merged span with it, added up."""
    total = timedelta(0)
    for opens, closes in spans_between(calendar, *local_days(calendar, start, end)):
        total += max(timedelta(0), min(closes, end) - max(opens, start))
    return total


def inside_or_closing(calendar: BusinessHours, moment: datetime) -> bool:
    """Whether ``moment`` is inside a working span (after its opening) or exactly at its end."""
    return any(
        opens < moment <= closes
        for opens, closes in spans_between(calendar, *local_days(calendar, moment, moment))
    )


# --- strategies ----------------------------------------------------------------------------------------


@cache
def clock_changes(zone_name: str, year: int = 2026) -> tuple[datetime, ...]:
    """The UTC instants at which ``zone_name``'s offset changes in ``year``, by scanning every half hour."""
    zone, step = ZoneInfo(zone_name), timedelta(minutes=30)
    cursor, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    changes, offset = [], cursor.astimezone(zone).utcoffset()
    while cursor < end:
        cursor += step
        now_offset = cursor.astimezone(zone).utcoffset()
        if now_offset != offset:
            changes.append(cursor)
            offset = now_offset
    return tuple(changes)


def test_the_zones_drawn_from_change_their_clocks_as_these_tests_assume() -> None:
    assert [len(clock_changes(z)) for z in ZONES] == [2, 2, 2, 2, 2, 0, 0]
    assert clock_changes("Europe/London") == (
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
    )


@st.composite
def moments(draw: st.DrawFn, zone_name: str, grid: timedelta | None = None) -> datetime:
    """An aware start time: near one of the zone's clock changes (mostly) or anywhere in 2026.

    On ``grid`` (from midnight UTC) when given; written in UTC, in the zone itself or in a
    fixed offset, so the code sees every kind of aware datetime.
    """
    changes = clock_changes(zone_name)
    if changes and draw(st.integers(0, 3)):
        anchor = draw(st.sampled_from(changes))
        instant = anchor + timedelta(minutes=draw(st.integers(-4 * 24 * 60, 4 * 24 * 60)))
        if grid is None:
            instant += timedelta(microseconds=draw(st.integers(0, 60_000_000 - 1)))
    else:
        instant = draw(st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 20), timezones=st.just(UTC)))
    if grid is not None:
        midnight = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        instant = midnight + ((instant - midnight) // grid) * grid
    written_in = draw(st.sampled_from([UTC, ZoneInfo(zone_name), timezone(timedelta(hours=-3, minutes=-30))]))
    return instant.astimezone(written_in)


USUAL = {
    "office 9-17": ("09:00", "17:00", WEEKDAYS),
    "24/7": ("00:00", "24:00", EVERY_DAY),
    "night 22-06": ("22:00", "06:00", WEEKDAYS),
}


@st.composite
def usual_cases(draw: st.DrawFn) -> tuple[BusinessHours, datetime]:
    """One of the usual calendars in a zone, some holidays near the start, and the start."""
    zone = draw(st.sampled_from(ZONES))
    start = draw(moments(zone, QUARTER))
    opens, closes, weekdays = USUAL[draw(st.sampled_from(sorted(USUAL)))]
    if draw(st.booleans()):
        weekdays = sorted(draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)))
    holidays = holidays_near(draw, start, zone)
    calendar = BusinessHours.model_validate(
        {"timezone": zone, "start": opens, "end": closes, "weekdays": weekdays, "holidays": holidays}
    )
    return calendar, start


def holidays_near(draw: st.DrawFn, start: datetime, zone: str) -> list[date]:
    day = start.astimezone(ZoneInfo(zone)).date()
    offsets = draw(st.lists(st.integers(-1, 12), max_size=4, unique=True))
    return [day + timedelta(days=n) for n in offsets]


@st.composite
def any_calendar_cases(draw: st.DrawFn) -> tuple[BusinessHours, datetime]:
    """Any calendar: opening and closing at any quarter hour (even inside a missing hour), any start."""
    zone = draw(st.sampled_from(ZONES))
    start = draw(moments(zone))
    quarter_hours = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
    opens = draw(quarter_hours)
    closes = draw(st.one_of(quarter_hours, st.just(opens)))
    weekdays = sorted(draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)))
    holidays = holidays_near(draw, start, zone)
    calendar = BusinessHours(timezone=zone, start=opens, end=closes, weekdays=weekdays, holidays=holidays)
    return calendar, start


quarter_targets = st.integers(1, 48 * 4)  # up to 48 hours, in quarter hours
minute_targets = st.integers(1, 60 * 60)  # up to 60 hours, in minutes


def in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# --- properties: the usual calendars, against the wall clock -------------------------------------------


@given(case=usual_cases(), quarters=quarter_targets)
@settings(max_examples=200, deadline=None)
def test_the_wall_clock_counts_exactly_the_target_between_start_and_due(
    case: tuple[BusinessHours, datetime], quarters: int
) -> None:
    calendar, start = case
    due = add_working_time(start, quarters / 4, calendar)
    assert in_utc(due) >= in_utc(start)
    assert quarters_worked(calendar, start, due) == quarters
    # The due time is at work or the very end of a span: the quarter before it was worked.
    assert at_work_by_the_wall_clock(calendar, in_utc(due) - QUARTER)


@given(case=usual_cases(), offset=st.integers(-3 * 24 * 60, 3 * 24 * 60))
@settings(max_examples=200, deadline=None)
def test_is_working_time_agrees_with_the_wall_clock(
    case: tuple[BusinessHours, datetime], offset: int
) -> None:
    calendar, start = case
    moment = start + timedelta(minutes=offset)
    assert is_working_time(calendar, moment) is at_work_by_the_wall_clock(calendar, moment)


# --- properties: any calendar, against the spans laid out in UTC ----------------------------------------


@given(case=any_calendar_cases(), minutes=minute_targets)
@settings(max_examples=250, deadline=None)
def test_working_time_between_start_and_due_is_exactly_the_target(
    case: tuple[BusinessHours, datetime], minutes: int
) -> None:
    calendar, start = case
    due = add_working_time(start, minutes / 60, calendar)
    assert due.tzinfo is start.tzinfo  # answered in the zone it was asked in
    assert in_utc(due) >= in_utc(start) + timedelta(minutes=minutes)  # never faster than real time
    assert working_time_between(in_utc(start), in_utc(due), calendar) == timedelta(minutes=minutes)
    assert inside_or_closing(calendar, in_utc(due))


@given(case=any_calendar_cases(), offset=st.timedeltas(timedelta(days=-3), timedelta(days=3)))
@settings(max_examples=200, deadline=None)
def test_is_working_time_is_inside_a_span(case: tuple[BusinessHours, datetime], offset: timedelta) -> None:
    calendar, start = case
    moment = in_utc(start + offset)
    spans = spans_between(calendar, *local_days(calendar, moment, moment))
    assert is_working_time(calendar, moment) is any(opens <= moment < closes for opens, closes in spans)


@given(
    case=any_calendar_cases(), later_by=st.timedeltas(timedelta(0), timedelta(days=4)), minutes=minute_targets
)
@settings(max_examples=150, deadline=None)
def test_a_later_start_is_never_due_earlier(
    case: tuple[BusinessHours, datetime], later_by: timedelta, minutes: int
) -> None:
    calendar, start = case
    first = add_working_time(start, minutes / 60, calendar)
    # Later in real time: local wall-clock addition drops ``fold`` and can go back an hour in autumn.
    later = (in_utc(start) + later_by).astimezone(start.tzinfo)
    assert in_utc(first) <= in_utc(add_working_time(later, minutes / 60, calendar))


@given(case=any_calendar_cases(), minutes=minute_targets, extra=st.integers(-1, 10))
@settings(max_examples=150, deadline=None)
def test_one_more_holiday_never_makes_a_case_due_earlier(
    case: tuple[BusinessHours, datetime], minutes: int, extra: int
) -> None:
    calendar, start = case
    holiday = start.astimezone(ZoneInfo(calendar.timezone)).date() + timedelta(days=extra)
    busier = calendar.model_copy(update={"holidays": [*calendar.holidays, holiday]})
    before = add_working_time(start, minutes / 60, calendar)
    after = add_working_time(start, minutes / 60, busier)
    assert in_utc(after) >= in_utc(before)
    assert working_time_between(in_utc(start), in_utc(after), busier) == timedelta(minutes=minutes)


@given(
    zone=st.sampled_from(ZONES),
    data=st.data(),
    minutes=st.integers(1, 7 * 24 * 60),
)
@settings(max_examples=200, deadline=None)
def test_round_the_clock_the_due_time_is_start_plus_target_in_real_time(
    zone: str, data: st.DataObject, minutes: int
) -> None:
    start = data.draw(moments(zone))
    always = BusinessHours(timezone=zone, start=time(0), end=time(0), weekdays=EVERY_DAY)
    expected = in_utc(start) + timedelta(minutes=minutes)
    assert in_utc(add_working_time(start, minutes / 60, always)) == expected
    assert in_utc(add_working_time(start, minutes / 60, None)) == expected


# --- worked examples: the London clock changes, 24/7 ---------------------------------------------------

ROUND_THE_CLOCK = {
    "00:00-24:00": BusinessHours.model_validate(
        {"timezone": "Europe/London", "start": "00:00", "end": "24:00", "weekdays": EVERY_DAY}
    ),
    "start == end": BusinessHours(timezone="Europe/London", start=time(0), end=time(0), weekdays=EVERY_DAY),
}


@pytest.mark.parametrize("calendar", ROUND_THE_CLOCK.values(), ids=ROUND_THE_CLOCK.keys())
@pytest.mark.parametrize(
    ("start", "wall_due"),
    [
        # Spring: 29 March 2026, 01:00 GMT becomes 02:00 BST. Wall clock arithmetic made this 1 hour.
        pytest.param(datetime(2026, 3, 29, 0, 30, tzinfo=LONDON), (3, 30, 0), id="spring-00:30-GMT"),
        pytest.param(
            datetime(2026, 3, 28, 23, 30, tzinfo=LONDON), (2, 30, 0), id="spring-23:30-the-day-before"
        ),
        pytest.param(datetime(2026, 3, 29, 2, 0, tzinfo=LONDON), (4, 0, 0), id="spring-02:00-BST"),
        # Autumn: 25 October 2026, 02:00 BST becomes 01:00 GMT. Wall clock arithmetic made this 3 hours.
        pytest.param(datetime(2026, 10, 25, 0, 30, tzinfo=LONDON), (1, 30, 1), id="autumn-00:30-BST"),
        pytest.param(datetime(2026, 10, 25, 1, 30, tzinfo=LONDON), (2, 30, 0), id="autumn-first-01:30"),
        pytest.param(
            datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON), (3, 30, 0), id="autumn-second-01:30"
        ),
    ],
)
def test_two_hours_round_the_clock_are_two_real_hours_across_london_clock_changes(
    calendar: BusinessHours, start: datetime, wall_due: tuple[int, int, int]
) -> None:
    due = add_working_time(start, 2, calendar)
    assert in_utc(due) - in_utc(start) == timedelta(hours=2)
    hour, minute, fold = wall_due
    local = due.astimezone(LONDON)
    assert (local.hour, local.minute, local.fold) == (hour, minute, fold)
    # In UTC: Python never finds a second 01:30 (fold=1) equal to a datetime in another zone.
    assert first_response_due(SlaSettings(business_hours=calendar), Tier.URGENT, start) == in_utc(due)


@pytest.mark.parametrize(
    ("saturday", "hours", "due"),
    [
        # The night the clocks go forward is 7 hours long: 8 hours of work end the next Saturday night.
        (date(2026, 3, 28), 7, datetime(2026, 3, 29, 5, tzinfo=UTC)),
        (date(2026, 3, 28), 8, datetime(2026, 4, 4, 22, tzinfo=UTC)),
        # The night they go back is 9 hours long: 9 hours of work end at its close, 06:00 GMT.
        (date(2026, 10, 24), 9, datetime(2026, 10, 25, 6, tzinfo=UTC)),
    ],
)
def test_a_saturday_night_shift_in_london_is_as_long_as_the_night_really_is(
    saturday: date, hours: float, due: datetime
) -> None:
    nights = BusinessHours(timezone="Europe/London", start="22:00", end="06:00", weekdays=[5])  # type: ignore[arg-type]
    start = datetime.combine(saturday, time(22), LONDON)
    assert add_working_time(start, hours, nights) == due


# --- worked examples: night shifts and holidays (UTC, 22:00 to 06:00, Monday to Friday) ----------------

NIGHTS = BusinessHours(timezone="UTC", start="22:00", end="06:00")  # type: ignore[arg-type]
FRIDAY_5AM = datetime(2026, 11, 27, 5, tzinfo=UTC)  # inside Thursday night's shift


@pytest.mark.parametrize(
    ("holidays", "due"),
    [
        pytest.param([], datetime(2026, 11, 27, 23, tzinfo=UTC), id="thursday-night-then-friday-night"),
        # Friday's shift (Friday 22:00 to Saturday 06:00) is off; Thursday's still runs past midnight.
        pytest.param([date(2026, 11, 27)], datetime(2026, 11, 30, 23, tzinfo=UTC), id="friday-holiday"),
        # Thursday's shift is off, so Friday 05:00 is not working time at all.
        pytest.param([date(2026, 11, 26)], datetime(2026, 11, 28, 0, tzinfo=UTC), id="thursday-holiday"),
    ],
)
def test_a_night_shift_belongs_to_the_day_it_starts_on(holidays: list[date], due: datetime) -> None:
    calendar = NIGHTS.model_copy(update={"holidays": holidays})
    assert add_working_time(FRIDAY_5AM, 2, calendar) == due


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (datetime(2026, 11, 27, 5, 59, tzinfo=UTC), True),  # Thursday's shift, Friday morning
        (datetime(2026, 11, 27, 6, tzinfo=UTC), False),
        (datetime(2026, 11, 27, 22, tzinfo=UTC), True),  # Friday's shift opens
        (datetime(2026, 11, 28, 5, tzinfo=UTC), True),  # ... and runs into Saturday
        (datetime(2026, 11, 28, 22, tzinfo=UTC), False),  # Saturday has no shift
        (datetime(2026, 11, 30, 5, tzinfo=UTC), False),  # Monday morning: Sunday night has no shift
    ],
)
def test_is_working_time_on_a_night_shift(moment: datetime, working: bool) -> None:
    assert is_working_time(NIGHTS, moment) is working


def test_due_times_come_back_in_utc_whatever_offset_the_post_gave() -> None:
    paris_noon = datetime(2026, 3, 29, 12, tzinfo=timezone(timedelta(hours=2)))
    for due in (
        first_response_due(SlaSettings(), Tier.URGENT, paris_noon),
        resolution_due(SlaSettings(), paris_noon),
    ):
        assert due.tzinfo is UTC
    assert first_response_due(SlaSettings(), Tier.URGENT, paris_noon) == datetime(2026, 3, 29, 12, tzinfo=UTC)


# --- naive datetimes are refused where they come in ----------------------------------------------------

NAIVE = datetime(2026, 3, 29, 1, 30)
OFFICE = BusinessHours(timezone="Europe/London")


def naive_candidate() -> RoutingCandidate:
    mention = StoredMention("m1", "blog", "text", "someone", "en", NAIVE, NAIVE)
    score = Score("negative", {"negative": 0.9, "neutral": 0.05, "positive": 0.05}, "test-model")
    return RoutingCandidate(mention, score, 0)


NAIVE_CALLS: dict[str, Callable[[], Any]] = {
    "add_working_time": lambda: add_working_time(NAIVE, 2, OFFICE),
    "add_working_time-without-calendar": lambda: add_working_time(NAIVE, 2, None),
    "is_working_time": lambda: is_working_time(OFFICE, NAIVE),
    "first_response_due": lambda: first_response_due(SlaSettings(), Tier.URGENT, NAIVE),
    "resolution_due": lambda: resolution_due(SlaSettings(), NAIVE),
    "promised_time-due": lambda: promised_time(NAIVE, datetime.now(UTC), SlaSettings()),
    "promised_time-now": lambda: promised_time(datetime.now(UTC), NAIVE, SlaSettings()),
    "round_up_to_quarter_hour": lambda: round_up_to_quarter_hour(NAIVE),
    "clock_start": lambda: clock_start(naive_candidate()),
}


@pytest.mark.parametrize("call", NAIVE_CALLS.values(), ids=NAIVE_CALLS.keys())
def test_a_naive_datetime_is_refused_naming_it(call: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match=r"time-zone-aware.*2026-03-29T01:30:00"):
        call()


# --- the promise: never in the past, on a quarter hour when recomputed -----------------------------------


@given(
    due=st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
    now=st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
    calendar=st.sampled_from([None, OFFICE, NIGHTS]),
)
@settings(max_examples=200, deadline=None)
def test_a_promise_is_never_in_the_past(due: datetime, now: datetime, calendar: BusinessHours | None) -> None:
    sla = SlaSettings(business_hours=calendar)
    promised = promised_time(due, now, sla)
    assert promised > now
    if due > now:
        assert promised == due
    else:
        assert promised == round_up_to_quarter_hour(promised)
        assert promised >= first_response_due(sla, Tier.URGENT, now)
        assert promised - first_response_due(sla, Tier.URGENT, now) < QUARTER
