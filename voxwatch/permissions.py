"""Roles, and what each role may do: the one table the case service, the CLI and the dashboard read.

A person holds one or more roles (``[[responders]] roles`` in settings). Every
action below is allowed to the roles listed for it, and only to them; the case
service checks it on every call (``responders.lifecycle.check``), the dashboard
uses the same table to decide which pages and buttons a person sees, and the CLI
goes through the same services, acting only for a person it has verified (a
personal token or their password). Case *states* (what may follow what) are the
life cycle's business, not this module's.

The table is data, so adding a role or an action is one line here and the test
that walks the role x action matrix picks it up.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    RESPONDER = "responder"  # owns cases and drafts replies
    APPROVER = "approver"  # a comms lead: approves or sends back drafts
    SUPERVISOR = "supervisor"  # hears about SLA breaches, balances the team's load
    ADMIN = "admin"  # edits settings, watches source health
    EXECUTIVE = "executive"  # reads trends and the monthly report


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

R = Role


class Action(StrEnum):
    # case actions: each is a transition in responders.lifecycle
    ASSIGN = "assign"
    HANDOFF = "handoff"
    DRAFT = "draft"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    SEND = "send"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    DISMISS = "dismiss"
    REOPEN = "reopen"
    # take a case that belongs to another team (or move it to another team) without a hand-off
    CLAIM_OTHER_TEAMS_CASE = "claim_other_teams_case"
    # what a person may write beside a case
    WRITE_AUTHOR_NOTES = "write_author_notes"
    CORRECT_LABELS = "correct_labels"
    # what a person may own or read
    OWN_CASES = "own_cases"
    READ_CONFIDENTIAL_NOTES = "read_confidential_notes"
    FORGET_AUTHOR = "forget_author"  # erase a person's posts and what came of them, on request
    HEAR_ABOUT_BREACHES = "hear_about_breaches"
    HEAR_ABOUT_SPIKES = "hear_about_spikes"
    # dashboard pages
    VIEW_INBOX = "view_inbox"
    VIEW_CASE = "view_case"
    VIEW_APPROVALS = "view_approvals"
    VIEW_TRENDS = "view_trends"
    VIEW_SOURCES = "view_sources"
    EDIT_SETTINGS = "edit_settings"
    # issue or revoke anyone's command-line token (everyone may manage their own, with their password)
    MANAGE_TOKENS = "manage_tokens"


_CARE = frozenset({R.RESPONDER, R.SUPERVISOR, R.ADMIN})
_CASE_READERS = frozenset({R.RESPONDER, R.SUPERVISOR, R.ADMIN, R.APPROVER})

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.ASSIGN: _CARE,
    Action.HANDOFF: _CARE,
    Action.DRAFT: frozenset({R.RESPONDER}),
    Action.SUBMIT: frozenset({R.RESPONDER}),
    Action.APPROVE: frozenset({R.APPROVER}),
    Action.REJECT: frozenset({R.APPROVER}),
    Action.SEND: frozenset({R.RESPONDER, R.APPROVER}),
    Action.FOLLOW_UP: frozenset({R.RESPONDER, R.SUPERVISOR}),
    Action.CLOSE: _CARE,
    Action.DISMISS: _CARE,
    Action.REOPEN: _CARE,
    # Moving work between teams is a supervisor's call; a responder hands off, with a reason.
    Action.CLAIM_OTHER_TEAMS_CASE: frozenset({R.SUPERVISOR}),
    # The people who read cases may note what they learn and correct the model; executives only read trends.
    Action.WRITE_AUTHOR_NOTES: _CASE_READERS,
    Action.CORRECT_LABELS: _CASE_READERS,
    Action.OWN_CASES: frozenset({R.RESPONDER}),
    Action.READ_CONFIDENTIAL_NOTES: frozenset({R.SUPERVISOR, R.ADMIN, R.APPROVER}),
    Action.FORGET_AUTHOR: frozenset({R.SUPERVISOR, R.ADMIN}),
    Action.HEAR_ABOUT_BREACHES: frozenset({R.SUPERVISOR}),
    Action.HEAR_ABOUT_SPIKES: frozenset({R.APPROVER, R.SUPERVISOR}),
    Action.VIEW_INBOX: _CASE_READERS,
    Action.VIEW_CASE: _CASE_READERS,
    Action.VIEW_APPROVALS: frozenset({R.APPROVER}),
    Action.VIEW_TRENDS: frozenset({R.EXECUTIVE, R.SUPERVISOR, R.ADMIN, R.APPROVER}),
    Action.VIEW_SOURCES: frozenset({R.SUPERVISOR, R.ADMIN}),
    Action.EDIT_SETTINGS: frozenset({R.ADMIN}),
    Action.MANAGE_TOKENS: frozenset({R.ADMIN}),
}


def may(roles: Iterable[str], action: Action | str) -> bool:
    """True when any of ``roles`` allows ``action``."""
    return bool(ALLOWED[Action(action)].intersection(roles))


def roles_for(action: Action | str) -> tuple[str, ...]:
    """The roles that allow ``action``, sorted, for messages that say what is needed."""
    return tuple(sorted(r.value for r in ALLOWED[Action(action)]))
