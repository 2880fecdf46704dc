"""Being a polite crawler (``flows.sources.polite``): pace per host, the server's limits, robots.txt.

A source that asks too fast gets the brand's monitoring blocked, and one that ignores
robots.txt should not exist; both rules live in ``Politeness``. Pacing is checked
through its own ``sleep`` hook (a recorder of the waits it asked for, so no test
sleeps for real), robots.txt against a real HTTP server on 127.0.0.1, and
``seconds_until`` on every form a ``Retry-After`` or ``X-RateLimit-Reset`` takes.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from flows.sources.http import USER_AGENT
from flows.sources.polite import MAX_WAIT_SECONDS, MIN_INTERVAL_SECONDS, Politeness, seconds_until

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class Waits:
    """The ``sleep`` a Politeness is given: records each wait instead of sleeping."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.asked.append(seconds)


def paced(interval: float = 5.0) -> tuple[Politeness, Waits]:
    waits = Waits()
    return Politeness(min_interval=interval, sleep=waits), waits


# --- seconds_until ------------------------------------------------------------------------------------


def http_date(offset: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + offset, tz=UTC), usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("120", 120.0),
        ("  45  ", 45.0),
        ("2.5", 2.5),
        ("-5", 0.0),  # a negative delay is "now", never a negative sleep
        ("-1.5", 0.0),
        ("999999999", 999_999_999.0),  # below the epoch threshold: still a delay
        (str(int(NOW) + 30), 30.0),  # epoch seconds (X-RateLimit-Reset)
        (str(NOW + 0.5), 0.5),
        (str(int(NOW) - 3600), 0.0),  # a reset already past
        (http_date(90), 90.0),  # an HTTP date (Retry-After)
        (http_date(-90), 0.0),
        ("Fri, 15 Jan 2027 08:01:00 GMT", 60.0),
        ("2027-01-15T08:00:30Z", 30.0),  # ISO 8601, as some APIs send
        ("2027-01-15T09:00:30+01:00", 30.0),
        ("2027-01-15T08:00:30", 30.0),  # naive: UTC
        ("2020-01-01T00:00:00Z", 0.0),
        ("-inf", 0.0),
    ],
)
def test_seconds_until_reads_every_header_form(value: str, expected: float) -> None:
    assert seconds_until(value, NOW) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "value", [None, "", "soon", "ten", "1,5", "Someday, 32 Foo 2026", "2027-13-45", "5s"]
)
def test_seconds_until_gives_none_for_missing_or_garbage(value: str | None) -> None:
    assert seconds_until(value, NOW) is None


def test_seconds_until_defaults_to_the_clock() -> None:
    wait = seconds_until(str(time.time() + 100))
    assert wait is not None and 95 < wait <= 100


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=999_999_999))
def test_small_numbers_are_delays(delay: int) -> None:
    assert seconds_until(str(delay), NOW) == delay


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-1_000_000, max_value=1_000_000))
def test_epoch_numbers_are_the_time_left_until_then(offset: int) -> None:
    assert seconds_until(str(int(NOW) + offset), NOW) == max(0, offset)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**6), max_value=10**7))
def test_http_dates_are_the_time_left_until_then(offset: int) -> None:
    assert seconds_until(http_date(offset), NOW) == pytest.approx(max(0, offset))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_seconds_until_on_any_text_is_none_or_never_negative(value: str) -> None:
    wait = seconds_until(value, NOW)
    assert wait is None or wait >= 0


# --- pacing per host ------------------------------------------------------------------------------


def test_the_default_pace_is_one_second_per_host() -> None:
    assert Politeness().min_interval == MIN_INTERVAL_SECONDS == 1.0


def test_the_first_request_to_a_host_does_not_wait() -> None:
    polite, waits = paced()
    assert polite.wait_turn("https://a.test/feed") == 0.0
    assert waits.asked == []


