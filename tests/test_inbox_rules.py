"""The inbox's pure rules and the dashboard's display helpers, as tables and properties.

``responders.inbox`` decides which cases a responder sees for the filters chosen and
which are breached; ``dashboard.display`` words countdowns and decides which links are
safe to click. Both are pure, so every rule is checked on many inputs directly: a
filter that drops or reorders a case hides work, a countdown with the wrong sign
tells someone they have time when they do not, and a clickable ``javascript:`` link
from a post would run in the responder's browser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.display import due_in, safe_link
from responders.inbox import filter_cases, is_breached

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FIELDS = ("source", "lang", "tier", "owner", "status")

SOURCES = ["blog", "shop", "reddit"]
LANGS = ["en", "zh", None]
TIERS = ["urgent", "normal"]
OWNERS = ["amy", "ben", None]
STATUSES = ["new", "assigned", "drafting"]
THEMES = ["delivery", "price", "staff"]


def case(
    source: str = "blog",
    lang: str | None = "en",
    tier: str = "normal",
    owner: str | None = "amy",
    status: str = "assigned",
    themes: list[str] | None = None,
    ident: int = 0,
) -> dict[str, Any]:
    return {
        "case_id": f"c{ident}",
        "source": source,
        "lang": lang,
        "tier": tier,
        "owner": owner,
        "status": status,
        "themes": themes,
    }


cases_strategy = st.lists(
    st.builds(
        case,
        source=st.sampled_from(SOURCES),
        lang=st.sampled_from(LANGS),
        tier=st.sampled_from(TIERS),
        owner=st.sampled_from(OWNERS),
        status=st.sampled_from(STATUSES),
        themes=st.one_of(st.none(), st.lists(st.sampled_from(THEMES), max_size=3, unique=True)),
    ),
    max_size=12,
).map(lambda cs: [c | {"case_id": f"c{i}"} for i, c in enumerate(cs)])

# What a person may pick in each filter: the values the page offers, "(none)" for a missing one.
choices_strategy = st.fixed_dictionaries(
    {},
    optional={
        "source": st.lists(st.sampled_from(SOURCES), max_size=3, unique=True),
        "lang": st.lists(st.sampled_from(["en", "zh", "(none)"]), max_size=3, unique=True),
        "tier": st.lists(st.sampled_from(TIERS), max_size=2, unique=True),
        "owner": st.lists(st.sampled_from(["amy", "ben", "(none)"]), max_size=3, unique=True),
        "status": st.lists(st.sampled_from(STATUSES), max_size=3, unique=True),
        "themes": st.lists(st.sampled_from(THEMES), max_size=3, unique=True),
    },
)


def matches(one: dict[str, Any], field: str, values: list[str]) -> bool:
    """The filter rule restated: no choice keeps all; themes match on any; None counts as "(none)"."""
    if not values:
        return True
    if field == "themes":
        return any(t in values for t in one["themes"] or [])
    return (one[field] if one[field] is not None else "(none)") in values


# --- filter_cases ----------------------------------------------------------------------


@given(cases_strategy, choices_strategy)
@settings(max_examples=200, deadline=None)
def test_filtering_keeps_a_subsequence_in_the_same_order(cases: list[dict], chosen: dict) -> None:
    kept = filter_cases(cases, **chosen)
    ids = [c["case_id"] for c in cases]
    positions = [ids.index(c["case_id"]) for c in kept]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert all(any(k is c for c in cases) for k in kept)  # the same case objects, never copies


@given(cases_strategy, choices_strategy)
@settings(max_examples=200, deadline=None)
def test_a_case_is_kept_exactly_when_every_chosen_filter_matches(cases: list[dict], chosen: dict) -> None:
    kept_ids = {c["case_id"] for c in filter_cases(cases, **chosen)}
    for one in cases:
        expected = all(matches(one, field, values) for field, values in chosen.items())
        assert (one["case_id"] in kept_ids) is expected, (one, chosen)


@given(cases_strategy)
@settings(max_examples=100, deadline=None)
def test_no_filters_or_empty_choices_keep_every_case(cases: list[dict]) -> None:
    assert filter_cases(cases) == cases
    assert filter_cases(cases, **{f: [] for f in (*FIELDS, "themes")}) == cases


@given(cases_strategy, choices_strategy, choices_strategy)
@settings(max_examples=150, deadline=None)
def test_filtering_twice_is_filtering_by_both(cases: list[dict], first: dict, second: dict) -> None:
    """Filters narrow: applying one set of choices after another never brings a case back."""
    once = filter_cases(cases, **first)
    twice = filter_cases(once, **second)
    assert all(c in once for c in twice)
    if not set(first) & set(second):
        assert twice == filter_cases(cases, **first, **second)
        assert twice == filter_cases(filter_cases(cases, **second), **first)


@given(cases_strategy, st.sampled_from(FIELDS))
@settings(max_examples=100, deadline=None)
def test_choosing_every_value_of_a_field_keeps_every_case(cases: list[dict], field: str) -> None:
    everything = sorted({c[field] if c[field] is not None else "(none)" for c in cases})
    assert filter_cases(cases, **{field: everything}) == cases


CASES = [
    case("blog", "en", "urgent", "amy", "assigned", ["delivery"], 0),
    case("shop", "zh", "normal", None, "new", ["price", "delivery"], 1),
    case("shop", None, "normal", "ben", "drafting", [], 2),
    case("reddit", "en", "urgent", None, "new", None, 3),
]


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({}, [0, 1, 2, 3]),
        ({"source": ["shop"]}, [1, 2]),
        ({"source": ["shop", "reddit"]}, [1, 2, 3]),
        ({"source": ["nowhere"]}, []),
        ({"lang": ["(none)"]}, [2]),
        ({"lang": ["en"], "tier": ["urgent"]}, [0, 3]),
        ({"owner": ["(none)"]}, [1, 3]),
        ({"owner": ["(none)"], "status": ["new"], "source": ["reddit"]}, [3]),
        ({"themes": ["delivery"]}, [0, 1]),
        ({"themes": ["price", "staff"]}, [1]),
        ({"themes": ["staff"]}, []),
        ({"themes": ["delivery"], "lang": ["zh"]}, [1]),
        ({"tier": ["urgent"], "status": ["drafting"]}, []),
    ],
)
def test_filter_table(chosen: dict[str, list[str]], expected: list[int]) -> None:
    assert filter_cases(CASES, **chosen) == [CASES[i] for i in expected]


def test_a_missing_value_is_not_matched_by_the_word_none() -> None:
    """Only the page's "(none)" option selects an empty field; a literal "None" does not."""
    assert filter_cases(CASES, owner=["None"]) == []
    assert filter_cases(CASES, owner=[None]) == []  # type: ignore[list-item]


