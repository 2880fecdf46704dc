"""Delivering the outbox: every reply and notice goes out once, outside any store transaction.

Whatever calls for a message (a reply sent, an urgent case opened, an SLA
breach, a spike) queues it in the same transaction as the change itself
(``queries.enqueue``), so a crash can delay a message but not lose it. This
module then delivers what is due, one message at a time:

1. claim it: mark it ``sending`` with a lease, and commit; another deliverer
   (the dashboard's send button, the pipeline) leaves it alone until the lease
   runs out;
2. if an earlier claim never finished, the outcome of that try is unknown: ask
   the platform (``Publisher.find``) whether the message is already there, and
   record it instead of posting again;
3. publish, with no transaction open;
4. record the outcome: ``sent`` with the platform's id and link; a transient
   failure goes back to ``pending`` with a backoff; a final one is ``failed``,
   shown on the case and in source health, and the owner is told.

A message whose outcome cannot be checked (plain SMTP, a webhook) becomes
``unknown``: a person looks and either confirms it or sends it again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from responders.publishing.base import Delivery, Posted, Publisher, redact
from responders.publishing.errors import PossiblyPosted
from voxwatch.domain import SYSTEM_ACTOR, Outgoing
from voxwatch.errors import OutcomeUnknown, PublishError, TransientPublishError
from voxwatch.runtime import claim_is_abandoned, crash_point, process_identity
from voxwatch.store import Store, queries
from voxwatch.store.database import Connection

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # longer than any publisher's timeout and retries in one try
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = {"reply": 8, "notice": 5}  # about two hours of backoff for a reply before it is given up

Clock = Callable[[], datetime]
PublisherFor = Callable[[dict[str, Any]], Publisher]


@dataclass
class DeliveryReport:
    """How a round of delivery went, by final state of each message tried."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0

    def count(self, state: str) -> None:
        field = {"sent": "sent", "pending": "retrying", "failed": "failed", "unknown": "unknown"}.get(state)
        if field:
            setattr(self, field, getattr(self, field) + 1)


def message_key(*parts: object) -> str:
    """A stable idempotency key from what identifies a message (readable head, hashed tail)."""
    text = "|".join(str(p) for p in parts)
    return f"{parts[0]}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def delivery_of(entry: dict[str, Any]) -> Delivery:
    return Delivery(
        key=entry["key"],
        channel=entry["channel"],
        target=entry["target"],
        text=entry["body"],
        case_id=entry.get("case_id"),
        subject=entry.get("subject"),
        extra={k: str(v) for k, v in (entry.get("extra") or {}).items()},
    )


def _audit(
    conn: Connection, now: datetime, entry: dict[str, Any], action: str, details: dict[str, Any]
) -> None:
    """What became of a reply, on its case's trail, naming the version and the channel."""
    after = {"draft_version": entry["draft_version"], "channel": entry["channel"]} | details
    queries.append_audit(conn, now, SYSTEM_ACTOR, "case", entry["case_id"], action, None, after)


def _due(entry: dict[str, Any], now: datetime) -> bool:
    """Pending and its time has come; or being sent by a claim that lapsed or whose process died."""
    if entry["state"] == "pending":
        return bool(entry["next_attempt_at"] <= now)
    if entry["state"] == "sending":
        return bool(entry["next_attempt_at"] <= now) or claim_is_abandoned(entry["claimed_by"])
    return False


