"""Triage and routing rules on realistic English and Chinese texts."""

from __future__ import annotations

from datetime import UTC, datetime

from responders.decide import decide
from responders.routing import RouteInput, choose_owner, choose_team
from responders.triage import TriageInput, triage
from voxwatch.domain import CaseStatus, RoutingCandidate, Score, StoredMention, Tier, Validity
from voxwatch.settings import ResponderSettings, RoutingRule, RoutingSettings, Settings, TriageSettings

TRIAGE = TriageSettings(vip_authors=["@bigspender"], high_reach_followers=50_000)


def judge(text: str, p_negative: float = 0.7, label: str = "negative", **extra: object):
    return triage(TriageInput(text=text, p_negative=p_negative, label=label, **extra), TRIAGE)  # type: ignore[arg-type]


def test_threat_to_go_public_in_chinese_is_urgent() -> None:
    result = judge("这已经是第三次投诉了，再不解决我就发到网上曝光。")
    assert result.tier is Tier.URGENT
    assert {"threat to go public", "repeat complaint (in text)"} <= set(result.reasons)


def test_third_time_english_complainer_going_to_the_press() -> None:
    result = judge(
        "This is the third time I report this. If nobody fixes it today I'll post this everywhere "
        "and go to the press.",
        prior_negatives=2,
    )
    assert result.tier is Tier.URGENT
    assert {
        "threat to go public",
        "repeat complaint (in text)",
        "repeat complainer: 2 earlier negative mention(s)",
    } <= set(result.reasons)


def test_spam_and_trolls_are_invalid_with_their_reason_not_dropped() -> None:
    spam = judge("Click here for cheap gift cards, DM me for promo code", 0.1, "positive")
    assert spam.validity is Validity.INVALID and spam.validity_reason.startswith("spam")
    assert spam.needs_case  # kept, as a dismissed case
    troll = judge("lol imagine drinking this brand's coffee, ratio + L + cope", 0.8)
    assert troll.validity is Validity.INVALID and troll.validity_reason.startswith("troll")


def test_plain_negative_stays_normal_tier() -> None:
    result = judge("The coffee was a bit cold today.", 0.6)
    assert (result.validity, result.tier, result.reasons) == (Validity.COMPLAINT, Tier.NORMAL, [])


def test_questions_praise_and_neutral_posts() -> None:
    assert judge("Does Larkspur sell decaf pods?", 0.2, "neutral").validity is Validity.QUESTION
    assert judge("拉克斯珀几点开门？", 0.2, "neutral").validity is Validity.QUESTION
    assert judge("Lovely coffee, thank you!", 0.02, "positive").validity is Validity.PRAISE
    neutral = judge("Walked past the new shop today.", 0.1, "neutral")
    assert neutral.validity is Validity.NEUTRAL and not neutral.needs_case


def test_repeat_author_vip_and_reach_raise_priority() -> None:
    assert judge("Delivery late.", 0.6, prior_negatives=2).reasons == [
        "repeat complainer: 2 earlier negative mention(s)"
    ]
    vip = judge("Delivery late.", 0.6, author="@bigspender")
    assert vip.tier is Tier.URGENT and vip.reasons == ["VIP / high-value customer"]
    loud = judge("Delivery late.", 0.6, author_reach=120_000)
    assert loud.tier is Tier.URGENT and loud.reasons == ["high reach author (120,000 followers)"]


def test_legal_and_safety_words_in_both_languages() -> None:
    assert "legal or safety words" in judge("There was glass in my croissant, I'm calling a lawyer").reasons
    assert "legal or safety words" in judge("喝了你们的咖啡食物中毒住院了").reasons


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
    cases = [d.case for d in decide(settings, burst, {})]
    owners = [c.owner for c in cases if c]
    assert owners.count("amy") == 2 and owners.count("bo") == 2 and owners.count(None) == 1
    assert [c.status for c in cases if c].count(CaseStatus.NEW) == 1


def test_sla_defaults_follow_the_domain_practice() -> None:
    from responders.sla import first_response_due, resolution_due
    from voxwatch.settings import SlaSettings

    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert first_response_due(SlaSettings(), Tier.URGENT, start) == datetime(2026, 11, 23, 11, tzinfo=UTC)
    assert first_response_due(SlaSettings(), Tier.NORMAL, start) == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert resolution_due(SlaSettings(), start) == datetime(2026, 11, 25, 9, tzinfo=UTC)


