"""The query functions, one section per module: what is written reads back the same.

Every test runs on a fresh migrated DuckDB file (the ``team`` fixture). Mentions and
scores with exact times are written through the query functions themselves (``put``),
routed cases come from ``builders.seed_posts`` (the real triage and routing). Values
always travel as parameters, so hostile text written anywhere comes back unchanged
and the tables it names are still there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import MODEL, NOW, Post, seed_posts
from voxwatch.domain import (
    CaseStatus,
    Mention,
    RawResponse,
    Routing,
    Score,
    SourceState,
    Tier,
    TriageRecord,
    Validity,
    case_id_for,
    content_hash,
    mention_id,
)
from voxwatch.settings import Settings
from voxwatch.store import Store, queries, store_for

DAY = timedelta(days=1)
WINDOW = timedelta(hours=72)  # [collect] duplicate_window_hours by default
D0 = datetime(2026, 11, 20, tzinfo=UTC)  # a midnight, so days are easy to read
OTHER_MODEL = "other-model"
pytestmark = pytest.mark.both_engines
HOSTILE = [
    "'); DROP TABLE mentions; --",
    "Robert'); DROP TABLE cases;--",
    "both \"double\" and 'single' quotes",
    "semi;colons;everywhere;",
    "? $1 :name %s {0} \\N",
    "全角；引号“”与‘’",
]


@pytest.fixture
def store(team: Settings) -> Store:
    return store_for(team)


def score(label: str = "negative", p_neg: float | None = None, themes: Sequence[str] = ()) -> Score:
    neg = p_neg if p_neg is not None else {"negative": 0.9, "neutral": 0.2, "positive": 0.05}[label]
    rest = 1.0 - neg
    return Score(label, {"negative": neg, "neutral": rest / 2, "positive": rest / 2}, MODEL, tuple(themes))


def put(
    store: Store,
    ext: str,
    text: str,
    *,
    source: str = "blog",
    at: datetime = D0,
    author: str | None = "pat",
    lang: str | None = "en",
    label: str | None = "negative",
    p_neg: float | None = None,
    themes: Sequence[str] = (),
    model: str = MODEL,
    title: str | None = None,
) -> str:
    """Store one mention published and collected at ``at`` (scored when ``label``); its id."""
    mention = Mention(ext, text, f"https://example.com/{ext}", author, title, at, None, lang)

    def _write(conn: queries.Connection) -> str:
        queries.insert_mentions(conn, source, [mention], at, None, WINDOW)
        ident = mention_id(source, ext)
        if label is not None:
            s = score(label, p_neg, themes)
            queries.insert_scores(conn, [(ident, Score(s.label, s.probs, model, s.themes))], at)
        return ident

    return store.write(_write)


def count(store: Store, table: str) -> int:
    row = store.read(lambda c: c.execute(f"SELECT count(*) FROM {table}").fetchone())
    assert row is not None
    return int(row[0])


def routing(ident: str, owner: str | None = "amy", team: str = "care", due: datetime = D0) -> Routing:
    status = CaseStatus.ASSIGNED if owner else CaseStatus.NEW
    return Routing(
        ident,
        Validity.COMPLAINT,
        "negative",
        Tier.NORMAL,
        ["r"],
        "default",
        team,
        owner,
        status,
        due,
        due + DAY,
    )


def open_case(store: Store, ident: str, at: datetime, **kwargs: Any) -> str:
    case_id = case_id_for(ident)
    assert store.write(lambda c: queries.insert_case(c, case_id, routing(ident, **kwargs), at))
    return case_id


# The routed week most case tests start from: three open cases, one dismissed, one praise.
WEEK = [
    Post("Acme kettle leaked and the support team ignores me", 0.9, author="pat", minutes_ago=50),
    Post("I will call my lawyer about this Acme heater", 0.95, author="quinn", minutes_ago=40),
    Post("acme app crashes on login", 0.8, author="li", source="shop", lang="zh", minutes_ago=30),
    Post("buy cheap followers click here acme", 0.7, author="spammer", minutes_ago=20),
    Post("Love my acme kettle", 0.05, author="pat", minutes_ago=10),
]


@pytest.fixture
def week(team: Settings, store: Store) -> dict[str, str]:
    """The case id of each author's routed post."""
    routed = seed_posts(store, team, WEEK)
    found = store.read(lambda c: queries.list_cases(c))
    assert len(routed) == 4
    return {row["author"]: row["id"] for row in found}


# --- sources -------------------------------------------------------------------------------


def test_a_source_never_run_has_a_fresh_state(store: Store) -> None:
    assert store.read(lambda c: queries.source_state(c, "blog")) == SourceState(source="blog")


def test_upsert_source_updates_kind_and_url(store: Store) -> None:
    store.write(lambda c: queries.upsert_source(c, "blog", "jsonld", "https://new.example/x", NOW))
    rows = store.read(lambda c: c.execute("SELECT name, kind, url FROM sources ORDER BY name").fetchall())
    assert rows == [
        ("blog", "jsonld", "https://new.example/x"),
        ("shop", "jsonld", "http://127.0.0.1:9/shop"),
    ]


def test_source_state_after_success_failure_and_success(store: Store) -> None:
    t1, t2, t3 = NOW, NOW + timedelta(minutes=15), NOW + timedelta(minutes=30)
    store.write(lambda c: queries.record_source_success(c, "blog", t1, 3, "c1", '"e1"', "Mon, 23 Nov"))
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.cursor, state.etag, state.last_modified) == ("c1", '"e1"', "Mon, 23 Nov")
    assert (state.status, state.last_ok_at, state.items_last_run, state.last_error) == ("ok", t1, 3, None)

    store.write(lambda c: queries.record_source_failure(c, "blog", t2, "HTTP 503 from feed"))
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.status, state.last_error, state.items_last_run) == ("degraded", "HTTP 503 from feed", 0)
    assert (state.cursor, state.etag, state.last_ok_at) == ("c1", '"e1"', t1)  # the cursor stays put

    store.write(lambda c: queries.record_source_success(c, "blog", t3, 0, None, None, None))
    state = store.read(lambda c: queries.source_state(c, "blog"))
    assert (state.status, state.last_error, state.last_ok_at) == ("ok", None, t3)
    assert (state.cursor, state.etag, state.last_modified) == ("c1", '"e1"', "Mon, 23 Nov")  # kept


def test_a_first_run_that_fails_has_no_cursor(store: Store) -> None:
    store.write(lambda c: queries.record_source_failure(c, "shop", NOW, "timeout"))
    state = store.read(lambda c: queries.source_state(c, "shop"))
    assert (state.status, state.cursor, state.last_ok_at, state.last_error) == (
        "degraded",
        None,
        None,
        "timeout",
    )


