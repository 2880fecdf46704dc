"""Personal command-line tokens: only each token's SHA-256 is stored, never the token itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from voxwatch.store.database import Connection
from voxwatch.store.queries.rows import dict_rows

# What a listing shows: never the hash, which is as good as the token for a lookup.
TOKEN_COLUMNS = "id, person, created_at, created_by, revoked_at, revoked_by"


def insert_token(
    conn: Connection, token_id: str, person: str, token_sha256: str, at: datetime, by: str
) -> None:
    conn.execute(
        "INSERT INTO person_tokens (id, person, token_sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
        [token_id, person, token_sha256, at, by],
    )


def token_owner(conn: Connection, token_sha256: str) -> str | None:
    """The person a live (unrevoked) token belongs to, or None for an unknown or revoked one."""
    row = conn.execute(
        "SELECT person FROM person_tokens WHERE token_sha256 = ? AND revoked_at IS NULL", [token_sha256]
    ).fetchone()
    return str(row[0]) if row else None


def list_tokens(conn: Connection, person: str | None = None) -> list[dict[str, Any]]:
    """Tokens, oldest first, for one person or everyone; without their hashes."""
    where, params = ("WHERE person = ?", [person]) if person else ("", [])
    return dict_rows(
        conn.execute(f"SELECT {TOKEN_COLUMNS} FROM person_tokens {where} ORDER BY created_at, id", params)
    )


def revoke_tokens(
    conn: Connection, person: str, at: datetime, by: str, token_id: str | None = None
) -> list[str]:
    """Revoke a person's live tokens (or just ``token_id``); the ids revoked, none if nothing matched."""
    only = " AND id = ?" if token_id else ""
    params: list[Any] = [at, by, person] + ([token_id] if token_id else [])
    rows = conn.execute(
        "UPDATE person_tokens SET revoked_at = ?, revoked_by = ? "
        f"WHERE person = ? AND revoked_at IS NULL{only} RETURNING id",
        params,
    ).fetchall()
    return sorted(str(r[0]) for r in rows)
