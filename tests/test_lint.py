"""The draft linter (responders/lint.py): each shipped rule on good and bad replies, en and zh.

A finding's span is what an editor underlines and what ``submit`` quotes back, so the
properties check that spans are exact, that linting is deterministic, and that text added
after a draft never hides a finding already there. User rule files add to the shipped
rules; a broken one is a ``SettingsError`` that says which file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.lint import Finding, LintRule, default_rules, lint, load_rules
from responders.templates import TemplateLibrary, render, reply_by_text
from voxwatch.errors import SettingsError

SHIPPED = {rule.id: rule for rule in default_rules()}

# (rule, situation, text, the phrase that must be flagged)
BAD: list[tuple[str, str, str, str]] = [
    ("forbidden-phrase", "resolved", "Honestly I don't know why it broke. We will check.", "I don't know"),
    ("forbidden-phrase", "resolved", "There is nothing we can do, but we will try.", "nothing we can do"),
    ("forbidden-phrase", "resolved", "That's not our problem. We will pass it on.", "That's not our problem"),
    ("forbidden-phrase", "resolved", "Please calm down, we will look.", "calm down"),
    (
        "forbidden-phrase",
        "resolved",
        "Sorry, that's just our policy. We will note it.",
        "that's just our policy",
    ),
    ("forbidden-phrase", "resolved", "这个我也不知道，我们会再看看。", "不知道"),
    ("forbidden-phrase", "resolved", "这个没办法，我们会记录。", "没办法"),
    ("forbidden-phrase", "resolved", "这不是我们的问题，请您联系快递。", "这不是我们的问题"),
    ("forbidden-phrase", "resolved", "请冷静一点，我们会处理。", "冷静一点"),
    ("blames-customer", "resolved", "You should have read the manual. We will help.", "You should have"),
    ("blames-customer", "resolved", "As I already said, we will ship Monday.", "As I already said"),
    ("blames-customer", "resolved", "That looks like user error; we will explain.", "user error"),
    ("blames-customer", "resolved", "You didn't follow the steps. We will resend them.", "You didn't follow"),
    ("blames-customer", "resolved", "这是你自己的问题，我们会说明。", "你自己的问题"),
    ("blames-customer", "resolved", "我已经说过了，我们会再发一次。", "我已经说过了"),
    ("premature-fault", "resolved", "It's entirely our fault and we will fix it.", "It's entirely our fault"),
    (
        "premature-fault",
        "resolved",
        "We accept full liability. We will call you.",
        "We accept full liability",
    ),
    ("premature-fault", "resolved", "这是我们的错，我们会处理。", "是我们的错"),
    ("premature-fault", "resolved", "我们承担全部责任，我们会联系您。", "我们承担全部责任"),
    ("promise-needs-approval", "resolved", "We will send a full refund today.", "full refund"),
    ("promise-needs-approval", "resolved", "We will pay 20 dollars back.", "20 dollars"),
    ("promise-needs-approval", "resolved", "We will add $ 5 to your account.", "$ 5"),
    ("promise-needs-approval", "resolved", "We will compensate you for the trip.", "compensate"),
    ("promise-needs-approval", "resolved", "We guarantee it works now.", "guarantee"),
    ("promise-needs-approval", "resolved", "We will fix it by Friday.", "fix it by"),
    ("promise-needs-approval", "resolved", "We will reimburse the delivery fee.", "reimburse"),
    ("promise-needs-approval", "resolved", "我们会给您退款。", "退款"),
    ("promise-needs-approval", "resolved", "我们会补偿您。", "补偿"),
    ("promise-needs-approval", "resolved", "我们会返您50元。", "50元"),
    ("promise-needs-approval", "resolved", "我们会在3天内解决。", "3天内解决"),
    ("selling-in-recovery", "apology_recovery", "Sorry! We will fix it. Upgrade to Pro today.", "Upgrade to"),
    ("selling-in-recovery", "first_response", "We will reply by 15:00. Enjoy 20% off meanwhile.", "20% off"),
    ("selling-in-recovery", "follow_up", "We will check. Check out our new blend!", "Check out our new"),
    ("selling-in-recovery", "apology_recovery", "非常抱歉，我们会处理。欢迎尝试新品。", "新品"),
    ("selling-in-recovery", "follow_up", "我们会跟进，充值还能打折。", "充值"),
    (
        "link-in-draft",
        "resolved",
        "We will update you. Track it at https://t.example/1",
        "https://t.example/1",
    ),
    ("link-in-draft", "resolved", "我们会跟进，请看www.example.cn/help", "www.example.cn/help"),
    ("markup-in-draft", "resolved", "Hi Sam<br>we will call you.", "<br>"),
    ("markup-in-draft", "resolved", "您好[点我](x)，我们会联系您。", "[点我](x)"),
    ("mention-in-draft", "resolved", "Hi @everyone, we will post an update.", "@everyone"),
    ("mention-in-draft", "resolved", "感谢 @小王 的反馈，我们会联系您。", "@小王"),
]

# Complete replies that pass every rule for their situation.
GOOD: list[tuple[str, str, str]] = [
    (
        "first_response",
        "en",
        "Hi Sam, sorry about this. We will get back to you by 15:00 with the next step.",
    ),
    ("first_response", "en", "Thanks for telling us. I'll look into it and reply within 2 hours."),
    ("first_response", "zh", "您好，非常抱歉。我们会在12月1日 10:30前给您答复。"),
    ("first_response", "zh", "您好，我们会在2小时内回复您处理进展。"),
    ("apology_recovery", "en", "I'm sorry for the trouble. We will call you to put it right."),
    ("apology_recovery", "zh", "给您带来不便，深表歉意。我们会尽快联系您。"),
    ("need_more_info", "en", "Could you send us your order number, please?"),
    ("need_more_info", "zh", "请您私信提供订单号。"),
    ("resolved", "en", "Good news: it is sorted. We'll check in next week."),
    ("resolved", "zh", "问题已经解决，我们将在下周回访。"),
    ("follow_up", "en", "Just checking in: is it all working? Please reply if not."),
    ("closing", "zh", "感谢您的耐心，下一步如有需要请随时联系。"),
]


def findings_of(rule: str, found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.rule == rule]


@pytest.mark.parametrize(("rule", "situation", "text", "phrase"), BAD, ids=[f"{r}:{p}" for r, _, _, p in BAD])
def test_a_forbidden_phrase_is_flagged_at_its_span(rule: str, situation: str, text: str, phrase: str) -> None:
    lang = "en" if text.isascii() else "zh"
    (finding,) = findings_of(rule, lint(text, situation, lang))
    assert (finding.excerpt, text[finding.start : finding.end]) == (phrase, phrase)
    assert finding.start == text.index(phrase)
    assert (finding.severity, finding.message) == (SHIPPED[rule].severity, SHIPPED[rule].message)


def test_every_forbidden_rule_has_bad_examples_in_both_languages() -> None:
    for rule in (r for r in default_rules() if r.kind == "forbidden"):
        texts = [text for rule_id, _, text, _ in BAD if rule_id == rule.id]
        assert any(t.isascii() for t in texts) and any(not t.isascii() for t in texts), rule.id


@pytest.mark.parametrize(("situation", "lang", "text"), GOOD)
def test_a_good_reply_has_no_findings(situation: str, lang: str, text: str) -> None:
    assert lint(text, situation, lang) == []


def test_money_and_deadlines_need_approval_but_do_not_block() -> None:
    found = lint("We will refund the $5 fee.", "resolved", "en")
    assert [(f.excerpt, f.severity) for f in found] == [
        ("refund", "needs_approval"),
        ("$5", "needs_approval"),
    ]


def test_the_reply_time_promise_of_a_first_response_is_not_a_fix_deadline() -> None:
    found = lint("We will get back to you by 15:00 today.", "first_response", "en")
    assert found == []


@pytest.mark.parametrize(
    ("situation", "flagged"),
    [
        ("apology_recovery", True),
        ("first_response", True),
        ("follow_up", True),
        ("resolved", False),
        ("closing", False),
        ("need_more_info", False),
        (None, False),
    ],
)
def test_selling_is_only_forbidden_where_we_apologise(situation: str | None, flagged: bool) -> None:
    found = lint("We will sort it. Enjoy 20% off your next box.", situation, "en")
    assert bool(findings_of("selling-in-recovery", found)) is flagged


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Sorry about that. We will look into it.", "en"),
        ("非常抱歉，我们会尽快处理。", "zh"),
    ],
)
def test_a_first_response_without_a_reply_time_is_flagged_over_the_whole_text(text: str, lang: str) -> None:
    (finding,) = findings_of("missing-reply-time", lint(text, "first_response", lang))
    assert (finding.start, finding.end, finding.excerpt, finding.severity) == (0, len(text), "", "error")
    assert findings_of("missing-reply-time", lint(text, "resolved", lang)) == []  # only first responses


@pytest.mark.parametrize(
    "promise",
    [
        "by 9:30",
        "by Monday",
        "by tomorrow",
        "within 30 minutes",
        "get back to you before noon",
        "on 2026-12-01",
        "12月1日",
        "10：30前",
        "24小时内",
    ],
)
def test_each_form_of_reply_time_satisfies_a_first_response(promise: str) -> None:
    text = f"We will reply {promise}."
    assert findings_of("missing-reply-time", lint(text, "first_response", "en")) == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Sorry to hear that.", "en"), ("Thanks for the feedback!", "en"), ("很抱歉听到这个消息。", "zh")],
)
def test_a_reply_with_no_next_step_is_flagged_in_every_situation(text: str, lang: str) -> None:
    for situation in ("resolved", "closing", None):
        (finding,) = findings_of("missing-next-step", lint(text, situation, lang))
        assert (finding.start, finding.end) == (0, len(text))


def test_findings_come_in_text_order_then_by_rule() -> None:
    text = "Calm down. You should have read it. It's our fault. Full refund coming."
    found = lint(text, "resolved", "en")
    assert [f.rule for f in found] == [
        "forbidden-phrase",  # at 0, like the whole-text finding: ties go by rule id
        "missing-next-step",
        "blames-customer",
        "premature-fault",
        "promise-needs-approval",
    ]
    assert [f.start for f in found] == sorted(f.start for f in found)


def test_every_phrase_is_flagged_each_time_it_occurs() -> None:
    text = "I don't know. We will ask. I dont know either."
    found = findings_of("forbidden-phrase", lint(text, "resolved", "en"))
    assert [(f.start, f.excerpt) for f in found] == [
        (0, "I don't know"),
        (text.index("I dont"), "I dont know"),
    ]


def test_matching_is_case_insensitive() -> None:
    assert findings_of("blames-customer", lint("YOU SHOULD HAVE asked. We will help.", "resolved", "en"))


def test_every_shipped_template_passes_the_linter_in_its_own_situation() -> None:
    due = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    values = {"customer": "Sam", "brand": "Acme", "responder": "Amy", "case_ref": "case-1"}
    for template in TemplateLibrary.load().all():
        body = render(template, reply_by=reply_by_text(due, template.lang, "Asia/Shanghai"), **values)
        assert lint(body, template.situation, template.lang) == [], template.key


def test_finding_as_dict_carries_everything_an_editor_needs() -> None:
    (finding,) = findings_of("blames-customer", lint("User error, sorry. We will help.", "resolved", "en"))
    assert finding.as_dict() == {
        "rule": "blames-customer",
        "start": 0,
        "end": 10,
        "message": "Blames the customer.",
        "severity": "error",
        "excerpt": "User error",
    }


# --- rules with conditions ------------------------------------------------------------------------------


def test_a_rule_limited_to_a_language_applies_only_to_it() -> None:
    rule = LintRule(
        "no-dear", "forbidden", "error", "Too formal.", ("dear customer", "尊敬的客户"), langs=("zh",)
    )
    assert lint("尊敬的客户您好", "closing", "zh", [rule])[0].excerpt == "尊敬的客户"
    assert lint("Dear customer", "closing", "en", [rule]) == []
    assert lint("Dear customer", "closing", None, [rule]) == []
    assert rule.applies("anything", "zh") and not rule.applies("anything", "en")


def test_a_rule_limited_to_situations_applies_only_to_them() -> None:
    rule = LintRule("sign-off", "required", "error", "Sign off.", ("— the team",), situations=("closing",))
    assert [f.rule for f in lint("Bye", "closing", "en", [rule])] == ["sign-off"]
    assert lint("Bye — the team", "closing", "en", [rule]) == []
    assert lint("Bye", "resolved", "en", [rule]) == []


def test_no_rules_means_no_findings() -> None:
    assert lint("I don't know, calm down.", "resolved", "en", []) == []


# --- properties -----------------------------------------------------------------------------------------

BAD_PHRASES = [phrase for _, _, _, phrase in BAD]
drafts = st.lists(st.sampled_from(BAD_PHRASES) | st.text(max_size=30), max_size=8).map(" ".join)
situations = st.sampled_from([None, "first_response", "apology_recovery", "resolved", "follow_up", "closing"])
langs = st.sampled_from([None, "en", "zh"])


@given(text=drafts, situation=situations, lang=langs)
@settings(max_examples=300, deadline=None)
def test_every_span_lies_in_the_text_and_is_the_matched_phrase(
    text: str, situation: str | None, lang: str | None
) -> None:
    for finding in lint(text, situation, lang):
        rule = SHIPPED[finding.rule]
        assert 0 <= finding.start <= finding.end <= len(text)
        if rule.kind == "forbidden":
            assert finding.start < finding.end
            assert text[finding.start : finding.end] == finding.excerpt
            assert rule.regex.fullmatch(finding.excerpt)
        else:
            assert (finding.start, finding.end, finding.excerpt) == (0, len(text), "")
            assert rule.regex.search(text) is None


@given(text=drafts, situation=situations, lang=langs)
@settings(max_examples=150, deadline=None)
def test_linting_is_deterministic_and_sorted(text: str, situation: str | None, lang: str | None) -> None:
    first = lint(text, situation, lang)
    assert first == lint(text, situation, lang)
    assert first == sorted(first, key=lambda f: (f.start, f.rule))


@given(text=drafts, more=drafts | st.text(max_size=60), situation=situations, lang=langs)
@settings(max_examples=300, deadline=None)
def test_text_added_after_a_draft_never_hides_a_finding_in_it(
    text: str, more: str, situation: str | None, lang: str | None
) -> None:
    def forbidden(found: list[Finding]) -> set[tuple[str, int, int, str]]:
        return {(f.rule, f.start, f.end, f.excerpt) for f in found if SHIPPED[f.rule].kind == "forbidden"}

    assert forbidden(lint(text, situation, lang)) <= forbidden(lint(f"{text}\n\n{more}", situation, lang))


@given(
    prefix=st.text(max_size=40),
    suffix=st.text(max_size=40),
    example=st.sampled_from(BAD),
)
@settings(max_examples=300, deadline=None)
def test_a_bad_phrase_is_flagged_wherever_it_is_put(
    prefix: str, suffix: str, example: tuple[str, ...]
) -> None:
    rule, situation, _, phrase = example
    text = f"{prefix} {phrase} {suffix}"
    start, end = len(prefix) + 1, len(prefix) + 1 + len(phrase)
    hits = findings_of(rule, lint(text, situation, None))
    assert any(f.start < end and start < f.end for f in hits)  # something overlapping the phrase


# --- user rule files ------------------------------------------------------------------------------------

USER_RULES = """
[[rules]]
id = "no-inconvenience"
kind = "forbidden"
message = "Say what went wrong, not 'inconvenience'."
patterns = ["\\\\bsorry for (any|the) inconvenience\\\\b", "带来的不便"]

