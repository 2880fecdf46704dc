"""Every dashboard page for every role, run in-process with Streamlit's AppTest on a seeded store.

The pages are the product's last step: whoever ``voxwatch.permissions`` allows sees the
page with its content (cases, drafts, figures, source health, settings areas); anyone
else gets the refusal and nothing of the page; nobody signed in gets "Please sign in.".
Mention text comes from the internet, so it must reach the page only as plain text.
Buttons go through ``CaseService`` and its refusals are shown. AppTest runs the real
scripts against a real DuckDB copy per test: fast, no browser (the Chromium tests in
test_dashboard_browser.py cover the rendered HTML).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dashboard
from dashboard.display import case_label
from dashboard.session import SINCE_KEY, USER_KEY
from responders.cases import CaseService
from responders.decide import decide
from responders.lifecycle import may_move
from sentiment.themes import urgent_theme_ids
from tests.builders import MODEL, Post, fresh_store, seed_posts, write_team_settings
from voxwatch.domain import Mention, RawResponse, Score, case_number_label, mention_id
from voxwatch.passwords import hash_password
from voxwatch.permissions import Action, may, roles_for
from voxwatch.settings import Settings, load_settings
from voxwatch.store import DuckDBStore, Store, queries, stages, store_for
from voxwatch.store.postgres_store import PostgresStore
from voxwatch.store.transfer import copy_store

APP = Path(dashboard.__file__).parent / "app.py"
PAGES = Path(dashboard.__file__).parent / "pages"
PAGE_ACTIONS = {
    "inbox": Action.VIEW_INBOX,
    "case": Action.VIEW_CASE,
    "approvals": Action.VIEW_APPROVALS,
    "trends": Action.VIEW_TRENDS,
    "sources": Action.VIEW_SOURCES,
    "settings": Action.EDIT_SETTINGS,
}
PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD)

# The demo team, scored under MODEL (so the pages read what seed_posts stored), plus one
# person for each of the two roles the team only has together (grace: supervisor + admin).
EXTRA = """
[model]
name = "test-model"

[[responders]]
name = "sam"
display_name = "Sam Supervisor"
team = "care"
roles = ["supervisor"]
capacity = 0

[[responders]]
name = "adam"
display_name = "Adam Admin"
team = "care"
roles = ["admin"]
capacity = 0
"""
ROLES = {
    "amy": ["responder"],
    "sara": ["responder", "approver"],
    "maya": ["approver"],
    "grace": ["supervisor", "admin"],
    "sam": ["supervisor"],
    "adam": ["admin"],
    "erin": ["executive"],
}
PEOPLE = ROLES | {"ben": ["responder"]}  # ben: a second responder, for claiming amy's cases

HOSTILE = (
    "acme charged me twice <script>document.title='pwned'</script> **bold claim** "
    "[my photos](http://evil.test/x) ![pixel](http://evil.test/p.png) {{ 7*7 }}"
)
TEXTS = {
    "amy_case": "acme charged me twice for one order",
    "hostile": HOSTILE,
    "parcel": "my acme parcel never arrived, the delivery is late",
    "urgent": "acme gave me food poisoning, I was in hospital",
    "script_link": "acme broke my order and the link they sent is odd",
}


def settings_file(folder: Path) -> Path:
    """The team's settings in ``folder`` (store beside it), amy with a password."""
    path = write_team_settings(folder, EXTRA)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('name = "amy"\n', f'name = "amy"\npassword_hash = "{PASSWORD_HASH}"\n', 1),
        encoding="utf-8",
    )
    return path


