"""The interface in English and Simplified Chinese: catalogues complete, formats per locale, no English left.

The catalogue test extracts every marked message from the code and templates exactly as
``pybabel extract`` does with ``voxwatch/locale/babel.cfg`` and fails on any message
without a Chinese translation, or whose translation drops or invents a ``{placeholder}``.
The page test runs every page for every role in Chinese (AppTest, real store) and fails on
any string it shows that still holds an English word that is not data.
"""

# ruff: noqa: F811  (the page fixtures are imported from test_dashboard_pages)
from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import voxwatch
from dashboard.i18n import CHOSEN_KEY, LANG_KEY
from insights.report import monthly_figures, render_html
from responders.settings_forms import PERSON_FIELDS, RULE_FIELDS
from responders.triage import TriageInput, triage
from sentiment.themes import theme_labels
from tests.test_dashboard_pages import PAGE_ACTIONS, PEOPLE, ROLES, TEXTS, config, open_page, seeded, world  # noqa: F401  # noqa: F401  (fixtures)
from tests.untranslated import leftover
from voxwatch.i18n import LANGUAGES, N_, catalogue, translator
from voxwatch.permissions import may
from voxwatch.settings import TriageSettings, load_settings
from voxwatch.store import store_for

ROOT = Path(voxwatch.__file__).parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def extracted() -> set[str]:
    """Every message the code marks, found the way translators' tools find them."""
    with (ROOT / "voxwatch/locale/babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "N_": None, "tr": None}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
        if isinstance(message, str) and message
    }


MESSAGES = sorted(extracted())


def test_the_extraction_finds_the_pages_words() -> None:
    assert {"Inbox: routed cases", "Approve", "Net sentiment", "Blames the customer."} <= set(MESSAGES)
    assert len(MESSAGES) > 300


@pytest.mark.parametrize("message", MESSAGES)
def test_every_message_has_a_chinese_translation_with_the_same_placeholders(message: str) -> None:
    translated = catalogue("zh").get(message)
    assert translated, f"no Chinese for {message!r}: add it to voxwatch/locale/zh/LC_MESSAGES/voxwatch.po"
    assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message))


def test_the_catalogue_holds_no_message_the_code_no_longer_has() -> None:
    assert set(catalogue("zh")) - set(MESSAGES) == set()


def test_an_unknown_language_falls_back_to_english_and_english_is_the_message_itself() -> None:
    assert translator("xx").lang == "en"
    assert translator("en")("due in {span}", span="5 min") == "due in 5 min"
    assert translator("zh")("due in {span}", span="5 分钟") == "5 分钟后到期"


def test_dates_months_and_numbers_follow_the_locale() -> None:
    en, zh = translator("en"), translator("zh")
    assert (en.month(date(2026, 11, 1)), zh.month(date(2026, 11, 1))) == ("November 2026", "2026年11月")
    assert (en.day(date(2026, 11, 3)), zh.day(date(2026, 11, 3))) == ("3 Nov 2026", "2026年11月3日")
    assert en.number(1234.5) == "1,234.5" and zh.percent(0.42) == "42%"
    assert zh.moment(datetime(2026, 11, 30, 5, 6, tzinfo=UTC)) == "2026-11-30 05:06 UTC"


values = (
    st.text(alphabet=string.ascii_letters + string.digits + " .,:", min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)


@given(n=st.integers(0, 10_000), p=st.floats(0, 1), followers=st.integers(0, 10**9))
def test_recorded_routing_reasons_are_shown_translated(n: int, p: float, followers: int) -> None:
    zh = translator("zh")
    item = TriageInput(
        text="I will post this everywhere, acme",
        p_negative=max(p, 0.95),
        label="negative",
        prior_negatives=n + 1,
        author="vip",
        author_reach=followers + 10_000,
    )
    result = triage(item, TriageSettings(vip_authors=["vip"], high_reach_followers=10_000))
    for reason in [result.validity_reason, *result.reasons]:
        shown = zh.recorded(reason)
        assert leftover([shown], []) == [], reason  # every reason triage writes reads in Chinese
        assert re.findall(r"\d[\d,.]*", reason) == re.findall(r"\d[\d,.]*", shown)  # its figures kept


@given(theme=values.filter(lambda v: v not in catalogue("zh")))
def test_a_recorded_text_of_no_known_shape_is_shown_as_it_was(theme: str) -> None:
    assert translator("zh").recorded(f"zz {theme}") == f"zz {theme}"
    assert translator("zh").recorded(N_("theme: {theme}").format(theme=theme)) == f"主题：{theme}"


def data_of(world: dict[str, Any]) -> list[str]:
    """Everything on the seeded pages that is data, not our words."""
    settings = load_settings(world["config"])
    cases = world["open"]
    found = [*TEXTS.values(), *world["cases"]]
    for case in cases:
        found += [case["author"] or "", case["source"], case["owner"] or "", case["team"], case["case_id"]]
    found += [p.display_name for p in settings.responders] + [p.name for p in settings.responders]
    found += [s.name for s in settings.sources] + [s.kind for s in settings.sources]
    drafts = store_for(settings).read(lambda c: c.execute("SELECT body, template_key FROM drafts").fetchall())
    for body, key in drafts:
        found += [body, key]
    found += ["rss", "jsonld", "care", settings.brand.name]
    found += [*PERSON_FIELDS, *RULE_FIELDS]  # the settings forms' columns: the file's own keys
    return found


def shown_strings(at: AppTest) -> list[str]:
    """Every string a page puts on screen in its own elements, labels and options included."""
    shown: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "caption",
        "markdown",
        "text",
        "info",
        "warning",
        "error",
        "success",
        "exception",
    ):
        shown += [e.value for e in getattr(at, kind)]
    for kind in (
        "button",
        "text_area",
        "text_input",
        "selectbox",
        "multiselect",
        "expander",
        "tabs",
        "number_input",
        "slider",
        "metric",
    ):
        shown += [e.label for e in getattr(at, kind)]
    for box in at.selectbox:
        shown += [str(o) for o in box.options]
    shown += [m.value for m in at.metric]
    for frame in at.dataframe:
        shown += [str(c) for c in frame.value.columns]
    for kind in ("page_link", "download_button", "link_button"):
        shown += [e.proto.label for e in at.get(kind)]
    return [s for s in shown if s]