def test_source_health_lists_every_source_with_its_mentions(store: Store) -> None:
    put(store, "1", "one")
    put(store, "2", "two")
    store.write(lambda c: queries.record_source_success(c, "blog", NOW, 2, "c", None, None))
    health = {row["name"]: row for row in store.read(queries.source_health)}
    assert list(health) == ["blog", "shop"]
    assert (health["blog"]["status"], health["blog"]["mentions"], health["blog"]["items_last_run"]) == (
        "ok",
        2,
        2,
    )
    assert (health["shop"]["status"], health["shop"]["mentions"], health["shop"]["kind"]) == (
        None,
        0,
        "jsonld",
    )


def test_source_runs_are_appended_per_run(store: Store) -> None:
    store.write(lambda c: queries.record_source_run(c, "blog", NOW, "ok", 200, 4, None))
    store.write(lambda c: queries.record_source_run(c, "blog", NOW + DAY, "degraded", None, 0, "boom"))
    rows = store.read(lambda c: c.execute("SELECT * FROM source_runs ORDER BY ran_at").fetchall())
    assert rows == [
        ("blog", NOW, "ok", 200, 4, None, None),
        ("blog", NOW + DAY, "degraded", None, 0, "boom", None),
    ]


def test_raw_responses_are_stored_once_per_body(store: Store) -> None:
    body = "<rss>中文</rss>".encode()
    first = RawResponse("https://a.example/feed", 200, {"content-type": "application/rss+xml"}, body, NOW)
    again = RawResponse("https://b.example/feed", 200, {}, body, NOW + DAY)
    other = RawResponse("https://a.example/feed", 200, {}, body + b" ", NOW)
    for raw in (first, again, other):
        store.write(lambda c, raw=raw: queries.save_raw_response(c, "blog", raw))
    rows = store.read(
        lambda c: c.execute(
            "SELECT sha256, url, content_type, body FROM raw_responses ORDER BY url"
        ).fetchall()
    )
    assert len(rows) == 2
    assert (first.sha256, "https://a.example/feed", "application/rss+xml", body) in rows


# --- mentions ------------------------------------------------------------------------------


def test_a_mention_reads_back_field_by_field(store: Store) -> None:
    mention = Mention("ext-1", "Broken lid", "https://x.example/1", "pat", "Title", D0, 2.0, "en", 1234)
    store.write(lambda c: queries.insert_mentions(c, "blog", [mention], NOW, "sha", WINDOW))
    row = store.read(
        lambda c: c.execute(
            "SELECT source, external_id, url, author, title, text, lang, rating, author_reach, published_at, "
            "collected_at, content_hash, duplicate_of, raw_sha256 FROM mentions"
        ).fetchone()
    )
    assert row == (
        "blog",
        "ext-1",
        "https://x.example/1",
        "pat",
        "Title",
        "Broken lid",
        "en",
        2.0,
        1234,
        D0,
        NOW,
        content_hash("Broken lid"),
        None,
        "sha",
    )


def test_the_same_source_id_and_words_twice_is_one_row(store: Store) -> None:
    first = Mention("42", "original text")
    inserted = store.write(lambda c: queries.insert_mentions(c, "blog", [first, first], NOW, None, WINDOW))
    assert inserted == queries.Inserted(new=1, reused_ids=0)
    again = store.write(lambda c: queries.insert_mentions(c, "blog", [first], NOW, None, WINDOW))
    assert again == queries.Inserted(new=0, reused_ids=0)


def test_an_id_reused_for_other_words_keeps_both_and_says_so(store: Store) -> None:
    """A feed that reuses GUIDs for different posts: 20 items, 4 ids, distinct links and text."""
    items = [
        Mention(f"guid-{i % 4}", f"post number {i}", f"https://x.example/{i}", f"a{i}") for i in range(20)
    ]
    inserted = store.write(lambda c: queries.insert_mentions(c, "blog", items, NOW, None, WINDOW))
    assert inserted == queries.Inserted(new=20, reused_ids=16)
    again = store.write(lambda c: queries.insert_mentions(c, "blog", items, NOW, None, WINDOW))
    assert again.new == 0  # stable ids: the next run stores nothing twice
    assert count(store, "mentions") == 20


def test_the_same_author_repeating_themselves_is_a_duplicate(store: Store) -> None:
    original = put(store, "a", "Acme broke my kettle", author="@Pat", at=D0)
    repost = put(store, "b", "ACME   broke my\nkettle", author="pat", at=D0 + DAY)
    cross = put(store, "c", "acme broke my kettle", author="/u/pat", source="shop", at=D0 + 2 * DAY)
    other = put(store, "d", "Acme broke my teapot", author="pat", at=D0 + 2 * DAY)
    links = dict(store.read(lambda c: c.execute("SELECT id, duplicate_of FROM mentions").fetchall()))
    assert links == {original: None, repost: original, cross: original, other: None}


def test_two_customers_with_the_same_words_are_two_complaints(store: Store) -> None:
    """Only the second is linked, as related: it is not a duplicate and still gets its own case."""
    first = put(store, "a", "app keeps crashing", author="ann", at=D0)
    second = put(store, "b", "app keeps crashing", author="bo", at=D0 + DAY)
    anonymous = put(store, "c", "退款还没到账", author=None, at=D0)
    anonymous_again = put(store, "d", "退款还没到账", author=None, at=D0 + DAY)
    rows = store.read(lambda c: c.execute("SELECT id, duplicate_of, related_to FROM mentions").fetchall())
    links = {ident: (dup, related) for ident, dup, related in rows}
    assert links[first] == (None, None)
    assert links[second] == (None, first)
    assert links[anonymous] == (None, None)
    assert links[anonymous_again] == (None, anonymous)


def test_the_same_words_long_after_the_window_are_a_new_complaint(store: Store) -> None:
    put(store, "a", "my order is missing", author="pat", at=D0)
    later = put(store, "b", "my order is missing", author="pat", at=D0 + WINDOW + DAY)
    rows = dict(store.read(lambda c: c.execute("SELECT id, duplicate_of FROM mentions").fetchall()))
    assert rows[later] is None


def test_reposts_within_one_page_are_linked(store: Store) -> None:
    page = [Mention("1", "Same words", author="kim"), Mention("2", "same  WORDS", author="Kim")]
    inserted = store.write(lambda c: queries.insert_mentions(c, "blog", page, NOW, None, WINDOW))
    assert inserted.new == 2
    unscored = store.read(lambda c: queries.unscored_mentions(c, MODEL, 10))
    by_id = {m.id: m for m in unscored}
    assert by_id[mention_id("blog", "2")].duplicate_of == mention_id("blog", "1")
    assert by_id[mention_id("blog", "1")].duplicate_of is None


