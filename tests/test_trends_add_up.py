"""Trends that add up (issue 17, point 5): totals independent of the breakdown, zero days drawn,
the period the data covers, and one definition of each headline figure.

A mention with three themes is one mention: per-day totals are the same whether the
lines below them are by source, language or theme. Every day of the period is in the
totals and in every line. The page's read model, the monthly report and the CSV give
the same volume and net sentiment for the same month; the pipeline summary and the
route flow count routed cases by the same rule.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from insights.kpis import net_sentiment
from insights.report import monthly_figures
from insights.trends import covered_days, period_choices, read_trends, totals_csv, trend_figures
from tests.builders import MODEL, fresh_store, team_settings
from voxwatch.domain import CaseStatus, Mention, RawResponse, Score
from voxwatch.settings import Settings
from voxwatch.store import Store, queries, stages
from voxwatch.store.queries.analytics import is_routed

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

LABELS = ("negative", "neutral", "positive")
THEMES = ("delivery", "price", "quality", "support")
SOURCES = ("blog", "shop", "forum")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_models = itertools.count()


def seed(store: Store, model_id: str, rows: list[tuple[str, str, int, tuple[str, ...]]]) -> None:
    """(source, label, days ago, themes) per mention, scored under ``model_id`` alone."""
    by_source: dict[str, list[tuple[Mention, str, tuple[str, ...]]]] = {}
    for i, (source, label, days_ago, themes) in enumerate(rows):
        at = NOW - timedelta(days=days_ago, minutes=i)
        mention = Mention(f"{model_id}-{i}", f"acme {model_id} {i}", author="a", published_at=at, lang="en")
        by_source.setdefault(source, []).append((mention, label, themes))
    for source, items in by_source.items():
        raw = RawResponse(f"https://example.com/{source}", 200, {}, model_id.encode(), NOW)
        stages.save_page(store, source, raw, [m for m, _, _ in items])
    known = {m.text: m.id for m in store.read(lambda conn: queries.unscored_mentions(conn, model_id, 10_000))}
    scores = []
    for items in by_source.values():
        for mention, label, themes in items:
            probs = {name: (0.8 if name == label else 0.1) for name in LABELS}
            scores.append((known[mention.text], Score(label, probs, model_id, themes)))
    stages.save_scores(store, scores)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Store]:
    settings = team_settings(tmp_path_factory.mktemp("add-up"))
    return settings, fresh_store(settings)


def per_day(rows: list[dict]) -> dict[datetime, int]:
    out: dict[datetime, int] = {}
    for r in rows:
        out[r["day"]] = out.get(r["day"], 0) + r["mentions"]
    return out


mention_rows = st.lists(
    st.tuples(
        st.sampled_from(SOURCES),
        st.sampled_from(LABELS),
        st.integers(min_value=0, max_value=9),
        st.lists(st.sampled_from(THEMES), max_size=3, unique=True).map(tuple),
    ),
    max_size=25,
)


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=mention_rows)
def test_per_day_totals_are_the_same_for_every_breakdown(shared: tuple[Settings, Store], rows: list) -> None:
    _, store = shared
    model_id = f"prop-{next(_models)}"
    seed(store, model_id, rows)
    since = NOW - timedelta(days=9)
    got = {
        by: store.read(lambda c, by=by: read_trends(c, model_id, since, NOW, by))
        for by in ("source", "theme")
    }
    assert got["source"]["totals_daily"] == got["theme"]["totals_daily"]
    assert got["source"]["totals"] == got["theme"]["totals"]
    assert got["source"]["volume"] == got["theme"]["volume"] == len(rows)
    totals = per_day(got["source"]["totals_daily"])
    assert sum(totals.values()) == len(rows)
    lines = per_day(got["source"]["lines"])
    assert {d: n for d, n in lines.items() if n} == {d: n for d, n in totals.items() if n}  # they add up
    by_theme = per_day(got["theme"]["lines"])
    assert all(by_theme.get(day, 0) >= n for day, n in totals.items())  # by theme, at least as many
    themed = sum(max(len(themes), 1) for *_, themes in rows)
    assert sum(by_theme.values()) == themed  # one per theme ("none" for untagged)


def test_every_day_is_drawn_zero_days_included(shared: tuple[Settings, Store]) -> None:
    _, store = shared
    model_id = f"zero-{next(_models)}"
    seed(
        store,
        model_id,
        [("blog", "negative", 6, ()), ("shop", "positive", 1, ()), ("blog", "neutral", 1, ())],
    )
    got = store.read(lambda c: read_trends(c, model_id, NOW - timedelta(days=6), NOW, "source"))
    days = [got["first_day"] + timedelta(days=i) for i in range(7)]
    for source in ("blog", "shop"):
        line = [(r["day"], r["mentions"]) for r in got["lines"] if r["source"] == source]
        assert [d for d, _ in line] == days  # no skipped day on any line
    shop = {r["day"]: r["mentions"] for r in got["lines"] if r["source"] == "shop"}
    assert list(shop.values()) == [0, 0, 0, 0, 0, 1, 0]
    assert sorted({r["day"] for r in got["totals_daily"]}) == days
    assert len(got["totals_daily"]) == 7 * 3  # each day, each label


def test_the_period_defaults_to_what_the_data_covers(tmp_path: Path) -> None:
    settings = team_settings(tmp_path)
    store = fresh_store(settings)
    assert covered_days(store, MODEL) is None
    assert period_choices(None) == ([7, 30, 90], 7)
    seed(store, MODEL, [("blog", "negative", 12, ())])
    covered = covered_days(store, MODEL, NOW)
    assert covered == 12
    assert period_choices(covered) == ([7, covered, 30, 90], covered)
    assert period_choices(400) == ([7, 30, 90, 400], 400)


def test_page_report_and_csv_agree_on_a_months_figures(tmp_path: Path) -> None:
    settings = team_settings(tmp_path)
    store = fresh_store(settings)
    rows = [("blog", "negative", 2, ("price", "delivery"))] * 7 + [("shop", "positive", 3, ("quality",))] * 3
    rows += [("blog", "neutral", 4, ())] * 2 + [("forum", "negative", 40, ())]  # last month: not counted
    seed(store, MODEL, rows)
    month_start = datetime(2026, 11, 1, tzinfo=UTC)
    month_end = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(microseconds=1)
    report = monthly_figures(store, settings, MODEL, month_start.date())
    for by in ("source", "theme", "language"):
        page = store.read(lambda c, by=by: read_trends(c, MODEL, month_start, month_end, by))
        assert page["totals"] == report["totals"] == {"negative": 7, "positive": 3, "neutral": 2}
        assert page["volume"] == report["volume"] == 12
        assert page["net_sentiment"] == report["net"] == pytest.approx((3 - 7) / 10)
        exported = list(csv.DictReader(io.StringIO(totals_csv(page["totals_daily"]))))
        by_label: dict[str, int] = {}
        for row in exported:
            by_label[row["label"]] = by_label.get(row["label"], 0) + int(row["mentions"])
        assert net_sentiment(by_label) == report["net"]
        assert sum(by_label.values()) == report["volume"]
        assert {k: v for k, v in by_label.items() if v} == report["totals"]


def test_the_live_page_figures_use_the_same_definition(shared: tuple[Settings, Store]) -> None:
    settings, store = shared
    figures = trend_figures(store, settings, MODEL, days=30, by="theme")
    assert figures["volume"] == sum(r["mentions"] for r in figures["totals_daily"])
    assert figures["net_sentiment"] == net_sentiment(figures["totals"])


def test_routed_means_opened_and_not_dismissed_everywhere() -> None:
    assert is_routed(CaseStatus.ASSIGNED) and is_routed("new") and is_routed("closed")
    assert not is_routed(CaseStatus.DISMISSED) and not is_routed("dismissed")