def in_chinese(page: str, name: str) -> AppTest:
    original = AppTest.from_file

    def chinese(*args: Any, **kwargs: Any) -> AppTest:
        at = original(*args, **kwargs)
        at.session_state[LANG_KEY] = "zh"  # as the sidebar's switch leaves it
        at.session_state[CHOSEN_KEY] = True
        return at

    AppTest.from_file = chinese  # type: ignore[method-assign]
    try:
        return open_page(page, name)
    finally:
        AppTest.from_file = original  # type: ignore[method-assign]


@pytest.mark.parametrize("name", ["amy", "maya", "erin", "adam", "grace"])
@pytest.mark.parametrize("page", list(PAGE_ACTIONS))
def test_no_page_shows_an_untranslated_string_in_chinese(world: dict[str, Any], page: str, name: str) -> None:
    at = in_chinese(page, name)
    assert not at.exception, [e.value for e in at.exception]
    preview_in_english = f"{LANGUAGES['en']}: "  # the settings page's preview of an English template
    shown = [s for s in shown_strings(at) if not s.startswith(preview_in_english)]
    assert shown, "the page showed nothing"
    assert leftover(shown, data_of(world)) == []
    if may(PEOPLE[name], PAGE_ACTIONS[page]):
        assert any(re.search(r"[\u4e00-\u9fff]", s) for s in shown)


@pytest.mark.parametrize("page", ["inbox", "case", "trends"])
def test_the_same_check_finds_the_english_interface(world: dict[str, Any], page: str) -> None:
    """The check can fail: on the English pages it finds our words."""
    at = open_page(page, "grace" if page != "trends" else "erin")
    assert len(leftover(shown_strings(at), data_of(world))) > 5


def test_the_monthly_report_in_chinese_has_no_english_left(world: dict[str, Any]) -> None:
    settings = load_settings(world["config"])
    figures = monthly_figures(store_for(settings), settings, "test-model", datetime.now(UTC).date())
    html = render_html(figures, "zh", theme_labels("zh"))
    text = re.sub(r"<style>.*?</style>|<[^>]+>", "\n", html, flags=re.S)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert leftover(lines, [*data_of(world), settings.brand.name, "doctype html"]) == []
    assert '<html lang="zh">' in html and "口碑与客户关怀" in html


def test_a_refusal_reads_in_chinese_with_its_names_kept(world: dict[str, Any]) -> None:
    at = in_chinese("approvals", "sara")  # responder and approver: her own draft is listed too
    at.button[2].click().run()  # approve her own draft: the case service refuses
    (error,) = at.error
    assert "sara 是此草稿的撰写人，不能自己批准" in error.value
    assert leftover([error.value], data_of(world)) == []


@pytest.mark.parametrize(
    "refusal",
    [
        "amy (responder) may not approve: it needs one of approver",
        "cannot submit a case that is closed (only from: drafting)",
        "ben (responder) may not assign a case from team care to escalations: claiming another team's case "
        "needs one of supervisor; hand your own cases off with a reason",
        "draft v2 is not the approved one: v3 is; review it first",
        "sending a draft back needs a comment",
    ],
)
def test_the_case_services_refusals_have_chinese_words(refusal: str) -> None:
    shown = translator("zh").recorded(refusal)
    assert shown != refusal and re.search(r"[\u4e00-\u9fff]", shown)
    assert re.findall(r"\d+", refusal) == re.findall(r"\d+", shown)  # versions and numbers kept
