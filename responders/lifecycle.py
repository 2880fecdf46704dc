"""The case life cycle: which action may follow which state, enforced here, not only in a UI.

new -> assigned -> drafting -> pending_approval -> approved -> sent -> follow_up -> closed;
dismissed (invalid, with reason); a closed or dismissed case can reopen.
"""

from __future__ import annotations

from voxwatch.domain import CaseStatus as S
from voxwatch.errors import InvalidTransition, PermissionDenied
from voxwatch.permissions import may, roles_for
from voxwatch.settings import ResponderSettings

# action -> (states it may start from, state it leads to; None = unchanged).
# Who may take each action is voxwatch.permissions' table, not this one.
TRANSITIONS: dict[str, tuple[frozenset[S], S | None]] = {
    "assign": (frozenset({S.NEW, S.ASSIGNED, S.DRAFTING}), S.ASSIGNED),
    "handoff": (frozenset({S.NEW, S.ASSIGNED, S.DRAFTING, S.SENT, S.FOLLOW_UP}), None),
    "draft": (frozenset({S.ASSIGNED, S.DRAFTING, S.APPROVED, S.SENT, S.FOLLOW_UP}), S.DRAFTING),
    "submit": (frozenset({S.DRAFTING}), S.PENDING_APPROVAL),
    "approve": (frozenset({S.PENDING_APPROVAL}), S.APPROVED),
    "reject": (frozenset({S.PENDING_APPROVAL}), S.DRAFTING),
    "send": (frozenset({S.APPROVED}), S.SENT),
    "follow_up": (frozenset({S.SENT}), S.FOLLOW_UP),
    "close": (frozenset({S.SENT, S.FOLLOW_UP}), S.CLOSED),
    "dismiss": (frozenset({S.NEW, S.ASSIGNED, S.DRAFTING}), S.DISMISSED),
    "reopen": (frozenset({S.CLOSED, S.DISMISSED}), S.ASSIGNED),
}


def check_role(action: str, person: ResponderSettings) -> None:
    """Raise PermissionDenied unless one of the person's roles allows ``action``."""
    if not may(person.roles, action):
        needed = ", ".join(roles_for(action))
        raise PermissionDenied(
            f"{person.name} ({', '.join(person.roles)}) may not {action}: it needs one of {needed}"
        )


def check(action: str, person: ResponderSettings, status: S) -> S | None:
    """Raise unless ``person`` may take ``action`` on a case in ``status``; return the next state."""
    check_role(action, person)
    starts, target = TRANSITIONS[action]
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
