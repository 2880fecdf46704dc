"""Fetching against real HTTP servers on 127.0.0.1: what is transient, what is broken, and the retry policy.

``flows.sources.http.fetch`` is the one place a failure is retried (``limits.attempts``
times, with jittered backoff, all inside ``limits.deadline_seconds``), a short
``Retry-After`` is waited out and a long one raised as ``RateLimited``, and every httpx
error becomes ours (``as_source_error``). ``login`` runs a source's log-in once and its
headers go with every page. The backoff goes to a recording ``sleep`` and the server's
waits to a recording ``Politeness`` sleep wherever the test is about counts, not time;
a body that trickles in or a server that never answers is a tiny socket server of our own.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.sources.base import FetchRequest
from flows.sources.http import BACKOFF_SECONDS, USER_AGENT, Limits, as_source_error, fetch, login
from flows.sources.polite import Politeness, seconds_until
from voxwatch.errors import RateLimited, SourceError, TransientSourceError

JSON = "application/json"


class Recorder(list[float]):
    """A ``sleep``: records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def unpaced(sleep: Callable[[float], None] = time.sleep) -> Politeness:
    """A Politeness of the test's own: no pace between requests, no shared robots cache."""
    return Politeness(min_interval=0, sleep=sleep)


def hits(server: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


def within_jitter(pauses: list[float]) -> bool:
    """Each pause is its step of BACKOFF_SECONDS (the last step repeating), give or take half."""
    steps = [BACKOFF_SECONDS[min(i, len(BACKOFF_SECONDS) - 1)] for i in range(len(pauses))]
    return all(step * 0.5 <= pause <= step * 1.5 for step, pause in zip(steps, pauses, strict=True))


# --- a server of our own, for what pytest-httpserver cannot do --------------------------------------------


@dataclass
class Served:
    url: str
    connections: int = 0


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


@contextmanager
def own_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[Served]:
    """A socket server on 127.0.0.1 that hands each connection to ``answer`` in a thread of its own."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    served = Served(f"http://127.0.0.1:{listener.getsockname()[1]}/page.json")
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            try:
                _read_request(conn)
                answer(conn, stop)
            except OSError:
                pass  # the client gave up on us, as it should

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            served.connections += 1
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def trickle(size: int, gap: float = 0.2) -> Callable[[socket.socket, threading.Event], None]:
    """Headers at once, then the body one byte every ``gap`` seconds."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {JSON}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode())
        for _ in range(size):
            if stop.wait(gap):
                return
            conn.sendall(b"x")

    return answer


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Takes the request and never answers."""
    stop.wait(30)


# --- the basic outcomes -----------------------------------------------------------------------------------


def test_ok_response_is_kept_raw_with_headers(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"User-Agent": USER_AGENT}).respond_with_data(
        "<rss/>", content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    raw = fetch(FetchRequest(httpserver.url_for("/feed"), expect="xml"), "blog", polite=unpaced())
    assert (raw.status, raw.body, raw.headers["etag"]) == (200, b"<rss/>", '"v1"')


def test_etag_is_sent_back_and_304_means_nothing_new(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    raw = fetch(FetchRequest(httpserver.url_for("/feed")), "blog", etag='"v1"', polite=unpaced())
    assert (raw.status, raw.body) == (304, b"")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data("busy", status=status)
    with pytest.raises(TransientSourceError, match=f"HTTP {status}"):
        fetch(FetchRequest(httpserver.url_for("/api")), "hn", polite=unpaced(), sleep=Recorder())


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refusals_are_permanent_errors_naming_the_source(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data("no", status=status)
    with pytest.raises(SourceError, match=rf"source 'hn'.*HTTP {status}") as info:
        fetch(FetchRequest(httpserver.url_for("/api")), "hn", polite=unpaced(), sleep=Recorder())
    assert not isinstance(info.value, TransientSourceError)
    assert hits(httpserver, "/api") == 1


def test_html_where_json_was_expected_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(SourceError, match="got HTML"):
        fetch(FetchRequest(httpserver.url_for("/api"), expect="json"), "hn", polite=unpaced())


def test_a_body_over_the_cap_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/huge").respond_with_data(b"x" * (20 * 1024 * 1024), content_type="text/html")
    with pytest.raises(SourceError, match="over the 10485760-byte cap"):
        fetch(FetchRequest(httpserver.url_for("/huge"), expect="html"), "shop", polite=unpaced())


def test_a_streamed_body_over_the_cap_is_refused_without_content_length(httpserver: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        return Response((b"y" * 65536 for _ in range(64)), content_type="text/html")  # 4 MiB, chunked

    httpserver.expect_request("/stream").respond_with_handler(endless)
    with pytest.raises(SourceError, match="over the 1048576-byte cap"):
        fetch(
            FetchRequest(httpserver.url_for("/stream")),
            "shop",
            limits=Limits(max_bytes=1024 * 1024),
            polite=unpaced(),
        )


# --- the retry policy: fetch retries, nothing else does ---------------------------------------------------


def test_a_503_then_a_200_is_returned_after_one_retry(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/api").respond_with_data('{"ok": 1}', content_type=JSON)
    sleeps = Recorder()
    raw = fetch(FetchRequest(httpserver.url_for("/api"), expect="json"), "hn", polite=unpaced(), sleep=sleeps)
    assert (raw.status, raw.body) == (200, b'{"ok": 1}')
    assert hits(httpserver, "/api") == 2
    assert len(sleeps) == 1 and within_jitter(sleeps)


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 6])
def test_a_server_error_forever_is_asked_attempts_times_then_raised(
    httpserver: HTTPServer, attempts: int
) -> None:
    httpserver.expect_request("/api").respond_with_data("down", status=500)
    sleeps = Recorder()
    with pytest.raises(TransientSourceError, match=re.escape(f"{httpserver.url_for('/api')}: HTTP 500")):
        fetch(
            FetchRequest(httpserver.url_for("/api")),
            "hn",
            limits=Limits(attempts=attempts),
            polite=unpaced(),
            sleep=sleeps,
        )
    assert hits(httpserver, "/api") == attempts
    assert len(sleeps) == attempts - 1 and within_jitter(sleeps)  # backoff between attempts, not after


def test_the_backoff_is_jittered_so_sources_do_not_retry_in_step(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("down", status=502)
    firsts: list[float] = []
    for _ in range(6):
        sleeps = Recorder()
        with pytest.raises(TransientSourceError):
            fetch(
                FetchRequest(httpserver.url_for("/api")),
                "hn",
                limits=Limits(attempts=2),
                polite=unpaced(),
                sleep=sleeps,
            )
        firsts.extend(sleeps)
    assert len(firsts) == 6 and len(set(firsts)) > 1


def test_no_retry_is_started_that_the_deadline_could_not_wait_for(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("down", status=500)
    sleeps = Recorder()
    with pytest.raises(TransientSourceError, match="HTTP 500"):
        fetch(
            FetchRequest(httpserver.url_for("/api")),
            "hn",
            limits=Limits(deadline_seconds=0.3, attempts=4),  # the shortest backoff is 0.5 s
            polite=unpaced(),
            sleep=sleeps,
        )
    assert hits(httpserver, "/api") == 1 and sleeps == []


def test_nothing_listening_is_transient_and_retried() -> None:
    sleeps = Recorder()
    with pytest.raises(TransientSourceError, match="ConnectError"):
        fetch(FetchRequest("http://127.0.0.1:9/feed"), "blog", polite=unpaced(), sleep=sleeps)
    assert len(sleeps) == Limits().attempts - 1 and within_jitter(sleeps)


def test_a_server_that_never_answers_times_out_on_every_attempt() -> None:
    sleeps = Recorder()
    limits = Limits(attempts=3, timeout=httpx.Timeout(0.3))
    with own_server(silent) as server:
        started = time.monotonic()
        with pytest.raises(TransientSourceError, match=r"timed out \(ReadTimeout\)") as info:
            fetch(FetchRequest(server.url), "blog", limits=limits, polite=unpaced(), sleep=sleeps)
        elapsed = time.monotonic() - started
        connections = server.connections
    assert info.value.source == "blog" and server.url in str(info.value)
    assert connections == 3 and len(sleeps) == 2
    assert elapsed < 3 * 0.3 + 2  # three short timeouts and no real backoff, not the default 20 s each


# --- the deadline: a trickle is never a complete body ----------------------------------------------------


def test_a_trickling_body_is_cut_at_the_deadline_and_never_returned() -> None:
    limits = Limits(deadline_seconds=1, attempts=3)
    with own_server(trickle(size=100, gap=0.2)) as server:
        started = time.monotonic()
        with pytest.raises(TransientSourceError, match=r"body still arriving after 1 s") as info:
            fetch(FetchRequest(server.url, expect="json"), "shop", limits=limits, polite=unpaced())
        elapsed = time.monotonic() - started
        connections = server.connections
    found = re.search(r"\((\d+) bytes so far\); not read as complete", str(info.value))
    assert found is not None and 0 < int(found.group(1)) < 100
    assert 1.0 <= elapsed < limits.deadline_seconds * limits.attempts
    assert connections == 1  # the deadline is for the whole fetch: no attempt starts after it


def test_a_slow_body_that_finishes_inside_the_deadline_is_kept_whole() -> None:
    with own_server(trickle(size=4, gap=0.2)) as server:
        raw = fetch(
            FetchRequest(server.url, expect="json"),
            "shop",
            limits=Limits(deadline_seconds=5, attempts=1),
            polite=unpaced(),
        )
    assert (raw.status, raw.body, raw.headers["content-length"]) == (200, b"xxxx", "4")


# --- Retry-After: a short one is waited out, a long one is a RateLimited ------------------------------------


def test_429_with_retry_after_is_waited_out_and_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/api").respond_with_data(
        '{"hits": []}', content_type="application/json"
    )
    started = time.monotonic()
    raw = fetch(FetchRequest(httpserver.url_for("/api"), expect="json"), "hn", polite=unpaced())
    assert raw.status == 200 and raw.body == b'{"hits": []}'
    assert time.monotonic() - started >= 0.9  # it really waited as told


@pytest.mark.parametrize(
    ("retry_after", "max_wait", "deadline", "waited"),
    [
        ("1", 10, 60, True),
        ("10", 10, 60, True),  # exactly the most a run waits
        ("0", 0, 60, True),
        ("11", 10, 60, False),
        ("1", 0, 60, False),
        ("5", 10, 2, False),  # short enough, but past the deadline of this fetch
    ],
)
def test_a_retry_after_is_waited_only_when_the_run_and_the_deadline_allow(
    httpserver: HTTPServer, retry_after: str, max_wait: float, deadline: float, waited: bool
) -> None:
    httpserver.expect_ordered_request("/api").respond_with_data(
        "busy", status=429, headers={"Retry-After": retry_after}
    )
    httpserver.expect_ordered_request("/api").respond_with_data('{"ok": 1}', content_type=JSON)
    waits, sleeps = Recorder(), Recorder()
    request = FetchRequest(httpserver.url_for("/api"), expect="json")
    limits = Limits(deadline_seconds=deadline, max_wait_in_run_seconds=max_wait)
    before = datetime.now(UTC)
    if waited:
        raw = fetch(request, "hn", limits=limits, polite=unpaced(waits), sleep=sleeps)
        assert (raw.status, raw.body) == (200, b'{"ok": 1}')
        assert hits(httpserver, "/api") == 2
        assert sum(waits) == pytest.approx(float(retry_after), abs=0.2)  # held off as the server asked
        assert sleeps == [0.0]  # and no backoff on top of it
        return
    with pytest.raises(RateLimited) as info:
        fetch(request, "hn", limits=limits, polite=unpaced(waits), sleep=sleeps)
    assert hits(httpserver, "/api") == 1 and waits == [] and sleeps == []
    expected = before + timedelta(seconds=float(retry_after))
    assert abs(info.value.until - expected) < timedelta(seconds=2)


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_long_retry_after_is_rate_limited_at_once_until_then(
    httpserver: HTTPServer, status: int, form: str
) -> None:
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    value = "3600" if form == "seconds" else format_datetime(in_an_hour, usegmt=True)
    httpserver.expect_request("/api").respond_with_data(
        "later", status=status, headers={"Retry-After": value}
    )
    sleeps = Recorder()
    with pytest.raises(RateLimited) as info:
        fetch(FetchRequest(httpserver.url_for("/api")), "hn", polite=unpaced(), sleep=sleeps)
    error = info.value
    assert hits(httpserver, "/api") == 1 and sleeps == []  # exactly one request, no retry
    assert not isinstance(error, TransientSourceError) and error.source == "hn"
    assert error.until.utcoffset() == timedelta(0)
    assert abs(error.until - in_an_hour) < timedelta(seconds=3)
    assert f"HTTP {status}, asked to wait until {error.until:%Y-%m-%d %H:%M} UTC" in str(error)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_only_429_and_503_can_rate_limit(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data(
        "down", status=status, headers={"Retry-After": "3600"}
    )
    with pytest.raises(TransientSourceError, match=f"HTTP {status}") as info:
        fetch(FetchRequest(httpserver.url_for("/api")), "hn", polite=unpaced(), sleep=Recorder())
    assert not isinstance(info.value, RateLimited)
    assert hits(httpserver, "/api") == Limits().attempts


# --- politeness: robots.txt and pace ----------------------------------------------------------------------


def test_robots_txt_is_honoured_for_pages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    httpserver.expect_request("/private/reviews").respond_with_data("<html></html>", content_type="text/html")
    httpserver.expect_request("/public/reviews").respond_with_data(
        "<html>ok</html>", content_type="text/html"
    )
    polite = unpaced()
    with pytest.raises(SourceError, match=r"robots\.txt disallows"):
        fetch(FetchRequest(httpserver.url_for("/private/reviews"), expect="html"), "shop", polite=polite)
    assert fetch(
        FetchRequest(httpserver.url_for("/public/reviews"), expect="html"), "shop", polite=polite
    ).body
    assert "/private/reviews" not in [r.path for r, _ in httpserver.log]


def test_requests_to_one_host_are_paced(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>", content_type="application/rss+xml")
    polite = unpaced()
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
    polite = unpaced()
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


# --- as_source_error: every httpx error mapped once ------------------------------------------------------

URL = "https://api.example.test/search?q=acme"
_REQUEST = httpx.Request("GET", URL)


def _status(code: int) -> httpx.HTTPStatusError:
    return httpx.HTTPStatusError("bad", request=_REQUEST, response=httpx.Response(code, request=_REQUEST))


MAPPINGS: list[tuple[Callable[[], Exception], type[SourceError], str]] = [
    (lambda: httpx.ReadTimeout("slow"), TransientSourceError, "timed out (ReadTimeout)"),
    (lambda: httpx.ConnectTimeout("slow"), TransientSourceError, "timed out (ConnectTimeout)"),
    (lambda: httpx.PoolTimeout("busy"), TransientSourceError, "timed out (PoolTimeout)"),
    (lambda: httpx.ConnectError("refused"), TransientSourceError, "ConnectError: refused"),
    (
        lambda: httpx.RemoteProtocolError("peer closed"),
        TransientSourceError,
        "RemoteProtocolError: peer closed",
    ),
    (lambda: httpx.ReadError("reset"), TransientSourceError, "ReadError: reset"),
    (lambda: httpx.TooManyRedirects("loop"), SourceError, "too many redirects (a redirect loop?)"),
    (lambda: httpx.DecodingError("bad gzip"), SourceError, "the body could not be decoded (bad gzip)"),
    (lambda: _status(404), SourceError, "HTTP 404"),
    (lambda: _status(401), SourceError, "HTTP 401"),
    (lambda: _status(429), TransientSourceError, "HTTP 429"),
    (lambda: _status(503), TransientSourceError, "HTTP 503"),
    (lambda: httpx.InvalidURL("Invalid port: 'abc'"), SourceError, "InvalidURL: Invalid port: 'abc'"),
    (lambda: ValueError("Invalid IPv6 URL"), SourceError, "ValueError: Invalid IPv6 URL"),
    (lambda: UnicodeError("label empty"), SourceError, "UnicodeError: label empty"),
]


@pytest.mark.parametrize(("make", "kind", "says"), MAPPINGS)
def test_each_httpx_error_maps_to_exactly_one_of_ours(
    make: Callable[[], Exception], kind: type[SourceError], says: str
) -> None:
    error = as_source_error("hn", URL, make())
    assert type(error) is kind
    assert error.source == "hn"
    assert str(error) == f"source 'hn': {URL}: {says}"


@settings(max_examples=60, deadline=None)
@given(
    source=st.text(min_size=1, max_size=20),
    url=st.text(max_size=60),
    index=st.integers(min_value=0, max_value=len(MAPPINGS) - 1),
)
def test_a_mapped_error_always_names_the_source_and_the_url(source: str, url: str, index: int) -> None:
    make, kind, says = MAPPINGS[index]
    exc = make()
    error = as_source_error(source, url, exc)
    assert type(error) is kind and not isinstance(error, RateLimited)
    assert error.source == source and str(error) == f"source {source!r}: {error.reason}"
    # an HTTP status names the URL actually answered (after redirects), anything else the one asked
    named = str(exc.request.url) if isinstance(exc, httpx.HTTPStatusError) else url
    assert error.reason == f"{named}: {says}"


# --- login: once per run, its headers on every page ------------------------------------------------------


def token_login(url: str) -> Callable[[httpx.Client], dict[str, str]]:
    """A connector's log-in: POST the account, read the token from the JSON answer."""

    def prepare(client: httpx.Client) -> dict[str, str]:
        response = client.post(url, json={"identifier": "acme"})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return prepare


def test_a_login_returns_the_headers_for_the_run(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/login", method="POST", json={"identifier": "acme"}, headers={"User-Agent": USER_AGENT}
    ).respond_with_json({"token": "t-9"})
    url = httpserver.url_for("/login")
    assert login(token_login(url), "sky", url) == {"Authorization": "Bearer t-9"}
    assert hits(httpserver, "/login") == 1  # once: the login itself is never retried in a loop


@pytest.mark.parametrize(
    ("status", "body", "kind", "says"),
    [
        (401, '{"error": "AuthenticationRequired"}', SourceError, "HTTP 401"),
        (403, '{"error": "Forbidden"}', SourceError, "HTTP 403"),
        (500, '{"error": "Internal"}', TransientSourceError, "HTTP 500"),
        (200, "not json", SourceError, "JSONDecodeError"),
    ],
)
def test_a_failed_login_is_our_error_naming_the_source(
    httpserver: HTTPServer, status: int, body: str, kind: type[SourceError], says: str
) -> None:
    httpserver.expect_request("/login", method="POST").respond_with_data(body, status=status)
    url = httpserver.url_for("/login")
    with pytest.raises(SourceError, match=re.escape(says)) as info:
        login(token_login(url), "sky", url)
    assert type(info.value) is kind
    assert info.value.source == "sky" and url in str(info.value)


def test_a_login_to_nothing_listening_is_transient() -> None:
    url = "http://127.0.0.1:9/login"
    with pytest.raises(TransientSourceError, match="ConnectError") as info:
        login(token_login(url), "sky", url)
    assert info.value.source == "sky"


def test_a_login_is_bounded_by_the_timeout_in_its_limits() -> None:
    with own_server(silent) as server:
        started = time.monotonic()
        with pytest.raises(TransientSourceError, match="timed out"):
            login(token_login(server.url), "sky", server.url, Limits(timeout=httpx.Timeout(0.3)))
        assert time.monotonic() - started < 3


def test_our_own_error_from_a_login_passes_through_unchanged() -> None:
    refused = SourceError("sky", "Bluesky search needs a login: set VOXWATCH_BLUESKY__IDENTIFIER")

    def prepare(client: httpx.Client) -> dict[str, str]:
        raise refused

    with pytest.raises(SourceError) as info:
        login(prepare, "sky", "https://bsky.example.test")
    assert info.value is refused


def test_session_headers_go_with_every_page_request_retries_included(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/login", method="POST").respond_with_json({"token": "t-9"})
    httpserver.expect_oneshot_request("/search").respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request("/search").respond_with_data('{"posts": []}', content_type=JSON)
    httpserver.expect_oneshot_request("/search").respond_with_data('{"posts": []}', content_type=JSON)
    session = login(token_login(httpserver.url_for("/login")), "sky", httpserver.url_for("/login"))
    polite = unpaced()
    request = FetchRequest(httpserver.url_for("/search"), params={"q": "acme"}, expect="json")
    fetch(request, "sky", polite=polite, session=session, sleep=Recorder())
    fetch(request, "sky", etag='"e1"', polite=polite, session=session, sleep=Recorder())
    pages = [r for r, _ in httpserver.log if r.path == "/search"]
    assert len(pages) == 3
    assert [r.headers.get("Authorization") for r in pages] == ["Bearer t-9"] * 3
    assert all(r.headers["User-Agent"] == USER_AGENT for r in pages)
    assert pages[2].headers.get("If-None-Match") == '"e1"'  # a session adds headers, it drops none


def test_without_a_session_no_authorization_is_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/search").respond_with_data("{}", content_type=JSON)
    fetch(FetchRequest(httpserver.url_for("/search")), "hn", polite=unpaced())
    ((request, _),) = httpserver.log
    assert "Authorization" not in request.headers
