"""Dashboard sessions: each person's session generation, the cookie-signing key, failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from voxwatch.store.database import Connection


def session_generation(conn: Connection, person: str) -> int:
    """The person's current generation: cookies carrying an older one are void (0 if never raised)."""
    row = conn.execute("SELECT generation FROM dashboard_sessions WHERE person = ?", [person]).fetchone()
    return int(row[0]) if row else 0


def raise_session_generation(conn: Connection, person: str, at: datetime) -> int:
    """Void every session the person has (sign out everywhere); the new generation."""
    row = conn.execute(
        "INSERT INTO dashboard_sessions (person, generation, changed_at) VALUES (?, 1, ?) "
        "ON CONFLICT (person) DO UPDATE SET generation = dashboard_sessions.generation + 1, "
        "changed_at = excluded.changed_at RETURNING generation",
        [person, at],
    ).fetchone()
    assert row is not None
    return int(row[0])


def dashboard_secret(conn: Connection, name: str, make: str, at: datetime) -> str:
    """The stored secret ``name``, storing ``make`` first if there is none (first writer wins)."""
    conn.execute(
        "INSERT INTO dashboard_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [name, make, at],
    )
    row = conn.execute("SELECT value FROM dashboard_secrets WHERE name = ?", [name]).fetchone()
    assert row is not None
    return str(row[0])


def record_sign_in_failure(conn: Connection, scope: str, key: str, at: datetime) -> None:
    conn.execute("INSERT INTO sign_in_failures (scope, key, failed_at) VALUES (?, ?, ?)", [scope, key, at])


def sign_in_failures_since(conn: Connection, scope: str, key: str, since: datetime) -> list[datetime]:
    """When ``key`` (an account or address) failed to sign in since ``since``, oldest first."""
    rows = conn.execute(
        "SELECT failed_at FROM sign_in_failures WHERE scope = ? AND key = ? AND failed_at >= ? "
        "ORDER BY failed_at",
        [scope, key, since],
    ).fetchall()
    return [row[0] for row in rows]


def clear_sign_in_failures(conn: Connection, scope: str, key: str) -> None:
    conn.execute("DELETE FROM sign_in_failures WHERE scope = ? AND key = ?", [scope, key])
