"""The loop closes with the customer (responders/follow_ups.py), on a small real store.

A complaint is routed, answered through the real case service (drafted, approved,
sent, its link recorded: the reply is public), and then its author speaks again.
Routing links that next mention to the case instead of opening a new one: a
negative one reopens the case, a neutral or positive one closes it as recovered,
once, however often routing runs. Outside the window, from another author or on
another source, a new case opens as before. The service recovery KPI counts what
answered customers said next, on the trends page and in the monthly report.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from hypothesis import given
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import dashboard
from dashboard.session import SINCE_KEY, USER_KEY
from flows.route import candidates, route_flow
from insights.report import monthly_figures, render_html
from insights.trends import trend_figures
from responders.authors import AuthorService
from responders.cases import CaseService
from responders.decide import decide
from sentiment.themes import urgent_theme_ids
from tests.builders import MODEL, NOW, Post, fresh_store, seed_posts, team_settings, write_team_settings
from voxwatch.cli.main import app
from voxwatch.domain import (
    LABELS,
    AnsweredCase,
    CaseStatus,
    Decision,
    Mention,
    RawResponse,
    RoutingCandidate,
    Score,
    StoredMention,
    case_id_for,
    in_follow_up_window,
    latest_answered,
    mention_id,
)
from voxwatch.settings import Settings, load_settings
from voxwatch.store import Store, queries, stages, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

REPLIED = NOW + timedelta(hours=1)  # when the reply to the complaint is posted
COMPLAINT = Post("My Acme kettle leaked all over the counter", 0.9, author="@Pat")
NEXT_TEXT = {
    "negative": "Still no new Acme kettle, this is a joke",
    "neutral": "Got the replacement Acme kettle today",
    "positive": "Thanks Acme, the new kettle is perfect",
}
WAITING = ("sent", "follow_up", "closed")  # where an answered case can stand when the customer speaks
SETTINGS = load_settings(write_team_settings(Path(tempfile.mkdtemp(prefix="voxwatch-follow-ups-"))))


# --- building a case that was answered in public -----------------------------------------------


def answered_case(settings: Settings, status: str = "sent", post: Post = COMPLAINT) -> str:
    """Route ``post``, answer it through the real case service, bring it to ``status``; its case id."""
    (routed,) = seed_posts(store_for(settings), settings, [post])
    case_id = case_id_for(routed.mention_id)
    service = CaseService(settings, clock=lambda: REPLIED)
    owner = service.show(case_id)["owner"]
    service.draft(case_id, owner)
    service.submit(case_id, owner)
    service.approve(case_id, "maya")
    service.send(case_id, owner)
    service.record_reply_link(case_id, owner, f"https://example.com/reply/{case_id}")  # public now
    if status in ("follow_up", "closed"):
        service.follow_up(case_id, owner, "asked whether the replacement arrived")
    if status == "closed":
        service.close(case_id, owner)
    assert service.show(case_id)["status"] == status
    return case_id


def say(
    settings: Settings,
    label: str,
    at: datetime,
    author: str = "pat",
    source: str = "blog",
    text: str | None = None,
) -> str:
    """Collect and score one mention by ``author`` said at ``at``, labelled ``label``; its id."""
    words = text or NEXT_TEXT[label]
    external = f"next-{label}-{author}-{source}-{at.timestamp():.0f}"
    mention = Mention(external, words, url=f"https://example.com/{external}", author=author, published_at=at)
    store = store_for(settings)
    stages.save_page(
        store, source, RawResponse(f"https://example.com/{source}", 200, {}, b"{}", at), [mention]
    )
    probs = {name: (0.8 if name == label else 0.1) for name in LABELS}
    stages.save_scores(store, [(mention_id(source, external), Score(label, probs, MODEL, ()))])
    return mention_id(source, external)


def route(settings: Settings) -> list[Decision]:
    """Route what is scored and untriaged with the route flow's own read (window included)."""
    found, load = candidates.fn(settings, MODEL)
    decisions = decide(settings, found, load, urgent_theme_ids())
    stages.save_decisions(store_for(settings), decisions)
    return decisions


