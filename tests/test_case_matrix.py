"""Every case action from every case state, through the real service on a small real store.

``responders.lifecycle.TRANSITIONS`` documents which states each action may start
from and where it leads; ``voxwatch.permissions`` says who may take it. These
tests drive a routed case into each state the way the team would (amy drafts and
submits, maya approves, ...), then apply each action as someone allowed to: the
allowed pairs must land in the documented state with exactly one audit entry,
and the refused pairs must raise InvalidTransition and leave the case, its drafts,
hand-offs and audit trail exactly as they were. A property test then plays random
sequences of actions against a model of the state machine.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from responders.cases import CaseService
from responders.lifecycle import TRANSITIONS
from tests.builders import Post, case_ids, fresh_store, seed_posts, team_settings
from voxwatch.domain import CaseStatus as S
from voxwatch.errors import CaseNotFound, InvalidTransition, PermissionDenied, SettingsError
from voxwatch.permissions import may
from voxwatch.settings import Settings

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

ENGLISH = Post("My Acme order arrived cold and an hour late.", 0.8, author="pat")
FRENCH = Post("Ma commande Acme est arrivée froide et en retard.", 0.8, author="jean", lang="fr")

# The audit log names each action in the past tense.
DONE = {
    "assign": "assigned",
    "handoff": "handed_off",
    "draft": "drafted",
    "submit": "submitted",
    "approve": "approved",
    "reject": "rejected",
    "send": "sent",
    "follow_up": "followed_up",
    "close": "closed",
    "dismiss": "dismissed",
    "reopen": "reopened",
}
# Who takes each action in these tests; None means the case's owner (a responder).
ACTOR: dict[str, str | None] = {
    "assign": "grace",
    "handoff": "grace",
    "draft": None,
    "submit": None,
    "approve": "maya",
    "reject": "maya",
    "send": "maya",
    "follow_up": "grace",
    "close": "grace",
    "dismiss": "grace",
    "reopen": "grace",
}
# The happy path, in order: walking to a state takes every step before it.
PATH = [S.ASSIGNED, S.DRAFTING, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.FOLLOW_UP, S.CLOSED]

ALLOWED = [(a, s) for a, (starts, _) in TRANSITIONS.items() for s in S if s in starts]
REFUSED = [(a, s) for a, (starts, _) in TRANSITIONS.items() for s in S if s not in starts]


@dataclass(frozen=True)
class Walked:
    """The store saved at each state the English case was walked into, and the two case ids."""

    files: dict[S, Path]
    english: str
    french: str


def step(service: CaseService, case_id: str, into: S) -> None:
    """One step of the team's work into state ``into``, by the person who takes it."""
    match into:
        case S.DRAFTING:
            service.draft(case_id, "amy")
        case S.PENDING_APPROVAL:
            service.submit(case_id, "amy")
        case S.APPROVED:
            service.approve(case_id, "maya", "clear and kind")
        case S.SENT:
            service.send(case_id, "amy")
        case S.FOLLOW_UP:
            service.follow_up(case_id, "amy", "customer got a fresh order")
        case S.CLOSED:
            service.close(case_id, "amy")
        case S.DISMISSED:
            service.dismiss(case_id, "amy", "the customer deleted the post")
    assert service.show(case_id)["status"] == into.value


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Walked:
    """Seed two posts once, then walk the English case through the real service, saving every state.

    The English case is routed to amy; nobody reads French, so the French one
    waits unassigned (``new``) in every saved store. Each test copies the file it
    needs, so no test sees another's changes.
    """
    root = tmp_path_factory.mktemp("walked")
    settings = team_settings(root)
    service = CaseService(settings)
    opened = case_ids(seed_posts(fresh_store(settings), settings, [ENGLISH, FRENCH]))
    by_lang = {service.show(case_id)["lang"]: case_id for case_id in opened}
    english, french = by_lang["en"], by_lang["fr"]
    assert service.show(english)["owner"] == "amy" and service.show(french)["status"] == "new"
    files: dict[S, Path] = {}

    def save(status: S, store: Path) -> None:
        assert not store.with_name(store.name + ".wal").exists()  # everything is in the one file
        files[status] = Path(shutil.copy(store, root / f"{status.value}.duckdb"))

    save(S.NEW, settings.store.path)
    save(S.ASSIGNED, settings.store.path)
    for status in PATH[1:]:
        step(service, english, status)
        save(status, settings.store.path)
    (root / "branch").mkdir()
    branch = team_settings(root / "branch")
    shutil.copy(files[S.ASSIGNED], branch.store.path)
    step(CaseService(branch), english, S.DISMISSED)
    save(S.DISMISSED, branch.store.path)
    assert set(files) == set(S)
    return Walked(files, english, french)


At = Callable[[S], tuple[CaseService, dict[str, Any]]]


@pytest.fixture
def at(walked: Walked, tmp_path: Path) -> At:
    """``at(status)``: a private store whose case (English, or French for ``new``) is in ``status``."""
    settings = team_settings(tmp_path)

    def _at(status: S) -> tuple[CaseService, dict[str, Any]]:
        shutil.copy(walked.files[status], settings.store.path)
        service = CaseService(settings)
        case = service.show(walked.french if status is S.NEW else walked.english)
        assert case["status"] == status.value
        return service, case

    return _at


