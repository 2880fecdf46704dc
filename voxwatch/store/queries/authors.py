"""One view per author: their mentions with scores, and the team's notes about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows


def author_mentions(conn: Connection, source: str, author: str) -> list[dict[str, Any]]:
    """Everything an author said, with the model's mood and any case, oldest first."""
    return dict_rows(
        conn.execute(
            "SELECT m.id, coalesce(m.published_at, m.collected_at) AS said_at, left(m.text, 200) AS excerpt, "
            "s.label, s.p_negative, c.id AS case_id, c.status AS case_status "
            "FROM mentions m LEFT JOIN scores s ON s.mention_id = m.id "
            "LEFT JOIN cases c ON c.mention_id = m.id "
            "WHERE m.source = ? AND m.author = ? ORDER BY said_at, m.id",
            [source, author],
        )
    )


def insert_author_note(
    conn: Connection,
    note_id: str,
    source: str,
    author: str,
    note: str,
    confidential: bool,
    actor: str,
    at: datetime,
) -> None:
    conn.execute(
        "INSERT INTO author_notes VALUES (?, ?, ?, ?, ?, ?, ?)",
        [note_id, source, author, note, confidential, actor, at],
    )


def author_notes(
    conn: Connection, source: str, author: str, include_confidential: bool
) -> list[dict[str, Any]]:
    return dict_rows(
        conn.execute(
            "SELECT note, confidential, actor, created_at FROM author_notes "
            "WHERE source = ? AND author = ? AND (? OR NOT confidential) ORDER BY created_at",
            [source, author, include_confidential],
        )
    )