def case_count(store: Store) -> int:
    return store.read(lambda c: c.execute("SELECT count(*) FROM cases").fetchone()[0])  # type: ignore[index]


# --- what the next mention does ------------------------------------------------------------------


@pytest.mark.parametrize("status", WAITING)
def test_a_negative_next_mention_reopens_the_case_for_its_owner(team: Settings, status: str) -> None:
    case_id = answered_case(team, status)
    before = CaseService(team).show(case_id)
    said = say(team, "negative", REPLIED + timedelta(hours=5))

    (decision,) = route(team)

    assert decision.case is None and decision.follow_up is not None  # linked, no new case
    case = CaseService(team).show(case_id)
    assert case["status"] == "assigned" and case["owner"] == before["owner"]
    assert case["resolved_at"] is None
    assert case["first_response_at"] == before["first_response_at"]  # the SLA history stays
    assert case_count(store_for(team)) == 1
    (linked,) = case["follow_ups"]
    assert (linked["mention_id"], linked["label"], linked["outcome"]) == (said, "negative", "reopened")
    assert linked["text"] == NEXT_TEXT["negative"]
    replied, reopened = case["audit"][-2:]
    assert replied["action"] == "customer_replied" and replied["actor"] == "system"
    assert json.loads(replied["after"]) == {"mention_id": said, "label": "negative", "outcome": "reopened"}
    assert reopened["action"] == "reopened"
    assert json.loads(reopened["after"])["reason"] == "the customer's next mention is negative"
    assert json.loads(reopened["before"])["status"] == status


@pytest.mark.parametrize("label", ["neutral", "positive"])
@pytest.mark.parametrize("status", WAITING)
def test_a_neutral_or_positive_next_mention_closes_the_case_as_recovered(
    team: Settings, status: str, label: str
) -> None:
    case_id = answered_case(team, status)
    before = CaseService(team).show(case_id)
    said = say(team, label, REPLIED + timedelta(hours=30))

    route(team)

    case = CaseService(team).show(case_id)
    assert case["status"] == "closed" and case_count(store_for(team)) == 1
    (linked,) = case["follow_ups"]
    assert (linked["mention_id"], linked["label"]) == (said, label)
    if status == "closed":  # closed by a person already: only noted as recovered
        assert linked["outcome"] == "recovered"
        assert case["resolved_at"] == before["resolved_at"]
        assert case["audit"][-1]["action"] == "customer_replied"
        return
    assert linked["outcome"] == "closed"
    replied, closed = case["audit"][-2:]
    assert replied["action"] == "customer_replied" and closed["action"] == "closed"
    assert json.loads(closed["after"])["reason"] == f"recovered: the customer's next mention is {label}"
    assert case["resolved_at"] is not None
    if status == "follow_up":  # the person's follow-up time is kept
        assert case["followed_up_at"] == before["followed_up_at"]
    else:  # hearing back from the customer is the follow-up
        assert case["followed_up_at"] is not None and before["followed_up_at"] is None


def test_a_case_being_worked_on_is_only_linked(team: Settings) -> None:
    case_id = answered_case(team)
    service = CaseService(team, clock=lambda: REPLIED)
    owner = service.show(case_id)["owner"]
    service.draft(case_id, owner, situation="apology_recovery")  # a second reply under way
    say(team, "negative", REPLIED + timedelta(hours=2))
    route(team)
    case = service.show(case_id)
    assert case["status"] == "drafting" and case["follow_ups"][0]["outcome"] == "noted"
    assert case["audit"][-1]["action"] == "customer_replied"


