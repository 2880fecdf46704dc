"""The care KPIs from the per-day rollups always equal computing them from the cases, on both engines.

Hypothesis opens random cases (days, hours, complaints or not, repeat complainers,
dismissed ones), then changes them the way people and routing do, through the
query functions the services use: answers (in time or late), resolutions,
closing, replies sent, the author's next posts linked (some corrected by a
person), and erasures. After each round every KPI read from the rollups equals
the same read from the rows (``from_rows=True``), over whole-day windows and all
time. A write that fails half way moves no figure, an older store's cases are
counted when it migrates, and the median taken from per-minute counts is the
median of the minutes.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxwatch.domain import (
    CaseStatus,
    FollowUp,
    FollowUpOutcome,
    Mention,
    Routing,
    Score,
    Tier,
    TriageRecord,
    Validity,
    mention_id,
)
from voxwatch.store import Store, queries, store_for
from voxwatch.store.migrations import MIGRATIONS
from voxwatch.store.queries.kpi_rollups import median_of_counts

pytestmark = pytest.mark.both_engines

D0 = datetime(2026, 11, 10, tzinfo=UTC)
NOW = D0 + timedelta(days=6, hours=5)
WINDOW = timedelta(hours=72)
LABELS = ("negative", "neutral", "positive")
# What happens to a case after it is opened; each case takes them in its own order.
STEPS = ("answer", "resolve", "replies", "status", "next_posts")

minutes_after = st.one_of(st.none(), st.integers(0, 4 * 24 * 60))
case = st.fixed_dictionaries(
    {
        "day": st.integers(0, 5),
        "hour": st.integers(0, 23),
        "complaint": st.booleans(),
        "repeat": st.booleans(),
        "dismissed": st.integers(0, 5).map(lambda n: n == 0),
        "due_hours": st.integers(1, 48),
        "answered": minutes_after,
        "resolved": minutes_after,
        "status": st.sampled_from([CaseStatus.CLOSED, CaseStatus.ASSIGNED, CaseStatus.DISMISSED]),
        "replies_sent": st.integers(0, 2),
        "next_posts": st.lists(
            st.tuples(st.sampled_from(LABELS), st.integers(1, 3000), st.sampled_from((None, *LABELS))),
            max_size=2,
        ),
        "erase": st.integers(0, 4).map(lambda n: n == 0),
        "erase_next_post": st.integers(0, 4).map(lambda n: n == 0),
        "steps": st.permutations(STEPS),
    }
)


def open_cases(store: Store, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store each case's mention, score and triage, and open the case at its time, as routing does."""
    batch = uuid.uuid4().hex[:8]
    opened = []

    def _write(conn: queries.Connection) -> None:
        for n, c in enumerate(cases):
            at = D0 + timedelta(days=c["day"], hours=c["hour"])
            mention = Mention(f"{batch}-{n}", f"post {batch} {n}", author=f"author{n}", published_at=at)
            queries.insert_mentions(conn, "shop", [mention], at, None, WINDOW)
            ident = mention_id("shop", mention.external_id)
            score = Score("negative", {"negative": 0.8, "neutral": 0.1, "positive": 0.1}, "m1", ())
            queries.insert_scores(conn, [(ident, score)], at)
            validity = Validity.COMPLAINT if c["complaint"] else Validity.QUESTION
            reasons = ["repeat complainer: 2 before"] if c["repeat"] else []
            queries.insert_triages(conn, [TriageRecord(ident, "m1", validity, "", Tier.NORMAL, reasons)], at)
            routing = Routing(
                ident,
                validity,
                "",
                Tier.NORMAL,
                ["negative"],
                "rule",
                "care",
                "pat",
                CaseStatus.DISMISSED if c["dismissed"] else CaseStatus.NEW,
                at + timedelta(hours=c["due_hours"]),
                at + timedelta(hours=72),
            )
            case_id = f"case-{batch}-{n}"
            queries.insert_cases(conn, [(case_id, routing)], at)
            opened.append({**c, "id": case_id, "mention_id": ident, "at": at, "next_ids": []})

    store.write(_write)
    return opened


def work_cases(
    store: Store, opened: list[dict[str, Any]], after_each: Callable[[], None] = lambda: None
) -> None:
    """Answer, resolve, close, send replies and link next posts: each step its own write, in the
    case's order (``steps``), with ``after_each`` called after every write."""
    for c in opened:
        for step in c.get("steps", STEPS):
            store.write(lambda conn, c=c, step=step: _step(conn, c, step))
            after_each()