def test_unscored_mentions_join_title_and_text_oldest_first(store: Store) -> None:
    put(store, "late", "It leaks", title="Broken lid", at=D0 + DAY, label=None)
    put(store, "early", "Great kettle, really", title="Great kettle", at=D0, label=None)
    put(store, "scored", "Already scored", at=D0)
    found = store.read(lambda c: queries.unscored_mentions(c, MODEL, 10))
    assert [m.text for m in found] == ["Great kettle, really", "Broken lid\nIt leaks"]
    assert found[0].collected_at == D0 and found[0].source == "blog" and found[0].author == "pat"
    assert [m.id for m in store.read(lambda c: queries.unscored_mentions(c, MODEL, 1))] == [found[0].id]


@pytest.mark.parametrize("source", ["blog", "shop", None])
def test_a_sources_run_scores_and_routes_only_its_own_mentions(store: Store, source: str | None) -> None:
    """Workers running different sources at once never score or route the same mention twice."""
    put(store, "b1", "blog post", source="blog", label=None)
    put(store, "s1", "shop review", source="shop", label=None)
    put(store, "b2", "blog scored", source="blog")
    put(store, "s2", "shop scored", source="shop")
    mine = {"blog": {"blog"}, "shop": {"shop"}, None: {"blog", "shop"}}[source]
    unscored = store.read(lambda c: queries.unscored_mentions(c, MODEL, 10, source))
    assert {m.source for m in unscored} == mine and len(unscored) == len(mine)
    untriaged = store.read(lambda c: queries.untriaged(c, MODEL, 0.5, source=source))
    assert {c.mention.source for c in untriaged} == mine and len(untriaged) == len(mine)


# --- scores --------------------------------------------------------------------------------


def test_scores_of_two_models_are_kept_apart(store: Store) -> None:
    a = put(store, "a", "first", label=None)
    b = put(store, "b", "second", label=None, at=D0 + DAY)
    store.write(lambda c: queries.insert_scores(c, [(a, score("negative"))], NOW))
    assert [m.id for m in store.read(lambda c: queries.unscored_mentions(c, MODEL, 10))] == [b]
    assert [m.id for m in store.read(lambda c: queries.unscored_mentions(c, OTHER_MODEL, 10))] == [a, b]
    other = Score("positive", {"negative": 0.1, "neutral": 0.1, "positive": 0.8}, OTHER_MODEL, ("price",))
    store.write(lambda c: queries.insert_scores(c, [(a, other), (b, other)], NOW))
    assert store.read(lambda c: queries.unscored_mentions(c, OTHER_MODEL, 10)) == []
    rows = store.read(
        lambda c: c.execute("SELECT mention_id, model_id, label, themes[1] FROM scores").fetchall()
    )
    assert set(rows) == {
        (a, MODEL, "negative", None),
        (a, OTHER_MODEL, "positive", "price"),
        (b, OTHER_MODEL, "positive", "price"),
    }


def test_a_mention_is_scored_once_per_model(store: Store) -> None:
    a = put(store, "a", "first", label="negative")
    store.write(lambda c: queries.insert_scores(c, [(a, score("positive"))], NOW))
    assert count(store, "scores") == 1
    assert store.read(lambda c: c.execute("SELECT label FROM scores").fetchone()) == ("negative",)


def test_no_scores_is_no_statement(store: Store) -> None:
    assert store.write(lambda c: queries.insert_scores(c, [], NOW)) == 0
    assert count(store, "scores") == 0


# --- triage --------------------------------------------------------------------------------


def test_untriaged_counts_the_authors_earlier_negatives(store: Store) -> None:
    put(store, "n1", "bad one", at=D0, p_neg=0.9)
    put(store, "n2", "bad two", at=D0 + timedelta(hours=1), p_neg=0.6)
    put(store, "p1", "fine", at=D0 + timedelta(hours=2), label="positive", p_neg=0.1)
    put(store, "s1", "bad elsewhere", source="shop", at=D0 + timedelta(hours=3))
    put(store, "o1", "someone else", author="quinn", at=D0 + timedelta(hours=4))
    target = put(store, "t", "bad again", at=D0 + timedelta(hours=5))
    put(store, "later", "bad later", at=D0 + timedelta(hours=6))
    found = {c.mention.id: c for c in store.read(lambda c: queries.untriaged(c, MODEL, 0.5))}
    assert len(found) == 7
    assert found[target].prior_negatives == 2  # not the positive, the other source, the other author, later
    assert found[mention_id("blog", "n1")].prior_negatives == 0
    assert found[target].watch_started_at == D0
    assert found[mention_id("shop", "s1")].watch_started_at == D0 + timedelta(hours=3)
    # a higher threshold counts fewer earlier complaints
    strict = {c.mention.id: c for c in store.read(lambda c: queries.untriaged(c, MODEL, 0.7))}
    assert strict[target].prior_negatives == 1


def test_untriaged_carries_the_score_oldest_first(store: Store) -> None:
    late = put(store, "late", "late", at=D0 + DAY, themes=["delivery", "refund"], p_neg=0.8)
    early = put(store, "early", "early", at=D0, label="neutral")
    put(store, "other", "other model only", model=OTHER_MODEL)
    found = store.read(lambda c: queries.untriaged(c, MODEL, 0.5))
    assert [c.mention.id for c in found] == [early, late]
    assert found[1].score == Score(
        "negative",
        {"negative": 0.8, "neutral": pytest.approx(0.1), "positive": pytest.approx(0.1)},
        MODEL,
        ("delivery", "refund"),
    )


def test_a_triaged_mention_is_not_untriaged_and_triage_is_kept_once(store: Store) -> None:
    ident = put(store, "a", "text")
    record = TriageRecord(ident, MODEL, Validity.COMPLAINT, "negative", Tier.URGENT, ["legal"])
    store.write(lambda c: queries.insert_triage(c, record, NOW))
    assert store.read(lambda c: queries.untriaged(c, MODEL, 0.5)) == []
    changed = TriageRecord(ident, MODEL, Validity.PRAISE, "changed", Tier.NORMAL, [])
    store.write(lambda c: queries.insert_triage(c, changed, NOW + DAY))
    rows = store.read(
        lambda c: c.execute("SELECT validity, tier, reasons, triaged_at FROM triage").fetchall()
    )
    assert rows == [("complaint", "urgent", ["legal"], NOW)]


# --- people --------------------------------------------------------------------------------


def test_responders_are_mirrored_and_updated_by_name(store: Store) -> None:
    rows = store.read(lambda c: c.execute("SELECT name, team, roles, capacity FROM responders").fetchall())
    assert sorted(r[0] for r in rows) == ["amy", "ben", "erin", "grace", "maya", "sara"]
    assert ("sara", "escalations", ["responder", "approver"], 10) in rows
    store.write(lambda c: queries.sync_responder(c, "amy", "Amy C.", "escalations", ["approver"], ["de"], 3))
    amy = store.read(lambda c: c.execute("SELECT * FROM responders WHERE name = 'amy'").fetchall())
    assert amy == [("amy", "Amy C.", "escalations", ["approver"], ["de"], 3, True)]
    assert count(store, "responders") == 6


