"""How the pages show things: countdowns in words, links only when they are safe to click,
internet text made inert, the inbox as table rows, where each role lands.

Pure functions, no Streamlit: tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from dashboard.words import (
    DUE_WORDS,
    STATUS_WORDS,
    TIER_WORDS,
    VALIDITY_WORDS,
    word,
)
from responders.inbox import next_due, queue_order
from voxwatch.i18n import ENGLISH_WORDS as ENGLISH
from voxwatch.i18n import N_, Translator


def safe_link(url: str | None) -> str | None:
    """A source link only if it is plain http(s); anything else is not made clickable."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def due_in(due: datetime, now: datetime | None = None, tr: Translator = ENGLISH) -> str:
    """'due in 1 h 20 min' or 'overdue by 3 h 5 min': what a responder reads first."""
    now = now or datetime.now(UTC)
    minutes = int((due - now).total_seconds() // 60)
    hours, mins = divmod(abs(minutes), 60)
    span = (
        tr("{hours} h {minutes} min", hours=hours, minutes=mins)
        if hours
        else tr("{minutes} min", minutes=mins)
    )
    return tr("due in {span}", span=span) if minutes >= 0 else tr("overdue by {span}", span=span)


# Characters that make Markdown (or Streamlit's own directives, HTML and LaTeX) out of text.
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+!|~$")


def escape_markdown(text: object) -> str:
    """Text from the internet or the URL made inert for a Markdown element (``st.error``, a caption).

    Every character that could start a link, an image, HTML, emphasis, a colour or icon directive
    or LaTeX is backslash-escaped, and line breaks become spaces (no headings or lists).
    Prefer ``st.text``; this is for the few elements that only take Markdown.
    """
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in MARKDOWN_SPECIALS else ch for ch in flat)


def case_label(case: dict[str, Any]) -> str:
    """How people name a case: its number (VW-n) once the store gives one, else its id."""
    number = case.get("number")
    return f"VW-{number}" if number is not None else str(case.get("case_id") or case.get("id"))


def first_words(text: str | None, words: int = 12) -> str:
    """The start of a mention, for one table row."""
    parts = (text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def countdown(case: dict[str, Any], now: datetime | None = None, tr: Translator = ENGLISH) -> str:
    """'first response due in 20 min' or 'resolution overdue by 2 h': what the case waits for next."""
    what, due = next_due(case)
    return tr("{what} {due}", what=word(DUE_WORDS, what, tr), due=due_in(due, now, tr))


def why_listed(case: dict[str, Any], tr: Translator = ENGLISH, themes: dict[str, str] | None = None) -> str:
    """Why a case is in the inbox: its triage validity and routing reasons, in the reader's language."""
    validity = word(VALIDITY_WORDS, case.get("validity") or "routed", tr)
    reasons = "; ".join(tr.recorded(r, themes) for r in case.get("reasons") or [])
    return f"{validity}: {reasons}" if reasons else validity


# The table's column names, in English here and shown translated (queue_rows' keys).
QUEUE_COLUMNS = {
    "case": N_("case"),
    "status": N_("status"),
    "priority": N_("priority"),
    "due": N_("due"),
    "due at": N_("due at (UTC)"),
    "owner": N_("owner"),
    "source": N_("source"),
    "language": N_("language"),
    "first words": N_("first words"),
}


def queue_rows(
    cases: list[dict[str, Any]], now: datetime | None = None, tr: Translator = ENGLISH
) -> list[dict[str, Any]]:
    """One row per case for the inbox's table view, in queue order; every value plain text."""
    return [
        {
            "case": case_label(case),
            "status": word(STATUS_WORDS, case["status"], tr),
            "priority": word(TIER_WORDS, case["tier"], tr),
            "due": countdown(case, now, tr),
            "due at": next_due(case)[1],
            "owner": case["owner"] or tr("(unassigned)"),
            "source": case["source"],
            "language": case["lang"] or "und",
            "first words": first_words(case["text"]),
        }
        for case in queue_order(cases)
    ]


# Where each role's work is, first match wins: a person with several roles lands on the first
# page their roles give (a responder who also approves still starts in the inbox).
LANDING = (  # page titles in English, as app.py's PAGES has them
    ("responder", "Inbox"),
    ("supervisor", "Inbox"),
    ("approver", "Approvals"),
    ("executive", "Trends"),
    ("admin", "Sources"),
)


def landing_page(roles: Iterable[str]) -> str | None:
    """The title of the page a person opens on after signing in (``default=True`` in app.py)."""
    have = {str(role) for role in roles}
    return next((page for role, page in LANDING if role in have), None)


def draft_note(
    state: str, owner: str | None, is_owner: bool, may_send: bool, tr: Translator = ENGLISH
) -> str | None:
    """Why the draft shows no button for this person now, in words (None when it has one)."""
    if state == "pending_approval":
        return tr("Waiting for a comms lead to approve this version; it is read-only until then.")
    if state in ("draft", "rejected") and not is_owner:
        return tr(
            "Only the case's owner ({owner}) edits and submits this draft.", owner=owner or tr("nobody yet")
        )
    if state == "approved" and not may_send:
        return tr("Approved: a responder or a comms lead sends it.")
    return None