def _step(conn: queries.Connection, c: dict[str, Any], step: str) -> None:
    at = c["at"]
    if step == "answer" and c["answered"] is not None:
        queries.update_case(conn, c["id"], {"first_response_at": at + timedelta(minutes=c["answered"])})
    elif step == "resolve" and c["resolved"] is not None:
        queries.update_case(conn, c["id"], {"resolved_at": at + timedelta(minutes=c["resolved"])})
    elif step == "replies":
        for version in range(c["replies_sent"]):
            queries.insert_draft(conn, draft(c["id"], "approved", at))
            queries.update_draft(conn, f"{c['id']}-v{version + 1}", {"state": "sent", "sent_at": at})
    elif step == "status":
        queries.update_case(conn, c["id"], {"status": c["status"].value})
    elif step == "next_posts":
        for n, (label, after, corrected) in enumerate(c["next_posts"]):
            said = at + timedelta(minutes=after)
            post = Mention(f"{c['id']}-next-{n}", "again", author="someone", published_at=said)
            queries.insert_mentions(conn, "shop", [post], said, None, WINDOW)
            ident = mention_id("shop", post.external_id)
            c["next_ids"].append(ident)
            follow_up = FollowUp(
                c["id"], ident, label, said, FollowUpOutcome.NOTED, CaseStatus.CLOSED, None, ""
            )
            queries.insert_follow_up(conn, follow_up, FollowUpOutcome.NOTED, said)
            if corrected is not None:
                queries.insert_label_correction(conn, ident, "m1", corrected, "maya", said)


def draft(case_id: str, state: str, at: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "situation": "complaint",
        "lang": "en",
        "template_key": None,
        "body": "Sorry, we are on it.",
        "author": "pat",
        "created_at": at,
        "findings": [],
        "state": state,
    }


WINDOWS = (
    (None, None),
    (D0 + timedelta(days=2), D0 + timedelta(days=4)),
    (D0 + timedelta(days=5), None),
)


def kpis_in(conn: queries.Connection, from_rows: bool) -> dict[str, Any]:
    """Every KPI read over several windows, from the rollups or from the rows."""
    return {
        f"{since} {until}": queries.response_kpis(conn, NOW, since, until, from_rows)
        | queries.service_recovery(conn, since, until, from_rows)
        for since, until in WINDOWS
    }


def kpis(store: Store, from_rows: bool) -> dict[str, Any]:
    return store.read(lambda conn: kpis_in(conn, from_rows))


def assert_rollups_equal_rows(store: Store) -> None:
    """In one read: the rollups' KPIs are the rows' KPIs."""
    rollups, rows = store.read(lambda conn: (kpis_in(conn, False), kpis_in(conn, True)))
    assert rollups == rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(case, min_size=1, max_size=6))
def test_kpi_rollups_equal_computing_from_the_cases_after_every_change(
    team, cases: list[dict[str, Any]]
) -> None:
    store = store_for(team)

    def same() -> None:
        assert_rollups_equal_rows(store)

    opened = open_cases(store, cases)
    same()
    work_cases(store, opened, same)
    erased = [c["mention_id"] for c in opened if c["erase"]]
    erased += [ident for c in opened if c["erase_next_post"] for ident in c["next_ids"]]
    store.write(lambda conn: queries.erase_mentions(conn, erased))
    same()


def test_the_figures_are_what_the_cases_say(team) -> None:
    """A worked example, so equal-but-wrong rollups cannot pass: two answered complaints, one late."""
    store = store_for(team)
    base = {
        "hour": 9,
        "repeat": False,
        "dismissed": False,
        "due_hours": 2,
        "resolved": None,
        "status": CaseStatus.CLOSED,
        "erase": False,
        "erase_next_post": False,
    }
    opened = open_cases(
        store,
        [
            {**base, "day": 1, "complaint": True, "answered": 30, "replies_sent": 1, "next_posts": [],
             "resolved": 60},
            {**base, "day": 1, "complaint": True, "repeat": True, "answered": 180, "replies_sent": 2,
             "next_posts": [("negative", 600, "positive")], "resolved": 240},
            {**base, "day": 2, "complaint": False, "answered": None, "replies_sent": 0, "next_posts": [],
             "status": CaseStatus.ASSIGNED},
        ],
    )  # fmt: skip
    work_cases(store, opened)
    found = store.read(
        lambda conn: (
            queries.response_kpis(conn, NOW, D0, D0 + timedelta(days=3))
            | queries.service_recovery(conn, D0, D0 + timedelta(days=3))
        )
    )
    assert found["median_first_response_hours"] == pytest.approx((30 + 180) / 2 / 60)
    assert found["median_resolution_hours"] == pytest.approx((60 + 240) / 2 / 60)
    assert found["sla_met_pct"] == pytest.approx(100 / 3)  # 1 in time, 1 late, 1 overdue unanswered
    assert found["first_contact_resolution_pct"] == pytest.approx(50.0)
    assert found["repeat_complaint_pct"] == pytest.approx(50.0)
    assert found["open_backlog_by_age"] == {"over 2 days": 1}
    assert (found["answered_complaints"], found["service_recovery_n"], found["service_recovery_pct"]) == (
        2,
        1,
        pytest.approx(100.0),  # the next post was negative, and a person corrected it to positive
    )


