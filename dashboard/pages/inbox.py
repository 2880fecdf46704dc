"""Inbox: the team's work queue of routed cases, most urgent first, as cards or a sortable table.

Routed cases are complaints, questions and anything a routing rule sent here; each
says why it is listed. An answered case counts down to its resolution, not its
first response (``responders.inbox.next_due``). Everything from the internet
(text, author, source) is only ever shown with ``st.text`` or in a table
(no Markdown, no HTML).
"""

import os

import streamlit as st

from dashboard.confirm import done, show_done
from dashboard.data import (
    current_settings,
    forget_reads,
    open_cases,
    service,
    team_load,
)
from dashboard.display import case_label, countdown, escape_markdown, queue_rows
from dashboard.session import require
from responders.inbox import filter_cases, is_breached, next_due, queue_order, status_counts, why_listed
from responders.lifecycle import may_move
from sentiment.registry import model_id_for
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action, may
from voxwatch.settings import CONFIG_ENV

st.title("Inbox: routed cases")
st.caption(
    "Complaints, questions and anything a routing rule sent to the team, each with why it is here. "
    "Unanswered cases first, by first-response due time; answered ones count down to resolution."
)

settings = current_settings()
me = require(settings, Action.VIEW_INBOX)
show_done()
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

cases = queue_order(filter_cases(cases, **chosen))
counts = status_counts(cases)
count_cols = st.columns(len(counts) + 1)
count_cols[0].metric("Open cases", len(cases))
for col, (status, n) in zip(count_cols[1:], counts.items(), strict=True):
    col.metric(status.replace("_", " "), n)
view = st.segmented_control("View", ["Cards", "Table"], default="Cards", key="inbox-view") or "Cards"
if not cases:
    st.info("No open cases. New negative mentions appear here after the pipeline routes them.")


def assign_picked(picked: list[str], to: str, names: dict[str, str]) -> None:
    """Assign each picked case; name the ones moved, and each refusal with its case."""
    if not picked:
        st.warning("Pick the cases to assign first.")
        return
    moved, problems = [], []
    for case_id in picked:
        try:
            service().assign(case_id, me.name, to)
            moved.append(names[case_id])
        except VoxWatchError as exc:
            problems.append(escape_markdown(f"{names[case_id]}: {exc}"))
    forget_reads()
    if moved:
        done(f"Assigned to {to}: {', '.join(moved)}")
    for problem in problems:
        st.error(problem)
    if not problems:
        st.rerun()
    show_done()


if cases and may(me.roles, Action.ASSIGN):
    with st.expander("Assign several cases at once"):
        # Only what the team rule lets this person move: their own team's cases, to their own team,
        # unless they may claim other teams' cases (responders.lifecycle.may_move, checked again on save).
        mine = [c["case_id"] for c in cases if may_move(me, c["team"], c["owner"], c["team"])]
        owners = settings.people_who_may(Action.OWN_CASES)
        claims = may(me.roles, Action.CLAIM_OTHER_TEAMS_CASE)
        names = {c["case_id"]: case_label(c) for c in cases}
        picked = st.multiselect("Cases", mine, format_func=lambda case_id: names[case_id])
        to = st.selectbox("Assign to", [p.name for p in owners if claims or p.team == me.team])
        if st.button("Assign selected"):
            assign_picked(picked, to, names)


@st.fragment(run_every=60)
def case_table() -> None:
    """One row per case; click a header to sort (the due column sorts by the due time)."""
    st.dataframe(
        queue_rows(cases),
        hide_index=True,
        column_config={
            "due": st.column_config.TextColumn("due", help="What the case waits for next, and when"),
            "due at": st.column_config.DatetimeColumn("due at (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )
    if cases:
        names = {c["case_id"]: case_label(c) for c in cases}
        chosen = st.selectbox("Open a case", list(names), format_func=lambda case_id: names[case_id])
        st.page_link("pages/case.py", label=f"Open {names[chosen]}", query_params={"case": chosen})


@st.fragment(run_every=60)
def case_cards() -> None:
    """The list re-draws every minute, so the countdowns stay true without a reload."""
    for case in cases:
        with st.container(border=True):
            left, right = st.columns([3, 1])
            with left:
                st.text(case["text"])
                st.text(f"{case['source']} · {case['author'] or 'unknown author'} · {case['lang'] or 'und'}")
            with right:
                if is_breached(case):  # our own fixed words, so Markdown colour is safe here
                    st.markdown(":red[**SLA breached**]")
                st.text(f"{case_label(case)} · {case['status'].replace('_', ' ')}")
                st.text(f"{case['tier'].upper()} · {countdown(case)}")
                st.text(f"SLA due {next_due(case)[1]:%Y-%m-%d %H:%M} UTC")
                st.text(f"owner: {case['owner'] or '(unassigned)'} · team {case['team']}")
                if case["p_negative"] is not None:
                    st.text(f"negative {case['p_negative']:.0%} ({case['label']})")
            st.text("why here: " + why_listed(case))
            if case["themes"]:
                st.text("themes: " + ", ".join(case["themes"]))
            st.page_link(
                "pages/case.py", label=f"Open {case_label(case)}", query_params={"case": case["case_id"]}
            )


if view == "Table":
    case_table()
else:
    case_cards()
