"""The words our tables of states stand for, marked for the catalogue (``voxwatch.i18n.N_``).

Statuses, tiers, roles and the rest are stored as English identifiers; a page shows
``_(STATUS_WORDS[status])``. Anything not in a table (a new state, say) shows as stored
rather than failing, through ``word``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from voxwatch.i18n import N_

STATUS_WORDS = {
    "new": N_("new"),
    "assigned": N_("assigned"),
    "drafting": N_("drafting"),
    "pending_approval": N_("pending approval"),
    "approved": N_("approved"),
    "sent": N_("sent"),
    "follow_up": N_("follow-up"),
    "closed": N_("closed"),
    "dismissed": N_("dismissed"),
}
TIER_WORDS = {"urgent": N_("urgent"), "normal": N_("normal")}
ROLE_WORDS = {
    "responder": N_("responder"),
    "approver": N_("approver"),  # the comms lead
    "supervisor": N_("supervisor"),
    "admin": N_("admin"),
    "executive": N_("executive"),
}
LABEL_WORDS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")}
VALIDITY_WORDS = {
    "complaint": N_("complaint"),
    "question": N_("question"),
    "praise": N_("praise"),
    "neutral": N_("neutral"),
    "duplicate": N_("duplicate"),
    "invalid": N_("invalid"),
    "routed": N_("routed"),
}
SITUATION_WORDS = {
    "first_response": N_("first response"),
    "apology_recovery": N_("apology and recovery"),
    "need_more_info": N_("need more information"),
    "resolved": N_("resolved"),
    "follow_up": N_("follow-up"),
    "closing": N_("closing"),
}
DRAFT_STATE_WORDS = {
    "draft": N_("draft"),
    "pending_approval": N_("pending approval"),
    "approved": N_("approved"),
    "rejected": N_("sent back"),
    "sent": N_("sent"),
}
OUTBOX_STATE_WORDS = {
    "pending": N_("waiting to send"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "retrying": N_("to retry"),
    "failed": N_("failed"),
    "unknown": N_("unknown: check by hand"),
    "awaiting_link": N_("waiting for the posted link"),
}
DUE_WORDS = {"first response": N_("first response"), "resolution": N_("resolution")}
OUTCOME_WORDS = {
    "reopened": N_("reopened"),
    "noted": N_("noted"),
    "closed": N_("closed as recovered"),
    "recovered": N_("recovered"),
}
SOURCE_STATUS_WORDS = {
    "ok": N_("ok"),
    "error": N_("error"),
    "degraded": N_("degraded"),
    "waiting": N_("waiting"),
}


def word(table: Mapping[str, str], key: str | None, translate: Callable[[str], str]) -> str:
    """The translated word for a stored identifier; an unknown one as stored (``-`` for none)."""
    if key is None:
        return "-"
    return translate(table[key]) if key in table else key
