"""Every action says what it did: a message kept across the rerun that follows a change.

``st.toast`` alone is lost when the page reruns straight after the action, so the
message waits in the session and ``show_done`` shows it (toast and a success line) on
the next run.
"""

from __future__ import annotations

import streamlit as st

DONE_KEY = "voxwatch-done"


def done(message: str) -> None:
    """Remember what was done, to be shown after the rerun."""
    st.session_state[DONE_KEY] = message


def show_done() -> None:
    """Show (once) what the last action did. Messages are our own words and case labels."""
    message = st.session_state.pop(DONE_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")
        st.success(message)
