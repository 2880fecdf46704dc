"""Trends and the monthly report, read from fresh DuckDB stores seeded through the real stages.

``insights.trends`` and ``insights.report`` turn stored scores into what leaders see:
daily sentiment by a breakdown, negatives per day for the spike rule, net sentiment,
and a month's figures rendered as HTML. The pure parts (``negatives_per_day``,
``net_sentiment``, ``month_bounds``) are checked as properties; the store reads on
small seeded weeks whose every number is known, both at fixed times (``read_trends``,
``monthly_figures``) and against the real clock (``trend_figures`` reads it itself).
The report must show whatever the store holds as text, never as markup.
"""

from __future__ import annotations

import calendar
import shutil
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.report import month_bounds, monthly_figures, net_sentiment, render_html
from insights.spikes import check, daily_spikes, record_spike
from insights.trends import negatives_per_day, read_trends, trend_figures
from responders.decide import decide
from sentiment.themes import theme_labels, urgent_theme_ids
from tests.builders import MODEL, NOW, Post, fresh_store, seed_posts, team_settings
from voxwatch.domain import Mention, RawResponse, Score
from voxwatch.settings import Settings
from voxwatch.store import Store, queries, stages, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

DAY = timedelta(days=1)
LABELS = ("negative", "neutral", "positive")


def midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def acme(tmp_path: Path) -> tuple[Settings, Store]:
    settings = team_settings(tmp_path)
    return settings, fresh_store(settings)


def seed_scored(
    store: Store,
    rows: Sequence[tuple[str, datetime]],
    *,
    source: str = "blog",
    lang: str = "en",
    themes: tuple[str, ...] = (),
    tag: str = "m",
    text: str = "acme",
) -> None:
    """One mention per (label, published_at), scored with that label: positives too, unlike seed_posts."""
    mentions = [
        Mention(f"{tag}-{i}", f"{text} ({tag} {i})", author=f"{tag}-author", published_at=at, lang=lang)
        for i, (_, at) in enumerate(rows)
    ]
    raw = RawResponse(f"https://example.com/{source}", 200, {}, f"seed {tag}".encode(), datetime.now(UTC))
    stages.save_page(store, source, raw, mentions)
    known = store.read(lambda conn: queries.unscored_mentions(conn, MODEL, 10_000))
    by_text = {m.text: m.id for m in known}
    scored = []
    for mention, (label, _) in zip(mentions, rows, strict=True):
        probs = {name: (0.8 if name == label else 0.1) for name in LABELS}
        scored.append((by_text[mention.text], Score(label, probs, MODEL, themes)))
    stages.save_scores(store, scored)


def route(store: Store, settings: Settings) -> None:
    """Triage and route whatever is scored and not yet triaged, as the route flow does."""
    found, load = store.read(
        lambda conn: (
            queries.untriaged(conn, MODEL, settings.routing.negative_threshold),
            queries.open_load(conn),
        )
    )
    stages.save_decisions(store, decide(settings, found, load, urgent_theme_ids()))


# --- negatives_per_day ---------------------------------------------------------------


BASE = utc(2026, 3, 1)
daily_rows = st.lists(
    st.fixed_dictionaries(
        {
            "day": st.integers(min_value=0, max_value=40).map(lambda d: BASE + d * DAY),
            "source": st.sampled_from(["blog", "shop"]),
            "label": st.sampled_from(LABELS),
            "mentions": st.integers(min_value=1, max_value=50),
        }
    ),
    max_size=30,
)
moments = st.integers(min_value=0, max_value=40 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))


@given(daily_rows, moments, moments)
@settings(max_examples=300, deadline=None)
def test_negatives_per_day_covers_each_day_once_in_order(rows: list[dict], a: datetime, b: datetime) -> None:
    start, end = min(a, b), max(a, b)
    series = negatives_per_day(rows, start, end)
    days = [day for day, _ in series]
    assert days[0] == midnight(start) and days[-1] == midnight(end)
    assert all(later - earlier == DAY for earlier, later in pairwise(days))
    assert len(days) == (midnight(end) - midnight(start)).days + 1


