"""Case view: the mention, why it is here, who the author is, and the reply being written.

Everything from the internet is shown with ``st.text`` or in tables, never as
Markdown or HTML. A button is shown only to people whose roles allow its action
(``voxwatch.permissions``, and the team rule in ``responders.lifecycle``), and
calls ``CaseService``, which checks the role and the case's state again; its
refusals are shown as they are.
"""

from collections.abc import Callable

import streamlit as st

from dashboard.confirm import done, show_done
from dashboard.data import (
    author_history,
    case_detail,
    config_path,
    current_settings,
    forget_reads,
    label_feedback,
    lint_findings,
    open_cases,
    service,
)
from dashboard.display import case_label, draft_note, escape_markdown, safe_link
from dashboard.session import require
from responders.lifecycle import may_move, waiting_for
from responders.lint import Finding, finding_words, split_findings
from sentiment.registry import model_id_for
from voxwatch.domain import case_number_label
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action, may

settings = current_settings()
me = require(settings, Action.VIEW_CASE)

st.title("Case")
open_now = open_cases(config_path(), model_id_for(settings.model.name))
ids = [c["case_id"] for c in open_now]
chosen = st.query_params.get("case") or (ids[0] if ids else None)
if chosen is None:
    st.info("No open cases.")
    st.stop()
case = case_detail(chosen)
if case is None:
    st.error(f"No case {escape_markdown(chosen)}.")  # the id comes from the URL: never Markdown
    st.stop()


NAME = case_label(case)
show_done()


def act(label: str, action: Callable[..., object], *args: object) -> None:
    """Run one CaseService action; show its refusal, or say what was done to which case and refresh."""
    try:
        action(*args)
    except VoxWatchError as exc:
        st.error(escape_markdown(f"{NAME}: {exc}"))
        return
    forget_reads()
    done(f"{label}: {NAME}")
    st.rerun()


def show_findings(findings: list[Finding]) -> None:
    """Lint findings in words: errors to fix before submitting, notes the comms lead will weigh."""
    must_fix, notes = split_findings(findings)
    if must_fix:
        st.warning(f"Fix before submitting: {len(must_fix)} finding(s).")
    for f in must_fix:
        st.text(f"must fix · {finding_words(f)}")
    if notes:
        st.info(f"Needs the comms lead's approval: {len(notes)} note(s).")
    for f in notes:
        st.text(f"needs approval · {finding_words(f)}")
    if not findings:
        st.success("The linter found nothing to fix.")


def save_and_submit(case_id: str, actor: str, current: dict, body: str) -> None:
    """Unsaved edits are saved (and linted) as a new version before submitting."""
    if body != current["body"]:
        service().draft(case_id, actor, current["situation"], body)
    service().submit(case_id, actor)


left, right = st.columns([3, 2])
with left:
    st.subheader(f"{case_number_label(case['number'])} · {case['status']} · {case['tier']}", help=case["id"])
    st.text(case["text"])
    link = safe_link(case["url"])
    if link:
        st.link_button("Open the original post", link)
    st.text(f"{case['source']} · {case['author'] or 'unknown author'} · {case['lang'] or 'und'}")
    st.text(f"Owner: {case['owner'] or '(unassigned)'} · team {case['team']}")
    st.text(f"Accountable (first owner): {case['first_owner'] or '-'}")
    st.text(f"First response due {case['first_response_due']:%Y-%m-%d %H:%M} UTC")
    if case["reasons"]:
        st.text("Why: " + "; ".join(case["reasons"]))
    st.text(f"Validity: {case['validity']} ({case['validity_reason']})")
    if case["label"]:
        probs = f"neg {case['p_negative']:.0%} · neu {case['p_neutral']:.0%} · pos {case['p_positive']:.0%}"
        corrected = f" (corrected to {case['corrected_label']})" if case["corrected_label"] else ""
        st.text(f"Model: {case['label']}{corrected} · {probs} · themes: {', '.join(case['themes']) or '-'}")
        fix = st.columns(3)
        for column, label in zip(fix, ("negative", "neutral", "positive"), strict=True):
            if may(me.roles, Action.CORRECT_LABELS) and column.button(f"It is {label}", key=f"label-{label}"):
                act(f"Label corrected to {label}", label_feedback().correct, case["id"], me.name, label)

with right:
    st.subheader("Author")
    history = author_history(me.name, case["source"], case["author"]) if case["author"] else None
    if history:
        st.text(f"{history['interactions']} mention(s); latest mood: {history['latest_mood']}")
        st.dataframe(
            [{"when": m["said_at"], "mood": m["label"], "text": m["excerpt"]} for m in history["mentions"]],
            hide_index=True,
        )
        for note in history["notes"]:
            st.text(("[confidential] " if note["confidential"] else "") + note["note"])
    if case["follow_ups"]:  # what the author said after the reply was posted (responders/follow_ups.py)
        st.subheader("Customer's next mentions")
        for said in case["follow_ups"]:
            mood = said["corrected_label"] or said["label"]
            st.text(f"{said['said_at']:%Y-%m-%d %H:%M} UTC · {mood} · {said['outcome']}")
            st.text(said["text"])