# --- audit ---------------------------------------------------------------------------------


def test_audit_entries_are_newest_first_per_entity(store: Store) -> None:
    def _write(conn: queries.Connection) -> None:
        queries.append_audit(conn, NOW, "grace", "settings", "sla", "changed", {"toml": "a"}, {"toml": "b"})
        queries.append_audit(conn, NOW + DAY, "grace", "settings", "routing", "changed", None, {"n": 1})
        queries.append_audit(conn, NOW + DAY, "amy", "settings", "routing", "changed", {"n": 1}, None)
        queries.append_audit(conn, NOW + 2 * DAY, "amy", "case", "case-1", "assigned", None, None)

    store.write(_write)
    entries = store.read(lambda c: queries.audit_entries(c, "settings", 10))
    assert [(e["actor"], e["entity_id"]) for e in entries] == [
        ("amy", "routing"),
        ("grace", "routing"),
        ("grace", "sla"),
    ]
    assert json.loads(entries[2]["before"]) == {"toml": "a"} and entries[0]["after"] is None
    assert len(store.read(lambda c: queries.audit_entries(c, "settings", 1))) == 1


def test_case_audit_is_in_the_order_written(store: Store) -> None:
    def _write(conn: queries.Connection) -> None:
        queries.append_audit(conn, NOW, "system", "case", "case-x", "routed", None, {"when": NOW})
        queries.append_audit(conn, NOW - DAY, "system", "case", "case-x", "collected", None, None)
        queries.append_audit(conn, NOW, "amy", "case", "case-y", "drafted", None, None)

    store.write(_write)
    trail = store.read(lambda c: queries.case_audit(c, "case-x"))
    assert [e["action"] for e in trail] == ["routed", "collected"]
    assert json.loads(trail[0]["after"]) == {"when": str(NOW)}  # datetimes are written as text


# --- cases ---------------------------------------------------------------------------------


def test_routed_cases_read_back_with_their_mention_triage_and_score(
    store: Store, week: dict[str, str]
) -> None:
    case = store.read(lambda c: queries.get_case(c, week["quinn"]))
    assert case is not None
    assert (case["status"], case["tier"], case["team"], case["owner"], case["first_owner"]) == (
        "assigned",
        "urgent",
        "escalations",
        "sara",
        "sara",
    )
    assert (case["source"], case["author"], case["text"]) == (
        "blog",
        "quinn",
        "I will call my lawyer about this Acme heater",
    )
    assert (case["validity"], case["model_id"], case["label"], case["p_negative"]) == (
        "complaint",
        MODEL,
        "negative",
        0.95,
    )
    assert "legal or safety words" in case["reasons"] and case["corrected_label"] is None
    assert store.read(lambda c: queries.get_case(c, "case-nope")) is None


def test_a_case_is_opened_once_per_mention(store: Store, week: dict[str, str]) -> None:
    case = store.read(lambda c: queries.get_case(c, week["pat"]))
    assert case is not None
    again = routing(case["mention_id"], owner="ben")
    assert not store.write(lambda c: queries.insert_case(c, week["pat"], again, NOW))
    assert store.read(lambda c: queries.get_case(c, week["pat"]))["owner"] == "amy"  # type: ignore[index]


def test_the_latest_label_correction_shows_on_the_case(store: Store, week: dict[str, str]) -> None:
    mention = store.read(lambda c: queries.get_case(c, week["pat"]))["mention_id"]  # type: ignore[index]
    store.write(lambda c: queries.insert_label_correction(c, mention, MODEL, "neutral", "amy", NOW))
    store.write(lambda c: queries.insert_label_correction(c, mention, MODEL, "positive", "grace", NOW + DAY))
    case = store.read(lambda c: queries.get_case(c, week["pat"]))
    assert case is not None and (case["corrected_label"], case["label"]) == ("positive", "negative")


def test_update_case_changes_allowed_columns(store: Store, week: dict[str, str]) -> None:
    changes = {"status": "drafting", "owner": "ben", "first_response_at": NOW, "reasons": ["a", "b"]}
    store.write(lambda c: queries.update_case(c, week["pat"], changes))
    case = store.read(lambda c: queries.get_case(c, week["pat"]))
    assert case is not None
    assert {k: case[k] for k in changes} == changes
    assert case["first_owner"] == "amy"  # not named, not changed


@pytest.mark.parametrize(
    "column", ["id", "mention_id", "created_at", "rule", "owner = 'x' --", "status; DROP TABLE cases"]
)
def test_update_case_refuses_columns_outside_case_columns(store: Store, column: str) -> None:
    case_id = open_case(store, put(store, "a", "text"), NOW, owner="amy")
    assert column not in queries.CASE_COLUMNS
    with pytest.raises(ValueError, match="not updatable"):
        store.write(lambda c: queries.update_case(c, case_id, {"owner": "ben", column: "x"}))
    case = store.read(lambda c: queries.get_case(c, case_id))
    assert case is not None and (case["owner"], case["id"], case["rule"]) == ("amy", case_id, "default")
    assert count(store, "cases") == 1


def test_list_cases_filters_by_status_owner_and_team(store: Store, week: dict[str, str]) -> None:
    def ids(**filters: Any) -> set[str]:
        return {row["id"] for row in store.read(lambda c: queries.list_cases(c, **filters))}

    assert ids() == set(week.values())
    assert ids(statuses=["dismissed"]) == {week["spammer"]}
    assert ids(statuses=list(queries.OPEN_STATUSES)) == {week["pat"], week["quinn"], week["li"]}
    assert ids(owner="amy") == {week["pat"], week["li"]}
    assert ids(team="escalations") == {week["quinn"]}
    assert ids(owner="amy", team="escalations") == set()
    assert ids(statuses=["assigned"], team="care") == {week["pat"], week["li"]}
    assert ids(owner="'); DROP TABLE cases; --") == set()
    rows = store.read(lambda c: queries.list_cases(c, limit=2))
    assert len(rows) == 2 and rows[0]["id"] == week["quinn"]  # the urgent case is due first
    dues = [r["first_response_due"] for r in store.read(lambda c: queries.list_cases(c))]
    assert dues == sorted(dues)


def test_overdue_cases_are_open_unanswered_unescalated_and_past_due(
    store: Store, week: dict[str, str]
) -> None:
    past = NOW - DAY
    for author in ("pat", "quinn", "li", "spammer"):
        store.write(lambda c, a=author: queries.update_case(c, week[a], {"first_response_due": past}))
    store.write(lambda c: queries.update_case(c, week["quinn"], {"first_response_at": NOW}))
    store.write(lambda c: queries.update_case(c, week["li"], {"escalated_at": NOW}))
    assert [r["id"] for r in store.read(lambda c: queries.overdue_cases(c, NOW))] == [week["pat"]]
    assert store.read(lambda c: queries.overdue_cases(c, past)) == []  # due exactly now is not overdue
    store.write(lambda c: queries.update_case(c, week["pat"], {"status": "closed"}))
    assert store.read(lambda c: queries.overdue_cases(c, NOW)) == []