@given(daily_rows, moments, moments)
@settings(max_examples=300, deadline=None)
def test_negatives_per_day_sums_the_negatives_of_each_day(rows: list[dict], a: datetime, b: datetime) -> None:
    start, end = min(a, b), max(a, b)
    series = dict(negatives_per_day(rows, start, end))
    expected: Counter[datetime] = Counter()
    for row in rows:
        if row["label"] == "negative":
            expected[row["day"]] += row["mentions"]
    for day, count in series.items():
        assert count == expected[day]  # zero when the day had none
    inside = sum(n for day, n in expected.items() if midnight(start) <= day <= midnight(end))
    assert sum(series.values()) == inside


def test_negatives_per_day_ignores_other_labels_and_is_empty_backwards() -> None:
    rows = [
        {"day": BASE, "source": "blog", "label": "positive", "mentions": 9},
        {"day": BASE, "source": "shop", "label": "neutral", "mentions": 4},
    ]
    assert negatives_per_day(rows, BASE, BASE + DAY) == [(BASE, 0), (BASE + DAY, 0)]
    assert negatives_per_day(rows, BASE + DAY, BASE) == []


# --- net sentiment ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("totals", "net"),
    [
        ({}, None),
        ({"neutral": 40}, None),
        ({"positive": 3}, 1.0),
        ({"negative": 3}, -1.0),
        ({"positive": 3, "negative": 1}, 0.5),
        ({"positive": 1, "negative": 3, "neutral": 100}, -0.5),  # neutral does not dilute it
        ({"positive": 5, "negative": 5}, 0.0),
        ({"positive": 0, "negative": 0}, None),
    ],
)
def test_net_sentiment_table(totals: dict[str, int], net: float | None) -> None:
    assert net_sentiment(totals) == net


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
@settings(max_examples=300, deadline=None)
def test_net_sentiment_is_bounded_and_signed(pos: int, neg: int, neu: int) -> None:
    net = net_sentiment({"positive": pos, "negative": neg, "neutral": neu})
    if pos + neg == 0:
        assert net is None
        return
    assert net is not None and -1.0 <= net <= 1.0
    assert (net > 0) is (pos > neg) and (net < 0) is (neg > pos)
    assert net_sentiment({"positive": neg, "negative": pos}) == pytest.approx(-net)  # symmetric


# --- month bounds ------------------------------------------------------------------------


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31)))
@settings(max_examples=300, deadline=None)
def test_month_bounds_hold_the_day_and_start_on_the_first(day: date) -> None:
    start, end = month_bounds(day)
    assert start < end and start.tzinfo == UTC and end.tzinfo == UTC
    assert start.day == 1 and end.day == 1 and start.time() == end.time() == datetime.min.time()
    assert start.date() <= day < end.date()
    assert (end - start).days == calendar.monthrange(day.year, day.month)[1]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 11, 30)))
@settings(max_examples=200, deadline=None)
def test_consecutive_months_abut(day: date) -> None:
    _, end = month_bounds(day)
    next_start, _ = month_bounds(end.date())
    assert next_start == end
    prev_start, prev_end = month_bounds(month_bounds(day)[0].date() - DAY)
    assert prev_end == month_bounds(day)[0] and prev_start < prev_end


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 12, 31), utc(2026, 12, 1), utc(2027, 1, 1)),
        (date(2026, 1, 1), utc(2026, 1, 1), utc(2026, 2, 1)),
        (date(2028, 2, 29), utc(2028, 2, 1), utc(2028, 3, 1)),
        (date(2026, 11, 23), utc(2026, 11, 1), utc(2026, 12, 1)),
    ],
)
def test_month_bounds_table(day: date, start: datetime, end: datetime) -> None:
    assert month_bounds(day) == (start, end)


# --- read_trends at a fixed time ---------------------------------------------------------

SINCE = NOW - timedelta(days=7)  # 2026-11-16 09:00; the baseline starts 2026-11-09 09:00


