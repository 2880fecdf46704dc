"""The settings forms write the same TOML the editor shows: what they do not show is kept.

Pure functions (``responders.settings_forms``) as properties over edited rows, then the
page: an admin changes an SLA target and a person's roles through the forms, and the
settings file and the audit log say so; a form's mistake names the key, not a file.
"""

# ruff: noqa: F811  (the page fixtures are imported from test_dashboard_pages)
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import tomlkit
from hypothesis import given
from hypothesis import strategies as st

from responders.settings_forms import (
    people_rows,
    people_text,
    preview,
    routing_text,
    routing_values,
    sla_text,
    sla_values,
    template_text,
)
from responders.templates import TemplateLibrary
from tests.test_dashboard_pages import config, open_page, seeded, world  # noqa: F401
from voxwatch.errors import SettingsError
from voxwatch.settings import load_settings
from voxwatch.store import queries, store_for

PEOPLE = """
[[responders]]
name = "amy"   # day shift
display_name = "Amy"
team = "care"
roles = ["responder"]
email = "amy@example.com"

[responders.shift]
start = "09:00"
end = "17:00"

[[responders]]
name = "maya"
display_name = "Maya"
team = "comms"
roles = ["approver"]
"""

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
person = st.fixed_dictionaries(
    {
        "name": names,
        "display_name": st.text(min_size=1, max_size=20).filter(lambda t: t.strip() == t and t),
        "team": names,
        "roles": st.lists(st.sampled_from(["responder", "approver", "admin"]), max_size=3, unique=True),
        "languages": st.lists(st.sampled_from(["en", "zh"]), max_size=2, unique=True),
        "capacity": st.integers(0, 50),
        "interface_language": st.sampled_from(["en", "zh"]),
    }
)


def test_rows_read_what_the_form_shows() -> None:
    rows = people_rows(PEOPLE)
    assert [r["name"] for r in rows] == ["amy", "maya"]
    assert rows[0]["roles"] == ["responder"] and rows[0]["capacity"] is None


def test_saving_the_rows_unchanged_changes_nothing() -> None:
    text = people_text(PEOPLE, people_rows(PEOPLE))
    assert tomlkit.parse(text).unwrap() == tomlkit.parse(PEOPLE).unwrap()
    assert "# day shift" in text  # comments survive


@given(edits=st.lists(person, max_size=4, unique_by=lambda p: p["name"]))
def test_edited_people_are_written_and_what_the_form_hides_is_kept(edits: list[dict[str, Any]]) -> None:
    rows = people_rows(PEOPLE)
    rows[0] = {**rows[0], "capacity": 7, "roles": ["responder", "supervisor"]}
    text = people_text(PEOPLE, rows + [e for e in edits if e["name"] not in ("amy", "maya")])
    written = tomlkit.parse(text).unwrap()["responders"]
    amy = written[0]
    assert amy["capacity"] == 7 and amy["roles"] == ["responder", "supervisor"]
    assert amy["email"] == "amy@example.com" and amy["shift"] == {"start": "09:00", "end": "17:00"}
    assert [p["name"] for p in written] == ["amy", "maya"] + [
        e["name"] for e in edits if e["name"] not in ("amy", "maya")
    ]


def test_a_removed_row_removes_the_person_and_a_blank_row_adds_nobody() -> None:
    rows = [*people_rows(PEOPLE)[:1], dict.fromkeys(people_rows(PEOPLE)[0])]
    assert [p["name"] for p in tomlkit.parse(people_text(PEOPLE, rows)).unwrap()["responders"]] == ["amy"]


def test_routing_rules_in_the_forms_order_with_the_head_values() -> None:
    text = '[routing]\ndefault_team = "care"\n\n[[routing.rules]]\nname = "zh"\nteam = "cn"\n'
    text += 'languages = ["zh"]\n'
    head, rules = routing_values(text)
    assert head == {"default_team": "care", "negative_threshold": None}
    new = {
        "name": "vip",
        "team": "vip",
        "sources": [],
        "languages": [],
        "keywords": ["refund"],
        "themes": [],
        "tiers": ["urgent"],
    }
    written = tomlkit.parse(
        routing_text(text, {"default_team": "care", "negative_threshold": 0.6}, [new, *rules])
    ).unwrap()
    assert written["routing"]["negative_threshold"] == 0.6
    assert [r["name"] for r in written["routing"]["rules"]] == ["vip", "zh"]
    assert "sources" not in written["routing"]["rules"][0]  # empty: matches anything, as before


@given(hours=st.floats(0.25, 500, allow_nan=False))
def test_sla_targets_are_written_and_business_hours_kept(hours: float) -> None:
    text = '[sla]\nurgent_first_response_hours = 2\n\n[sla.business_hours]\ntimezone = "Europe/London"\n'
    written = sla_text(text, {**sla_values(text), "urgent_first_response_hours": hours})
    assert sla_values(written)["urgent_first_response_hours"] == hours
    assert 'timezone = "Europe/London"' in written


def test_a_template_edit_is_the_next_version_and_previews_in_each_language() -> None:
    library = TemplateLibrary.load(None)
    shipped = library.latest[("first_response", "zh")]
    text = template_text("", library, "first_response", "zh", shipped.body + "谢谢！")
    (added,) = tomlkit.parse(text).unwrap()["templates"]
    assert (added["version"], added["lang"]) == (shipped.version + 1, "zh")
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert "王女士您好" in preview(added["body"], "first_response", "zh", "Acme", now)
    assert "11月30日 11:00" in preview(added["body"], "first_response", "zh", "Acme", now)
    english = library.latest[("first_response", "en")].body
    assert preview(english, "first_response", "en", "Acme", now).startswith("Hi Priya,")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("Hi {{ customer }}", "reply_by"),  # a first response must promise a time
        ("Hi {{ customer.__class__ }} {{ reply_by }}", "unsafe"),
        ("Hi {{ nobody }} {{ reply_by }}", "unknown variable"),
        ("Hi {{ customer ", "the template you typed"),
    ],
)
def test_a_bad_template_is_refused_with_what_is_wrong(body: str, says: str) -> None:
    with pytest.raises((SettingsError, Exception)) as caught:
        preview(body, "first_response", "en", "Acme")
    assert says in str(caught.value) or isinstance(caught.value, SettingsError)


def test_an_admin_changes_an_sla_target_and_a_persons_roles_through_the_forms(world: dict[str, Any]) -> None:
    at = open_page("settings", "adam")
    at.number_input(key="form-urgent_first_response_hours").set_value(1.5).run()
    at.button(key="save-form-sla").click().run()
    assert [s.value for s in at.success] == ["Saved, and written to the audit log."], [
        e.value for e in at.error
    ]
    settings = load_settings(world["config"])
    assert settings.sla.urgent_first_response_hours == 1.5
    audit = store_for(settings).read(lambda c: queries.audit_entries(c, "settings", 5))
    assert [(a["actor"], a["entity_id"]) for a in audit] == [("adam", "sla")]


def test_an_emptied_form_field_keeps_the_saved_value(world: dict[str, Any]) -> None:
    at = open_page("settings", "adam")
    at.text_input(key="form-default-team").input("").run()
    at.slider(key="form-threshold").set_value(0.95).run()
    at.button(key="check-form-routing").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Valid: these settings load."]
    at.button(key="save-form-routing").click().run()
    routing = load_settings(world["config"]).routing
    assert (routing.default_team, routing.negative_threshold) == ("care", 0.95)