def test_open_load_and_inbox_leave_out_closed_and_dismissed(store: Store, week: dict[str, str]) -> None:
    assert store.read(queries.open_load) == {"amy": 2, "sara": 1}
    store.write(lambda c: queries.update_case(c, week["li"], {"status": "closed"}))
    assert store.read(queries.open_load) == {"amy": 1, "sara": 1}
    inbox = store.read(lambda c: queries.inbox(c, MODEL))
    assert [row["case_id"] for row in inbox] == [week["quinn"], week["pat"]]
    assert inbox[0]["validity"] == "complaint" and inbox[0]["label"] == "negative"


def test_handoffs_are_listed_in_order(store: Store, week: dict[str, str]) -> None:
    store.write(
        lambda c: queries.insert_handoff(
            c, week["pat"], NOW, "amy", "care", "escalations", "amy", "sara", "legal"
        )
    )
    store.write(
        lambda c: queries.insert_handoff(
            c, week["pat"], NOW + DAY, "sara", "escalations", "care", "sara", None, "not legal after all"
        )
    )
    rows = store.read(lambda c: queries.handoffs(c, week["pat"]))
    assert [(r["from_team"], r["to_team"], r["to_owner"], r["reason"]) for r in rows] == [
        ("care", "escalations", "sara", "legal"),
        ("escalations", "care", None, "not legal after all"),
    ]
    assert store.read(lambda c: queries.handoffs(c, week["quinn"])) == []


# --- drafts --------------------------------------------------------------------------------


def draft(case_id: str, body: str, state: str = "draft", findings: list | None = None) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "situation": "first_response",
        "lang": "en",
        "template_key": "first_response/en/v1",
        "body": body,
        "author": "amy",
        "created_at": NOW,
        "findings": findings or [],
        "state": state,
    }


def test_drafts_are_numbered_per_case(store: Store, week: dict[str, str]) -> None:
    pat, li = week["pat"], week["li"]
    versions = [store.write(lambda c, n=n: queries.insert_draft(c, draft(pat, f"v{n}"))) for n in range(3)]
    assert versions == [1, 2, 3]
    assert store.write(lambda c: queries.insert_draft(c, draft(li, "other case"))) == 1
    findings = [{"rule": "promise", "span": [0, 4]}]
    store.write(lambda c: queries.insert_draft(c, draft(pat, "v4", findings=findings)))
    latest = store.read(lambda c: queries.latest_draft(c, pat))
    assert latest is not None
    assert (latest["id"], latest["version"], latest["body"], latest["findings"]) == (
        f"{pat}-v4",
        4,
        "v4",
        findings,
    )
    assert store.read(lambda c: queries.latest_draft(c, week["quinn"])) is None


def test_update_draft_records_the_decision_and_refuses_the_body(store: Store, week: dict[str, str]) -> None:
    pat = week["pat"]
    store.write(lambda c: queries.insert_draft(c, draft(pat, "Sorry about the kettle", "pending_approval")))
    store.write(
        lambda c: queries.update_draft(
            c,
            f"{pat}-v1",
            {"state": "approved", "decided_by": "maya", "decided_at": NOW, "decision_comment": "ok"},
        )
    )
    with pytest.raises(ValueError, match="not updatable"):
        store.write(lambda c: queries.update_draft(c, f"{pat}-v1", {"body": "something else"}))
    latest = store.read(lambda c: queries.latest_draft(c, pat))
    assert latest is not None
    assert (latest["state"], latest["decided_by"], latest["body"]) == (
        "approved",
        "maya",
        "Sorry about the kettle",
    )


def test_pending_approvals_lists_waiting_drafts_with_their_mention(
    store: Store, week: dict[str, str]
) -> None:
    store.write(lambda c: queries.insert_draft(c, draft(week["pat"], "wait", "pending_approval", [{"r": 1}])))
    store.write(lambda c: queries.insert_draft(c, draft(week["li"], "still drafting")))
    (pending,) = store.read(queries.pending_approvals)
    assert (pending["case_id"], pending["body"], pending["drafted_by"], pending["findings"]) == (
        week["pat"],
        "wait",
        "amy",
        [{"r": 1}],
    )
    assert pending["mention"].startswith("Acme kettle leaked") and pending["tier"] == "normal"


# --- authors -------------------------------------------------------------------------------


def test_author_mentions_are_oldest_first_with_their_cases(store: Store, week: dict[str, str]) -> None:
    said = store.read(lambda c: queries.author_mentions(c, "blog", "pat"))
    assert [r["excerpt"] for r in said] == [
        "Acme kettle leaked and the support team ignores me",
        "Love my acme kettle",
    ]
    assert (said[0]["case_id"], said[0]["case_status"], said[0]["label"]) == (
        week["pat"],
        "assigned",
        "negative",
    )
    assert (said[1]["case_id"], said[1]["label"]) == (None, "neutral")
    assert store.read(lambda c: queries.author_mentions(c, "shop", "pat")) == []


def test_confidential_author_notes_are_shown_only_when_asked(store: Store) -> None:
    notes = [
        ("n1", "pat", "prefers email", False, NOW),
        ("n2", "pat", "legal dispute pending", True, NOW + DAY),
        ("n3", "pat", "VIP since 2020", False, NOW + 2 * DAY),
        ("n4", "quinn", "other author", False, NOW),
    ]
    for ident, author, note, confidential, at in notes:
        store.write(
            lambda c, i=ident, a=author, n=note, f=confidential, t=at: queries.insert_author_note(
                c, i, "blog", a, n, f, "grace", t
            )
        )
    public = store.read(lambda c: queries.author_notes(c, "blog", "pat", False))
    everything = store.read(lambda c: queries.author_notes(c, "blog", "pat", True))
    assert [n["note"] for n in public] == ["prefers email", "VIP since 2020"]
    assert [n["note"] for n in everything] == ["prefers email", "legal dispute pending", "VIP since 2020"]
    assert everything[1]["confidential"] is True and everything[1]["actor"] == "grace"
    assert store.read(lambda c: queries.author_notes(c, "shop", "pat", True)) == []


# --- notifications -------------------------------------------------------------------------


