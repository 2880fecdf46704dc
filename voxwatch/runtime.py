"""Process-wide environment that must be set before Prefect or transformers load.

Called by the command line (and by the tests) rather than at import time.
"""

from __future__ import annotations

import os

OFFLINE_DEFAULTS = {
    # Prefect: no anonymous telemetry, no server-side analytics.
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The temporary local server can take a while to start on a busy two-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # Hugging Face: never phone home; the default model is local files.
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # Streamlit: no usage statistics.
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}


def prepare_environment() -> None:
    """Set offline-friendly defaults; values the user already exported win."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
