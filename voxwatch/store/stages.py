"""What each pipeline stage stores, each as one transaction.

Each write either lands whole or not at all. A source's cursor moves only after
every page of its run is stored, so a crash anywhere loses nothing: the next run
fetches from the old cursor again, and known items are not stored twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from voxwatch.domain import (
    SYSTEM_ACTOR,
    CaseStatus,
    Decision,
    FollowUp,
    FollowUpOutcome,
    Mention,
    RawResponse,
    Routing,
    Score,
    case_id_for,
    normalise_author,
)
from voxwatch.runtime import crash_point
from voxwatch.settings import Settings
from voxwatch.store import queries
from voxwatch.store.database import Connection, Store
from voxwatch.store.queries.mentions import Inserted


def register_settings(store: Store, settings: Settings) -> None:
    """Mirror sources and responders from settings into the store."""
    now = datetime.now(UTC)

    def _write(conn: Connection) -> None:
        for source in settings.sources:
            queries.upsert_source(conn, source.name, source.kind, source.url, now)
        for r in settings.responders:
            queries.sync_responder(
                conn, r.name, r.display_name, r.team, list(r.roles), r.languages, r.capacity
            )

    store.write(_write)


def save_page(
    store: Store,
    source: str,
    raw: RawResponse,
    mentions: Sequence[Mention],
    chunk: int = 100,
    duplicate_window: timedelta = timedelta(hours=72),
) -> Inserted:
    """Store one page's new mentions and the raw response they came from; say how many were new.

    Written ``chunk`` mentions per transaction, so a page of thousands never holds
    the file's lock for long and a person's action in another process gets its
    turn in between. Storing is idempotent (known ids are skipped) and the cursor
    moves only later (``save_run``), so a crash between chunks loses nothing. A
    page that brought nothing new (a 304, or known items) stores no body.
    """
    now = datetime.now(UTC)
    raw_sha = raw.sha256 if raw.body else None

    def _store(conn: Connection, part: Sequence[Mention]) -> Inserted:
        inserted = queries.insert_mentions(conn, source, part, now, raw_sha, duplicate_window)
        if inserted.new and raw_sha is not None:  # kept so every stored mention can be replayed
            queries.save_raw_response(conn, source, raw)
        return inserted

    total = Inserted()
    for start in range(0, len(mentions), chunk):
        if start:
            store.make_way()  # a person's action waiting on the store goes before the next chunk
        done = store.write(partial(_store, part=mentions[start : start + chunk]))
        total = Inserted(total.new + done.new, total.reused_ids + done.reused_ids)
    return total


def save_unparsed(store: Store, source: str, raw: RawResponse) -> str:
    """Keep a response that could not be parsed, so the failure can be replayed; return its hash."""

    store.write(lambda conn: queries.save_raw_response(conn, source, raw))
    return raw.sha256


def save_run(
    store: Store,
    source: str,
    first: RawResponse,
    cursor: str | None,
    new_total: int,
    resume_page: dict[str, str] | None = None,
    pending_cursor: str | None = None,
    warning: str | None = None,
) -> None:
    """After every page of a run is stored: move the cursor, keep the validators, log the run.

    ``first`` is the run's first response, whose ETag / Last-Modified belong to the
    next run's first request. A run that stopped at its page budget passes
    ``resume_page`` (where the next run continues) and ``pending_cursor`` (the
    cursor to save when that walk ends) and leaves the cursor where it was.
    """
    now = datetime.now(UTC)

    def _write(conn: Connection) -> None:
        queries.record_source_success(
            conn,
            source,
            now,
            new_total,
            cursor,
            first.headers.get("etag"),
            first.headers.get("last-modified"),
            resume_page,
            pending_cursor,
            warning,
        )
        queries.record_source_run(conn, source, now, "ok", first.status, new_total, None, warning)

    store.write(_write)


def save_waiting(store: Store, source: str, until: datetime, reason: str) -> None:
    """The source asked us to come back later: record until when, and why, as this run's health."""
    now = datetime.now(UTC)

    def _write(conn: Connection) -> None:
        queries.record_source_waiting(conn, source, now, until, reason)
        queries.record_source_run(conn, source, now, "waiting", 429, 0, reason)

    store.write(_write)


def save_source_failure(store: Store, source: str, error: str) -> None:
    now = datetime.now(UTC)

    def _write(conn: Connection) -> None:
        queries.record_source_failure(conn, source, now, error)
        queries.record_source_run(conn, source, now, "degraded", None, 0, error)

    store.write(_write)


def purge_raw_responses(store: Store, older_than: timedelta) -> int:
    """Forget raw responses kept longer than the retention period (``[store] raw_retention_days``)."""
    before = datetime.now(UTC) - older_than
    return store.write(lambda conn: queries.purge_raw_responses(conn, before))


def save_scores(store: Store, scored: Sequence[tuple[str, Score]]) -> int:
    now = datetime.now(UTC)
    return store.write(lambda conn: queries.insert_scores(conn, scored, now))


