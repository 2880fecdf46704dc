"""The dashboard in headless Chromium: routed mentions are there, hostile text is inert."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.pipeline import pipeline_flow
from responders.cases import CaseService
from tests.conftest import copy_demo
from tests.dashboard_server import running_dashboard
from tests.untranslated import leftover
from voxwatch.domain import Mention, RawResponse, case_number_label
from voxwatch.permissions import Action, may
from voxwatch.settings import load_settings
from voxwatch.store import queries, stages, store_for

# The session-wide demo run is made once per worker: keep its users on one worker.
pytestmark = pytest.mark.xdist_group("demo")

# Debian's chromium, installed by the README's test command (tests/install_debian_packages.sh).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = (
    "This is awful, the worst Larkspur coffee ever and I am furious. "
    "<script>document.title='pwned'</script> **bold claim** [my photos](http://evil.test/x) {{ 7*7 }}"
)


@pytest.fixture(scope="module")
def dashboard_store(demo_run: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo store plus one hostile complaint, run through the real pipeline."""
    config = copy_demo(demo_run, tmp_path_factory.mktemp("dashboard"))
    raw = RawResponse("http://forum.test/t/1", 200, {}, HOSTILE.encode(), datetime.now(UTC))
    store = store_for(load_settings(config))
    stages.save_page(store, "reddit-larkspur", raw, [Mention("hostile-1", HOSTILE, author="/u/x")])
    summary = pipeline_flow(str(config))
    assert summary["this_run"]["routed"] == 1, "the hostile complaint should be routed to the inbox"
    return config


@pytest.fixture(scope="module")
def dashboard_url(dashboard_store: Path) -> Iterator[str]:
    with running_dashboard(dashboard_store) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


def settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit is not re-running the script, so a click is not lost mid-rerun."""
    page.wait_for_timeout(300)
    page.locator("[data-testid='stStatusWidgetRunningIcon']").wait_for(state="hidden", timeout=120_000)


def click(page, role: str, name: str) -> None:  # type: ignore[no-untyped-def]
    settle(page)
    page.get_by_role(role, name=name).first.click()
    settle(page)


DEMO_PASSWORD = "larkspur-demo"  # every demo person's password (see voxwatch/demo/voxwatch.toml)


def signed_in(browser, url: str, name: str, password: str = DEMO_PASSWORD, height: int = 2400):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": height})
    page.goto(url)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as", exact=False).first.wait_for(timeout=120_000)
    settle(page)
    return page


def test_pages_need_a_sign_in_and_a_wrong_password_is_refused(dashboard_url: str, browser) -> None:
    page = browser.new_page()
    page.goto(dashboard_url)
    page.get_by_role("textbox", name="Name").wait_for(timeout=60_000)
    assert "This is the third time" not in page.inner_text("body")  # nothing shows before sign-in
    page.get_by_role("textbox", name="Name").fill("amy")
    page.get_by_role("textbox", name="Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong name or password.").wait_for(timeout=30_000)
    page.close()


def test_inbox_lists_routed_mentions_with_owner_and_sla(dashboard_url: str, browser, artifacts: Path) -> None:
    page = signed_in(browser, dashboard_url, "amy")
    complaint = page.get_by_text("This is the third time I report this", exact=False)
    complaint.first.wait_for(timeout=60_000)
    settle(page)
    body = page.inner_text("body")
    assert "owner: sara" in body
    assert "URGENT" in body and "SLA due" in body
    assert "threat to go public" in body
    assert "Approvals" not in page.locator("[data-testid='stSidebar']").inner_text()  # not a comms lead
    page.screenshot(path=str(artifacts / "inbox.png"), full_page=True)
    page.close()


def test_hostile_text_is_shown_literally_and_never_runs(dashboard_url: str, browser) -> None:
    page = signed_in(browser, dashboard_url, "amy")
    page.get_by_text("the worst Larkspur coffee ever", exact=False).first.wait_for(timeout=60_000)
    settle(page)
    body = page.inner_text("body")
    assert "<script>document.title='pwned'</script>" in body
    assert "**bold claim** [my photos](http://evil.test/x) {{ 7*7 }}" in body
    assert page.title() != "pwned"
    assert page.locator("a[href^='http://evil.test']").count() == 0
    assert page.locator("strong", has_text="bold claim").count() == 0
    page.close()


def test_a_day_responder_drafts_the_linter_flags_the_comms_lead_approves(
    dashboard_store: Path, dashboard_url: str, browser, artifacts: Path
) -> None:
    settings = load_settings(dashboard_store)
    case_id, number = store_for(settings).read(
        lambda c: c.execute(
            "SELECT c.id, c.number FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "WHERE c.owner = 'amy' AND c.status = 'assigned' AND m.lang = 'en' "
            "AND m.source <> 'mastodon-larkspur' ORDER BY c.id LIMIT 1"  # answered by hand: link recorded
        ).fetchone()
    )
    label = case_number_label(number)  # how the inbox links and the case page's header name it

    def first_response_kpi() -> str:
        erin = signed_in(browser, dashboard_url, "erin")  # an executive: Trends is her only page
        metric = erin.locator("[data-testid='stMetric']", has_text="Median first response")
        metric.wait_for(timeout=120_000)
        value = metric.locator("[data-testid='stMetricValue']").inner_text()
        erin.get_by_text("Negative mentions and spikes").wait_for(timeout=120_000)
        erin.get_by_role("button", name="Download report (HTML)").wait_for(timeout=120_000)
        erin.screenshot(path=str(artifacts / "day-3-trends.png"), full_page=True)
        erin.close()
        return value

    assert first_response_kpi() == "-"  # nobody has answered anything yet

    # The responder opens her case, starts from the template and edits it.
    amy = signed_in(browser, dashboard_url, "amy")
    click(amy, "link", f"Open {label}")
    click(amy, "button", "Start from template")
    draft = amy.get_by_role("textbox", name="Draft")
    draft.wait_for(timeout=120_000)
    draft.fill(draft.input_value() + " Honestly, I don't know what went wrong.")
    draft.press("Control+Enter")
    settle(amy)
    amy.get_by_text("forbidden-phrase", exact=False).first.wait_for(timeout=120_000)  # flagged live
    amy.screenshot(path=str(artifacts / "day-1-linter.png"), full_page=True)
    draft.fill(draft.input_value().replace(" Honestly, I don't know what went wrong.", ""))
    draft.press("Control+Enter")
    settle(amy)
    amy.get_by_text("The linter found nothing to fix.").wait_for(timeout=120_000)
    click(amy, "button", "Submit for approval")
    amy.get_by_text("pending approval", exact=False).first.wait_for(timeout=120_000)
    amy.close()

    # The comms lead approves it.
    maya = signed_in(browser, dashboard_url, "maya")
    click(maya, "link", "Approvals")
    maya.get_by_text(label, exact=False).first.wait_for(timeout=120_000)
    maya.screenshot(path=str(artifacts / "day-2-approvals.png"), full_page=True)
    click(maya, "button", "Approve")
    maya.get_by_text("Nothing waiting for approval.").wait_for(timeout=120_000)
    maya.close()

    approved = CaseService(settings).show(case_id)
    assert approved["status"] == "approved" and approved["draft"]["decided_by"] == "maya"

    # The approved text is read-only now; the responder sends exactly that version, posts it by
    # hand (this source has no publisher) and records the link; the executive sees the
    # first-response time appear only then.
    amy = signed_in(browser, dashboard_url, "amy")
    click(amy, "link", f"Open {label}")
    assert amy.get_by_role("textbox", name="Draft").count() == 0
    click(amy, "button", f"Send v{approved['draft']['version']} as approved")
    amy.get_by_text(f"{label} · sent", exact=False).first.wait_for(timeout=120_000)
    assert first_response_kpi() == "-"  # sent by hand is not public until its link is recorded
    link = amy.get_by_role("textbox", name="Link to the reply as posted")
    link.fill("https://www.reddit.com/r/larkspur/comments/abc/reply")
    link.press("Enter")
    click(amy, "button", "Record the link")
    amy.get_by_role("link", name="Open the posted reply").wait_for(timeout=120_000)
    amy.close()
    assert first_response_kpi().endswith(" h")

    final = CaseService(settings).show(case_id)
    actions = [a["action"] for a in final["audit"]][-5:]
    assert actions == ["drafted", "submitted", "approved", "sent", "published"]


def test_a_supervisor_assigns_several_cases_at_once(
    dashboard_store: Path, dashboard_url: str, browser
) -> None:
    settings = load_settings(dashboard_store)
    rows = store_for(settings).read(
        lambda c: c.execute(
            "SELECT id, number FROM cases WHERE owner = 'ben' AND status = 'assigned' ORDER BY id LIMIT 2"
        ).fetchall()
    )
    ids = [row[0] for row in rows]
    assert len(ids) == 2
    grace = signed_in(browser, dashboard_url, "grace")  # supervisor
    click(grace, "link", "Inbox")
    cases = grace.locator("[data-testid='stMultiSelect']", has_text="Cases").locator("input")
    expander = grace.get_by_text("Assign several cases at once")
    expander.click()
    settle(grace)
    if not cases.is_visible():  # a click that landed mid-rerun: open it again
        expander.click()
        settle(grace)
    for _, number in rows:  # st.multiselect: type to filter, then pick the option named exactly
        box = grace.locator("[data-testid='stMultiSelect']", has_text="Cases").locator("input")
        box.click()
        box.fill(f"VW-{number}")
        grace.get_by_role("option", name=f"VW-{number}", exact=True).click()
        settle(grace)
    assign_to = grace.locator("[data-testid='stSelectbox']", has_text="Assign to").locator("input")
    assign_to.click()
    assign_to.fill("li")
    grace.keyboard.press("Enter")
    settle(grace)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    click(grace, "button", "Assign selected")
    confirmed = grace.get_by_text("Assigned to li").first
    try:  # under load a click can land mid-rerun and be lost: no confirmation says so
        confirmed.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        click(grace, "button", "Assign selected")
        confirmed.wait_for(timeout=30_000)
    grace.close()
    service = CaseService(settings)
    assert [service.show(i)["owner"] for i in ids] == ["li", "li"]
    assert all(service.show(i)["audit"][-1]["actor"] == "grace" for i in ids)


def test_an_admin_changes_the_sla_after_a_check_and_it_is_audited(
    dashboard_store: Path, dashboard_url: str, browser, artifacts: Path
) -> None:
    grace = signed_in(browser, dashboard_url, "grace")  # supervisor and admin
    click(grace, "link", "Settings")
    click(grace, "tab", "SLA")
    # The TOML editor, for everything the form does not show: a mistake is refused, nothing written.
    grace.locator("summary:visible", has_text="Edit as TOML").first.click()  # the SLA tab's expander
    settle(grace)
    editor = grace.get_by_role("textbox", name="SLA as TOML")
    editor.wait_for(timeout=120_000)
    original = editor.input_value()
    assert "urgent_first_response_hours = 2" in original
    editor.fill(original.replace("urgent_first_response_hours = 2", "urgent_first_response_hours = -1"))
    editor.press("Control+Enter")
    settle(grace)
    grace.get_by_role("button", name="Save").last.click()
    grace.get_by_text("Not saved:", exact=False).first.wait_for(timeout=120_000)
    assert load_settings(dashboard_store).sla.urgent_first_response_hours == 2  # nothing written

    # The form, for the common edit.
    hours = grace.get_by_role("spinbutton", name="Urgent: first response within (hours)")
    hours.fill("1")
    hours.press("Enter")
    settle(grace)
    grace.get_by_role("button", name="Save").first.click()
    grace.get_by_text("Saved, and written to the audit log.").wait_for(timeout=120_000)
    grace.screenshot(path=str(artifacts / "settings-admin.png"), full_page=True)
    grace.close()
    settings = load_settings(dashboard_store)
    assert settings.sla.urgent_first_response_hours == 1
    (entry,) = store_for(settings).read(lambda c: queries.audit_entries(c, "settings", 5))
    assert (entry["actor"], entry["entity_id"]) == ("grace", "sla")


def test_only_admins_see_the_settings_page(dashboard_url: str, browser) -> None:
    maya = signed_in(browser, dashboard_url, "maya")  # a comms lead
    assert "Settings" not in maya.locator("[data-testid='stSidebar']").inner_text()
    maya.close()


def sign_in_form_shown(page) -> bool:  # type: ignore[no-untyped-def]
    settle(page)
    return page.get_by_role("button", name="Sign in").count() == 1 and "Signed in as" not in page.inner_text(
        "body"
    )


@pytest.mark.parametrize("name", ["amy", "maya", "erin", "grace"])  # responder, approver, executive, admin
def test_a_session_survives_reload_and_new_tab_and_signs_out_everywhere(
    dashboard_store: Path, dashboard_url: str, browser, name: str
) -> None:
    settings = load_settings(dashboard_store)
    roles = settings.person(name).roles
    case_id, text = store_for(settings).read(
        lambda c: c.execute(
            "SELECT c.id, m.text FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "WHERE m.lang = 'en' AND m.text NOT LIKE '%<script>%' ORDER BY c.id LIMIT 1"
        ).fetchone()
    )
    if may(roles, Action.VIEW_CASE):  # a link to a case, as a notice or a colleague sends it
        target, shows = f"{dashboard_url}/case?case={case_id}", text[:40]
    else:  # the executive's page
        target, shows = f"{dashboard_url}/trends", "Median first response"

    # Opened signed out, the link asks for a sign-in and then opens what it pointed at.
    here = browser.new_context(viewport={"width": 1400, "height": 2400})
    first = here.new_page()
    first.goto(target)
    first.get_by_role("textbox", name="Name").fill(name)
    first.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    first.get_by_role("button", name="Sign in").click()
    first.get_by_text(shows, exact=False).first.wait_for(timeout=120_000)
    settle(first)
    first.wait_for_function("document.cookie.includes('voxwatch_session=')", timeout=60_000)

    # F5 and a new tab: still signed in, still on that page.
    first.reload()
    first.get_by_text(shows, exact=False).first.wait_for(timeout=120_000)
    assert not sign_in_form_shown(first)
    second = here.new_page()
    second.goto(target)
    second.get_by_text(shows, exact=False).first.wait_for(timeout=120_000)
    assert not sign_in_form_shown(second)

    # Another browser signs in too; "Sign out everywhere" in the first tab ends all of them.
    elsewhere = signed_in(browser, dashboard_url, name)
    click(first, "button", "Sign out everywhere")
    first.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    second.reload()  # its cookie is gone with the first tab's, and the store voids it anyway
    second.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    elsewhere.reload()  # still holds its cookie: the generation voids it
    elsewhere.get_by_role("button", name="Sign in").wait_for(timeout=120_000)
    assert sign_in_form_shown(elsewhere) and sign_in_form_shown(second)
    here.close()
    elsewhere.close()


# Each role's landing page (dashboard.display.LANDING) and a word it shows, in each language. The
# demo team has no admin-only person: grace (supervisor and admin) opens the admin's page by its address.
LANDINGS = {
    "responder": ("amy", "", "Inbox: routed cases", "收件箱：已分派工单"),
    "approver": ("maya", "", "Drafts waiting", "待审草稿"),
    "executive": ("erin", "", "Median first response", "首次响应中位时长"),
    "supervisor": ("grace", "", "Inbox: routed cases", "收件箱：已分派工单"),
    "admin": ("grace", "/sources", "Collect now", "立即采集"),
}
# What the page says, without Material icons (their names are text ligatures: "inbox", "forum").
PAGE_TEXT = """() => [...document.querySelectorAll("[data-testid='stMain'], [data-testid='stSidebar']")]
  .map(part => {
    const copy = part.cloneNode(true);
    copy.querySelectorAll("[data-testid='stIconMaterial']").forEach(i => i.remove());
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return text;
}).join("\\n")"""


def shown_data(settings) -> list[str]:  # type: ignore[no-untyped-def]
    """What the demo's pages show that is data: mentions, names, sources, drafted replies."""
    rows = store_for(settings).read(
        lambda c: c.execute(
            "SELECT m.text, coalesce(m.author, ''), m.source, coalesce(c.owner, ''), c.team, "
            "coalesce(c.id, '') FROM cases c JOIN mentions m ON m.id = c.mention_id"
        ).fetchall()
    )
    data = [v for row in rows for v in row]
    data += [p.display_name for p in settings.responders] + [p.name for p in settings.responders]
    data += [s.name for s in settings.sources] + [s.kind for s in settings.sources]
    data += [settings.brand.name, "Larkspur"]
    return data + [
        d[0] for d in store_for(settings).read(lambda c: c.execute("SELECT body FROM drafts").fetchall())
    ]


