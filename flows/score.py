"""The score flow: every mention without a score from the current model gets one,
with its complaint themes."""

from __future__ import annotations

from dataclasses import replace

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from sentiment.model import Scorer, load_scorer
from sentiment.theme_match import ThemeMatcher, tag_texts, wheel_matcher
from sentiment.themes import ThemeBook, load_theme_book
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
    scorer: Scorer, book: ThemeBook, matcher: ThemeMatcher | None, mentions: list[StoredMention]
) -> list[tuple[str, Score]]:
    texts, langs = [m.text for m in mentions], [m.lang for m in mentions]
    scores = scorer.score(texts, langs)
    themes = tag_texts(texts, langs, book, matcher)
    return [
        (m.id, replace(s, themes=tuple(found)))
        for m, s, found in zip(mentions, scores, themes, strict=True)
    ]


@task(name="store-scores", cache_policy=NO_CACHE)
def store_scores(settings: Settings, scored: list[tuple[str, Score]]) -> int:
    return stages.save_scores(store_for(settings), scored)


def score_settings(settings: Settings, scorer: Scorer | None = None) -> int:
    logger = get_run_logger()
    scorer = scorer or load_model(settings)
    total = 0
    book = load_theme_book(settings.library.themes)
    matcher = wheel_matcher(book)
    while batch := unscored(settings, scorer.model_id):
        total += store_scores(settings, score_batch(scorer, book, matcher, batch))
        crash_point("after_score")
    logger.info("scored %d mention(s) with %s", total, scorer.model_id)
    return total


@flow(name="score")
def score_flow(config_path: str) -> int:
    """Score every mention the current model has not scored yet."""
    return score_settings(load_settings(config_path))
