"""The dashboard's small pure helpers: filters, links, due-time wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.display import due_in, safe_link
from responders.inbox import filter_cases, is_breached

CASES = [
    {
        "source": "reddit",
        "themes": ["delivery"],
        "lang": "en",
        "tier": "urgent",
        "owner": "amy",
        "status": "assigned",
    },
    {
        "source": "shop",
        "themes": ["price", "delivery"],
        "lang": "zh",
        "tier": "normal",
        "owner": None,
        "status": "new",
    },
    {"source": "shop", "themes": [], "lang": "en", "tier": "normal", "owner": "ben", "status": "drafting"},
]


def test_filters_combine_and_match_any_chosen_value() -> None:
    assert len(filter_cases(CASES)) == 3
    assert filter_cases(CASES, source=["shop"], lang=["en"]) == [CASES[2]]
    assert filter_cases(CASES, themes=["delivery"]) == CASES[:2]
    assert filter_cases(CASES, owner=["(none)"]) == [CASES[1]]


def test_only_plain_web_links_are_made_clickable() -> None:
    assert safe_link("https://example.com/p/1") == "https://example.com/p/1"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("data:text/html,<script>x</script>") is None
    assert safe_link(None) is None


def test_due_times_read_as_people_say_them() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert due_in(now + timedelta(minutes=80), now) == "due in 1 h 20 min"
    assert due_in(now - timedelta(minutes=5), now) == "overdue by 5 min"
    assert is_breached({"first_response_due": now - timedelta(minutes=1), "escalated_at": None}, now)
    assert not is_breached({"first_response_due": now + timedelta(hours=1), "escalated_at": None}, now)


def test_negatives_per_day_fill_quiet_days_with_zero() -> None:
    from insights.trends import negatives_per_day

    start = datetime(2026, 11, 1, 15, tzinfo=UTC)
    day = datetime(2026, 11, 2, tzinfo=UTC)
    daily = [
        {"day": day, "source": "a", "label": "negative", "mentions": 2},
        {"day": day, "source": "b", "label": "negative", "mentions": 3},
        {"day": day, "source": "a", "label": "positive", "mentions": 9},
    ]
    series = negatives_per_day(daily, start, start + timedelta(days=2))
    assert series == [(day - timedelta(days=1), 0), (day, 5), (day + timedelta(days=1), 0)]
