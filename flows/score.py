"""The score flow: every mention without a score from the current model gets one,
with its complaint themes."""

from __future__ import annotations

from dataclasses import replace

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from sentiment.model import Scorer, load_scorer
from sentiment.themes import Theme, load_themes, tag_themes
from voxwatch.domain import Score, StoredMention
from voxwatch.runtime import crash_point
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries, stages, store_for

CHUNK = 512  # mentions per read-score-store round, so a big backlog streams


@task(name="load-model", cache_policy=NO_CACHE)
def load_model(settings: Settings) -> Scorer:
    return load_scorer(settings.model)


@task(name="unscored-mentions", cache_policy=NO_CACHE)
def unscored(settings: Settings, model_id: str) -> list[StoredMention]:
    return store_for(settings).read(lambda conn: queries.unscored_mentions(conn, model_id, CHUNK))


@task(name="score-batch", cache_policy=NO_CACHE)
def score_batch(
    scorer: Scorer, themes: tuple[Theme, ...], mentions: list[StoredMention]
) -> list[tuple[str, Score]]:
    scores = scorer.score([m.text for m in mentions], [m.lang for m in mentions])
    return [
        (m.id, replace(s, themes=tuple(tag_themes(m.text, themes))))
        for m, s in zip(mentions, scores, strict=True)
    ]


@task(name="store-scores", cache_policy=NO_CACHE)
def store_scores(settings: Settings, scored: list[tuple[str, Score]]) -> int:
    return stages.save_scores(store_for(settings), scored)


def score_settings(settings: Settings, scorer: Scorer | None = None) -> int:
    logger = get_run_logger()
    scorer = scorer or load_model(settings)
    total = 0
    themes = load_themes(settings.library.themes)
    while batch := unscored(settings, scorer.model_id):
        total += store_scores(settings, score_batch(scorer, themes, batch))
        crash_point("after_score")
    logger.info("scored %d mention(s) with %s", total, scorer.model_id)
    return total


@flow(name="score")
def score_flow(config_path: str) -> int:
    """Score every mention the current model has not scored yet."""
    return score_settings(load_settings(config_path))