def save_decisions(store: Store, decisions: Sequence[Decision]) -> list[Routing]:
    """Store every triage record, open the cases and link follow-ups; return the cases opened now.

    Set-based: the triage records, the cases and their audit trail go in a few
    multi-row statements per batch, not one statement per row. The notices a new
    case calls for are queued in the outbox in the same transaction, so a crash
    after opening it cannot lose its alert. A mention that
    follows up an answered case is linked to it in the same transaction too, once
    (``link_follow_up``).
    """
    now = datetime.now(UTC)

    def _write(conn: Connection) -> list[Routing]:
        queries.insert_triages(conn, [d.triage for d in decisions], now)
        for decision in decisions:
            if decision.follow_up is not None:
                link_follow_up(conn, decision.follow_up, now)
        routed: dict[str, Decision] = {}  # one decision per case: the first for its mention
        for d in decisions:
            if d.case is not None:
                routed.setdefault(case_id_for(d.case.mention_id), d)
        new_ids = queries.insert_cases(conn, [(cid, d.case) for cid, d in routed.items() if d.case], now)
        created: list[Routing] = []
        trail: list[queries.AuditEntry] = []
        for case_id, decision in routed.items():
            routing = decision.case
            if routing is None or case_id not in new_ids:
                continue
            crash_point("between_cases")
            created.append(routing)
            trail.extend(_audit_history(case_id, decision, now))
            action = "dismissed" if routing.status is CaseStatus.DISMISSED else "routed"
            trail.append((now, SYSTEM_ACTOR, "case", case_id, action, None, routing_audit(routing)))
            for message in decision.messages:  # told about with the case, or not at all
                queries.enqueue(conn, message, now)
        queries.append_audits(conn, trail)
        return created

    return store.write(_write)


def link_follow_up(conn: Connection, follow_up: FollowUp, now: datetime) -> None:
    """Link the author's next mention to its case, audit it, and reopen or close the case as decided.

    Exactly once: the link's key is the mention, and nothing changes when it was
    linked before (a second run of the same decisions). If a person moved the case
    since routing read it, their move stands and the link is only noted.
    """
    case = queries.get_case(conn, follow_up.case_id)
    if case is None:  # erased in the meantime: nothing left to follow up
        return
    outcome, changes = follow_up.outcome, _follow_up_changes(follow_up, case, now)
    if case["status"] != follow_up.expected.value:
        outcome, changes = FollowUpOutcome.NOTED, {}
    if not queries.insert_follow_up(conn, follow_up, outcome, now):
        return
    said = {"mention_id": follow_up.mention_id, "label": follow_up.label, "outcome": outcome.value}
    queries.append_audit(conn, now, SYSTEM_ACTOR, "case", case["id"], "customer_replied", None, said)
    if changes:
        before = {key: case[key] for key in changes}
        queries.update_case(conn, case["id"], changes | {"updated_at": now})
        action = "reopened" if outcome is FollowUpOutcome.REOPENED else "closed"
        after = changes | {"reason": follow_up.reason}
        queries.append_audit(conn, now, SYSTEM_ACTOR, "case", case["id"], action, before, after)


def _follow_up_changes(follow_up: FollowUp, case: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The case's columns a follow-up changes: reopening clears the resolution, closing sets it."""
    if follow_up.status is None:
        return {}
    if follow_up.status is CaseStatus.CLOSED:
        heard_back = {} if case["followed_up_at"] is not None else {"followed_up_at": now}
        return {"status": follow_up.status.value, "resolved_at": now} | heard_back
    return {"status": follow_up.status.value, "resolved_at": None}


def _audit_history(case_id: str, decision: Decision, now: datetime) -> list[queries.AuditEntry]:
    """The case's trail opens with how its mention got here: collected, scored, triaged."""
    mention, score, record = decision.candidate.mention, decision.candidate.score, decision.triage
    return [
        (
            mention.collected_at,
            SYSTEM_ACTOR,
            "case",
            case_id,
            "collected",
            None,
            {"source": mention.source, "author": mention.author, "lang": mention.lang},
        ),
        (
            now,
            SYSTEM_ACTOR,
            "case",
            case_id,
            "scored",
            None,
            {"model_id": score.model_id, "label": score.label, "probs": score.probs},
        ),
        (
            now,
            SYSTEM_ACTOR,
            "case",
            case_id,
            "triaged",
            None,
            {
                "validity": record.validity.value,
                "reason": record.reason,
                "tier": record.tier.value,
                "reasons": record.reasons,
            },
        ),
    ]


def routing_audit(routing: Routing) -> dict[str, object]:
    return {
        "validity": routing.validity.value,
        "reason": routing.validity_reason,
        "tier": routing.tier.value,
        "reasons": routing.reasons,
        "rule": routing.rule,
        "team": routing.team,
        "owner": routing.owner,
        "status": routing.status.value,
        "first_response_due": routing.first_response_due.isoformat(),
    }


def forget_author(store: Store, source: str, author: str, actor: str) -> dict[str, int]:
    """Erase an author's posts and what came of them, leave a tombstone, audit it anonymously.

    One transaction: either everything about the author is gone and the erasure
    is recorded, or nothing changed. The audit entry names who erased and how
    much, never whom (the author is a hash).
    """
    key = normalise_author(author)
    if key is None:
        raise ValueError("an author handle is needed")
    now = datetime.now(UTC)

    def _write(conn: Connection) -> dict[str, int]:
        anonymous = "erased:" + hashlib.sha256(f"{source}\x00{key}".encode()).hexdigest()[:16]
        ids = queries.author_mention_ids(conn, source, key)
        erased = queries.erase_mentions(conn, ids)
        erased["notes"] = queries.erase_author_notes(conn, source, key, anonymous)
        queries.erase_spike_examples(conn, source, {key})
        queries.add_tombstone(conn, source, key, now)
        queries.append_audit(conn, now, actor, "author", anonymous, "erased", None, erased)
        return erased

    return store.write(_write)


def forget_posts(store: Store, source: str, external_ids: Sequence[str]) -> int:
    """Erase posts the platform reports deleted (and what came of them); return how many were stored."""
    if not external_ids:
        return 0
    now = datetime.now(UTC)

    def _write(conn: Connection) -> int:
        ids = queries.mention_ids_for(conn, source, external_ids)
        erased = queries.erase_mentions(conn, ids)
        if ids:
            queries.append_audit(conn, now, SYSTEM_ACTOR, "source", source, "platform_deleted", None, erased)
        return len(ids)

    return store.write(_write)
