"""The spike rule on a real DuckDB file, telling a real local webhook once per spike."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from flows.route import announce_spike
from insights.spikes import check, daily_spikes
from responders.delivery import outbox_for
from tests.settings_files import source, write_settings
from voxwatch.domain import Mention, RawResponse, Score, mention_id
from voxwatch.settings import SpikeSettings, load_settings
from voxwatch.store import queries, stages, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

MODEL = "test-model"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_rule_fires_above_mean_plus_k_sigma_and_a_floor() -> None:
    rule = SpikeSettings(k=2.0, min_mentions=3)
    quiet = [2, 3, 2, 4, 3, 2, 3]
    assert check(5, quiet, rule).fired
    result = check(4, quiet, rule)
    assert not result.fired and result.threshold == pytest.approx(2.714 + 2 * 0.699, abs=0.01)
    assert not check(2, [0] * 7, rule).fired  # above a flat baseline, but under the floor
    assert "7-day mean" in check(12, quiet, rule).explain(rule.k)


def test_daily_marks_need_seven_days_of_history() -> None:
    days = [(f"d{i}", c) for i, c in enumerate([2, 3, 2, 4, 3, 2, 3, 15, 3])]
    marked = daily_spikes(days, SpikeSettings(k=3.0, min_mentions=5))
    assert [m["spike"] for m in marked] == [False] * 7 + [True, False]
    assert marked[0]["threshold"] is None and "history" in marked[0]["why"]


def seed(settings_path: Path, per_day: list[int]) -> None:
    """Negative mentions: per_day[0] in the last 24 h, per_day[i] in the i-th day before."""
    settings = load_settings(settings_path)
    store = store_for(settings)
    store.migrate()
    stages.register_settings(store, settings)
    mentions = []
    for day, count in enumerate(per_day):
        for n in range(count):
            at = NOW - timedelta(days=day, hours=1, minutes=n)
            text = f"day {day} item {n}: refund me, I was charged twice <script>x</script>"
            mentions.append(Mention(external_id=f"{day}-{n}", text=text, author=f"user{n}", published_at=at))
    raw = RawResponse("http://127.0.0.1/feed", 200, {}, b"seed", NOW)
    stages.save_page(store, "feed", raw, mentions)
    probs = {"negative": 0.9, "neutral": 0.05, "positive": 0.05}
    scored = [
        (mention_id("feed", m.external_id), Score("negative", probs, MODEL, ("refund/billing",)))
        for m in mentions
    ]
    stages.save_scores(store, scored)


def test_a_spike_is_told_once_with_themes_and_examples(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    config = write_settings(tmp_path, source("feed", "rss", "http://127.0.0.1/feed"))
    os.environ["VOXWATCH_NOTIFICATIONS__WEBHOOK_URL"] = httpserver.url_for("/hook")
    try:
        settings = load_settings(config)
    finally:
        del os.environ["VOXWATCH_NOTIFICATIONS__WEBHOOK_URL"]
    seed(config, [14, 2, 3, 2, 4, 3, 2, 3])

    spike = announce_spike(settings, MODEL, NOW)
    assert spike is not None and spike["mentions"] == 14
    (queued,) = store_for(settings).read(lambda c: queries.outbox_entries(c))  # with the spike, at once
    assert (queued["event"], queued["state"]) == ("spike", "pending")
    outbox_for(settings, lambda: NOW).deliver_due()  # as the route flow does next
    assert announce_spike(settings, MODEL, NOW + timedelta(hours=2)) is None  # same spike: told once
    outbox_for(settings, lambda: NOW + timedelta(hours=2)).deliver_due()
    (request,) = [r for r, _ in httpserver.log if r.path == "/hook"]
    text = request.json["text"]
    assert "14 negative mentions" in text and "refund/billing (14)" in text
    assert "<script>x</script>" in text  # quoted as plain data, never interpreted
    stored = store_for(settings).read(lambda c: queries.recent_spikes(c, NOW - timedelta(days=1)))
    assert len(stored) == 1 and stored[0]["baseline_mean"] == pytest.approx(19 / 7)


def test_a_quiet_day_is_not_a_spike(tmp_path: Path) -> None:
    config = write_settings(tmp_path, source("feed", "rss", "http://127.0.0.1/feed"))
    seed(config, [3, 2, 3, 2, 4, 3, 2, 3])
    assert announce_spike(load_settings(config), MODEL, NOW) is None
