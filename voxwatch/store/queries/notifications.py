"""Notifications sent (or not) to the team, one row per event and channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows


def insert_notification(
    conn: Connection,
    at: datetime,
    channel: str,
    target: str,
    event: str,
    case_id: str | None,
    subject: str,
    status: str,
    attempts: int,
    last_error: str | None,
) -> None:
    conn.execute(
        "INSERT INTO notifications (created_at, channel, target, event, case_id, subject, status, attempts, "
        "last_error, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            at,
            channel,
            target,
            event,
            case_id,
            subject,
            status,
            attempts,
            last_error,
            at if status == "sent" else None,
        ],
    )


def notifications(conn: Connection, case_id: str | None = None) -> list[dict[str, Any]]:
    return dict_rows(
        conn.execute(
            "SELECT * FROM notifications WHERE (?::VARCHAR IS NULL OR case_id = ?) ORDER BY id",
            [case_id, case_id],
        )
    )
