"""Inbox: routed negative mentions, most urgent first.

Mention text comes from the internet, so it is only ever shown with ``st.text``
(no Markdown, no HTML).
"""

import os

import streamlit as st

from dashboard.data import (
    current_settings,
    forget_reads,
    open_cases,
    service,
    team_load,
)
from dashboard.display import due_in
from dashboard.session import require
from responders.inbox import filter_cases, is_breached
from responders.lifecycle import may_move
from sentiment.registry import model_id_for
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action, may
from voxwatch.settings import CONFIG_ENV

st.title("Inbox")
st.caption("Routed negative mentions, sorted by first-response due time.")

settings = current_settings()
me = require(settings, Action.VIEW_INBOX)
try:
    cases = open_cases(os.environ.get(CONFIG_ENV, "voxwatch.toml"), model_id_for(settings.model.name))
except VoxWatchError as exc:
    st.error(str(exc))
    st.stop()


def options(field: str) -> list[str]:
    values = {v for c in cases for v in (c[field] or [] if field == "themes" else [c[field] or "(none)"])}
    return sorted(values)


with st.expander("Filters and team load", expanded=False):
    cols = st.columns(6)
    chosen = {
        field: cols[i].multiselect(label, options(field))
        for i, (field, label) in enumerate(
            [
                ("source", "Source"),
                ("themes", "Theme"),
                ("lang", "Language"),
                ("tier", "Tier"),
                ("owner", "Owner"),
                ("status", "Status"),
            ]
        )
    }
    load = team_load()
    people = settings.people_who_may(Action.OWN_CASES)
    load_cols = st.columns(max(len(people), 1))
    for col, p in zip(load_cols, people, strict=False):
        col.metric(p.display_name, f"{load.get(p.name, 0)} / {p.capacity}")

cases = filter_cases(cases, **chosen)
st.metric("Open cases", len(cases))
if not cases:
    st.info("No open cases. New negative mentions appear here after the pipeline routes them.")

if cases and may(me.roles, Action.ASSIGN):
    with st.expander("Assign several cases at once"):
        # Only what the team rule lets this person move: their own team's cases, to their own team,
        # unless they may claim other teams' cases (responders.lifecycle.may_move, checked again on save).
        mine = [c["case_id"] for c in cases if may_move(me, c["team"], c["owner"], c["team"])]
        owners = settings.people_who_may(Action.OWN_CASES)
        claims = may(me.roles, Action.CLAIM_OTHER_TEAMS_CASE)
        picked = st.multiselect("Cases", mine)
        to = st.selectbox("Assign to", [p.name for p in owners if claims or p.team == me.team])
        if st.button("Assign selected") and picked:
            problems = []
            for case_id in picked:
                try:
                    service().assign(case_id, me.name, to)
                except VoxWatchError as exc:
                    problems.append(f"{case_id}: {exc}")
            forget_reads()
            for problem in problems:
                st.error(problem)
            if not problems:
                st.rerun()


@st.fragment(run_every=60)
def case_cards() -> None:
    """The list re-draws every minute, so the countdowns stay true without a reload."""
    for case in cases:
        with st.container(border=True):
            left, right = st.columns([3, 1])
            with left:
                st.text(case["text"])
                st.caption(
                    f"{case['source']} · {case['author'] or 'unknown author'} · {case['lang'] or 'und'}"
                )
            with right:
                if is_breached(case):  # our own fixed words, so Markdown colour is safe here
                    st.markdown(":red[**SLA breached**]")
                st.text(f"{case['tier'].upper()} · {due_in(case['first_response_due'])}")
                st.text(f"SLA due {case['first_response_due']:%Y-%m-%d %H:%M} UTC")
                st.text(f"owner: {case['owner'] or '(unassigned)'} · team {case['team']}")
                if case["p_negative"] is not None:
                    st.text(f"negative {case['p_negative']:.0%} ({case['label']})")
            if case["reasons"]:
                st.text("why: " + "; ".join(case["reasons"]))
            if case["themes"]:
                st.text("themes: " + ", ".join(case["themes"]))
            st.page_link(
                "pages/case.py", label=f"Open {case['case_id']}", query_params={"case": case["case_id"]}
            )


case_cards()
