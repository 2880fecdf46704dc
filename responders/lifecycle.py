"""The case life cycle and who may do what: enforced here, not only hidden in a UI.

new -> assigned -> drafting -> pending_approval -> approved -> sent -> follow_up -> closed;
dismissed (invalid, with reason); a closed or dismissed case can reopen.
"""

from __future__ import annotations

from collections.abc import Iterable

from voxwatch.domain import CaseStatus as S
from voxwatch.errors import VoxWatchError
from voxwatch.settings import ResponderSettings


class PermissionDenied(VoxWatchError):
    """The person may not do this (wrong role, or their own draft)."""


class InvalidTransition(VoxWatchError):
    """The case is not in a state where this action makes sense."""


# action -> (roles allowed, states it may start from, state it leads to; None = unchanged)
ACTIONS: dict[str, tuple[frozenset[str], frozenset[S], S | None]] = {
    "assign": (
        frozenset({"responder", "supervisor", "admin"}),
        frozenset({S.NEW, S.ASSIGNED, S.DRAFTING}),
        S.ASSIGNED,
    ),
    "handoff": (
        frozenset({"responder", "supervisor", "admin"}),
        frozenset({S.NEW, S.ASSIGNED, S.DRAFTING, S.SENT, S.FOLLOW_UP}),
        None,
    ),
    "draft": (
        frozenset({"responder"}),
        frozenset({S.ASSIGNED, S.DRAFTING, S.APPROVED, S.SENT, S.FOLLOW_UP}),
        S.DRAFTING,
    ),
    "submit": (frozenset({"responder"}), frozenset({S.DRAFTING}), S.PENDING_APPROVAL),
    "approve": (frozenset({"approver"}), frozenset({S.PENDING_APPROVAL}), S.APPROVED),
    "reject": (frozenset({"approver"}), frozenset({S.PENDING_APPROVAL}), S.DRAFTING),
    "send": (frozenset({"responder", "approver"}), frozenset({S.APPROVED}), S.SENT),
    "follow_up": (frozenset({"responder", "supervisor"}), frozenset({S.SENT}), S.FOLLOW_UP),
    "close": (frozenset({"responder", "supervisor", "admin"}), frozenset({S.SENT, S.FOLLOW_UP}), S.CLOSED),
    "dismiss": (
        frozenset({"responder", "supervisor", "admin"}),
        frozenset({S.NEW, S.ASSIGNED, S.DRAFTING}),
        S.DISMISSED,
    ),
    "reopen": (
        frozenset({"responder", "supervisor", "admin"}),
        frozenset({S.CLOSED, S.DISMISSED}),
        S.ASSIGNED,
    ),
}


def check(action: str, person: ResponderSettings, status: S) -> S | None:
    """Raise unless ``person`` may take ``action`` on a case in ``status``; return the next state."""
    roles, starts, target = ACTIONS[action]
    if not roles.intersection(person.roles):
        needed = ", ".join(sorted(roles))
        raise PermissionDenied(
            f"{person.name} ({', '.join(person.roles)}) may not {action}: it needs one of {needed}"
        )
    if status not in starts:
        allowed = ", ".join(sorted(s.value for s in starts))
        raise InvalidTransition(f"cannot {action} a case that is {status.value} (only from: {allowed})")
    return target


def check_not_own_draft(person: ResponderSettings, draft_author: str) -> None:
    """Four eyes: nobody approves or rejects their own draft."""
    if person.name == draft_author:
        raise PermissionDenied(f"{person.name} wrote this draft and cannot approve it; another approver must")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidTransition(message)


def names(people: Iterable[ResponderSettings], role: str) -> list[str]:
    return [p.name for p in people if role in p.roles]
