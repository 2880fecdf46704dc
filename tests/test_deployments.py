"""``voxwatch serve`` builds one scheduled deployment per enabled source."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flows.deployments import deployments_for
from tests.settings_files import source, write_settings
from voxwatch.settings import load_settings


def test_one_deployment_per_enabled_source_on_its_interval(tmp_path: Path) -> None:
    config = write_settings(
        tmp_path,
        source("news", "rss", "https://news.test/feed"),
        source("reddit", "rss", "https://www.reddit.com/r/acme/new/.rss", interval_minutes=1),
        source("old", "rss", "https://old.test/feed", enabled=False),
    )
    deployments = deployments_for(load_settings(config), str(config))
    assert [d.name for d in deployments] == ["watch-news", "watch-reddit"]
    intervals = [d.schedules[0].schedule.interval for d in deployments]
    assert intervals == [timedelta(minutes=15), timedelta(minutes=5)]  # Reddit never faster than its limit
    assert deployments[1].parameters == {"config_path": str(config), "source": "reddit"}
