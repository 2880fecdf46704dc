# ruff: noqa: F811 (the fixtures imported from test_dashboard_pages are parameters by name)
"""The inbox as a work queue, actions that say what they did, and internet text kept plain (issue 17).

AppTest runs the real pages on a private copy of the seeded store from
test_dashboard_pages.py: the table view and its columns, counts per status, an
answered case counting down to resolution, where each role lands after sign-in,
confirmations that name the case, lint findings in words, and a hostile author
name that never becomes an image or a link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.display import case_label, countdown, escape_markdown, landing_page, queue_rows
from responders.inbox import next_due, queue_order, status_counts
from responders.lint import Finding, finding_words, split_findings
from tests.builders import MODEL, Post, seed_posts
from tests.test_dashboard_pages import (  # noqa: F401 (seeded, config, world: fixtures used by name)
    APP,
    ROLES,
    TEXTS,
    config,
    markup_values,
    open_page,
    seeded,
    sign,
    texts,
    world,
)
from voxwatch.settings import load_settings
from voxwatch.store import queries, store_for

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
QUEUE_COLUMNS = ["case", "status", "priority", "due", "due at", "owner", "source", "language", "first words"]


def answer(world: dict[str, Any], case_id: str, at: datetime) -> None:
    """Record a first response on a case, as sending a reply does."""
    store = store_for(load_settings(world["config"]))
    store.write(lambda conn: queries.update_case(conn, case_id, {"first_response_at": at}))


# --- the queue's rules -------------------------------------------------------------------------


def case_row(case_id: str, first_due: datetime, answered: datetime | None = None, **more: Any) -> dict:
    return {
        "case_id": case_id,
        "status": "assigned",
        "first_response_due": first_due,
        "resolution_due": first_due + timedelta(hours=24),
        "first_response_at": answered,
        "escalated_at": None,
    } | more


def test_an_answered_case_counts_down_to_resolution_and_leaves_the_top() -> None:
    answered = case_row("c-1", NOW + timedelta(hours=1, minutes=49), answered=NOW - timedelta(minutes=5))
    waiting = case_row("c-2", NOW + timedelta(hours=3))
    assert next_due(answered) == ("resolution", answered["resolution_due"])
    assert next_due(waiting) == ("first response", waiting["first_response_due"])
    assert [c["case_id"] for c in queue_order([answered, waiting])] == ["c-2", "c-1"]
    assert countdown(answered, NOW) == "resolution due in 25 h 49 min"
    assert countdown(waiting, NOW) == "first response due in 3 h 0 min"


def test_status_counts_follow_the_life_cycle() -> None:
    cases = [{"status": s} for s in ("drafting", "new", "assigned", "drafting", "pending_approval")]
    assert status_counts(cases) == {"new": 1, "assigned": 1, "drafting": 2, "pending_approval": 1}


@pytest.mark.parametrize(
    ("roles", "page"),
    [
        (["responder"], "Inbox"),
        (["responder", "approver"], "Inbox"),
        (["supervisor"], "Inbox"),
        (["supervisor", "admin"], "Inbox"),
        (["approver"], "Approvals"),
        (["executive"], "Trends"),
        (["admin"], "Sources"),
        ([], None),
    ],
)
def test_each_role_lands_where_its_work_is(roles: list[str], page: str | None) -> None:
    assert landing_page(roles) == page


def test_lint_findings_are_words_and_approval_notes_are_apart() -> None:
    error = Finding("blame", 280, 286, "Do not blame the customer.", "error", "you should have")
    promise = Finding("promise_money", 10, 20, "A refund needs approval.", "needs_approval", "refund")
    required = Finding("greeting", 0, 300, "Say hello.", "error", "")
    assert split_findings([error, promise, required]) == ([error, required], [promise])
    assert finding_words(error) == "blame: 'you should have' - Do not blame the customer."
    assert finding_words(required) == "greeting: - Say hello."
    assert "280" not in finding_words(error)


HOSTILE_AUTHOR = "![x](http://127.0.0.1:9/pixel.png) [click](http://evil.example) <img src=x>"


def test_escaped_markdown_has_no_link_image_or_html_left() -> None:
    escaped = escape_markdown(HOSTILE_AUTHOR + "\n# heading :red[big] $x$")
    for raw in ("![", "](", "[click]", ":red[", "$x$", "\n"):
        assert raw not in escaped
    assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch in "<>[]()!$#")
    assert "\\!\\[x\\]\\(http" in escaped and "\\<img src=x\\>" in escaped and "\\$x\\$" in escaped
    assert "\n" not in escaped


# --- the inbox page ----------------------------------------------------------------------------


def test_the_inbox_offers_a_sortable_table_with_one_row_per_case(world: dict[str, Any]) -> None:
    at = open_page("inbox", "grace")
    (view,) = at.segmented_control
    assert view.value == "Cards" and not at.dataframe
    view.set_value("Table").run()
    assert not at.exception
    (table,) = at.dataframe
    frame = table.value
    assert list(frame.columns) == QUEUE_COLUMNS
    assert list(frame["case"]) == [case_label(c) for c in world["open"]]
    assert set(frame["status"]) == {c["status"].replace("_", " ") for c in world["open"]}  # in words
    assert all(d.startswith("first response ") for d in frame["due"])
    assert [p.proto.label for p in at.get("page_link")] == [f"Open {frame['case'][0]}"]  # no cards
    opener = next(s for s in at.selectbox if s.label == "Open a case")
    opener.set_value(world["open"][-1]["case_id"]).run()
    assert [p.proto.label for p in at.get("page_link")] == [f"Open {case_label(world['open'][-1])}"]


def test_the_inbox_counts_cases_per_status_and_says_what_it_lists(world: dict[str, Any]) -> None:
    at = open_page("inbox", "grace")
    people = {p.display_name for p in load_settings(world["config"]).responders}
    metrics = {m.label: m.value for m in at.metric if m.label not in people}  # not the team-load ones
    expected: dict[str, int] = {}
    for case in world["open"]:
        expected[case["status"].replace("_", " ")] = expected.get(case["status"].replace("_", " "), 0) + 1
    assert metrics == {"Open cases": str(len(world["open"]))} | {k: str(v) for k, v in expected.items()}
    assert [t.value for t in at.title] == ["Inbox: routed cases"]
    assert "complaints, questions" in at.caption[0].value.lower()
    shown = texts(at)
    assert sum(t.startswith("why here: ") for t in shown) == len(world["open"])
    for case in world["open"]:  # every card says the case's status
        assert f"{case_label(case)} · {case['status'].replace('_', ' ')}" in shown


def test_an_answered_case_moves_down_to_its_resolution_countdown(world: dict[str, Any]) -> None:
    first = world["open"][0]
    answer(world, first["case_id"], datetime.now(UTC))
    at = open_page("inbox", "grace")
    labels = [p.proto.label for p in at.get("page_link")]
    assert labels[-1] == f"Open {case_label(first)}" and labels[0] != labels[-1]
    assert sum("resolution due in" in t for t in texts(at)) == 1
    assert sum("first response due in" in t or "first response overdue" in t for t in texts(at)) == (
        len(world["open"]) - 1
    )


# --- where each role lands ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title"),
    [("amy", "Inbox: routed cases"), ("maya", "Approvals"), ("erin", "Trends"), ("adam", "Sources")],
)
def test_signing_in_opens_the_page_of_ones_work(world: dict[str, Any], name: str, title: str) -> None:
    at = sign(AppTest.from_file(str(APP), default_timeout=60), name).run()
    assert not at.exception
    assert [t.value for t in at.title] == [title]


# --- every action says what it did -----------------------------------------------------------


def test_approving_names_the_case(world: dict[str, Any]) -> None:
    at = open_page("approvals", "maya")
    label = at.subheader[0].value.split(" · ")[0]
    at.button[0].click().run()  # Approve the first draft
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"Approved v1: {label}"]
    assert [t.value for t in at.toast] == [f"Approved v1: {label}"]


def test_a_refusal_names_the_case(world: dict[str, Any]) -> None:
    at = open_page("approvals", "maya")
    at.button[1].click().run()  # Send back without a comment
    (error,) = at.error
    assert error.value.endswith(": sending a draft back needs a comment")


def test_claiming_names_the_case(world: dict[str, Any]) -> None:
    parcel = world["cases"][TEXTS["parcel"]]
    at = open_page("case", "ben", case=parcel["case_id"])
    next(b for b in at.button if b.label == "Claim this case").click().run()
    assert not at.exception and not at.error
    label = case_label(next(c for c in world["open"] if c["case_id"] == parcel["case_id"]))
    assert [s.value for s in at.success] == [f"Claimed: {label}"]


def test_saving_an_unchanged_draft_says_so(world: dict[str, Any]) -> None:
    case_id = world["cases"][TEXTS["parcel"]]["case_id"]
    at = open_page("case", "amy", case=case_id)
    next(b for b in at.button if b.label == "Start from template").click().run()
    assert not at.error and at.success[0].value.startswith("Draft started from the template: ")
    next(b for b in at.button if b.label == "Save edits").click().run()
    assert any("the draft is unchanged" in i.value for i in at.info)


def test_a_draft_waiting_for_approval_says_why_it_cannot_start_again(world: dict[str, Any]) -> None:
    at = open_page("case", "amy", case=world["amy_case"])  # pending approval: no template button
    assert "Start from template" not in [b.label for b in at.button]
    assert any("not while the case is pending approval" in c.value for c in at.caption)
    assert any(c.value.startswith("Waiting for a comms lead to approve") for c in at.caption)
    shown = texts(at)
    assert not any("[" in t and "-" in t and "]" in t and t.split("[")[1][:1].isdigit() for t in shown)


# --- internet text stays plain ----------------------------------------------------------------


@pytest.fixture
def hostile_author_case(world: dict[str, Any]) -> dict[str, Any]:
    """A routed complaint whose author name carries an image, a link and HTML, owned by amy."""
    settings = load_settings(world["config"])
    store = store_for(settings)
    seed_posts(
        store,
        settings,
        [Post("acme lost my parcel again", author=HOSTILE_AUTHOR, minutes_ago=5)],
        now=datetime.now(UTC),
    )
    cases = store.read(lambda conn: queries.inbox(conn, MODEL))
    return next(c for c in cases if c["author"] == HOSTILE_AUTHOR)


def no_markup_carries(at: AppTest, *needles: str) -> None:
    for value in markup_values(at) + [e.value for e in at.error] + [s.value for s in at.success]:
        for needle in needles:
            assert needle not in value.replace("\\", ""), value


@pytest.mark.parametrize("page", ["inbox", "case", "approvals"])
def test_a_hostile_author_name_is_plain_text_on_every_page(
    world: dict[str, Any], hostile_author_case: dict[str, Any], page: str
) -> None:
    case_id = hostile_author_case["case_id"]
    if page == "approvals":
        from responders.cases import CaseService

        service = CaseService(load_settings(world["config"]))
        owner = hostile_author_case["owner"]
        service.draft(case_id, owner)
        service.submit(case_id, owner)
    name = {"inbox": "grace", "case": "grace", "approvals": "maya"}[page]
    at = open_page(page, name, case=case_id)
    assert not at.exception
    assert any(HOSTILE_AUTHOR in t for t in texts(at))  # shown, literally
    no_markup_carries(at, "127.0.0.1", "evil.example", "<img")


def test_a_hostile_case_parameter_is_not_markdown(world: dict[str, Any]) -> None:
    at = open_page("case", "amy", case="[click](http://evil.example) ![x](http://127.0.0.1:9/p.png)")
    (error,) = at.error
    assert "\\[click\\]\\(http" in error.value and "\\!\\[x\\]" in error.value


def test_rows_are_built_for_the_table_from_the_store(world: dict[str, Any], config: Path) -> None:
    rows = queue_rows(world["open"])
    assert [list(r) for r in rows] == [QUEUE_COLUMNS] * len(world["open"])
    assert {r["owner"] for r in rows} <= {*(ROLES | {"ben": []}), "(unassigned)"}


def test_assigning_from_the_inbox_names_the_cases_and_asks_for_a_pick(world: dict[str, Any]) -> None:
    at = open_page("inbox", "grace")
    next(b for b in at.button if b.label == "Assign selected").click().run()
    assert [w.value for w in at.warning] == ["Pick the cases to assign first."]
    parcel = next(c for c in world["open"] if c["text"] == TEXTS["parcel"])
    picker = next(m for m in at.multiselect if m.label == "Cases")
    picker.set_value([parcel["case_id"]]).run()
    next(s for s in at.selectbox if s.label == "Assign to").set_value("ben").run()
    next(b for b in at.button if b.label == "Assign selected").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [f"Assigned to ben: {case_label(parcel)}"]


def test_trends_by_theme_say_a_mention_can_carry_several_and_keep_the_totals(world: dict[str, Any]) -> None:
    at = open_page("trends", "erin")
    before = {m.label: m.value for m in at.metric}
    next(s for s in at.selectbox if s.label == "Break volume down by").set_value("theme").run()
    assert not at.exception
    after = {m.label: m.value for m in at.metric}
    assert after["Mentions"] == before["Mentions"] and after["Net sentiment"] == before["Net sentiment"]
    assert any("can carry several themes" in c.value for c in at.caption)
    period = next(s for s in at.selectbox if s.label == "Period")
    assert period.value == 1  # the seeded posts are from today: the data covers one day, not 90
