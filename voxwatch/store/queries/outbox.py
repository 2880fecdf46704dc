"""The outbox: replies and notices queued with their idempotency key, and how each delivery went."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from voxwatch.domain import Outgoing
from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows, set_clause

OUTBOX_COLUMNS = frozenset(
    {
        "state",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "claimed_by",
        "sent_at",
        "external_id",
        "external_url",
        "last_error",
    }
)
# What a person or the deliverer may still act on; sent and failed are final.
UNFINISHED = ("pending", "sending", "unknown", "awaiting_link")


def enqueue(conn: Connection, message: Outgoing, now: datetime) -> bool:
    """Queue ``message`` once: True when it is new, False when its key was queued before."""
    cursor = conn.execute(
        "INSERT INTO outbox (key, kind, channel, target, case_id, draft_version, event, subject, body, "
        "extra, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO NOTHING RETURNING key",
        [
            message.key,
            message.kind,
            message.channel,
            message.target,
            message.case_id,
            message.draft_version,
            message.event,
            message.subject,
            message.body,
            json.dumps(message.extra),
            message.state,
            now,
            now,
        ],
    )
    return cursor.fetchone() is not None


def _decoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["extra"] = json.loads(row["extra"]) if row.get("extra") else {}
    return rows


def due_entries(conn: Connection, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """Entries a deliverer may try now: pending ones whose time has come, and every one being sent.

    A message being sent is due when its claim's lease ran out or the process that
    claimed it is gone; the deliverer decides that (``responders.outbox``).
    """
    return _decoded(
        dict_rows(
            conn.execute(
                "SELECT * FROM outbox WHERE (state = 'pending' AND next_attempt_at <= ?) "
                "OR state = 'sending' ORDER BY seq LIMIT ?",
                [now, limit],
            )
        )
    )


def get_entry(conn: Connection, key: str) -> dict[str, Any] | None:
    found = _decoded(dict_rows(conn.execute("SELECT * FROM outbox WHERE key = ?", [key])))
    return found[0] if found else None


def update_entry(conn: Connection, key: str, changes: dict[str, Any]) -> None:
    conn.execute(
        f"UPDATE outbox SET {set_clause(changes, OUTBOX_COLUMNS)} WHERE key = ?", [*changes.values(), key]
    )


def case_outbox(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """Everything queued for a case, oldest first: its replies and the notices about it."""
    return _decoded(dict_rows(conn.execute("SELECT * FROM outbox WHERE case_id = ? ORDER BY seq", [case_id])))


def outbox_entries(
    conn: Connection, kind: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Queued messages in the order queued, each with its case's number (``case_number``) for people."""
    return _decoded(
        dict_rows(
            conn.execute(
                "SELECT o.*, c.number AS case_number FROM outbox o LEFT JOIN cases c ON c.id = o.case_id "
                "WHERE (?::VARCHAR IS NULL OR o.kind = ?) AND (?::VARCHAR IS NULL OR o.state = ?) "
                "ORDER BY o.seq",
                [kind, kind, state, state],
            )
        )
    )
