"""What every service acting for a person shares: settings, the store, a clock, and finding a case.

``CaseService``, ``AuthorService`` and ``LabelFeedback`` each do one kind of
work; each action is one store transaction with its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from voxwatch.errors import CaseNotFound
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for
from voxwatch.store.database import Connection

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Service:
    """Acts on the store that ``settings`` names, with ``clock`` telling the time (tests set it)."""

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.settings = settings
        self.store = store_for(settings)
        self.clock = clock

    def case(self, conn: Connection, ref: str) -> dict[str, Any]:
        """The case ``ref`` names (VW-1042, 1042, its id or the start of it), or CaseNotFound.

        Resolved here, once, so every action and every screen takes whatever a person
        wrote; the actions then work on ``case["id"]`` alone. An id prefix that fits
        several cases is ``AmbiguousCase`` (a CaseNotFound) listing them.
        """
        case_id = queries.find_case_id(conn, ref)
        case = queries.get_case(conn, case_id) if case_id is not None else None
        if case is None:
            raise CaseNotFound(f"no case {ref!r}")
        return case

    def _act(self, case_id: str, fn: Callable[[Connection, dict[str, Any]], Any]) -> Any:
        """Run ``fn`` on the case inside one write transaction."""
        return self.store.write(lambda conn: fn(conn, self.case(conn, case_id)))