def test_a_second_request_to_the_same_host_waits_the_interval() -> None:
    polite, waits = paced(5.0)
    polite.wait_turn("https://a.test/feed")
    waited = polite.wait_turn("https://a.test/other/path?q=1")
    assert waited == pytest.approx(5.0, abs=0.5)
    assert waits.asked == [waited]


def test_requests_queue_up_one_interval_apart() -> None:
    polite, waits = paced(2.0)
    for _ in range(4):
        polite.wait_turn("https://a.test/feed")
    assert waits.asked == pytest.approx([2.0, 4.0, 6.0], abs=0.5)


def test_different_hosts_do_not_wait_for_each_other() -> None:
    polite, waits = paced(5.0)
    for url in ["https://a.test/x", "https://b.test/x", "http://a.test/x", "https://a.test:8443/x"]:
        assert polite.wait_turn(url) == 0.0
    assert waits.asked == []


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://a.test/feed?x=1", "https://a.test"),
        ("http://127.0.0.1:8080/api/v1", "http://127.0.0.1:8080"),
        ("https://user@a.test/p", "https://user@a.test"),
        ("https://A.test", "https://A.test"),
    ],
)
def test_host_is_scheme_and_netloc(url: str, host: str) -> None:
    assert Politeness.host(url) == host


def test_a_request_may_set_its_own_interval() -> None:
    polite, waits = paced(5.0)
    polite.wait_turn("https://a.test/x", interval=0.5)
    assert polite.wait_turn("https://a.test/x", interval=0.5) == pytest.approx(0.5, abs=0.5)
    assert waits.asked == pytest.approx([0.5], abs=0.5)
    polite.wait_turn("https://b.test/x", interval=0)
    assert polite.wait_turn("https://b.test/x", interval=0) == 0.0


def test_a_wait_is_never_longer_than_the_cap() -> None:
    polite, waits = paced(1000.0)
    polite.wait_turn("https://a.test/x")
    assert polite.wait_turn("https://a.test/x") == MAX_WAIT_SECONDS
    assert waits.asked == [MAX_WAIT_SECONDS]


def test_concurrent_callers_on_one_host_are_spaced_out() -> None:
    polite, waits = paced(3.0)
    barrier = threading.Barrier(6)

    def caller() -> None:
        barrier.wait()
        polite.wait_turn("https://a.test/x")

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(waits.asked) == pytest.approx([3.0, 6.0, 9.0, 12.0, 15.0], abs=1.0)


def test_hold_off_delays_the_next_request_to_that_host_only() -> None:
    polite, waits = paced(0.0)
    polite.hold_off("https://a.test/api", 30)
    assert polite.wait_turn("https://a.test/feed") == pytest.approx(30, abs=0.5)
    assert polite.wait_turn("https://b.test/feed") == 0.0
    assert waits.asked == pytest.approx([30], abs=0.5)