def test_notifications_record_what_was_sent_and_what_failed(store: Store) -> None:
    def _write(conn: queries.Connection) -> None:
        queries.insert_notification(
            conn, NOW, "email", "amy@acme.example", "urgent_case", "case-1", "Urgent", "sent", 1, None
        )
        queries.insert_notification(
            conn, NOW, "webhook", "hooks", "urgent_case", "case-1", "Urgent", "failed", 3, "HTTP 500"
        )
        queries.insert_notification(conn, NOW, "webhook", "hooks", "spike", None, "Spike", "sent", 1, None)

    store.write(_write)
    case_one = store.read(lambda c: queries.notifications(c, "case-1"))
    assert [(n["channel"], n["status"], n["attempts"], n["last_error"]) for n in case_one] == [
        ("email", "sent", 1, None),
        ("webhook", "failed", 3, "HTTP 500"),
    ]
    assert case_one[0]["sent_at"] == NOW and case_one[1]["sent_at"] is None
    assert [n["event"] for n in store.read(queries.notifications)] == ["urgent_case", "urgent_case", "spike"]
    assert store.read(lambda c: queries.notifications(c, "case-2")) == []


# --- analytics -----------------------------------------------------------------------------


@pytest.fixture
def days(store: Store) -> Store:
    """Four days of scored mentions, some unscored and some scored by another model only."""
    put(store, "old", "before the period", at=D0 - DAY)
    put(store, "a", "a", at=D0 + timedelta(hours=1), themes=["delivery", "refund"])
    put(store, "b", "b", at=D0 + timedelta(hours=23), label="positive", lang="zh")
    put(store, "c", "c", source="shop", at=D0 + timedelta(hours=5), lang=None, themes=["delivery"])
    put(store, "d", "d", at=D0 + 2 * DAY, themes=["refund"])
    put(store, "e", "e", at=D0 + 2 * DAY + timedelta(hours=3), label="neutral")
    put(store, "u", "unscored", at=D0 + DAY, label=None)
    put(store, "x", "other model", at=D0 + DAY, model=OTHER_MODEL)
    return store


def test_daily_sentiment_by_source(days: Store) -> None:
    rows = days.read(lambda c: queries.daily_sentiment(c, MODEL, D0))
    assert [(r["day"], r["source"], r["label"], r["mentions"]) for r in rows] == [
        (D0, "blog", "negative", 1),
        (D0, "blog", "positive", 1),
        (D0, "shop", "negative", 1),
        (D0 + 2 * DAY, "blog", "negative", 1),
        (D0 + 2 * DAY, "blog", "neutral", 1),
    ]


def test_daily_sentiment_by_language_and_theme(days: Store) -> None:
    by_lang = days.read(lambda c: queries.daily_sentiment(c, MODEL, D0, by="language"))
    assert {(r["language"], r["label"]): r["mentions"] for r in by_lang if r["day"] == D0} == {
        ("en", "negative"): 1,
        ("und", "negative"): 1,
        ("zh", "positive"): 1,
    }
    by_theme = days.read(lambda c: queries.daily_sentiment(c, MODEL, D0, by="theme"))
    assert {(r["day"], r["theme"], r["label"]): r["mentions"] for r in by_theme} == {
        (D0, "delivery", "negative"): 2,
        (D0, "refund", "negative"): 1,
        (D0, "none", "positive"): 1,
        (D0 + 2 * DAY, "refund", "negative"): 1,
        (D0 + 2 * DAY, "none", "neutral"): 1,
    }


@pytest.mark.parametrize("by", ["author", "source; DROP TABLE mentions", "m.source", ""])
def test_daily_sentiment_refuses_unknown_breakdowns(store: Store, by: str) -> None:
    with pytest.raises(ValueError, match="unknown breakdown"):
        store.read(lambda c: queries.daily_sentiment(c, MODEL, D0, by=by))


def test_daily_negative_counts_include_zero_days(days: Store) -> None:
    counts = days.read(lambda c: queries.daily_negative_counts(c, MODEL, D0, D0 + 3 * DAY))
    assert counts == [(D0, 2), (D0 + DAY, 0), (D0 + 2 * DAY, 1), (D0 + 3 * DAY, 0)]
    assert days.read(lambda c: queries.daily_negative_counts(c, OTHER_MODEL, D0 + DAY, D0 + DAY)) == [
        (D0 + DAY, 1)
    ]


def test_sentiment_totals_over_a_half_open_period(days: Store) -> None:
    assert days.read(lambda c: queries.sentiment_totals(c, MODEL, D0, D0 + 3 * DAY)) == {
        "negative": 3,
        "positive": 1,
        "neutral": 1,
    }
    assert days.read(lambda c: queries.sentiment_totals(c, MODEL, D0 + DAY, D0 + 2 * DAY)) == {}
    start = D0 + timedelta(hours=1)  # "a" was published exactly then: in; "d" at the end: out
    assert days.read(lambda c: queries.sentiment_totals(c, MODEL, start, D0 + 2 * DAY)) == {
        "negative": 2,
        "positive": 1,
    }


def test_pipeline_counts(days: Store) -> None:
    counts = days.read(lambda c: queries.pipeline_counts(c, MODEL, 0.5))
    assert counts == {
        "collected": 8,
        "scored": 6,
        "negative": 4,
        "routed": 0,
        "dismissed": 0,
        "per_owner": {},
    }


def test_top_complaint_themes_count_complaints_only(days: Store) -> None:
    def _triage(conn: queries.Connection) -> None:
        for ext, validity in [("a", Validity.COMPLAINT), ("c", Validity.COMPLAINT), ("d", Validity.QUESTION)]:
            record = TriageRecord(
                mention_id("shop" if ext == "c" else "blog", ext), MODEL, validity, "", Tier.NORMAL, []
            )
            queries.insert_triage(conn, record, NOW)

    days.write(_triage)
    assert days.read(lambda c: queries.top_complaint_themes(c, D0)) == [
        {"theme": "delivery", "complaints": 2},
        {"theme": "refund", "complaints": 1},
    ]
    assert days.read(lambda c: queries.top_complaint_themes(c, D0, limit=1)) == [
        {"theme": "delivery", "complaints": 2}
    ]
    assert days.read(lambda c: queries.top_complaint_themes(c, D0, until=D0 + timedelta(hours=2))) == [
        {"theme": "delivery", "complaints": 1},
        {"theme": "refund", "complaints": 1},
    ]


@pytest.fixture
def handled(store: Store) -> dict[str, str]:
    """Four cases opened at D0 and two in the next week, handled in different ways."""
    cases = {}
    for name, owner in [("fast", "amy"), ("slow", "amy"), ("open", "ben"), ("nobody", None)]:
        cases[name] = open_case(store, put(store, name, f"{name} text"), D0, owner=owner, due=D0 + 2 * DAY)
    cases["later"] = open_case(store, put(store, "later", "later text"), D0 + 7 * DAY, owner="ben")
    cases["gone"] = open_case(store, put(store, "gone", "gone text"), D0, owner="amy")

    def _write(conn: queries.Connection) -> None:
        h = timedelta(hours=1)
        queries.update_case(
            conn, cases["fast"], {"first_response_at": D0 + h, "resolved_at": D0 + 4 * h, "status": "closed"}
        )
        queries.update_case(
            conn,
            cases["slow"],
            {"first_response_at": D0 + 3 * DAY, "resolved_at": D0 + 4 * DAY, "status": "closed"},
        )
        queries.update_case(conn, cases["gone"], {"status": "dismissed"})
        queries.insert_draft(conn, draft(cases["fast"], "one reply", "sent"))
        for n in range(2):
            queries.insert_draft(conn, draft(cases["slow"], f"reply {n}", "sent"))

    store.write(_write)
    return cases


