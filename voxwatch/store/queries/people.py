"""The team as settings describe it, mirrored into the store so cases can name their owners."""

from __future__ import annotations

from voxwatch.store.database import Connection


def sync_responder(
    conn: Connection,
    name: str,
    display_name: str,
    team: str,
    roles: list[str],
    languages: list[str],
    capacity: int,
) -> None:
    conn.execute(
        "INSERT INTO responders VALUES (?, ?, ?, ?, ?, ?, TRUE) ON CONFLICT (name) DO UPDATE SET "
        "display_name = excluded.display_name, team = excluded.team, roles = excluded.roles, "
        "languages = excluded.languages, capacity = excluded.capacity, active = TRUE",
        [name, display_name, team, roles, languages, capacity],
    )
