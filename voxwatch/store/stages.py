"""What each pipeline stage stores, each as one transaction.

Each write either lands whole or not at all. A source's cursor moves only after
every page of its run is stored, so a crash anywhere loses nothing: the next run
fetches from the old cursor again, and known items are not stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from voxwatch.domain import (
    SYSTEM_ACTOR,
    CaseStatus,
    Decision,
    Mention,
    RawResponse,
    Routing,
    Score,
    case_id_for,
    content_hash,
)
from voxwatch.settings import Settings
from voxwatch.store import queries
from voxwatch.store.database import Connection, Store


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


def save_page(store: Store, source: str, raw: RawResponse, mentions: Sequence[Mention]) -> int:
    """Store one page's new mentions and the raw response they came from; return how many.

    A page that brought nothing new (a 304, or known items) stores no body, so
    re-running adds no rows.
    """
    now = datetime.now(UTC)
    raw_sha = raw.sha256 if raw.body else None

    def _write(conn: Connection) -> int:
        hashes = [content_hash(m.text) for m in mentions]
        new = queries.insert_mentions(conn, source, mentions, hashes, now, raw_sha)
        if new and raw_sha is not None:  # kept so every stored mention can be traced and replayed
            queries.save_raw_response(conn, source, raw)
        return new

    return store.write(_write)


def save_unparsed(store: Store, source: str, raw: RawResponse) -> str:
    """Keep a response that could not be parsed, so the failure can be replayed; return its hash."""

    store.write(lambda conn: queries.save_raw_response(conn, source, raw))
    return raw.sha256


def save_run(store: Store, source: str, first: RawResponse, cursor: str | None, new_total: int) -> None:
    """After every page of a run is stored: move the cursor, keep the validators, log the run.

    ``first`` is the run's first response, whose ETag / Last-Modified belong to the
    next run's first request.
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
        )
        queries.record_source_run(conn, source, now, "ok", first.status, new_total, None)

    store.write(_write)


def save_source_failure(store: Store, source: str, error: str) -> None:
    now = datetime.now(UTC)

    def _write(conn: Connection) -> None:
        queries.record_source_failure(conn, source, now, error)
        queries.record_source_run(conn, source, now, "degraded", None, 0, error)

    store.write(_write)


def save_scores(store: Store, scored: Sequence[tuple[str, Score]]) -> int:
    now = datetime.now(UTC)
    return store.write(lambda conn: queries.insert_scores(conn, scored, now))


def save_decisions(store: Store, decisions: Sequence[Decision]) -> list[Routing]:
    """Store every triage record and open the cases; return the cases opened now."""
    now = datetime.now(UTC)

    def _write(conn: Connection) -> list[Routing]:
        created: list[Routing] = []
        for decision in decisions:
            queries.insert_triage(conn, decision.triage, now)
            routing = decision.case
            if routing is None:
                continue
            case_id = case_id_for(routing.mention_id)
            if queries.insert_case(conn, case_id, routing, now):
                created.append(routing)
                _audit_history(conn, case_id, decision, now)
                action = "dismissed" if routing.status is CaseStatus.DISMISSED else "routed"
                queries.append_audit(
                    conn, now, SYSTEM_ACTOR, "case", case_id, action, None, routing_audit(routing)
                )
        return created

    return store.write(_write)


def _audit_history(conn: Connection, case_id: str, decision: Decision, now: datetime) -> None:
    """Open the case's trail with how its mention got here: collected, scored, triaged."""
    mention, score, record = decision.candidate.mention, decision.candidate.score, decision.triage
    queries.append_audit(
        conn,
        mention.collected_at,
        SYSTEM_ACTOR,
        "case",
        case_id,
        "collected",
        None,
        {"source": mention.source, "author": mention.author, "lang": mention.lang},
    )
    queries.append_audit(
        conn,
        now,
        SYSTEM_ACTOR,
        "case",
        case_id,
        "scored",
        None,
        {"model_id": score.model_id, "label": score.label, "probs": score.probs},
    )
    queries.append_audit(
        conn,
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
    )


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