def test_response_kpis_over_the_period(store: Store, handled: dict[str, str]) -> None:
    kpis = store.read(lambda c: queries.response_kpis(c, D0 + 10 * DAY, D0, D0 + DAY))
    assert kpis["median_first_response_hours"] == pytest.approx((1 + 72) / 2)
    assert kpis["median_resolution_hours"] == pytest.approx((4 + 96) / 2)
    # fast met its due time, slow answered late, open and nobody are past due unanswered
    assert kpis["sla_met_pct"] == pytest.approx(25.0)
    assert kpis["first_contact_resolution_pct"] == pytest.approx(50.0)  # fast: one reply, slow: two
    assert kpis["repeat_complaint_pct"] is None  # no complaints triaged
    assert kpis["open_backlog_by_age"] == {"over 2 days": 3}  # the backlog is all open cases, now


def test_response_kpis_with_nothing_answered(store: Store) -> None:
    kpis = store.read(lambda c: queries.response_kpis(c, D0))
    assert kpis == {
        "median_first_response_hours": None,
        "median_resolution_hours": None,
        "sla_met_pct": None,
        "first_contact_resolution_pct": None,
        "repeat_complaint_pct": None,
        "open_backlog_by_age": {},
    }


def test_owner_summary_per_owner_in_the_period(store: Store, handled: dict[str, str]) -> None:
    rows = store.read(lambda c: queries.owner_summary(c, D0, D0 + DAY))
    assert [(r["owner"], r["cases"], r["closed"], r["still_open"]) for r in rows] == [
        ("amy", 2, 2, 0),
        ("(unassigned)", 1, 0, 1),
        ("ben", 1, 0, 1),
    ]
    assert rows[0]["median_first_response_hours"] == pytest.approx((1 + 72) / 2)
    assert rows[2]["median_first_response_hours"] is None
    later = store.read(lambda c: queries.owner_summary(c, D0 + DAY, D0 + 8 * DAY))
    assert [(r["owner"], r["cases"]) for r in later] == [("ben", 1)]


# --- spikes --------------------------------------------------------------------------------

END = D0 + 10 * DAY


def test_negative_counts_per_window_are_newest_first(store: Store) -> None:
    put(store, "at-end", "x", at=END)  # window 0 includes its end
    put(store, "just-in", "x", at=END - DAY + timedelta(seconds=1))  # window 0
    put(store, "boundary", "x", at=END - DAY)  # exactly 24 h back: window 1
    put(store, "w2", "x", at=END - 2 * DAY - timedelta(hours=1))
    put(store, "future", "x", at=END + timedelta(seconds=1))  # after the end: not counted
    put(store, "too-old", "x", at=END - 3 * DAY)  # the start is excluded
    put(store, "positive", "x", at=END - timedelta(hours=1), label="positive")
    put(store, "other", "x", at=END - timedelta(hours=1), model=OTHER_MODEL)
    assert store.read(lambda c: queries.negative_counts_per_window(c, MODEL, END, 3)) == [2, 1, 1]
    assert store.read(lambda c: queries.negative_counts_per_window(c, MODEL, END, 5)) == [2, 1, 1, 1, 0]
    assert store.read(lambda c: queries.negative_counts_per_window(c, OTHER_MODEL, END, 2)) == [1, 0]


def test_window_negatives_give_themes_and_the_most_negative_examples(store: Store) -> None:
    start = END - DAY
    put(store, "a", "mild", at=END - timedelta(hours=1), p_neg=0.6, themes=["delivery"])
    put(store, "b", "worst", at=END - timedelta(hours=2), p_neg=0.99, themes=["delivery", "refund"])
    put(store, "c", "bad", at=END - timedelta(hours=3), p_neg=0.8, themes=["refund", "app"])
    put(store, "d", "outside", at=start, p_neg=0.99, themes=["app"])
    put(store, "e", "positive", at=END - timedelta(hours=1), label="positive", themes=["app"])
    found = store.read(lambda c: queries.window_negatives(c, MODEL, start, END, 2))
    assert found["themes"] == [
        {"theme": "delivery", "mentions": 2},
        {"theme": "refund", "mentions": 2},
        {"theme": "app", "mentions": 1},
    ]
    assert [e["text"] for e in found["examples"]] == ["worst", "bad"]
    assert found["examples"][0]["url"] == "https://example.com/b"


def spike(at: datetime, mentions: int = 9) -> dict[str, Any]:
    return {
        "detected_at": at,
        "window_start": at - DAY,
        "window_end": at,
        "mentions": mentions,
        "baseline_mean": 1.5,
        "baseline_sd": 0.5,
        "threshold": 3.0,
        "themes": [{"theme": "refund", "mentions": 4}],
        "examples": [{"id": "m1", "text": "'); DROP TABLE spikes; --", "at": at}],
    }


def test_spikes_are_recorded_and_found_by_time(store: Store) -> None:
    assert store.read(queries.latest_spike) is None
    ids = [store.write(lambda c, n=n: queries.insert_spike(c, spike(D0 + n * DAY, 5 + n))) for n in range(3)]
    assert len(set(ids)) == 3
    latest = store.read(queries.latest_spike)
    assert latest is not None and latest["mentions"] == 7 and latest["window_start"] == D0 + DAY
    assert json.loads(latest["themes"]) == [{"theme": "refund", "mentions": 4}]
    assert json.loads(latest["examples"])[0] == {
        "id": "m1",
        "text": "'); DROP TABLE spikes; --",
        "at": str(D0 + 2 * DAY),
    }
    assert [s["mentions"] for s in store.read(lambda c: queries.recent_spikes(c, D0 + DAY))] == [6, 7]
    assert [s["mentions"] for s in store.read(lambda c: queries.spikes_between(c, D0, D0 + 2 * DAY))] == [
        5,
        6,
    ]


