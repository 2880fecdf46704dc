"""``flows.sources.http.fetch`` against a real HTTP server on 127.0.0.1: the whole status matrix.

``fetch`` is the one place transient failures (429, 5xx) are retried, ``limits.attempts``
times with backoff; any other ``SourceError`` marks the source degraded, and a failure
must never be read as "no new posts". So every status a source can answer maps to
exactly one outcome, and every error names the source and the URL so a user can act on
it. ``tests/test_http.py`` covers the deadline, rate limits, login and the retry policy
itself; this file adds the full matrix, the request counts per status, size and
content-type boundaries, conditional requests and redirects. The backoff between
attempts goes to a recording ``sleep``, so no test here waits for real.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.sources.base import FetchRequest
from flows.sources.http import BACKOFF_SECONDS, MAX_BODY_BYTES, USER_AGENT, Limits, fetch, login
from flows.sources.polite import Politeness
from voxwatch import __version__
from voxwatch.domain import RawResponse
from voxwatch.errors import SourceError, TransientSourceError

SOURCE = "acme-hn"
JSON = "application/json"


ATTEMPTS = Limits().attempts


class Sleeps(list[float]):
    """The ``sleep`` given to ``fetch``: records each backoff instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def get(
    server: HTTPServer,
    path: str = "/api",
    expect: str = "json",
    params: dict[str, str] | None = None,
    sleeps: Sleeps | None = None,
    **kwargs: object,
) -> RawResponse:
    """One fetch with its own Politeness (no pacing, no shared robots cache) and no real backoff."""
    request = FetchRequest(server.url_for(path), params=params or {}, expect=expect)
    sleep = Sleeps() if sleeps is None else sleeps
    return fetch(request, SOURCE, polite=Politeness(min_interval=0), sleep=sleep, **kwargs)  # type: ignore[arg-type]


def redirect_limit() -> int:
    """How many redirects httpx follows before it calls it a loop."""
    with httpx.Client() as client:
        return client.max_redirects


def requests_to(server: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in server.log if request.path == path]


# --- the status matrix -----------------------------------------------------------------------------

OK, PERMANENT, TRANSIENT = "ok", "permanent", "transient"
MATRIX = [
    (200, OK),
    (203, OK),
    (304, OK),
    (400, PERMANENT),
    (401, PERMANENT),
    (403, PERMANENT),
    (404, PERMANENT),
    (405, PERMANENT),
    (410, PERMANENT),
    (451, PERMANENT),
    (429, TRANSIENT),
    (500, TRANSIENT),
    (502, TRANSIENT),
    (503, TRANSIENT),
    (504, TRANSIENT),
]


@pytest.mark.parametrize(("status", "outcome"), MATRIX)
def test_every_status_has_one_outcome(httpserver: HTTPServer, status: int, outcome: str) -> None:
    httpserver.expect_request("/api").respond_with_data('{"hits": []}', status=status, content_type=JSON)
    url = httpserver.url_for("/api")
    if outcome == OK:
        raw = get(httpserver)
        assert raw.status == status
        assert raw.body == (b"" if status == 304 else b'{"hits": []}')
        return
    with pytest.raises(SourceError) as info:
        get(httpserver)
    error = info.value
    assert isinstance(error, TransientSourceError) is (outcome == TRANSIENT)
    assert error.source == SOURCE
    assert str(error) == f"source {SOURCE!r}: {url}: HTTP {status}"
    assert error.reason == f"{url}: HTTP {status}"


@pytest.mark.parametrize(("status", "outcome"), [m for m in MATRIX if m[1] != OK])
def test_a_permanent_failure_is_asked_once_and_a_transient_one_attempts_times(
    httpserver: HTTPServer, status: int, outcome: str
) -> None:
    httpserver.expect_request("/api").respond_with_data("no", status=status)
    sleeps = Sleeps()
    with pytest.raises(SourceError):
        get(httpserver, sleeps=sleeps)
    asked = ATTEMPTS if outcome == TRANSIENT else 1
    assert len(requests_to(httpserver, "/api")) == asked  # fetch retries; nothing above it does
    assert len(sleeps) == asked - 1  # a backoff between attempts, none after the last


def test_the_default_policy_is_four_attempts_with_three_backoffs() -> None:
    assert ATTEMPTS == len(BACKOFF_SECONDS) + 1 == 4
    assert list(BACKOFF_SECONDS) == sorted(BACKOFF_SECONDS)  # each wait at least as long as the one before


