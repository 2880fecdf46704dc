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
    theme_names,
)
from dashboard.display import case_label, draft_note, escape_markdown, safe_link
from dashboard.i18n import _, current
from dashboard.session import require
from dashboard.words import (
    DRAFT_STATE_WORDS,
    LABEL_WORDS,
    OUTBOX_STATE_WORDS,
    OUTCOME_WORDS,
    SITUATION_WORDS,
    STATUS_WORDS,
    TIER_WORDS,
    VALIDITY_WORDS,
    word,
)
from responders.lifecycle import may_move, starts_from
from responders.lint import Finding, finding_words, split_findings
from sentiment.registry import model_id_for
from voxwatch.domain import case_number_label
from voxwatch.errors import AmbiguousCase, VoxWatchError
from voxwatch.permissions import Action, may

settings = current_settings()
me = require(settings, Action.VIEW_CASE)

tr = current()
theme_words = theme_names(tr.lang)
st.title(_("Case"))
open_now = open_cases(config_path(), model_id_for(settings.model.name))
ids = [c["case_id"] for c in open_now]
chosen = st.query_params.get("case") or (ids[0] if ids else None)
if chosen is None:
    st.info(_("No open cases."))
    st.stop()
try:
    case = case_detail(chosen)
except AmbiguousCase as many:  # the start of an id that fits several cases: offer them
    st.warning(_("{case} fits several cases; pick one:", case=escape_markdown(chosen)))
    for candidate in many.candidates:
        st.text(candidate)
    st.stop()
if case is None:
    st.error(_("No case {case}.", case=escape_markdown(chosen)))  # the id comes from the URL: never Markdown
    st.stop()


NAME = case_label(case)
show_done()


def act(label: str, action: Callable[..., object], *args: object) -> None:
    """Run one CaseService action; show its refusal, or say what was done to which case and refresh."""
    try:
        action(*args)
    except VoxWatchError as exc:
        st.error(escape_markdown(f"{NAME}: {tr.recorded(str(exc))}"))
        return
    forget_reads()
    done(_("{done}: {case}", done=label, case=NAME))
    st.rerun()


def show_findings(findings: list[Finding]) -> None:
    """Lint findings in words: errors to fix before submitting, notes the comms lead will weigh."""
    must_fix, notes = split_findings(findings)
    if must_fix:
        st.warning(_("Fix before submitting: {n} finding(s).", n=len(must_fix)))
    for f in must_fix:
        st.text(_("must fix · {finding}", finding=finding_words(f, tr)))
    if notes:
        st.info(_("Needs the comms lead's approval: {n} note(s).", n=len(notes)))
    for f in notes:
        st.text(_("needs approval · {finding}", finding=finding_words(f, tr)))
    if not findings:
        st.success(_("The linter found nothing to fix."))


def save_and_submit(case_id: str, actor: str, current: dict, body: str) -> None:
    """Unsaved edits are saved (and linted) as a new version before submitting."""
    if body != current["body"]:
        service().draft(case_id, actor, current["situation"], body)
    service().submit(case_id, actor)


