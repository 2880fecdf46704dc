"""``voxwatch serve`` and ``voxwatch deploy``: keep monitoring, each source's pipeline on its own interval.

Each enabled source runs the pipeline flow for that source alone, on its own
interval (``interval_minutes``, default 15), so one slow or broken source never
holds up another. Runs pick up from the cursors in the store, so a missed run
or a crash simply resumes.

With a Prefect server (``PREFECT_API_URL``) each source is a scheduled
deployment, visible and pausable in its UI, and the server's scheduler starts
the runs. Prefect's temporary local server runs no scheduler, so without one
``serve_locally`` keeps the schedule itself, in this process.

For many machines, ``deploy_to_pool`` registers the same deployments (plus
``score`` and ``route``, run on demand) with a Prefect server's work pool, and
any number of ``prefect worker start --pool NAME`` processes, on any machines
with VoxWatch installed and the same settings file, run them. They share one
Postgres store (``[store] url``), which decides their races.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from prefect import serve
from prefect.deployments.runner import RunnerDeployment, deploy
from prefect.types.entrypoint import EntrypointType

from flows.pipeline import pipeline_flow
from flows.route import route_flow
from flows.score import score_flow
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


def deployments_for(
    settings: Settings, config_path: str, entrypoint_type: EntrypointType = EntrypointType.FILE_PATH
) -> list[RunnerDeployment]:
    return [
        pipeline_flow.to_deployment(
            name=f"watch-{source.name}",
            interval=source_interval(source),
            parameters={"config_path": config_path, "source": source.name},
            description=f"Collect, score and route {source.name} every {source_interval(source)}.",
            tags=["voxwatch", source.kind],
            entrypoint_type=entrypoint_type,
        )
        for source in settings.sources
        if source.enabled
    ]


def pool_deployments(settings: Settings, config_path: str) -> list[RunnerDeployment]:
    """Each source's pipeline on its interval, plus ``score`` and ``route`` to run on demand.

    Loaded by module path (``flows.pipeline:pipeline_flow``), not by file: a worker
    on another machine imports the installed package, wherever it lives there.
    """
    by_module = EntrypointType.MODULE_PATH
    on_demand = [
        each.to_deployment(
            name=name,
            parameters={"config_path": config_path},
            description=description,
            tags=["voxwatch"],
            entrypoint_type=by_module,
        )
        for each, name, description in (
            (score_flow, "score", "Score every mention the current model has not scored yet."),
            (route_flow, "route", "Triage every scored mention not yet triaged and open its case."),
        )
    ]
    return [*deployments_for(settings, config_path, by_module), *on_demand]


def deploy_to_pool(settings: Settings, config_path: str, pool: str) -> list[str]:
    """Register the deployments with the server's work pool ``pool`` (made if missing); their names."""
    _ensure_process_pool(pool)
    deployments = pool_deployments(settings, config_path)
    deploy(
        *deployments,
        work_pool_name=pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    return [f"{d.flow_name}/{d.name}" for d in deployments]


def _ensure_process_pool(pool: str) -> None:
    """A work pool whose workers run each flow in a subprocess of their own (Prefect's "process" type)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(WorkPoolCreate(name=pool, type="process", base_job_template=template))
            log.info("created work pool %s", pool)


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
