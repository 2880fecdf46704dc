"""Triage and routing rules on realistic English and Chinese texts."""

from __future__ import annotations

from datetime import UTC, datetime

from responders.decide import decide
from responders.routing import RouteInput, choose_owner, choose_team
from responders.triage import triage
from voxwatch.domain import CaseStatus, Score, StoredMention, Tier, Validity
from voxwatch.settings import ResponderSettings, RoutingRule, RoutingSettings, Settings
from voxwatch.store.queries import RoutingCandidate


def test_threat_to_go_public_in_chinese_is_urgent() -> None:
    result = triage("这已经是第三次投诉了，再不解决我就发到网上曝光。", 0.7, 0)
    assert result.tier is Tier.URGENT
    assert {"threat to go public", "repeat complaint (in text)"} <= set(result.reasons)


def test_spam_is_invalid_with_its_reason_not_dropped() -> None:
    result = triage("Click here for cheap gift cards, DM me for promo code", 0.9, 0)
    assert result.validity is Validity.INVALID
    assert result.validity_reason.startswith("spam")


def test_plain_negative_stays_normal_tier() -> None:
    result = triage("The coffee was a bit cold today.", 0.6, 0)
    assert (result.validity, result.tier, result.reasons) == (Validity.COMPLAINT, Tier.NORMAL, [])


def test_repeat_author_raises_priority() -> None:
    result = triage("Delivery late.", 0.6, prior_negatives=2)
    assert result.tier is Tier.URGENT
    assert result.reasons == ["repeat complainer: 2 earlier negative mention(s)"]


ROUTING = RoutingSettings(
    default_team="care",
    rules=[
        RoutingRule(name="legal", team="escalations", keywords=["lawyer", "律师"]),
        RoutingRule(name="zh", team="care-zh", languages=["zh"]),
    ],
)
TEAM = [
    ResponderSettings(name="amy", display_name="Amy", team="care", languages=["en"], capacity=2),
    ResponderSettings(name="bo", display_name="Bo", team="care", languages=["en", "zh"], capacity=2),
    ResponderSettings(name="cy", display_name="Cy", team="care-zh", languages=["zh"], capacity=1),
    ResponderSettings(name="sara", display_name="Sara", team="escalations", languages=["en", "zh"]),
]


def test_first_matching_rule_wins_and_is_named() -> None:
    assert choose_team(ROUTING, RouteInput("x", "zh", "我要找律师", Tier.URGENT)) == ("legal", "escalations")
    assert choose_team(ROUTING, RouteInput("x", "zh", "太慢了", Tier.NORMAL)) == ("zh", "care-zh")
    assert choose_team(ROUTING, RouteInput("x", "en", "slow", Tier.NORMAL)) == ("default", "care")


def test_least_loaded_speaker_with_room_gets_the_case() -> None:
    assert choose_owner(TEAM, "care", "en", {"amy": 1, "bo": 0}) == "bo"
    assert choose_owner(TEAM, "care", "zh", {"bo": 1}) == "bo"  # amy does not read Chinese
    assert choose_owner(TEAM, "care", "zh", {"bo": 2}) is None  # bo is at capacity
    assert choose_owner(TEAM, "care-zh", "zh", {"cy": 1}) is None


def test_decide_balances_a_burst_across_the_team() -> None:
    settings = Settings(
        brand={"name": "Acme"}, responders=[r.model_dump() for r in TEAM], routing=ROUTING.model_dump()
    )
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    burst = [
        RoutingCandidate(
            StoredMention(f"m{i}", "blog", "The app crashed again.", f"user{i}", "en", now, now),
            Score("negative", {"negative": 0.7, "neutral": 0.2, "positive": 0.1}, "m"),
            0,
        )
        for i in range(5)
    ]
    owners = [r.owner for r in decide(settings, burst, {})]
    assert owners.count("amy") == 2 and owners.count("bo") == 2 and owners.count(None) == 1
    statuses = [r.status for r in decide(settings, burst, {})]
    assert statuses.count(CaseStatus.NEW) == 1