def test_a_shorter_hold_off_never_shortens_a_longer_one() -> None:
    polite, _ = paced(0.0)
    polite.hold_off("https://a.test/", 40)
    polite.hold_off("https://a.test/", 5)
    assert polite.wait_turn("https://a.test/") == pytest.approx(40, abs=0.5)


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "20"}, 20.0),
        ({"X-RateLimit-Remaining": " 0 ", "X-RateLimit-Reset": "20"}, 20.0),
        ({"X-RateLimit-Remaining": "0.0", "X-RateLimit-Reset": "20"}, 20.0),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "7"}, 7.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "100000"}, MAX_WAIT_SECONDS),
        ({"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "20"}, 0.0),
        ({"X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "20"}, 0.0),
        ({"X-RateLimit-Remaining": "0"}, 0.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "whenever"}, 0.0),
        ({"X-RateLimit-Reset": "20"}, 0.0),
        ({}, 0.0),
    ],
)
def test_an_exhausted_allowance_holds_off_until_the_reset(
    headers: dict[str, str], expected_wait: float
) -> None:
    polite, _ = paced(0.0)
    polite.observe("https://a.test/api", httpx.Headers(headers))
    assert polite.wait_turn("https://a.test/api") == pytest.approx(expected_wait, abs=0.5)


def test_an_epoch_reset_in_the_past_does_not_hold() -> None:
    polite, _ = paced(0.0)
    past = str(time.time() - 60)
    polite.observe(
        "https://a.test/api", httpx.Headers({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": past})
    )
    assert polite.wait_turn("https://a.test/api") == 0.0


def test_real_waits_really_sleep() -> None:
    polite = Politeness(min_interval=0.3)
    started = time.monotonic()
    polite.wait_turn("https://a.test/")
    polite.wait_turn("https://a.test/")
    assert time.monotonic() - started >= 0.28


# --- robots.txt ---------------------------------------------------------------------------------------

ROBOTS = """\
User-agent: *
Disallow: /private/
Allow: /private/open

User-agent: VoxWatch
Disallow: /no-voxwatch/
"""


def allowed(polite: Politeness, url: str, agent: str = USER_AGENT) -> bool:
    with httpx.Client(headers={"User-Agent": agent}, timeout=5) as client:
        return polite.allowed(url, agent, client)


@pytest.mark.parametrize(
    ("path", "agent", "ok"),
    [
        ("/reviews", USER_AGENT, True),
        ("/private/reviews", USER_AGENT, True),  # we have our own group: the * group is not ours
        ("/no-voxwatch/page", USER_AGENT, False),
        ("/no-voxwatch/page", "OtherBot/1.0", True),
        ("/private/reviews", "OtherBot/1.0", False),
        ("/private/open", "OtherBot/1.0", True),
        ("/", "OtherBot/1.0", True),
    ],
)
def test_robots_rules_are_read_per_user_agent(
    httpserver: HTTPServer, path: str, agent: str, ok: bool
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    assert allowed(Politeness(min_interval=0), httpserver.url_for(path), agent) is ok


def test_robots_txt_is_asked_once_per_host(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /x/\n")
    polite = Politeness(min_interval=0)
    results = [allowed(polite, httpserver.url_for(p)) for p in ["/a", "/x/b", "/c", "/x/d"]]
    assert results == [True, False, True, False]
    assert [r.path for r, _ in httpserver.log] == ["/robots.txt"]


def test_disallow_everything_blocks_every_page(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    polite = Politeness(min_interval=0)
    assert not allowed(polite, httpserver.url_for("/"))
    assert not allowed(polite, httpserver.url_for("/deep/page.html?x=1"))


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_a_missing_or_failing_robots_txt_allows_everything(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n", status=status)
    assert allowed(Politeness(min_interval=0), httpserver.url_for("/reviews"))


def test_a_host_that_cannot_be_reached_is_allowed() -> None:
    polite = Politeness(min_interval=0)
    assert allowed(polite, "http://127.0.0.1:9/reviews")
    assert allowed(polite, "http://127.0.0.1:9/private/reviews")


def test_robots_answers_are_kept_per_host(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    polite = Politeness(min_interval=0)
    here = httpserver.url_for("/page")
    other = (
        here.replace("localhost", "127.0.0.1")
        if "localhost" in here
        else here.replace("127.0.0.1", "localhost")
    )
    assert not allowed(polite, here)
    assert not allowed(polite, other)
    assert len([r for r, _ in httpserver.log if r.path == "/robots.txt"]) == 2  # two hosts, two asks


def test_utc_offsets_in_http_dates_are_honoured() -> None:
    later = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(seconds=75)
    header = format_datetime(later.astimezone(timezone(timedelta(hours=-5))))
    assert header.endswith("-0500")
    assert seconds_until(header, NOW) == pytest.approx(75)


@settings(max_examples=300, deadline=None)
@given(now=st.floats(min_value=1.6e9, max_value=2.0e9), delay=st.integers(min_value=0, max_value=3600))
def test_a_delay_in_seconds_is_read_exactly_whatever_the_clock(now: float, delay: int) -> None:
    assert seconds_until(str(delay), now) == float(delay)  # "10" is never 10.0000001 (nor 9.9999999)
