"""Approvals: drafts waiting for a comms lead, the mention beside each, approve or send back.

Approving one's own draft is refused by ``CaseService`` whatever this page shows; the
refusal names the case. Everything from the internet (mention, author, source) is
shown with ``st.text``, never as Markdown.
"""

import streamlit as st

from dashboard.confirm import done, show_done
from dashboard.data import current_settings, forget_reads, pending_approvals, service
from dashboard.display import case_label, escape_markdown
from dashboard.session import require
from responders.lint import Finding, finding_words, split_findings
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action

settings = current_settings()
me = require(settings, Action.VIEW_APPROVALS)

st.title("Approvals")
show_done()
waiting = pending_approvals()
st.metric("Drafts waiting", len(waiting))
if not waiting:
    st.info("Nothing waiting for approval.")


def decide(verb: str, draft: dict, comment: str) -> None:
    """Approve or send back one draft; say which case it was, or why it was refused."""
    name = case_label(draft)
    try:
        if verb == "approve":
            service().approve(draft["case_id"], me.name, comment)
        else:
            service().reject(draft["case_id"], me.name, comment)
    except VoxWatchError as exc:
        st.error(escape_markdown(f"{name}: {exc}"))
        return
    forget_reads()
    done(f"Approved v{draft['version']}: {name}" if verb == "approve" else f"Sent back to the author: {name}")
    st.rerun()


for draft in waiting:
    with st.container(border=True):
        st.subheader(f"{case_label(draft)} · v{draft['version']} · {draft['tier']}")
        mention, reply = st.columns(2)
        with mention:
            st.text(f"The mention ({draft['source']} · {draft['author'] or 'unknown'})")
            st.text(draft["mention"])
        with reply:
            st.text(f"The reply, by {draft['drafted_by']}, from {draft['template_key']}")
            st.text(draft["body"])
            must_fix, notes = split_findings(Finding(**f) for f in draft["findings"])
            for finding in must_fix:
                st.text(f"must fix · {finding_words(finding)}")
            for finding in notes:
                st.text(f"needs your approval · {finding_words(finding)}")
        comment = st.text_input("Comment", key=f"comment-{draft['draft_id']}")
        approve, send_back = st.columns(2)
        if approve.button("Approve", key=f"approve-{draft['draft_id']}"):
            decide("approve", draft, comment)
        if send_back.button("Send back", key=f"reject-{draft['draft_id']}"):
            decide("reject", draft, comment)