# --- hostile text --------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips_everywhere(store: Store, text: str) -> None:
    ident = put(store, text, text, author=text, title=text, themes=[text])
    open_case(store, ident, NOW, owner=text, team=text)
    case_id = case_id_for(ident)

    def _write(conn: queries.Connection) -> None:
        queries.record_source_failure(conn, "blog", NOW, text)
        queries.insert_author_note(conn, text, "blog", text, text, True, text, NOW)
        queries.insert_notification(conn, NOW, "email", text, text, case_id, text, "failed", 1, text)
        queries.append_audit(conn, NOW, text, "case", case_id, text, {"k": text}, None)
        queries.insert_handoff(conn, case_id, NOW, text, text, text, text, text, text)
        queries.insert_draft(conn, draft(case_id, text, findings=[{"message": text}]))
        queries.update_case(conn, case_id, {"dismissed_reason": text})
        record = TriageRecord(ident, MODEL, Validity.COMPLAINT, text, Tier.NORMAL, [text])
        queries.insert_triage(conn, record, NOW)

    store.write(_write)
    case = store.read(lambda c: queries.get_case(c, case_id))
    assert case is not None
    assert (case["text"], case["author"], case["owner"], case["team"], case["dismissed_reason"]) == (
        text,
    ) * 5
    assert (case["themes"], case["validity_reason"]) == ([text], text)
    assert store.read(lambda c: queries.unscored_mentions(c, OTHER_MODEL, 5))[0].text == text  # title == text
    assert store.read(lambda c: queries.source_state(c, "blog")).last_error == text
    assert store.read(lambda c: queries.author_notes(c, "blog", text, True))[0]["note"] == text
    assert store.read(lambda c: queries.notifications(c, case_id))[0]["subject"] == text
    (entry,) = store.read(lambda c: queries.case_audit(c, case_id))
    assert (entry["actor"], entry["action"], json.loads(entry["before"])) == (text, text, {"k": text})
    assert store.read(lambda c: queries.handoffs(c, case_id))[0]["reason"] == text
    latest = store.read(lambda c: queries.latest_draft(c, case_id))
    assert latest is not None and latest["body"] == text and latest["findings"] == [{"message": text}]
    assert store.read(lambda c: queries.author_mentions(c, "blog", text))[0]["excerpt"] == text
    assert [count(store, t) for t in ("mentions", "cases", "scores")] == [1, 1, 1]  # every table still there


@pytest.mark.parametrize("order", ["earlier first", "later first"])
def test_the_original_is_the_post_published_first_whatever_order_sources_arrive_in(
    store: Store, order: str
) -> None:
    """Sources are collected side by side: a cross-post may be stored before the post it repeats."""
    early = Mention("r-1", "Glass in my pastry at Acme", author="/u/hikerjo", published_at=D0)
    late = Mention("h-1", "glass in my pastry at acme", author="hikerjo", published_at=D0 + DAY)
    first, second = (
        (("reddit", early), ("hn", late)) if order == "earlier first" else (("hn", late), ("reddit", early))
    )
    for source, mention in (first, second):
        store.write(lambda c, s=source, m=mention: queries.insert_mentions(c, s, [m], NOW, None, WINDOW))
    links = dict(store.read(lambda c: c.execute("SELECT source, duplicate_of FROM mentions").fetchall()))
    assert links == {"reddit": None, "hn": mention_id("reddit", "r-1")}


def test_a_mention_already_triaged_keeps_its_case_when_an_earlier_repost_arrives(store: Store) -> None:
    late = put(store, "late", "my refund never came", author="pat", at=D0 + DAY)
    store.write(
        lambda c: c.execute(
            "INSERT INTO triage VALUES (?, ?, 'complaint', 'x', 'normal', ARRAY[]::VARCHAR[], ?)",
            [late, MODEL, NOW],
        )
    )
    early = put(store, "early", "My refund never came", author="@pat", at=D0)
    links = dict(store.read(lambda c: c.execute("SELECT id, duplicate_of FROM mentions").fetchall()))
    assert links == {late: None, early: late}  # one case, the one already opened


@given(st.lists(st.sampled_from([f"m{i}" for i in range(12)]), max_size=30), st.integers(0, 11))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_batch_opens_each_mentions_case_once_numbered_in_order_without_gaps(
    store: Store, batch: list[str], already: int
) -> None:
    """Set-based opening (one read and a few multi-row inserts per batch) keeps the one-by-one rules."""
    prefix = f"b{uuid.uuid4().hex[:8]}-"  # each example its own mentions in the shared store
    before = store.read(lambda c: c.execute("SELECT max(number) FROM cases").fetchone()[0]) or 0
    early = [(case_id_for(prefix + f"m{i}"), routing(prefix + f"m{i}")) for i in range(already)]
    store.write(lambda c: queries.insert_cases(c, early, NOW))
    wanted = [(case_id_for(prefix + m), routing(prefix + m)) for m in batch]
    created = store.write(lambda c: queries.insert_cases(c, wanted, NOW))
    fresh = list(dict.fromkeys(cid for cid, _ in wanted if cid not in {e for e, _ in early}))
    assert created == set(fresh)
    numbers = store.read(
        lambda c: c.execute(
            "SELECT id, number FROM cases WHERE starts_with(mention_id, ?) ORDER BY number", [prefix]
        ).fetchall()
    )
    assert [n for _, n in numbers] == list(range(before + 1, before + 1 + len(numbers)))  # no gaps
    assert [cid for cid, _ in numbers] == [e for e, _ in early] + fresh  # numbered in the order given
    assert store.write(lambda c: queries.insert_cases(c, wanted + early, NOW)) == set()  # again: nothing


def test_a_batch_of_triage_records_keeps_one_per_mention_and_the_first_wins(store: Store) -> None:
    first = TriageRecord("t-1", MODEL, Validity.COMPLAINT, "negative", Tier.NORMAL, ["a"])
    second = TriageRecord("t-1", MODEL, Validity.PRAISE, "positive", Tier.NORMAL, ["b"])
    other = TriageRecord("t-2", MODEL, Validity.COMPLAINT, "negative", Tier.URGENT, ["c"])
    store.write(lambda c: queries.insert_triages(c, [first, second, other], NOW))
    rows = store.read(lambda c: c.execute("SELECT mention_id, validity FROM triage ORDER BY 1").fetchall())
    assert rows == [("t-1", "complaint"), ("t-2", "complaint")]


def test_two_case_ids_for_one_mention_open_one_case_and_use_one_number(store: Store) -> None:
    before = store.read(lambda c: c.execute("SELECT max(number) FROM cases").fetchone()[0]) or 0
    mention = f"dup-{uuid.uuid4().hex[:8]}"
    created = store.write(
        lambda c: queries.insert_cases(
            c, [("case-a-" + mention, routing(mention)), ("case-b-" + mention, routing(mention))], NOW
        )
    )
    assert created == {"case-a-" + mention}
    store.write(lambda c: queries.insert_cases(c, [(case_id_for("next"), routing("next"))], NOW))
    after = store.read(lambda c: c.execute("SELECT max(number) FROM cases").fetchone()[0])
    assert after == before + 2  # no number was used up by the second id