def route_new(store: Store, settings: Settings) -> None:
    found, load = store.read(
        lambda conn: (
            queries.untriaged(conn, MODEL, settings.routing.negative_threshold),
            queries.open_load(conn),
        )
    )
    stages.save_decisions(store, decide(settings, found, load, urgent_theme_ids()))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Routed cases (one hostile, one urgent, one with a script link), two drafts awaiting approval."""
    folder = tmp_path_factory.mktemp("dashboard-pages")
    settings = load_settings(settings_file(folder))
    store = fresh_store(settings)
    now = datetime.now(UTC)
    seed_posts(
        store,
        settings,
        [
            Post(TEXTS["amy_case"], author="zoe", minutes_ago=30),
            Post(TEXTS["hostile"], author="<img src=x onerror=alert(1)>", source="shop", minutes_ago=40),
            Post(TEXTS["parcel"], author="yan", minutes_ago=50),
            Post(TEXTS["urgent"], author="wu", minutes_ago=20),
            Post("acme was lovely today", p_negative=0.1, author="fan", minutes_ago=10),
        ],
        now=now,
    )
    raw = RawResponse("https://example.com/blog", 200, {}, b"script link", now)
    odd = Mention("js-1", TEXTS["script_link"], url="javascript:alert(document.cookie)", author="jay")
    stages.save_page(store, "blog", raw, [odd])
    probs = {"negative": 0.9, "neutral": 0.06, "positive": 0.04}
    stages.save_scores(store, [(mention_id("blog", "js-1"), Score("negative", probs, MODEL, ()))])
    route_new(store, settings)

    cases = store.read(lambda conn: queries.inbox(conn, MODEL))
    by_text = {c["text"]: c for c in cases}
    assert set(TEXTS.values()) <= set(by_text), "every complaint should be routed"
    service = CaseService(settings)
    amy_case = by_text[TEXTS["amy_case"]]["case_id"]
    urgent = by_text[TEXTS["urgent"]]
    assert by_text[TEXTS["amy_case"]]["owner"] == "amy" and urgent["owner"] == "sara"
    for case_id, owner in ((amy_case, "amy"), (urgent["case_id"], "sara")):
        service.draft(case_id, owner)
        service.submit(case_id, owner)
    return {
        "db": folder / "voxwatch.duckdb",
        "cases": by_text,
        "amy_case": amy_case,
        "sara_case": urgent["case_id"],
    }


@pytest.fixture
def config(
    seeded: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    store_engine: str,
    request: pytest.FixtureRequest,
) -> Iterator[Path]:
    """A private copy of the seeded store, named by $VOXWATCH_CONFIG; Streamlit caches cleared.

    For a test marked ``both_engines``, once more on Postgres: the seeded store moved into a
    database of its own by ``migrate-store``'s copy, and the settings pointing at it.
    """
    path = settings_file(tmp_path)
    shutil.copy(seeded["db"], tmp_path / "voxwatch.duckdb")
    if store_engine == "postgres":
        url = request.getfixturevalue("postgres_server").database(empty=True)
        copy_store(DuckDBStore(tmp_path / "voxwatch.duckdb"), PostgresStore(url))
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("[store]\n", f'[store]\nurl = "{url}"\n', 1), encoding="utf-8")
    monkeypatch.setenv("VOXWATCH_CONFIG", str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield path
    st.cache_data.clear()
    st.cache_resource.clear()


def sign(at: AppTest, name: str | None, minutes_ago: float = 0) -> AppTest:
    if name is not None:
        at.session_state[USER_KEY] = name
        at.session_state[SINCE_KEY] = time.time() - minutes_ago * 60
    return at


def open_page(page: str, name: str | None, **params: str) -> AppTest:
    """Run one page as ``name``: through the app's navigation when allowed, else the page file itself."""
    allowed = name is not None and may(PEOPLE[name], PAGE_ACTIONS[page])
    if allowed and page == "inbox":  # its links to the case page resolve only inside the app
        at = sign(AppTest.from_file(str(APP), default_timeout=60), name).run()
        at.query_params.update(params)
        return at.switch_page(f"pages/{page}.py").run()
    at = sign(AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60), name)
    at.query_params.update(params)
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def page_content(at: AppTest) -> dict[str, list]:
    """What a page put on screen besides its title, caption and alerts."""
    return {
        "text": texts(at),
        "markdown": [m.value for m in at.markdown],
        "subheader": [s.value for s in at.subheader],
        "metric": [m.label for m in at.metric],
        "dataframe": list(at.dataframe),
        "button": [b.label for b in at.button],
        "text_area": [t.label for t in at.text_area],
        "selectbox": [s.label for s in at.selectbox],
        "multiselect": [m.label for m in at.multiselect],
        "charts": list(at.get("vega_lite_chart")),
        "downloads": list(at.get("download_button")),
        "links": list(at.get("link_button")) + list(at.get("page_link")),
        "info": [i.value for i in at.info],
        "success": [s.value for s in at.success],
    }


def markup_values(at: AppTest) -> list[str]:
    """Everything the page handed to Streamlit as Markdown (titles, captions, markdown, subheaders)."""
    return [
        e.value
        for kind in (at.markdown, at.caption, at.title, at.subheader, at.header, at.info)
        for e in kind
    ]


