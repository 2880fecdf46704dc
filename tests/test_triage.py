"""Triage (responders/triage.py) over every phrase in responders/signals.py, and its edges.

Each pattern of every signal has at least one example phrase below (a test checks that
the table keeps up with the signal lists), in English and in Chinese where the list has
both. Then the knobs that are not phrases: VIP authors, reach, prior negatives, the
thresholds, duplicates and off-topic posts. A property checks that no text at all can
make triage raise or come back without a reason.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.signals import INVALID_SIGNALS, PRIORITY_SIGNALS, QUESTION_PATTERNS
from responders.triage import TriageInput, is_question, matched, triage
from voxwatch.domain import LABELS, Tier, Validity
from voxwatch.settings import TriageSettings

KNOBS = TriageSettings(
    strong_negative=0.85, vip_authors=["@bigspender", "vip_ann"], high_reach_followers=10_000
)


def judge(text: str, p_negative: float = 0.7, label: str = "negative", **extra: object):
    return triage(TriageInput(text=text, p_negative=p_negative, label=label, **extra), KNOBS)  # type: ignore[arg-type]


# --- example phrases: (signal, phrase) -------------------------------------------------------------------

PRIORITY_EXAMPLES: list[tuple[str, str]] = [
    ("threat to go public", "Fix this or I will post this everywhere."),
    ("threat to go public", "I'm telling everyone I know about this shop."),
    ("threat to go public", "Next step: I'm going to the press with these photos."),
    ("threat to go public", "We went to the media with the receipts."),
    ("threat to go public", "A journalist friend would love this story."),
    ("threat to go public", "Writing to the consumer council today."),
    ("threat to go public", "This thread is going viral and you still say nothing."),
    ("threat to go public", "再不处理我就曝光你们"),
    ("threat to go public", "我要找媒体"),
    ("threat to go public", "我会把照片发到网上"),
    ("threat to go public", "一定要让大家都知道这家店"),
    ("threat to go public", "已经联系了记者"),
    ("threat to go public", "我现在就去发微博"),
    ("demands a manager", "I want to speak to a manager right now."),
    ("demands a manager", "Let me talk to your supervisor about the cold food."),
    ("demands a manager", "Writing to head office about this."),
    ("demands a manager", "Your CEO should read this."),
    ("demands a manager", "我要找你们经理"),
    ("demands a manager", "叫你们领导出来"),
    ("demands a manager", "叫主管来"),
    ("demands a manager", "你们领导在哪里"),
    ("repeat complaint (in text)", "This is the third time my order was wrong."),
    ("repeat complaint (in text)", "Happened for the 2nd time this week."),
    ("repeat complaint (in text)", "Broken yet again, unbelievable."),
    ("repeat complaint (in text)", "The bug is still not fixed."),
    ("repeat complaint (in text)", "These crashes keep happening."),
    ("repeat complaint (in text)", "这是第三次送错了"),
    ("repeat complaint (in text)", "又一次迟到"),
    ("repeat complaint (in text)", "问题还是没有解决"),
    ("repeat complaint (in text)", "还是没处理"),
    ("repeat complaint (in text)", "我再次投诉"),
    ("legal or safety words", "My lawyer will hear about this."),
    ("legal or safety words", "I will sue you for this."),
    ("legal or safety words", "Got food poisoning from the chicken wrap."),
    ("legal or safety words", "My son had an allergic reaction to the muffin."),
    ("legal or safety words", "The lid came off and I got burned."),
    ("legal or safety words", "Found glass in my salad."),
    ("legal or safety words", "我要找律师"),
    ("legal or safety words", "准备起诉你们"),
    ("legal or safety words", "法院见"),
    ("legal or safety words", "吃完食物中毒了"),
    ("legal or safety words", "孩子吃了以后过敏"),
    ("legal or safety words", "杯子炸了手受伤了"),
    ("legal or safety words", "咖啡洒了被烫伤"),
    ("legal or safety words", "吃坏肚子住院了"),
    ("legal or safety words", "我去消协投诉"),
    ("legal or safety words", "已经打了12315"),
]

INVALID_EXAMPLES: list[tuple[str, str]] = [
    ("spam: promotion or link bait", "Buy followers fast, 1000 for a dollar"),
    ("spam: promotion or link bait", "Free crypto giveaway for everyone"),
    ("spam: promotion or link bait", "Click here for the deal of the year"),
    ("spam: promotion or link bait", "DM me for wholesale prices"),
    ("spam: promotion or link bait", "Earn $500 a day from home"),
    ("spam: promotion or link bait", "Use promo code SAVE50"),
    ("spam: promotion or link bait", "有需要的加我微信"),
    ("spam: promotion or link bait", "专业代购，正品保证"),
    ("spam: promotion or link bait", "刷单兼职"),
    ("spam: promotion or link bait", "兼职日结，轻松月入过万"),
    ("troll: mockery with no complaint to act on", "ratio + cope + L"),
    ("troll: mockery with no complaint to act on", "imagine buying their coffee lol"),
    ("troll: mockery with no complaint to act on", "lol imagine using this app"),
    ("troll: mockery with no complaint to act on", "傻逼才买"),
    ("troll: mockery with no complaint to act on", "脑残粉别来"),
    ("troll: mockery with no complaint to act on", "全是水军好评"),
    ("competitor bait", "Honestly just switch to Brewco today."),
    ("competitor bait", "Try our app instead, it works."),
]

QUESTION_EXAMPLES: list[str] = [
    "Your shop opens at 8 on Sundays?",
    "周末营业到几点？",
    "Does the oat latte contain nuts",
    "  how long does delivery take",
    "Can I change my order",
    "你们周末营业吗",
    "这个月卡怎么用",
    "可不可以换成燕麦奶",
    "为什么订单一直显示处理中",
]


def _covers(patterns: tuple[str, ...], phrases: list[str]) -> list[str]:
    """The patterns that no phrase matches."""
    return [p for p in patterns if not any(re.search(p, phrase, re.IGNORECASE) for phrase in phrases)]


def test_every_signal_pattern_has_an_example_phrase() -> None:
    for name, patterns in PRIORITY_SIGNALS.items():
        assert _covers(patterns, [text for n, text in PRIORITY_EXAMPLES if n == name]) == [], name
    for name, patterns in INVALID_SIGNALS.items():
        assert _covers(patterns, [text for n, text in INVALID_EXAMPLES if n == name]) == [], name
    assert _covers(QUESTION_PATTERNS, QUESTION_EXAMPLES) == []


@pytest.mark.parametrize(("signal", "text"), PRIORITY_EXAMPLES)
def test_a_priority_phrase_makes_a_complaint_urgent_and_is_named(signal: str, text: str) -> None:
    result = judge(text, 0.7)
    assert (result.validity, result.tier) == (Validity.COMPLAINT, Tier.URGENT)
    assert result.validity_reason == "negative sentiment (p=0.70)"
    assert signal in result.reasons


@pytest.mark.parametrize(("signal", "text"), PRIORITY_EXAMPLES)
def test_a_priority_phrase_is_a_complaint_even_when_the_model_calls_it_neutral(
    signal: str, text: str
) -> None:
    result = judge(text, 0.2, "neutral")
    assert (result.validity, result.tier) == (Validity.COMPLAINT, Tier.URGENT)
    assert result.validity_reason.startswith("complaint signal: ")
    assert result.validity_reason.endswith("(model p_negative=0.20)")
    assert signal in result.reasons


@pytest.mark.parametrize(("signal", "text"), INVALID_EXAMPLES)
def test_an_invalid_phrase_is_kept_as_invalid_with_its_reason(signal: str, text: str) -> None:
    for p_negative, label in ((0.1, "positive"), (0.95, "negative")):
        result = judge(text, p_negative, label)
        assert (result.validity, result.validity_reason) == (Validity.INVALID, signal)
        assert result.tier is Tier.NORMAL and result.reasons == [signal]
        assert result.needs_case  # kept, to be dismissed with its reason


@pytest.mark.parametrize("text", QUESTION_EXAMPLES)
def test_a_question_that_is_not_negative_gets_an_answer(text: str) -> None:
    result = judge(text, 0.2, "neutral")
    assert (result.validity, result.validity_reason) == (Validity.QUESTION, "asks a question")
    assert result.tier is Tier.NORMAL and result.reasons == [] and result.needs_case
    assert is_question(text)


def test_priority_words_win_over_the_models_praise() -> None:
    # A priority word counts even in a post the model finds positive: a person looks at it.
    result = judge("The manager's special was nice today.", 0.05, "positive")
    assert result.validity is Validity.COMPLAINT and result.reasons == ["demands a manager"]


@pytest.mark.parametrize(
    "text",
    [
        "Walked past the shop, nice windows.",
        "Someone asked me about it yesterday.",  # 'asked' is not a question
        "I wonder what they put in the beans.",  # question words count only at the start
    ],
)
def test_plain_statements_are_not_questions(text: str) -> None:
    assert not is_question(text)
    result = judge(text, 0.1, "neutral")
    assert (result.validity, result.validity_reason) == (
        Validity.NEUTRAL,
        "neutral, no question: nothing to answer",
    )
    assert not result.needs_case


def test_question_words_count_only_at_the_start() -> None:
    assert is_question("What time do you open")
    assert not is_question("I know what time you open")
    assert is_question("你们周末营业吗。")
    assert not is_question("吗啡")  # 吗 only counts at the end


def test_several_signals_are_all_listed_in_signal_order() -> None:
    text = "Third time now. I want to speak to a manager, or my lawyer and I go to the press."
    assert judge(text).reasons == [
        "threat to go public",
        "demands a manager",
        "repeat complaint (in text)",
        "legal or safety words",
    ]
    assert matched(PRIORITY_SIGNALS, text) == judge(text).reasons


def test_invalid_wins_over_priority_phrases_and_strong_negativity() -> None:
    result = judge("Click here to sue them, lawyer promo code inside", 0.99, author="@bigspender")
    assert result.validity is Validity.INVALID and result.tier is Tier.NORMAL
    assert result.reasons == ["spam: promotion or link bait"]


def test_the_first_invalid_signal_in_list_order_is_the_reason() -> None:
    result = judge("lol imagine buying this, click here instead")
    assert result.validity_reason == "spam: promotion or link bait"


# --- knobs that are not phrases -------------------------------------------------------------------------


@pytest.mark.parametrize("author", ["@bigspender", "vip_ann"])
def test_a_vip_complaint_is_urgent(author: str) -> None:
    result = judge("Delivery late.", 0.6, author=author)
    assert result.tier is Tier.URGENT and result.reasons == ["VIP / high-value customer"]


def test_vip_handles_match_exactly() -> None:
    assert judge("Delivery late.", 0.6, author="@BigSpender").tier is Tier.NORMAL
    assert judge("Delivery late.", 0.6, author="bigspender").tier is Tier.NORMAL


def test_a_vip_question_is_urgent_too() -> None:
    result = judge("Is the shop open on Sunday?", 0.1, "neutral", author="vip_ann")
    assert (result.validity, result.tier, result.reasons) == (
        Validity.QUESTION,
        Tier.URGENT,
        ["VIP / high-value customer"],
    )


@pytest.mark.parametrize(
    ("reach", "urgent"),
    [(None, False), (0, False), (9_999, False), (10_000, True), (1_250_000, True)],
)
def test_reach_at_the_threshold_is_high(reach: int | None, urgent: bool) -> None:
    result = judge("Delivery late.", 0.6, author_reach=reach)
    assert (result.tier is Tier.URGENT) is urgent
    if urgent:
        assert result.reasons == [f"high reach author ({reach:,} followers)"]
    else:
        assert result.reasons == []


def test_reach_formats_with_thousands_separators() -> None:
    assert judge("late", 0.6, author_reach=1_250_000).reasons == ["high reach author (1,250,000 followers)"]


@pytest.mark.parametrize("prior", [1, 2, 17])
def test_prior_negatives_make_a_repeat_complainer(prior: int) -> None:
    result = judge("Cold coffee.", 0.6, prior_negatives=prior)
    assert result.tier is Tier.URGENT
    assert result.reasons == [f"repeat complainer: {prior} earlier negative mention(s)"]


def test_prior_negatives_do_not_raise_a_question_or_praise() -> None:
    question = judge("When do you open?", 0.1, "neutral", prior_negatives=4)
    praise = judge("Lovely staff.", 0.02, "positive", prior_negatives=4)
    assert (question.validity, question.tier, question.reasons) == (Validity.QUESTION, Tier.NORMAL, [])
    assert (praise.validity, praise.tier, praise.reasons) == (Validity.PRAISE, Tier.NORMAL, [])


@pytest.mark.parametrize(
    ("p_negative", "threshold", "validity"),
    [
        (0.50, 0.50, Validity.COMPLAINT),  # at the threshold: a complaint
        (0.4999, 0.50, Validity.NEUTRAL),
        (0.61, 0.60, Validity.COMPLAINT),
        (0.59, 0.60, Validity.NEUTRAL),
        (0.30, 0.30, Validity.COMPLAINT),
    ],
)
def test_the_negative_threshold_is_inclusive(p_negative: float, threshold: float, validity: Validity) -> None:
    result = judge("The coffee was cold.", p_negative, "neutral", negative_threshold=threshold)
    assert result.validity is validity


@pytest.mark.parametrize(
    ("p_negative", "strong"),
    [(0.84, False), (0.85, True), (0.99, True)],
)
def test_strong_negativity_is_noted_but_keeps_the_normal_tier(p_negative: float, strong: bool) -> None:
    result = judge("The coffee was cold.", p_negative)
    assert result.tier is Tier.NORMAL
    assert result.reasons == ([f"strongly negative (p={p_negative:.2f})"] if strong else [])


def test_strong_negativity_comes_after_the_escalation_reasons() -> None:
    result = judge("Third time the coffee was cold.", 0.9, author="vip_ann")
    assert result.reasons == [
        "repeat complaint (in text)",
        "VIP / high-value customer",
        "strongly negative (p=0.90)",
    ]
    assert result.tier is Tier.URGENT


def test_urgent_themes_only_raise_complaints() -> None:
    kw = {"themes": ("safety", "delivery"), "urgent_themes": frozenset({"safety"})}
    complaint = judge("Something sharp in the muffin.", 0.7, **kw)
    assert complaint.tier is Tier.URGENT and complaint.reasons == ["theme: safety"]
    question = judge("Is there something sharp in the muffin?", 0.1, "neutral", **kw)
    assert question.tier is Tier.NORMAL and question.reasons == []
    not_urgent = judge("Late again today.", 0.7, themes=("delivery",), urgent_themes=frozenset({"safety"}))
    assert not_urgent.tier is Tier.NORMAL and not_urgent.reasons == []


def test_a_duplicate_is_linked_not_a_new_case_whatever_it_says() -> None:
    result = judge("Click here! Third time, I'll sue.", 0.99, duplicate_of="m-41")
    assert result.validity is Validity.DUPLICATE
    assert result.validity_reason == "repost of mention m-41: linked, no new case"
    assert result.reasons == [] and result.tier is Tier.NORMAL and not result.needs_case


def test_a_duplicate_from_a_vip_keeps_the_vip_reason() -> None:
    result = judge("Late again.", 0.8, duplicate_of="m-1", author="vip_ann")
    assert result.validity is Validity.DUPLICATE and result.reasons == ["VIP / high-value customer"]


def test_off_topic_is_invalid_with_the_given_reason_even_when_negative() -> None:
    reason = "off-topic: does not mention Acme (acme)"
    result = judge("My grinder is terrible, lawyer time.", 0.95, off_topic=reason)
    assert (result.validity, result.validity_reason, result.reasons) == (Validity.INVALID, reason, [reason])
    assert result.tier is Tier.NORMAL


def test_a_spam_signal_beats_the_off_topic_reason() -> None:
    result = judge("cheap followers here", 0.1, "neutral", off_topic="off-topic: does not mention Acme")
    assert result.validity_reason == "spam: promotion or link bait"


@pytest.mark.parametrize(
    ("p_negative", "label", "validity", "needs_case"),
    [
        (0.02, "positive", Validity.PRAISE, False),
        (0.2, "neutral", Validity.NEUTRAL, False),
        (0.45, "negative", Validity.NEUTRAL, False),  # the model's label alone does not make a complaint
        (0.7, "negative", Validity.COMPLAINT, True),
    ],
)
def test_validity_from_the_model_alone(
    p_negative: float, label: str, validity: Validity, needs_case: bool
) -> None:
    result = judge("Visited the shop on Main Street.", p_negative, label)
    assert result.validity is validity and result.needs_case is needs_case


# --- properties ---------------------------------------------------------------------------------------

inputs = st.builds(
    TriageInput,
    text=st.text(max_size=200),
    p_negative=st.floats(0, 1),
    label=st.sampled_from(LABELS),
    author=st.none() | st.sampled_from(["@bigspender", "vip_ann", "someone"]) | st.text(max_size=10),
    author_reach=st.none() | st.integers(0, 10**8),
    prior_negatives=st.integers(0, 50),
    negative_threshold=st.floats(0.05, 0.95),
    themes=st.lists(st.sampled_from(["safety", "delivery", "billing"]), unique=True).map(tuple),
    urgent_themes=st.frozensets(st.sampled_from(["safety", "billing"])),
    off_topic=st.none() | st.just("off-topic: does not mention Acme"),
    duplicate_of=st.none() | st.just("m-1"),
)


@given(item=inputs)
@settings(max_examples=400, deadline=None)
def test_any_input_gets_a_valid_verdict_with_a_reason(item: TriageInput) -> None:
    result = triage(item, KNOBS)
    assert isinstance(result.validity, Validity) and isinstance(result.tier, Tier)
    assert result.validity_reason.strip()
    assert all(isinstance(r, str) and r for r in result.reasons)
    if result.validity is Validity.INVALID:
        # Invalid items list only why they are invalid, and are never urgent.
        assert result.reasons == [result.validity_reason] and result.tier is Tier.NORMAL
    else:
        # Otherwise: urgent exactly when an escalation reason (anything but strong wording) is listed.
        escalations = [r for r in result.reasons if not r.startswith("strongly negative")]
        assert (result.tier is Tier.URGENT) is bool(escalations)
    assert result.needs_case is (result.validity in (Validity.COMPLAINT, Validity.QUESTION, Validity.INVALID))
    assert (result.validity is Validity.DUPLICATE) is bool(item.duplicate_of)


@given(prefix=st.text(max_size=120), signal=st.sampled_from(PRIORITY_EXAMPLES), p_negative=st.floats(0, 1))
@settings(max_examples=300, deadline=None)
def test_a_priority_phrase_anywhere_makes_a_clean_text_an_urgent_complaint(
    prefix: str, signal: tuple[str, str], p_negative: float
) -> None:
    text = f"{prefix} {signal[1]}"
    if matched(INVALID_SIGNALS, text):
        return  # spam or trolling wins, tested above
    result = judge(text, p_negative, "neutral")
    assert result.validity is Validity.COMPLAINT and result.tier is Tier.URGENT
    assert signal[0] in result.reasons