def seed_week(store: Store) -> None:
    """A known week before NOW (2026-11-23 09:00), its baseline, and one mention before both."""
    seed_scored(store, [("negative", NOW - timedelta(hours=1))] * 2, tag="today")
    seed_scored(store, [("negative", NOW - 3 * DAY)], themes=("delivery", "price"), tag="d20b")
    seed_scored(
        store, [("negative", NOW - 3 * DAY)], source="shop", lang="zh", themes=("delivery",), tag="d20s"
    )
    seed_scored(store, [("positive", NOW - DAY)] * 2, source="shop", lang="zh", tag="d22")
    seed_scored(store, [("neutral", NOW - 2 * DAY)], tag="d21")
    seed_scored(store, [("negative", NOW - 11 * DAY)] * 3, tag="baseline")
    seed_scored(store, [("negative", NOW - 20 * DAY)], tag="old")


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One seeded week shared by the read-only tests below."""
    store = fresh_store(team_settings(tmp_path_factory.mktemp("week")))
    seed_week(store)
    return store


def test_read_trends_by_source(week: Store) -> None:
    store = week
    got = store.read(lambda conn: read_trends(conn, MODEL, SINCE, NOW, "source"))
    assert got["first_day"] == utc(2026, 11, 16)
    rows = [(r["day"], r["source"], r["label"], r["mentions"]) for r in got["daily"]]
    assert rows == [
        (utc(2026, 11, 20), "blog", "negative", 1),
        (utc(2026, 11, 20), "shop", "negative", 1),
        (utc(2026, 11, 21), "blog", "neutral", 1),
        (utc(2026, 11, 22), "shop", "positive", 2),
        (utc(2026, 11, 23), "blog", "negative", 2),
    ]
    assert got["totals"] == {"negative": 4, "neutral": 1, "positive": 2}
    negatives = dict(got["negatives"])
    assert list(negatives) == [utc(2026, 11, 9) + i * DAY for i in range(15)]  # the baseline week first
    assert {d.day: n for d, n in negatives.items() if n} == {12: 3, 20: 2, 23: 2}
    assert got["themes"] == []  # nothing was triaged as a complaint
    assert got["kpis"]["median_first_response_hours"] is None and got["kpis"]["open_backlog_by_age"] == {}


def test_read_trends_by_language_counts_the_same_mentions(week: Store) -> None:
    store = week
    by_source = store.read(lambda conn: read_trends(conn, MODEL, SINCE, NOW, "source"))
    by_language = store.read(lambda conn: read_trends(conn, MODEL, SINCE, NOW, "language"))
    assert {(r["day"], r["language"], r["label"], r["mentions"]) for r in by_language["daily"]} == {
        (utc(2026, 11, 20), "en", "negative", 1),
        (utc(2026, 11, 20), "zh", "negative", 1),
        (utc(2026, 11, 21), "en", "neutral", 1),
        (utc(2026, 11, 22), "zh", "positive", 2),
        (utc(2026, 11, 23), "en", "negative", 2),
    }
    assert by_language["negatives"] == by_source["negatives"]
    assert by_language["totals"] == by_source["totals"]


def test_read_trends_by_theme_counts_a_mention_under_each_theme(week: Store) -> None:
    store = week
    got = store.read(lambda conn: read_trends(conn, MODEL, SINCE, NOW, "theme"))
    by_day_theme = {(r["day"].day, r["theme"], r["label"]): r["mentions"] for r in got["daily"]}
    assert by_day_theme == {
        (20, "delivery", "negative"): 2,
        (20, "price", "negative"): 1,
        (21, "none", "neutral"): 1,
        (22, "none", "positive"): 2,
        (23, "none", "negative"): 2,
    }
    assert sum(by_day_theme.values()) == 8  # one more than the 7 mentions: one has two themes
    # the spike series and the totals still count each mention once
    by_source = store.read(lambda conn: read_trends(conn, MODEL, SINCE, NOW, "source"))
    assert got["negatives"] == by_source["negatives"]
    assert got["totals"] == {"negative": 4, "neutral": 1, "positive": 2}


def test_read_trends_refuses_an_unknown_breakdown(acme: tuple[Settings, Store]) -> None:
    _, store = acme
    with pytest.raises(ValueError, match="unknown breakdown"):
        store.read(lambda conn: read_trends(conn, MODEL, SINCE, NOW, "author; DROP TABLE scores"))


def test_read_trends_reads_only_its_own_models_scores(week: Store) -> None:
    store = week
    got = store.read(lambda conn: read_trends(conn, "another-model", SINCE, NOW, "source"))
    assert got["daily"] == [] and got["totals"] == {}
    assert all(n == 0 for _, n in got["negatives"]) and len(got["negatives"]) == 15


# --- trend_figures against the real clock ------------------------------------------------


def test_trend_figures_marks_every_shown_day_with_its_negatives(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    now = datetime.now(UTC)
    negatives = [now - timedelta(minutes=m) for m in (30, 31, 32, 2 * 1440, 5 * 1440, 9 * 1440)]
    seed_scored(store, [("negative", at) for at in negatives], tag="neg")
    seed_scored(store, [("positive", now - DAY), ("positive", now - 2 * DAY)], tag="pos")
    seed_scored(store, [("neutral", now - DAY)], tag="neu")

    figures = trend_figures(store, settings, MODEL, days=7, by="source")
    shown = figures["spikes"]
    first_day = midnight(now - timedelta(days=7))
    assert figures["first_day"] == first_day
    assert [d["day"] for d in shown] == [first_day + i * DAY for i in range(8)]  # 7 days back to today
    expected = Counter(midnight(at) for at in negatives if midnight(at) >= first_day)
    assert [d["negative"] for d in shown] == [expected[d["day"]] for d in shown]
    assert sum(d["negative"] for d in shown) == 5  # the 9-day-old one is only baseline
    assert figures["net_sentiment"] == pytest.approx((2 - 5) / 7)
    assert not any(d["spike"] for d in shown)
    assert sum(r["mentions"] for r in figures["daily"]) == 8
    assert set(figures) == {"daily", "lines", "totals_daily", "first_day", "themes", "kpis", "spikes"} | {
        "totals",
        "volume",
        "net_sentiment",
    }


def test_trend_figures_marks_a_burst_after_a_quiet_week(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    now = datetime.now(UTC)
    noon = midnight(now) + timedelta(hours=12)  # every mention at noon of its day, whatever the hour now
    seed_scored(store, [("negative", noon - d * DAY) for d in range(2, 12)], tag="quiet")  # one a day
    burst = noon - DAY
    seed_scored(store, [("negative", burst - timedelta(minutes=i)) for i in range(8)], tag="burst")

    for by in ("source", "language", "theme"):
        figures = trend_figures(store, settings, MODEL, days=30, by=by)
        fired = [d for d in figures["spikes"] if d["spike"]]
        assert [d["day"] for d in fired] == [midnight(burst)], by
        assert fired[0]["negative"] == 8 and fired[0]["threshold"] == 1.0  # mean 1, sd 0
        assert fired[0]["why"] == check(8, [1] * 7, settings.spikes).explain(settings.spikes.k)
        assert figures["net_sentiment"] == -1.0  # only negatives


def test_trend_figures_without_data(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    figures = trend_figures(store, settings, MODEL, days=30)
    assert figures["daily"] == [] and figures["themes"] == [] and figures["net_sentiment"] is None
    assert len(figures["spikes"]) == 31 and not any(d["spike"] for d in figures["spikes"])
    assert all(d["negative"] == 0 and d["threshold"] == 0.0 for d in figures["spikes"])


def test_trend_figures_list_the_top_complaint_themes(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    now = datetime.now(UTC)
    seed_posts(
        store,
        settings,
        [
            Post("acme charged me twice for one order", minutes_ago=60),
            Post("acme charged me twice again, I want a refund", author="zoe", minutes_ago=90),
            Post("my acme parcel never arrived, the delivery is late", author="yan", minutes_ago=120),
            Post("acme is fine I guess", p_negative=0.2, author="xi", minutes_ago=30),
        ],
        now=now,
    )
    figures = trend_figures(store, settings, MODEL, days=7)
    assert figures["themes"] == [
        {"theme": "refund_billing", "complaints": 2},
        {"theme": "delivery", "complaints": 1},
    ]
    assert sum(figures["kpis"]["open_backlog_by_age"].values()) == 3  # three complaints became cases


# --- the monthly report ------------------------------------------------------------------

OCTOBER = date(2026, 10, 17)
HOSTILE_TEXT = "acme charged me twice <script>alert(1)</script> <img src=x onerror=alert(2)>"


def seed_autumn(store: Store, settings: Settings) -> None:
    """September and October 2026: complaints with themes, praise, a burst on 25 October."""
    seed_posts(
        store,
        settings,
        [
            Post(HOSTILE_TEXT, author="<img src=x onerror=alert(3)>", minutes_ago=60),
            Post("acme charged me twice again, refund now", author="zoe", minutes_ago=120),
            Post("my acme parcel never arrived, delivery is late", author="yan", minutes_ago=180),
        ],
        now=utc(2026, 10, 20, 12),
    )
    seed_posts(store, settings, [Post("acme charged me twice in september")], now=utc(2026, 9, 10, 12))
    seed_scored(store, [("positive", utc(2026, 10, 3)), ("positive", utc(2026, 10, 4))], tag="oct+")
    seed_scored(store, [("neutral", utc(2026, 10, 5))], tag="oct=")
    seed_scored(store, [("positive", utc(2026, 9, 12))], tag="sep+")
    burst = [("negative", utc(2026, 10, 25, 12) - timedelta(minutes=i)) for i in range(6)]
    seed_scored(store, burst, source="shop", tag="burst")
    seed_scored(store, [("negative", utc(2026, 11, 2))], tag="nov")  # next month: not October's


@pytest.fixture(scope="module")
def autumn_seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded once; each test gets its own copy of the store file."""
    folder = tmp_path_factory.mktemp("autumn")
    settings = team_settings(folder)
    seed_autumn(fresh_store(settings), settings)
    return folder / "voxwatch.duckdb"


