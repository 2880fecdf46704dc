"""Who may do what (voxwatch/permissions.py) and what may follow what (responders/lifecycle.py).

The role table is written out again below, by hand, so a change to ``ALLOWED`` must be
made twice to pass: a silent widening of a role shows up here. Then the real
``CaseService`` is driven on a seeded case to show that every case action is refused to a
person whose roles lack it, that the refusal names the action, and that a refused action
leaves the store untouched.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responders.cases import CaseService
from responders.lifecycle import TRANSITIONS, check, check_not_own_draft, check_role, require
from tests.builders import TEAM_TOML, Post, case_ids, seed_posts
from voxwatch.domain import CaseStatus
from voxwatch.errors import CaseError, InvalidTransition, PermissionDenied
from voxwatch.permissions import ALLOWED, ROLES, Action, Role, may, roles_for
from voxwatch.settings import ResponderSettings, Settings
from voxwatch.store import store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

# --- the expected table, written independently of ALLOWED ----------------------------------------------

MATRIX = """
action                   responder approver supervisor admin executive
assign                   x         .        x          x     .
handoff                  x         .        x          x     .
draft                    x         .        .          .     .
submit                   x         .        .          .     .
approve                  .         x        .          .     .
reject                   .         x        .          .     .
send                     x         x        .          .     .
follow_up                x         .        x          .     .
close                    x         .        x          x     .
dismiss                  x         .        x          x     .
reopen                   x         .        x          x     .
claim_other_teams_case   .         .        x          .     .
write_author_notes       x         x        x          x     .
correct_labels           x         x        x          x     .
own_cases                x         .        .          .     .
read_confidential_notes  .         x        x          x     .
forget_author            .         .        x          x     .
hear_about_breaches      .         .        x          .     .
hear_about_spikes        .         x        x          .     .
view_inbox               x         x        x          x     .
view_case                x         x        x          x     .
view_approvals           .         x        .          .     .
view_trends              .         x        x          x     x
view_sources             .         .        x          x     .
edit_settings            .         .        .          x     .
manage_tokens            .         .        .          x     .
"""


def _parse(matrix: str) -> dict[tuple[str, str], bool]:
    header, *rows = [line.split() for line in matrix.strip().splitlines()]
    roles = header[1:]
    return {(row[0], role): mark == "x" for row in rows for role, mark in zip(roles, row[1:], strict=True)}


EXPECTED = _parse(MATRIX)
CASE_ACTIONS = (
    "assign",
    "handoff",
    "draft",
    "submit",
    "approve",
    "reject",
    "send",
    "follow_up",
    "close",
    "dismiss",
    "reopen",
)


def test_the_expected_table_covers_every_role_and_action() -> None:
    assert {action for action, _ in EXPECTED} == {a.value for a in Action}
    assert {role for _, role in EXPECTED} == set(ROLES) == {r.value for r in Role}


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", list(Action), ids=str)
def test_may_matches_the_written_table(role: Role, action: Action) -> None:
    assert may([role], action) is EXPECTED[(action.value, role.value)]
    assert may([role.value], action.value) is EXPECTED[(action.value, role.value)]  # plain strings too


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_roles_for_is_sorted_non_empty_and_matches_the_table(action: Action) -> None:
    needed = roles_for(action)
    assert needed and list(needed) == sorted(needed)
    assert set(needed) == {role for (a, role), ok in EXPECTED.items() if a == action.value and ok}
    assert roles_for(action.value) == needed


def test_every_action_has_an_entry_in_allowed_and_nothing_else_does() -> None:
    assert set(ALLOWED) == set(Action)
    assert all(isinstance(role, Role) for roles in ALLOWED.values() for role in roles)


def test_only_admins_edit_settings_and_only_executives_read_nothing_but_trends() -> None:
    assert [a for a in Action if may(["executive"], a)] == [Action.VIEW_TRENDS]
    assert [r for r in Role if may([r], Action.EDIT_SETTINGS)] == [Role.ADMIN]


@given(roles=st.lists(st.sampled_from(list(Role)), unique=True), action=st.sampled_from(list(Action)))
@settings(max_examples=200, deadline=None)
def test_several_roles_allow_what_any_one_of_them_allows(roles: list[Role], action: Action) -> None:
    assert may(roles, action) is any(EXPECTED[(action.value, r.value)] for r in roles)


def test_no_roles_allow_nothing_and_unknown_roles_are_ignored() -> None:
    assert not any(may([], a) for a in Action)
    assert not any(may(["janitor", "root"], a) for a in Action)


def test_an_unknown_action_is_an_error_not_a_silent_no() -> None:
    with pytest.raises(ValueError, match="fly"):
        may(["admin"], "fly")
    with pytest.raises(ValueError, match="fly"):
        roles_for("fly")


# --- the life cycle: every (action, status) pair ----------------------------------------------------------

S = CaseStatus
EVERYONE = ResponderSettings(name="root", display_name="Root", team="care", roles=list(Role))

# action -> (the states it may start from, the state it leads to; None = unchanged), from the
# life cycle's documentation: new -> assigned -> drafting -> pending_approval -> approved -> sent
# -> follow_up -> closed; dismissed from early states; closed or dismissed can reopen.
EXPECTED_TRANSITIONS: dict[str, tuple[set[CaseStatus], CaseStatus | None]] = {
    "assign": ({S.NEW, S.ASSIGNED, S.DRAFTING}, S.ASSIGNED),
    "handoff": ({S.NEW, S.ASSIGNED, S.DRAFTING, S.SENT, S.FOLLOW_UP}, None),
    "draft": ({S.ASSIGNED, S.DRAFTING, S.APPROVED, S.SENT, S.FOLLOW_UP}, S.DRAFTING),
    "submit": ({S.DRAFTING}, S.PENDING_APPROVAL),
    "approve": ({S.PENDING_APPROVAL}, S.APPROVED),
    "reject": ({S.PENDING_APPROVAL}, S.DRAFTING),
    "send": ({S.APPROVED}, S.SENT),
    "follow_up": ({S.SENT}, S.FOLLOW_UP),
    "close": ({S.SENT, S.FOLLOW_UP}, S.CLOSED),
    "dismiss": ({S.NEW, S.ASSIGNED, S.DRAFTING}, S.DISMISSED),
    "reopen": ({S.CLOSED, S.DISMISSED}, S.ASSIGNED),
}


def test_the_life_cycle_knows_exactly_the_case_actions() -> None:
    assert set(TRANSITIONS) == set(CASE_ACTIONS) == set(EXPECTED_TRANSITIONS)
    assert all(Action(a) in ALLOWED for a in TRANSITIONS)


@pytest.mark.parametrize("status", list(CaseStatus), ids=str)
@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_check_allows_documented_starts_and_refuses_the_rest(action: str, status: CaseStatus) -> None:
    starts, target = EXPECTED_TRANSITIONS[action]
    if status in starts:
        assert check(action, EVERYONE, status) == target
    else:
        with pytest.raises(InvalidTransition, match=f"cannot {action} a case that is {status.value}"):
            check(action, EVERYONE, status)


def test_an_invalid_transition_lists_the_states_it_may_start_from() -> None:
    with pytest.raises(InvalidTransition, match=r"\(only from: follow_up, sent\)$"):
        check("close", EVERYONE, S.NEW)


def test_sent_and_follow_up_cannot_be_dismissed_only_closed() -> None:
    for status in (S.SENT, S.FOLLOW_UP):
        with pytest.raises(InvalidTransition):
            check("dismiss", EVERYONE, status)
        assert check("close", EVERYONE, status) is S.CLOSED


def test_the_role_is_checked_before_the_state() -> None:
    executive = ResponderSettings(name="erin", display_name="Erin", team="x", roles=[Role.EXECUTIVE])
    with pytest.raises(
        PermissionDenied, match="erin \\(executive\\) may not approve: it needs one of approver"
    ):
        check("approve", executive, S.CLOSED)


def test_check_role_lists_every_role_that_would_do() -> None:
    approver = ResponderSettings(name="maya", display_name="Maya", team="comms", roles=[Role.APPROVER])
    with pytest.raises(PermissionDenied, match=r"it needs one of admin, responder, supervisor$"):
        check_role("dismiss", approver)
    check_role("send", approver)  # allowed: no exception, and nothing returned
    assert issubclass(PermissionDenied, CaseError) and issubclass(InvalidTransition, CaseError)


def test_four_eyes_and_require() -> None:
    with pytest.raises(PermissionDenied, match="sara wrote this draft"):
        check_not_own_draft(ResponderSettings(name="sara", display_name="S", team="t"), "sara")
    check_not_own_draft(ResponderSettings(name="maya", display_name="M", team="t"), "sara")
    with pytest.raises(InvalidTransition, match=r"^needs a reason$"):
        require(False, "needs a reason")
    require(True, "never raised")


# --- the real case service on a seeded case --------------------------------------------------------------

COMPLAINT = Post("My Acme order arrived broken and the app keeps crashing at checkout.", 0.7)

# How to take each action through the service, with harmless arguments.
CALLS: dict[str, Callable[[CaseService, str, str], Any]] = {
    "assign": lambda s, case, actor: s.assign(case, actor, "ben"),
    "handoff": lambda s, case, actor: s.handoff(
        case, actor, "needs the escalations desk", to_team="escalations"
    ),
    "draft": lambda s, case, actor: s.draft(case, actor),
    "submit": lambda s, case, actor: s.submit(case, actor),
    "approve": lambda s, case, actor: s.approve(case, actor, "fine"),
    "reject": lambda s, case, actor: s.reject(case, actor, "name the order number"),
    "send": lambda s, case, actor: s.send(case, actor),
    "follow_up": lambda s, case, actor: s.follow_up(case, actor, "customer is happy now"),
    "close": lambda s, case, actor: s.close(
        case, actor, waive_follow_up="customer asked not to be contacted"
    ),
    "dismiss": lambda s, case, actor: s.dismiss(case, actor, "not about us after all"),
    "reopen": lambda s, case, actor: s.reopen(case, actor, "customer wrote again"),
}

# The steps (action, actor) that bring the seeded case (assigned to amy) to a state where the
# action under test is allowed, so only the person's roles stand in the way.
PATH = [("draft", "amy"), ("submit", "amy"), ("approve", "maya"), ("send", "amy"), ("follow_up", "amy")]
STEPS_BEFORE = {
    "assign": 0,
    "handoff": 0,
    "draft": 0,
    "dismiss": 0,
    "submit": 1,
    "approve": 2,
    "reject": 2,
    "send": 3,
    "follow_up": 4,
    "close": 5,
    "reopen": 5,  # and then closed
}
# One person whose roles allow the action (the control: the refusal is about roles, not state).
ALLOWED_ACTOR = {
    "assign": "grace",
    "handoff": "amy",
    "draft": "amy",
    "submit": "amy",
    "approve": "maya",
    "reject": "sara",
    "send": "amy",
    "follow_up": "grace",
    "close": "grace",
    "dismiss": "grace",
    "reopen": "ben",
}
TEAM_ROLES = {
    "amy": ["responder"],
    "ben": ["responder"],
    "sara": ["responder", "approver"],
    "maya": ["approver"],
    "grace": ["supervisor", "admin"],
    "erin": ["executive"],
}
REFUSED = [
    (action, person)
    for action in CASE_ACTIONS
    for person, roles in TEAM_ROLES.items()
    if not any(EXPECTED[(action, role)] for role in roles)
]


def case_ready_for(settings: Settings, action: str) -> tuple[CaseService, str]:
    """A seeded case (owner amy), walked by allowed people to a state where ``action`` may start."""
    (routing,) = seed_posts(store_for(settings), settings, [COMPLAINT])
    assert routing.owner == "amy" and routing.status is CaseStatus.ASSIGNED
    (case_id,) = case_ids([routing])
    service = CaseService(settings)
    for step, actor in PATH[: STEPS_BEFORE[action]]:
        CALLS[step](service, case_id, actor)
    if action == "reopen":
        CALLS["close"](service, case_id, "amy")
    return service, case_id


def snapshot(service: CaseService, case_id: str) -> dict[str, Any]:
    """Everything a case action could write: the case row, its audit trail, drafts and hand-offs."""

    def _read(conn: Any) -> dict[str, Any]:
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in ("cases", "audit_log", "drafts", "handoffs", "notifications")
        }

    return service.store.read(_read) | {"case": service.show(case_id)}


def test_the_refusal_table_covers_every_case_action_and_spares_nobody_by_accident() -> None:
    assert {action for action, _ in REFUSED} == set(CASE_ACTIONS)
    assert all(action in CALLS for action in CASE_ACTIONS)
    # Everybody but sara (responder and approver) lacks some case action.
    assert {person for _, person in REFUSED} == set(TEAM_ROLES) - {"sara"}
    assert [p.name for p in _team_people()] == list(TEAM_ROLES)


def _team_people() -> list[ResponderSettings]:
    return [ResponderSettings(**row) for row in tomllib.loads(TEAM_TOML)["responders"]]


def test_the_team_roles_above_are_the_team_fixtures_roles(team: Settings) -> None:
    assert {p.name: [str(r) for r in p.roles] for p in team.responders} == TEAM_ROLES


@pytest.mark.parametrize(("action", "person"), REFUSED, ids=[f"{a}-by-{p}" for a, p in REFUSED])
def test_a_case_action_without_the_role_is_refused_and_changes_nothing(
    team: Settings, action: str, person: str
) -> None:
    service, case_id = case_ready_for(team, action)
    before = snapshot(service, case_id)
    with pytest.raises(
        PermissionDenied, match=f"^{person} \\(.*\\) may not {action}: it needs one of"
    ) as err:
        CALLS[action](service, case_id, person)
    assert ", ".join(roles_for(action)) in str(err.value)
    assert snapshot(service, case_id) == before


@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_the_same_action_by_someone_allowed_goes_through(team: Settings, action: str) -> None:
    service, case_id = case_ready_for(team, action)
    audit_before = len(service.show(case_id)["audit"])
    status_before = CaseStatus(service.show(case_id)["status"])
    CALLS[action](service, case_id, ALLOWED_ACTOR[action])
    after = service.show(case_id)
    assert len(after["audit"]) == audit_before + 1
    assert after["audit"][-1]["actor"] == ALLOWED_ACTOR[action]
    starts, target = EXPECTED_TRANSITIONS[action]
    assert status_before in starts
    assert CaseStatus(after["status"]) == (target or status_before)


# --- another team's case: claimed only by a supervisor, and the move is audited -------------------------

URGENT = Post("Third time I report this: Acme made me ill and I will go to the press.", 0.9, author="wu")


def escalated_case(settings: Settings) -> tuple[CaseService, str]:
    """An urgent case, routed to the escalations team (owner sara)."""
    (routing,) = seed_posts(store_for(settings), settings, [URGENT])
    assert (routing.team, routing.owner) == ("escalations", "sara")
    return CaseService(settings), case_ids([routing])[0]


def test_claiming_another_teams_case_is_a_supervisors_call(team: Settings) -> None:
    assert roles_for(Action.CLAIM_OTHER_TEAMS_CASE) == ("supervisor",)
    assert ALLOWED[Action.CLAIM_OTHER_TEAMS_CASE] <= ALLOWED[Action.ASSIGN]


@pytest.mark.parametrize(
    ("actor", "to", "refusal"),
    [
        ("amy", "amy", "amy (responder) may not assign a case from team escalations to care"),  # one click
        ("ben", "amy", "ben (responder) may not assign a case from team escalations to care"),
    ],
)
def test_a_responder_cannot_take_another_teams_case(
    team: Settings, actor: str, to: str, refusal: str
) -> None:
    service, case_id = escalated_case(team)
    before = snapshot(service, case_id)
    with pytest.raises(PermissionDenied, match=f"^{re.escape(refusal)}: claiming another team's case needs"):
        service.assign(case_id, actor, to)
    assert snapshot(service, case_id) == before


def test_a_responder_moves_their_own_case_by_hand_off_not_by_assigning(team: Settings) -> None:
    (routing,) = seed_posts(store_for(team), team, [COMPLAINT])
    (case_id,) = case_ids([routing])
    service = CaseService(team)
    with pytest.raises(PermissionDenied, match=r"amy .* may not assign a case from team care to escalations"):
        service.assign(case_id, "amy", "sara")
    service.handoff(case_id, "amy", "needs a refund decision", to_team="escalations")
    after = service.show(case_id)
    assert (after["team"], after["owner"], after["first_owner"]) == ("escalations", "sara", "amy")


def test_an_outsider_cannot_hand_off_another_teams_case_nor_reassign_inside_it(team: Settings) -> None:
    service, case_id = escalated_case(team)
    before = snapshot(service, case_id)
    with pytest.raises(PermissionDenied, match=r"ben .* may not handoff a case of team escalations"):
        service.handoff(case_id, "ben", "I will take it", to="ben")
    with pytest.raises(PermissionDenied, match=r"amy .* may not assign a case of team escalations"):
        service.assign(case_id, "amy", "sara")  # stays in escalations, but amy is not on that team
    assert snapshot(service, case_id) == before
    service.handoff(case_id, "sara", "care knows this customer", to="ben")  # the owner hands off her own
    assert service.show(case_id)["team"] == "care"


def test_a_supervisor_claims_it_and_the_audit_says_from_which_team_to_which(team: Settings) -> None:
    service, case_id = escalated_case(team)
    service.assign(case_id, "grace", "amy")
    after = service.show(case_id)
    assert (after["team"], after["owner"]) == ("care", "amy")
    entry = after["audit"][-1]
    assert (entry["actor"], entry["action"]) == ("grace", "assigned")
    assert json.loads(entry["before"])["team"] == "escalations"
    assert json.loads(entry["after"])["team_moved"] == {"from": "escalations", "to": "care"}
    service.assign(case_id, "grace", "ben")  # inside one team: no move to record
    assert "team_moved" not in json.loads(service.show(case_id)["audit"][-1]["after"])
