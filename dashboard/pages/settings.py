"""Settings (admins): people and roles, routing rules, SLA targets and the team's templates.

Each area has a form for the common edits and the TOML editor for the rest. A form
writes the same TOML the editor shows (``responders.settings_forms``), so both are
checked and saved the same way: "Check" validates the change exactly as every process
will load it; "Save" checks again, writes the file and records the change in the audit
log. Errors name the key, never a file of ours. Secrets are not here: they live in the
environment.
"""

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from dashboard.data import (
    config_path,
    current_settings,
    save_settings_area,
    service,
    settings_area,
    settings_audit,
)
from dashboard.display import escape_markdown
from dashboard.i18n import _, current
from dashboard.session import require
from dashboard.words import ROLE_WORDS, SITUATION_WORDS, TIER_WORDS, word
from responders.settings_editor import AREAS, Area, validate_area
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
from voxwatch.errors import SettingsError
from voxwatch.i18n import LANGUAGES
from voxwatch.permissions import ROLES, Action

settings = current_settings()
person = require(settings, Action.EDIT_SETTINGS)
path = Path(config_path())
tr = current()

st.title(_("Settings"))
st.caption(_("Password hashes are kept but not shown; secrets come from the environment."))
HELP = {
    "responders": _(
        "One `[[responders]]` table per person: `name`, `display_name`, `team`, `roles`, `languages`, "
        "`capacity`, `shift`, `interface_language`."
    ),
    "routing": _(
        "`[routing]` `default_team`, `negative_threshold`, and `[[routing.rules]]` (`sources`, `languages`, "
        "`keywords`, `themes`, `tiers` -> `team`)."
    ),
    "sla": _("`[sla]` first-response and resolution hours per tier, and `[sla.business_hours]`."),
    "templates": _(
        "The team's own `[[templates]]` (`situation`, `lang`, `version`, `body`); a higher version "
        "supersedes the shipped one. Rendered in a sandbox; only the known variables are allowed."
    ),
}
TITLES = {
    "responders": _("People and roles"),
    "routing": _("Routing"),
    "sla": _("SLA"),
    "templates": _("Templates"),
}
REPLY_LANGUAGES = ["en", "zh", "ja", "ko"]  # offered in the forms; any other code can be typed
EXAMPLE = (
    '[[templates]]\nsituation = "first_response"\nlang = "en"\nversion = 2\n'
    'body = """Hi {{ customer }}, thanks for telling us. I\'m {{ responder }} from {{ brand }}; '
    'we will get back to you by {{ reply_by }}."""'
)


def check_and_save(area: Area, text: str, key: str) -> None:
    """The two buttons every form and editor has: check the TOML it makes, or save it."""
    check, save = st.columns(2)
    if check.button(_("Check"), key=f"check-{key}"):
        try:
            validate_area(path, area, text)
            st.success(_("Valid: these settings load."))
        except SettingsError as exc:
            st.error(escape_markdown(exc))
    if save.button(_("Save"), key=f"save-{key}", type="primary"):
        try:
            save_settings_area(area, text, person.name)
            st.success(_("Saved, and written to the audit log."))
        except SettingsError as exc:
            st.error(escape_markdown(_("Not saved: {why}", why=exc)))  # the message quotes the TOML typed


def built(make: Callable[..., str], *args: object) -> str | None:
    """The TOML a form makes, or None after showing why it could not be made."""
    try:
        return make(*args)
    except SettingsError as exc:
        st.error(escape_markdown(exc))
        return None


def people_form(current_text: str) -> None:
    st.caption(_("One row per person; add a row at the bottom, or select rows and delete them."))
    edited = st.data_editor(
        people_rows(current_text),
        num_rows="dynamic",
        key="form-responders",
        column_config={
            "name": st.column_config.TextColumn(_("name"), required=True),
            "display_name": st.column_config.TextColumn(_("display name"), required=True),
            "team": st.column_config.TextColumn(_("team"), required=True),
            "roles": st.column_config.MultiselectColumn(
                _("roles"), options=list(ROLES), format_func=lambda r: word(ROLE_WORDS, r, tr)
            ),
            "languages": st.column_config.MultiselectColumn(
                _("reply languages"), options=REPLY_LANGUAGES, accept_new_options=True
            ),
            "capacity": st.column_config.NumberColumn(_("capacity"), min_value=0, step=1),
            "interface_language": st.column_config.SelectboxColumn(
                _("interface language"), options=list(LANGUAGES)
            ),
        },
    )
    text = built(people_text, current_text, edited)
    if text is not None:
        check_and_save("responders", text, "form-responders")


