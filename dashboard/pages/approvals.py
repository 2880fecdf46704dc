"""Approvals: drafts waiting for a comms lead, the mention beside each, approve or send back.

Approving one's own draft is refused by ``CaseService`` whatever this page shows; the
refusal names the case. Everything from the internet (mention, author, source) is
shown with ``st.text``, never as Markdown.
"""

import streamlit as st

from dashboard.confirm import done, show_done
from dashboard.data import current_settings, forget_reads, pending_approvals, service
from dashboard.display import case_label, escape_markdown
from dashboard.i18n import _, current
from dashboard.session import require
from dashboard.words import TIER_WORDS, word
from responders.lint import Finding, finding_words, split_findings
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action

settings = current_settings()
me = require(settings, Action.VIEW_APPROVALS)

tr = current()
st.title(_("Approvals"))
show_done()
waiting = pending_approvals()
st.metric(_("Drafts waiting"), len(waiting))
if not waiting:
    st.info(_("Nothing waiting for approval."))


def decide(verb: str, draft: dict, comment: str) -> None:
    """Approve or send back one draft; say which case it was, or why it was refused."""
    name = case_label(draft)
    try:
        if verb == "approve":
            service().approve(draft["case_id"], me.name, comment, version=draft["version"])
        else:
            service().reject(draft["case_id"], me.name, comment, version=draft["version"])
    except VoxWatchError as exc:
        st.error(escape_markdown(f"{name}: {tr.recorded(str(exc))}"))
        return
    forget_reads()
    if verb == "approve":
        done(_("Approved v{version}: {case}", version=draft["version"], case=name))
    else:
        done(_("Sent back to the author: {case}", case=name))
    st.rerun()


for draft in waiting:
    with st.container(border=True):
        st.subheader(f"{case_label(draft)} · v{draft['version']} · {word(TIER_WORDS, draft['tier'], tr)}")
        mention, reply = st.columns(2)
        with mention:
            author = draft["author"] or _("unknown author")
            st.text(_("The mention ({source} · {author})", source=draft["source"], author=author))
            st.text(draft["mention"])
        with reply:
            st.text(
                _(
                    "The reply, by {person}, from {template}",
                    person=draft["drafted_by"],
                    template=draft["template_key"],
                )
            )
            st.text(draft["body"])
            must_fix, notes = split_findings(Finding(**f) for f in draft["findings"])
            for finding in must_fix:
                st.text(_("must fix · {finding}", finding=finding_words(finding, tr)))
            for finding in notes:
                st.text(_("needs your approval · {finding}", finding=finding_words(finding, tr)))
        comment = st.text_input(_("Comment"), key=f"comment-{draft['draft_id']}")
        approve, send_back = st.columns(2)
        if approve.button(_("Approve"), key=f"approve-{draft['draft_id']}"):
            decide("approve", draft, comment)
        if send_back.button(_("Send back"), key=f"reject-{draft['draft_id']}"):
            decide("reject", draft, comment)