# --- is_breached -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "escalated", "breached"),
    [
        (NOW + timedelta(hours=1), None, False),
        (NOW + timedelta(seconds=1), None, False),
        (NOW, None, False),  # due exactly now: not yet past it
        (NOW - timedelta(seconds=1), None, True),
        (NOW - timedelta(days=3), None, True),
        (NOW + timedelta(hours=5), NOW - timedelta(minutes=1), True),  # escalated counts as breached
        (NOW - timedelta(hours=5), NOW, True),
    ],
)
def test_breach_table(due: datetime, escalated: datetime | None, breached: bool) -> None:
    assert is_breached({"first_response_due": due, "escalated_at": escalated}, NOW) is breached


def test_a_case_without_an_escalation_field_is_judged_by_its_due_time() -> None:
    assert not is_breached({"first_response_due": NOW + timedelta(minutes=1)}, NOW)
    assert is_breached({"first_response_due": NOW - timedelta(minutes=1)}, NOW)


def test_breach_defaults_to_the_real_clock() -> None:
    real_now = datetime.now(UTC)
    assert is_breached({"first_response_due": real_now - timedelta(minutes=5), "escalated_at": None})
    assert not is_breached({"first_response_due": real_now + timedelta(hours=5), "escalated_at": None})


@given(st.integers(min_value=-(10**7), max_value=10**7))
@settings(max_examples=200, deadline=None)
def test_breach_flips_once_at_the_due_time(seconds: int) -> None:
    due = NOW + timedelta(seconds=seconds)
    assert is_breached({"first_response_due": due, "escalated_at": None}, NOW) is (seconds < 0)