@pytest.mark.parametrize("corrected", [None, "negative"])
def test_service_recovery_moves_with_each_link_correction_and_erasure(team, corrected: str | None) -> None:
    """Each write that changes service recovery shows in the rollup at once, not at the case's next change."""
    store = store_for(team)
    base = {"day": 1, "hour": 9, "complaint": True, "repeat": False, "dismissed": False, "due_hours": 2}
    kept = {"erase": False, "erase_next_post": False, "replies_sent": 0, "resolved": None}
    opened = open_cases(store, [{**base, **kept, "answered": 30, "status": CaseStatus.ASSIGNED}])
    c = opened[0] | {"next_posts": [("positive", 60, corrected)]}
    whole = (D0, D0 + timedelta(days=3))

    def recovery() -> tuple[int, int, float | None]:
        found = store.read(lambda conn: queries.service_recovery(conn, *whole))
        assert found == store.read(lambda conn: queries.service_recovery(conn, *whole, from_rows=True))
        return found["answered_complaints"], found["service_recovery_n"], found["service_recovery_pct"]

    store.write(lambda conn: _step(conn, c, "answer"))
    assert recovery() == (1, 0, None)
    store.write(lambda conn: _step(conn, c, "next_posts"))
    assert recovery() == (1, 1, 0.0 if corrected == "negative" else 100.0)
    store.write(lambda conn: queries.erase_mentions(conn, c["next_ids"]))
    assert recovery() == (1, 0, None)
    store.write(lambda conn: queries.erase_mentions(conn, [c["mention_id"]]))
    assert recovery() == (0, 0, None)


def test_a_change_that_fails_half_way_moves_no_figure(team) -> None:
    store = store_for(team)
    base = {"day": 1, "hour": 9, "complaint": True, "repeat": False, "dismissed": False, "due_hours": 2}
    opened = open_cases(store, [{**base, "answered": None, "resolved": None, "next_posts": []}])
    before = kpis(store, False)

    def answer_then_fail(conn: queries.Connection) -> None:
        queries.update_case(conn, opened[0]["id"], {"first_response_at": NOW, "status": "closed"})
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        store.write(answer_then_fail)
    assert kpis(store, False) == before


def test_an_older_stores_cases_are_counted_when_it_migrates(
    unmigrated_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = unmigrated_store
    names = [m.name for m in MIGRATIONS]
    with monkeypatch.context() as patched:
        patched.setattr("voxwatch.store.database.MIGRATIONS", MIGRATIONS[: names.index("case_kpi_rollups")])
        store.migrate()  # a store as it was before the KPI rollups

        def _rows(conn: queries.Connection) -> None:
            for n, (answered, status, repeat) in enumerate(
                [(40, "closed", True), (None, "new", False), (200, "closed", False), (10, "dismissed", False)]
            ):
                at = D0 + timedelta(days=n % 2, hours=n)
                ident = f"old-{n}"
                conn.execute(
                    "INSERT INTO mentions (id, source, external_id, text, lang, published_at, collected_at, "
                    "content_hash) VALUES (?, 'blog', ?, 'old post', 'en', ?, ?, 'h')",
                    [ident, ident, at, at],
                )
                conn.execute(
                    "INSERT INTO triage VALUES (?, 'm1', 'complaint', '', 'normal', ?, ?)",
                    [ident, ["repeat complainer: 1 before"] if repeat else [], at],
                )
                conn.execute(
                    "INSERT INTO cases (id, mention_id, tier, reasons, rule, team, status, "
                    "first_response_due, resolution_due, created_at, updated_at, first_response_at, "
                    "resolved_at, number) "
                    "VALUES (?, ?, 'normal', ARRAY['negative'], 'r', 'care', ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        f"case-{ident}",
                        ident,
                        status,
                        at + timedelta(hours=1),
                        at + timedelta(hours=72),
                        at,
                        at,
                        None if answered is None else at + timedelta(minutes=answered),
                        None if status != "closed" else at + timedelta(hours=5),
                        n + 1,
                    ],
                )
            conn.execute(
                "INSERT INTO drafts (id, case_id, version, situation, lang, body, author, created_at, "
                "findings, state) VALUES ('case-old-0-v1', 'case-old-0', 1, 'complaint', 'en', 'Sorry', "
                "'pat', ?, '[]', 'sent')",
                [D0],
            )
            conn.execute(
                "INSERT INTO case_followups VALUES ('old-next', 'case-old-0', 'negative', 'noted', ?, ?)",
                [D0 + timedelta(hours=3), D0 + timedelta(hours=3)],
            )

        store.write(_rows)
    assert store.migrate() == ["case_kpi_rollups"]
    counted = kpis(store, False)
    assert counted == kpis(store, True)
    ever = counted["None None"]
    assert (ever["answered_complaints"], ever["service_recovery_n"], ever["service_recovery_pct"]) == (
        2,
        1,
        0.0,
    )
    assert ever["first_contact_resolution_pct"] == pytest.approx(50.0)
    assert ever["repeat_complaint_pct"] == pytest.approx(25.0)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(-5, 3000), min_size=1, max_size=40))
def test_the_median_of_per_minute_counts_is_the_median_of_the_minutes(values: list[int]) -> None:
    counts = sorted({v: values.count(v) for v in values}.items())
    assert median_of_counts(counts) == pytest.approx(statistics.median(values))


def test_no_cases_no_median() -> None:
    assert median_of_counts([]) is None
