"""The append-only audit log: who did what to which entity, with before and after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows, insert_many


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
    """The only way anything touches audit_log: it appends."""
    append_audits(conn, [(at, actor, entity, entity_id, action, before, after)])


# One audit entry: when, who, what kind of thing, which one, what was done, before, after.
AuditEntry = tuple[datetime, str, str, str, str, dict[str, Any] | None, dict[str, Any] | None]


def append_audits(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    """Append entries in the order given (their ids follow it), a few statements for many."""
    rows = [
        [
            at,
            actor,
            entity,
            entity_id,
            action,
            json.dumps(before, default=str) if before is not None else None,
            json.dumps(after, default=str) if after is not None else None,
        ]
        for at, actor, entity, entity_id, action, before, after in entries
    ]
    insert_many(
        conn,
        "INSERT INTO audit_log (occurred_at, actor, entity, entity_id, action, before, after)",
        rows,
        "(?, ?, ?, ?, ?, ?, ?)",
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
