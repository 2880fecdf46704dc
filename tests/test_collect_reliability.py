"""Every complaint reaches the store once, whatever the sources do: the collect flow under attack.

Each test serves real answers from 127.0.0.1 (pytest-httpserver, or a raw socket
where HTTP must misbehave) and runs the real collect flow. A source that fails,
loops, trickles, throttles, pages forever or reuses ids costs only itself.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from flows.collect import collect_flow
from tests.settings_files import source, write_settings
from voxwatch.cli import app

FAST = {"min_request_interval_seconds": 0}
NOW = datetime.now(UTC).replace(microsecond=0)


def settings_file(tmp_path: Path, *sources: str, collect: str = "") -> Path:
    path = write_settings(tmp_path, *sources)
    if collect:
        path.write_text(path.read_text(encoding="utf-8") + f"\n[collect]\n{collect}\n", encoding="utf-8")
    return path


def stored(tmp_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "voxwatch.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def rss(items: list[tuple[str, str, str]], when: datetime = NOW) -> bytes:
    """An RSS feed of (guid, link, text) items, all published at ``when``."""
    body = "".join(
        f"<item><guid>{guid}</guid><link>{link}</link><title>{text}</title>"
        f"<description>{text}</description><author>{guid}@x.example (u{i})</author>"
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item>"
        for i, (guid, link, text) in enumerate(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


def healthy_feed(httpserver: HTTPServer, path: str = "/ok.xml") -> str:
    items = [(f"ok-{i}", f"https://x.example/ok/{i}", f"Acme order {i} arrived late") for i in range(3)]
    httpserver.expect_request(path).respond_with_data(rss(items), content_type="application/rss+xml")
    return source("healthy", "rss", httpserver.url_for(path), **FAST)


# --- a source's failure stays in that source ---------------------------------------------------


def bluesky_login(httpserver: HTTPServer, answer: Response) -> str:
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_response(
        answer
    )
    return source("bsky", "bluesky", httpserver.url_for("/"), query="acme", **FAST)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXWATCH_BLUESKY__IDENTIFIER", "care.acme.example")
    monkeypatch.setenv("VOXWATCH_BLUESKY__APP_PASSWORD", "app-pass-1234")


BROKEN = {
    "login refused": (
        lambda server: bluesky_login(server, Response('{"error": "AuthenticationRequired"}', status=401)),
        "refused the login",
    ),
    "login not json": (
        lambda server: bluesky_login(server, Response("<html>maintenance</html>", status=200)),
        "not JSON",
    ),
    "login server error": (
        lambda server: bluesky_login(server, Response("down", status=502)),
        "HTTP 502",
    ),
    "redirect loop": (
        lambda server: (
            server.expect_request("/loop").respond_with_response(
                Response("", status=302, headers={"Location": server.url_for("/loop")})
            ),
            source("looping", "rss", server.url_for("/loop"), **FAST),
        )[1],
        "too many redirects",
    ),
    "a status of another shape": (
        lambda server: (
            server.expect_request("/api/v1/timelines/tag/acme").respond_with_json(
                [{"id": "1", "content": "<p>Acme broke</p>", "account": "not an object"}]
            ),
            source("masto", "mastodon", server.url_for("/"), query="acme", **FAST),
        )[1],
        "not the mastodon answer the parser expects",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_source_is_degraded_and_the_others_are_collected(
    case: str, tmp_path: Path, httpserver: HTTPServer, credentials: None
) -> None:
    make, reason = BROKEN[case]
    broken = make(httpserver)
    config = settings_file(tmp_path, broken, healthy_feed(httpserver))
    results = collect_flow(str(config))
    (name,) = [n for n in results if n != "healthy"]
    assert results["healthy"] == 3
    assert isinstance(results[name], str) and results[name].startswith("degraded") and reason in results[name]
    state = dict(stored(tmp_path, "SELECT source, status FROM source_state"))
    assert state == {name: "degraded", "healthy": "ok"}
    (error,) = stored(tmp_path, "SELECT last_error FROM source_state WHERE source = ?", [name])[0]
    assert reason in error


def test_bluesky_logs_in_once_for_a_run_of_many_pages(
    tmp_path: Path, httpserver: HTTPServer, credentials: None
) -> None:
    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_json(
        {"accessJwt": "token-1", "did": "did:plc:care"}
    )

    def search(request: Request) -> Response:
        assert request.headers.get("Authorization") == "Bearer token-1"
        page = int(request.args.get("cursor", "0"))
        posts = [
            {
                "uri": f"at://did:plc:u{page}{i}/app.bsky.feed.post/{page}{i}",
                "author": {"handle": f"u{page}{i}.bsky.social"},
                "record": {"text": f"Acme post {page}-{i}", "createdAt": "2026-11-22T10:00:00Z"},
            }
            for i in range(2)
        ]
        answer = {"posts": posts, "cursor": str(page + 1)} if page < 3 else {"posts": []}
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(search)
    config = settings_file(tmp_path, source("bsky", "bluesky", httpserver.url_for("/"), query="acme", **FAST))
    assert collect_flow(str(config)) == {"bsky": 6}
    logins = [r for r, _ in httpserver.log if r.path.endswith("createSession")]
    searches = [r for r, _ in httpserver.log if r.path.endswith("searchPosts")]
    assert len(logins) == 1 and len(searches) == 4


# --- misbehaving sources cost only themselves ------------------------------------------------------


@pytest.fixture
def trickle_server() -> Iterator[str]:
    """A server that answers 200 and then sends its feed one byte every 0.2 s, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
            for byte in rss([("t-1", "https://x.example/t", "trickled")]) * 50:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.2)

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed at the end of the test
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    stop.set()
    listener.close()