# --- due_in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(minutes=80), "due in 1 h 20 min"),
        (timedelta(hours=2), "due in 2 h 0 min"),
        (timedelta(minutes=59, seconds=59), "due in 59 min"),
        (timedelta(seconds=59), "due in 0 min"),
        (timedelta(0), "due in 0 min"),
        (timedelta(seconds=-1), "overdue by 1 min"),  # a second late is a started minute late
        (timedelta(minutes=-1), "overdue by 1 min"),
        (timedelta(minutes=-5), "overdue by 5 min"),
        (timedelta(minutes=-60), "overdue by 1 h 0 min"),
        (timedelta(hours=-3, minutes=-5), "overdue by 3 h 5 min"),
        (timedelta(days=2, minutes=1), "due in 48 h 1 min"),
        (timedelta(days=-2), "overdue by 48 h 0 min"),
    ],
)
def test_due_in_table(delta: timedelta, words: str) -> None:
    assert due_in(NOW + delta, NOW) == words


WORDS = re.compile(r"^(due in|overdue by) (?:(\d+) h )?(\d+) min$")


@given(st.integers(min_value=-(10**8), max_value=10**8))
@settings(max_examples=300, deadline=None)
def test_due_in_reads_back_to_the_whole_minutes_left(seconds: int) -> None:
    words = due_in(NOW + timedelta(seconds=seconds), NOW)
    found = WORDS.match(words)
    assert found is not None, words
    verb, hours, mins = found.group(1), int(found.group(2) or 0), int(found.group(3))
    assert 0 <= mins < 60
    assert (hours > 0) is (found.group(2) is not None)  # "0 h" is never written
    whole = seconds // 60  # whole minutes, rounded down: late by a second is late by a minute
    assert (verb == "due in") is (whole >= 0)
    assert hours * 60 + mins == abs(whole)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**4))
@settings(max_examples=100, deadline=None)
def test_more_time_left_never_reads_as_less(seconds: int, extra: int) -> None:
    def minutes(words: str) -> int:
        found = WORDS.match(words)
        assert found is not None
        return int(found.group(2) or 0) * 60 + int(found.group(3))

    sooner = due_in(NOW + timedelta(seconds=seconds), NOW)
    later = due_in(NOW + timedelta(seconds=seconds + extra), NOW)
    assert minutes(later) >= minutes(sooner)


def test_due_in_defaults_to_the_real_clock() -> None:
    assert due_in(datetime.now(UTC) + timedelta(hours=3, minutes=30)) in {
        "due in 3 h 29 min",
        "due in 3 h 30 min",
    }
    assert due_in(datetime.now(UTC) - timedelta(hours=1)).startswith("overdue by 1 h")


# --- safe_link -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/p/1",
        "http://example.com/",
        "HTTPS://EXAMPLE.COM/shout",  # schemes are case-insensitive
        "https://example.com/search?q=<script>&x=1#frag",
        "http://127.0.0.1:8080/feed.xml",
    ],
)
def test_web_links_are_kept_as_given(url: str) -> None:
    assert safe_link(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "mailto:someone@example.com",
        "//evil.test/x",  # scheme-relative: not plainly http(s)
        "example.com/page",
        "/relative/path",
        "httpx://example.com",
    ],
)
def test_anything_but_http_is_not_made_clickable(url: str | None) -> None:
    assert safe_link(url) is None


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_a_kept_link_is_the_input_and_starts_with_http(text: str) -> None:
    kept = safe_link(text)
    if kept is not None:
        assert kept == text
        # urlsplit ignores leading C0 controls and spaces, as browsers do, and drops tabs and newlines.
        cleaned = text.lstrip("".join(map(chr, range(33)))).replace("\t", "").replace("\n", "")
        cleaned = cleaned.replace("\r", "").lower()
        assert cleaned.startswith(("http:", "https:"))


@given(st.sampled_from(["javascript", "data", "vbscript", "file", "blob"]), st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_script_schemes_are_never_kept(scheme: str, rest: str) -> None:
    assert safe_link(f"{scheme}:{rest}") is None
    assert safe_link(f"{scheme.upper()}:{rest}") is None


@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z0-9.-]{1,20}(/[a-z0-9_?=&%-]{0,20})?", fullmatch=True),
)
@settings(max_examples=100, deadline=None)
def test_every_plain_web_address_is_kept(scheme: str, rest: str) -> None:
    url = f"{scheme}://{rest}"
    assert safe_link(url) == url