# --- content checks, one per page --------------------------------------------------------


def check_inbox(at: AppTest, name: str, seeded: dict[str, Any]) -> None:
    shown = texts(at)
    for text in TEXTS.values():
        assert text in shown  # the mention text, as plain text
    assert "acme was lovely today" not in shown  # not a complaint, not a case
    assert dict((m.label, m.value) for m in at.metric)["Open cases"] == str(len(seeded["cases"]))
    assert [t.value for t in at.title] == ["Inbox: routed cases"]
    expanders = [e.label for e in at.expander]
    assert ("Assign several cases at once" in expanders) is may(ROLES[name], Action.ASSIGN)
    assert [p.proto.label for p in at.get("page_link")] == [f"Open {case_label(c)}" for c in seeded["open"]]


def check_case(at: AppTest, name: str, seeded: dict[str, Any]) -> None:
    case = seeded["open"][0]  # no ?case=: the most urgent open case
    number = case_number_label(case["number"])  # people name a case by its number (VW-n)
    status = case["status"].replace("_", " ")  # the status in words (dashboard.words)
    assert at.subheader[0].value == f"{number} · {status} · {case['tier']}"
    assert case["text"] in texts(at)
    assert [t.value for t in at.title] == ["Case"]
    claimable = case["status"] in ("new", "assigned") and case["owner"] != name
    claimable = claimable and may(ROLES[name], Action.OWN_CASES)
    person = load_settings(seeded["config"]).person(name)
    claimable = claimable and may_move(person, case["team"], case["owner"], person.team)
    assert ("Claim this case" in [b.label for b in at.button]) is claimable


def check_approvals(at: AppTest, name: str, seeded: dict[str, Any]) -> None:
    assert dict((m.label, m.value) for m in at.metric) == {"Drafts waiting": "2"}
    heads = [s.value for s in at.subheader]
    names = [case_name(seeded, seeded[which]) for which in ("amy_case", "sara_case")]
    assert heads == [f"{names[0]} · v1 · normal", f"{names[1]} · v1 · urgent"]
    shown = texts(at)
    assert TEXTS["amy_case"] in shown and TEXTS["urgent"] in shown
    assert sum("We will get back to you by" in t for t in shown) == 2  # both drafted bodies
    assert [b.label for b in at.button] == ["Approve", "Send back"] * 2


def check_trends(at: AppTest, name: str, seeded: dict[str, Any]) -> None:
    metrics = dict((m.label, m.value) for m in at.metric)
    assert list(metrics) == [
        "Net sentiment",
        "Median first response",
        "Median resolution",
        "SLA met",
        "First-contact resolution",
        "Repeat complaints",
        "Service recovery",
        "Mentions",
    ]
    assert metrics["Net sentiment"] == "-1.0"  # complaints only: the lovely one scored neutral
    assert metrics["Service recovery"] == "- (n=0)"  # no answered complaint, so no figure, and its n
    assert metrics["Median first response"] == "-"  # nothing sent yet
    assert len(at.get("vega_lite_chart")) == 5  # by sentiment, by source, spikes, themes, backlog
    assert [d.proto.label for d in at.get("download_button")] == [
        "Export CSV",
        "Export CSV by source",
        "Download report (HTML)",
    ]
    assert "Negative mentions and spikes" in [s.value for s in at.subheader]


def check_sources(at: AppTest, name: str, seeded: dict[str, Any]) -> None:
    (table,) = at.dataframe
    rows = table.value.to_dict("records")
    assert [r["source"] for r in rows] == ["blog", "shop"]
    assert [r["kind"] for r in rows] == ["rss", "jsonld"]
    assert [r["mentions"] for r in rows] == [5, 1]
    assert all(r["status"] == "never run" for r in rows)
    assert [b.label for b in at.button] == ["Collect now"]


def check_settings(at: AppTest, name: str, seeded: dict[str, Any]) -> None:
    assert [t.label for t in at.tabs] == ["People and roles", "Routing", "SLA", "Templates"]
    areas = {
        area: at.text_area(key=f"edit-{area}").value for area in ("responders", "routing", "sla", "templates")
    }
    assert 'name = "amy"' in areas["responders"] and 'name = "adam"' in areas["responders"]
    assert "password_hash" not in areas["responders"] and PASSWORD_HASH not in areas["responders"]
    assert 'name = "escalate urgent"' in areas["routing"]
    assert len(at.dataframe) == 2  # the people form's table and the routing rules'
    for area in ("responders", "routing", "sla", "templates"):  # each TOML editor has its two buttons
        assert (
            at.button(key=f"check-{area}").label == "Check" and at.button(key=f"save-{area}").label == "Save"
        )
    assert "No settings changed from the dashboard yet." in [i.value for i in at.info]


