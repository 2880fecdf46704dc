"""The pipeline flow: collect -> score -> route, then a summary of the store."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.collect import collect_settings
from flows.route import route_settings
from flows.score import load_model, score_settings
from voxwatch.settings import load_settings
from voxwatch.store import queries, store_for


@flow(name="pipeline")
def pipeline_flow(config_path: str, source: str | None = None) -> dict[str, Any]:
    """Run every stage once; each stage is idempotent, so re-running adds nothing."""
    settings = load_settings(config_path)
    collected = collect_settings(settings, source)
    scorer = load_model(settings)
    newly_scored = score_settings(settings, scorer, source)  # a source's run scores and routes its own
    newly_routed = route_settings(settings, scorer.model_id, source)
    threshold = settings.routing.negative_threshold
    summary = store_for(settings).read(lambda conn: queries.pipeline_counts(conn, scorer.model_id, threshold))
    summary["this_run"] = {"sources": collected, "scored": newly_scored, "routed": newly_routed}
    summary["model_id"] = scorer.model_id
    return summary
