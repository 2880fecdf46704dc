"""``voxwatch serve``: a deployment per enabled source on a Prefect server, its own schedule without one."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import duckdb
from pytest_httpserver import HTTPServer

from flows.deployments import deployments_for, serve_locally
from tests.settings_files import source, write_settings
from voxwatch.errors import VoxWatchError
from voxwatch.settings import load_settings
from voxwatch.store import store_for


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


def test_without_a_prefect_server_serve_runs_each_source_itself_and_a_failing_one_does_not_stop_it(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Prefect's temporary server schedules nothing, so ``serve`` keeps the schedule in-process."""
    store = tmp_path / "voxwatch.duckdb"

    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><guid>1</guid>'
        "<description>Acme lost my order again</description></item></channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=404)
    config = write_settings(
        tmp_path,
        source("gone", "rss", httpserver.url_for("/gone.xml"), min_request_interval_seconds=0),
        source("feed", "rss", httpserver.url_for("/feed.xml"), min_request_interval_seconds=0),
    )
    stop = threading.Event()
    settings = load_settings(config)
    serving = threading.Thread(target=serve_locally, args=(settings, str(config), stop))
    serving.start()
    try:
        runs: list[tuple] = []
        deadline = time.monotonic() + 300  # two pipeline runs, on a busy machine
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(1)
            if store.exists():
                # Through the Store, as every other reader: a second duckdb.connect in this process
                # with another configuration (read_only) is refused while serve's thread has the file.
                try:
                    runs = store_for(settings).read(
                        lambda conn: conn.execute(
                            "SELECT source, status FROM source_runs ORDER BY source"
                        ).fetchall()
                    )
                except (VoxWatchError, duckdb.Error):
                    continue  # the pipeline holds the file, or has not made its tables yet
    finally:
        stop.set()
        serving.join(timeout=300)
    assert runs == [("feed", "ok"), ("gone", "degraded")]
    assert not serving.is_alive()