@pytest.mark.parametrize(
    ("what", "offset", "author", "source"),
    [
        ("after the window", timedelta(hours=72, minutes=1), "pat", "blog"),
        ("before the reply", -timedelta(minutes=10), "pat", "blog"),
        ("another author", timedelta(hours=1), "quinn", "blog"),
        ("another source", timedelta(hours=1), "pat", "shop"),
    ],
)
def test_a_mention_that_answers_no_reply_opens_a_case_as_before(
    team: Settings, what: str, offset: timedelta, author: str, source: str
) -> None:
    case_id = answered_case(team)
    said = say(team, "negative", REPLIED + offset, author=author, source=source)

    (decision,) = route(team)

    assert decision.follow_up is None and decision.case is not None, what
    assert case_count(store_for(team)) == 2
    case = CaseService(team).show(case_id)
    assert case["status"] == "sent" and case["follow_ups"] == []
    assert CaseService(team).show(case_id_for(said))["status"] in ("assigned", "new")


def test_the_window_is_a_setting(tmp_path: Path) -> None:
    short = team_settings(tmp_path, "\n[sla]\nfollow_up_window_hours = 2\n")
    fresh_store(short)
    answered_case(short)
    say(short, "negative", REPLIED + timedelta(hours=3))
    (decision,) = route(short)
    assert decision.follow_up is None and decision.case is not None


# --- exactly once -------------------------------------------------------------------------------


def test_routing_again_links_once_and_reopens_once(team: Settings) -> None:
    case_id = answered_case(team, "closed")
    say(team, "negative", REPLIED + timedelta(hours=5))
    decisions = route(team)
    after_first = CaseService(team).show(case_id)

    assert route(team) == []  # the triage record: nothing left to route
    stages.save_decisions(store_for(team), decisions)  # the same decisions stored again
    again = CaseService(team).show(case_id)

    assert len(again["follow_ups"]) == 1
    assert again["audit"] == after_first["audit"]
    assert [a["action"] for a in again["audit"]].count("reopened") == 1


def test_two_next_mentions_in_one_run_follow_each_other(team: Settings) -> None:
    case_id = answered_case(team)
    say(team, "negative", REPLIED + timedelta(hours=1))
    say(team, "positive", REPLIED + timedelta(hours=2))
    first, second = route(team)
    assert first.follow_up is not None and second.follow_up is not None
    case = CaseService(team).show(case_id)
    # the complaint reopened the case; the thanks after it leaves it with its owner
    assert [f["outcome"] for f in case["follow_ups"]] == ["reopened", "recovered"]
    assert case["status"] == "assigned"


def test_a_persons_move_in_between_stands(team: Settings) -> None:
    case_id = answered_case(team)
    say(team, "positive", REPLIED + timedelta(hours=1))
    found, load = candidates.fn(team, MODEL)
    decisions = decide(team, found, load, urgent_theme_ids())
    service = CaseService(team, clock=lambda: REPLIED)
    service.follow_up(case_id, service.show(case_id)["owner"], "called the customer")  # while routing ran
    stages.save_decisions(store_for(team), decisions)
    case = service.show(case_id)
    assert case["status"] == "follow_up" and case["follow_ups"][0]["outcome"] == "noted"


def test_the_route_flow_links_the_next_mention(team: Settings, tmp_path: Path) -> None:
    case_id = answered_case(team, "follow_up")
    say(team, "neutral", REPLIED + timedelta(hours=4))
    assert route_flow(str(tmp_path / "voxwatch.toml"), MODEL) == 0  # no new case
    case = CaseService(team).show(case_id)
    assert case["status"] == "closed" and case["follow_ups"][0]["outcome"] == "closed"


def test_forgetting_the_author_forgets_the_link(team: Settings) -> None:
    case_id = answered_case(team)
    say(team, "negative", REPLIED + timedelta(hours=1))
    route(team)
    AuthorService(team).forget("grace", "blog", "pat")
    assert store_for(team).read(lambda c: queries.case_follow_ups(c, case_id)) == []
    count = store_for(team).read(lambda c: c.execute("SELECT count(*) FROM case_followups").fetchone())
    assert count == (0,)