@pytest.fixture
def autumn(autumn_seeded: Path, tmp_path: Path) -> tuple[Settings, Store]:
    shutil.copy(autumn_seeded, tmp_path / "voxwatch.duckdb")
    settings = team_settings(tmp_path)
    return settings, store_for(settings)


def test_monthly_figures_for_a_seeded_month(autumn: tuple[Settings, Store]) -> None:
    settings, store = autumn
    figures = monthly_figures(store, settings, MODEL, OCTOBER)
    assert figures["brand"] == "Acme" and figures["month"] == "October 2026"
    assert figures["totals"] == {"negative": 9, "positive": 2, "neutral": 1}
    assert figures["previous_totals"] == {"negative": 1, "positive": 1}
    assert figures["volume"] == 12 and figures["previous_volume"] == 2
    assert figures["net"] == pytest.approx((2 - 9) / 11) and figures["previous_net"] == 0.0
    assert figures["top_themes"] == [
        {"theme": "refund_billing", "complaints": 2, "previous": 1},
        {"theme": "delivery", "complaints": 1, "previous": 0},
    ]
    assert figures["owners"] == []  # cases count in the month they were opened (today), not published


def test_monthly_spike_days_match_the_rule(autumn: tuple[Settings, Store]) -> None:
    settings, store = autumn
    figures = monthly_figures(store, settings, MODEL, OCTOBER)
    (spike,) = figures["spike_days"]
    assert spike["day"] == utc(2026, 10, 25) and spike["negative"] == 6
    history = [0, 0, 3, 0, 0, 0, 0]  # 18-24 October: the three complaints of the 20th
    assert spike["why"] == check(6, history, settings.spikes).explain(settings.spikes.k)
    # the same marks as the trends chart would draw from the same daily counts
    series = [(utc(2026, 9, 24) + i * DAY, 0) for i in range(38)]
    series = [
        (d, 3 if d.day == 20 and d.month == 10 else 6 if d == utc(2026, 10, 25) else 0) for d, _ in series
    ]
    assert [d for d in daily_spikes(series, settings.spikes) if d["spike"]] == [spike]


