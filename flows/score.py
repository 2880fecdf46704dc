"""The score flow: every mention without a score from the current model gets one,
with its complaint themes."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

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


# The scorer of this process, by the model settings it was loaded with: ``voxwatch serve``
# runs the pipeline again and again, and loading the router's encoders took 8-9 s a run.
_WARM: dict[str, Scorer] = {}
_WARM_LOCK = threading.Lock()


@task(name="load-model", cache_policy=NO_CACHE)
def load_model(settings: Settings) -> Scorer:
    """The model settings name, loaded once per process and kept warm between runs.

    Changed model settings (a new ``[model]`` table), or a model folder whose config
    was rewritten (a model shipped again in place), load the model anew and drop the
    old. A route folder retrained in place under an unchanged router needs a restart.
    """
    key = f"{settings.model.model_dump_json()} {_config_stamp(settings.model.name)}"
    with _WARM_LOCK:
        if key not in _WARM:
            _WARM.clear()
            _WARM[key] = load_scorer(settings.model)
        return _WARM[key]


def _config_stamp(name: str) -> int:
    """When the named model folder's config last changed (0 for a hub id)."""
    from sentiment.registry import resolve_model_dir

    config = Path(resolve_model_dir(name)) / "voxwatch_model.json"
    return config.stat().st_mtime_ns if config.is_file() else 0


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
        (m.id, replace(s, themes=tuple(found))) for m, s, found in zip(mentions, scores, themes, strict=True)
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
