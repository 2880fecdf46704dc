"""The collect flow: for each source, fetch -> parse -> store, one page per run.

Only the fetch task retries, and only on transient failures. A source that fails
for good is recorded as degraded with its reason while the other sources carry
on; its cursor is left untouched so nothing is skipped.
"""

from __future__ import annotations

from dataclasses import replace

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import Task

from flows import http
from flows.sources import source_module
from flows.sources.base import ParsedPage, RawResponse
from sentiment.lang import detect_language
from voxwatch.errors import ParseError, SourceError, TransientSourceError
from voxwatch.settings import Settings, SourceSettings, load_settings
from voxwatch.store import queries, stages, store_for


def _is_transient(task: Task, task_run: TaskRun, state: State) -> bool:
    return isinstance(state.result(raise_on_failure=False), TransientSourceError)


@task(
    name="fetch-page",
    retries=3,
    retry_delay_seconds=[1, 4, 10],
    retry_jitter_factor=0.5,
    retry_condition_fn=_is_transient,
    cache_policy=NO_CACHE,
)
def fetch_page(settings: Settings, source: SourceSettings) -> RawResponse:
    state = store_for(settings).read(lambda conn: queries.source_state(conn, source.name))
    module = source_module(source.kind)
    request = replace(module.build_request(source, state), min_interval=source.min_request_interval_seconds)
    auth = getattr(module, "auth_headers", None)
    login = (lambda client: auth(source, settings, client)) if auth else None
    return http.fetch(request, source.name, state.etag, state.last_modified, auth=login)


@task(name="parse-page", cache_policy=NO_CACHE)
def parse_page(source: SourceSettings, raw: RawResponse) -> ParsedPage:
    if raw.status == 304:
        return ParsedPage(mentions=[])
    page = source_module(source.kind).parse(raw)
    mentions = [m if m.lang else replace(m, lang=detect_language(m.text)) for m in page.mentions]
    return ParsedPage(mentions=mentions, next_cursor=page.next_cursor)


@task(name="store-page", cache_policy=NO_CACHE)
def store_page(settings: Settings, source: SourceSettings, raw: RawResponse, page: ParsedPage) -> int:
    return stages.save_collected(store_for(settings), source.name, raw, page.mentions, page.next_cursor)


@task(name="record-failure", cache_policy=NO_CACHE)
def record_failure(settings: Settings, source: SourceSettings, error: str) -> None:
    stages.save_source_failure(store_for(settings), source.name, error)


def collect_settings(settings: Settings, only: str | None = None) -> dict[str, int | str]:
    """Collect every enabled source (or just ``only``); return new items or the error per source."""
    logger = get_run_logger()
    store = store_for(settings)
    store.migrate()
    stages.register_settings(store, settings)
    sources = [settings.source(only)] if only else [s for s in settings.sources if s.enabled]
    results: dict[str, int | str] = {}
    for source in sources:
        try:
            raw = fetch_page(settings, source)
            page = parse_page(source, raw)
            results[source.name] = store_page(settings, source, raw, page)
            logger.info("%s: %d new mention(s)", source.name, results[source.name])
        except (SourceError, ParseError) as exc:
            record_failure(settings, source, str(exc))
            results[source.name] = f"degraded: {exc}"
            logger.warning("%s is degraded: %s", source.name, exc)
    return results


@flow(name="collect")
def collect_flow(config_path: str, source: str | None = None) -> dict[str, int | str]:
    """Fetch new mentions from every source (or one) into the store."""
    return collect_settings(load_settings(config_path), source)
