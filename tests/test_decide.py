"""Deciding what becomes a case and who gets it (responders/decide.py), without a store.

``decide`` is pure: given settings, scored candidates and the team's open load, it
triages each mention, routes the ones that need a case to a team and a person, and sets
the SLA. These tests build the candidates by hand and check the routing rules (source,
language, keyword, theme, tier), load balancing within capacity, dismissed invalid
mentions, off-topic posts and the urgent themes the caller passes in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.decide import decide, off_topic_reason, route_case, triage_candidate
from responders.triage import Triage
from voxwatch.domain import CaseStatus, Decision, RoutingCandidate, Score, StoredMention, Tier, Validity
from voxwatch.settings import Settings

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
MODEL = "test-model"

TEAM: list[dict[str, Any]] = [
    {"name": "amy", "display_name": "Amy", "team": "care", "languages": ["en", "zh"], "capacity": 2},
    {"name": "ben", "display_name": "Ben", "team": "care", "languages": ["en"], "capacity": 2},
    {"name": "cy", "display_name": "Cy", "team": "care-zh", "languages": ["zh"], "capacity": 1},
    {
        "name": "sara",
        "display_name": "Sara",
        "team": "escalations",
        "roles": ["responder", "approver"],
        "languages": ["en", "zh"],
        "capacity": 3,
    },
    {"name": "pat", "display_name": "Pat", "team": "reviews", "languages": ["en"], "capacity": 5},
    {"name": "bill", "display_name": "Bill", "team": "billing", "languages": ["en"], "capacity": 5},
    {"name": "maya", "display_name": "Maya", "team": "comms", "roles": ["approver"], "capacity": 9},
]
RULES: list[dict[str, Any]] = [
    {"name": "urgent", "team": "escalations", "tiers": ["urgent"]},
    {"name": "shop reviews", "team": "reviews", "sources": ["shop"]},
    {"name": "chinese", "team": "care-zh", "languages": ["zh"]},
    {"name": "invoices", "team": "billing", "keywords": ["Invoice", "发票"]},
    {"name": "billing theme", "team": "billing", "themes": ["refund_billing"]},
    {"name": "press", "team": "comms", "keywords": ["press release"]},
]
SOURCES: list[dict[str, Any]] = [
    {"name": "blog", "kind": "rss", "url": "https://blog.test/feed"},
    {"name": "shop", "kind": "jsonld", "url": "https://shop.test/p/1"},
    {"name": "hn", "kind": "hackernews", "url": "https://hn.test", "require_brand_keyword": True},
]


def make_settings(**changes: Any) -> Settings:
    fields: dict[str, Any] = {
        "brand": {"name": "Acme", "keywords": ["acme", "艾克米"]},
        "sources": SOURCES,
        "responders": TEAM,
        "routing": {"default_team": "care", "rules": RULES},
        "triage": {"vip_authors": ["@whale"], "high_reach_followers": 50_000},
    }
    return Settings(**(fields | changes))


SETTINGS = make_settings()


def candidate(
    text: str,
    p_negative: float = 0.7,
    *,
    source: str = "blog",
    lang: str | None = "en",
    author: str = "someone",
    themes: tuple[str, ...] = (),
    minutes_ago: int = 30,
    watch: datetime | None = None,
    prior: int = 0,
    duplicate_of: str | None = None,
    mention: str = "m1",
    leaning: str = "neutral",
) -> RoutingCandidate:
    """A scored mention; what is not negative leans ``leaning`` (neutral or positive)."""
    published = NOW - timedelta(minutes=minutes_ago)
    rest = 1 - p_negative
    other = "positive" if leaning == "neutral" else "neutral"
    probs = {"negative": p_negative, leaning: rest * 0.6, other: rest * 0.4}
    label = max(probs, key=lambda k: probs[k])
    stored = StoredMention(mention, source, text, author, lang, published, NOW, duplicate_of=duplicate_of)
    return RoutingCandidate(stored, Score(label, probs, MODEL, themes), prior, watch)


def one(c: RoutingCandidate, urgent_themes: frozenset[str] = frozenset(), **load: int) -> Decision:
    (decision,) = decide(SETTINGS, [c], load, urgent_themes)
    return decision


# --- routing rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "rule", "team", "owner"),
    [
        pytest.param({"text": "The coffee was cold."}, "default", "care", "amy", id="default"),
        pytest.param({"text": "I will sue you."}, "urgent", "escalations", "sara", id="tier"),
        pytest.param(
            {"text": "I will sue you.", "source": "shop"}, "urgent", "escalations", "sara", id="tier-first"
        ),
        pytest.param(
            {"text": "Broke in a week.", "source": "shop"}, "shop reviews", "reviews", "pat", id="source"
        ),
        pytest.param({"text": "咖啡是冷的", "lang": "zh"}, "chinese", "care-zh", "cy", id="language"),
        pytest.param({"text": "My INVOICE is wrong."}, "invoices", "billing", "bill", id="keyword-any-case"),
        pytest.param({"text": "发票开错了", "lang": "en"}, "invoices", "billing", "bill", id="keyword-zh"),
        pytest.param(
            {"text": "Charged twice.", "themes": ("refund_billing",)},
            "billing theme",
            "billing",
            "bill",
            id="theme",
        ),
        pytest.param(
            {"text": "Charged twice.", "themes": ("delivery",)}, "default", "care", "amy", id="other-theme"
        ),
    ],
)
def test_the_first_matching_rule_names_team_and_owner(
    kwargs: dict[str, Any], rule: str, team: str, owner: str
) -> None:
    case = one(candidate(**kwargs)).case
    assert case is not None
    assert (case.rule, case.team, case.owner, case.status) == (rule, team, owner, CaseStatus.ASSIGNED)


def test_an_unknown_language_goes_by_the_rules_as_und() -> None:
    settings = make_settings(
        routing={
            "default_team": "care",
            "rules": [{"name": "unknown", "team": "billing", "languages": ["und"]}],
        }
    )
    (decision,) = decide(settings, [candidate("Cold coffee.", lang=None)], {})
    assert decision.case is not None and (decision.case.rule, decision.case.owner) == ("unknown", "bill")


def test_a_team_with_only_approvers_keeps_the_case_unassigned() -> None:
    case = one(candidate("Your press release was wrong about my order.")).case
    assert case is not None
    assert (case.team, case.owner, case.status) == ("comms", None, CaseStatus.NEW)


def test_language_decides_who_in_the_team_gets_it() -> None:
    # A Chinese post from a rule-less source in team care: only amy reads Chinese.
    settings = make_settings(routing={"default_team": "care", "rules": []})
    (decision,) = decide(settings, [candidate("咖啡是冷的", lang="zh")], {"amy": 1, "ben": 0})
    assert decision.case is not None and decision.case.owner == "amy"


# --- load and capacity --------------------------------------------------------------------------------


def test_a_burst_alternates_between_the_least_loaded_and_stops_at_capacity() -> None:
    burst = [candidate("The app crashed.", mention=f"m{i}") for i in range(5)]
    load = {"amy": 0, "ben": 0}
    decisions = decide(SETTINGS, burst, load)
    assert [d.case.owner for d in decisions if d.case] == ["amy", "ben", "amy", "ben", None]
    assert [d.case.status for d in decisions if d.case][-1] is CaseStatus.NEW
    assert load == {"amy": 0, "ben": 0}  # the caller's load is not changed


def test_existing_load_counts() -> None:
    assert one(candidate("Cold coffee."), amy=1).case.owner == "ben"  # type: ignore[union-attr]
    assert one(candidate("Cold coffee."), amy=2, ben=1).case.owner == "ben"  # type: ignore[union-attr]


def test_load_is_compared_relative_to_capacity() -> None:
    settings = make_settings(
        responders=[
            {"name": "big", "display_name": "Big", "team": "care", "capacity": 10},
            {"name": "small", "display_name": "Small", "team": "care", "capacity": 2},
        ],
        routing={"default_team": "care", "rules": []},
    )
    (decision,) = decide(settings, [candidate("Cold.")], {"big": 4, "small": 1})
    assert decision.case is not None and decision.case.owner == "big"  # 4/10 < 1/2


def test_a_full_team_leaves_the_case_new_in_its_queue() -> None:
    case = one(candidate("Cold coffee."), amy=2, ben=2).case
    assert case is not None
    assert (case.team, case.owner, case.status) == ("care", None, CaseStatus.NEW)


def test_route_case_counts_the_assignment_into_the_load_it_is_given() -> None:
    c = candidate("Cold coffee.")
    result = triage_candidate(SETTINGS, c)
    load: dict[str, int] = {"amy": 1}
    routing = route_case(SETTINGS, result, "m1", "blog", "en", "Cold coffee.", NOW, load)
    assert routing.owner == "ben" and load == {"amy": 1, "ben": 1}
    again = route_case(SETTINGS, result, "m2", "blog", "en", "Cold coffee.", NOW, load)
    assert again.owner == "amy" and load == {"amy": 2, "ben": 1}


# --- what becomes a case -------------------------------------------------------------------------------


def test_an_invalid_mention_is_a_dismissed_case_with_its_reason_and_takes_no_capacity() -> None:
    spam = candidate("Click here for cheap followers", 0.1, mention="spam")
    complaint = candidate("Cold coffee.", mention="real")
    first, second = decide(SETTINGS, [spam, complaint], {"amy": 1})
    assert first.case is not None
    assert (first.case.status, first.case.owner, first.case.rule, first.case.team) == (
        CaseStatus.DISMISSED,
        None,
        "triage: invalid",
        "care",
    )
    assert first.case.validity is Validity.INVALID
    assert first.case.validity_reason == "spam: promotion or link bait"
    assert second.case is not None and second.case.owner == "ben"  # amy 1, ben 0: the spam took nothing


def test_invalid_mentions_are_dismissed_even_when_they_would_match_a_rule() -> None:
    case = one(candidate("Click here to sue, invoice inside", 0.9)).case
    assert case is not None and case.status is CaseStatus.DISMISSED and case.team == "care"


@pytest.mark.parametrize(
    ("text", "leaning", "validity"),
    [
        ("Lovely staff, thank you.", "positive", Validity.PRAISE),
        ("Walked past the shop today.", "neutral", Validity.NEUTRAL),
    ],
)
def test_praise_and_neutral_posts_are_triaged_but_open_no_case(
    text: str, leaning: str, validity: Validity
) -> None:
    decision = one(candidate(text, 0.05, leaning=leaning))
    assert decision.case is None
    assert decision.triage.validity is validity


def test_a_question_opens_a_normal_case() -> None:
    case = one(candidate("Do you sell decaf pods?", 0.1)).case
    assert case is not None
    assert (case.validity, case.tier, case.owner) == (Validity.QUESTION, Tier.NORMAL, "amy")


def test_a_duplicate_is_linked_and_opens_no_case() -> None:
    decision = one(candidate("Cold coffee!", duplicate_of="m0"))
    assert decision.case is None
    assert decision.triage.validity is Validity.DUPLICATE
    assert decision.triage.reason == "repost of mention m0: linked, no new case"


def test_the_triage_record_names_mention_model_and_reasons() -> None:
    c = candidate("Third time my order is wrong.", mention="abc")
    decision = one(c)
    assert decision.candidate is c
    assert (decision.triage.mention_id, decision.triage.model_id) == ("abc", MODEL)
    assert decision.triage.reasons == ["repeat complaint (in text)"]
    assert decision.case is not None and decision.case.reasons == decision.triage.reasons
    assert decision.case.mention_id == "abc"


def test_decisions_keep_the_candidates_order() -> None:
    batch = [candidate(f"Cold coffee number {i}.", mention=f"m{i}") for i in range(6)]
    assert [d.triage.mention_id for d in decide(SETTINGS, batch, {})] == [f"m{i}" for i in range(6)]


def test_settings_knobs_reach_triage() -> None:
    assert one(candidate("Cold coffee.", author="@whale")).case.tier is Tier.URGENT  # type: ignore[union-attr]
    repeat = one(candidate("Cold coffee.", prior=3)).case
    assert repeat is not None and repeat.tier is Tier.URGENT and repeat.team == "escalations"
    stricter = make_settings(routing={"default_team": "care", "rules": RULES, "negative_threshold": 0.8})
    (decision,) = decide(stricter, [candidate("Cold coffee.", 0.7)], {})
    assert decision.case is None and decision.triage.validity is Validity.NEUTRAL


# --- urgent themes --------------------------------------------------------------------------------------


def test_urgent_themes_passed_in_make_a_complaint_urgent() -> None:
    c = candidate("Something sharp in my muffin.", themes=("safety",))
    plain = one(c).case
    raised = one(c, frozenset({"safety"})).case
    assert plain is not None and raised is not None
    assert (plain.tier, plain.team) == (Tier.NORMAL, "care")
    assert (raised.tier, raised.team, raised.owner) == (Tier.URGENT, "escalations", "sara")
    assert raised.reasons == ["theme: safety"]
    start = NOW - timedelta(minutes=30)
    assert raised.first_response_due == start + timedelta(hours=2)
    assert plain.first_response_due == start + timedelta(hours=24)


def test_urgent_themes_do_not_raise_a_question() -> None:
    case = one(candidate("Is there nut in the muffin?", 0.1, themes=("safety",)), frozenset({"safety"})).case
    assert case is not None and case.tier is Tier.NORMAL


# --- SLA ------------------------------------------------------------------------------------------------


def test_due_times_start_at_publication() -> None:
    case = one(candidate("Cold coffee.", minutes_ago=90)).case
    assert case is not None
    assert case.first_response_due == NOW - timedelta(minutes=90) + timedelta(hours=24)
    assert case.resolution_due == NOW - timedelta(minutes=90) + timedelta(hours=48)


def test_a_backfilled_post_starts_its_clock_when_watching_began() -> None:
    case = one(candidate("Cold coffee.", minutes_ago=60 * 24 * 30, watch=NOW)).case
    assert case is not None
    assert case.first_response_due == NOW + timedelta(hours=24)


def test_business_hours_from_settings_are_used() -> None:
    settings = make_settings(sla={"business_hours": {"timezone": "UTC", "start": "09:00", "end": "18:00"}})
    saturday_noon = candidate("I will sue.", minutes_ago=45 * 60)  # 21 Nov 2026, 12:00 UTC
    assert saturday_noon.mention.published_at == datetime(2026, 11, 21, 12, tzinfo=UTC)
    (decision,) = decide(settings, [saturday_noon], {})
    assert decision.case is not None
    assert decision.case.first_response_due == datetime(2026, 11, 23, 11, tzinfo=UTC)  # Monday 09:00 + 2 h


def test_a_dismissed_case_still_carries_due_times() -> None:
    case = one(candidate("cheap followers here", 0.1, minutes_ago=0)).case
    assert case is not None and case.first_response_due == NOW + timedelta(hours=24)


# --- off-topic ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "text", "reason"),
    [
        ("hn", "Spend on the grinder first.", "off-topic: does not mention Acme (acme, 艾克米)"),
        ("hn", "ACME's grinder broke.", None),
        ("hn", "艾克米的咖啡太贵了", None),
        ("hn", "acmeless? no: acmecorp counts too", None),  # a substring match, by design
        ("blog", "Spend on the grinder first.", None),  # our own feed: always about us
        ("nowhere", "Spend on the grinder first.", None),
    ],
)
def test_off_topic_reason(source: str, text: str, reason: str | None) -> None:
    assert off_topic_reason(SETTINGS, source, text) == reason


def test_without_brand_keywords_nothing_is_off_topic() -> None:
    settings = make_settings(brand={"name": "Acme", "keywords": []})
    assert off_topic_reason(settings, "hn", "Spend on the grinder first.") is None


def test_an_off_topic_post_is_dismissed_with_the_reason() -> None:
    decision = one(candidate("My grinder is terrible, never again.", 0.95, source="hn"))
    assert decision.case is not None
    assert decision.case.status is CaseStatus.DISMISSED
    assert decision.triage.reason == "off-topic: does not mention Acme (acme, 艾克米)"
    on_topic = one(candidate("My Acme grinder is terrible.", 0.95, source="hn")).case
    assert on_topic is not None and on_topic.status is CaseStatus.ASSIGNED


# --- property: a batch of any size and mix -------------------------------------------------------------

TEXTS = [
    "Cold coffee.",
    "I will sue you.",
    "Click here for cheap followers",
    "Do you sell decaf?",
    "My invoice is wrong.",
    "咖啡是冷的",
    "Lovely staff.",
    "Third time the app crashed.",
    "press release about acme",
]
PEOPLE = {p["name"]: p for p in TEAM}


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[RoutingCandidate], dict[str, int]]:
    size = draw(st.integers(0, 25))
    items = [
        candidate(
            draw(st.sampled_from(TEXTS)),
            draw(st.floats(0, 1)),
            source=draw(st.sampled_from(["blog", "shop", "hn"])),
            lang=draw(st.sampled_from(["en", "zh", None])),
            themes=draw(st.sampled_from([(), ("safety",), ("refund_billing",)])),
            mention=f"m{i}",
            leaning=draw(st.sampled_from(["neutral", "positive"])),
        )
        for i in range(size)
    ]
    load = {name: draw(st.integers(0, p["capacity"])) for name, p in PEOPLE.items()}
    return items, load


@given(batch=batches(), urgent=st.frozensets(st.sampled_from(["safety"])))
@settings(max_examples=150, deadline=None)
def test_any_batch_respects_capacity_language_and_team(
    batch: tuple[list[RoutingCandidate], dict[str, int]], urgent: frozenset[str]
) -> None:
    candidates, load = batch
    decisions = decide(SETTINGS, candidates, load, urgent)
    assert [d.candidate for d in decisions] == candidates
    given_out: dict[str, int] = {}
    for d in decisions:
        triage = Triage(d.triage.validity, d.triage.reason, d.triage.tier, d.triage.reasons)
        assert (d.case is not None) is triage.needs_case
        if d.case is None:
            continue
        assert (d.case.status is CaseStatus.DISMISSED) is (d.case.validity is Validity.INVALID)
        assert (d.case.owner is not None) is (d.case.status is CaseStatus.ASSIGNED)
        if d.case.owner:
            person = PEOPLE[d.case.owner]
            assert person["team"] == d.case.team
            assert "approver" not in person.get("roles", []) or "responder" in person["roles"]
            lang = d.candidate.mention.lang
            assert lang is None or lang in person.get("languages", ["en"])
            given_out[d.case.owner] = given_out.get(d.case.owner, 0) + 1
    for name, count in given_out.items():
        assert load[name] + count <= PEOPLE[name]["capacity"]
