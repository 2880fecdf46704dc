"""Settings (admins): responders, routing rules, SLA tiers and the team's templates.

Each area is edited as TOML. "Check" validates the change exactly as every
process will load it; "Save" checks again, writes the file, and records the
change in the audit log. Secrets are not here: they live in the environment.
"""

from pathlib import Path

import streamlit as st

from dashboard.data import config_path, current_settings, save_settings_area, settings_area, settings_audit
from dashboard.display import escape_markdown
from dashboard.session import require
from responders.settings_editor import AREAS, validate_area
from voxwatch.errors import SettingsError
from voxwatch.permissions import Action

settings = current_settings()
person = require(settings, Action.EDIT_SETTINGS)
path = Path(config_path())

st.title("Settings")
st.caption(f"File: {path}. Password hashes are kept but not shown; secrets come from the environment.")
HELP = {
    "responders": "One [[responders]] table per person: name, display_name, team, roles, languages, "
    "capacity, shift.",
    "routing": "[routing] default_team, negative_threshold, and [[routing.rules]] (sources, languages, "
    "keywords, themes, tiers -> team).",
    "sla": "[sla] first-response and resolution hours per tier, and [sla.business_hours].",
    "templates": "The team's own [[templates]] (situation, lang, version, body); a higher version supersedes "
    "the shipped one. Rendered in a sandbox; only the known variables are allowed.",
}
TITLES = {"responders": "People and roles", "routing": "Routing", "sla": "SLA", "templates": "Templates"}
EXAMPLES = {
    "templates": '[[templates]]\nsituation = "first_response"\nlang = "en"\nversion = 2\n'
    'body = """Hi {{ customer }}, thanks for telling us. I\'m {{ responder }} from {{ brand }}; '
    'we will get back to you by {{ reply_by }}."""'
}
for area, tab in zip(AREAS, st.tabs([TITLES.get(a, a) for a in AREAS]), strict=True):
    with tab:
        st.caption(HELP[area])
        current = settings_area(str(path), area)
        if not current.strip() and area in EXAMPLES:
            st.caption("Nothing here yet. An example to start from (it supersedes the shipped version 1):")
            st.code(EXAMPLES[area], language="toml")
        text = st.text_area(area, current, height=360, key=f"edit-{area}")
        check, save = st.columns(2)
        if check.button("Check", key=f"check-{area}"):
            try:
                validate_area(path, area, text)
                st.success("Valid: these settings load.")
            except SettingsError as exc:
                st.error(escape_markdown(exc))
        if save.button("Save", key=f"save-{area}", type="primary"):
            try:
                save_settings_area(area, text, person.name)
                st.success("Saved, and written to the audit log.")
            except SettingsError as exc:
                st.error(f"Not saved: {escape_markdown(exc)}")  # the message quotes the TOML typed

st.subheader("Recent changes")
changes = settings_audit()
if changes:
    st.dataframe(
        [{"when": c["occurred_at"], "who": c["actor"], "area": c["entity_id"]} for c in changes],
        hide_index=True,
    )
else:
    st.info("No settings changed from the dashboard yet.")
