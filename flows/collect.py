"""The collect flow: for each source, fetch -> parse -> store, a page at a time; sources side by side.

Orchestration only; the rules live in the collect stage (``flows/sources/``) and
the store. What it promises:

- a source's failure stays in that source, whatever raises: it is recorded as
  degraded with its reason while the other sources carry on, and its cursor is
  left untouched so nothing is skipped;
- sources are collected concurrently (``[collect] concurrency``), so one slow
  host does not hold the others; each fetch has its own deadline and the fetch
  layer's one retry policy (the tasks here do not retry);
- a source that asked us to come back later (``Retry-After``) is not asked
  again before then, across runs, and its health says so;
- a walk longer than ``max_pages_per_run`` saves where it stopped and the next
  run continues from there; the cursor moves only when the walk is complete;
- a connector that logs in does so once per run.
"""

from __future__ import annotations

import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.sources import http, parse_response, source_module
from flows.sources.base import ParsedPage, RawResponse
from sentiment.lang import detect_language
from voxwatch.domain import SourceState, clamp_to_collection, scrub
from voxwatch.errors import ParseError, RateLimited, SourceError, StoreError
from voxwatch.runtime import crash_point
from voxwatch.settings import Settings, SourceSettings, load_settings
from voxwatch.store import queries, stages, store_for
from voxwatch.store.queries import Inserted

log = logging.getLogger(__name__)


@dataclass
class Walk:
    """Where one run's walk over a source's pages stands."""

    state: SourceState
    params: dict[str, str] | None
    first: RawResponse | None = None
    cursor: str | None = None
    new: int = 0
    reused_ids: int = 0

    @property
    def resuming(self) -> bool:
        return self.state.resume_page is not None


def fetch_limits(settings: Settings) -> http.Limits:
    return http.Limits(
        deadline_seconds=settings.collect.fetch_deadline_seconds,
        max_wait_in_run_seconds=settings.collect.max_wait_in_run_seconds,
    )


@task(name="log-in", cache_policy=NO_CACHE)
def log_in(settings: Settings, source: SourceSettings) -> dict[str, str]:
    """The source's log-in or access check, once per run; {} for sources that need none."""
    prepare = getattr(source_module(source.kind), "prepare", None)
    if prepare is None:
        return {}
    return http.login(lambda client: prepare(source, settings, client), source.name, source.url)


@task(name="fetch-page", cache_policy=NO_CACHE)
def fetch_page(
    settings: Settings, source: SourceSettings, walk: Walk, session: dict[str, str]
) -> RawResponse:
    """The walk's next page (the first conditional on ETag / Last-Modified)."""
    module = source_module(source.kind)
    request = replace(
        module.build_request(source, walk.state), min_interval=source.min_request_interval_seconds
    )
    if walk.params:
        request = replace(request, params=request.params | walk.params)
    fresh = walk.first is None and not walk.resuming
    etag, modified = (walk.state.etag, walk.state.last_modified) if fresh else (None, None)
    return http.fetch(request, source.name, etag, modified, fetch_limits(settings), session=session)


@task(name="parse-page", cache_policy=NO_CACHE)
def parse_page(source: SourceSettings, raw: RawResponse) -> ParsedPage:
    """Parse; then per mention: text the store can keep, its language, dates from the future clamped."""
    if raw.status == 304:
        return ParsedPage(mentions=[])
    page = parse_response(source.kind, raw)
    mentions = []
    for mention in page.mentions:
        published = clamp_to_collection(mention.published_at, raw.fetched_at)
        claimed = mention.published_at if published != mention.published_at else None
        text = scrub(mention.text) or ""
        mentions.append(
            replace(
                mention,
                text=text,
                title=scrub(mention.title),
                author=scrub(mention.author),
                url=scrub(mention.url),
                lang=mention.lang or detect_language(text),
                published_at=published,
                claimed_published_at=claimed,
            )
        )
    return replace(page, mentions=mentions)


@task(name="store-page", cache_policy=NO_CACHE)
def store_page(settings: Settings, source: SourceSettings, raw: RawResponse, page: ParsedPage) -> Inserted:
    window = timedelta(hours=settings.collect.duplicate_window_hours)
    return stages.save_page(
        store_for(settings), source.name, raw, page.mentions, settings.store.write_chunk, window
    )


@task(name="finish-run", cache_policy=NO_CACHE)
def finish_run(
    settings: Settings,
    source: SourceSettings,
    walk: Walk,
    resume_page: dict[str, str] | None,
    warning: str | None,
) -> None:
    """Move the cursor when the walk is complete; else save where the next run continues."""
    assert walk.first is not None
    newest = walk.cursor or (walk.state.pending_cursor if walk.resuming else None)
    done = resume_page is None  # unfinished: the cursor stays, the newest seen waits for the walk's end
    stages.save_run(
        store_for(settings),
        source.name,
        walk.first,
        newest if done else None,
        walk.new,
        resume_page,
        None if done else newest,
        warning,
    )