def test_spikes_told_in_the_month_are_counted(autumn: tuple[Settings, Store]) -> None:
    settings, store = autumn
    assert record_spike(settings, MODEL, utc(2026, 10, 25, 13)) is not None
    assert record_spike(settings, MODEL, utc(2026, 11, 2, 1)) is None  # a lone complaint is no spike
    october = monthly_figures(store, settings, MODEL, OCTOBER)
    november = monthly_figures(store, settings, MODEL, date(2026, 11, 5))
    assert len(october["spikes_told"]) == 1 and november["spikes_told"] == []
    assert "1 spike alert(s) went to the comms channel this month." in render_html(october)


def test_owners_are_this_months_cases(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    now = datetime.now(UTC)
    seed_posts(
        store,
        settings,
        [
            Post("acme charged me twice", minutes_ago=5),
            Post("acme lost my parcel, delivery late", author="q"),
        ],
        now=now,
    )
    figures = monthly_figures(store, settings, MODEL, now.date())
    owners = {o["owner"]: o for o in figures["owners"]}
    assert sum(o["cases"] for o in owners.values()) == 2
    assert all(o["still_open"] == o["cases"] and o["closed"] == 0 for o in owners.values())
    assert "amy" in owners or "ben" in owners
    html = render_html(figures)
    assert all(f"<tr><td>{name}</td>" in html for name in owners)


def test_the_report_html_shows_the_figures(autumn: tuple[Settings, Store]) -> None:
    settings, store = autumn
    html = render_html(monthly_figures(store, settings, MODEL, OCTOBER), "en", theme_labels("en"))
    assert "<title>Acme: reputation and care, October 2026</title>" in html
    assert '<td class="n" id="volume">12</td><td class="n">2</td>' in html
    assert f'<td class="n" id="net">{(2 - 9) / 11:.2f}</td><td class="n">0.00</td>' in html
    assert '<td class="n" id="first-response">-</td>' in html  # no reply yet: a dash, not "None"
    assert '<td>Refund / billing</td><td class="n">2</td><td class="n">1</td>' in html  # themes by label
    assert "<li>25 Oct 2026: 6 negative mentions in 24 h, above" in html  # dates as the locale writes them
    assert "No cases opened this month." in html


def test_an_empty_month_reads_as_empty(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    html = render_html(monthly_figures(store, settings, MODEL, date(2025, 1, 15)))
    assert '<td class="n" id="volume">0</td>' in html and '<td class="n" id="net">-</td>' in html
    assert "No complaints tagged with a theme this month." in html
    assert "No day rose above its 7-day baseline." in html
    assert "Open backlog now, by age:\nnone." in html


def test_hostile_text_in_the_store_never_becomes_markup(autumn: tuple[Settings, Store]) -> None:
    settings, store = autumn
    hostile_theme = "<img src=x onerror=alert(4)>"
    seed_scored(
        store,
        [("negative", utc(2026, 10, 9))],
        themes=(hostile_theme,),
        tag="<script>t</script>",
        text=HOSTILE_TEXT,
    )
    route(store, settings)
    figures = monthly_figures(store, settings, MODEL, OCTOBER)
    assert {"theme": hostile_theme, "complaints": 1, "previous": 0} in figures["top_themes"]
    html = render_html(figures)
    assert "<td>&lt;img src=x onerror=alert(4)&gt;</td>" in html  # shown, as text
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "onerror=alert(4)>" not in lowered


@pytest.mark.parametrize(
    ("field", "value", "escaped"),
    [
        ("brand", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("brand", "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("brand", 'Acme & Sons "quoted"', "Acme &amp; Sons &#34;quoted&#34;"),
    ],
)
def test_report_fields_are_escaped(
    acme: tuple[Settings, Store], field: str, value: str, escaped: str
) -> None:
    settings, store = acme
    figures: dict[str, Any] = monthly_figures(store, settings, MODEL, OCTOBER)
    figures[field] = value
    html = render_html(figures)
    assert html.count(escaped) == 2  # the title and the heading
    assert value not in html
    assert "<script" not in html.lower() and "<img" not in html.lower()


def test_report_data_is_never_rendered_as_a_template(acme: tuple[Settings, Store]) -> None:
    settings, store = acme
    figures: dict[str, Any] = monthly_figures(store, settings, MODEL, OCTOBER)
    figures["brand"] = "{{ 7*7 }}{% if true %}yes{% endif %}"
    html = render_html(figures)
    assert "<h1>{{ 7*7 }}{% if true %}yes{% endif %}: reputation and care, October 2026</h1>" in html
