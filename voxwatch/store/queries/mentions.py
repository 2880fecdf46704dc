"""Mentions: storing a page's new posts (linking reposts) and reading those not yet scored."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from voxwatch.domain import Mention, StoredMention, content_hash, normalise_author, repost_key
from voxwatch.domain import mention_id as make_mention_id
from voxwatch.store.database import Connection


@dataclass(frozen=True)
class Inserted:
    """What storing a page did: how many mentions were new, and how many reused another's id."""

    new: int = 0
    reused_ids: int = 0


def _reused_id(conn: Connection, ident: str, digest: str) -> bool:
    """True when ``ident`` is stored already with other words: the source reused the id."""
    row = conn.execute("SELECT content_hash FROM mentions WHERE id = ?", [ident]).fetchone()
    return row is not None and row[0] != digest


def _forgotten(conn: Connection, source: str, author: str | None) -> bool:
    who = normalise_author(author)
    if who is None:
        return False
    row = conn.execute(
        "SELECT 1 FROM forgotten_authors WHERE source = ? AND author_key = ?", [source, who]
    ).fetchone()
    return row is not None


def _earlier(
    conn: Connection, ident: str, key: str | None, digest: str, said: datetime, window: timedelta
) -> tuple[str | None, str | None]:
    """(duplicate_of, related_to): the same author's same words within ``window``, else anyone's."""
    if key is not None:
        same_author = conn.execute(
            "SELECT id FROM mentions WHERE repost_key = ? AND id <> ? "
            "AND coalesce(published_at, collected_at) BETWEEN ? AND ? ORDER BY collected_at, id LIMIT 1",
            [key, ident, said - window, said + window],
        ).fetchone()
        if same_author:
            return same_author[0], None
    other = conn.execute(
        "SELECT id FROM mentions WHERE content_hash = ? AND id <> ? ORDER BY collected_at, id LIMIT 1",
        [digest, ident],
    ).fetchone()
    return None, other[0] if other else None


def insert_mentions(
    conn: Connection,
    source: str,
    mentions: Sequence[Mention],
    collected_at: datetime,
    raw_sha256: str | None,
    duplicate_window: timedelta,
) -> Inserted:
    """Insert the mentions not seen before; link duplicates and related posts; skip forgotten authors.

    A mention whose id is already stored with other words (a feed reusing GUIDs)
    is kept apart under an id made from its content, and counted in
    ``reused_ids`` so the source's health can say so.
    """
    new = reused = 0
    for mention in mentions:
        if _forgotten(conn, source, mention.author):
            continue
        digest = content_hash(mention.text)
        external_id = mention.external_id
        ident = make_mention_id(source, external_id)
        if _reused_id(conn, ident, digest):
            reused += 1
            external_id = (
                f"{external_id}#{hashlib.sha256(f'{mention.url}|{digest}'.encode()).hexdigest()[:16]}"
            )
            ident = make_mention_id(source, external_id)
        key = repost_key(mention.author, mention.text)
        said = mention.published_at or collected_at
        duplicate_of, related_to = _earlier(conn, ident, key, digest, said, duplicate_window)
        inserted = conn.execute(
            "INSERT INTO mentions (id, source, external_id, url, author, title, text, lang, rating, "
            "author_reach, published_at, collected_at, content_hash, duplicate_of, raw_sha256, "
            "repost_key, related_to, claimed_published_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [
                ident,
                source,
                external_id,
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
                duplicate_of,
                raw_sha256,
                key,
                related_to,
                mention.claimed_published_at,
            ],
        ).fetchall()
        new += len(inserted)
    return Inserted(new, reused)


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