[[rules]]
id = "sign-off"
kind = "required"
severity = "needs_approval"
message = "Sign with the team name."
patterns = ["the acme team"]
situations = ["closing"]
langs = ["en"]
"""


def test_a_user_rules_file_adds_to_the_shipped_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(USER_RULES, encoding="utf-8")
    rules = load_rules(path)
    assert [r.id for r in rules] == [*SHIPPED, "no-inconvenience", "sign-off"]
    assert rules[-2].severity == "error"  # the default severity
    assert (rules[-1].situations, rules[-1].langs) == (("closing",), ("en",))
    text = "Sorry for the inconvenience. We will close this now."
    assert [f.rule for f in lint(text, "closing", "en", rules)] == ["no-inconvenience", "sign-off"]
    assert lint(text, "closing", "en") == []  # the shipped rules alone are happy
    assert [f.excerpt for f in lint("给您带来的不便我们会处理。", "closing", "zh", rules)] == ["带来的不便"]


def test_without_a_user_file_the_shipped_rules_are_used() -> None:
    assert load_rules(None) == default_rules()
    assert {r.id for r in default_rules()} == {
        "forbidden-phrase",
        "blames-customer",
        "premature-fault",
        "promise-needs-approval",
        "selling-in-recovery",
        "missing-reply-time",
        "missing-next-step",
        "link-in-draft",
        "markup-in-draft",
        "mention-in-draft",
    }


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[[rules]\nid = 1", "TOMLDecodeError"),
        ('[[rules]]\nid = "x"\nkind = "forbidden"\npatterns = ["a"]\n', "message"),
        ('[[rules]]\nid = "x"\nkind = "forbidden"\nmessage = "m"\n', "patterns"),
        ('[[rules]]\nid = "x"\nkind = "forbidden"\nmessage = "m"\npatterns = 5\n', "TypeError"),
    ],
    ids=["bad-toml", "no-message", "no-patterns", "patterns-not-a-list"],
)
def test_a_broken_rules_file_is_a_settings_error_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "my-rules.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_rules(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_a_bad_pattern_is_a_settings_error_naming_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "my-rules.toml"
    path.write_text(
        '[[rules]]\nid = "oops"\nkind = "forbidden"\nmessage = "m"\npatterns = ["(unclosed"]\n',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError, match="lint rule 'oops': bad pattern"):
        load_rules(path)


def test_a_missing_rules_file_is_a_settings_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(SettingsError, match="cannot read lint rules") as err:
        load_rules(path)
    assert str(path) in str(err.value)
