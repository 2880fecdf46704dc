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

from flows.sources import http, source_module
from flows.sources.base import ParsedPage, RawResponse
from sentiment.lang import detect_language
from voxwatch.domain import SourceState
from voxwatch.errors import ParseError, SourceError, TransientSourceError
from voxwatch.settings import Settings, SourceSettings, load_settings
from voxwatch.store import queries, stages, store_for

MAX_PAGES_PER_RUN = 20


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
def fetch_page(
    settings: Settings, source: SourceSettings, state: SourceState, page: dict[str, str] | None = None
) -> RawResponse:
    """The run's first page (conditional on ETag / Last-Modified), or a follow-up ``page``."""
    module = source_module(source.kind)
    request = replace(module.build_request(source, state), min_interval=source.min_request_interval_seconds)
    if page:
        request = replace(request, params=request.params | page)
    prepare = getattr(module, "prepare", None)  # log in, or check access, before fetching
    login = (lambda client: prepare(source, settings, client)) if prepare else None
    etag, modified = (None, None) if page else (state.etag, state.last_modified)
    return http.fetch(request, source.name, etag, modified, auth=login)


@task(name="parse-page", cache_policy=NO_CACHE)
def parse_page(source: SourceSettings, raw: RawResponse) -> ParsedPage:
    if raw.status == 304:
        return ParsedPage(mentions=[])
    page = source_module(source.kind).parse(raw)
    mentions = [m if m.lang else replace(m, lang=detect_language(m.text)) for m in page.mentions]
    return replace(page, mentions=mentions)


@task(name="store-page", cache_policy=NO_CACHE)
def store_page(settings: Settings, source: SourceSettings, raw: RawResponse, page: ParsedPage) -> int:
    return stages.save_page(store_for(settings), source.name, raw, page.mentions)


@task(name="finish-run", cache_policy=NO_CACHE)
def finish_run(
    settings: Settings, source: SourceSettings, first: RawResponse, cursor: str | None, new: int
) -> None:
    stages.save_run(store_for(settings), source.name, first, cursor, new)


def collect_source(settings: Settings, source: SourceSettings) -> int:
    """Fetch, parse and store every page of one source's run; then move its cursor."""
    new, cursor, params = 0, None, None
    first: RawResponse | None = None
    state = store_for(settings).read(lambda conn: queries.source_state(conn, source.name))
    for _ in range(MAX_PAGES_PER_RUN):
        raw = fetch_page(settings, source, state, params)
        first = first or raw
        try:
            page = parse_page(source, raw)
        except ParseError as exc:
            digest = stages.save_unparsed(store_for(settings), source.name, raw)
            raise ParseError(f"{exc} (response kept as raw {digest[:12]} for replay)") from exc
        new += store_page(settings, source, raw, page)
        cursor = page.next_cursor or cursor
        if page.next_page is None:
            finish_run(settings, source, first, cursor, new)
            return new
        params = page.next_page
    # More pages than one run may take: keep what was stored, leave the cursor, and
    # let the next run walk again from it (known items are not stored twice).
    get_run_logger().warning(
        "%s: stopped after %d pages; the next run continues", source.name, MAX_PAGES_PER_RUN
    )
    return new


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
            results[source.name] = collect_source(settings, source)
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