def _warning(walk: Walk, stopped_at_budget: bool, budget: int) -> str | None:
    notes = []
    if walk.reused_ids:
        notes.append(f"{walk.reused_ids} item(s) reused another item's id with other content; kept apart")
    if stopped_at_budget:
        notes.append(f"stopped after {budget} pages; the next run continues from there")
    return "; ".join(notes) or None


def collect_source(settings: Settings, source: SourceSettings) -> int:
    """Fetch, parse and store one source's pages; then move its cursor (or save where to go on)."""
    state = store_for(settings).read(lambda conn: queries.source_state(conn, source.name))
    now = datetime.now(UTC)
    if state.retry_after_until is not None and state.retry_after_until > now:
        until = f"{state.retry_after_until:%Y-%m-%d %H:%M} UTC"
        raise RateLimited(source.name, f"waiting until {until}, as the source asked", state.retry_after_until)
    session = log_in(settings, source)
    walk = Walk(state=state, params=state.resume_page)
    budget = settings.collect.max_pages_per_run
    for _ in range(budget):
        raw = fetch_page(settings, source, walk, session)
        crash_point("after_fetch")
        walk.first = walk.first or raw
        try:
            page = parse_page(source, raw)
        except ParseError as exc:
            digest = stages.save_unparsed(store_for(settings), source.name, raw)
            raise ParseError(f"{exc} (response kept as raw {digest[:12]} for replay)") from exc
        inserted = store_page(settings, source, raw, page)
        if page.deleted:  # the platform says these posts are gone: so are they here
            stages.forget_posts(store_for(settings), source.name, page.deleted)
        crash_point("after_store_mentions")
        walk.new += inserted.new
        walk.reused_ids += inserted.reused_ids
        walk.cursor = page.next_cursor or walk.cursor
        if page.next_page is None:
            finish_run(settings, source, walk, None, _warning(walk, False, budget))
            return walk.new
        walk.params = page.next_page
    get_run_logger().warning("%s: stopped after %d pages; the next run continues", source.name, budget)
    finish_run(settings, source, walk, walk.params, _warning(walk, True, budget))
    return walk.new


@task(name="record-failure", cache_policy=NO_CACHE)
def record_failure(settings: Settings, source: SourceSettings, error: str) -> None:
    stages.save_source_failure(store_for(settings), source.name, error)


@task(name="record-waiting", cache_policy=NO_CACHE)
def record_waiting(settings: Settings, source: SourceSettings, until: datetime, reason: str) -> None:
    stages.save_waiting(store_for(settings), source.name, until, reason)


def collect_one(settings: Settings, source: SourceSettings) -> int | str:
    """One source's run, its failure kept to itself: new mentions, or why there are none."""
    try:
        return collect_source(settings, source)
    except StoreError:
        raise  # the store itself is the problem: no source can be collected, the run fails
    except RateLimited as exc:
        record_waiting(settings, source, exc.until, exc.reason)
        return f"waiting: {exc.reason}"
    except (SourceError, ParseError) as exc:
        record_failure(settings, source, str(exc))
        return f"degraded: {exc}"
    except Exception as exc:  # a connector's bug must not stop the other sources
        log.error("%s: unexpected error in the %s connector", source.name, source.kind, exc_info=exc)
        reason = f"unexpected {type(exc).__name__} in the {source.kind} connector: {exc}"
        record_failure(settings, source, reason)
        return f"degraded: {reason}"


def collect_settings(settings: Settings, only: str | None = None) -> dict[str, int | str]:
    """Collect every enabled source (or just ``only``), several at once: new items, or why not, per source."""
    logger = get_run_logger()
    store = store_for(settings)
    store.migrate()
    stages.register_settings(store, settings)
    sources = [settings.source(only)] if only else [s for s in settings.sources if s.enabled]
    with ThreadPoolExecutor(max_workers=settings.collect.concurrency, thread_name_prefix="collect") as pool:
        # each thread runs inside this flow run's context, so its tasks belong to the run
        futures = {
            s.name: pool.submit(contextvars.copy_context().run, collect_one, settings, s) for s in sources
        }
        results = {name: future.result() for name, future in futures.items()}
    for name, result in results.items():
        if isinstance(result, int):
            logger.info("%s: %d new mention(s)", name, result)
        else:
            logger.warning("%s is %s", name, result)
    stages.purge_raw_responses(store, timedelta(days=settings.store.raw_retention_days))
    return results


@flow(name="collect")
def collect_flow(config_path: str, source: str | None = None) -> dict[str, int | str]:
    """Fetch new mentions from every source (or one) into the store."""
    return collect_settings(load_settings(config_path), source)