def actor_for(action: str, case: dict[str, Any]) -> str:
    return ACTOR[action] or case["owner"] or "amy"


def apply(
    service: CaseService, action: str, case: dict[str, Any], who: str | None = None, to: str | None = None
) -> None:
    """Take ``action`` on ``case`` as ``who`` (by default whom ACTOR names), with what the action needs.

    A hand-off goes to the escalations desk unless ``to`` names a person.
    """
    cid, who = case["id"], who or actor_for(action, case)
    match action:
        case "assign":
            service.assign(cid, who, "ben")
        case "handoff":
            service.handoff(cid, who, "needs another desk", to_team=None if to else "escalations", to=to)
        case "draft":
            service.draft(cid, who)
        case "submit":
            service.submit(cid, who)
        case "approve":
            service.approve(cid, who, "good")
        case "reject":
            service.reject(cid, who, "add the order number")
        case "send":
            service.send(cid, who)
        case "follow_up":
            service.follow_up(cid, who, "called the customer")
        case "close":
            service.close(cid, who, waive_follow_up="customer unreachable")
        case "dismiss":
            service.dismiss(cid, who, "duplicate of another case")
        case "reopen":
            service.reopen(cid, who, "customer wrote again")
        case _:
            raise AssertionError(action)


def test_the_matrix_covers_every_action_and_state() -> None:
    assert len(ALLOWED) + len(REFUSED) == len(TRANSITIONS) * len(S) == 99
    assert set(TRANSITIONS) == set(DONE) == set(ACTOR)


def test_the_walk_leaves_the_audit_trail_of_the_team_s_work(at: At) -> None:
    _, closed = at(S.CLOSED)
    trail = [(a["actor"], a["action"]) for a in closed["audit"][4:]]
    assert trail == [
        ("amy", "drafted"),
        ("amy", "submitted"),
        ("maya", "approved"),
        ("amy", "sent"),
        ("amy", "followed_up"),
        ("amy", "closed"),
    ]


@pytest.mark.parametrize(("action", "status"), ALLOWED, ids=[f"{a}-from-{s}" for a, s in ALLOWED])
def test_an_allowed_action_lands_in_the_documented_state_with_one_audit_entry(
    at: At, action: str, status: S
) -> None:
    service, case = at(status)
    who = actor_for(action, case)
    assert may(service.settings.person(who).roles, action)
    apply(service, action, case)
    after = service.show(case["id"])
    target = TRANSITIONS[action][1]
    assert after["status"] == (target or status).value
    assert len(after["audit"]) == len(case["audit"]) + 1
    entry = after["audit"][-1]
    assert (entry["actor"], entry["action"]) == (who, DONE[action])
    if target is not None:
        assert json.loads(entry["before"])["status"] == status.value
        assert json.loads(entry["after"])["status"] == target.value


@pytest.mark.parametrize(("action", "status"), REFUSED, ids=[f"{a}-from-{s}" for a, s in REFUSED])
def test_a_refused_action_raises_and_changes_nothing(at: At, action: str, status: S) -> None:
    service, case = at(status)
    assert may(service.settings.person(actor_for(action, case)).roles, action)
    with pytest.raises(InvalidTransition, match=f"cannot {action} a case that is {status.value}"):
        apply(service, action, case)
    assert service.show(case["id"]) == case  # row, draft, hand-offs and audit trail alike


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_people_whose_roles_do_not_allow_an_action_are_refused_and_nothing_changes(
    at: At, action: str
) -> None:
    starts = TRANSITIONS[action][0]
    service, case = at(next(s for s in [S.NEW, *PATH, S.DISMISSED] if s in starts))
    refused = [p.name for p in service.settings.responders if not may(p.roles, action)]
    assert "erin" in refused  # the executive reads trends and takes no case action
    for person in refused:
        with pytest.raises(PermissionDenied, match=f"{person} .* may not {action}"):
            apply(service, action, case, who=person)
        assert service.show(case["id"]) == case, person


def test_a_closed_case_reopens_assigned_to_its_owner_and_can_be_worked_again(at: At) -> None:
    service, case = at(S.CLOSED)
    assert case["resolved_at"] is not None
    service.reopen(case["id"], "amy", "the replacement order was cold too")
    reopened = service.show(case["id"])
    assert (reopened["status"], reopened["owner"], reopened["resolved_at"]) == ("assigned", "amy", None)
    assert json.loads(reopened["audit"][-1]["after"])["reason"] == "the replacement order was cold too"
    service.draft(case["id"], "amy")
    assert service.show(case["id"])["status"] == "drafting"


def test_a_dismissed_case_reopens_assigned(at: At) -> None:
    service, case = at(S.DISMISSED)
    assert case["dismissed_reason"] == "the customer deleted the post"
    service.reopen(case["id"], "grace", "it was a real complaint")
    after = service.show(case["id"])
    assert (after["status"], after["owner"]) == ("assigned", "amy")
    assert after["audit"][-1]["actor"] == "grace"