# --- the rule itself, without a store (decide stays pure) -------------------------------------------


def candidate_for(label: str, case: AnsweredCase, mention: str = "m-next") -> RoutingCandidate:
    probs = {name: (0.8 if name == label else 0.1) for name in LABELS}
    stored = StoredMention(mention, "blog", NEXT_TEXT[label], "pat", "en", REPLIED, REPLIED)
    return RoutingCandidate(stored, Score(label, probs, MODEL, ()), 0, answered_case=case)


@pytest.mark.parametrize(
    ("label", "status", "outcome", "to"),
    [
        ("negative", "sent", "reopened", "assigned"),
        ("negative", "follow_up", "reopened", "assigned"),
        ("negative", "closed", "reopened", "assigned"),
        ("negative", "drafting", "noted", None),
        ("negative", "assigned", "noted", None),
        ("neutral", "sent", "closed", "closed"),
        ("positive", "follow_up", "closed", "closed"),
        ("positive", "closed", "recovered", None),
        ("neutral", "pending_approval", "recovered", None),
    ],
)
def test_what_the_next_mention_does_by_label_and_status(
    label: str, status: str, outcome: str, to: str | None
) -> None:
    case = AnsweredCase("case-1", CaseStatus(status), "amy", REPLIED - timedelta(hours=1))
    (decision,) = decide(SETTINGS, [candidate_for(label, case)], {"amy": 3})
    assert decision.case is None and decision.messages == ()
    follow_up = decision.follow_up
    assert follow_up is not None and follow_up.case_id == "case-1" and follow_up.mention_id == "m-next"
    assert (follow_up.outcome.value, follow_up.status) == (outcome, to and CaseStatus(to))
    assert follow_up.expected is CaseStatus(status)


def test_a_reopened_case_without_an_owner_is_new_again() -> None:
    case = AnsweredCase("case-1", CaseStatus.CLOSED, None, REPLIED - timedelta(hours=1))
    (decision,) = decide(SETTINGS, [candidate_for("negative", case)], {})
    assert decision.follow_up is not None and decision.follow_up.status is CaseStatus.NEW


def test_the_owners_load_follows_the_case_within_one_batch() -> None:
    """Reopening a closed case adds to its owner's load, so the next new case goes elsewhere."""
    case = AnsweredCase("case-1", CaseStatus.CLOSED, "amy", REPLIED - timedelta(hours=1))
    fresh = RoutingCandidate(
        StoredMention("m-new", "blog", "My Acme grinder broke", "zed", "en", REPLIED, REPLIED),
        Score("negative", {"negative": 0.9, "neutral": 0.06, "positive": 0.04}, MODEL, ()),
        0,
    )
    linked, opened = decide(SETTINGS, [candidate_for("negative", case), fresh], {"amy": 1, "ben": 1})
    assert linked.follow_up is not None and linked.follow_up.status is CaseStatus.ASSIGNED
    assert opened.case is not None and opened.case.owner == "ben"  # amy has 2 open now, ben 1


# --- the window rule ----------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)
hours = hs.integers(min_value=-200, max_value=200).map(lambda h: T0 + timedelta(hours=h))
answered_cases = hs.lists(
    hs.builds(
        AnsweredCase,
        case_id=hs.sampled_from(["case-a", "case-b", "case-c", "case-d"]),
        status=hs.sampled_from(list(CaseStatus)),
        owner=hs.none(),
        replied_at=hours,
    ),
    max_size=6,
    unique_by=lambda a: a.case_id,  # a case is answered once per list, as the store returns them
)


