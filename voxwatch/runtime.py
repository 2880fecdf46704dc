"""Process-wide set-up for the command line: environment, logs, the Prefect server's lifetime, crash points.

Called by the command line (and by the tests) rather than at import time:

- ``prepare_environment``: offline-friendly defaults that must be set before
  Prefect or transformers load;
- ``route_tracebacks``: a person reads one line per problem on stderr, while
  the whole traceback goes to the log file (``VOXWATCH_LOG_FILE``, default
  ``~/.local/state/voxwatch/voxwatch.log``);
- ``start_prefect_server``: Prefect's temporary API server runs as a child
  process, and a ``kill -9`` of ours would leave it running; a small watchdog
  process stops it as soon as we are gone;
- ``crash_point``: named places where a test can kill the process
  (``VOXWATCH_CRASH_AT=name`` or ``name:N`` for the N-th time it is reached), to
  prove that a crash at any boundary loses nothing and doubles nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

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

LOG_FILE_ENV = "VOXWATCH_LOG_FILE"
CRASH_ENV = "VOXWATCH_CRASH_AT"
_reached: dict[str, int] = {}


def prepare_environment() -> None:
    """Set offline-friendly defaults; values the user already exported win."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)


def log_file() -> Path:
    """Where full tracebacks go: ``$VOXWATCH_LOG_FILE``, else the user's state folder."""
    configured = os.environ.get(LOG_FILE_ENV)
    if configured:
        return Path(configured)
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "voxwatch" / "voxwatch.log"


class OneLineFormatter(logging.Formatter):
    """The message without its traceback, pointing at the log file that has it."""

    def __init__(self, fmt: str | None, where: Path) -> None:
        super().__init__(fmt)
        self.where = where

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            line = super().format(record).splitlines()[0] if record.getMessage() else ""
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        if saved[0] is not None:
            line += f" (details in {self.where})"
        return line


def route_tracebacks(where: Path | None = None) -> Path:
    """Console handlers print one line per record; a file handler keeps everything, tracebacks too."""
    where = where or log_file()
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        file_handler: logging.Handler = logging.FileHandler(where, encoding="utf-8")
    except OSError:  # an unwritable log folder must not stop the run: keep one-line stderr only
        file_handler = logging.NullHandler()
    file_handler.setLevel(logging.INFO)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("", "prefect"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            shown_to_a_person = not isinstance(handler, logging.FileHandler | logging.NullHandler)
            if shown_to_a_person and type(handler).__name__ != "APILogHandler":
                fmt = handler.formatter._fmt if handler.formatter else None
                handler.setFormatter(OneLineFormatter(fmt, where))
        if not any(isinstance(h, type(file_handler)) for h in logger.handlers):
            logger.addHandler(file_handler)
    return where


WATCHDOG = """
import os, signal, sys, time
parent, child = int(sys.argv[1]), int(sys.argv[2])
def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
while alive(child):
    if os.getppid() != parent:  # re-parented: the process that started the server is gone
        os.kill(child, signal.SIGTERM)
        for _ in range(50):
            if not alive(child):
                break
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
        break
    time.sleep(0.5)
"""


def start_prefect_server() -> None:
    """Start Prefect's temporary server now (when no server is configured) with a watchdog on it.

    Prefect would start the same server on the first flow run; starting it here
    lets a watchdog process stop it if this process dies without cleaning up.
    """
    if os.environ.get("PREFECT_API_URL"):
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    if server.server_process is not None:
        subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(os.getpid()), str(server.server_process.pid)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def process_identity() -> str:
    """``host:pid`` of this process, recorded on work it claims (see ``claim_is_abandoned``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_is_abandoned(claimed_by: str | None) -> bool:
    """True when ``claimed_by`` names a process on this machine that no longer runs.

    Work claimed by a process that was killed can be taken over at once instead of
    waiting for its lease to run out; a claim from another machine is never judged.
    """
    host, _, pid = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    """A killed child its parent has not reaped yet still answers kill(0): read its state."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def crash_point(name: str) -> None:
    """Kill this process here (SIGKILL: no clean-up) when ``VOXWATCH_CRASH_AT`` names this point.

    ``name`` alone crashes the first time the point is reached, ``name:N`` the
    N-th time. Used only by tests; costs one environment lookup otherwise.
    """
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