st.subheader("Reply")
claimable = (
    case["status"] in ("new", "assigned")
    and case["owner"] != me.name
    and may(me.roles, Action.ASSIGN)
    and may(me.roles, Action.OWN_CASES)
    and may_move(me, case["team"], case["owner"], me.team)  # another team's case: supervisors only
)
if claimable and st.button("Claim this case"):
    act("Claimed", service().assign, case["id"], me.name, me.name)

draft = case["draft"]
drafts_here = may(me.roles, Action.DRAFT) and case["owner"] == me.name  # only the owner drafts
not_now = waiting_for("draft", case["status"])
if drafts_here and not_now:
    st.caption(f"Starting a reply from a template: {not_now}")
elif drafts_here:
    situation = st.selectbox(
        "Situation",
        ["first_response", "apology_recovery", "need_more_info", "resolved", "follow_up", "closing"],
    )
    if st.button("Start from template"):
        act("Draft started from the template", service().draft, case["id"], me.name, situation)
elif may(me.roles, Action.DRAFT) and case["owner"] != me.name:
    st.caption(f"Only the case's owner ({case['owner'] or 'nobody yet'}) writes its reply.")

EDITABLE = ("draft", "rejected")  # approved, pending and sent text is read-only: edits make a new version

if draft:
    st.text(
        f"Draft v{draft['version']} ({draft['state']}), from {draft['template_key']}, by {draft['author']}"
    )
    if draft["state"] in EDITABLE:
        body = st.text_area("Draft", value=draft["body"], height=180, key=f"body-{draft['id']}")
    else:
        body = draft["body"]
        st.text(body)
    show_findings(lint_findings(body, draft["situation"], draft["lang"]))
    col1, col2, col3 = st.columns(3)
    if draft["state"] in EDITABLE and drafts_here:
        with col1:
            if st.button("Save edits"):
                if body == draft["body"]:
                    st.info(f"Nothing to save on {NAME}: the draft is unchanged.")
                else:
                    act(
                        "Saved as a new version",
                        service().draft,
                        case["id"],
                        me.name,
                        draft["situation"],
                        body,
                    )
        with col2:
            if may(me.roles, Action.SUBMIT) and st.button("Submit for approval"):
                act("Submitted for approval", save_and_submit, case["id"], me.name, draft, body)
    elif draft["state"] == "approved" and drafts_here:
        with col1:
            if st.button("Edit (a new version, approved again)"):
                act("New version to edit", service().draft, case["id"], me.name, draft["situation"], body)
    with col3:
        sendable = draft["state"] == "approved" and may(me.roles, Action.SEND)
        if sendable and st.button(f"Send v{draft['version']} as approved"):
            act(f"Reply v{draft['version']} sent", service().send, case["id"], me.name, draft["version"])
    note = draft_note(draft["state"], case["owner"], drafts_here, may(me.roles, Action.SEND))
    if note:
        st.caption(note)
    if draft.get("decision_comment"):
        st.text(f"Comms lead's comment: {draft['decision_comment']}")

for entry in [e for e in case["outbox"] if e["kind"] == "reply"]:
    where = safe_link(entry["external_url"])
    st.text(f"Reply v{entry['draft_version']} via {entry['channel']}: {entry['state']}")
    if where:
        st.link_button("Open the posted reply", where)
    if entry["last_error"] and entry["state"] != "sent":
        st.text(f"Last error: {entry['last_error']}")
    if entry["state"] in ("awaiting_link", "unknown") and may(me.roles, Action.SEND):
        posted = st.text_input("Link to the reply as posted", key=f"link-{entry['key']}")
        if st.button("Record the link", key=f"record-{entry['key']}"):
            if posted:
                act("Link recorded", service().record_reply_link, case["id"], me.name, posted)
            else:
                st.warning("Paste the link to the posted reply first.")
    resendable = entry["state"] == "unknown" and may(me.roles, Action.SEND)
    if resendable and st.button("It is not there: send again", key=f"again-{entry['key']}"):
        act("Sent again", service().resend, case["id"], me.name)

if case["status"] in ("sent", "follow_up"):
    if may(me.roles, Action.FOLLOW_UP):
        note = st.text_input("Follow-up note")
        if st.button("Record follow-up"):
            if note:
                act("Follow-up recorded", service().follow_up, case["id"], me.name, note)
            else:
                st.warning("Write what the follow-up was first.")
    if may(me.roles, Action.CLOSE):
        waive = st.text_input("Reason to close without a follow-up (optional)")
        if st.button("Close case"):
            act("Closed", service().close, case["id"], me.name, waive or None)

with st.expander("Audit trail"):
    st.dataframe(
        [
            {"when": a["occurred_at"], "who": a["actor"], "what": a["action"], "after": a["after"]}
            for a in case["audit"]
        ],
        hide_index=True,
    )
