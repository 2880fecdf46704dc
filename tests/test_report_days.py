"""Trends and reports count days and months in UTC, whatever zone the server runs in.

The store's session zone is UTC (voxwatch/store/database.py), so a day on the trends
chart is a UTC day; the month the dashboard offers must be the UTC month too, or a
server east of Greenwich offers next month's (empty) report for hours. ``TZ`` is
changed for a test with ``time.tzset`` to play a server somewhere else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from insights.report import current_month
from tests.builders import MODEL, NOW, Post, seed_posts
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres


@pytest.fixture
def server_in_kiritimati(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is UTC+14 for the test, then back."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), date(2026, 12, 1)),
        # 1 December in Shanghai, still November in UTC
        (datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai")), date(2026, 11, 1)),
        # 31 December in New York, already January in UTC
        (datetime(2026, 12, 31, 20, 0, tzinfo=ZoneInfo("America/New_York")), date(2027, 1, 1)),
    ],
)
def test_the_current_month_is_the_utc_month(now: datetime, month: date) -> None:
    assert current_month(now) == month


def test_the_current_month_ignores_the_servers_zone(server_in_kiritimati: None) -> None:
    assert current_month() == datetime.now(UTC).date().replace(day=1)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="2026-11-30T23:30:00"):
        current_month(datetime(2026, 11, 30, 23, 30))


def test_trend_days_are_utc_days_on_a_server_elsewhere(team: Settings, server_in_kiritimati: None) -> None:
    late_evening = Post("Acme lost my parcel again.", 0.9, minutes_ago=9 * 60 + 30)  # 22 Nov, 23:30 UTC
    seed_posts(store_for(team), team, [late_evening])
    rows = store_for(team).read(lambda c: queries.daily_sentiment(c, MODEL, NOW - timedelta(days=2)))
    assert [(r["day"], r["mentions"]) for r in rows] == [(datetime(2026, 11, 22, tzinfo=UTC), 1)]
    assert rows[0]["day"].utcoffset() == timedelta(0)
