"""SLA clock arithmetic (responders/sla.py): due times with and without business hours.

The due time of every case comes from ``add_working_time``; a wrong answer means cases
breach early (alarms at night) or late (customers wait). The properties check it against
an independent day-by-day sum of working time, in fixed-offset zones; clock changes,
overnight and 24/7 calendars are checked in tests/test_sla_properties.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from responders.sla import add_working_time, clock_start, first_response_due, is_working_time, resolution_due
from voxwatch.domain import RoutingCandidate, Score, StoredMention, Tier
from voxwatch.settings import BusinessHours, SlaSettings

OFFICE = BusinessHours(timezone="UTC", start=time(9), end=time(18))  # Monday to Friday
SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXED_ZONES = ("UTC", "Etc/GMT-8", "Asia/Shanghai")  # no DST in these since 1992


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def working_time_between(calendar: BusinessHours, start: datetime, end: datetime) -> timedelta:
    """Working time in ``[start, end)``, summed day by day (independent of the code under test)."""
    zone = ZoneInfo(calendar.timezone)
    total = timedelta(0)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if day.weekday() in calendar.weekdays and day not in calendar.holidays:
            opens = datetime.combine(day, calendar.start, zone)
            closes = datetime.combine(day, calendar.end, zone)
            overlap = min(end, closes) - max(start, opens)
            total += max(overlap, timedelta(0))
        day += timedelta(days=1)
    return total


# --- strategies ----------------------------------------------------------------------------------------


@st.composite
def calendars(draw: st.DrawFn) -> BusinessHours:
    opens = draw(st.integers(0, 22))
    closes = draw(st.integers(opens + 1, 23))
    start = time(opens, draw(st.sampled_from([0, 30])))
    end = time(closes, draw(st.sampled_from([0, 15, 59])))
    weekdays = draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True))
    holidays = draw(st.lists(st.dates(date(2025, 12, 20), date(2026, 3, 1)), max_size=12, unique=True))
    return BusinessHours(
        timezone=draw(st.sampled_from(FIXED_ZONES)),
        start=start,
        end=end,
        weekdays=sorted(weekdays),
        holidays=holidays,
    )


moments = st.datetimes(datetime(2026, 1, 1), datetime(2026, 2, 1), timezones=st.just(UTC))
target_minutes = st.integers(1, 60 * 60)  # up to 60 hours of work


# --- without a calendar: plain clock time --------------------------------------------------------------


@given(start=moments, minutes=st.integers(1, 60 * 24 * 30))
@settings(max_examples=200, deadline=None)
def test_without_business_hours_due_is_start_plus_target_exactly(start: datetime, minutes: int) -> None:
    assert add_working_time(start, minutes / 60, None) - start == timedelta(minutes=minutes)


def test_without_business_hours_a_weekend_night_counts_like_any_hour() -> None:
    saturday_night = utc(11, 28, 23, 30)
    assert add_working_time(saturday_night, 2, None) == utc(11, 29, 1, 30)


# --- with a calendar: properties -----------------------------------------------------------------------


@given(calendar=calendars(), start=moments, minutes=target_minutes)
@settings(max_examples=250, deadline=None)
def test_working_time_between_start_and_due_equals_the_target(
    calendar: BusinessHours, start: datetime, minutes: int
) -> None:
    due = add_working_time(start, minutes / 60, calendar)
    assert working_time_between(calendar, start, due) == timedelta(minutes=minutes)


@given(calendar=calendars(), start=moments, minutes=target_minutes)
@settings(max_examples=250, deadline=None)
def test_due_falls_inside_working_hours_or_exactly_at_closing(
    calendar: BusinessHours, start: datetime, minutes: int
) -> None:
    due = add_working_time(start, minutes / 60, calendar)
    local = due.astimezone(ZoneInfo(calendar.timezone))
    assert local.weekday() in calendar.weekdays and local.date() not in calendar.holidays
    # Opening time itself is impossible for a positive target: some work must have been done that day.
    assert calendar.start < local.time() <= calendar.end
    assert is_working_time(calendar, due) or local.time() == calendar.end


@given(calendar=calendars(), first=moments, later_by=st.timedeltas(timedelta(0), timedelta(days=9)))
@settings(max_examples=200, deadline=None)
def test_a_later_start_is_never_due_earlier(
    calendar: BusinessHours, first: datetime, later_by: timedelta
) -> None:
    assert add_working_time(first, 3, calendar) <= add_working_time(first + later_by, 3, calendar)


@given(
    calendar=calendars(),
    start=moments,
    minutes=target_minutes,
    extra=st.dates(date(2026, 1, 1), date(2026, 3, 1)),
)
@settings(max_examples=200, deadline=None)
def test_one_more_holiday_never_makes_a_case_due_earlier(
    calendar: BusinessHours, start: datetime, minutes: int, extra: date
) -> None:
    busier = calendar.model_copy(update={"holidays": [*calendar.holidays, extra]})
    before = add_working_time(start, minutes / 60, calendar)
    after = add_working_time(start, minutes / 60, busier)
    assert after >= before
    assert working_time_between(busier, start, after) == timedelta(minutes=minutes)


@given(calendar=calendars(), start=moments, minutes=target_minutes)
@settings(max_examples=150, deadline=None)
def test_due_is_never_before_start_plus_target(
    calendar: BusinessHours, start: datetime, minutes: int
) -> None:
    # Working time can only be slower than the wall clock, never faster.
    assert add_working_time(start, minutes / 60, calendar) >= start + timedelta(minutes=minutes)


@given(start=moments, minutes=target_minutes)
@settings(max_examples=100, deadline=None)
def test_due_keeps_the_time_zone_it_was_given(start: datetime, minutes: int) -> None:
    local_start = start.astimezone(SHANGHAI)
    due = add_working_time(local_start, minutes / 60, OFFICE)
    assert due.tzinfo is SHANGHAI
    assert due == add_working_time(start, minutes / 60, OFFICE)


# --- with a calendar: worked examples (9 to 18 UTC, Monday to Friday; 27 Nov 2026 is a Friday) ---------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(utc(11, 27, 17, 30), 2, utc(11, 30, 10, 30), id="friday-17:30-to-monday"),
        pytest.param(utc(11, 27, 18), 1, utc(11, 30, 10), id="friday-closing-to-monday"),
        pytest.param(utc(11, 28, 12), 1, utc(11, 30, 10), id="saturday-waits-for-monday"),
        pytest.param(utc(11, 29, 23, 59), 0.5, utc(11, 30, 9, 30), id="sunday-night"),
        pytest.param(utc(11, 23, 8), 1, utc(11, 23, 10), id="before-opening"),
        pytest.param(utc(11, 23, 9), 9, utc(11, 23, 18), id="whole-day-ends-at-closing"),
        pytest.param(utc(11, 23, 9), 9.5, utc(11, 24, 9, 30), id="day-and-a-half-hour"),
        pytest.param(utc(11, 23, 10), 24, utc(11, 25, 16), id="24h-is-three-working-days"),
        pytest.param(utc(11, 26, 17), 0.25, utc(11, 26, 17, 15), id="inside-the-day"),
        pytest.param(utc(11, 27, 17, 59), 48, utc(12, 7, 11, 59), id="48h-from-friday-evening"),
    ],
)
def test_business_hours_examples(start: datetime, hours: float, due: datetime) -> None:
    assert add_working_time(start, hours, OFFICE) == due


def test_friday_evening_in_utc_plus_8_is_due_monday_morning_local_time() -> None:
    plus8 = BusinessHours(timezone="Etc/GMT-8", start=time(9), end=time(18))
    friday_1730_local = utc(11, 27, 9, 30)
    assert add_working_time(friday_1730_local, 2, plus8) == utc(11, 30, 2, 30)  # Monday 10:30 at +08:00


def test_a_midweek_holiday_is_skipped() -> None:
    with_holiday = OFFICE.model_copy(update={"holidays": [date(2026, 11, 25)]})
    tuesday_17 = utc(11, 24, 17)
    assert add_working_time(tuesday_17, 3, OFFICE) == utc(11, 25, 11)
    assert add_working_time(tuesday_17, 3, with_holiday) == utc(11, 26, 11)


def test_consecutive_holidays_and_a_weekend_are_all_skipped() -> None:
    break_days = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)]
    xmas = OFFICE.model_copy(update={"holidays": break_days})
    wednesday_17 = utc(12, 23, 17)
    assert add_working_time(wednesday_17, 2, xmas) == utc(12, 29, 10)


def test_weekend_teams_work_saturdays() -> None:
    six_days = OFFICE.model_copy(update={"weekdays": [0, 1, 2, 3, 4, 5]})
    assert add_working_time(utc(11, 27, 17, 30), 2, six_days) == utc(11, 28, 10, 30)


def test_a_calendar_with_no_working_time_says_so() -> None:
    nobody_works = BusinessHours.model_construct(
        timezone="UTC", start=time(9), end=time(18), weekdays=[], holidays=[]
    )
    with pytest.raises(ValueError, match="no working time"):
        add_working_time(utc(11, 23, 9), 1, nobody_works)


@pytest.mark.parametrize(
    "fields",
    [
        {"weekdays": []},
        {"weekdays": [7]},
        {"timezone": "Mars/Base"},
        {"end": "25:00"},
        {"start": "09:00+01:00"},
    ],
    ids=["no-weekdays", "weekday-7", "unknown-zone", "hour-25", "start-with-an-offset"],
)
def test_impossible_calendars_are_refused_by_settings(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BusinessHours(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end", "overnight"),
    [
        ("09:00", "18:00", False),
        ("22:00", "06:00", True),  # a night shift: closes the next morning
        ("00:00", "24:00", True),  # a whole day; with seven weekdays, 24/7
        ("00:00", "00:00", True),  # the same, written as start == end
        ("08:00", "08:00", True),  # a 24-hour day from 08:00 to 08:00
    ],
)
def test_night_shifts_and_all_day_calendars_are_valid(start: str, end: str, overnight: bool) -> None:
    calendar = BusinessHours(start=start, end=end)  # type: ignore[arg-type]
    assert calendar.overnight is overnight
    assert calendar.end == (time(0) if end == "24:00" else time.fromisoformat(end))


# --- is_working_time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (utc(11, 23, 9), True),  # opening minute counts
        (utc(11, 23, 17, 59), True),
        (utc(11, 23, 18), False),  # closing time is already outside
        (utc(11, 23, 8, 59), False),
        (utc(11, 28, 10), False),  # Saturday
        (utc(11, 29, 10), False),  # Sunday
        (utc(12, 25, 10), False),  # holiday
        (utc(12, 24, 10), True),
    ],
)
def test_is_working_time_in_utc(moment: datetime, working: bool) -> None:
    calendar = OFFICE.model_copy(update={"holidays": [date(2026, 12, 25)]})
    assert is_working_time(calendar, moment) is working


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (utc(11, 23, 1), True),  # Monday 09:00 in Shanghai
        (utc(11, 23, 0, 59), False),  # Monday 08:59 in Shanghai
        (utc(11, 23, 10), False),  # Monday 18:00 in Shanghai
        (utc(11, 22, 23), False),  # Monday 07:00 in Shanghai, Sunday in UTC
        (utc(11, 27, 9, 59), True),  # Friday 17:59 in Shanghai
        (utc(11, 27, 16, 30), False),  # Saturday 00:30 in Shanghai, Friday in UTC
    ],
)
def test_is_working_time_reads_the_calendars_zone(moment: datetime, working: bool) -> None:
    assert is_working_time(BusinessHours(timezone="Asia/Shanghai"), moment) is working


# --- targets per tier ----------------------------------------------------------------------------------

TARGETS = SlaSettings(urgent_first_response_hours=1.5, normal_first_response_hours=8, resolution_hours=30)


@pytest.mark.parametrize(("tier", "hours"), [(Tier.URGENT, 1.5), (Tier.NORMAL, 8)])
def test_first_response_target_follows_the_tier(tier: Tier, hours: float) -> None:
    start = utc(11, 28, 22)
    assert first_response_due(TARGETS, tier, start) == start + timedelta(hours=hours)


def test_resolution_target_is_the_same_for_every_tier() -> None:
    assert resolution_due(TARGETS, utc(11, 28, 22)) == utc(11, 30, 4)


def test_targets_use_business_hours_when_configured() -> None:
    sla = TARGETS.model_copy(update={"business_hours": OFFICE})
    monday_16 = utc(11, 23, 16)
    assert first_response_due(sla, Tier.URGENT, monday_16) == utc(11, 23, 17, 30)
    assert first_response_due(sla, Tier.NORMAL, monday_16) == utc(11, 24, 15)
    assert resolution_due(sla, monday_16) == utc(11, 27, 10)  # 2 + 9 + 9 + 9 + 1 = 30 working hours


# --- clock_start ---------------------------------------------------------------------------------------


def candidate(published: datetime | None, collected: datetime, watching: datetime | None) -> RoutingCandidate:
    mention = StoredMention("m1", "blog", "text", "someone", "en", published, collected)
    score = Score("negative", {"negative": 0.9, "neutral": 0.05, "positive": 0.05}, "test-model")
    return RoutingCandidate(mention, score, 0, watch_started_at=watching)


@pytest.mark.parametrize(
    ("published", "collected", "watching", "starts"),
    [
        pytest.param(
            utc(11, 23, 10), utc(11, 23, 11), utc(11, 1, 0), utc(11, 23, 10), id="published-while-watching"
        ),
        pytest.param(utc(10, 2, 10), utc(11, 23, 11), utc(11, 23, 11), utc(11, 23, 11), id="backfilled-post"),
        pytest.param(utc(10, 2, 10), utc(11, 23, 11), None, utc(10, 2, 10), id="no-watch-start-known"),
        pytest.param(None, utc(11, 23, 11), utc(11, 1, 0), utc(11, 23, 11), id="no-publication-time"),
        pytest.param(None, utc(11, 23, 11), utc(11, 24, 0), utc(11, 24, 0), id="collected-before-watch"),
    ],
)
def test_clock_start_examples(
    published: datetime | None, collected: datetime, watching: datetime | None, starts: datetime
) -> None:
    assert clock_start(candidate(published, collected, watching)) == starts


@given(
    published=st.none() | moments,
    collected=moments,
    watching=st.none() | moments,
)
@settings(max_examples=200, deadline=None)
def test_clock_never_starts_before_watching_and_otherwise_at_publication(
    published: datetime | None, collected: datetime, watching: datetime | None
) -> None:
    said = published or collected
    start = clock_start(candidate(published, collected, watching))
    assert start >= said
    if watching is not None:
        assert start >= watching
    assert start in {said, watching}
