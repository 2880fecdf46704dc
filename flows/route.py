"""The route flow: triage every scored mention, open and assign the cases it calls for,
tell people about urgent cases, and escalate cases whose SLA has run out."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from responders.decide import Decision, decide
from responders.escalation import escalate_overdue
from responders.notify import Notice, Notifier
from responders.spikes import detect_spike
from voxwatch.domain import CaseStatus, Routing, Tier
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, stages, store_for


@task(name="route-candidates", cache_policy=NO_CACHE)
def candidates(settings: Settings, model_id: str) -> tuple[list[queries.RoutingCandidate], dict[str, int]]:
    def _read(conn: queries.Connection) -> tuple[list[queries.RoutingCandidate], dict[str, int]]:
        found = queries.untriaged(conn, model_id, settings.routing.negative_threshold)
        return found, queries.open_load(conn)

    return store_for(settings).read(_read)


@task(name="decide-routes", cache_policy=NO_CACHE)
def decide_routes(
    settings: Settings, found: list[queries.RoutingCandidate], load: dict[str, int]
) -> list[Decision]:
    return decide(settings, found, load)


@task(name="store-cases", cache_policy=NO_CACHE)
def store_cases(settings: Settings, decisions: list[Decision]) -> list[Routing]:
    return stages.save_decisions(store_for(settings), decisions)


@task(name="notify-urgent", cache_policy=NO_CACHE)
def notify_urgent(settings: Settings, created: list[Routing]) -> int:
    """Tell the comms channel (and the owner by email) about each new urgent case."""
    notifier = Notifier(settings.notifications, store_for(settings))
    emails = {p.name: p.email for p in settings.responders if p.email}
    urgent = [r for r in created if r.tier is Tier.URGENT and r.status is not CaseStatus.DISMISSED]
    for routing in urgent:
        notifier.notify(
            Notice(
                event="urgent_case",
                subject=f"[VoxWatch] urgent case for {routing.owner or routing.team}",
                text=(
                    f"Why: {'; '.join(routing.reasons)}. Team {routing.team}, "
                    f"owner {routing.owner or 'unassigned'}, "
                    f"first response due {routing.first_response_due:%Y-%m-%d %H:%M} UTC."
                ),
                case_id=f"case-{routing.mention_id}",
            ),
            emails=[emails[routing.owner]] if routing.owner in emails else [],
        )
    return len(urgent)


@task(name="spike-check", cache_policy=NO_CACHE)
def spike_check(settings: Settings, model_id: str) -> bool:
    """Tell the comms channel once when negative mentions spike (responders/spikes.py)."""
    return detect_spike(settings, model_id) is not None


@task(name="escalate-overdue", cache_policy=NO_CACHE)
def escalate(settings: Settings) -> int:
    return len(escalate_overdue(settings))


def route_settings(settings: Settings, model_id: str) -> int:
    found, load = candidates(settings, model_id)
    created = store_cases(settings, decide_routes(settings, found, load))
    notify_urgent(settings, created)
    escalated = escalate(settings)
    spike_check(settings, model_id)
    get_run_logger().info("opened %d new case(s); escalated %d", len(created), escalated)
    return len(created)


@flow(name="route")
def route_flow(config_path: str, model_id: str) -> int:
    """Triage every scored mention not yet triaged and open the cases it calls for."""
    return route_settings(load_settings(config_path), model_id)
