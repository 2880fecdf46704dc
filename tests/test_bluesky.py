"""The credentialed connector: Bluesky search with an app password from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from flows.collect import collect_flow
from tests.conftest import FIXTURES
from tests.settings_files import source, write_settings
from voxwatch.cli.replay import replay_file

SEARCH = {
    "posts": [
        {
            "uri": "at://did:plc:abc/app.bsky.feed.post/3l2",
            "author": {"did": "did:plc:abc", "handle": "mei.bsky.social"},
            "record": {
                "text": "Larkspur app charged me twice again",
                "createdAt": "2026-11-22T10:00:00.000Z",
            },
            "indexedAt": "2026-11-22T10:00:01.000Z",
        },
        {
            "uri": "at://did:plc:def/app.bsky.feed.post/3l1",
            "author": {"did": "did:plc:def", "handle": "tom.bsky.social"},
            "record": {"text": "拉克斯珀的冷萃真好喝", "createdAt": "2026-11-21T08:30:00.000Z"},
            "indexedAt": "2026-11-21T08:30:02.000Z",
        },
    ],
    "cursor": "2",
}


def settings_file(tmp_path: Path, url: str) -> Path:
    bsky = source("bsky", "bluesky", url, query="larkspur", min_request_interval_seconds=0)
    return write_settings(tmp_path, bsky, brand="Larkspur Coffee")


def test_a_recorded_thread_replays_and_image_only_posts_are_skipped() -> None:
    assert replay_file("bluesky", FIXTURES / "bluesky_post_thread.json") == []


def test_without_credentials_the_source_is_degraded_with_a_clear_message(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOXWATCH_BLUESKY__IDENTIFIER", raising=False)
    monkeypatch.delenv("VOXWATCH_BLUESKY__APP_PASSWORD", raising=False)
    results = collect_flow(str(settings_file(tmp_path, httpserver.url_for("/"))))
    assert "VOXWATCH_BLUESKY__APP_PASSWORD" in str(results["bsky"])
    assert httpserver.log == []  # nothing was asked without a login


def test_with_credentials_it_logs_in_searches_and_resumes_from_its_cursor(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXWATCH_BLUESKY__IDENTIFIER", "care.larkspur.example")
    monkeypatch.setenv("VOXWATCH_BLUESKY__APP_PASSWORD", "abcd-efgh-ijkl-mnop")
    httpserver.expect_request(
        "/xrpc/com.atproto.server.createSession",
        method="POST",
        json={"identifier": "care.larkspur.example", "password": "abcd-efgh-ijkl-mnop"},
    ).respond_with_json({"accessJwt": "token-123", "did": "did:plc:care"})

    def search(request: Request) -> Response:  # the search's own cursor leads to an empty last page
        answer = {"posts": []} if "cursor" in request.args else SEARCH
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request(
        "/xrpc/app.bsky.feed.searchPosts", headers={"Authorization": "Bearer token-123"}
    ).respond_with_handler(search)
    config = settings_file(tmp_path, httpserver.url_for("/").rstrip("/"))

    assert collect_flow(str(config)) == {"bsky": 2}
    searches = [r for r, _ in httpserver.log if r.path.endswith("searchPosts")]
    assert searches[0].args["q"] == "larkspur" and "since" not in searches[0].args
    assert [s.args.get("cursor") for s in searches] == [None, "2"]  # the search's pages, one login
    assert collect_flow(str(config)) == {"bsky": 0}
    searches = [r for r, _ in httpserver.log if r.path.endswith("searchPosts")]
    assert searches[-1].args["since"] == "2026-11-22T10:00:00Z"

    with duckdb.connect(str(tmp_path / "voxwatch.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT author, lang, url FROM mentions ORDER BY author").fetchall()
        stored = json.dumps(conn.execute("SELECT * FROM source_state").fetchall(), default=str)
    assert rows == [
        ("mei.bsky.social", "en", "https://bsky.app/profile/mei.bsky.social/post/3l2"),
        ("tom.bsky.social", "zh", "https://bsky.app/profile/tom.bsky.social/post/3l1"),
    ]
    assert "abcd-efgh" not in stored and "token-123" not in stored  # secrets never stored