def routing_form(current_text: str) -> None:
    head, rules = routing_values(current_text)
    left, right = st.columns(2)
    default_team = left.text_input(_("Default team"), head["default_team"] or "", key="form-default-team")
    threshold = right.slider(
        _("Negative threshold"),
        0.05,
        0.95,
        float(head["negative_threshold"] or 0.5),
        0.05,
        help=_("A mention at least this likely negative is a complaint."),
        key="form-threshold",
    )
    st.caption(
        _(
            "Rules in order: the first that matches a mention decides its team; "
            "an empty cell matches anything."
        )
    )
    sources = [s.name for s in settings.sources]
    edited = st.data_editor(
        rules,
        num_rows="dynamic",
        key="form-rules",
        column_config={
            "name": st.column_config.TextColumn(_("name"), required=True),
            "team": st.column_config.TextColumn(_("team"), required=True),
            "sources": st.column_config.MultiselectColumn(_("sources"), options=sources),
            "languages": st.column_config.MultiselectColumn(
                _("languages"), options=REPLY_LANGUAGES, accept_new_options=True
            ),
            "keywords": st.column_config.MultiselectColumn(
                _("keywords"), options=[], accept_new_options=True
            ),
            "themes": st.column_config.MultiselectColumn(_("themes"), options=[], accept_new_options=True),
            "tiers": st.column_config.MultiselectColumn(
                _("tiers"), options=list(TIER_WORDS), format_func=lambda t: word(TIER_WORDS, t, tr)
            ),
        },
    )
    head = {"default_team": default_team, "negative_threshold": round(threshold, 2)}
    text = built(routing_text, current_text, head, edited)
    if text is not None:
        check_and_save("routing", text, "form-routing")


def sla_form(current_text: str) -> None:
    values = sla_values(current_text)
    labels = {
        "urgent_first_response_hours": _("Urgent: first response within (hours)"),
        "normal_first_response_hours": _("Normal: first response within (hours)"),
        "resolution_hours": _("Resolution within (hours)"),
        "follow_up_window_hours": _("The customer's answer counts within (hours)"),
    }
    defaults = settings.sla.model_dump()
    columns = st.columns(len(labels))
    chosen = {
        field: column.number_input(
            label,
            min_value=0.25,
            value=float(values[field] or defaults[field]),
            step=0.5,
            key=f"form-{field}",
        )
        for column, (field, label) in zip(columns, labels.items(), strict=True)
    }
    st.caption(_("Business hours and holidays are edited in the TOML below."))
    text = built(sla_text, current_text, chosen)
    if text is not None:
        check_and_save("sla", text, "form-sla")


def templates_form(current_text: str) -> None:
    library = service().library
    left, right = st.columns(2)
    situation = left.selectbox(
        _("Situation"),
        list(SITUATION_WORDS),
        format_func=lambda s: word(SITUATION_WORDS, s, tr),
        key="form-situation",
    )
    lang = right.selectbox(_("Language"), ["en", "zh"], format_func=LANGUAGES.__getitem__, key="form-lang")
    newest = library.latest.get((situation, lang))
    body = st.text_area(
        _("Template"),
        newest.body if newest else "",
        height=140,
        key=f"form-body-{situation}-{lang}",
        help=_(
            "Variables: {names}",
            names="{{ customer }}, {{ brand }}, {{ responder }}, {{ reply_by }}, {{ case_ref }}",
        ),
    )
    st.caption(_("Preview, as a customer reads it (made-up names and times):"))
    for other in ("en", "zh"):
        shown = (
            body
            if other == lang
            else (library.latest[(situation, other)].body if (situation, other) in library.latest else "")
        )
        if not shown:
            continue
        try:
            st.text(f"{LANGUAGES[other]}: {preview(shown, situation, other, settings.brand.name)}")
        except SettingsError as exc:
            st.error(escape_markdown(exc))
    if newest is None or body.strip() != newest.body:
        text = built(template_text, current_text, library, situation, lang, body)
        if text is not None:
            check_and_save("templates", text, "form-templates")


FORMS = {"responders": people_form, "routing": routing_form, "sla": sla_form, "templates": templates_form}

for area, tab in zip(AREAS, st.tabs([TITLES[a] for a in AREAS]), strict=True):
    with tab:
        current_text = settings_area(str(path), area)
        FORMS[area](current_text)
        with st.expander(_("Edit as TOML (everything in this area)")):
            st.caption(HELP[area])
            if not current_text.strip() and area == "templates":
                st.caption(
                    _("Nothing here yet. An example to start from (it supersedes the shipped version 1):")
                )
                st.code(EXAMPLE, language="toml")
            text = st.text_area(
                _("{area} as TOML", area=TITLES[area]), current_text, height=360, key=f"edit-{area}"
            )
            check_and_save(area, text, area)

st.subheader(_("Recent changes"))
changes = settings_audit()
if changes:
    st.dataframe(
        [
            {
                _("when"): c["occurred_at"],
                _("who"): c["actor"],
                _("area"): TITLES.get(c["entity_id"], c["entity_id"]),
            }
            for c in changes
        ],
        hide_index=True,
    )
else:
    st.info(_("No settings changed from the dashboard yet."))