left, right = st.columns([3, 2])
with left:
    status, tier = word(STATUS_WORDS, case["status"], tr), word(TIER_WORDS, case["tier"], tr)
    st.subheader(f"{case_number_label(case['number'])} · {status} · {tier}", help=case["id"])
    st.text(case["text"])
    link = safe_link(case["url"])
    if link:
        st.link_button(_("Open the original post"), link)
    st.text(f"{case['source']} · {case['author'] or _('unknown author')} · {case['lang'] or 'und'}")
    st.text(_("Owner: {owner} · team {team}", owner=case["owner"] or _("(unassigned)"), team=case["team"]))
    st.text(_("Accountable (first owner): {owner}", owner=case["first_owner"] or "-"))
    st.text(_("First response due {when}", when=tr.moment(case["first_response_due"])))
    if case["reasons"]:
        reasons = "; ".join(tr.recorded(r, theme_words) for r in case["reasons"])
        st.text(_("Why: {reasons}", reasons=reasons))
    validity = word(VALIDITY_WORDS, case["validity"], tr)
    st.text(
        _("Validity: {validity} ({why})", validity=validity, why=tr.recorded(case["validity_reason"] or "-"))
    )
    if case["label"]:
        probs = _(
            "neg {negative} · neu {neutral} · pos {positive}",
            negative=tr.percent(case["p_negative"]),
            neutral=tr.percent(case["p_neutral"]),
            positive=tr.percent(case["p_positive"]),
        )
        label = word(LABEL_WORDS, case["label"], tr)
        if case["corrected_label"]:
            label = _(
                "{label} (corrected to {corrected})",
                label=label,
                corrected=word(LABEL_WORDS, case["corrected_label"], tr),
            )
        themes = ", ".join(theme_words.get(t, t) for t in case["themes"]) or "-"
        st.text(
            _(
                "Model: {label} · {probabilities} · themes: {themes}",
                label=label,
                probabilities=probs,
                themes=themes,
            )
        )
        fix = st.columns(3)
        for column, label in zip(fix, ("negative", "neutral", "positive"), strict=True):
            said = word(LABEL_WORDS, label, tr)
            if may(me.roles, Action.CORRECT_LABELS) and column.button(
                _("It is {label}", label=said), key=f"label-{label}"
            ):
                act(
                    _("Label corrected to {label}", label=said),
                    label_feedback().correct,
                    case["id"],
                    me.name,
                    label,
                )

with right:
    st.subheader(_("Author"))
    history = author_history(me.name, case["source"], case["author"]) if case["author"] else None
    if history:
        mood = word(LABEL_WORDS, history["latest_mood"], tr)
        st.text(_("{n} mention(s); latest mood: {mood}", n=history["interactions"], mood=mood))
        st.dataframe(
            [
                {
                    _("when"): m["said_at"],
                    _("mood"): word(LABEL_WORDS, m["label"], tr),
                    _("text"): m["excerpt"],
                }
                for m in history["mentions"]
            ],
            hide_index=True,
        )
        for note in history["notes"]:
            st.text((_("[confidential]") + " " if note["confidential"] else "") + note["note"])
    if case["follow_ups"]:  # what the author said after the reply was posted (responders/follow_ups.py)
        st.subheader(_("Customer's next mentions"))
        for said in case["follow_ups"]:
            mood = word(LABEL_WORDS, said["corrected_label"] or said["label"], tr)
            st.text(f"{tr.moment(said['said_at'])} · {mood} · {word(OUTCOME_WORDS, said['outcome'], tr)}")
            st.text(said["text"])

st.subheader(_("Reply"))
claimable = (
    case["status"] in ("new", "assigned")
    and case["owner"] != me.name
    and may(me.roles, Action.ASSIGN)
    and may(me.roles, Action.OWN_CASES)
    and may_move(me, case["team"], case["owner"], me.team)  # another team's case: supervisors only
)
if claimable and st.button(_("Claim this case")):
    act(_("Claimed"), service().claim, case["id"], me.name, case["owner"])

draft = case["draft"]
drafts_here = may(me.roles, Action.DRAFT) and case["owner"] == me.name  # only the owner drafts
not_now = case["status"] not in starts_from("draft")
if drafts_here and not_now:
    allowed = ", ".join(word(STATUS_WORDS, status, tr) for status in starts_from("draft"))
    why = _(
        "Starting a reply from a template: not while the case is {status}; only when it is {allowed}.",
        status=word(STATUS_WORDS, case["status"], tr),
        allowed=allowed,
    )
    st.caption(escape_markdown(why))
elif drafts_here:
    situation = st.selectbox(
        _("Situation"), list(SITUATION_WORDS), format_func=lambda s: word(SITUATION_WORDS, s, tr)
    )
    if st.button(_("Start from template")):
        act(_("Draft started from the template"), service().draft, case["id"], me.name, situation)
elif may(me.roles, Action.DRAFT) and case["owner"] != me.name:
    owner = case["owner"] or _("nobody yet")
    st.caption(escape_markdown(_("Only the case's owner ({owner}) writes its reply.", owner=owner)))

EDITABLE = ("draft", "rejected")  # approved, pending and sent text is read-only: edits make a new version

