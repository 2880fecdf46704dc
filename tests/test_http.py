"""Fetching against a real HTTP server on 127.0.0.1: what is transient, what is broken."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.sources.base import FetchRequest
from flows.sources.http import USER_AGENT, fetch
from flows.sources.polite import POLITENESS, Politeness, seconds_until
from voxwatch.errors import SourceError, TransientSourceError


@pytest.fixture(autouse=True)
def no_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about responses, not pacing: no wait between requests to 127.0.0.1."""
    monkeypatch.setattr(POLITENESS, "min_interval", 0.0)


def test_ok_response_is_kept_raw_with_headers(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"User-Agent": USER_AGENT}).respond_with_data(
        "<rss/>", content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    raw = fetch(FetchRequest(httpserver.url_for("/feed"), expect="xml"), "blog")
    assert (raw.status, raw.body, raw.headers["etag"]) == (200, b"<rss/>", '"v1"')


def test_etag_is_sent_back_and_304_means_nothing_new(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    raw = fetch(FetchRequest(httpserver.url_for("/feed")), "blog", etag='"v1"')
    assert (raw.status, raw.body) == (304, b"")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data("busy", status=status)
    with pytest.raises(TransientSourceError, match=f"HTTP {status}"):
        fetch(FetchRequest(httpserver.url_for("/api")), "hn")


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refusals_are_permanent_errors_naming_the_source(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data("no", status=status)
    with pytest.raises(SourceError, match=rf"source 'hn'.*HTTP {status}") as info:
        fetch(FetchRequest(httpserver.url_for("/api")), "hn")
    assert not isinstance(info.value, TransientSourceError)


def test_html_where_json_was_expected_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(SourceError, match="got HTML"):
        fetch(FetchRequest(httpserver.url_for("/api"), expect="json"), "hn")


def test_a_body_over_the_cap_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/huge").respond_with_data(b"x" * (20 * 1024 * 1024), content_type="text/html")
    with pytest.raises(SourceError, match="over the 10485760-byte cap"):
        fetch(FetchRequest(httpserver.url_for("/huge"), expect="html"), "shop")


def test_a_streamed_body_over_the_cap_is_refused_without_content_length(httpserver: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        return Response((b"y" * 65536 for _ in range(64)), content_type="text/html")  # 4 MiB, chunked

    httpserver.expect_request("/stream").respond_with_handler(endless)
    with pytest.raises(SourceError, match="over the 1048576-byte cap"):
        fetch(FetchRequest(httpserver.url_for("/stream")), "shop", max_bytes=1024 * 1024)


def test_a_slow_server_is_a_transient_timeout(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(timeout=10)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(TransientSourceError, match="timed out"):
        fetch(FetchRequest(httpserver.url_for("/slow")), "blog", timeout=httpx.Timeout(0.5))
    release.set()
    deadline = time.monotonic() + 5  # let the handler finish inside this test, not the next one
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)


def test_nothing_listening_is_transient() -> None:
    with pytest.raises(TransientSourceError, match="ConnectError"):
        fetch(FetchRequest("http://127.0.0.1:9/feed"), "blog")


def test_429_with_retry_after_is_waited_out_and_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/api").respond_with_data(
        '{"hits": []}', content_type="application/json"
    )
    started = time.monotonic()
    raw = fetch(
        FetchRequest(httpserver.url_for("/api"), expect="json"), "hn", polite=Politeness(min_interval=0)
    )
    assert raw.status == 200 and raw.body == b'{"hits": []}'
    assert time.monotonic() - started >= 0.9  # it really waited as told


def test_a_long_retry_after_becomes_a_transient_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("later", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(TransientSourceError, match="HTTP 429"):
        fetch(FetchRequest(httpserver.url_for("/api")), "hn", polite=Politeness(min_interval=0))


def test_robots_txt_is_honoured_for_pages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    httpserver.expect_request("/private/reviews").respond_with_data("<html></html>", content_type="text/html")
    httpserver.expect_request("/public/reviews").respond_with_data(
        "<html>ok</html>", content_type="text/html"
    )
    polite = Politeness(min_interval=0)
    with pytest.raises(SourceError, match=r"robots\.txt disallows"):
        fetch(FetchRequest(httpserver.url_for("/private/reviews"), expect="html"), "shop", polite=polite)
    assert fetch(
        FetchRequest(httpserver.url_for("/public/reviews"), expect="html"), "shop", polite=polite
    ).body
    assert "/private/reviews" not in [r.path for r, _ in httpserver.log]


def test_requests_to_one_host_are_paced(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>", content_type="application/rss+xml")
    polite = Politeness(min_interval=0)
    started = time.monotonic()
    for _ in range(3):
        fetch(FetchRequest(httpserver.url_for("/feed"), min_interval=0.4), "blog", polite=polite)
    assert time.monotonic() - started >= 0.8  # two waits of 0.4 s between three requests


def test_an_exhausted_rate_limit_holds_the_next_request_until_reset(httpserver: HTTPServer) -> None:
    reset = str(time.time() + 1.0)
    httpserver.expect_request("/api").respond_with_data(
        "[]",
        content_type="application/json",
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )
    polite = Politeness(min_interval=0)
    fetch(FetchRequest(httpserver.url_for("/api")), "m", polite=polite)
    started = time.monotonic()
    fetch(FetchRequest(httpserver.url_for("/api")), "m", polite=polite)
    assert time.monotonic() - started >= 0.7


def test_retry_after_and_reset_headers_are_read_in_every_form() -> None:
    now = 1_800_000_000.0
    assert seconds_until("120", now) == 120
    assert seconds_until(str(now + 30), now) == 30
    assert seconds_until("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0
    assert seconds_until("2027-01-15T08:00:30+00:00", 1_800_000_000.0) == 1_800_000_030.0 - now
    assert seconds_until("soon", now) is None
