"""``voxwatch`` run as a separate process, exactly as a user types it.

Most command-line tests run in-process with Typer's ``CliRunner`` (fast, same exit
codes thanks to ``VoxWatchGroup``); the few that must see the installed entry point,
Prefect's own process handling or the real model's start-up use this helper.
"""

from __future__ import annotations

import os
import subprocess
import sys


def voxwatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m voxwatch ARGS`` with a wide terminal; its exit status, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "voxwatch", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"COLUMNS": "200"},
    )
