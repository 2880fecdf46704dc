"""The whole pipeline as real Prefect flow runs, against real HTTP servers, into DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from flows.collect import collect_flow
from flows.pipeline import pipeline_flow
from tests.conftest import FIXTURES
from tests.settings_files import source, write_settings

# The session-wide demo run is made once per worker: keep its users on one worker.
pytestmark = pytest.mark.xdist_group("demo")

TABLES = ("mentions", "scores", "cases", "audit_log", "raw_responses", "source_state")


def table_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def db_of(config: Path) -> Path:
    return config.parent / "voxwatch.duckdb"


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_sample_week_is_collected_scored_and_routed(demo_run: tuple[Path, dict]) -> None:
    config, summary = demo_run
    db = db_of(config)
    assert summary["collected"] == 36
    assert summary["scored"] == 36
    assert summary["this_run"]["sources"] == {
        "reddit-larkspur": 11,
        "shop-reviews": 9,
        "hackernews": 7,
        "mastodon-larkspur": 3,
        "appstore-cn": 3,
        "bluesky": 3,
    }
    assert summary["routed"] >= 6
    assert sum(summary["per_owner"].values()) == summary["routed"]
    # one definition of "routed" (queries.analytics.ROUTED): this first run's count, which the route
    # flow logs, is the summary's total, dismissed cases in neither
    assert summary["this_run"]["routed"] == summary["routed"]
    assert query(db, "SELECT count(*) FROM cases")[0][0] == summary["routed"] + summary["dismissed"]
    assert query(db, "SELECT DISTINCT status FROM source_state") == [("ok",)]
    assert query(db, "SELECT source, status, items_new FROM source_runs ORDER BY source") == [
        ("appstore-cn", "ok", 3),
        ("bluesky", "ok", 3),
        ("hackernews", "ok", 7),
        ("mastodon-larkspur", "ok", 3),
        ("reddit-larkspur", "ok", 11),
        ("shop-reviews", "ok", 9),
    ]
    assert table_counts(db)["raw_responses"] == 6
    langs = dict(query(db, "SELECT author, lang FROM mentions WHERE source = 'shop-reviews'"))
    assert langs["王女士"] == "zh" and langs["Dan K."] == "en"


def test_praise_is_positive_and_complaints_are_routed(demo_run: tuple[Path, dict]) -> None:
    db = db_of(demo_run[0])
    labels = dict(query(db, "SELECT m.author, s.label FROM mentions m JOIN scores s ON s.mention_id = m.id"))
    assert labels["/u/beanqueen"] == "positive"
    assert labels["lindqvist"] == "positive"
    routed_authors = {
        a for (a,) in query(db, "SELECT m.author FROM cases c JOIN mentions m ON m.id = c.mention_id")
    }
    assert {"/u/latte_larry", "/u/hikerjo", "kestrel", "Dan K."} <= routed_authors
    assert "/u/beanqueen" not in routed_authors
    glass = query(
        db,
        "SELECT s.themes, c.reasons FROM cases c JOIN mentions m ON m.id = c.mention_id "
        "JOIN scores s ON s.mention_id = m.id WHERE m.author = '/u/hikerjo'",
    )
    assert glass[0][0] == ["safety"] and "theme: safety" in glass[0][1]
    dismissed = dict(
        query(
            db,
            "SELECT m.author, c.dismissed_reason FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "WHERE c.status = 'dismissed'",
        )
    )
    assert dismissed["/u/deals4u_official"].startswith("spam")
    assert dismissed["小李代购"].startswith("spam")
    assert dismissed["/u/edgelord_9000"].startswith("troll")
    assert dismissed["offtopic_ann"].startswith("off-topic: does not mention Larkspur Coffee")
    # the same complaint cross-posted is linked to the first, not a second case
    (repost,) = query(
        db,
        "SELECT m.duplicate_of, t.validity, c.id FROM mentions m JOIN triage t ON t.mention_id = m.id "
        "LEFT JOIN cases c ON c.mention_id = m.id WHERE m.source = 'hackernews' AND m.author = 'hikerjo'",
    )
    original = query(db, "SELECT id FROM mentions WHERE author = '/u/hikerjo'")[0][0]
    assert repost == (original, "duplicate", None)
    questions = {
        a
        for (a,) in query(
            db,
            "SELECT m.author FROM triage t JOIN mentions m ON m.id = t.mention_id "
            "WHERE t.validity = 'question'",
        )
    }
    assert {"/u/quietreader", "/u/neutralnate"} <= questions


def test_third_time_complainer_threatening_to_go_public_is_urgent_and_escalated(
    demo_run: tuple[Path, dict],
) -> None:
    db = db_of(demo_run[0])
    rows = query(
        db,
        "SELECT c.tier, c.team, c.owner, c.reasons, c.status, "
        "c.first_response_due - greatest(m.published_at, "
        "(SELECT min(collected_at) FROM mentions WHERE source = m.source)) "
        "FROM cases c JOIN mentions m ON m.id = c.mention_id WHERE m.text LIKE 'This is the third time%'",
    )
    assert len(rows) == 1
    tier, team, owner, reasons, status, sla = rows[0]
    assert (tier, team, owner, status) == ("urgent", "escalations", "sara", "assigned")
    assert "threat to go public" in reasons
    assert any(r.startswith("repeat complainer: 2") for r in reasons)
    # urgent: first response within 2 hours of the post, or of when we started watching if later
    assert sla.total_seconds() == 2 * 3600
    audit = query(db, "SELECT actor, action FROM audit_log WHERE entity = 'case'")
    assert ("system", "routed") in audit


def test_running_the_pipeline_again_adds_nothing(demo_run: tuple[Path, dict]) -> None:
    config, _ = demo_run
    before = table_counts(db_of(config))
    summary = pipeline_flow(str(config))
    assert summary["this_run"]["scored"] == 0
    assert summary["this_run"]["routed"] == 0
    assert set(summary["this_run"]["sources"].values()) == {0}
    assert table_counts(db_of(config)) == before


def test_a_refusing_source_is_degraded_while_the_others_complete(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        (FIXTURES / "stackoverflow_atom.xml").read_bytes(), content_type="application/atom+xml"
    )
    httpserver.expect_request("/forbidden").respond_with_data("go away", status=403)
    config = write_settings(
        tmp_path,
        source("so", "rss", httpserver.url_for("/feed.xml")),
        source("walled", "jsonld", httpserver.url_for("/forbidden")),
    )
    results = collect_flow(str(config))
    assert results["so"] == 2
    assert str(results["walled"]).startswith("degraded")
    state = dict(
        (name, (status, error))
        for name, status, error in query(db_of(config), "SELECT source, status, last_error FROM source_state")
    )
    assert state["so"] == ("ok", None)
    assert state["walled"][0] == "degraded" and "HTTP 403" in state["walled"][1]


def test_a_server_error_is_retried_by_the_fetch_task(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/feed.xml").respond_with_data("overloaded", status=503)
    httpserver.expect_request("/feed.xml").respond_with_data(
        (FIXTURES / "stackoverflow_atom.xml").read_bytes(), content_type="application/atom+xml"
    )
    config = write_settings(tmp_path, source("so", "rss", httpserver.url_for("/feed.xml")))
    assert collect_flow(str(config)) == {"so": 2}
    assert [r.path for r, _ in httpserver.log] == ["/feed.xml", "/feed.xml"]