def test_sla_clock_stops_outside_business_hours_and_on_holidays() -> None:
    from datetime import date, time

    from responders.sla import first_response_due
    from voxwatch.settings import BusinessHours, SlaSettings

    shanghai = BusinessHours(
        timezone="Asia/Shanghai", start=time(9), end=time(18), holidays=[date(2026, 11, 30)]
    )
    sla = SlaSettings(business_hours=shanghai)
    # Friday 17:30 Shanghai (09:30 UTC): 30 min left on Friday, 90 min on Monday... but Monday
    # 30 Nov is a holiday, so the urgent case is due Tuesday 10:30 Shanghai (02:30 UTC).
    friday_evening = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert first_response_due(sla, Tier.URGENT, friday_evening) == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    # Saturday: the clock starts Tuesday 09:00 (Monday is the holiday).
    saturday = datetime(2026, 11, 28, 4, tzinfo=UTC)
    assert first_response_due(sla, Tier.URGENT, saturday) == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_escalation_phrases_make_a_complaint_even_when_the_model_is_unsure() -> None:
    result = judge("Third time I report this. I will go to the press.", p_negative=0.3, label="neutral")
    assert result.validity is Validity.COMPLAINT and result.tier is Tier.URGENT
    assert result.validity_reason.startswith("complaint signal: threat to go public")


def test_only_responders_on_shift_are_routed_to() -> None:
    from datetime import time

    from voxwatch.settings import BusinessHours

    night = BusinessHours(timezone="UTC", start=time(0), end=time(8), weekdays=list(range(7)))
    team = [
        ResponderSettings(name="day", display_name="Day", team="care", shift=BusinessHours(timezone="UTC")),
        ResponderSettings(name="owl", display_name="Owl", team="care", shift=night),
        ResponderSettings(name="lead", display_name="Lead", team="care", roles=["approver"]),
    ]
    tuesday_3am = datetime(2026, 11, 24, 3, tzinfo=UTC)
    tuesday_10am = datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert choose_owner(team, "care", "en", {}, now=tuesday_3am) == "owl"
    assert choose_owner(team, "care", "en", {}, now=tuesday_10am) == "day"


def test_rules_can_route_by_theme_and_urgent_themes_raise_priority() -> None:
    routing = RoutingSettings(
        default_team="care", rules=[RoutingRule(name="billing", team="billing", themes=["refund_billing"])]
    )
    billing = RouteInput("shop", "en", "charged twice", Tier.NORMAL, ("refund_billing",))
    assert choose_team(routing, billing) == ("billing", "billing")
    assert choose_team(routing, RouteInput("shop", "en", "late", Tier.NORMAL, ("delivery",))) == (
        "default",
        "care",
    )
    result = judge(
        "There was something sharp in my muffin", 0.7, themes=("safety",), urgent_themes=frozenset({"safety"})
    )
    assert result.tier is Tier.URGENT and "theme: safety" in result.reasons


def test_off_topic_posts_on_brand_searches_are_invalid_with_the_reason() -> None:
    from responders.decide import off_topic_reason

    settings = Settings(
        brand={"name": "Larkspur Coffee", "keywords": ["larkspur", "拉克斯珀"]},
        sources=[
            {"name": "hn", "kind": "hackernews", "url": "https://hn.test", "require_brand_keyword": True},
            {"name": "shop", "kind": "jsonld", "url": "https://shop.test"},
        ],
        responders=[r.model_dump() for r in TEAM],
        routing=ROUTING.model_dump(),
    )
    reason = off_topic_reason(settings, "hn", "Spend on the grinder first.")
    assert reason == "off-topic: does not mention Larkspur Coffee (larkspur, 拉克斯珀)"
    assert off_topic_reason(settings, "hn", "拉克斯珀的咖啡不错") is None
    assert off_topic_reason(settings, "shop", "Broke in a week") is None  # reviews on our own page
    assert judge("Spend on the grinder first.", off_topic=reason).validity is Validity.INVALID
