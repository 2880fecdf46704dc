"""The template library (responders/templates.py): loading, versions, rendering, the sandbox.

Every shipped template must render in each of its languages with all the variables the
case service passes; a user file can add languages and newer versions; anything a
template could use to reach Python internals is refused. Mention text and author names
only ever arrive as values, so they stay data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, meta
from jinja2.exceptions import SecurityError, UndefinedError

from responders.templates import (
    SITUATIONS,
    VARIABLES,
    Template,
    TemplateLibrary,
    plain_text_name,
    render,
    reply_by_text,
)
from voxwatch.errors import SettingsError
from voxwatch.settings import BusinessHours, SlaSettings

SHIPPED = TemplateLibrary.load()
# A recognisable value for every variable, so the rendered text shows which were used.
VALUES = {
    "customer": "«Sam Lee»",
    "brand": "«Acme»",
    "responder": "«Amy Chen»",
    "reply_by": "«15:00 (UTC) on 2026-11-27»",
    "case_ref": "«case-42»",
}


def used_variables(template: Template) -> set[str]:
    return set(meta.find_undeclared_variables(Environment().parse(template.body)))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def entry(situation: str, lang: str, version: int, body: str) -> str:
    head = f'[[templates]]\nsituation = "{situation}"\nlang = "{lang}"\nversion = {version}\n'
    return head + f'body = """{body}"""\n\n'


# --- the shipped library -------------------------------------------------------------------------------


def test_every_situation_ships_in_english_and_chinese() -> None:
    assert sorted(SHIPPED.latest) == sorted((s, lang) for s in SITUATIONS for lang in ("en", "zh"))
    assert [t.key for t in SHIPPED.all()] == sorted(t.key for t in SHIPPED.all())
    assert all(t.version == 1 for t in SHIPPED.all())
    assert set(VALUES) == VARIABLES  # the case service fills exactly these


@pytest.mark.parametrize("template", SHIPPED.all(), ids=lambda t: t.key)
def test_every_shipped_template_renders_with_every_variable_it_names(template: Template) -> None:
    body = render(template, **VALUES)
    used = used_variables(template)
    assert "customer" in used  # every reply greets the customer by name
    for name, value in VALUES.items():
        assert (value in body) is (name in used), name
    assert "{{" not in body and "}}" not in body and body == body.strip()
    if template.lang == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_first_response_always_promises_a_reply_time(lang: str) -> None:
    body = render(SHIPPED.get("first_response", lang), **VALUES)
    assert VALUES["reply_by"] in body


@pytest.mark.parametrize(
    ("lang", "found"),
    [("en", "en"), ("zh", "zh"), ("fr", "en"), (None, "en"), ("", "en")],
)
def test_get_falls_back_to_english(lang: str | None, found: str) -> None:
    assert SHIPPED.get("resolved", lang).key == f"resolved/{found}@v1"


def test_an_unknown_situation_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="no template for situation 'apologise'"):
        SHIPPED.get("apologise", "en")


# --- render ---------------------------------------------------------------------------------------------


def test_values_are_data_never_template_code() -> None:
    template = SHIPPED.get("closing", "en")
    sneaky = "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}{{ ''.__class__ }}"
    body = render(template, **(VALUES | {"brand": sneaky}))
    assert f"from {sneaky} here" not in body  # closing does not name the brand; follow_up does
    body = render(SHIPPED.get("follow_up", "en"), **(VALUES | {"brand": sneaky}))
    assert f"from {sneaky} here" in body
    assert "49" not in body


def test_values_are_not_html_escaped() -> None:
    body = render(SHIPPED.get("follow_up", "en"), **(VALUES | {"brand": "Tom & Jerry's"}))
    assert "from Tom & Jerry's here" in body


def test_a_name_from_a_post_goes_in_as_plain_words() -> None:
    body = render(SHIPPED.get("closing", "en"), **(VALUES | {"customer": "<b>Tom & Jerry</b>"}))
    assert body.startswith("Hi Tom & Jerry,")
    sneaky = "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}"
    body = render(SHIPPED.get("closing", "en"), **(VALUES | {"customer": sneaky}))
    assert body.startswith(f"Hi {plain_text_name(sneaky)},") and "{" not in body and "49" not in body


@pytest.mark.parametrize(("lang", "greeting"), [("en", "Hi there,"), ("zh", "顾客您好")])
def test_a_name_with_nothing_left_gets_a_neutral_greeting(lang: str, greeting: str) -> None:
    for name in ("", "![x](http://track.example/p.png)", "<img src=x>", "https://evil.example"):
        body = render(SHIPPED.get("closing", lang), **(VALUES | {"customer": name}))
        assert body.startswith(greeting), name


def test_a_missing_value_is_refused_by_name() -> None:
    values = {k: v for k, v in VALUES.items() if k not in ("brand", "case_ref")}
    with pytest.raises(ValueError, match=r"closing/en@v1: missing values \['brand', 'case_ref'\]"):
        render(SHIPPED.get("closing", "en"), **values)


def test_every_value_is_required_even_when_the_body_does_not_use_it() -> None:
    template = SHIPPED.get("need_more_info", "en")
    assert "brand" not in used_variables(template)
    with pytest.raises(ValueError, match="brand"):
        render(template, **{k: v for k, v in VALUES.items() if k != "brand"})


@pytest.mark.parametrize(
    "body",
    [
        "{{ customer.__class__ }}",
        "{{ customer.__class__.__mro__[1].__subclasses__() }}",
        "{{ customer.__len__() }}",
        "{{ brand.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__ }}",
        "{{ customer|attr('__class__') }}",
    ],
)
def test_the_sandbox_refuses_dunder_access_and_calls(body: str) -> None:
    template = Template("closing", "en", 1, body)
    with pytest.raises(SecurityError):
        render(template, **VALUES)


def test_the_sandbox_refuses_huge_ranges() -> None:
    with pytest.raises(OverflowError):
        render(Template("closing", "en", 1, "{{ range(10**9)|list|length }}"), **VALUES)


def test_harmless_filters_still_work_in_the_sandbox() -> None:
    template = Template("closing", "en", 1, "Hi {{ customer|upper }} from {{ brand|lower }}")
    assert render(template, **(VALUES | {"customer": "sam", "brand": "ACME"})) == "Hi SAM from acme"


@given(customer=st.text(max_size=80), brand=st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_any_value_is_inserted_verbatim_except_a_name_from_a_post(customer: str, brand: str) -> None:
    template = SHIPPED.get("follow_up", "en")
    body = render(template, **(VALUES | {"customer": customer, "brand": brand}))
    values = VALUES | {"customer": plain_text_name(customer), "brand": brand}
    assert body == re.sub(r"\{\{ (\w+) \}\}", lambda m: values[m.group(1)], template.body)


# --- user files -----------------------------------------------------------------------------------------


def test_a_user_file_adds_a_language_and_a_newer_version(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        entry("closing", "de", 1, "Hallo {{ customer }}, danke! Ihr {{ brand }}-Team.")
        + entry("closing", "en", 2, "Thanks {{ customer }}, closing {{ case_ref }} now. We will be here."),
    )
    library = TemplateLibrary.load(path)
    assert library.get("closing", "de").key == "closing/de@v1"
    assert library.get("closing", "en").key == "closing/en@v2"
    assert {"closing/en@v1", "closing/en@v2"} <= set(library.by_key)  # old drafts still find theirs
    assert render(library.get("closing", "de"), **VALUES) == "Hallo «Sam Lee», danke! Ihr «Acme»-Team."
    assert library.get("closing", "zh") == SHIPPED.get("closing", "zh")
    assert len(library.all()) == len(SHIPPED.all()) + 1


def test_the_newest_version_wins_whatever_the_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        entry("resolved", "en", 3, "v3 {{ customer }}") + entry("resolved", "en", 2, "v2 {{ customer }}"),
    )
    assert TemplateLibrary.load(path).get("resolved", "en").body == "v3 {{ customer }}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            entry("closing", "en", 2, "Bye {{ customr }}"),
            r"closing/en@v2 in .*unknown variable\(s\) \['customr'\]",
        ),
        (entry("closing", "en", 2, "{{ os.environ }}"), r"unknown variable\(s\) \['os'\]"),
        (entry("thanks", "en", 1, "Hi {{ customer }}"), "thanks/en@v1 .*unknown situation"),
        (entry("first_response", "en", 2, "Hi {{ customer }}, soon."), "must promise a reply time"),
        (entry("closing", "en", 2, "Bye {{ customer "), "closing/en@v2 in "),
        (entry("closing", "en", 2, "{% if %}"), "closing/en@v2 in "),
        ('[[templates]]\nsituation = "closing"\nlang = "en"\nversion = 2\n', "KeyError\\('body'\\)"),
        ('[[templates]]\nsituation = "closing"\nlang = "en"\nversion = "two"\nbody = "x"\n', "ValueError"),
        ("[[templates]\n", "TOMLDecodeError"),
    ],
    ids=[
        "misspelt-variable",
        "foreign-name",
        "unknown-situation",
        "first-response-without-reply-time",
        "unclosed-expression",
        "bad-tag",
        "no-body",
        "version-not-a-number",
        "bad-toml",
    ],
)
def test_a_bad_user_template_is_refused_at_load_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError, match=message) as err:
        TemplateLibrary.load(path)
    assert str(path) in str(err.value)


def test_a_missing_user_file_is_a_settings_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"cannot read templates .*nowhere\.toml"):
        TemplateLibrary.load(tmp_path / "nowhere.toml")


def test_undefined_names_fail_loudly_rather_than_render_blank() -> None:
    # The load check stops unknown names; a template built by hand still never renders a blank.
    with pytest.raises(UndefinedError):
        render(Template("closing", "en", 1, "Hi {{ nobody }}"), **VALUES)


# --- reply_by_text ----------------------------------------------------------------------------------------

BEFORE_DUE = datetime(2026, 11, 26, 12, tzinfo=UTC)  # the draft is written while the promise is ahead


@pytest.mark.parametrize(
    ("lang", "tz", "text"),
    [
        ("en", "UTC", "10:30 (UTC) on 2026-11-27"),
        (None, "UTC", "10:30 (UTC) on 2026-11-27"),
        ("fr", "UTC", "10:30 (UTC) on 2026-11-27"),
        ("en", "Asia/Shanghai", "18:30 (Asia/Shanghai) on 2026-11-27"),
        ("zh", "Asia/Shanghai", "11月27日 18:30（北京时间）"),
        ("zh", "UTC", "11月27日 10:30（UTC 时间）"),
        ("zh", "Europe/London", "11月27日 10:30（Europe/London 时间）"),
        ("en", "Pacific/Auckland", "23:30 (Pacific/Auckland) on 2026-11-27"),
        ("zh", "Pacific/Kiritimati", "11月28日 00:30（Pacific/Kiritimati 时间）"),  # UTC+14: the next day
    ],
)
def test_reply_by_text_in_the_teams_zone_and_the_customers_language(
    lang: str | None, tz: str, text: str
) -> None:
    assert reply_by_text(datetime(2026, 11, 27, 10, 30, tzinfo=UTC), lang, tz, now=BEFORE_DUE) == text


@given(
    moment=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31), timezones=st.just(UTC)),
    offset=st.integers(-12, 14),
)
@settings(max_examples=200, deadline=None)
def test_reply_by_text_names_the_local_day_and_minute(moment: datetime, offset: int) -> None:
    zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT-8 is UTC+8
    local = moment.astimezone(timezone(timedelta(hours=offset)))
    earlier = moment - timedelta(minutes=1)
    assert reply_by_text(moment, "zh", zone, now=earlier) == (
        f"{local.month}月{local.day}日 {local:%H:%M}（{zone} 时间）"
    )
    assert reply_by_text(moment, "en", zone, now=earlier) == f"{local:%H:%M} ({zone}) on {local:%Y-%m-%d}"


@pytest.mark.parametrize(
    ("lang", "tz", "text"),
    [
        # Due yesterday; now is 14:07 UTC, so 2 h of (round-the-clock) time and the next quarter hour.
        ("en", "Europe/London", "16:15 (Europe/London) on 2026-11-27"),
        ("zh", "Asia/Shanghai", "11月28日 00:15（北京时间）"),
        ("zh", "Europe/London", "11月27日 16:15（Europe/London 时间）"),
    ],
)
def test_a_promise_already_past_becomes_the_urgent_target_from_now(lang: str, tz: str, text: str) -> None:
    now = datetime(2026, 11, 27, 14, 7, 30, tzinfo=UTC)
    assert reply_by_text(now - timedelta(days=1), lang, tz, now=now) == text
    assert reply_by_text(now, lang, tz, now=now) == text  # due this very instant is past too


def test_a_past_promise_follows_the_teams_working_hours() -> None:
    office = BusinessHours(timezone="Europe/London", start="09:00", end="17:00")  # type: ignore[arg-type]
    friday_evening = datetime(2026, 11, 27, 18, 40, tzinfo=UTC)
    sla = SlaSettings(urgent_first_response_hours=2, business_hours=office)
    text = reply_by_text(
        friday_evening - timedelta(hours=3), "en", "Europe/London", now=friday_evening, sla=sla
    )
    assert text == "11:00 (Europe/London) on 2026-11-30"  # Monday, two working hours in


@given(
    due=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    now=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    tz=st.sampled_from(["UTC", "Europe/London", "Asia/Shanghai", "America/New_York", "Australia/Sydney"]),
)
@settings(max_examples=150, deadline=None)
def test_the_promise_is_never_in_the_past_and_always_names_its_zone(
    due: datetime, now: datetime, tz: str
) -> None:
    english = reply_by_text(due, "en", tz, now=now)
    shown = re.fullmatch(r"(\d\d:\d\d) \((.+)\) on (\d{4}-\d\d-\d\d)", english)
    assert shown is not None and shown[2] == tz
    clock = shown[1]
    wall = datetime.fromisoformat(f"{shown[3]}T{clock}").replace(tzinfo=ZoneInfo(tz))
    # To the minute shown; a wall time that happens twice may be its second occurrence.
    assert any(w > now - timedelta(minutes=1) for w in (wall, wall.replace(fold=1)))
    chinese = reply_by_text(due, "zh", tz, now=now)
    assert chinese.endswith("（北京时间）" if tz == "Asia/Shanghai" else f"（{tz} 时间）")
    assert f" {clock}（" in chinese


def test_a_naive_due_time_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="2026-11-27T10:30:00"):
        reply_by_text(datetime(2026, 11, 27, 10, 30), "en", "UTC", now=BEFORE_DUE)