def test_a_trickling_source_is_degraded_not_ok_with_nothing_new(
    tmp_path: Path, httpserver: HTTPServer, trickle_server: str
) -> None:
    config = settings_file(
        tmp_path,
        source("trickle", "rss", trickle_server, **FAST),
        healthy_feed(httpserver),
        collect="fetch_deadline_seconds = 2",
    )
    results = collect_flow(str(config))
    assert results["healthy"] == 3
    assert str(results["trickle"]).startswith("degraded") and "still arriving" in str(results["trickle"])
    assert stored(tmp_path, "SELECT count(*) FROM mentions WHERE source = 'trickle'") == [(0,)]


def test_a_slow_source_does_not_hold_the_others(tmp_path: Path, httpserver: HTTPServer) -> None:
    """The slow host answers only once the fast one has been asked: sources one after another would fail."""
    fast_asked = threading.Event()
    items = [("s-1", "https://x.example/s", "Acme was slow to answer")]

    def slow(request: Request) -> Response:
        if not fast_asked.wait(timeout=15):
            return Response("the other source was never asked while this one waited", status=500)
        return Response(rss(items), content_type="application/rss+xml")

    def fast(request: Request) -> Response:
        fast_asked.set()
        return Response(
            rss([("f-1", "https://x.example/f", "Acme fast")]), content_type="application/rss+xml"
        )

    httpserver.expect_request("/slow.xml").respond_with_handler(slow)
    httpserver.expect_request("/fast.xml").respond_with_handler(fast)
    config = settings_file(
        tmp_path,
        source("slow", "rss", httpserver.url_for("/slow.xml"), **FAST),
        source("fast", "rss", httpserver.url_for("/fast.xml"), **FAST),
        collect="concurrency = 2",
    )
    assert collect_flow(str(config)) == {"slow": 1, "fast": 1}


def test_retry_after_is_honoured_across_runs_and_health_says_so(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "3600"})
    )
    config = settings_file(tmp_path, source("busy", "rss", httpserver.url_for("/feed.xml"), **FAST))
    first = collect_flow(str(config))["busy"]
    second = collect_flow(str(config))["busy"]
    assert str(first).startswith("waiting") and str(second).startswith("waiting")
    assert len([r for r, _ in httpserver.log if r.path == "/feed.xml"]) == 1  # asked once, then waited
    status, until = stored(tmp_path, "SELECT status, retry_after_until FROM source_state")[0]
    assert status == "waiting"
    assert timedelta(minutes=55) < until - datetime.now(UTC) <= timedelta(hours=1)
    runs = stored(tmp_path, "SELECT status FROM source_runs ORDER BY ran_at")
    assert runs == [("waiting",), ("waiting",)]


