"""Every SQL statement VoxWatch runs outside the migrations, one module per subject.

Each function takes a connection from ``Store.read`` / ``Store.write`` and plain
Python values; values always travel as parameters, never spliced into SQL text,
because most of them come from the internet. Callers write ``queries.get_case``;
the function lives in the module named for what it is about:

- ``sources``: sources and their state: cursors, validators, health per run, and the raw responses they sent.
- ``mentions``: storing a page's new posts (linking reposts) and reading those not yet scored.
- ``scores``: the model's scores per mention and model version, and people's corrections kept beside them.
- ``triage``: scored mentions not yet triaged (with what triage needs), and triage records.
- ``people``: the team as settings describe it, mirrored into the store so cases can name their owners.
- ``audit``: the append-only audit log: who did what to which entity, with before and after.
- ``cases``: cases and hand-offs: opening, reading, changing and listing them, and each owner's load.
- ``drafts``: reply drafts: each version of a case's reply with its lint findings and approval decision.
- ``erasure``: forgetting an author (or a post the platform deleted), with tombstones.
- ``authors``: one view per author: their mentions with scores, and the team's notes about them.
- ``notifications``: notifications sent (or not) to the team, one row per event and channel.
- ``outbox``: replies and notices queued with their idempotency key, and how each delivery went.
- ``analytics``: read models for leaders: pipeline summary, daily sentiment, themes, KPIs, owners.
- ``followups``: answered cases a new mention may follow up, the links made, a case's next mentions.
- ``spikes``: negative counts per 24-hour window, the examples of a window, and recorded spikes.
- ``tokens``: personal command-line tokens, kept as hashes: issuing, finding the owner, revoking.
- ``sessions``: dashboard sessions: each person's generation, the cookie-signing key, failed sign-ins.
"""

from __future__ import annotations

from voxwatch.store.database import Connection
from voxwatch.store.queries.analytics import (
    AT,
    BREAKDOWNS,
    daily_negative_counts,
    daily_sentiment,
    owner_summary,
    pipeline_counts,
    response_kpis,
    sentiment_totals,
    service_recovery,
    top_complaint_themes,
)
from voxwatch.store.queries.audit import AuditEntry, append_audit, append_audits, audit_entries, case_audit
from voxwatch.store.queries.authors import author_mentions, author_notes, insert_author_note
from voxwatch.store.queries.cases import (
    CASE_COLUMNS,
    OPEN_STATUSES,
    find_case_id,
    get_case,
    handoffs,
    inbox,
    insert_case,
    insert_cases,
    insert_handoff,
    list_cases,
    open_load,
    overdue_cases,
    overdue_resolutions,
    pending_approvals,
    update_case,
)
from voxwatch.store.queries.drafts import DRAFT_COLUMNS, insert_draft, latest_draft, update_draft
from voxwatch.store.queries.erasure import (
    add_tombstone,
    author_mention_ids,
    erase_author_notes,
    erase_mentions,
    erase_spike_examples,
    mention_ids_for,
)
from voxwatch.store.queries.followups import (
    answered_cases,
    case_follow_ups,
    insert_follow_up,
    with_answered_cases,
)
from voxwatch.store.queries.mentions import Inserted, insert_mentions, unscored_mentions
from voxwatch.store.queries.notifications import insert_notification, notifications
from voxwatch.store.queries.outbox import (
    OUTBOX_COLUMNS,
    UNFINISHED,
    case_outbox,
    due_entries,
    enqueue,
    get_entry,
    outbox_entries,
    update_entry,
)
from voxwatch.store.queries.people import sync_responder
from voxwatch.store.queries.scores import insert_label_correction, insert_scores
from voxwatch.store.queries.sessions import (
    clear_sign_in_failures,
    dashboard_secret,
    raise_session_generation,
    record_sign_in_failure,
    session_generation,
    sign_in_failures_since,
)
from voxwatch.store.queries.sources import (
    purge_raw_responses,
    record_source_failure,
    record_source_run,
    record_source_success,
    record_source_waiting,
    save_raw_response,
    source_health,
    source_state,
    upsert_source,
)
from voxwatch.store.queries.spikes import (
    insert_spike,
    latest_spike,
    negative_counts_per_window,
    recent_spikes,
    spikes_between,
    window_negatives,
)
from voxwatch.store.queries.tokens import insert_token, list_tokens, revoke_tokens, token_owner
from voxwatch.store.queries.triage import insert_triage, insert_triages, untriaged

__all__ = [
    "AT",
    "BREAKDOWNS",
    "CASE_COLUMNS",
    "DRAFT_COLUMNS",
    "OPEN_STATUSES",
    "OUTBOX_COLUMNS",
    "UNFINISHED",
    "AuditEntry",
    "Connection",
    "Inserted",
    "add_tombstone",
    "answered_cases",
    "append_audit",
    "append_audits",
    "audit_entries",
    "author_mention_ids",
    "author_mentions",
    "author_notes",
    "case_audit",
    "case_follow_ups",
    "case_outbox",
    "clear_sign_in_failures",
    "daily_negative_counts",
    "daily_sentiment",
    "dashboard_secret",
    "due_entries",
    "enqueue",
    "erase_author_notes",
    "erase_mentions",
    "erase_spike_examples",
    "find_case_id",
    "get_case",
    "get_entry",
    "handoffs",
    "inbox",
    "insert_author_note",
    "insert_case",
    "insert_cases",
    "insert_draft",
    "insert_follow_up",
    "insert_handoff",
    "insert_label_correction",
    "insert_mentions",
    "insert_notification",
    "insert_scores",
    "insert_spike",
    "insert_token",
    "insert_triage",
    "insert_triages",
    "latest_draft",
    "latest_spike",
    "list_cases",
    "list_tokens",
    "mention_ids_for",
    "negative_counts_per_window",
    "notifications",
    "open_load",
    "outbox_entries",
    "overdue_cases",
    "overdue_resolutions",
    "owner_summary",
    "pending_approvals",
    "pipeline_counts",
    "purge_raw_responses",
    "raise_session_generation",
    "recent_spikes",
    "record_sign_in_failure",
    "record_source_failure",
    "record_source_run",
    "record_source_success",
    "record_source_waiting",
    "response_kpis",
    "revoke_tokens",
    "save_raw_response",
    "sentiment_totals",
    "service_recovery",
    "session_generation",
    "sign_in_failures_since",
    "source_health",
    "source_state",
    "spikes_between",
    "sync_responder",
    "token_owner",
    "top_complaint_themes",
    "unscored_mentions",
    "untriaged",
    "update_case",
    "update_draft",
    "update_entry",
    "upsert_source",
    "window_negatives",
    "with_answered_cases",
]
