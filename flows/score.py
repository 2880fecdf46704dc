"""The score flow: every mention without a score from the current model gets one,
with its complaint themes.

Scoring runs in this process, or, with ``[compute] dask_address``, on a Dask
cluster's workers through prefect-dask's ``DaskTaskRunner``: the flow reads the
unscored mentions and stores the scores (the store stays with the flow), the
workers only score, each with its own warm model.
"""

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
from voxwatch.errors import SettingsError
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
    """The model settings name, loaded once per process and kept warm between runs."""
    return warm_scorer(settings)


def warm_scorer(settings: Settings) -> Scorer:
    """This process's scorer for ``settings``: loaded on first use, then kept (a Dask worker's too).

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
def unscored(
    settings: Settings, model_id: str, limit: int = CHUNK, source: str | None = None
) -> list[StoredMention]:
    return store_for(settings).read(lambda conn: queries.unscored_mentions(conn, model_id, limit, source))


@task(name="score-batch", cache_policy=NO_CACHE)
def score_batch(
    scorer: Scorer, book: ThemeBook, matcher: ThemeMatcher | None, mentions: list[StoredMention]
) -> list[tuple[str, Score]]:
    return _scored(scorer, book, matcher, mentions)


@task(name="model-id-on-worker", cache_policy=NO_CACHE)
def model_id_on_worker(settings: Settings) -> str:
    """The id of the model a worker scores with (loading it there, where it will be used)."""
    return warm_scorer(settings).model_id


@task(name="score-batch-on-worker", cache_policy=NO_CACHE)
def score_on_worker(settings: Settings, mentions: list[StoredMention]) -> list[tuple[str, Score]]:
    """Run on a Dask worker: its warm model and theme matcher score one batch; nothing is stored here."""
    scorer = warm_scorer(settings)
    book = load_theme_book(settings.library.themes)
    return _scored(scorer, book, wheel_matcher(book), mentions)


def _scored(
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


def score_settings(settings: Settings, scorer: Scorer | None = None, source: str | None = None) -> int:
    """Score what is unscored, here or (``[compute] dask_address``) on the Dask cluster.

    With ``source``, only that source's mentions: each source's pipeline run scores what it
    collected, so workers running different sources at once never score the same mention twice.
    """
    if settings.compute.dask_address and scorer is None:
        return score_on_cluster(settings, source)
    logger = get_run_logger()
    scorer = scorer or load_model(settings)
    total = 0
    book = load_theme_book(settings.library.themes)
    matcher = wheel_matcher(book)
    while batch := unscored(settings, scorer.model_id, CHUNK, source):
        total += store_scores(settings, score_batch(scorer, book, matcher, batch))
        crash_point("after_score")
    logger.info("scored %d mention(s) with %s", total, scorer.model_id)
    return total


# Batches sent to the cluster at once: enough to keep every worker busy while the flow stores.
BATCHES_PER_ROUND = 8


@flow(name="score-on-cluster", validate_parameters=False)
def _cluster_flow(settings: Settings, source: str | None = None) -> int:
    logger = get_run_logger()
    model_id = model_id_on_worker.submit(settings).result()
    size, total = settings.compute.dask_batch, 0
    while mentions := unscored(settings, model_id, size * BATCHES_PER_ROUND, source):
        batches = [mentions[i : i + size] for i in range(0, len(mentions), size)]
        for future in [score_on_worker.submit(settings, batch) for batch in batches]:
            total += store_scores(settings, future.result())
            crash_point("after_score")
    logger.info("scored %d mention(s) with %s on %s", total, model_id, settings.compute.dask_address)
    return total


def score_on_cluster(settings: Settings, source: str | None = None) -> int:
    """Fan scoring out to the Dask cluster at ``[compute] dask_address`` (a subflow with its task runner)."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise SettingsError(
            "[compute] dask_address is set but prefect-dask is not installed: pip install 'voxwatch[dask]'"
        ) from exc
    runner = DaskTaskRunner(address=settings.compute.dask_address)
    return int(_cluster_flow.with_options(task_runner=runner)(settings, source))


@flow(name="score")
def score_flow(config_path: str) -> int:
    """Score every mention the current model has not scored yet."""
    return score_settings(load_settings(config_path))
