"""Fetching against a real HTTP server on 127.0.0.1: what is transient, what is broken."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.http import USER_AGENT, fetch
from flows.sources.base import FetchRequest
from voxwatch.errors import SourceError, TransientSourceError


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
