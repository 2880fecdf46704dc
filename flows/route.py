"""The route flow: triage every scored mention, open and assign the cases it calls for,
tell people about urgent cases, escalate cases whose SLA has run out, and announce spikes.

Orchestration only: each task calls one stage function (responders, insights) and
hands its result to the next.
"""

from __future__ import annotations

import logging
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from insights.spikes import comms_emails, record_spike, spike_notice
from responders.decide import decide
from responders.escalation import announce_urgent_cases, escalate_overdue
from responders.notify import Notifier
from sentiment.themes import urgent_theme_ids
from voxwatch.domain import Decision, Routing, RoutingCandidate
from voxwatch.runtime import crash_point
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, stages, store_for
from voxwatch.store.database import Connection

log = logging.getLogger(__name__)


@task(name="route-candidates", cache_policy=NO_CACHE)
def candidates(settings: Settings, model_id: str) -> tuple[list[RoutingCandidate], dict[str, int]]:
    def _read(conn: Connection) -> tuple[list[RoutingCandidate], dict[str, int]]:
        found = queries.untriaged(conn, model_id, settings.routing.negative_threshold)
        return found, queries.open_load(conn)

    return store_for(settings).read(_read)


@task(name="decide-routes", cache_policy=NO_CACHE)
def decide_routes(settings: Settings, found: list[RoutingCandidate], load: dict[str, int]) -> list[Decision]:
    return decide(settings, found, load, urgent_theme_ids(settings.library.themes))


@task(name="store-cases", cache_policy=NO_CACHE)
def store_cases(settings: Settings, decisions: list[Decision]) -> list[Routing]:
    return stages.save_decisions(store_for(settings), decisions)


@task(name="notify-urgent", cache_policy=NO_CACHE)
def notify_urgent(settings: Settings, created: list[Routing]) -> int:
    return announce_urgent_cases(settings, created)


def announce_spike(settings: Settings, model_id: str, now: datetime | None = None) -> dict | None:
    """Record a new spike (insights) and tell the comms channel once (responders.notify)."""
    spike = record_spike(settings, model_id, now)
    if spike is not None:
        log.info("spike %d: %s", spike["id"], spike["why"])
        Notifier(settings.notifications, store_for(settings)).notify(
            spike_notice(settings, spike), emails=comms_emails(settings)
        )
    return spike


@task(name="spike-check", cache_policy=NO_CACHE)
def spike_check(settings: Settings, model_id: str) -> bool:
    """Tell the comms channel once when negative mentions spike (insights/spikes.py)."""
    return announce_spike(settings, model_id) is not None


@task(name="escalate-overdue", cache_policy=NO_CACHE)
def escalate(settings: Settings) -> int:
    return len(escalate_overdue(settings))


def route_settings(settings: Settings, model_id: str) -> int:
    found, load = candidates(settings, model_id)
    created = store_cases(settings, decide_routes(settings, found, load))
    crash_point("after_route")
    notify_urgent(settings, created)
    escalated = escalate(settings)
    spike_check(settings, model_id)
    get_run_logger().info("opened %d new case(s); escalated %d", len(created), escalated)
    return len(created)


@flow(name="route")
def route_flow(config_path: str, model_id: str) -> int:
    """Triage every scored mention not yet triaged and open the cases it calls for."""
    return route_settings(load_settings(config_path), model_id)