@pytest.mark.parametrize("status", [429, 503])
def test_a_short_retry_after_is_obeyed_a_bounded_number_of_times(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data("busy", status=status, headers={"Retry-After": "0"})
    sleeps = Sleeps()
    with pytest.raises(TransientSourceError, match="asked to wait"):
        get(httpserver, sleeps=sleeps)
    assert len(requests_to(httpserver, "/api")) == ATTEMPTS
    assert sleeps == [0.0] * (ATTEMPTS - 1)  # the server's own wait replaces the backoff


@pytest.mark.parametrize("status", [500, 502, 504])
def test_retry_after_is_only_obeyed_on_429_and_503(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api").respond_with_data("down", status=status, headers={"Retry-After": "0"})
    sleeps = Sleeps()
    with pytest.raises(TransientSourceError, match=f"HTTP {status}"):
        get(httpserver, sleeps=sleeps)
    assert len(requests_to(httpserver, "/api")) == ATTEMPTS
    assert all(pause >= BACKOFF_SECONDS[0] / 2 for pause in sleeps)  # our backoff, not "Retry-After: 0"


def test_a_503_with_a_past_http_date_is_asked_again_and_succeeds(httpserver: HTTPServer) -> None:
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    httpserver.expect_ordered_request("/api").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": past}
    )
    httpserver.expect_ordered_request("/api").respond_with_data('{"ok": 1}', content_type=JSON)
    raw = get(httpserver)
    assert (raw.status, raw.body) == (200, b'{"ok": 1}')
    assert len(requests_to(httpserver, "/api")) == 2


def test_a_garbage_retry_after_gets_the_ordinary_backoff(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("busy", status=429, headers={"Retry-After": "soon"})
    sleeps = Sleeps()
    with pytest.raises(TransientSourceError, match="HTTP 429"):
        get(httpserver, sleeps=sleeps)
    assert len(requests_to(httpserver, "/api")) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1 and all(pause > 0 for pause in sleeps)


# --- body size ----------------------------------------------------------------------------------------


def test_the_default_cap_is_ten_mebibytes() -> None:
    assert MAX_BODY_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("size", "accepted"), [(0, True), (1, True), (4095, True), (4096, True), (4097, False)]
)
def test_a_declared_body_is_accepted_up_to_the_cap(httpserver: HTTPServer, size: int, accepted: bool) -> None:
    httpserver.expect_request("/page").respond_with_data(b"a" * size, content_type=JSON)
    if accepted:
        assert get(httpserver, "/page", limits=Limits(max_bytes=4096)).body == b"a" * size
        return
    with pytest.raises(SourceError, match=r"body of 4097 bytes is over the 4096-byte cap") as info:
        get(httpserver, "/page", limits=Limits(max_bytes=4096))
    assert not isinstance(info.value, TransientSourceError)  # the same page will be as big next time
    assert info.value.source == SOURCE and httpserver.url_for("/page") in str(info.value)


@pytest.mark.parametrize(("chunks", "accepted"), [(3, True), (4, True), (5, False)])
def test_a_streamed_body_is_counted_as_it_arrives(
    httpserver: HTTPServer, chunks: int, accepted: bool
) -> None:
    def chunked(request: Request) -> Response:
        return Response((b"z" * 1024 for _ in range(chunks)), content_type=JSON)  # no Content-Length

    httpserver.expect_request("/stream").respond_with_handler(chunked)
    if accepted:
        assert len(get(httpserver, "/stream", limits=Limits(max_bytes=4096)).body) == chunks * 1024
        return
    with pytest.raises(SourceError, match=r"body is over the 4096-byte cap"):
        get(httpserver, "/stream", limits=Limits(max_bytes=4096))


def test_a_304_is_never_read_or_size_checked(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("", status=304, content_type="text/html")
    raw = get(httpserver, "/feed", expect="xml", etag='"v9"', limits=Limits(max_bytes=0))
    assert (raw.status, raw.body) == (304, b"")


# --- content types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expect", "content_type"),
    [
        ("json", "application/json"),
        ("json", "application/json; charset=utf-8"),
        ("json", "application/ld+json"),
        ("json", "Application/JSON"),
        ("xml", "application/rss+xml"),
        ("xml", "application/atom+xml; charset=utf-8"),
        ("xml", "text/xml"),
        ("xml", "application/xml"),
        ("xml", "text/plain"),  # many feeds are served as plain text
        ("html", "text/html; charset=gb2312"),
        ("html", "application/xhtml+xml"),
        ("any", "application/octet-stream"),
        ("any", "text/html"),
    ],
)
def test_content_types_a_source_accepts(httpserver: HTTPServer, expect: str, content_type: str) -> None:
    httpserver.expect_request("/doc").respond_with_data(b"body", content_type=content_type)
    raw = get(httpserver, "/doc", expect=expect)
    assert raw.body == b"body" and raw.headers["content-type"] == content_type


@pytest.mark.parametrize(
    ("expect", "content_type", "message"),
    [
        ("json", "text/html", "got HTML (text/html) where json was expected"),
        ("json", "text/html; charset=utf-8", "got HTML"),
        ("xml", "text/html", "got HTML (text/html) where xml was expected"),
        ("xml", "application/xhtml+xml", "got HTML"),
        ("json", "application/octet-stream", "unexpected content type 'application/octet-stream'"),
        ("json", "text/plain", "unexpected content type 'text/plain'"),
        ("xml", "application/json", "unexpected content type 'application/json'"),
        ("html", "application/json", "unexpected content type 'application/json'"),
        ("html", "image/png", "unexpected content type 'image/png'"),
    ],
)
def test_content_types_that_mean_something_went_wrong(
    httpserver: HTTPServer, expect: str, content_type: str, message: str
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/doc").respond_with_data(b"<html>login</html>", content_type=content_type)
    with pytest.raises(SourceError, match=re.escape(message)) as info:
        get(httpserver, "/doc", expect=expect)
    assert not isinstance(info.value, TransientSourceError)
    assert str(info.value).startswith(f"source {SOURCE!r}: {httpserver.url_for('/doc')}")


def test_a_response_without_a_content_type_is_accepted(httpserver: HTTPServer) -> None:
    def untyped(request: Request) -> Response:
        response = Response(b"{}")
        del response.headers["Content-Type"]
        return response

    httpserver.expect_request("/api").respond_with_handler(untyped)
    raw = get(httpserver)
    assert raw.body == b"{}" and "content-type" not in raw.headers


# --- conditional requests and headers ----------------------------------------------------------------

LAST_MODIFIED = "Sat, 21 Nov 2026 08:30:00 GMT"


@pytest.mark.parametrize(
    ("etag", "last_modified"),
    [(None, None), ('"abc"', None), ('W/"weak-1"', None), (None, LAST_MODIFIED), ('"abc"', LAST_MODIFIED)],
)
def test_validators_are_sent_only_when_known(
    httpserver: HTTPServer, etag: str | None, last_modified: str | None
) -> None:
    httpserver.expect_request("/feed").respond_with_data("", status=304)
    raw = get(httpserver, "/feed", expect="xml", etag=etag, last_modified=last_modified)
    assert raw.status == 304
    (request,) = requests_to(httpserver, "/feed")
    assert request.headers.get("If-None-Match") == etag
    assert request.headers.get("If-Modified-Since") == last_modified


def test_a_changed_feed_answers_200_with_its_new_validators(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"old"'}).respond_with_data(
        "<rss/>",
        content_type="application/rss+xml",
        headers={"ETag": '"new"', "Last-Modified": LAST_MODIFIED},
    )
    raw = get(httpserver, "/feed", expect="xml", etag='"old"')
    assert (raw.status, raw.headers["etag"], raw.headers["last-modified"]) == (200, '"new"', LAST_MODIFIED)


def test_the_user_agent_names_voxwatch_its_version_and_a_contact(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data("{}", content_type=JSON)
    get(httpserver)
    (request,) = requests_to(httpserver, "/api")
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"VoxWatch/{__version__} (")
    assert "+https://" in USER_AGENT


def test_robots_txt_is_asked_with_our_user_agent_and_only_for_pages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    httpserver.expect_request("/page").respond_with_data("<html></html>", content_type="text/html")
    httpserver.expect_request("/feed").respond_with_data("<rss/>", content_type="application/rss+xml")
    get(httpserver, "/feed", expect="xml")
    assert requests_to(httpserver, "/robots.txt") == []
    get(httpserver, "/page", expect="html")
    (robots,) = requests_to(httpserver, "/robots.txt")
    assert robots.headers["User-Agent"] == USER_AGENT


def test_query_parameters_are_sent_encoded(httpserver: HTTPServer) -> None:
    params = {"query": "café & co", "tags": "(story,comment)", "numericFilters": "created_at_i>5"}
    httpserver.expect_request("/api", query_string=params).respond_with_data("{}", content_type=JSON)
    raw = get(httpserver, params=params)
    assert raw.status == 200
    (request,) = requests_to(httpserver, "/api")
    assert dict(request.args) == params
    assert "numericFilters=created_at_i%3E5" in raw.url


def test_the_raw_response_keeps_lower_cased_headers_and_a_fetch_time(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data(
        "{}", content_type=JSON, headers={"X-RateLimit-Limit": "300", "Link": '<https://x.test>; rel="next"'}
    )
    before = datetime.now(UTC)
    raw = get(httpserver)
    assert raw.headers["x-ratelimit-limit"] == "300" and raw.headers["link"].startswith("<https://x.test>")
    assert all(key == key.lower() for key in raw.headers)
    assert before <= raw.fetched_at <= datetime.now(UTC)


def test_headers_from_a_login_are_sent_with_the_request(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api", headers={"Authorization": "Bearer t-1"}).respond_with_data(
        "{}", content_type=JSON
    )
    user_agents: list[str] = []

    def prepare(client: httpx.Client) -> dict[str, str]:
        user_agents.append(client.headers["User-Agent"])
        return {"Authorization": "Bearer t-1"}

    session = login(prepare, SOURCE, httpserver.url_for("/login"))
    assert get(httpserver, session=session).status == 200
    assert user_agents == [USER_AGENT]  # the log-in ran once, and said who we are
    (request,) = requests_to(httpserver, "/api")
    assert request.headers["User-Agent"] == USER_AGENT  # the session adds to our headers, never replaces them


# --- redirects and bad URLs -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_followed_and_the_final_url_kept(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=status, headers={"Location": httpserver.url_for("/new")}
    )
    httpserver.expect_request("/new").respond_with_data('{"moved": true}', content_type=JSON)
    raw = get(httpserver, "/old")
    assert (raw.status, raw.url, raw.body) == (200, httpserver.url_for("/new"), b'{"moved": true}')


def test_a_redirect_to_a_gone_page_is_a_permanent_error_naming_the_final_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/gone")}
    )
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    with pytest.raises(SourceError, match=re.escape(f"{httpserver.url_for('/gone')}: HTTP 410")) as info:
        get(httpserver, "/old")
    assert not isinstance(info.value, TransientSourceError)


@pytest.mark.parametrize(
    ("url", "why"), [("http://a.test:abc/feed", "Invalid port"), ("http://\x00x.test/", "non-printable")]
)
def test_an_invalid_url_is_a_permanent_source_error(url: str, why: str) -> None:
    sleeps = Sleeps()
    with pytest.raises(SourceError, match=f"InvalidURL: .*{why}") as info:
        fetch(FetchRequest(url), SOURCE, polite=Politeness(min_interval=0), sleep=sleeps)
    assert not isinstance(info.value, TransientSourceError) and info.value.source == SOURCE
    assert sleeps == []  # never retried: the same URL will be as bad next time


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://[::1/feed", "ValueError: Invalid IPv6 URL"),  # our politeness cannot split it
        ("http://a..b/feed", "UnicodeError"),  # an empty label: no IDNA form
    ],
)
def test_a_url_no_one_can_use_is_a_permanent_error_not_a_crash(url: str, kind: str) -> None:
    sleeps = Sleeps()
    with pytest.raises(SourceError, match=re.escape(f"{url}: {kind}")) as info:
        fetch(FetchRequest(url), SOURCE, polite=Politeness(min_interval=0), sleep=sleeps)
    assert not isinstance(info.value, TransientSourceError) and sleeps == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_page_that_redirects_to_itself_is_a_redirect_loop(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        "", status=status, headers={"Location": httpserver.url_for("/loop")}
    )
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="too many redirects") as info:
        get(httpserver, "/loop", sleeps=sleeps)
    assert not isinstance(info.value, TransientSourceError)
    assert str(info.value).startswith(f"source {SOURCE!r}: {httpserver.url_for('/loop')}")
    # one fetch call's worth: httpx gives up after its redirect limit, and we do not ask again
    assert len(requests_to(httpserver, "/loop")) == redirect_limit() + 1
    assert sleeps == []


def test_two_pages_redirecting_to_each_other_are_a_loop_too(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(SourceError, match="too many redirects"):
        get(httpserver, "/a")
    assert len(httpserver.log) == redirect_limit() + 1


def test_a_redirect_to_a_busy_page_is_retried_from_the_start(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=302, headers={"Location": "/new"})
    httpserver.expect_oneshot_request("/new").respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request("/new").respond_with_data('{"ok": 1}', content_type=JSON)
    raw = get(httpserver, "/old")
    assert (raw.url, raw.body) == (httpserver.url_for("/new"), b'{"ok": 1}')
    assert len(requests_to(httpserver, "/old")) == 2  # the whole GET is the unit retried


def test_a_body_that_cannot_be_decoded_is_a_permanent_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data(
        b"this is not gzip", content_type=JSON, headers={"Content-Encoding": "gzip"}
    )
    sleeps = Sleeps()
    with pytest.raises(SourceError, match="the body could not be decoded") as info:
        get(httpserver, sleeps=sleeps)
    assert not isinstance(info.value, TransientSourceError)
    assert len(requests_to(httpserver, "/api")) == 1 and sleeps == []