@given(answered_cases, hours, hs.integers(min_value=1, max_value=100).map(lambda h: timedelta(hours=h)))
def test_the_latest_reply_within_the_window_is_the_one_answered(
    answered: list[AnsweredCase], said: datetime, window: timedelta
) -> None:
    chosen = latest_answered(answered, said, window)
    inside = [a for a in answered if a.replied_at <= said <= a.replied_at + window]
    if not inside:
        assert chosen is None
        return
    assert chosen is not None and in_follow_up_window(chosen.replied_at, said, window)
    assert all((a.replied_at, a.case_id) <= (chosen.replied_at, chosen.case_id) for a in inside)
    assert latest_answered(list(reversed(answered)), said, window) == chosen  # order does not matter


# --- the KPI and where it shows -----------------------------------------------------------------


@pytest.fixture
def recovery(team: Settings) -> Settings:
    """Three answered complaints: one author came back negative, one neutral, one never spoke again."""
    answered_case(team, post=COMPLAINT)
    answered_case(team, post=Post("The Acme app charged my card twice", 0.9, author="raj"))
    answered_case(team, post=Post("My Acme order arrived cold", 0.9, author="kim"))
    say(team, "negative", REPLIED + timedelta(hours=3), author="pat")
    say(team, "neutral", REPLIED + timedelta(hours=3), author="raj", text="ok the refund came through")
    route(team)
    return team


def test_service_recovery_is_the_share_of_answered_complaints_not_negative_next(recovery: Settings) -> None:
    figures = store_for(recovery).read(queries.service_recovery)
    assert figures == {"service_recovery_pct": 50.0, "service_recovery_n": 2, "answered_complaints": 3}


def test_service_recovery_without_a_next_mention_is_no_figure(team: Settings) -> None:
    answered_case(team)
    figures = store_for(team).read(queries.service_recovery)
    assert figures == {"service_recovery_pct": None, "service_recovery_n": 0, "answered_complaints": 1}


def test_service_recovery_on_trends_and_in_the_monthly_report(recovery: Settings) -> None:
    kpis = trend_figures(store_for(recovery), recovery, MODEL)["kpis"]
    assert (kpis["service_recovery_pct"], kpis["service_recovery_n"]) == (50.0, 2)
    this_month = datetime.now(UTC).date()  # cases are opened on the real clock
    figures = monthly_figures(store_for(recovery), recovery, MODEL, this_month)
    assert figures["kpis"]["service_recovery_n"] == 2
    html = render_html(figures)
    assert '<td class="n" id="service-recovery">50.0 (n = 2)</td>' in html
    assert "2 of 3 answered this month" in html


# --- shown on the case view and by `voxwatch cases show` ------------------------------------------

PAGES = Path(dashboard.__file__).parent / "pages"


@pytest.fixture
def clean_caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("VOXWATCH_CONFIG", str(tmp_path / "voxwatch.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_case_view_shows_the_next_mentions_as_plain_text(team: Settings, clean_caches: None) -> None:
    case_id = answered_case(team)
    hostile = "still broken **acme** [click](http://evil.test) <b>now</b>"
    say(team, "negative", REPLIED + timedelta(hours=1), text=hostile)
    route(team)
    at = AppTest.from_file(str(PAGES / "case.py"), default_timeout=60)
    at.session_state[USER_KEY] = "grace"
    at.session_state[SINCE_KEY] = time.time()
    at.query_params["case"] = case_id
    at.run()
    assert not at.exception
    assert "Customer's next mentions" in [s.value for s in at.subheader]
    assert hostile in [t.value for t in at.text]
    assert not any("evil.test" in m.value for m in [*at.markdown, *at.caption])


def test_cases_show_prints_the_next_mentions(team: Settings, tmp_path: Path) -> None:
    case_id = answered_case(team)
    said = say(team, "positive", REPLIED + timedelta(hours=1))
    route(team)
    result = CliRunner().invoke(app, ["cases", "show", case_id, "--config", str(tmp_path / "voxwatch.toml")])
    assert result.exit_code == 0, result.output
    (linked,) = json.loads(result.output)["follow_ups"]
    assert (linked["mention_id"], linked["label"], linked["outcome"]) == (said, "positive", "closed")
