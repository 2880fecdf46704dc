"""One view per author: their history and mood over time, and the team's notes about them.

Only the care team writes notes (``Action.WRITE_AUTHOR_NOTES``) and reads an
author's record (``Action.VIEW_CASE``); confidential notes are shown only to the
roles allowed to read them (``voxwatch.permissions``); every note is audited. An author can also be
forgotten (``forget``): their posts and what came of them are erased and a
tombstone keeps later collections from bringing them back.
"""

from __future__ import annotations

import uuid
from typing import Any

from responders.lifecycle import check_role
from responders.service import Service
from voxwatch.errors import InvalidTransition
from voxwatch.permissions import Action, may
from voxwatch.store import queries, stages
from voxwatch.store.database import Connection


class AuthorService(Service):
    """Notes about an author, and the view of their history, for a named person."""

    def add_note(self, actor: str, source: str, author: str, note: str, confidential: bool) -> None:
        """Remember something about a customer; checked here so no screen can skip the role check.

        Anyone allowed to write notes may mark one confidential: that only narrows
        who reads it, even if the writer is not among them.
        """
        check_role(Action.WRITE_AUTHOR_NOTES, self.settings.person(actor))
        now = self.clock()

        def _do(conn: Connection) -> None:
            note_id = uuid.uuid4().hex
            queries.insert_author_note(conn, note_id, source, author, note, confidential, actor, now)
            queries.append_audit(
                conn,
                now,
                actor,
                "author",
                f"{source}:{author}",
                "noted",
                None,
                {"confidential": confidential},
            )

        self.store.write(_do)

    def view(self, actor: str, source: str, author: str) -> dict[str, Any]:
        """An author's history and mood over time; confidential notes only for allowed roles."""
        person = self.settings.person(actor)
        check_role(Action.VIEW_CASE, person)
        allowed = may(person.roles, Action.READ_CONFIDENTIAL_NOTES)

        def _read(conn: Connection) -> dict[str, Any]:
            history = queries.author_mentions(conn, source, author)
            return {
                "author": author,
                "source": source,
                "mentions": history,
                "latest_mood": history[-1]["label"] if history else None,
                "interactions": len(history),
                "notes": queries.author_notes(conn, source, author, allowed),
            }

        return self.store.read(_read)

    def forget(self, actor: str, source: str, author: str) -> dict[str, int]:
        """Erase everything about an author on a source, at their request; only supervisors and admins."""
        person = self.settings.person(actor)
        check_role(Action.FORGET_AUTHOR, person)
        self.settings.source(source)  # a clear error for a source that is not in settings
        if not author.strip():
            raise InvalidTransition("say whose posts to forget")
        return stages.forget_author(self.store, source, author, actor)
