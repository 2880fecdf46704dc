"""The collect stage under faults, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.collect import collect_flow
from flows.sources import jsonld, rss
from tests.conftest import FIXTURES
from tests.settings_files import source, write_settings
from voxwatch.domain import RawResponse
from voxwatch.errors import ParseError

FEED = (FIXTURES / "stackoverflow_atom.xml").read_bytes()


def settings_file(tmp_path: Path, url: str, kind: str = "rss", **extra: object) -> Path:
    return write_settings(tmp_path, source("feed", kind, url, min_request_interval_seconds=0, **extra))


def stored(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_a_second_run_gets_304_and_stores_nothing_twice(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/feed").respond_with_data(
        FEED, content_type="application/atom+xml", headers={"ETag": '"v1"'}
    )
    config = settings_file(tmp_path, httpserver.url_for("/feed"))
    assert collect_flow(str(config)) == {"feed": 2}
    assert collect_flow(str(config)) == {"feed": 0}
    db = tmp_path / "voxwatch.duckdb"
    assert stored(db, "SELECT count(*) FROM mentions") == [(2,)]
    assert stored(db, "SELECT http_status, items_new FROM source_runs ORDER BY ran_at") == [
        (200, 2),
        (304, 0),
    ]


def test_malformed_json_marks_the_source_degraded(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data('{"hits": [', content_type="application/json")
    config = settings_file(tmp_path, httpserver.url_for("/api"), kind="hackernews")
    (result,) = collect_flow(str(config)).values()
    assert str(result).startswith("degraded") and "not valid JSON" in str(result)
    status, error = stored(tmp_path / "voxwatch.duckdb", "SELECT status, last_error FROM source_state")[0]
    assert status == "degraded" and "not valid JSON" in error


def test_a_truncated_review_page_is_an_error_not_an_empty_page() -> None:
    page = (FIXTURES / "recipe_page_15_reviews.html").read_bytes()
    cut = page.index(b'"review"') + 2000  # inside the JSON-LD block
    with pytest.raises(ParseError, match="JSON-LD"):
        jsonld.parse(
            RawResponse(
                "https://recipes.test/p", 200, {"content-type": "text/html"}, page[:cut], datetime.now(UTC)
            )
        )


def test_a_feed_served_with_the_wrong_charset_is_still_read() -> None:
    body = (FIXTURES / "gb2312_illformed.xml").read_bytes()
    page = rss.parse(
        RawResponse(
            "https://feed.test",
            200,
            {"content-type": "application/rss+xml; charset=utf-8"},
            body,
            datetime.now(UTC),
        )
    )
    assert len(page.mentions) == 1 and page.mentions[0].text  # read, not dropped


def test_a_process_killed_mid_collection_loses_nothing(tmp_path: Path, httpserver: HTTPServer) -> None:
    arrived = threading.Event()
    calls = {"n": 0}

    def feed(request: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:  # the first run is killed while its fetch is in flight
            arrived.set()
            time.sleep(3)
        return Response(FEED, content_type="application/atom+xml")

    httpserver.expect_request("/feed").respond_with_handler(feed)
    config = settings_file(tmp_path, httpserver.url_for("/feed"))
    victim = subprocess.Popen(
        [sys.executable, "-m", "voxwatch", "collect", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    assert arrived.wait(timeout=180), "the collect process never fetched"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)

    assert collect_flow(str(config)) == {"feed": 2}
    db = tmp_path / "voxwatch.duckdb"
    assert stored(db, "SELECT count(*), count(DISTINCT external_id) FROM mentions") == [(2, 2)]
    assert collect_flow(str(config)) == {"feed": 0}


def hn_page(ids: list[int], page: int, pages: int, hits: int, per_page: int = 2) -> dict:
    return {
        "hits": [
            {
                "objectID": str(i),
                "author": f"u{i}",
                "comment_text": f"Acme comment {i}",
                "created_at_i": 1_700_000_000 + i,
            }
            for i in ids
        ],
        "page": page,
        "nbPages": pages,
        "nbHits": hits,
        "hitsPerPage": per_page,
    }


def test_hackernews_walks_every_page_and_slices_past_the_hit_cap(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # 5 new hits, 2 per page, and the API only pages through 4 of them (its cap):
    # page 0 -> page 1 -> a slice of older items -> done.
    httpserver.expect_ordered_request(
        "/hn", query_string={"query": "acme", "tags": "(story,comment)", "hitsPerPage": "100"}
    ).respond_with_json(hn_page([5, 4], 0, 2, 5))
    httpserver.expect_ordered_request("/hn").respond_with_json(hn_page([3, 2], 1, 2, 5))
    httpserver.expect_ordered_request("/hn").respond_with_json(hn_page([2, 1], 0, 1, 2))
    config = settings_file(tmp_path, httpserver.url_for("/hn"), kind="hackernews")
    config.write_text(
        config.read_text().replace('kind = "hackernews"', 'kind = "hackernews"\nquery = "acme"')
    )
    assert collect_flow(str(config)) == {"feed": 5}
    requests = [r for r, _ in httpserver.log]
    assert requests[1].args["page"] == "1"
    assert (
        requests[2].args["numericFilters"] == "created_at_i<=1700000002" and requests[2].args["page"] == "0"
    )
    db = tmp_path / "voxwatch.duckdb"
    assert stored(db, "SELECT count(*) FROM mentions") == [(5,)]
    assert stored(db, "SELECT cursor FROM source_state") == [
        ("1700000005",)
    ]  # the newest, from the first page


def test_a_mastodon_instance_that_hides_hashtag_feeds_is_degraded_with_the_reason(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    access = {"hashtag_feeds": {"local": "authenticated", "remote": "disabled"}}
    httpserver.expect_request("/api/v2/instance").respond_with_json(
        {"configuration": {"timelines_access": access}}
    )
    config = settings_file(tmp_path, httpserver.url_for("/").rstrip("/"), kind="mastodon", query="acme")
    (result,) = collect_flow(str(config)).values()
    assert "does not show hashtag feeds to anonymous readers" in str(result)
    assert not [r for r, _ in httpserver.log if "/timelines/tag/" in r.path]


def test_a_response_that_fails_to_parse_is_kept_for_replay(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api").respond_with_data('{"hits": [', content_type="application/json")
    config = settings_file(tmp_path, httpserver.url_for("/api"), kind="hackernews")
    (result,) = collect_flow(str(config)).values()
    assert "kept as raw" in str(result)
    assert stored(tmp_path / "voxwatch.duckdb", "SELECT body FROM raw_responses") == [(b'{"hits": [',)]
