"""The append-only audit log: who did what to which entity, with before and after."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows


def append_audit(
    conn: Connection,
    at: datetime,
    actor: str,
    entity: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """The only statement that touches audit_log: it appends."""
    conn.execute(
        "INSERT INTO audit_log (occurred_at, actor, entity, entity_id, action, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            at,
            actor,
            entity,
            entity_id,
            action,
            json.dumps(before, default=str) if before is not None else None,
            json.dumps(after, default=str) if after is not None else None,
        ],
    )


def audit_entries(conn: Connection, entity: str, limit: int) -> list[dict[str, Any]]:
    """The newest audit entries about one kind of thing (``settings``, ``case``...)."""
    return dict_rows(
        conn.execute(
            "SELECT * FROM audit_log WHERE entity = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
            [entity, limit],
        )
    )


def case_audit(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    return dict_rows(
        conn.execute(
            "SELECT occurred_at, actor, action, before, after FROM audit_log "
            "WHERE entity = 'case' AND entity_id = ? ORDER BY id",
            [case_id],
        )
    )
