"""The route flow: every scored mention is triaged; actionable ones become assigned cases."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from responders.decide import Decision, decide
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
def store_cases(settings: Settings, decisions: list[Decision]) -> int:
    return stages.save_decisions(store_for(settings), decisions)


def route_settings(settings: Settings, model_id: str) -> int:
    found, load = candidates(settings, model_id)
    created = store_cases(settings, decide_routes(settings, found, load))
    get_run_logger().info("routed %d new case(s)", created)
    return created


@flow(name="route")
def route_flow(config_path: str, model_id: str) -> int:
    """Triage every scored mention not yet triaged and open the cases it calls for."""
    return route_settings(load_settings(config_path), model_id)