def test_items_that_reuse_ids_are_all_kept_with_a_warning(tmp_path: Path, httpserver: HTTPServer) -> None:
    items = [(f"guid-{i % 4}", f"https://x.example/{i}", f"Acme complaint number {i}") for i in range(20)]
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    config = settings_file(tmp_path, source("reuse", "rss", httpserver.url_for("/feed.xml"), **FAST))
    assert collect_flow(str(config)) == {"reuse": 20}
    assert collect_flow(str(config)) == {"reuse": 0}
    assert stored(tmp_path, "SELECT count(DISTINCT text) FROM mentions") == [(20,)]
    warnings = stored(tmp_path, "SELECT warning FROM source_runs ORDER BY ran_at")
    assert all("16 item(s) reused another item's id" in w for (w,) in warnings)  # as long as the feed does
    assert "16 item(s)" in stored(tmp_path, "SELECT warning FROM source_state")[0][0]


def test_a_post_dated_in_the_future_starts_its_clock_when_collected(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    future = datetime(2999, 1, 1, tzinfo=UTC)
    feed = rss([("far", "https://x.example/far", "Acme charged me twice")], when=future)
    httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    config = settings_file(tmp_path, source("future", "rss", httpserver.url_for("/feed.xml"), **FAST))
    before = datetime.now(UTC)
    assert collect_flow(str(config)) == {"future": 1}
    published, claimed, collected = stored(
        tmp_path, "SELECT published_at, claimed_published_at, collected_at FROM mentions"
    )[0]
    assert claimed == future
    assert before - timedelta(seconds=1) <= published <= collected


# --- long walks make progress -----------------------------------------------------------------------


def test_a_walk_longer_than_the_page_budget_continues_next_run(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Five pages of hits, two pages per run: every hit is stored once, and the cursor moves at the end."""
    pages = [
        [
            {
                "objectID": str(p * 10 + i),
                "created_at_i": 2_000_000 - p * 10 - i,
                "comment_text": f"Acme hit {p}-{i}",
                "author": f"u{p}{i}",
            }
            for i in range(3)
        ]
        for p in range(5)
    ]

    def search(request: Request) -> Response:
        if "created_at_i>" in request.args.get("numericFilters", ""):
            return Response(
                json.dumps({"hits": [], "page": 0, "nbPages": 0}), content_type="application/json"
            )
        page = int(request.args.get("page", "0"))
        answer = {"hits": pages[page], "page": page, "nbPages": 5, "hitsPerPage": 3, "nbHits": 15}
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/search").respond_with_handler(search)
    config = settings_file(
        tmp_path,
        source("hn", "hackernews", httpserver.url_for("/search"), query="acme", **FAST),
        collect="max_pages_per_run = 2",
    )
    assert [collect_flow(str(config))["hn"] for _ in range(3)] == [6, 6, 3]
    assert stored(tmp_path, "SELECT count(*), count(DISTINCT external_id) FROM mentions") == [(15, 15)]
    cursor, resume, pending = stored(
        tmp_path, "SELECT cursor, resume_page, pending_cursor FROM source_state"
    )[0]
    assert (cursor, resume, pending) == ("2000000", None, None)
    runs = stored(tmp_path, "SELECT status, items_new, warning FROM source_runs ORDER BY ran_at")
    assert [r[:2] for r in runs] == [("ok", 6), ("ok", 6), ("ok", 3)]
    assert "next run continues" in runs[0][2] and runs[2][2] is None
    assert collect_flow(str(config)) == {"hn": 0}  # the next run asks only for newer hits


# --- decoding as browsers do -----------------------------------------------------------------------

REVIEWS = """<html><head><title>评论</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product", "name": "咖啡",
 "review": [{"@type": "Review", "author": {"@type": "Person", "name": "王芳"},
             "reviewBody": "退款还没到账，客服也不回复", "datePublished": "2026-11-20"},
            {"@type": "Review", "author": {"@type": "Person", "name": "李雷"},
             "reviewBody": "咖啡很好喝，物流也快", "datePublished": "2026-11-21"}]}</script>
</head><body>评论</body></html>"""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (REVIEWS.encode("utf-8"), "text/html"),  # no charset anywhere: UTF-8 because it decodes cleanly
        (REVIEWS.encode("gb18030"), "text/html; charset=gb18030"),  # the HTTP charset
        (REVIEWS.replace("<head>", '<head><meta charset="gbk">').encode("gbk"), "text/html"),  # meta
        (b"\xef\xbb\xbf" + REVIEWS.encode("utf-8"), "text/html; charset=iso-8859-1"),  # the BOM wins
    ],
    ids=["utf-8 undeclared", "http charset", "meta charset", "bom"],
)
def test_chinese_reviews_are_read_in_the_encoding_a_browser_would_use(
    body: bytes, content_type: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/product").respond_with_data(body, content_type=content_type)
    config = settings_file(tmp_path, source("shop", "jsonld", httpserver.url_for("/product"), **FAST))
    assert collect_flow(str(config)) == {"shop": 2}
    rows = stored(tmp_path, "SELECT author, text, lang FROM mentions ORDER BY published_at")
    assert rows == [("王芳", "退款还没到账，客服也不回复", "zh"), ("李雷", "咖啡很好喝，物流也快", "zh")]


def test_a_feed_feedparser_cannot_read_is_recovered_before_it_is_called_broken(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    broken = (
        b'<?xml versio="1.0" encodin="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<x:item><x:title>Acme app crashed</x:title><x:link>https://x.example/1</x:link>"
        b"<x:description>The Acme app crashed at checkout</x:description><x:guid>g-1</x:guid></x:item>"
        b"<x:item><x:title>Refund</x:title><x:link>https://x.example/2</x:link>"
        b"<x:description>Still waiting for my Acme refund</x:description><x:guid>g-2</x:guid></x:item>"
        b"</channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(broken, content_type="application/rss+xml")
    config = settings_file(tmp_path, source("mangled", "rss", httpserver.url_for("/feed.xml"), **FAST))
    assert collect_flow(str(config)) == {"mangled": 2}
    assert stored(tmp_path, "SELECT external_id FROM mentions ORDER BY external_id") == [("g-1",), ("g-2",)]


# --- what a person running it sees -------------------------------------------------------------------


def test_collect_exits_3_with_one_line_per_degraded_source(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=404)
    config = settings_file(
        tmp_path, source("gone", "rss", httpserver.url_for("/gone.xml"), **FAST), healthy_feed(httpserver)
    )
    result = CliRunner().invoke(app, ["collect", "--config", str(config)])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    degraded = [line for line in result.stderr.splitlines() if line.startswith("gone:")]
    assert len(degraded) == 1 and "HTTP 404" in degraded[0]
    assert "healthy: 3 new mention(s)" in result.stdout


def test_collect_exits_0_when_every_source_is_healthy(tmp_path: Path, httpserver: HTTPServer) -> None:
    config = settings_file(tmp_path, healthy_feed(httpserver))
    result = CliRunner().invoke(app, ["collect", "--config", str(config)])
    assert result.exit_code == 0, result.output


def test_lone_surrogates_from_a_json_api_are_stored_as_replacement_characters(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """JSON may escape half of a surrogate pair (``"\\ud800"``); the store keeps U+FFFD, the rest is kept."""
    body = (
        '{"hits": [{"objectID": "1", "created_at_i": 1900000000, "author": "\\ud800pat", '
        '"comment_text": "Acme app \\udfff crashed"}], "page": 0, "nbPages": 1}'
    )
    httpserver.expect_request("/search").respond_with_data(body, content_type="application/json")
    config = settings_file(
        tmp_path, source("hn", "hackernews", httpserver.url_for("/search"), query="acme", **FAST)
    )
    assert collect_flow(str(config)) == {"hn": 1}
    assert stored(tmp_path, "SELECT author, text FROM mentions") == [("\ufffdpat", "Acme app \ufffd crashed")]
