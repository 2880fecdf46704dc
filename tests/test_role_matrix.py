"""Every role against every action, through the code that enforces it, as datasette walks its permissions.

For each ``Role`` and each ``Action``: a person who holds only that role
(``only_<role>``, in team care) takes the action through the real service that
checks it (``CaseService``, ``AuthorService``, ``LabelFeedback``, the settings
editor, ``IdentityService``; the dashboard's sign-in gate for pages; the
recipient lists for notices), on a case in a state where the action may start,
so that only the role stands in the way. It must go through exactly when
``voxwatch.permissions.ALLOWED`` says so. A refusal is ``PermissionDenied`` and
leaves every table of the store, and the settings file, as they were.

The expected outcome is read from ``ALLOWED`` itself: tests/test_permissions.py
pins that table by hand; this file proves the table is what the code enforces.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from insights.spikes import comms_emails
from responders.authors import AuthorService
from responders.cases import CaseService
from responders.feedback import LabelFeedback
from responders.identity import IdentityService
from responders.settings_editor import save_area
from tests.builders import Post, case_ids, fresh_store, seed_posts, team_settings
from voxwatch.domain import CaseStatus as S
from voxwatch.errors import InvalidTransition, PermissionDenied
from voxwatch.permissions import ALLOWED, Action, Role, may
from voxwatch.settings import Settings
from voxwatch.store import store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

# One person per role, holding only that role, in team care. No capacity and no
# language the posts are in, so routing never gives them a case by itself.
PROBES = "".join(
    f'\n[[responders]]\nname = "only_{role.value}"\ndisplay_name = "Only {role.value.title()}"\n'
    f'team = "care"\nroles = ["{role.value}"]\nlanguages = ["fr"]\ncapacity = 0\n'
    f'email = "only_{role.value}@acme.example"\n'
    for role in Role
)
COMPLAINT = Post("My Acme order arrived cold and an hour late.", 0.8, author="pat")
URGENT = Post(
    "Third time I report this: Acme gave me food poisoning and I will go to the press.", 0.9, author="wu"
)
PATH = [S.ASSIGNED, S.DRAFTING, S.PENDING_APPROVAL, S.APPROVED, S.SENT, S.CLOSED]


def probe(role: Role) -> str:
    return f"only_{role.value}"


@dataclass(frozen=True)
class Walked:
    """The store saved with the care case in each state of PATH; the other team's case stays assigned."""

    files: dict[S, Path]
    care: str  # pat's complaint: team care, owner amy
    other: str  # wu's urgent complaint: team escalations, owner sara


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Walked:
    """Seed both cases once and walk the care case through the team's work, saving each state.

    grace (a supervisor) leaves a confidential note on pat, so reading notes can be probed.
    """
    root = tmp_path_factory.mktemp("role-matrix")
    settings = team_settings(root, PROBES)
    store = fresh_store(settings)
    service = CaseService(settings)
    opened = [service.show(case_id) for case_id in case_ids(seed_posts(store, settings, [COMPLAINT, URGENT]))]
    care, other = sorted(opened, key=lambda case: case["author"])  # pat's, then wu's
    assert (care["team"], care["owner"], other["team"], other["owner"]) == (
        "care",
        "amy",
        "escalations",
        "sara",
    )
    AuthorService(settings).add_note("grace", "blog", "pat", "legal is involved", True)
    steps: dict[S, Callable[[], Any]] = {
        S.DRAFTING: lambda: service.draft(care["id"], "amy"),
        S.PENDING_APPROVAL: lambda: service.submit(care["id"], "amy"),
        S.APPROVED: lambda: service.approve(care["id"], "maya", "fine"),
        S.SENT: lambda: service.send(care["id"], "amy"),
        S.CLOSED: lambda: service.close(care["id"], "amy", waive_follow_up="customer asked for no contact"),
    }
    files: dict[S, Path] = {}
    for status in PATH:
        if status in steps:
            steps[status]()
        assert service.show(care["id"])["status"] == status.value
        files[status] = Path(shutil.copy(settings.store.path, root / f"{status.value}.duckdb"))
    return Walked(files, care["id"], other["id"])


@dataclass
class World:
    """A private copy of the walked store in one state, with its settings, for one test."""

    settings: Settings
    config: Path
    care: str
    other: str

    @property
    def cases(self) -> CaseService:
        return CaseService(self.settings)


def world_at(walked: Walked, folder: Path, status: S) -> World:
    settings = team_settings(folder, PROBES)
    shutil.copy(walked.files[status], settings.store.path)
    return World(settings, folder / "voxwatch.toml", walked.care, walked.other)