@pytest.mark.parametrize("role", list(LANDINGS))
def test_each_role_lands_on_its_page_and_switches_it_to_chinese(
    dashboard_store: Path, dashboard_url: str, browser, artifacts: Path, role: str
) -> None:
    name, path, english, chinese = LANDINGS[role]
    page = signed_in(browser, dashboard_url, name)
    if path:
        page.goto(dashboard_url + path)  # the session cookie keeps the person signed in
    page.get_by_text(english).first.wait_for(timeout=120_000)
    settle(page)
    page.screenshot(path=str(artifacts / f"landing-{role}-en.png"))

    page.get_by_role("combobox", name="Language").click()  # the sidebar's switch
    page.get_by_role("option", name="简体中文").click()
    page.get_by_text(chinese).first.wait_for(timeout=120_000)
    settle(page)
    page.screenshot(path=str(artifacts / f"landing-{role}-zh.png"))
    lines = [line for line in page.evaluate(PAGE_TEXT).splitlines() if line.strip()]
    assert leftover(lines, shown_data(load_settings(dashboard_store))) == []
    page.close()


def card_order(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The inbox cards' 'VW-n · status' lines, top to bottom, with what each counts down to."""
    return [
        line
        for line in page.locator("[data-testid='stMain']").inner_text().splitlines()
        if "first response due" in line or "first response overdue" in line or "resolution " in line
    ]


def test_an_answered_case_leaves_the_first_response_queue(
    dashboard_store: Path, dashboard_url: str, browser
) -> None:
    settings = load_settings(dashboard_store)
    store = store_for(settings)
    first = store.read(lambda c: queries.inbox(c, "voxwatch/en-zh-v2"))
    if not first:
        first = store.read(
            lambda c: c.execute("SELECT id AS case_id FROM cases WHERE status = 'assigned'").fetchall()
        )
    page = signed_in(browser, dashboard_url, "grace")  # a supervisor sees every team's cases
    page.get_by_text("first response due", exact=False).first.wait_for(timeout=120_000)
    before = card_order(page)
    assert before and all("first response" in line for line in before[:3])
    top = (
        page.locator("[data-testid='stMain']")
        .get_by_text("VW-", exact=False)
        .first.inner_text()
        .split(" · ")[0]
    )
    number = int(top.removeprefix("VW-"))
    case_id = store.read(lambda c: c.execute("SELECT id FROM cases WHERE number = ?", [number]).fetchone()[0])
    # The reply is posted (as sending records it): the case now counts down to its resolution.
    store.write(lambda c: queries.update_case(c, case_id, {"first_response_at": datetime.now(UTC)}))
    for _ in range(12):  # the inbox's read is cached for 15 s (dashboard/data.py)
        page.wait_for_timeout(3000)
        page.reload()
        page.get_by_text("first response due", exact=False).first.wait_for(timeout=120_000)
        settle(page)
        after = card_order(page)
        if any("resolution" in line for line in after):
            break
    assert not after[0].startswith(top), "the answered case is no longer first"
    answered = [line for line in after if "resolution" in line]
    assert answered and all("first response" not in line for line in answered)
    # Answered cases come after every case still waiting for its first response.
    firsts = [i for i, line in enumerate(after) if "first response" in line]
    assert max(firsts) < min(i for i, line in enumerate(after) if "resolution" in line)
    store.write(lambda c: queries.update_case(c, case_id, {"first_response_at": None}))  # as it was
    page.close()


def test_trends_totals_stay_the_same_whatever_the_breakdown(dashboard_url: str, browser) -> None:
    page = signed_in(browser, dashboard_url, "erin")
    page.get_by_text("Mentions per day by sentiment").wait_for(timeout=120_000)
    settle(page)

    def totals() -> tuple[str, bytes]:
        settle(page)
        volume = page.locator("[data-testid='stMetric']", has_text="Mentions").first.inner_text()
        with page.expect_download() as download:
            page.get_by_role("button", name="Export CSV", exact=True).click()
        return volume, Path(download.value.path()).read_bytes()

    by_source = totals()
    for breakdown in ("theme", "language"):
        settle(page)
        page.get_by_role("combobox", name="Break volume down by").click()
        page.get_by_role("option", name=breakdown, exact=True).click()
        page.get_by_text(f"Mentions per day by {breakdown}").wait_for(timeout=120_000)
        assert totals() == by_source  # the headline count and the per-day totals file
    page.close()