def test_spam_dismissed_at_triage_reopens_as_new_because_nobody_owns_it(team: Settings) -> None:
    posts = [Post("Buy cheap followers now, click here for Acme deals", 0.6, author="deals4u")]
    service = CaseService(team)
    (case_id,) = case_ids(seed_posts(service.store, team, posts))
    spam = service.show(case_id)
    assert (spam["status"], spam["owner"]) == ("dismissed", None)
    service.reopen(case_id, "grace", "this one was a real customer")
    assert service.show(case_id)["status"] == "new"
    service.assign(case_id, "grace", "ben")
    assert service.show(case_id)["status"] == "assigned"


def test_handoffs_keep_the_first_owner_accountable(at: At) -> None:
    service, case = at(S.DRAFTING)
    service.handoff(case["id"], "amy", "needs a refund approval", to_team="escalations")
    service.handoff(case["id"], "sara", "refund approved, back to care", to="ben")
    after = service.show(case["id"])
    assert (after["owner"], after["team"], after["first_owner"]) == ("ben", "care", "amy")
    assert after["status"] == "drafting"  # a hand-off moves the work, not the state
    assert [(h["from_owner"], h["to_owner"], h["actor"]) for h in after["handoffs"]] == [
        ("amy", "sara", "amy"),
        ("sara", "ben", "sara"),
    ]
    service.assign(case["id"], "grace", "amy")
    assert service.show(case["id"])["first_owner"] == "amy"


def test_the_first_person_assigned_an_unowned_case_becomes_accountable(at: At) -> None:
    service, case = at(S.NEW)
    assert case["first_owner"] is None
    service.assign(case["id"], "grace", "ben")
    service.assign(case["id"], "grace", "sara")
    after = service.show(case["id"])
    assert (after["owner"], after["team"], after["first_owner"]) == ("sara", "escalations", "ben")


@pytest.mark.parametrize("person", ["maya", "grace", "erin"])
def test_assigning_to_someone_who_is_not_a_responder_is_refused(at: At, person: str) -> None:
    service, case = at(S.ASSIGNED)
    with pytest.raises(InvalidTransition, match=f"{person} is not a responder"):
        service.assign(case["id"], "grace", person)
    assert service.show(case["id"]) == case


def test_assigning_to_or_acting_as_an_unknown_person_names_them(at: At) -> None:
    service, case = at(S.ASSIGNED)
    with pytest.raises(SettingsError, match="'zed'"):
        service.assign(case["id"], "grace", "zed")
    with pytest.raises(SettingsError, match="'mallory'"):
        service.dismiss(case["id"], "mallory", "spam")
    assert service.show(case["id"]) == case


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_dismissing_or_handing_off_needs_a_reason(at: At, reason: str) -> None:
    service, case = at(S.ASSIGNED)
    with pytest.raises(InvalidTransition, match="dismissing needs a reason"):
        service.dismiss(case["id"], "grace", reason)
    with pytest.raises(InvalidTransition, match="a hand-off needs a reason"):
        service.handoff(case["id"], "grace", reason, to_team="escalations")
    assert service.show(case["id"]) == case


def test_a_handoff_must_say_where_to_and_name_a_team_that_exists(at: At) -> None:
    service, case = at(S.ASSIGNED)
    with pytest.raises(InvalidTransition, match="say which team"):
        service.handoff(case["id"], "grace", "too busy")
    with pytest.raises(InvalidTransition, match="no responders in team 'nowhere'"):
        service.handoff(case["id"], "grace", "too busy", to_team="nowhere")
    assert service.show(case["id"]) == case


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_an_unknown_case_id_is_named_in_case_not_found(at: At, action: str) -> None:
    service, _ = at(S.ASSIGNED)
    with pytest.raises(CaseNotFound, match="'case-nope'"):
        apply(service, action, {"id": "case-nope", "owner": "amy"})
    with pytest.raises(CaseNotFound, match="'case-missing'"):
        service.show("case-missing")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list(TRANSITIONS)), min_size=1, max_size=8))
def test_any_sequence_of_actions_follows_the_state_machine(at: At, actions: list[str]) -> None:
    """Model: the status, and whether an open draft exists (submit needs one, a rejection closes it)."""
    service, case = at(S.ASSIGNED)
    status, draft_open = S.ASSIGNED, False
    for action in actions:
        case = service.show(case["id"])
        assert case["status"] == status.value
        starts, target = TRANSITIONS[action]
        other = "ben" if case["owner"] == "amy" else "amy"  # hand-offs stay in care: an owner always exists
        if status not in starts or (action == "submit" and not draft_open):
            with pytest.raises(InvalidTransition):
                apply(service, action, case, to=other)
            assert service.show(case["id"]) == case
            continue
        apply(service, action, case, to=other)
        status = target or status
        draft_open = {"draft": True, "submit": False, "reject": False}.get(action, draft_open)
        after = service.show(case["id"])
        assert after["audit"][-1]["action"] == DONE[action]
        assert len(after["audit"]) == len(case["audit"]) + 1
    assert service.show(case["id"])["status"] == status.value
