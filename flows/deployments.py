"""``voxwatch serve``: keep monitoring, each source's pipeline on its own interval.

Each enabled source runs the pipeline flow for that source alone, on its own
interval (``interval_minutes``, default 15), so one slow or broken source never
holds up another. Runs pick up from the cursors in the store, so a missed run
or a crash simply resumes.

With a Prefect server (``PREFECT_API_URL``) each source is a scheduled
deployment, visible and pausable in its UI, and the server's scheduler starts
the runs. Prefect's temporary local server runs no scheduler, so without one
``serve_locally`` keeps the schedule itself, in this process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.pipeline import pipeline_flow
from voxwatch.settings import Settings, SourceSettings

# Reddit's feeds answer about 10 requests a minute per address; never poll a
# Reddit-style feed more often than this, whatever the settings say.
REDDIT_MIN_INTERVAL = timedelta(minutes=5)
log = logging.getLogger(__name__)


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


def serve_locally(settings: Settings, config_path: str, stop: threading.Event | None = None) -> None:
    """Run each enabled source's pipeline whenever its interval has passed, until ``stop`` is set.

    A run that fails is logged and the source is tried again at its next turn;
    nothing a source does stops the others' schedule.
    """
    stop = stop or threading.Event()
    sources = [s for s in settings.sources if s.enabled]
    due = {s.name: time.monotonic() for s in sources}
    while not stop.is_set():
        for source in sources:
            if stop.is_set() or due[source.name] > time.monotonic():
                continue
            try:
                pipeline_flow(config_path, source.name)
            except Exception:  # the schedule outlives any one run; the log has the details
                log.exception(
                    "%s: the scheduled run failed; next try in %s", source.name, source_interval(source)
                )
            due[source.name] = time.monotonic() + source_interval(source).total_seconds()
        stop.wait(max(0.5, min(due.values(), default=time.monotonic() + 60) - time.monotonic()))


def serve_settings(settings: Settings, config_path: str) -> None:
    """Serve every source until interrupted: as deployments on a Prefect server, else locally."""
    if os.environ.get("PREFECT_API_URL"):
        serve(*deployments_for(settings, config_path), print_starting_message=True)
    else:
        serve_locally(settings, config_path)
