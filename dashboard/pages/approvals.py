"""Approvals: drafts waiting for a comms lead, the mention beside each, approve or send back.

Approving one's own draft is refused by ``CaseService`` whatever this page shows.
"""

import streamlit as st

from dashboard.data import current_settings, forget_reads, pending_approvals, service
from dashboard.session import require
from voxwatch.errors import VoxWatchError
from voxwatch.permissions import Action

settings = current_settings()
me = require(settings, Action.VIEW_APPROVALS)

st.title("Approvals")
waiting = pending_approvals()
st.metric("Drafts waiting", len(waiting))
if not waiting:
    st.info("Nothing waiting for approval.")

for draft in waiting:
    with st.container(border=True):
        st.subheader(f"{draft['case_id']} · v{draft['version']} · {draft['tier']}")
        mention, reply = st.columns(2)
        with mention:
            st.caption(f"The mention ({draft['source']} · {draft['author'] or 'unknown'})")
            st.text(draft["mention"])
        with reply:
            st.caption(f"The reply, by {draft['drafted_by']}, from {draft['template_key']}")
            st.text(draft["body"])
            for finding in draft["findings"]:
                st.text(f"lint: {finding['rule']} '{finding['excerpt']}' ({finding['severity']})")
        comment = st.text_input("Comment", key=f"comment-{draft['draft_id']}")
        approve, send_back = st.columns(2)
        try:
            if approve.button("Approve", key=f"approve-{draft['draft_id']}"):
                service().approve(draft["case_id"], me.name, comment)
                forget_reads()
                st.rerun()
            if send_back.button("Send back", key=f"reject-{draft['draft_id']}"):
                service().reject(draft["case_id"], me.name, comment)
                forget_reads()
                st.rerun()
        except VoxWatchError as exc:
            st.error(str(exc))
