"""``voxwatch serve``: keep monitoring, one scheduled deployment per source.

Each enabled source gets a deployment of the pipeline flow for that source alone,
on its own interval (``interval_minutes``, default 15), so one slow or broken
source never holds up another. Runs pick up from the cursors in the store, so a
missed run or a crash simply resumes. With a Prefect server (``PREFECT_API_URL``)
the deployments are visible, and can be paused, in its UI.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.pipeline import pipeline_flow
from voxwatch.settings import Settings, SourceSettings

# Reddit's feeds answer about 10 requests a minute per address; never poll a
# Reddit-style feed more often than this, whatever the settings say.
REDDIT_MIN_INTERVAL = timedelta(minutes=5)


def source_interval(source: SourceSettings) -> timedelta:
    interval = timedelta(minutes=source.interval_minutes)
    if "reddit.com" in source.url:
        interval = max(interval, REDDIT_MIN_INTERVAL)
    return interval


def deployments_for(settings: Settings, config_path: str) -> list[RunnerDeployment]:
    return [
        pipeline_flow.to_deployment(
            name=f"watch-{source.name}",
            interval=source_interval(source),
            parameters={"config_path": config_path, "source": source.name},
            description=f"Collect, score and route {source.name} every {source_interval(source)}.",
            tags=["voxwatch", source.kind],
        )
        for source in settings.sources
        if source.enabled
    ]


def serve_settings(settings: Settings, config_path: str) -> None:
    """Serve every source's deployment until interrupted."""
    serve(*deployments_for(settings, config_path), print_starting_message=True)
