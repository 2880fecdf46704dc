"""Reply drafts: each version of a case's reply with its lint findings and approval decision."""

from __future__ import annotations

import json
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups
from voxwatch.store.queries.rows import dict_rows, set_clause

DRAFT_COLUMNS = frozenset({"state", "decided_by", "decided_at", "decision_comment", "sent_at"})


def insert_draft(conn: Connection, draft: dict[str, Any]) -> int:
    """Store a new draft version for its case; returns the version number."""
    row = conn.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM drafts WHERE case_id = ?", [draft["case_id"]]
    )
    version = int(row.fetchone()[0])
    sent = [draft["case_id"]] if draft["state"] == "sent" else []  # first-contact resolution counts replies
    with kpi_rollups.recounted(conn, sent):
        _insert_draft(conn, draft, version)
    return version


def _insert_draft(conn: Connection, draft: dict[str, Any], version: int) -> None:
    conn.execute(
        "INSERT INTO drafts (id, case_id, version, situation, lang, template_key, body, author, created_at, "
        "findings, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f"{draft['case_id']}-v{version}",
            draft["case_id"],
            version,
            draft["situation"],
            draft["lang"],
            draft["template_key"],
            draft["body"],
            draft["author"],
            draft["created_at"],
            json.dumps(draft["findings"]),
            draft["state"],
        ],
    )


def latest_draft(conn: Connection, case_id: str) -> dict[str, Any] | None:
    found = dict_rows(
        conn.execute("SELECT * FROM drafts WHERE case_id = ? ORDER BY version DESC LIMIT 1", [case_id])
    )
    if not found:
        return None
    draft = found[0]
    draft["findings"] = json.loads(draft["findings"])
    return draft


def update_draft(conn: Connection, draft_id: str, changes: dict[str, Any]) -> None:
    moved = []  # first-contact resolution counts replies sent: a change of state can move it
    if "state" in changes:
        case = conn.execute("SELECT case_id FROM drafts WHERE id = ?", [draft_id]).fetchone()
        moved = [case[0]] if case else []
    with kpi_rollups.recounted(conn, moved):
        assignments = set_clause(changes, DRAFT_COLUMNS)
        conn.execute(f"UPDATE drafts SET {assignments} WHERE id = ?", [*changes.values(), draft_id])
