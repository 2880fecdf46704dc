"""What each pipeline stage stores: one transaction each, idempotent on re-runs, audited.

``voxwatch.store.stages`` promises that a write lands whole or not at all, and that
running a stage again adds nothing. Failures here are real ones raised by DuckDB
(a text Python cannot encode, a number too large for its column, a NOT NULL column
left empty, a file that is not a store), never mocks: each makes the write fail
after part of it has already been executed, and the test checks that nothing of it
remains.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest

from responders.decide import decide
from sentiment.themes import urgent_theme_ids
from tests.builders import MODEL, NOW, Post, fresh_store, score_for, team_settings, write_team_settings
from voxwatch.domain import (
    SYSTEM_ACTOR,
    Decision,
    Mention,
    RawResponse,
    Score,
    case_id_for,
    mention_id,
)
from voxwatch.errors import StoreError
from voxwatch.settings import Settings, load_settings
from voxwatch.store import DuckDBStore, Store, queries, stages, store_for

pytestmark = pytest.mark.both_engines
# What each engine raises when a row cannot be stored (Python's own, for text it cannot encode).
ENGINE_ERRORS = (duckdb.Error, psycopg.Error, UnicodeEncodeError)  # store tests run on DuckDB and on Postgres

TABLES = (
    "mentions",
    "raw_responses",
    "scores",
    "triage",
    "cases",
    "audit_log",
    "source_state",
    "source_runs",
)


@pytest.fixture
def store(team: Settings) -> Store:
    return store_for(team)


def counts(store: Store) -> dict[str, int]:
    def _read(conn: queries.Connection) -> dict[str, int]:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]

    return store.read(_read)


def raw(body: bytes = b"<rss/>", status: int = 200, **headers: str) -> RawResponse:
    return RawResponse("https://example.com/feed", status, headers, body, NOW)


def page(*texts: str, author: str = "pat") -> list[Mention]:
    return [Mention(f"id-{i}", text, author=author, published_at=NOW) for i, text in enumerate(texts)]


# --- save_page / save_unparsed ---------------------------------------------------------------


def test_a_page_stores_its_mentions_and_the_response_they_came_from(store: Store) -> None:
    response = raw(b"<rss>two items</rss>", **{"content-type": "application/rss+xml"})
    assert stages.save_page(store, "blog", response, page("first", "second")).new == 2
    shas = store.read(lambda c: c.execute("SELECT DISTINCT raw_sha256 FROM mentions").fetchall())
    assert shas == [(response.sha256,)]
    stored = store.read(
        lambda c: c.execute("SELECT sha256, source, content_type, body FROM raw_responses").fetchall()
    )
    assert stored == [(response.sha256, "blog", "application/rss+xml", b"<rss>two items</rss>")]


def test_running_a_page_again_adds_no_rows(store: Store) -> None:
    stages.save_page(store, "blog", raw(), page("first", "second"))
    before = counts(store)
    assert stages.save_page(store, "blog", raw(), page("first", "second")).new == 0
    # the same items in a re-rendered page: nothing new, so its body is not kept either
    assert stages.save_page(store, "blog", raw(b"<rss>new ads</rss>"), page("first", "second")).new == 0
    assert counts(store) == before


def test_a_page_with_nothing_new_keeps_no_body(store: Store) -> None:
    assert stages.save_page(store, "blog", raw(b"", status=304, etag='"e1"'), []).new == 0
    assert stages.save_page(store, "blog", raw(b"<rss/>"), []).new == 0
    assert counts(store)["raw_responses"] == 0


def test_mentions_from_an_empty_body_have_no_raw_response(store: Store) -> None:
    assert stages.save_page(store, "blog", raw(b""), page("from an API without a body")).new == 1
    assert store.read(lambda c: c.execute("SELECT raw_sha256 FROM mentions").fetchall()) == [(None,)]
    assert counts(store)["raw_responses"] == 0


def test_a_page_that_fails_half_way_stores_nothing(store: Store) -> None:
    # The third author cannot be encoded as UTF-8: it is refused after two rows went in.
    broken = [*page("first", "second"), Mention("id-2", "third", author="\ud800")]
    with pytest.raises(ENGINE_ERRORS, match="surrogate"):
        stages.save_page(store, "blog", raw(), broken)
    assert counts(store)["mentions"] == 0 and counts(store)["raw_responses"] == 0
    assert stages.save_page(store, "blog", raw(), broken[:2]).new == 2  # the next run starts clean


def test_save_unparsed_keeps_the_body_once(store: Store) -> None:
    response = raw(b"<rss><broken", **{"content-type": "text/xml"})
    assert stages.save_unparsed(store, "blog", response) == response.sha256
    assert stages.save_unparsed(store, "shop", response) == response.sha256
    rows = store.read(lambda c: c.execute("SELECT source, body FROM raw_responses").fetchall())
    assert rows == [("blog", b"<rss><broken")]
    assert counts(store)["mentions"] == 0


def test_a_file_that_is_not_a_store_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-store.duckdb"
    path.write_bytes(b"this is not a database " * 200)
    with pytest.raises(StoreError, match=str(path)):
        stages.save_page(DuckDBStore(path, lock_timeout=1), "blog", raw(), page("first"))
    assert path.read_bytes() == b"this is not a database " * 200  # left as it was


# --- save_run / save_source_failure ---------------------------------------------------------


def test_save_run_moves_the_cursor_and_keeps_the_validators(store: Store) -> None:
    first = raw(etag='"v1"', **{"last-modified": "Mon, 23 Nov 2026 08:00:00 GMT"})
    stages.save_run(store, "blog", first, "cursor-1", 5)
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.cursor, state.etag, state.last_modified, state.status, state.items_last_run) == (
        "cursor-1",
        '"v1"',
        "Mon, 23 Nov 2026 08:00:00 GMT",
        "ok",
        5,
    )
    # a 304 run: no new cursor, no new validators; the old ones stay for the next request
    stages.save_run(store, "blog", raw(b"", status=304), None, 0)
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.cursor, state.etag, state.items_last_run) == ("cursor-1", '"v1"', 0)
    runs = store.read(
        lambda c: c.execute("SELECT status, http_status, items_new FROM source_runs").fetchall()
    )
    assert sorted(runs) == [("ok", 200, 5), ("ok", 304, 0)]


def test_a_run_that_fails_half_way_leaves_the_cursor_where_it_was(store: Store) -> None:
    stages.save_run(store, "blog", raw(etag='"v1"'), "cursor-1", 1)
    # the state row is written first; the run row's HTTP status does not fit its INTEGER column
    with pytest.raises(ENGINE_ERRORS, match="out of range"):
        stages.save_run(store, "blog", raw(status=2**40, etag='"v2"'), "cursor-2", 9)
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.cursor, state.etag, state.items_last_run) == ("cursor-1", '"v1"', 1)
    assert counts(store)["source_runs"] == 1


def test_a_failure_marks_the_source_degraded_and_keeps_its_cursor(store: Store) -> None:
    stages.save_run(store, "blog", raw(etag='"v1"'), "cursor-1", 2)
    stages.save_source_failure(store, "blog", "HTTP 503 from https://example.com/feed")
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.status, state.last_error, state.cursor, state.etag) == (
        "degraded",
        "HTTP 503 from https://example.com/feed",
        "cursor-1",
        '"v1"',
    )
    runs = store.read(
        lambda c: c.execute("SELECT status, http_status, items_new, error FROM source_runs").fetchall()
    )
    assert ("degraded", None, 0, "HTTP 503 from https://example.com/feed") in runs and len(runs) == 2
    stages.save_run(store, "blog", raw(), None, 0)
    assert store.read(lambda c: queries.source_state(c, "blog")).last_error is None


# --- save_scores -----------------------------------------------------------------------------


def negative(model: str = MODEL) -> Score:
    return Score("negative", {"negative": 0.9, "neutral": 0.06, "positive": 0.04}, model, ("delivery",))


def test_scores_are_stored_once_per_mention_and_model(store: Store) -> None:
    stages.save_page(store, "blog", raw(), page("first", "second"))
    ids = [mention_id("blog", "id-0"), mention_id("blog", "id-1")]
    stages.save_scores(store, [(i, negative()) for i in ids])
    before = counts(store)
    stages.save_scores(store, [(i, negative()) for i in ids])
    assert counts(store) == before and before["scores"] == 2
    stages.save_scores(store, [(ids[0], negative("next-model"))])
    assert counts(store)["scores"] == 3


def test_scores_that_fail_half_way_store_nothing(store: Store) -> None:
    stages.save_page(store, "blog", raw(), page("first", "second"))
    good, bad = negative(), dataclasses.replace(negative(), label=None)  # type: ignore[arg-type]
    with pytest.raises(ENGINE_ERRORS, match=r"(?i)not.null"):
        stages.save_scores(store, [(mention_id("blog", "id-0"), good), (mention_id("blog", "id-1"), bad)])
    assert counts(store)["scores"] == 0
    assert len(store.read(lambda c: queries.unscored_mentions(c, MODEL, 10))) == 2


# --- save_decisions ----------------------------------------------------------------------------


def decisions_for(store: Store, settings: Settings, posts: Sequence[Post]) -> list[Decision]:
    """Store and score ``posts`` through the stages, then decide, without saving the decisions."""
    for index, post in enumerate(posts):
        mention = Mention(f"p{index}", post.text, author=post.author, published_at=NOW, lang=post.lang)
        stages.save_page(store, post.source, raw(), [mention])
    stages.save_scores(store, [(mention_id(p.source, f"p{i}"), score_for(p)) for i, p in enumerate(posts)])
    found, load = store.read(
        lambda c: (queries.untriaged(c, MODEL, settings.routing.negative_threshold), queries.open_load(c))
    )
    return decide(settings, found, load, urgent_theme_ids())


POSTS = [
    Post("My Acme kettle leaked all over the counter", 0.9),
    Post("I will call my lawyer about this Acme heater", 0.95, author="quinn"),
    Post("buy cheap followers click here acme", 0.7, author="spammer"),
    Post("Lovely acme kettle", 0.05),
]


def test_decisions_store_every_triage_and_open_the_cases(store: Store, team: Settings) -> None:
    decisions = decisions_for(store, team, POSTS)
    opened = stages.save_decisions(store, decisions)
    assert [r.mention_id for r in opened] == [d.case.mention_id for d in decisions if d.case is not None]
    assert len(opened) == 3  # the praise is triaged but opens no case
    after = counts(store)
    assert (after["triage"], after["cases"]) == (4, 3)
    assert store.read(lambda c: queries.untriaged(c, MODEL, 0.5)) == []


def test_saving_the_same_decisions_again_adds_nothing(store: Store, team: Settings) -> None:
    decisions = decisions_for(store, team, POSTS)
    stages.save_decisions(store, decisions)
    before = counts(store)
    assert stages.save_decisions(store, decisions) == []
    assert counts(store) == before  # no second case, no second trail


def test_decisions_that_fail_half_way_leave_nothing(store: Store, team: Settings) -> None:
    decisions = decisions_for(store, team, POSTS)
    praise = next(d for d in decisions if d.case is None)
    others = [d for d in decisions if d is not praise]
    template = next(d.case for d in decisions if d.case is not None)
    # Saved last: the praise's triage is written, then its case misses a NOT NULL column.
    broken_case = dataclasses.replace(template, mention_id=praise.triage.mention_id, first_response_due=None)
    broken = dataclasses.replace(praise, case=broken_case)
    assert sum(d.case is not None for d in others) == 3  # three cases go in before the failure
    with pytest.raises(ENGINE_ERRORS, match=r"(?i)not.null"):
        stages.save_decisions(store, [*others, broken])
    after = counts(store)
    assert (after["triage"], after["cases"], after["audit_log"]) == (0, 0, 0)
    assert len(store.read(lambda c: queries.untriaged(c, MODEL, 0.5))) == 4  # all of it to do again
    assert len(stages.save_decisions(store, decisions)) == 3


def test_a_routed_case_has_its_whole_history_in_the_audit_log(store: Store, team: Settings) -> None:
    decisions = decisions_for(store, team, POSTS[1:2])
    (routed,) = stages.save_decisions(store, decisions)
    case_id = case_id_for(routed.mention_id)
    assert case_id == "case-" + mention_id("blog", "p0")
    trail = store.read(lambda c: queries.case_audit(c, case_id))
    assert [e["action"] for e in trail] == ["collected", "scored", "triaged", "routed"]
    assert {e["actor"] for e in trail} == {SYSTEM_ACTOR}
    entity_ids = store.read(
        lambda c: c.execute("SELECT DISTINCT entity, entity_id FROM audit_log").fetchall()
    )
    assert entity_ids == [("case", case_id)]

    collected_at = decisions[0].candidate.mention.collected_at
    assert trail[0]["occurred_at"] == collected_at
    assert all(e["occurred_at"] >= collected_at for e in trail[1:])
    after = [json.loads(e["after"]) for e in trail]
    assert after[0] == {"source": "blog", "author": "quinn", "lang": "en"}
    assert (after[1]["model_id"], after[1]["label"], after[1]["probs"]["negative"]) == (
        MODEL,
        "negative",
        0.95,
    )
    assert (after[2]["validity"], after[2]["tier"]) == ("complaint", "urgent")
    assert "legal or safety words" in after[2]["reasons"]
    assert (after[3]["team"], after[3]["owner"], after[3]["status"], after[3]["rule"]) == (
        "escalations",
        "sara",
        "assigned",
        "escalate urgent",
    )
    assert after[3]["first_response_due"] == routed.first_response_due.isoformat()
    assert all(e["before"] is None for e in trail)


def test_a_dismissed_case_ends_its_trail_dismissed(store: Store, team: Settings) -> None:
    (dismissed,) = stages.save_decisions(store, decisions_for(store, team, POSTS[2:3]))
    trail = store.read(lambda c: queries.case_audit(c, case_id_for(dismissed.mention_id)))
    assert [e["action"] for e in trail] == ["collected", "scored", "triaged", "dismissed"]
    case = store.read(lambda c: queries.get_case(c, case_id_for(dismissed.mention_id)))
    assert case is not None and case["status"] == "dismissed" and case["owner"] is None
    assert case["dismissed_reason"] == dismissed.validity_reason


# --- register_settings --------------------------------------------------------------------------


def mirrored(store: Store) -> tuple[list, list]:
    return store.read(
        lambda c: (
            c.execute("SELECT name, kind, url FROM sources ORDER BY name").fetchall(),
            c.execute("SELECT name, team, capacity FROM responders ORDER BY name").fetchall(),
        )
    )


def test_registering_settings_twice_changes_nothing(store: Store, team: Settings) -> None:
    before = mirrored(store)
    stages.register_settings(store, team)
    assert mirrored(store) == before
    sources, people = before
    assert sources == [
        ("blog", "rss", "http://127.0.0.1:9/feed.xml"),
        ("shop", "jsonld", "http://127.0.0.1:9/shop"),
    ]
    assert ("sara", "escalations", 10) in people and len(people) == 6


def test_registering_changed_settings_updates_the_mirror(tmp_path: Path) -> None:
    store = fresh_store(team_settings(tmp_path))
    path = write_team_settings(tmp_path)
    text = path.read_text(encoding="utf-8").replace("http://127.0.0.1:9/shop", "https://shop.example/kettle")
    path.write_text(text.replace("capacity = 10", "capacity = 4"), encoding="utf-8")
    stages.register_settings(store, load_settings(path))
    sources, people = mirrored(store)
    assert ("shop", "jsonld", "https://shop.example/kettle") in sources
    assert ("sara", "escalations", 4) in people and len(people) == 6


def test_stage_times_are_utc_now(store: Store) -> None:
    started = datetime.now(UTC)
    stages.save_page(store, "blog", raw(), page("first"))
    (collected,) = store.read(lambda c: c.execute("SELECT collected_at FROM mentions").fetchone())
    assert started <= collected <= datetime.now(UTC) + timedelta(seconds=1)
    assert collected.utcoffset() == timedelta(0)