CHECKS = {
    "inbox": check_inbox,
    "case": check_case,
    "approvals": check_approvals,
    "trends": check_trends,
    "sources": check_sources,
    "settings": check_settings,
}


@pytest.fixture
def world(seeded: dict[str, Any], config: Path) -> dict[str, Any]:
    cases = store_for(load_settings(config)).read(lambda conn: queries.inbox(conn, MODEL))
    return seeded | {"config": config, "open": cases, "cases_in_order": [c["case_id"] for c in cases]}


@pytest.mark.both_engines  # the dashboard on Postgres too
@pytest.mark.parametrize("name", list(ROLES))
@pytest.mark.parametrize("page", list(PAGE_ACTIONS))
def test_each_page_for_each_role(world: dict[str, Any], page: str, name: str) -> None:
    at = open_page(page, name)
    assert not at.exception, [e.value for e in at.exception]
    action = PAGE_ACTIONS[page]
    if may(ROLES[name], action):
        assert not at.error, [e.value for e in at.error]
        CHECKS[page](at, name, world)
        return
    refusal = (
        f"This page is for: {', '.join(roles_for(action))}. "
        f"You are signed in as {name} ({', '.join(ROLES[name])})."
    )
    assert [e.value for e in at.error] == [refusal]
    assert all(not shown for shown in page_content(at).values()), page_content(at)
    assert [t.value for t in at.title] == (["Inbox: routed cases"] if page == "inbox" else [])


def test_the_roles_table_gives_every_page_someone_and_someone_not() -> None:
    """The matrix above means something only if each page is both shown and refused."""
    for action in PAGE_ACTIONS.values():
        assert {may(roles, action) for roles in ROLES.values()} == {True, False}, action


@pytest.mark.parametrize("page", list(PAGE_ACTIONS))
@pytest.mark.parametrize("who", ["nobody", "expired", "unknown"])
def test_pages_ask_to_sign_in_first(world: dict[str, Any], page: str, who: str) -> None:
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=60)
    if who == "expired":
        sign(at, "grace", minutes_ago=481)  # the default session is 480 minutes
    elif who == "unknown":
        sign(at, "mallory")  # a name no longer in settings
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Please sign in."]
    assert not at.error and all(not shown for shown in page_content(at).values())
    assert USER_KEY not in at.session_state or who == "unknown"


# --- the app: sign-in and navigation ---------------------------------------------------------


def test_the_app_shows_only_the_sign_in_form_before_sign_in(world: dict[str, Any]) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["VoxWatch"]
    assert [t.label for t in at.text_input] == ["Name", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.text and not at.metric and not at.text
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/inbox.py")


def submit_sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


@pytest.mark.parametrize(
    ("name", "password"),
    [("amy", "wrong password"), ("amy", ""), ("ben", PASSWORD), ("nobody", PASSWORD), ("", "")],
)
def test_a_wrong_name_or_password_is_refused(world: dict[str, Any], name: str, password: str) -> None:
    at = submit_sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), name, password)
    assert [e.value for e in at.error] == ["Wrong name or password."]
    assert USER_KEY not in at.session_state and not at.sidebar.text


@pytest.mark.both_engines  # the dashboard on Postgres too
def test_signing_in_opens_the_persons_pages(world: dict[str, Any]) -> None:
    at = submit_sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), " amy ", PASSWORD)
    assert not at.exception and not at.error
    assert at.session_state[USER_KEY] == "amy"
    assert [t.value for t in at.sidebar.text] == ["Signed in as Amy Chen (responder)"]
    assert TEXTS["amy_case"] in texts(at)  # the inbox is her first page
    assert [b.label for b in at.sidebar.button] == ["Sign out", "Sign out everywhere"]


