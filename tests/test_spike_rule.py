"""The spike rule as properties, and recording a spike once per 24 hours on a real store.

``insights.spikes.check`` is the one rule behind the trends chart, the monthly report
and the comms alert, so its arithmetic is pinned down on arbitrary histories: the
threshold is mean + k x sd, a count under the floor never fires, more mentions never
switch a spike off. ``record_spike`` is checked on a real DuckDB file for the "told
once" promise, and ``spike_notice`` / ``comms_emails`` for what is sent and to whom.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.spikes import (
    BASELINE_WINDOWS,
    WINDOW,
    check,
    comms_emails,
    daily_spikes,
    record_spike,
    spike_notice,
)
from tests.builders import MODEL, fresh_store, team_settings
from voxwatch.domain import Mention, RawResponse, Score, mention_id
from voxwatch.settings import Settings, SpikeSettings
from voxwatch.store import Store, queries, stages

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

counts = st.integers(min_value=0, max_value=500)
histories = st.lists(counts, min_size=0, max_size=10)
rules = st.builds(
    SpikeSettings,
    k=st.floats(min_value=0.1, max_value=10, allow_nan=False),
    min_mentions=st.integers(min_value=1, max_value=50),
)


# --- the rule --------------------------------------------------------------------------


@given(counts, histories, rules)
@settings(max_examples=300, deadline=None)
def test_threshold_is_mean_plus_k_population_sd(count: int, history: list[int], rule: SpikeSettings) -> None:
    result = check(count, history, rule)
    n = len(history)
    mean = sum(history) / n if n else 0.0
    sd = math.sqrt(sum((x - mean) ** 2 for x in history) / n) if n > 1 else 0.0
    assert result.count == count
    assert result.mean == pytest.approx(mean)
    assert result.sd == pytest.approx(sd, abs=1e-9)
    assert result.threshold == pytest.approx(mean + rule.k * sd)
    assert result.fired is (count > result.threshold and count >= rule.min_mentions)


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=10), counts, rules)
@settings(max_examples=300, deadline=None)
def test_a_constant_history_fires_only_above_it_and_the_floor(
    level: int, days: int, count: int, rule: SpikeSettings
) -> None:
    result = check(count, [level] * days, rule)
    assert result.sd == 0 and result.threshold == level
    assert result.fired is (count > level and count >= rule.min_mentions)
    if count < rule.min_mentions:
        assert not result.fired


@given(counts, histories, rules)
@settings(max_examples=300, deadline=None)
def test_a_count_under_the_floor_never_fires(count: int, history: list[int], rule: SpikeSettings) -> None:
    assert not check(min(count, rule.min_mentions - 1), history, rule).fired


@given(counts, st.integers(min_value=0, max_value=500), histories, rules)
@settings(max_examples=300, deadline=None)
def test_more_mentions_never_turn_a_spike_off(
    count: int, more: int, history: list[int], rule: SpikeSettings
) -> None:
    if check(count, history, rule).fired:
        assert check(count + more, history, rule).fired


@given(counts, histories, rules, st.floats(min_value=0.1, max_value=5, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_a_stricter_k_never_fires_where_a_looser_one_did_not(
    count: int, history: list[int], rule: SpikeSettings, extra: float
) -> None:
    stricter = SpikeSettings(k=min(rule.k + extra, 10), min_mentions=rule.min_mentions)
    if check(count, history, stricter).fired:
        assert check(count, history, rule).fired


@given(counts, histories, rules)
@settings(max_examples=200, deadline=None)
def test_the_explanation_states_the_verdict_and_the_numbers(
    count: int, history: list[int], rule: SpikeSettings
) -> None:
    result = check(count, history, rule)
    words = result.explain(rule.k)
    assert words.startswith(f"{count} negative mentions in 24 h, ")
    assert ("above" in words) is result.fired and ("within" in words) is (not result.fired)
    assert words.endswith(f"= {result.threshold:.1f}")
    assert f"mean {result.mean:.1f}" in words and f"sd {result.sd:.1f}" in words


@pytest.mark.parametrize(
    ("count", "history", "k", "floor", "fired", "threshold"),
    [
        (5, [2, 3, 2, 4, 3, 2, 3], 2.0, 3, True, 2.714 + 2 * 0.700),
        (4, [2, 3, 2, 4, 3, 2, 3], 2.0, 3, False, 2.714 + 2 * 0.700),
        (1, [0] * 7, 3.0, 1, True, 0.0),  # a first complaint after a silent week, floor 1
        (4, [0] * 7, 3.0, 5, False, 0.0),  # above a flat baseline, under the floor
        (10, [10] * 7, 3.0, 5, False, 10.0),  # equal to the baseline is not above it
        (11, [10] * 7, 3.0, 5, True, 10.0),
        (6, [], 3.0, 5, True, 0.0),  # no history at all: the floor alone decides
        (6, [9], 3.0, 5, False, 9.0),  # one window: sd is 0 by definition
        (30, [0, 20], 1.0, 5, True, 20.0),
        (20, [0, 20], 1.0, 5, False, 20.0),
    ],
)
def test_rule_table(
    count: int, history: list[int], k: float, floor: int, fired: bool, threshold: float
) -> None:
    result = check(count, history, SpikeSettings(k=k, min_mentions=floor))
    assert result.fired is fired
    assert result.threshold == pytest.approx(threshold, abs=0.01)


# --- daily marks (the chart) -----------------------------------------------------------


series = st.lists(counts, min_size=0, max_size=30)


@given(series, rules)
@settings(max_examples=200, deadline=None)
def test_the_first_seven_days_are_never_marked(values: list[int], rule: SpikeSettings) -> None:
    marked = daily_spikes([(i, c) for i, c in enumerate(values)], rule)
    assert len(marked) == len(values)
    for mark in marked[:BASELINE_WINDOWS]:
        assert mark["spike"] is False and mark["threshold"] is None
        assert mark["why"] == "not enough history (7 days needed)"


@given(series, rules)
@settings(max_examples=200, deadline=None)
def test_each_later_day_is_judged_on_exactly_the_seven_before_it(
    values: list[int], rule: SpikeSettings
) -> None:
    days = [(f"day-{i}", c) for i, c in enumerate(values)]
    marked = daily_spikes(days, rule)
    assert [(m["day"], m["negative"]) for m in marked] == days  # order and values kept
    for index in range(BASELINE_WINDOWS, len(values)):
        expected = check(values[index], values[index - BASELINE_WINDOWS : index], rule)
        assert marked[index]["spike"] is expected.fired
        assert marked[index]["threshold"] == pytest.approx(expected.threshold)
        assert marked[index]["why"] == expected.explain(rule.k)


@given(st.integers(min_value=0, max_value=100), st.integers(min_value=8, max_value=20), rules)
@settings(max_examples=100, deadline=None)
def test_a_steady_series_has_no_spikes(level: int, length: int, rule: SpikeSettings) -> None:
    assert not any(m["spike"] for m in daily_spikes([(i, level) for i in range(length)], rule))


def test_a_burst_is_marked_on_its_day_only() -> None:
    values = [2, 3, 2, 4, 3, 2, 3, 15, 3, 2]
    marked = daily_spikes(list(enumerate(values)), SpikeSettings(k=3.0, min_mentions=5))
    assert [m["day"] for m in marked if m["spike"]] == [7]
    # the burst then sits in the baseline, so the next days' thresholds rise
    assert marked[8]["threshold"] > marked[7]["threshold"]


# --- recording a spike on a real store --------------------------------------------------


def seed_negatives(store: Store, per_window: dict[int, int], end: datetime, tag: str = "") -> None:
    """``per_window[w]`` negative mentions in the w-th 24 h window before ``end`` (0 = the last 24 h)."""
    mentions = []
    for window, count in per_window.items():
        for n in range(count):
            at = end - timedelta(days=window, hours=1, minutes=n)
            text = f"{tag}window {window} item {n}: acme charged me twice,\n\n  refund   please"
            mentions.append(Mention(f"{tag}{window}-{n}", text, author=f"user{n}", published_at=at))
    raw = RawResponse("https://example.com/blog", 200, {}, f"seed {tag}".encode(), end)
    stages.save_page(store, "blog", raw, mentions)
    probs = {"negative": 0.9, "neutral": 0.06, "positive": 0.04}
    stages.save_scores(
        store,
        [
            (mention_id("blog", m.external_id), Score("negative", probs, MODEL, ("refund_billing",)))
            for m in mentions
        ],
    )


@pytest.fixture
def quiet_week(tmp_path: Path) -> tuple[Settings, Store]:
    """The Acme team with a week of 2-4 complaints a day before NOW."""
    settings = team_settings(tmp_path)
    store = fresh_store(settings)
    seed_negatives(store, {1: 2, 2: 3, 3: 2, 4: 4, 5: 3, 6: 2, 7: 3}, NOW)
    return settings, store


def stored_spikes(store: Store) -> list[dict]:
    return store.read(lambda conn: queries.recent_spikes(conn, NOW - timedelta(days=30)))


def test_a_quiet_day_records_nothing(quiet_week: tuple[Settings, Store]) -> None:
    settings, store = quiet_week
    seed_negatives(store, {0: 3}, NOW, "today-")
    assert record_spike(settings, MODEL, NOW) is None
    assert stored_spikes(store) == []


def test_a_spike_is_recorded_with_its_arithmetic_themes_and_examples(
    quiet_week: tuple[Settings, Store],
) -> None:
    settings, store = quiet_week
    seed_negatives(store, {0: 12}, NOW, "burst-")
    spike = record_spike(settings, MODEL, NOW)
    assert spike is not None
    expected = check(12, [2, 3, 2, 4, 3, 2, 3], settings.spikes)
    assert spike["mentions"] == 12 and spike["window_end"] == NOW and spike["window_start"] == NOW - WINDOW
    assert spike["baseline_mean"] == pytest.approx(expected.mean)
    assert spike["threshold"] == pytest.approx(expected.threshold)
    assert spike["why"] == expected.explain(settings.spikes.k)
    assert spike["themes"] == [{"theme": "refund_billing", "mentions": 12}]
    assert len(spike["examples"]) == settings.spikes.examples
    assert all(e["text"].startswith("burst-window 0") for e in spike["examples"])
    (stored,) = stored_spikes(store)
    assert stored["id"] == spike["id"] and stored["mentions"] == 12


def test_a_spike_is_recorded_once_per_24_hours(quiet_week: tuple[Settings, Store]) -> None:
    settings, store = quiet_week
    seed_negatives(store, {0: 12}, NOW, "burst-")
    first = record_spike(settings, MODEL, NOW)
    assert first is not None
    # The rule still fires an hour later (the burst is still in the window): the same spike.
    assert check(12, [2, 3, 2, 4, 3, 2, 3], settings.spikes).fired
    assert record_spike(settings, MODEL, NOW + timedelta(hours=1)) is None
    assert record_spike(settings, MODEL, NOW + WINDOW - timedelta(seconds=1)) is None
    assert len(stored_spikes(store)) == 1


def test_a_new_burst_a_day_later_is_a_new_spike(quiet_week: tuple[Settings, Store]) -> None:
    settings, store = quiet_week
    seed_negatives(store, {0: 12}, NOW, "burst-")
    first = record_spike(settings, MODEL, NOW)
    later = NOW + WINDOW
    seed_negatives(store, {0: 40}, later, "second-")  # far above a baseline that now holds the first burst
    second = record_spike(settings, MODEL, later)
    assert first is not None and second is not None
    assert second["id"] != first["id"] and second["mentions"] == 40
    assert second["baseline_mean"] == pytest.approx((12 + 2 + 3 + 2 + 4 + 3 + 2) / 7)
    assert [s["mentions"] for s in stored_spikes(store)] == [12, 40]


def test_other_models_scores_do_not_count(quiet_week: tuple[Settings, Store]) -> None:
    settings, store = quiet_week
    seed_negatives(store, {0: 12}, NOW, "burst-")
    assert record_spike(settings, "another-model", NOW) is None
    assert stored_spikes(store) == []


# --- who is told, and what ---------------------------------------------------------------


def test_comms_leads_and_supervisors_with_an_email_hear_about_spikes(tmp_path: Path) -> None:
    # maya (approver) and grace (supervisor) have addresses; sara (approver) has none; amy is a responder.
    assert comms_emails(team_settings(tmp_path)) == ["maya@acme.example", "grace@acme.example"]


def spike(examples: list[dict], themes: list[dict]) -> dict:
    return {"why": "12 negative mentions in 24 h, above ...", "themes": themes, "examples": examples}


def test_the_notice_quotes_examples_as_plain_shortened_text(tmp_path: Path) -> None:
    settings = team_settings(tmp_path)
    long = "refund " * 60 + "END"
    examples = [
        {"source": "blog", "author": "<b>bob</b>", "text": "line one\n\n  line\ttwo <script>x</script>"},
        {"source": "shop", "author": None, "text": long},
    ]
    notice = spike_notice(settings, spike(examples, [{"theme": "refund_billing", "mentions": 12}]))
    assert notice.event == "spike" and notice.case_id is None
    assert notice.subject == "[VoxWatch] spike in negative mentions of Acme"
    lines = notice.text.splitlines()
    assert lines[0] == "Why: 12 negative mentions in 24 h, above ...."
    assert lines[1] == "Top themes: refund_billing (12)."
    assert lines[2] == "Examples:"
    assert lines[3] == '- blog / <b>bob</b>: "line one line two <script>x</script>"'
    assert lines[4] == f'- shop / anonymous: "{" ".join(long.split())[:200]}"'
    assert "END" not in notice.text and len(lines) == 5


def test_a_notice_without_themes_or_examples_says_so(tmp_path: Path) -> None:
    notice = spike_notice(team_settings(tmp_path), spike([], []))
    assert notice.text.splitlines() == [
        "Why: 12 negative mentions in 24 h, above ....",
        "Top themes: no tagged theme.",
        "Examples:",
    ]


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return team_settings(tmp_path_factory.mktemp("spike-team"))


@given(text=st.text(max_size=400))
@settings(max_examples=150, deadline=None)
def test_any_example_text_stays_on_one_shortened_line(acme: Settings, text: str) -> None:
    notice = spike_notice(acme, spike([{"source": "blog", "author": "a", "text": text}], []))
    example = notice.text.splitlines()[3:]
    assert len(example) == 1
    quoted = example[0].removeprefix('- blog / a: "').removesuffix('"')
    assert quoted == " ".join(text.split())[:200]
