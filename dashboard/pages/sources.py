"""Sources: each source's health, and a button to collect now."""

import subprocess
import sys

import streamlit as st

from dashboard.data import config_path, current_settings, forget_reads, source_health
from dashboard.session import require
from voxwatch.permissions import Action

settings = current_settings()
require(settings, Action.VIEW_SOURCES)

st.title("Sources")
st.dataframe(
    [
        {
            "source": s["name"],
            "kind": s["kind"],
            "status": s["status"] or "never run",
            "last success": s["last_ok_at"],
            "last run": s["last_run_at"],
            "new last run": s["items_last_run"],
            "mentions": s["mentions"],
            "last error": s["last_error"],
            "replies posted": s["replies_posted"],
            "replies failing": s["replies_failing"],
            "last publish error": s["last_publish_error"],
        }
        for s in source_health()
    ],
    hide_index=True,
)
if st.button("Collect now"):
    with st.spinner("Collecting..."):
        result = subprocess.run(
            [sys.executable, "-m", "voxwatch", "collect", "--config", config_path()],
            capture_output=True,
            text=True,
            timeout=600,
        )
    forget_reads()
    st.text(result.stdout or result.stderr[-2000:])