class Outbox:
    """Delivers queued messages through the publisher each one names."""

    def __init__(
        self,
        store: Store,
        publisher_for: PublisherFor,
        clock: Clock,
        secrets: tuple[str, ...] = (),
        on_failure: Callable[[dict[str, Any], str], list[Outgoing]] | None = None,
        max_attempts: dict[str, int] | None = None,
    ) -> None:
        self.store = store
        self.publisher_for = publisher_for
        self.clock = clock
        self.secrets = secrets
        self.on_failure = on_failure  # the notices a given-up reply calls for (tell its owner)
        self.max_attempts = MAX_ATTEMPTS | (max_attempts or {})

    # --- the round ---------------------------------------------------------------------

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Deliver every message whose time has come; never raises for a delivery's failure."""
        report = DeliveryReport()
        due = self.store.read(lambda conn: queries.due_entries(conn, self.clock(), limit))
        for entry in due:
            report.count(self.deliver(entry["key"]))
        return report

    def deliver(self, key: str) -> str:
        """Deliver one message if it is due; return its state afterwards."""
        claimed = self.store.write(lambda conn: self._claim(conn, key))
        if claimed is None:
            entry = self.store.read(lambda conn: queries.get_entry(conn, key))
            return entry["state"] if entry else "missing"
        entry, interrupted = claimed
        crash_point("outbox_claimed")
        try:
            posted = self._publish(entry, interrupted)
        except OutcomeUnknown as exc:
            return self._record_unknown(entry, self._safe(exc))
        except PossiblyPosted as exc:  # it may be there: the next try looks before posting
            return self._record_transient(entry, self._safe(exc), exc.retry_after, look_first=True)
        except TransientPublishError as exc:
            return self._record_transient(entry, self._safe(exc), exc.retry_after)
        except PublishError as exc:
            return self._record_failure(entry, self._safe(exc))
        crash_point("after_publish")
        self.store.write(lambda conn: self._record_sent(conn, entry, posted))
        return "sent"

    # --- steps ---------------------------------------------------------------------------

    def _claim(self, conn: Connection, key: str) -> tuple[dict[str, Any], bool] | None:
        """Take the message for LEASE if it is due; say whether an earlier try was interrupted."""
        entry = queries.get_entry(conn, key)
        now = self.clock()
        if entry is None or not _due(entry, now):
            return None
        interrupted = entry["state"] == "sending"
        changes = {
            "state": "sending",
            "attempts": entry["attempts"] + 1,
            "last_attempt_at": now,
            "next_attempt_at": now + LEASE,
            "claimed_by": process_identity(),
        }
        queries.update_entry(conn, key, changes)
        return entry | changes, interrupted

    def _publish(self, entry: dict[str, Any], interrupted: bool) -> Posted:
        publisher = self.publisher_for(entry)
        delivery = delivery_of(entry)
        if interrupted:  # the last try may have landed: look before posting again
            earlier = publisher.find(delivery)
            if earlier is not None:
                log.info(
                    "outbox %s: found the earlier post (%s); not posting again", entry["key"], earlier.url
                )
                return earlier
        return publisher.publish(delivery)

    def _safe(self, exc: Exception) -> str:
        return redact(f"{type(exc).__name__}: {exc}", self.secrets)

    def _record_sent(self, conn: Connection, entry: dict[str, Any], posted: Posted) -> None:
        now = self.clock()
        queries.update_entry(
            conn,
            entry["key"],
            {
                "state": "sent",
                "sent_at": now,
                "external_id": posted.external_id,
                "external_url": posted.url,
                "last_error": None,
            },
        )
        if entry["kind"] == "reply" and entry["case_id"]:
            case = queries.get_case(conn, entry["case_id"])
            changes: dict[str, Any] = {"reply_url": posted.url, "updated_at": now}
            if case is not None and case["first_response_at"] is None:
                changes["first_response_at"] = min(posted.posted_at or now, now)  # public since then
            queries.update_case(conn, entry["case_id"], changes)
            _audit(conn, now, entry, "published", {"url": posted.url, "external_id": posted.external_id})
        elif entry["kind"] == "notice":
            self._log_notice(conn, entry, "sent", None)

    def _record_transient(
        self, entry: dict[str, Any], error: str, retry_after: datetime | None, look_first: bool = False
    ) -> str:
        if entry["attempts"] >= self.max_attempts[entry["kind"]]:
            return self._record_failure(entry, f"gave up after {entry['attempts']} attempts: {error}")
        now = self.clock()
        when = max(retry_after or now, now + backoff(entry["attempts"]))
        log.warning("outbox %s: try %d failed, again at %s: %s", entry["key"], entry["attempts"], when, error)
        # "sending" past its lease reads as an interrupted try: the next claim asks find() first.
        changes = {
            "state": "sending" if look_first else "pending",
            "next_attempt_at": when,
            "last_error": error,
        }

        def _write(conn: Connection) -> None:
            queries.update_entry(conn, entry["key"], changes)
            if entry["kind"] == "notice":
                self._log_notice(conn, entry, "retrying", error)

        self.store.write(_write)
        return "pending"

    def _record_failure(self, entry: dict[str, Any], error: str) -> str:
        log.warning("outbox %s (%s via %s) failed: %s", entry["key"], entry["kind"], entry["channel"], error)
        follow_ups = self.on_failure(entry, error) if self.on_failure and entry["kind"] == "reply" else []
        self.store.write(lambda conn: self._write_failure(conn, entry, error, follow_ups))
        return "failed"

    def _write_failure(
        self, conn: Connection, entry: dict[str, Any], error: str, follow_ups: list[Outgoing]
    ) -> None:
        now = self.clock()
        queries.update_entry(conn, entry["key"], {"state": "failed", "last_error": error})
        if entry["kind"] == "notice":
            self._log_notice(conn, entry, "failed", error)
        elif entry["case_id"]:
            _audit(conn, now, entry, "publish_failed", {"error": error})
        for message in follow_ups:
            queries.enqueue(conn, message, now)

    def _record_unknown(self, entry: dict[str, Any], error: str) -> str:
        log.warning(
            "outbox %s: an earlier try may have landed and %s cannot tell", entry["key"], entry["channel"]
        )
        note = f"{error}; check {entry['channel']} and confirm or send again"
        self.store.write(
            lambda conn: queries.update_entry(conn, entry["key"], {"state": "unknown", "last_error": note})
        )
        return "unknown"

    def _log_notice(self, conn: Connection, entry: dict[str, Any], status: str, error: str | None) -> None:
        """Notices keep their history in ``notifications`` too, one row per delivered message."""
        queries.insert_notification(
            conn,
            self.clock(),
            entry["channel"],
            entry["target"],
            entry["event"] or "notice",
            entry["case_id"],
            entry["subject"] or "",
            status,
            entry["attempts"],
            error,
        )
