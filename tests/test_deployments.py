"""``voxwatch serve`` builds one scheduled deployment per enabled source."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flows.deployments import deployments_for
from voxwatch.settings import load_settings


def test_one_deployment_per_enabled_source_on_its_interval(tmp_path: Path) -> None:
    config = tmp_path / "voxwatch.toml"
    config.write_text(
        """
[brand]
name = "Acme"

[[sources]]
name = "news"
kind = "rss"
url = "https://news.test/feed"

[[sources]]
name = "reddit"
kind = "rss"
url = "https://www.reddit.com/r/acme/new/.rss"
interval_minutes = 1

[[sources]]
name = "old"
kind = "rss"
url = "https://old.test/feed"
enabled = false

[[responders]]
name = "amy"
display_name = "Amy"
team = "care"

[routing]
default_team = "care"
""",
        encoding="utf-8",
    )
    deployments = deployments_for(load_settings(config), str(config))
    assert [d.name for d in deployments] == ["watch-news", "watch-reddit"]
    intervals = [d.schedules[0].schedule.interval for d in deployments]
    assert intervals == [timedelta(minutes=15), timedelta(minutes=5)]  # Reddit never faster than its limit
    assert deployments[1].parameters == {"config_path": str(config), "source": "reddit"}