if draft:
    st.text(
        _(
            "Draft v{version} ({state}), from {template}, by {author}",
            version=draft["version"],
            state=word(DRAFT_STATE_WORDS, draft["state"], tr),
            template=draft["template_key"],
            author=draft["author"],
        )
    )
    if draft["state"] in EDITABLE:
        body = st.text_area(_("Draft"), value=draft["body"], height=180, key=f"body-{draft['id']}")
    else:
        body = draft["body"]
        st.text(body)
    show_findings(lint_findings(body, draft["situation"], draft["lang"]))
    col1, col2, col3 = st.columns(3)
    if draft["state"] in EDITABLE and drafts_here:
        with col1:
            if st.button(_("Save edits")):
                if body == draft["body"]:
                    st.info(_("Nothing to save on {case}: the draft is unchanged.", case=NAME))
                else:
                    act(
                        _("Saved as a new version"),
                        service().draft,
                        case["id"],
                        me.name,
                        draft["situation"],
                        body,
                    )
        with col2:
            if may(me.roles, Action.SUBMIT) and st.button(_("Submit for approval")):
                act(_("Submitted for approval"), save_and_submit, case["id"], me.name, draft, body)
    elif draft["state"] == "approved" and drafts_here:
        with col1:
            if st.button(_("Edit (a new version, approved again)")):
                act(_("New version to edit"), service().draft, case["id"], me.name, draft["situation"], body)
    with col3:
        sendable = draft["state"] == "approved" and may(me.roles, Action.SEND)
        if sendable and st.button(_("Send v{version} as approved", version=draft["version"])):
            act(
                _("Reply v{version} sent", version=draft["version"]),
                service().send,
                case["id"],
                me.name,
                draft["version"],
            )
    note = draft_note(draft["state"], case["owner"], drafts_here, may(me.roles, Action.SEND), tr)
    if note:
        st.caption(escape_markdown(note))
    if draft.get("decision_comment"):
        st.text(_("Comms lead's comment: {comment}", comment=draft["decision_comment"]))

for entry in [e for e in case["outbox"] if e["kind"] == "reply"]:
    where = safe_link(entry["external_url"])
    state = word(OUTBOX_STATE_WORDS, entry["state"], tr)
    st.text(
        _(
            "Reply v{version} via {channel}: {state}",
            version=entry["draft_version"],
            channel=entry["channel"],
            state=state,
        )
    )
    if where:
        st.link_button(_("Open the posted reply"), where)
    if entry["last_error"] and entry["state"] != "sent":
        st.text(_("Last error: {error}", error=entry["last_error"]))
    if entry["state"] in ("awaiting_link", "unknown") and may(me.roles, Action.SEND):
        posted = st.text_input(_("Link to the reply as posted"), key=f"link-{entry['key']}")
        if st.button(_("Record the link"), key=f"record-{entry['key']}"):
            if posted:
                act(_("Link recorded"), service().record_reply_link, case["id"], me.name, posted)
            else:
                st.warning(_("Paste the link to the posted reply first."))
    resendable = entry["state"] == "unknown" and may(me.roles, Action.SEND)
    if resendable and st.button(_("It is not there: send again"), key=f"again-{entry['key']}"):
        act(_("Sent again"), service().resend, case["id"], me.name)

if case["status"] in ("sent", "follow_up"):
    if may(me.roles, Action.FOLLOW_UP):
        note = st.text_input(_("Follow-up note"))
        if st.button(_("Record follow-up")):
            if note:
                act(_("Follow-up recorded"), service().follow_up, case["id"], me.name, note)
            else:
                st.warning(_("Write what the follow-up was first."))
    if may(me.roles, Action.CLOSE):
        waive = st.text_input(_("Reason to close without a follow-up (optional)"))
        if st.button(_("Close case")):
            act(_("Closed"), service().close, case["id"], me.name, waive or None)

with st.expander(_("Audit trail")):
    st.dataframe(
        [
            {
                _("when"): a["occurred_at"],
                _("who"): a["actor"],
                _("what"): a["action"],
                _("after"): a["after"],
            }
            for a in case["audit"]
        ],
        hide_index=True,
    )
