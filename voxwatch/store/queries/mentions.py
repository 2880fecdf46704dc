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


ROWS_PER_STATEMENT = 200


def _in(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


class _Known:
    """What the store already holds that a page's mentions are checked against, read in three queries.

    Kept up to date as the page is stored, so reposts within one page link too.
    """

    def __init__(
        self, conn: Connection, source: str, ids: list[str], keys: list[str], digests: list[str]
    ) -> None:
        self.forgotten = {
            row[0]
            for row in conn.execute(
                "SELECT author_key FROM forgotten_authors WHERE source = ?", [source]
            ).fetchall()
        }
        self.content = dict(
            conn.execute(f"SELECT id, content_hash FROM mentions WHERE id IN ({_in(ids)})", ids).fetchall()
        )
        self.by_key: dict[str, list[tuple[str, datetime, bool]]] = {}
        for key, ident, said, triaged in conn.execute(
            "SELECT m.repost_key, m.id, coalesce(m.published_at, m.collected_at), t.mention_id IS NOT NULL "
            f"FROM mentions m LEFT JOIN triage t ON t.mention_id = m.id WHERE m.repost_key IN ({_in(keys)}) "
            "ORDER BY m.collected_at, m.id",
            keys,
        ).fetchall():
            self.by_key.setdefault(key, []).append((ident, said, triaged))
        self.by_digest: dict[str, list[tuple[str, str | None]]] = {}
        for digest, ident, key in conn.execute(
            f"SELECT content_hash, id, repost_key FROM mentions WHERE content_hash IN ({_in(digests)}) "
            "ORDER BY collected_at, id",
            digests,
        ).fetchall():
            self.by_digest.setdefault(digest, []).append((ident, key))

    def earlier(
        self, ident: str, key: str | None, digest: str, said: datetime, window: timedelta
    ) -> tuple[str | None, str | None, list[str]]:
        """(duplicate_of, related_to, now_duplicates_of_this) for a new mention.

        The original of the same author's same words is the one published first,
        whatever order the sources were collected in (they are collected side by
        side): a new mention published earlier than stored ones that are not yet
        triaged becomes the original, and those are re-pointed to it. One already
        triaged keeps its case, and the new mention is its duplicate.
        """
        if key is not None:
            near = [
                (other, when, done)
                for other, when, done in self.by_key.get(key, [])
                if other != ident and abs(when - said) <= window
            ]
            triaged = [other for other, _, done in near if done]
            first = min(near, key=lambda item: (item[1], item[0]), default=None)
            if triaged:
                return triaged[0], None, []
            if first is not None and first[1] <= said:
                return first[0], None, []
            if first is not None:
                return None, None, [other for other, _, _ in near]
        for other, other_key in self.by_digest.get(digest, []):
            if other != ident and (key is None or other_key != key):
                return None, other, []
        return None, None, []

    def add(self, ident: str, key: str | None, digest: str, said: datetime) -> None:
        self.content[ident] = digest
        if key is not None:
            self.by_key.setdefault(key, []).append((ident, said, False))
        self.by_digest.setdefault(digest, []).append((ident, key))


def _apart(external_id: str, url: str | None, digest: str) -> str:
    """The id of an item whose source reused another item's id: keyed on its link and content."""
    return f"{external_id}#{hashlib.sha256(f'{url}|{digest}'.encode()).hexdigest()[:16]}"


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
    is kept apart under an id made from its link and content, and counted in
    ``reused_ids`` so the source's health can say so. Set-based: three reads and
    one batched insert per call, whatever the page's size.
    """
    digests = [content_hash(m.text) for m in mentions]
    keys = [repost_key(m.author, m.text) for m in mentions]
    plain = [make_mention_id(source, m.external_id) for m in mentions]
    apart = [
        make_mention_id(source, _apart(m.external_id, m.url, d))
        for m, d in zip(mentions, digests, strict=True)
    ]
    known = _Known(conn, source, plain + apart, [k for k in keys if k], digests)
    rows: list[list[Any]] = []
    repoint: list[tuple[str, str]] = []  # (original, mention that is now its duplicate)
    reused = 0
    for mention, digest, key, ident in zip(mentions, digests, keys, plain, strict=True):
        who = normalise_author(mention.author)
        if who is not None and who in known.forgotten:
            continue
        external_id = mention.external_id
        if known.content.get(ident, digest) != digest:  # the id is taken by other words
            reused += 1
            external_id = _apart(mention.external_id, mention.url, digest)
            ident = make_mention_id(source, external_id)
        if ident in known.content:
            continue  # known already (this run or an earlier one)
        said = mention.published_at or collected_at
        duplicate_of, related_to, later = known.earlier(ident, key, digest, said, duplicate_window)
        known.add(ident, key, digest, said)
        repoint.extend((ident, other) for other in later)
        rows.append(
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
            ]
        )
    # One statement per batch of rows: DuckDB's executemany runs row by row.
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        batch = rows[start : start + ROWS_PER_STATEMENT]
        values = ", ".join("(" + ", ".join("?" for _ in batch[0]) + ")" for _ in batch)
        conn.execute(
            "INSERT INTO mentions (id, source, external_id, url, author, title, text, lang, rating, "
            "author_reach, published_at, collected_at, content_hash, duplicate_of, raw_sha256, "
            f"repost_key, related_to, claimed_published_at) VALUES {values} ON CONFLICT DO NOTHING",
            [value for row in batch for value in row],
        )
    for original, repeat in repoint:
        conn.execute("UPDATE mentions SET duplicate_of = ? WHERE id = ?", [original, repeat])
    return Inserted(len(rows), reused)


_MENTION_COLUMNS = (
    "m.id, m.source, m.title, m.text, m.author, m.lang, m.published_at, m.collected_at, m.author_reach, "
    "m.duplicate_of"
)


def _stored_mention(row: Sequence[Any]) -> StoredMention:
    ident, source, title, text, author, lang, published_at, collected_at, reach, duplicate_of = row
    body = text if not title or text.startswith(title) else f"{title}\n{text}"
    return StoredMention(ident, source, body, author, lang, published_at, collected_at, reach, duplicate_of)


def unscored_mentions(
    conn: Connection, model_id: str, limit: int, source: str | None = None
) -> list[StoredMention]:
    """Mentions the model has not scored, oldest first (of ``source`` only, when given)."""
    rows = conn.execute(
        f"SELECT {_MENTION_COLUMNS} FROM mentions m WHERE NOT EXISTS "
        "(SELECT 1 FROM scores s WHERE s.mention_id = m.id AND s.model_id = ?) "
        "AND (?::VARCHAR IS NULL OR m.source = ?) ORDER BY m.collected_at, m.id LIMIT ?",
        [model_id, source, source, limit],
    ).fetchall()
    return [_stored_mention(row) for row in rows]
