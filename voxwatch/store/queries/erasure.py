"""Forgetting people: an author's posts and everything derived from them, and tombstones so they stay gone.

Erasure is the one place rows are deleted, and the one place the audit log is
touched after the fact: the personal content of an erased author's entries is
redacted (who acted, when and what kind of action stay), and one anonymised
entry records that the erasure happened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from voxwatch.domain import normalise_author  # the one definition of "the same author"
from voxwatch.store.database import Connection
from voxwatch.store.queries import kpi_rollups
from voxwatch.store.queries.rollups import count_complaints, count_scores

REDACTED = json.dumps({"erased": True})


def author_mention_ids(conn: Connection, source: str, author_key: str) -> list[str]:
    """Ids of the mentions on ``source`` whose author normalises to ``author_key``."""
    rows = conn.execute(
        "SELECT id, author FROM mentions WHERE source = ? AND author IS NOT NULL", [source]
    ).fetchall()
    return [ident for ident, author in rows if normalise_author(author) == author_key]


def erase_mentions(conn: Connection, mention_ids: Sequence[str]) -> dict[str, int]:
    """Delete the mentions and what was derived from them; redact their cases' personal content.

    Cases stay (their timing feeds the response KPIs) but lose their link to the
    person: reply drafts are redacted, notifications about them deleted, audit
    details redacted. Raw responses that carried the mentions are deleted too.
    Returns counts per kind of row.
    """
    if not mention_ids:
        return {"mentions": 0, "cases": 0}
    ids = list(mention_ids)
    marks = ", ".join("?" for _ in ids)
    cases = [
        row[0] for row in conn.execute(f"SELECT id FROM cases WHERE mention_id IN ({marks})", ids).fetchall()
    ]
    raws = [
        row[0]
        for row in conn.execute(
            f"SELECT DISTINCT raw_sha256 FROM mentions WHERE id IN ({marks}) AND raw_sha256 IS NOT NULL", ids
        ).fetchall()
    ]
    count_complaints(conn, ids, -1)  # uncounted while the rows they count are still there
    count_scores(conn, ids, -1)
    moved = kpi_rollups.cases_of_mentions(conn, ids)  # their cases stay; what they count changes
    kpi_rollups.count_cases(conn, moved, -1)
    for table in ("scores", "triage", "label_corrections", "case_followups"):
        conn.execute(f"DELETE FROM {table} WHERE mention_id IN ({marks})", ids)
    if cases:
        case_marks = ", ".join("?" for _ in cases)
        conn.execute(
            f"UPDATE drafts SET body = '[erased at the author''s request]', findings = '[]' "
            f"WHERE case_id IN ({case_marks})",
            cases,
        )
        conn.execute(f"DELETE FROM notifications WHERE case_id IN ({case_marks})", cases)
        conn.execute(
            f"UPDATE audit_log SET before = CASE WHEN before IS NULL THEN NULL ELSE CAST(? AS JSON) END, "
            f"after = CASE WHEN after IS NULL THEN NULL ELSE CAST(? AS JSON) END "
            f"WHERE entity = 'case' AND entity_id IN ({case_marks})",
            [REDACTED, REDACTED, *cases],
        )
    if raws:
        raw_marks = ", ".join("?" for _ in raws)
        conn.execute(f"DELETE FROM raw_responses WHERE sha256 IN ({raw_marks})", raws)
    conn.execute(f"UPDATE mentions SET duplicate_of = NULL WHERE duplicate_of IN ({marks})", ids)
    conn.execute(f"UPDATE mentions SET related_to = NULL WHERE related_to IN ({marks})", ids)
    conn.execute(f"DELETE FROM mentions WHERE id IN ({marks})", ids)
    kpi_rollups.count_cases(conn, moved, 1)
    return {"mentions": len(ids), "cases": len(cases), "raw_responses": len(raws)}


def erase_author_notes(conn: Connection, source: str, author_key: str, anonymous: str) -> int:
    """Delete the team's notes about the author (however their handle was written).

    Their audit entries keep who wrote a note and when, under ``anonymous``
    instead of the handle, without what the note said.
    """
    rows = conn.execute("SELECT id, author FROM author_notes WHERE source = ?", [source]).fetchall()
    mine = [(ident, author) for ident, author in rows if normalise_author(author) == author_key]
    for ident, author in mine:
        conn.execute("DELETE FROM author_notes WHERE id = ?", [ident])
        conn.execute(
            "UPDATE audit_log SET entity_id = ?, before = NULL, after = ? "
            "WHERE entity = 'author' AND entity_id = ?",
            [anonymous, REDACTED, f"{source}:{author}"],
        )
    return len(mine)


def erase_spike_examples(conn: Connection, source: str, author_keys: set[str]) -> None:
    """Drop the author's posts from the examples kept with spikes."""
    for spike_id, examples in conn.execute("SELECT id, examples FROM spikes").fetchall():
        kept = [
            e
            for e in json.loads(examples)
            if not (e.get("source") == source and normalise_author(e.get("author")) in author_keys)
        ]
        conn.execute("UPDATE spikes SET examples = ? WHERE id = ?", [json.dumps(kept), spike_id])


def add_tombstone(conn: Connection, source: str, author_key: str, at: datetime) -> None:
    """Never collect this author's posts on this source again."""
    conn.execute(
        "INSERT INTO forgotten_authors VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [source, author_key, at]
    )


def mention_ids_for(conn: Connection, source: str, external_ids: Sequence[str]) -> list[str]:
    """Stored mention ids of ``external_ids`` on ``source`` (platform deletions name posts this way)."""
    if not external_ids:
        return []
    marks = ", ".join("?" for _ in external_ids)
    rows = conn.execute(
        f"SELECT id FROM mentions WHERE source = ? AND external_id IN ({marks})", [source, *external_ids]
    ).fetchall()
    return [row[0] for row in rows]