def snapshot(world: World) -> dict[str, Any]:
    """Every row of every table, and the settings file: whatever an action could have written."""

    def _read(conn: Any) -> dict[str, Any]:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            ).fetchall()
        ]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in sorted(tables)}

    return store_for(world.settings).read(_read) | {"settings": world.config.read_text(encoding="utf-8")}


def audit_count(world: World) -> int:
    count = store_for(world.settings).read(lambda c: c.execute("SELECT count(*) FROM audit_log").fetchone())
    return int(count[0])


# --- how each action is taken ----------------------------------------------------------------------


def page_gate(action: str, name: str) -> None:
    """A dashboard page's first line: the sign-in and role gate (run by AppTest as a page)."""
    import streamlit as st

    from dashboard.session import require
    from voxwatch.permissions import Action
    from voxwatch.settings import load_settings

    require(load_settings(), Action(action))
    st.success(f"{name} sees the page")


def sees_page(world: World, action: Action, name: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    from dashboard.session import SINCE_KEY, USER_KEY

    monkeypatch.setenv("VOXWATCH_CONFIG", str(world.config))
    at = AppTest.from_function(page_gate, args=(action.value, name), default_timeout=60)
    at.session_state[USER_KEY] = name
    at.session_state[SINCE_KEY] = time.time()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return bool(at.success)


def claim_other(world: World, name: str) -> None:
    """Take escalations' case into care: to oneself where one may own cases, else to ben."""
    to = name if may(world.settings.person(name).roles, Action.OWN_CASES) else "ben"
    world.cases.assign(world.other, name, to)


def draft_own(world: World, name: str) -> None:
    """Draft on a case one owns: grace gives it to the probe first, when the probe may own cases."""
    if may(world.settings.person(name).roles, Action.OWN_CASES):
        world.cases.assign(world.care, "grace", name)
    world.cases.draft(world.care, name)


def reads_confidential(world: World, name: str) -> bool:
    notes = AuthorService(world.settings).view(name, "blog", "pat")["notes"]
    return any(n["confidential"] for n in notes)


@dataclass(frozen=True)
class Take:
    """Where an action starts, how a person takes it, and what a refusal raises.

    ``act`` either changes the store (raising on refusal; what it returns does not
    matter) or, for what a person sees or hears (``SEEN``), returns whether they got it.
    """

    start: S
    act: Callable[[World, str], object]
    refusal: type[Exception] = PermissionDenied


SLA = "[sla]\nurgent_first_response_hours = 1.5\n"
TAKES: dict[Action, Take] = {
    Action.ASSIGN: Take(S.ASSIGNED, lambda w, n: w.cases.assign(w.care, n, "ben")),
    Action.HANDOFF: Take(
        S.ASSIGNED,
        lambda w, n: w.cases.handoff(w.care, n, "needs the escalations desk", to_team="escalations"),
    ),
    Action.DRAFT: Take(S.ASSIGNED, draft_own),
    Action.SUBMIT: Take(S.DRAFTING, lambda w, n: w.cases.submit(w.care, n)),
    Action.APPROVE: Take(S.PENDING_APPROVAL, lambda w, n: w.cases.approve(w.care, n, "good")),
    Action.REJECT: Take(S.PENDING_APPROVAL, lambda w, n: w.cases.reject(w.care, n, "add the order number")),
    Action.SEND: Take(S.APPROVED, lambda w, n: w.cases.send(w.care, n)),
    Action.FOLLOW_UP: Take(S.SENT, lambda w, n: w.cases.follow_up(w.care, n, "customer is happy")),
    Action.CLOSE: Take(S.SENT, lambda w, n: w.cases.close(w.care, n, waive_follow_up="no answer")),
    Action.DISMISS: Take(S.ASSIGNED, lambda w, n: w.cases.dismiss(w.care, n, "not about us")),
    Action.REOPEN: Take(S.CLOSED, lambda w, n: w.cases.reopen(w.care, n, "customer wrote again")),
    Action.CLAIM_OTHER_TEAMS_CASE: Take(S.ASSIGNED, claim_other),
    Action.WRITE_AUTHOR_NOTES: Take(
        S.ASSIGNED,
        lambda w, n: AuthorService(w.settings).add_note(n, "blog", "pat", "asked for a call", True),
    ),
    Action.CORRECT_LABELS: Take(
        S.ASSIGNED, lambda w, n: LabelFeedback(w.settings).correct(w.care, n, "neutral")
    ),
    # The person is who receives the case, not who acts: grace (a supervisor) assigns it to them.
    Action.OWN_CASES: Take(S.ASSIGNED, lambda w, n: w.cases.assign(w.care, "grace", n), InvalidTransition),
    Action.READ_CONFIDENTIAL_NOTES: Take(S.ASSIGNED, reads_confidential),
    Action.FORGET_AUTHOR: Take(S.ASSIGNED, lambda w, n: AuthorService(w.settings).forget(n, "blog", "pat")),
    Action.HEAR_ABOUT_BREACHES: Take(
        S.ASSIGNED, lambda w, n: n in [p.name for p in w.settings.people_who_may(Action.HEAR_ABOUT_BREACHES)]
    ),
    Action.HEAR_ABOUT_SPIKES: Take(S.ASSIGNED, lambda w, n: f"{n}@acme.example" in comms_emails(w.settings)),
    # The case page's data that the service layer guards: an author's record.
    Action.VIEW_CASE: Take(S.ASSIGNED, lambda w, n: bool(AuthorService(w.settings).view(n, "blog", "pat"))),
    Action.EDIT_SETTINGS: Take(
        S.ASSIGNED, lambda w, n: save_area(w.config, "sla", SLA, n, store_for(w.settings))
    ),
    Action.MANAGE_TOKENS: Take(S.ASSIGNED, lambda w, n: IdentityService(w.settings).issue(n, "amy")),
}
PAGES = (Action.VIEW_INBOX, Action.VIEW_APPROVALS, Action.VIEW_TRENDS, Action.VIEW_SOURCES)
SEEN = {  # what a person sees or hears: yes or no (a PermissionDenied counts as no), nothing written
    Action.VIEW_CASE,
    Action.READ_CONFIDENTIAL_NOTES,
    Action.HEAR_ABOUT_BREACHES,
    Action.HEAR_ABOUT_SPIKES,
}


def test_every_action_is_taken_somewhere() -> None:
    """A new action in the table fails here until this file says how to take it."""
    assert set(TAKES) | set(PAGES) == set(Action) and not set(TAKES) & set(PAGES)
    assert set(ALLOWED) == set(Action)


def test_claiming_another_teams_case_is_narrower_than_assigning() -> None:
    """The claim is an assignment too, so whoever may claim must be able to assign."""
    assert ALLOWED[Action.CLAIM_OTHER_TEAMS_CASE] <= ALLOWED[Action.ASSIGN]


def test_every_action_is_allowed_to_someone_and_the_probes_hold_one_role_each(
    walked: Walked, tmp_path: Path
) -> None:
    assert all(ALLOWED[a] for a in Action)
    world = world_at(walked, tmp_path, S.ASSIGNED)
    for role in Role:
        assert [str(r) for r in world.settings.person(probe(role)).roles] == [role.value]


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", [a for a in Action if a not in PAGES], ids=str)
def test_a_person_with_one_role_may_take_an_action_iff_the_table_allows_it(
    walked: Walked, tmp_path: Path, action: Action, role: Role
) -> None:
    take, name = TAKES[action], probe(role)
    world = world_at(walked, tmp_path, take.start)
    allowed = may([role], action)
    before, audit = snapshot(world), audit_count(world)
    if action in SEEN:
        try:
            got = take.act(world, name)
        except PermissionDenied:  # reading an author's record needs the case view first
            got = False
        assert got is allowed
        assert snapshot(world) == before
        return
    if allowed:
        take.act(world, name)
        assert audit_count(world) > audit, "an allowed action is audited"
        return
    with pytest.raises(take.refusal, match=name):
        take.act(world, name)
    assert snapshot(world) == before


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", PAGES, ids=str)
def test_a_person_with_one_role_sees_a_page_iff_the_table_allows_it(
    walked: Walked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: Action, role: Role
) -> None:
    world = world_at(walked, tmp_path, S.ASSIGNED)
    before = snapshot(world)
    assert sees_page(world, action, probe(role), monkeypatch) is may([role], action)
    assert snapshot(world) == before


def test_a_supervisors_claim_names_both_teams_in_the_audit(walked: Walked, tmp_path: Path) -> None:
    world = world_at(walked, tmp_path, S.ASSIGNED)
    world.cases.assign(world.other, probe(Role.SUPERVISOR), "ben")
    after = world.cases.show(world.other)
    assert (after["team"], after["owner"]) == ("care", "ben")
    entry = after["audit"][-1]
    assert (entry["actor"], entry["action"]) == (probe(Role.SUPERVISOR), "assigned")
    assert '"team_moved": {"from": "escalations", "to": "care"}' in entry["after"]
    assert '"team": "escalations"' in entry["before"]