@pytest.mark.parametrize("name", list(ROLES))
def test_the_navigation_offers_exactly_the_allowed_pages(world: dict[str, Any], name: str) -> None:
    at = sign(AppTest.from_file(str(APP), default_timeout=60), name).run()
    assert not at.exception
    offered = set()
    for page in PAGE_ACTIONS:
        try:
            at.switch_page(f"pages/{page}.py")
        except ValueError:
            continue
        offered.add(page)
    assert offered == {p for p, action in PAGE_ACTIONS.items() if may(ROLES[name], action)}


# --- hostile text --------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["inbox", "case", "approvals"])
def test_hostile_mention_text_is_plain_text_only(world: dict[str, Any], page: str) -> None:
    hostile_case = world["cases"][HOSTILE]["case_id"]
    if page == "approvals":  # put the hostile case's draft in front of the comms lead
        settings = load_settings(world["config"])
        owner = world["cases"][HOSTILE]["owner"]
        CaseService(settings).draft(hostile_case, owner)
        CaseService(settings).submit(hostile_case, owner)
    name = {"inbox": "amy", "case": "grace", "approvals": "maya"}[page]
    at = open_page(page, name, case=hostile_case)
    assert not at.exception
    assert HOSTILE in texts(at)  # shown literally, every character
    assert not any("evil.test" in value or "<script>" in value for value in markup_values(at))
    links = [e.proto.url for e in at.get("link_button")] + [e.proto.page for e in at.get("page_link")]
    assert not any("evil.test" in link for link in links)


def test_the_case_page_links_only_to_web_addresses(world: dict[str, Any]) -> None:
    odd = world["cases"][TEXTS["script_link"]]
    at = open_page("case", "grace", case=odd["case_id"])
    assert not at.exception and TEXTS["script_link"] in texts(at)
    assert list(at.get("link_button")) == []  # a javascript: address is not made clickable
    plain = world["cases"][TEXTS["parcel"]]
    at = open_page("case", "grace", case=plain["case_id"])
    (button,) = at.get("link_button")
    assert button.proto.url == plain["url"] and plain["url"].startswith("https://example.com/")


# --- buttons go through the case service -------------------------------------------------------


def case_status(world: dict[str, Any], case_id: str) -> str:
    return CaseService(load_settings(world["config"])).show(case_id)["status"]


def case_name(world: dict[str, Any], case_id: str) -> str:
    """How the pages name a case: its number (VW-n)."""
    return case_number_label(CaseService(load_settings(world["config"])).show(case_id)["number"])


@pytest.mark.both_engines  # the dashboard on Postgres too
def test_a_comms_lead_approves_a_draft(world: dict[str, Any]) -> None:
    at = open_page("approvals", "maya")
    at.text_input[0].input("good tone")
    at.button[0].click().run()  # Approve amy's draft
    assert not at.exception and not at.error
    assert case_status(world, world["amy_case"]) == "approved"
    assert dict((m.label, m.value) for m in at.metric) == {"Drafts waiting": "1"}
    assert [s.value for s in at.subheader] == [f"{case_name(world, world['sara_case'])} · v1 · urgent"]


def test_sending_back_needs_a_comment(world: dict[str, Any]) -> None:
    at = open_page("approvals", "maya")
    at.button[1].click().run()  # Send back, no comment
    refusal = f"{case_name(world, world['amy_case'])}: sending a draft back needs a comment"
    assert [e.value for e in at.error] == [refusal]
    assert case_status(world, world["amy_case"]) == "pending_approval"
    at.text_input[0].input("please mention the refund")
    at.button[1].click().run()
    assert not at.error and case_status(world, world["amy_case"]) == "drafting"


def test_nobody_approves_their_own_draft_whatever_the_page_shows(world: dict[str, Any]) -> None:
    at = open_page("approvals", "sara")  # responder and approver: her own draft is listed too
    assert [s.value for s in at.subheader][1].startswith(case_name(world, world["sara_case"]) + " ")
    at.button[2].click().run()  # Approve her own draft
    assert len(at.error) == 1 and "sara wrote this draft and cannot approve it" in at.error[0].value
    assert case_status(world, world["sara_case"]) == "pending_approval"


@pytest.mark.both_engines  # the dashboard on Postgres too
def test_a_responder_claims_someone_elses_case(world: dict[str, Any]) -> None:
    parcel = world["cases"][TEXTS["parcel"]]
    assert parcel["owner"] != "ben"
    at = open_page("case", "ben", case=parcel["case_id"])
    claim = next(b for b in at.button if b.label == "Claim this case")
    claim.click().run()
    assert not at.exception and not at.error
    assert CaseService(load_settings(world["config"])).show(parcel["case_id"])["owner"] == "ben"
    assert "Owner: ben · team care" in texts(at)


