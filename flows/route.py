"""The route flow: triage every scored mention, open and assign the cases it calls for,
escalate cases whose SLA has run out, note spikes, then deliver the outbox (alerts, replies).

Orchestration only: each task calls one stage function (responders, insights) and
hands its result to the next.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from insights.spikes import comms_emails, record_spike
from responders.decide import decide
from responders.delivery import outbox_for
from responders.escalation import escalate_overdue
from responders.notify import notice_messages
from responders.outbox import DeliveryReport
from responders.service import utcnow
from sentiment.themes import urgent_theme_ids
from voxwatch.domain import Decision, Routing, RoutingCandidate
from voxwatch.runtime import crash_point
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, stages, store_for
from voxwatch.store.database import Connection
from voxwatch.store.queries.analytics import is_routed

log = logging.getLogger(__name__)


@task(name="route-candidates", cache_policy=NO_CACHE)
def candidates(
    settings: Settings, model_id: str, source: str | None = None
) -> tuple[list[RoutingCandidate], dict[str, int]]:
    """Mentions to route (``source``'s only, when given), each with the answered case it follows up
    (if any), and the team's load."""

    def _read(conn: Connection) -> tuple[list[RoutingCandidate], dict[str, int]]:
        window = timedelta(hours=settings.sla.follow_up_window_hours)
        found = queries.untriaged(conn, model_id, settings.routing.negative_threshold, window, source)
        return found, queries.open_load(conn)

    return store_for(settings).read(_read)


@task(name="decide-routes", cache_policy=NO_CACHE)
def decide_routes(settings: Settings, found: list[RoutingCandidate], load: dict[str, int]) -> list[Decision]:
    return decide(settings, found, load, urgent_theme_ids(settings.library.themes))


@task(name="store-cases", cache_policy=NO_CACHE)
def store_cases(settings: Settings, decisions: list[Decision]) -> list[Routing]:
    return stages.save_decisions(store_for(settings), decisions)


@task(name="deliver-outbox", cache_policy=NO_CACHE)
def deliver_outbox(settings: Settings) -> DeliveryReport:
    """Send what the outbox holds: alerts queued with their cases, replies still to post."""
    return outbox_for(settings, utcnow).deliver_due()


def announce_spike(settings: Settings, model_id: str, now: datetime | None = None) -> dict | None:
    """Record a new spike (insights) with its alert queued for the comms channel (responders.notify)."""
    emails = comms_emails(settings)
    spike = record_spike(
        settings, model_id, now, lambda notice: notice_messages(notice, settings.notifications, emails)
    )
    if spike is not None:
        log.info("spike %d: %s", spike["id"], spike["why"])
    return spike


@task(name="spike-check", cache_policy=NO_CACHE)
def spike_check(settings: Settings, model_id: str) -> bool:
    """Tell the comms channel once when negative mentions spike (insights/spikes.py)."""
    return announce_spike(settings, model_id) is not None


@task(name="escalate-overdue", cache_policy=NO_CACHE)
def escalate(settings: Settings) -> int:
    return len(escalate_overdue(settings))


def route_settings(settings: Settings, model_id: str, source: str | None = None) -> int:
    """Route what is untriaged (``source``'s mentions only, when given), then escalate and deliver."""
    found, load = candidates(settings, model_id, source)
    created = store_cases(settings, decide_routes(settings, found, load))
    crash_point("after_route")
    escalated = escalate(settings)
    spike_check(settings, model_id)
    delivered = deliver_outbox(settings)
    routed = sum(is_routed(r.status) for r in created)  # the summary's definition, not every case row
    get_run_logger().info(
        "routed %d new case(s), dismissed %d as invalid; escalated %d; "
        "delivered %d message(s), %d to retry, %d failed",
        routed,
        len(created) - routed,
        escalated,
        delivered.sent,
        delivered.retrying,
        delivered.failed,
    )
    return routed


@flow(name="route")
def route_flow(config_path: str, model_id: str | None = None) -> int:
    """Triage every scored mention not yet triaged and open the cases it calls for.

    ``model_id``: whose scores to route; by default the model settings name (loaded to learn its id).
    """
    settings = load_settings(config_path)
    if model_id is None:
        from flows.score import load_model

        model_id = load_model(settings).model_id
    return route_settings(settings, model_id)
