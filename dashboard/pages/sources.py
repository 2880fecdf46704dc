"""Sources: each source's health, and a button to collect now."""

import subprocess
import sys

import streamlit as st

from dashboard.data import config_path, current_settings, forget_reads, source_health
from dashboard.i18n import _, current
from dashboard.session import require
from dashboard.words import SOURCE_STATUS_WORDS, word
from voxwatch.permissions import Action

settings = current_settings()
require(settings, Action.VIEW_SOURCES)

tr = current()
st.title(_("Sources"))
st.dataframe(
    [
        {
            _("source"): s["name"],
            _("kind"): s["kind"],
            _("status"): word(SOURCE_STATUS_WORDS, s["status"], tr) if s["status"] else _("never run"),
            _("last success"): s["last_ok_at"],
            _("last run"): s["last_run_at"],
            _("new last run"): s["items_last_run"],
            _("mentions"): s["mentions"],
            _("last error"): s["last_error"],
            _("replies posted"): s["replies_posted"],
            _("replies failing"): s["replies_failing"],
            _("last publish error"): s["last_publish_error"],
        }
        for s in source_health()
    ],
    hide_index=True,
)
if st.button(_("Collect now")):
    with st.spinner(_("Collecting...")):
        result = subprocess.run(
            [sys.executable, "-m", "voxwatch", "collect", "--config", config_path()],
            capture_output=True,
            text=True,
            timeout=600,
        )
    forget_reads()
    st.text(result.stdout or result.stderr[-2000:])
