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
    theme_names,
)
from dashboard.display import QUEUE_COLUMNS, case_label, countdown, escape_markdown, queue_rows, why_listed
from dashboard.i18n import _, current
from dashboard.session import require
from dashboard.words import LABEL_WORDS, STATUS_WORDS, TIER_WORDS, word
from responders.inbox import filter_cases, is_breached, next_due, queue_order, status_counts
from responders.lifecycle import may_move
from sentiment.registry import model_id_for
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action, may
from voxwatch.settings import CONFIG_ENV

tr = current()
theme_words = theme_names(tr.lang)
st.title(_("Inbox: routed cases"))
st.caption(
    _(
        "Complaints, questions and anything a routing rule sent to the team, each with why it is here. "
        "Unanswered cases first, by first-response due time; answered ones count down to resolution."
    )
)

settings = current_settings()
me = require(settings, Action.VIEW_INBOX)
show_done()
try:
    cases = open_cases(os.environ.get(CONFIG_ENV, "voxwatch.toml"), model_id_for(settings.model.name))
except VoxWatchError as exc:
    st.error(str(exc))
    st.stop()


def shown(value: str) -> str:
    """A filter option as people read it: statuses, tiers and themes in words, the rest as stored."""
    if value == "(none)":
        return _("(none)")
    return theme_words.get(value) or word(STATUS_WORDS | TIER_WORDS, value, tr)


def options(field: str) -> list[str]:
    values = {v for c in cases for v in (c[field] or [] if field == "themes" else [c[field] or "(none)"])}
    return sorted(values)


with st.expander(_("Filters and team load"), expanded=False):
    cols = st.columns(6)
    chosen = {
        field: cols[i].multiselect(label, options(field), format_func=shown)
        for i, (field, label) in enumerate(
            [
                ("source", _("Source")),
                ("themes", _("Theme")),
                ("lang", _("Language")),
                ("tier", _("Tier")),
                ("owner", _("Owner")),
                ("status", _("Status")),
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
count_cols[0].metric(_("Open cases"), len(cases))
for col, (status, n) in zip(count_cols[1:], counts.items(), strict=True):
    col.metric(word(STATUS_WORDS, status, tr), n)
VIEWS = {"Cards": _("Cards"), "Table": _("Table")}
view = (
    st.segmented_control(
        _("View"), list(VIEWS), format_func=VIEWS.__getitem__, default="Cards", key="inbox-view"
    )
    or "Cards"
)
if not cases:
    st.info(_("No open cases. New negative mentions appear here after the pipeline routes them."))


def assign_picked(picked: list[str], to: str, names: dict[str, str]) -> None:
    """Assign each picked case; name the ones moved, and each refusal with its case."""
    if not picked:
        st.warning(_("Pick the cases to assign first."))
        return
    moved, problems = [], []
    for case_id in picked:
        try:
            service().assign(case_id, me.name, to)
            moved.append(names[case_id])
        except VoxWatchError as exc:
            problems.append(escape_markdown(f"{names[case_id]}: {tr.recorded(str(exc))}"))
    forget_reads()
    if moved:
        done(_("Assigned to {person}: {cases}", person=to, cases=", ".join(moved)))
    for problem in problems:
        st.error(problem)
    if not problems:
        st.rerun()
    show_done()


if cases and may(me.roles, Action.ASSIGN):
    with st.expander(_("Assign several cases at once")):
        # Only what the team rule lets this person move: their own team's cases, to their own team,
        # unless they may claim other teams' cases (responders.lifecycle.may_move, checked again on save).
        mine = [c["case_id"] for c in cases if may_move(me, c["team"], c["owner"], c["team"])]
        owners = settings.people_who_may(Action.OWN_CASES)
        claims = may(me.roles, Action.CLAIM_OTHER_TEAMS_CASE)
        names = {c["case_id"]: case_label(c) for c in cases}
        picked = st.multiselect(_("Cases"), mine, format_func=lambda case_id: names[case_id])
        to = st.selectbox(_("Assign to"), [p.name for p in owners if claims or p.team == me.team])
        if st.button(_("Assign selected")):
            assign_picked(picked, to, names)


@st.fragment(run_every=60)
def case_table() -> None:
    """One row per case; click a header to sort (the due column sorts by the due time)."""
    columns = {key: st.column_config.TextColumn(_(title)) for key, title in QUEUE_COLUMNS.items()}
    columns["due"] = st.column_config.TextColumn(_("due"), help=_("What the case waits for next, and when"))
    columns["due at"] = st.column_config.DatetimeColumn(_("due at (UTC)"), format="YYYY-MM-DD HH:mm")
    st.dataframe(queue_rows(cases, tr=tr), hide_index=True, column_config=columns)
    if cases:
        names = {c["case_id"]: case_label(c) for c in cases}
        chosen = st.selectbox(_("Open a case"), list(names), format_func=lambda case_id: names[case_id])
        st.page_link(
            "pages/case.py", label=_("Open {case}", case=names[chosen]), query_params={"case": chosen}
        )


@st.fragment(run_every=60)
def case_cards() -> None:
    """The list re-draws every minute, so the countdowns stay true without a reload."""
    for case in cases:
        with st.container(border=True):
            left, right = st.columns([3, 1])
            with left:
                st.text(case["text"])
                author = case["author"] or _("unknown author")
                st.text(f"{case['source']} · {author} · {case['lang'] or 'und'}")
            with right:
                if is_breached(case):  # our own fixed words, so Markdown colour is safe here
                    st.markdown(":red[**" + escape_markdown(_("SLA breached")) + "**]")
                st.text(f"{case_label(case)} · {word(STATUS_WORDS, case['status'], tr)}")
                st.text(f"{word(TIER_WORDS, case['tier'], tr).upper()} · {countdown(case, tr=tr)}")
                st.text(_("SLA due {when}", when=tr.moment(next_due(case)[1])))
                owner = case["owner"] or _("(unassigned)")
                st.text(_("owner: {owner} · team {team}", owner=owner, team=case["team"]))
                if case["p_negative"] is not None:
                    label = word(LABEL_WORDS, case["label"], tr)
                    st.text(
                        _("negative {share} ({label})", share=tr.percent(case["p_negative"]), label=label)
                    )
            st.text(_("why here: {why}", why=why_listed(case, tr, theme_words)))
            if case["themes"]:
                st.text(
                    _("themes: {themes}", themes=", ".join(theme_words.get(t, t) for t in case["themes"]))
                )
            st.page_link(
                "pages/case.py",
                label=_("Open {case}", case=case_label(case)),
                query_params={"case": case["case_id"]},
            )


if view == "Table":
    case_table()
else:
    case_cards()
