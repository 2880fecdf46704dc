"""Mentions: storing a page's new posts (linking reposts) and reading those not yet scored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from voxwatch.domain import (
    Mention,
    StoredMention,
)
from voxwatch.domain import mention_id as make_mention_id
from voxwatch.store.database import Connection


def insert_mentions(
    conn: Connection,
    source: str,
    mentions: Sequence[Mention],
    content_hashes: Sequence[str],
    collected_at: datetime,
    raw_sha256: str | None,
) -> int:
    """Insert the mentions not seen before; return how many were new."""
    new = 0
    for mention, digest in zip(mentions, content_hashes, strict=True):
        ident = make_mention_id(source, mention.external_id)
        earlier = conn.execute(
            "SELECT id FROM mentions WHERE content_hash = ? AND id <> ? ORDER BY collected_at, id LIMIT 1",
            [digest, ident],
        ).fetchone()
        inserted = conn.execute(
            "INSERT INTO mentions (id, source, external_id, url, author, title, text, lang, rating, "
            "author_reach, published_at, collected_at, content_hash, duplicate_of, raw_sha256) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            [
                ident,
                source,
                mention.external_id,
                mention.url,
                mention.author,
                mention.title,
                mention.text,
                mention.lang,
                mention.rating,
                mention.author_reach,
                mention.published_at,
                collected_at,
                digest,
                earlier[0] if earlier else None,
                raw_sha256,
            ],
        ).fetchall()
        new += len(inserted)
    return new


_MENTION_COLUMNS = (
    "m.id, m.source, m.title, m.text, m.author, m.lang, m.published_at, m.collected_at, m.author_reach, "
    "m.duplicate_of"
)


def _stored_mention(row: Sequence[Any]) -> StoredMention:
    ident, source, title, text, author, lang, published_at, collected_at, reach, duplicate_of = row
    body = text if not title or text.startswith(title) else f"{title}\n{text}"
    return StoredMention(ident, source, body, author, lang, published_at, collected_at, reach, duplicate_of)


def unscored_mentions(conn: Connection, model_id: str, limit: int) -> list[StoredMention]:
    rows = conn.execute(
        f"SELECT {_MENTION_COLUMNS} FROM mentions m WHERE NOT EXISTS "
        "(SELECT 1 FROM scores s WHERE s.mention_id = m.id AND s.model_id = ?) "
        "ORDER BY m.collected_at, m.id LIMIT ?",
        [model_id, limit],
    ).fetchall()
    return [_stored_mention(row) for row in rows]
