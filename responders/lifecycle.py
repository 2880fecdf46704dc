"""The case life cycle: which action may follow which state, enforced here, not only in a UI.

new -> assigned -> drafting -> pending_approval -> approved -> sent -> follow_up -> closed;
dismissed (invalid, with reason); a closed or dismissed case can reopen.
"""

from __future__ import annotations

from voxwatch.domain import CaseStatus as S
from voxwatch.errors import InvalidTransition, PermissionDenied
from voxwatch.i18n import N_  # refusals are shown in the reader's language (Translator.recorded)
from voxwatch.permissions import Action, may, roles_for
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
            N_("{person} ({roles}) may not {action}: it needs one of {needed}").format(
                person=person.name, roles=", ".join(person.roles), action=action, needed=needed
            )
        )


def check(action: str, person: ResponderSettings, status: S) -> S | None:
    """Raise unless ``person`` may take ``action`` on a case in ``status``; return the next state."""
    check_role(action, person)
    starts, target = TRANSITIONS[action]
    if status not in starts:
        allowed = ", ".join(starts_from(action))
        raise InvalidTransition(
            N_("cannot {action} a case that is {status} (only from: {allowed})").format(
                action=action, status=status.value, allowed=allowed
            )
        )
    return target


def crosses_teams(person: ResponderSettings, case_team: str, case_owner: str | None, to_team: str) -> bool:
    """Whether taking the case reaches outside the person's own team's work.

    It does when the case belongs to a team the person is not in (and is not the
    case's owner), or when the case would leave its team (``to_team``). Either is a
    claim on another team's case: the team would lose it without a word.
    """
    outsider = person.team != case_team and person.name != case_owner
    return outsider or to_team != case_team


def may_move(person: ResponderSettings, case_team: str, case_owner: str | None, to_team: str) -> bool:
    """Whether the team rule lets the person take the case to ``to_team`` (the dashboard asks too)."""
    crosses = crosses_teams(person, case_team, case_owner, to_team)
    return not crosses or may(person.roles, Action.CLAIM_OTHER_TEAMS_CASE)


def check_team(
    action: str, person: ResponderSettings, case_team: str, case_owner: str | None, to_team: str
) -> None:
    """Raise PermissionDenied unless ``may_move``: claiming other teams' cases is a supervisor's call."""
    if not may_move(person, case_team, case_owner, to_team):
        needed = ", ".join(roles_for(Action.CLAIM_OTHER_TEAMS_CASE))
        move = (
            N_("from team {team} to {other}").format(team=case_team, other=to_team)
            if to_team != case_team
            else N_("of team {team}").format(team=case_team)
        )
        raise PermissionDenied(
            N_(
                "{person} ({roles}) may not {action} a case {move}: claiming another team's case needs "
                "one of {needed}; hand your own cases off with a reason"
            ).format(
                person=person.name, roles=", ".join(person.roles), action=action, move=move, needed=needed
            )
        )


def check_not_own_draft(person: ResponderSettings, draft_author: str) -> None:
    """Four eyes: nobody approves or rejects their own draft."""
    if person.name == draft_author:
        raise PermissionDenied(
            N_("{person} wrote this draft and cannot approve it; another approver must").format(
                person=person.name
            )
        )


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidTransition(message)


def starts_from(action: str) -> list[str]:
    """The statuses ``action`` can be taken from, sorted: what a refusal or a page names as allowed."""
    return sorted(status.value for status in TRANSITIONS[action][0])
