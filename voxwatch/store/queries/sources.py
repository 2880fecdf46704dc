"""Sources and their state: cursors, validators, health per run, and the raw responses they sent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from voxwatch.domain import (
    RawResponse,
    SourceState,
)
from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows


def upsert_source(conn: Connection, name: str, kind: str, url: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
        "SET kind = excluded.kind, url = excluded.url, updated_at = excluded.updated_at",
        [name, kind, url, at],
    )


def source_state(conn: Connection, source: str) -> SourceState:
    row = conn.execute(
        "SELECT source, cursor, etag, last_modified, status, last_ok_at, last_error, items_last_run, "
        "resume_page, pending_cursor, retry_after_until FROM source_state WHERE source = ?",
        [source],
    ).fetchone()
    if not row:
        return SourceState(source=source)
    source, cursor, etag, modified, status, last_ok_at, last_error, items, resume, pending, until = row
    return SourceState(
        source,
        cursor,
        etag,
        modified,
        status,
        last_ok_at,
        last_error,
        items,
        resume_page=json.loads(resume) if resume else None,
        pending_cursor=pending,
        retry_after_until=until,
    )


def record_source_success(
    conn: Connection,
    source: str,
    at: datetime,
    items: int,
    cursor: str | None,
    etag: str | None,
    last_modified: str | None,
    resume_page: dict[str, str] | None = None,
    pending_cursor: str | None = None,
    warning: str | None = None,
) -> None:
    """Save the new cursor, or where an unfinished walk continues; after the run's items are stored."""
    conn.execute(
        "INSERT INTO source_state (source, cursor, etag, last_modified, status, last_run_at, "
        "last_ok_at, last_error, items_last_run, resume_page, pending_cursor, retry_after_until, warning) "
        "VALUES (?, ?, ?, ?, 'ok', ?, ?, NULL, ?, ?, ?, NULL, ?) "
        "ON CONFLICT (source) DO UPDATE SET cursor = coalesce(excluded.cursor, source_state.cursor), "
        "etag = coalesce(excluded.etag, source_state.etag), "
        "last_modified = coalesce(excluded.last_modified, source_state.last_modified), status = 'ok', "
        "last_run_at = excluded.last_run_at, last_ok_at = excluded.last_ok_at, last_error = NULL, "
        "items_last_run = excluded.items_last_run, resume_page = excluded.resume_page, "
        "pending_cursor = excluded.pending_cursor, retry_after_until = NULL, warning = excluded.warning",
        [
            source,
            cursor,
            etag,
            last_modified,
            at,
            at,
            items,
            json.dumps(resume_page) if resume_page else None,
            pending_cursor,
            warning,
        ],
    )


def record_source_waiting(conn: Connection, source: str, at: datetime, until: datetime, reason: str) -> None:
    """The source asked us to wait (Retry-After): no request before ``until``; the cursor stays."""
    conn.execute(
        "INSERT INTO source_state (source, status, last_run_at, last_error, items_last_run, "
        "retry_after_until) VALUES (?, 'waiting', ?, ?, 0, ?) "
        "ON CONFLICT (source) DO UPDATE SET status = 'waiting', "
        "last_run_at = excluded.last_run_at, last_error = excluded.last_error, items_last_run = 0, "
        "retry_after_until = excluded.retry_after_until",
        [source, at, reason, until],
    )


def record_source_run(
    conn: Connection,
    source: str,
    at: datetime,
    status: str,
    http_status: int | None,
    items: int,
    error: str | None,
    warning: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO source_runs (source, ran_at, status, http_status, items_new, error, warning) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source, at, status, http_status, items, error, warning],
    )


def record_source_failure(conn: Connection, source: str, at: datetime, error: str) -> None:
    """Mark a source degraded with the reason; its cursor is left as it was."""
    conn.execute(
        "INSERT INTO source_state (source, status, last_run_at, last_error, items_last_run) "
        "VALUES (?, 'degraded', ?, ?, 0) ON CONFLICT (source) DO UPDATE SET status = 'degraded', "
        "last_run_at = excluded.last_run_at, last_error = excluded.last_error, items_last_run = 0",
        [source, at, error],
    )


def save_raw_response(conn: Connection, source: str, raw: RawResponse) -> None:
    """Keep a response body, content-addressed: the same body is stored once."""
    conn.execute(
        "INSERT INTO raw_responses VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [raw.sha256, source, raw.url, raw.status, raw.content_type, raw.fetched_at, raw.body],
    )


# Replies to each source's mentions and how they went out: a source we cannot answer on is unhealthy.
REPLIES_BY_SOURCE = (
    "SELECT m.source, count(*) FILTER (WHERE o.state = 'sent') AS replies_posted, "
    "count(*) FILTER (WHERE o.state IN ('failed', 'unknown')) AS replies_failing, "
    "(array_agg(o.last_error ORDER BY o.last_attempt_at DESC NULLS LAST) "
    " FILTER (WHERE o.state IN ('failed', 'unknown', 'pending') AND o.last_attempt_at IS NOT NULL))[1] "
    "AS last_publish_error "
    "FROM outbox o JOIN cases c ON c.id = o.case_id JOIN mentions m ON m.id = c.mention_id "
    "WHERE o.kind = 'reply' GROUP BY m.source"
)


def source_health(conn: Connection) -> list[dict[str, Any]]:
    """Each source's state and its last run, and how replies to its mentions went out."""
    return dict_rows(
        conn.execute(
            "SELECT s.name, s.kind, s.url, st.status, st.last_ok_at, st.last_run_at, st.last_error, "
            "st.items_last_run, st.warning, st.retry_after_until, "
            "st.resume_page IS NOT NULL AS walk_unfinished, "
            "(SELECT count(*) FROM mentions m WHERE m.source = s.name) AS mentions, "
            "coalesce(r.replies_posted, 0) AS replies_posted, "
            "coalesce(r.replies_failing, 0) AS replies_failing, r.last_publish_error "
            "FROM sources s LEFT JOIN source_state st ON st.source = s.name "
            "LEFT JOIN (" + REPLIES_BY_SOURCE + ") r ON r.source = s.name ORDER BY s.name"
        )
    )


def purge_raw_responses(conn: Connection, before: datetime) -> int:
    """Delete raw responses fetched before ``before`` (the retention period); return how many."""
    rows = conn.execute(
        "DELETE FROM raw_responses WHERE fetched_at < ? RETURNING sha256", [before]
    ).fetchall()
    return len(rows)