LABELS = ["It is negative", "It is neutral", "It is positive"]


@pytest.mark.parametrize(
    ("name", "buttons"),
    [
        ("amy", [*LABELS, "Start from template"]),  # her case: she drafts
        ("ben", [*LABELS, "Claim this case"]),  # a colleague in care may claim it
        ("sara", LABELS),  # escalations: claiming care's case is a supervisor's call
        ("maya", LABELS),  # an approver corrects labels, never drafts
        ("grace", LABELS),
        ("sam", LABELS),
        ("adam", LABELS),
    ],
)
def test_the_case_page_shows_only_the_buttons_the_table_allows(
    world: dict[str, Any], name: str, buttons: list[str]
) -> None:
    parcel = world["cases"][TEXTS["parcel"]]
    assert (parcel["owner"], parcel["team"], parcel["status"]) == ("amy", "care", "assigned")
    at = open_page("case", name, case=parcel["case_id"])
    assert not at.exception and not at.error
    assert [b.label for b in at.button] == buttons
    assert ("Situation" in [s.label for s in at.selectbox]) is (name == "amy")


def test_an_unknown_case_is_said_plainly(world: dict[str, Any]) -> None:
    at = open_page("case", "amy", case="c-does-not-exist")
    assert [e.value for e in at.error] == ["No case c-does-not-exist."]
    assert not at.text and not at.button


def test_the_case_page_finds_a_case_by_its_number_or_the_start_of_its_id(world: dict[str, Any]) -> None:
    plain = world["cases"][TEXTS["parcel"]]
    case = store_for(load_settings(world["config"])).read(lambda c: queries.get_case(c, plain["case_id"]))
    assert case is not None
    number = case_number_label(case["number"])
    for ref in (number, str(case["number"]), plain["case_id"][:14]):  # as a link or a person gives it
        at = open_page("case", "grace", case=ref)
        assert not at.error and at.subheader[0].value.startswith(f"{number} · "), ref


def test_the_inbox_filters_by_source(world: dict[str, Any]) -> None:
    at = open_page("inbox", "grace")
    source = next(m for m in at.multiselect if m.label == "Source")
    assert source.options == ["blog", "shop"]
    source.set_value(["shop"]).run()
    assert not at.exception
    assert dict((m.label, m.value) for m in at.metric)["Open cases"] == "1"
    shown = texts(at)
    assert HOSTILE in shown and TEXTS["amy_case"] not in shown


@pytest.mark.both_engines  # the dashboard on Postgres too
def test_an_admin_checks_and_saves_a_settings_area(world: dict[str, Any]) -> None:
    at = open_page("settings", "adam")
    before = world["config"].read_text(encoding="utf-8")
    at.text_area(key="edit-routing").input("[routing\ndefault_team = ").run()
    at.button(key="check-routing").click().run()
    assert len(at.error) == 1 and not at.success
    at.button(key="save-routing").click().run()  # refused the same way, nothing written
    assert at.error[0].value.startswith("Not saved: ") and not at.success
    assert world["config"].read_text(encoding="utf-8") == before

    at.text_area(key="edit-routing").input('[routing]\ndefault_team = "care"\n').run()
    at.button(key="check-routing").click().run()
    assert [s.value for s in at.success] == ["Valid: these settings load."]
    assert world["config"].read_text(encoding="utf-8") == before  # checking writes nothing
    at.button(key="save-routing").click().run()
    assert [s.value for s in at.success] == ["Saved, and written to the audit log."]
    after = world["config"].read_text(encoding="utf-8")
    assert "escalate urgent" not in after and 'name = "amy"' in after
    audit = store_for(load_settings(world["config"])).read(lambda c: queries.audit_entries(c, "settings", 5))
    assert [(a["actor"], a["entity_id"]) for a in audit] == [("adam", "routing")]


def test_a_case_link_that_fits_several_cases_offers_them(world: dict[str, Any]) -> None:
    at = open_page("case", "amy", case="case-")  # the start of every id
    assert not at.exception and not at.error
    assert at.warning[0].value == "case- fits several cases; pick one:"
    offered = texts(at)
    assert len(offered) >= 2 and all(o.startswith("VW-") for o in offered)
