"""The draft linter on labelled replies, names from posts in templates, and ``voxwatch lint``.

``tests/fixtures/lint_replies.jsonl`` holds hand-written replies in English and Chinese,
good ones in many phrasings and bad ones for every rule (``responders/LINT_RULES.md`` gives
each rule's precision and recall on it). A good reply must draw no finding at all, so the
linter never teaches people to ignore it; a bad one must draw exactly the rules it is
labelled with. Author display names are internet text: rendered into a template they must
come out as plain words, and the linter must flag any link, markup or @-mention in a draft
that the template did not put there.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from responders.cases import CaseService
from responders.lint import Finding, blocking, default_rules, lint
from responders.plaintext import MAX_NAME_CHARS
from responders.templates import SITUATIONS, Template, TemplateLibrary, plain_text_name, render, reply_by_text
from tests.conftest import FIXTURES
from voxwatch.cli import app
from voxwatch.settings import Settings

ROOT = FIXTURES.parent.parent
ROWS: list[dict[str, Any]] = [
    json.loads(line)
    for line in (FIXTURES / "lint_replies.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
GOOD = [row for row in ROWS if row["label"] == "good"]
BAD = [row for row in ROWS if row["label"] == "bad"]
SHIPPED = {rule.id: rule for rule in default_rules()}
MARKUP_RULES = {"link-in-draft", "markup-in-draft", "mention-in-draft"}
HOSTILE_NAMES = [
    "[click](http://evil.example)",
    "![x](http://track.example/p.png)",
    "<img src=x>",
    "@everyone",
    "Sam [win a prize](https://evil.example/win) <script>alert(1)</script>",
    "＠here ｈｔｔｐｓ://evil.example",
    "www.evil.example/p",
    "**Dana** `rm -rf` _x_ \u202egnp.exe",
    "小王[点我](http://evil.example)<br>",
]


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [f"{row['lang']}-{row['label']}-{n:03d}" for n, row in enumerate(rows)]


def fired(row: dict[str, Any]) -> list[Finding]:
    return lint(row["text"], row["situation"], row["lang"])


def voxwatch_lint(row: dict[str, Any]) -> Result:
    """``voxwatch lint --lang L [--situation S] -`` with the reply on standard input."""
    situation = ["--situation", row["situation"]] if row["situation"] else []
    args = ["lint", "--lang", row["lang"], *situation, "-"]
    return CliRunner().invoke(app, args, input=row["text"], env={"COLUMNS": "200"})


def values(customer: str, lang: str) -> dict[str, str]:
    due = datetime.now(UTC) + timedelta(hours=2)
    return {
        "customer": customer,
        "brand": "Acme",
        "responder": "Amy",
        "reply_by": reply_by_text(due, lang, "Asia/Shanghai"),
        "case_ref": "case-1",
    }


# --- the labelled set itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_set_has_enough_replies_in_each_language_and_every_rule_is_exercised(lang: str) -> None:
    rows = [row for row in ROWS if row["lang"] == lang]
    assert len(rows) >= 60
    assert sum(row["label"] == "good" for row in rows) >= 40
    for rule in SHIPPED:
        assert sum(rule in row["rules"] for row in rows) >= 3, (lang, rule)


def test_every_row_is_well_formed() -> None:
    for row in ROWS:
        assert set(row) == {"lang", "situation", "label", "rules", "text"}, row
        assert row["lang"] in ("en", "zh") and row["situation"] in (*SITUATIONS, None), row
        assert (row["label"] == "good") is (row["rules"] == []), row
        assert row["label"] in ("good", "bad") and set(row["rules"]) <= SHIPPED.keys(), row
    assert len({(row["text"], row["situation"]) for row in ROWS}) == len(ROWS)  # none counted twice


# --- every labelled reply -------------------------------------------------------------------------------


@pytest.mark.parametrize("row", GOOD, ids=ids(GOOD))
def test_a_good_reply_draws_no_finding(row: dict[str, Any]) -> None:
    assert [(f.rule, f.excerpt) for f in fired(row)] == [], row["text"]


@pytest.mark.parametrize("row", BAD, ids=ids(BAD))
def test_a_bad_reply_draws_exactly_its_rules(row: dict[str, Any]) -> None:
    found = fired(row)
    assert {f.rule for f in found} == set(row["rules"]), (row["text"], [(f.rule, f.excerpt) for f in found])
    assert blocking(found)


def test_the_replies_from_the_issue_are_good_in_both_languages() -> None:
    english = (
        "Thank you for letting us know, and I'm sorry this happened. We're looking into it now and "
        "will come back to you within two hours with an update."
    )
    chinese = "感谢您告诉我们，给您带来不便非常抱歉。我们正在核查，今天下午三点前给您答复。"
    for text, lang in ((english, "en"), (chinese, "zh")):
        for situation in (None, *SITUATIONS):
            assert lint(text, situation, lang) == [], (lang, situation)


# --- voxwatch lint --------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", GOOD, ids=ids(GOOD))
def test_voxwatch_lint_passes_a_good_reply(row: dict[str, Any]) -> None:
    result = voxwatch_lint(row)
    assert (result.exit_code, result.stdout) == (0, ""), row["text"]


@pytest.mark.parametrize("row", BAD, ids=ids(BAD))
def test_voxwatch_lint_fails_a_bad_reply_naming_its_rules(row: dict[str, Any]) -> None:
    result = voxwatch_lint(row)
    assert result.exit_code == 1, row["text"]
    assert {json.loads(line)["rule"] for line in result.stdout.splitlines()} == set(row["rules"])


@pytest.mark.parametrize(
    ("text", "lang", "excerpt"),
    [
        ("We will send you a full refund today.", "en", "full refund"),
        ("We'll fix the app by Friday and update you.", "en", "fix the app by"),
        ("我们会给您全额退款，请留意短信。", "zh", "全额"),
        ("我们会在3天内解决您的问题。", "zh", "3天内解决"),
    ],
)
def test_an_unapproved_promise_alone_fails_voxwatch_lint(text: str, lang: str, excerpt: str) -> None:
    result = voxwatch_lint({"text": text, "lang": lang, "situation": None})
    assert result.exit_code == 1
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(f["rule"], f["severity"]) for f in findings} == {("promise-needs-approval", "needs_approval")}
    assert excerpt in {f["excerpt"] for f in findings}


# --- names from posts, rendered ------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("template", TemplateLibrary.load().all(), ids=lambda t: t.key)
def test_a_hostile_author_name_leaves_nothing_of_itself_in_the_draft(template: Template, name: str) -> None:
    body = render(template, **values(name, template.lang))
    for piece in ("http", "evil.example", "track.example", "](", "<", ">", "@", "＠", "`", "*", "\u202e"):
        assert piece not in body.lower(), piece
    assert lint(body, template.situation, template.lang) == []


def test_the_case_service_suggests_a_clean_reply_to_a_hostile_author(team: Settings) -> None:
    case = {
        "id": "case-1",
        "lang": "en",
        "author": "[click](http://evil.example) @everyone",
        "resolution_due": datetime.now(UTC) + timedelta(hours=4),
    }
    key, body = CaseService(team).suggest(case, "first_response", team.person("amy"))
    assert key == "first_response/en@v1" and body.startswith("Hi click everyone,")
    assert lint(body, "first_response", "en") == []


FRAGMENTS = [
    "[", "]", "(", ")", "!", "<", ">", "/", "@", "＠", "#", "`", "*", "_", "~", "|", ":", ".",
    "http", "https://", "://", "www.", "evil.example", ".com", "/p.png", "img src=x", "javascript:",
    "ｈｔｔｐ", "everyone", "Sam", "小王", " ", "\n", "\u200b", "\u202e", "\x00", "e\u0301",
]  # fmt: skip
names = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=12).map("".join)


@given(raw=names)
@settings(max_examples=400, deadline=None)
def test_a_plain_text_name_holds_no_markup_link_or_mention(raw: str) -> None:
    name = plain_text_name(raw)
    assert 0 < len(name) <= MAX_NAME_CHARS and name == name.strip()
    for piece in ("](", "<", ">", "[", "]", "`", "*", "://", "{", "}"):
        assert piece not in name, piece
    assert "http" not in name.lower() and "www." not in name.lower()
    assert re.search(r"(?<![A-Za-z0-9])[@＠]", name) is None  # no @ at a word start
    assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert plain_text_name(name) == name  # cleaning a clean name changes nothing


@given(raw=names)
@settings(max_examples=200, deadline=None)
def test_a_rendered_name_never_draws_a_markup_finding(raw: str) -> None:
    for lang in ("en", "zh"):
        template = TemplateLibrary.load().get("closing", lang)
        body = render(template, **values(raw, lang))
        assert not [f for f in lint(body, "closing", lang) if f.rule in MARKUP_RULES], body


corpus_texts = st.sampled_from([row["text"] for row in ROWS])


@given(
    text=corpus_texts,
    insert=st.sampled_from(FRAGMENTS + HOSTILE_NAMES) | st.text(max_size=20),
    at=st.integers(min_value=0),
    lang=st.sampled_from([None, "en", "zh"]),
    situation=st.sampled_from([None, *SITUATIONS]),
)
@settings(max_examples=300, deadline=None)
def test_spans_lie_in_the_text_and_excerpts_are_what_they_cover(
    text: str, insert: str, at: int, lang: str | None, situation: str | None
) -> None:
    at %= len(text) + 1
    draft = text[:at] + insert + text[at:]
    for finding in lint(draft, situation, lang):
        assert 0 <= finding.start <= finding.end <= len(draft)
        assert draft[finding.start : finding.end] == finding.excerpt or (
            SHIPPED[finding.rule].kind == "required" and (finding.start, finding.end) == (0, len(draft))
        )


# --- what the template put there ------------------------------------------------------------------------

HELP = Template("closing", "en", 9, "Hi {{ customer }}, see https://acme.example/help. We will be here.")


def test_a_link_the_template_put_there_is_allowed_and_a_pasted_one_is_not() -> None:
    body = render(HELP, **values("Sam", "en"))
    assert [f.rule for f in lint(body, "closing", "en")] == ["link-in-draft"]  # without allowed
    assert lint(body, "closing", "en", allowed=body) == []
    edited = body + " Or see http://evil.example/x or ask @everyone."
    found = lint(edited, "closing", "en", allowed=body)
    assert [(f.rule, f.excerpt) for f in found] == [
        ("link-in-draft", "http://evil.example/x"),
        ("mention-in-draft", "@everyone"),
    ]


def test_allowed_text_only_excuses_links_markup_and_mentions() -> None:
    text = "Calm down, we will refund you."
    assert lint(text, "resolved", "en", allowed=text) == lint(text, "resolved", "en")
    assert {f.rule for f in lint(text, "resolved", "en", allowed=text)} == {
        "forbidden-phrase",
        "promise-needs-approval",
    }


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("We will call you. Email us at help@acme.example", None),  # an address is not a mention
        ("We will call you (Tom <3).", None),
        ("We will call you, 小王@顺丰.", "mention-in-draft"),  # Weibo links @ after any character
        ("We will call you @Tom.", "mention-in-draft"),
        ("We will call you.<a href='x'>", "markup-in-draft"),
        ("We will call you. ![](x)", "markup-in-draft"),
        ("We will call you. javascript:alert(1)", "link-in-draft"),
    ],
)
def test_what_counts_as_a_link_markup_or_mention(text: str, rule: str | None) -> None:
    assert {f.rule for f in lint(text, "resolved", "en")} == ({rule} if rule else set())


# --- the rules page -------------------------------------------------------------------------------------


def _report_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lint_report", ROOT / "bench" / "lint_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_lint_rules_md_is_current_and_counts_no_error_on_a_good_reply() -> None:
    text, report = _report_module().build(FIXTURES / "lint_replies.jsonl")
    assert report.good_errors == [] and report.good_blocked == 0 and report.bad_passed == 0
    committed = (ROOT / "responders" / "LINT_RULES.md").read_text(encoding="utf-8")
    assert committed == text, "run: .venv/bin/python bench/lint_report.py"
    assert "**Error findings on good replies: 0**" in committed
    for rule in SHIPPED:
        assert f"| `{rule}` |" in committed
