"""Every SQL statement VoxWatch runs, outside the migrations.

Each function takes a connection from ``Store.read`` / ``Store.write`` and plain
Python values; values always travel as parameters, never spliced into SQL text,
because most of them come from the internet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voxwatch.domain import CaseStatus, Mention, RawResponse, Routing, Score, StoredMention, TriageRecord
from voxwatch.domain import mention_id as make_mention_id
from voxwatch.store.database import Connection

# --- sources and their state -------------------------------------------------


@dataclass(frozen=True)
class SourceState:
    source: str
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    status: str = "ok"
    last_ok_at: datetime | None = None
    last_error: str | None = None
    items_last_run: int | None = None


def upsert_source(conn: Connection, name: str, kind: str, url: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO sources VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
        "SET kind = excluded.kind, url = excluded.url, updated_at = excluded.updated_at",
        [name, kind, url, at],
    )


def source_state(conn: Connection, source: str) -> SourceState:
    row = conn.execute(
        "SELECT source, cursor, etag, last_modified, status, last_ok_at, last_error, items_last_run "
        "FROM source_state WHERE source = ?",
        [source],
    ).fetchone()
    return SourceState(*row) if row else SourceState(source=source)


def record_source_success(
    conn: Connection,
    source: str,
    at: datetime,
    items: int,
    cursor: str | None,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Save the new cursor; called in the same transaction that stored the items."""
    conn.execute(
        "INSERT INTO source_state (source, cursor, etag, last_modified, status, last_run_at, "
        "last_ok_at, last_error, items_last_run) VALUES (?, ?, ?, ?, 'ok', ?, ?, NULL, ?) "
        "ON CONFLICT (source) DO UPDATE SET cursor = coalesce(excluded.cursor, source_state.cursor), "
        "etag = coalesce(excluded.etag, source_state.etag), "
        "last_modified = coalesce(excluded.last_modified, source_state.last_modified), status = 'ok', "
        "last_run_at = excluded.last_run_at, last_ok_at = excluded.last_ok_at, last_error = NULL, "
        "items_last_run = excluded.items_last_run",
        [source, cursor, etag, last_modified, at, at, items],
    )


def record_source_run(
    conn: Connection,
    source: str,
    at: datetime,
    status: str,
    http_status: int | None,
    items: int,
    error: str | None,
) -> None:
    conn.execute(
        "INSERT INTO source_runs VALUES (?, ?, ?, ?, ?, ?)", [source, at, status, http_status, items, error]
    )


def record_source_failure(conn: Connection, source: str, at: datetime, error: str) -> None:
    """Mark a source degraded with the reason; its cursor is left as it was."""
    conn.execute(
        "INSERT INTO source_state (source, status, last_run_at, last_error, items_last_run) "
        "VALUES (?, 'degraded', ?, ?, 0) ON CONFLICT (source) DO UPDATE SET status = 'degraded', "
        "last_run_at = excluded.last_run_at, last_error = excluded.last_error, items_last_run = 0",
        [source, at, error],
    )


def save_raw_response(conn: Connection, source: str, raw: RawResponse) -> None:
    """Keep a response body, content-addressed: the same body is stored once."""
    conn.execute(
        "INSERT INTO raw_responses VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [raw.sha256, source, raw.url, raw.status, raw.content_type, raw.fetched_at, raw.body],
    )


# --- mentions -----------------------------------------------------------------


def insert_mentions(
    conn: Connection,
    source: str,
    mentions: Sequence[Mention],
    content_hashes: Sequence[str],
    collected_at: datetime,
    raw_sha256: str | None,
) -> int:
    """Insert the mentions not seen before; return how many were new."""
    new = 0
    for mention, digest in zip(mentions, content_hashes, strict=True):
        ident = make_mention_id(source, mention.external_id)
        earlier = conn.execute(
            "SELECT id FROM mentions WHERE content_hash = ? AND id <> ? ORDER BY collected_at, id LIMIT 1",
            [digest, ident],
        ).fetchone()
        inserted = conn.execute(
            "INSERT INTO mentions (id, source, external_id, url, author, title, text, lang, rating, "
            "author_reach, published_at, collected_at, content_hash, duplicate_of, raw_sha256) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            [
                ident,
                source,
                mention.external_id,
                mention.url,
                mention.author,
                mention.title,
                mention.text,
                mention.lang,
                mention.rating,
                mention.author_reach,
                mention.published_at,
                collected_at,
                digest,
                earlier[0] if earlier else None,
                raw_sha256,
            ],
        ).fetchall()
        new += len(inserted)
    return new


_MENTION_COLUMNS = (
    "m.id, m.source, m.title, m.text, m.author, m.lang, m.published_at, m.collected_at, m.author_reach, "
    "m.duplicate_of"
)


def _stored_mention(row: Sequence[Any]) -> StoredMention:
    ident, source, title, text, author, lang, published_at, collected_at, reach, duplicate_of = row
    body = text if not title or text.startswith(title) else f"{title}\n{text}"
    return StoredMention(ident, source, body, author, lang, published_at, collected_at, reach, duplicate_of)


def unscored_mentions(conn: Connection, model_id: str, limit: int) -> list[StoredMention]:
    rows = conn.execute(
        f"SELECT {_MENTION_COLUMNS} FROM mentions m WHERE NOT EXISTS "
        "(SELECT 1 FROM scores s WHERE s.mention_id = m.id AND s.model_id = ?) "
        "ORDER BY m.collected_at, m.id LIMIT ?",
        [model_id, limit],
    ).fetchall()
    return [_stored_mention(row) for row in rows]


def insert_scores(conn: Connection, scored: Iterable[tuple[str, Score]], at: datetime) -> int:
    rows = [
        [
            mid,
            s.model_id,
            s.label,
            s.probs["negative"],
            s.probs["neutral"],
            s.probs["positive"],
            list(s.themes),
            at,
        ]
        for mid, s in scored
    ]
    if rows:
        conn.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)
    return len(rows)


# --- routing --------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingCandidate:
    """A scored, not yet triaged mention with what triage needs to know."""

    mention: StoredMention
    score: Score
    prior_negatives: int
    watch_started_at: datetime | None = None  # when this source was first collected

    @property
    def sla_start(self) -> datetime:
        """When the SLA clock starts: at publication, but never before we were watching.

        A post from before a source was first collected could not have been
        answered sooner, so a first backfill does not open a flood of breaches.
        """
        said = self.mention.published_at or self.mention.collected_at
        return max(said, self.watch_started_at) if self.watch_started_at else said


def untriaged(conn: Connection, model_id: str, threshold: float) -> list[RoutingCandidate]:
    """Scored mentions without a triage, oldest first, with the author's earlier complaints."""
    rows = conn.execute(
        f"SELECT {_MENTION_COLUMNS}, s.label, s.p_negative, s.p_neutral, s.p_positive, s.themes, "
        "(SELECT count(*) FROM mentions p JOIN scores ps ON ps.mention_id = p.id AND ps.model_id = ? "
        " WHERE p.source = m.source AND p.author = m.author AND p.id <> m.id "
        "   AND ps.p_negative >= ? AND coalesce(p.published_at, p.collected_at) "
        "       < coalesce(m.published_at, m.collected_at)) AS prior, "
        "(SELECT min(f.collected_at) FROM mentions f WHERE f.source = m.source) AS watch_started "
        "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
        "WHERE NOT EXISTS (SELECT 1 FROM triage t WHERE t.mention_id = m.id) "
        "ORDER BY coalesce(m.published_at, m.collected_at), m.id",
        [model_id, threshold, model_id],
    ).fetchall()
    return [
        RoutingCandidate(
            mention=_stored_mention(row[:10]),
            score=Score(
                label=row[10],
                probs={"negative": row[11], "neutral": row[12], "positive": row[13]},
                model_id=model_id,
                themes=tuple(row[14]),
            ),
            prior_negatives=int(row[15]),
            watch_started_at=row[16],
        )
        for row in rows
    ]


def insert_triage(conn: Connection, record: TriageRecord, at: datetime) -> None:
    conn.execute(
        "INSERT INTO triage VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            record.mention_id,
            record.model_id,
            record.validity.value,
            record.reason,
            record.tier.value,
            record.reasons,
            at,
        ],
    )


def sync_responder(
    conn: Connection,
    name: str,
    display_name: str,
    team: str,
    roles: list[str],
    languages: list[str],
    capacity: int,
) -> None:
    conn.execute(
        "INSERT INTO responders VALUES (?, ?, ?, ?, ?, ?, TRUE) ON CONFLICT (name) DO UPDATE SET "
        "display_name = excluded.display_name, team = excluded.team, roles = excluded.roles, "
        "languages = excluded.languages, capacity = excluded.capacity, active = TRUE",
        [name, display_name, team, roles, languages, capacity],
    )


OPEN_STATUSES = tuple(s.value for s in CaseStatus if s not in (CaseStatus.CLOSED, CaseStatus.DISMISSED))


def open_load(conn: Connection) -> dict[str, int]:
    """Open cases per owner: the load that balancing looks at."""
    rows = conn.execute(
        "SELECT owner, count(*) FROM cases WHERE owner IS NOT NULL AND list_contains(?, status) "
        "GROUP BY owner",
        [list(OPEN_STATUSES)],
    ).fetchall()
    return {owner: count for owner, count in rows}


def append_audit(
    conn: Connection,
    at: datetime,
    actor: str,
    entity: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """The only statement that touches audit_log: it appends."""
    conn.execute(
        "INSERT INTO audit_log (occurred_at, actor, entity, entity_id, action, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            at,
            actor,
            entity,
            entity_id,
            action,
            json.dumps(before, default=str) if before is not None else None,
            json.dumps(after, default=str) if after is not None else None,
        ],
    )


def insert_case(conn: Connection, case_id: str, routing: Routing, at: datetime) -> bool:
    """Create the case for a mention once; return False if it already had one."""
    dismissed = routing.validity_reason if routing.status is CaseStatus.DISMISSED else None
    inserted = conn.execute(
        "INSERT INTO cases (id, mention_id, tier, reasons, rule, team, owner, first_owner, status, "
        "dismissed_reason, first_response_due, resolution_due, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        [
            case_id,
            routing.mention_id,
            routing.tier.value,
            routing.reasons,
            routing.rule,
            routing.team,
            routing.owner,
            routing.owner,
            routing.status.value,
            dismissed,
            routing.first_response_due,
            routing.resolution_due,
            at,
            at,
        ],
    ).fetchall()
    return bool(inserted)


# --- read models for the CLI summary and the dashboard ----------------------------


def pipeline_counts(conn: Connection, model_id: str, threshold: float) -> dict[str, Any]:
    one = conn.execute(
        "SELECT (SELECT count(*) FROM mentions), "
        "(SELECT count(*) FROM scores WHERE model_id = ?), "
        "(SELECT count(*) FROM scores WHERE model_id = ? AND p_negative >= ?), "
        "(SELECT count(*) FROM cases WHERE status <> 'dismissed'), "
        "(SELECT count(*) FROM cases WHERE status = 'dismissed')",
        [model_id, model_id, threshold],
    ).fetchone()
    assert one is not None
    per_owner = conn.execute(
        "SELECT coalesce(owner, '(unassigned)'), count(*) FROM cases WHERE status <> 'dismissed' "
        "GROUP BY ALL ORDER BY 2 DESC, 1"
    ).fetchall()
    return {
        "collected": one[0],
        "scored": one[1],
        "negative": one[2],
        "routed": one[3],
        "dismissed": one[4],
        "per_owner": dict(per_owner),
    }


def inbox(conn: Connection, model_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Open cases, most urgent first (earliest first-response due time)."""
    return _rows(
        conn.execute(
            "SELECT c.id AS case_id, c.first_response_due, c.tier, c.status, c.owner, c.team, "
            "c.reasons, t.validity, m.source, m.url, m.author, m.lang, m.text, m.published_at, "
            "s.label, s.p_negative, s.themes, c.escalated_at "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "LEFT JOIN triage t ON t.mention_id = m.id "
            "LEFT JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
            "WHERE list_contains(?, c.status) "
            "ORDER BY c.first_response_due, c.id LIMIT ?",
            [model_id, list(OPEN_STATUSES), limit],
        )
    )


# --- cases, drafts and hand-offs ------------------------------------------------

CASE_COLUMNS = frozenset(
    {
        "tier",
        "reasons",
        "team",
        "owner",
        "first_owner",
        "status",
        "dismissed_reason",
        "first_response_due",
        "resolution_due",
        "updated_at",
        "first_response_at",
        "followed_up_at",
        "follow_up_waived",
        "resolved_at",
        "escalated_at",
    }
)
DRAFT_COLUMNS = frozenset({"state", "decided_by", "decided_at", "decision_comment", "sent_at"})


def _rows(cursor: Any) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _set_clause(changes: dict[str, Any], allowed: frozenset[str]) -> str:
    unknown = set(changes) - allowed
    if unknown:  # column names come from our code, never from input; guard anyway
        raise ValueError(f"not updatable: {sorted(unknown)}")
    return ", ".join(f"{column} = ?" for column in changes)


def get_case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    found = _rows(
        conn.execute(
            "SELECT c.*, m.source, m.author, m.lang, m.text, m.url, m.published_at, "
            "t.validity, t.reason AS validity_reason, t.model_id, s.label, s.p_negative, s.p_neutral, "
            "s.p_positive, s.themes, (SELECT lc.label FROM label_corrections lc WHERE lc.mention_id = "
            " c.mention_id ORDER BY lc.corrected_at DESC LIMIT 1) AS corrected_label "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "LEFT JOIN triage t ON t.mention_id = c.mention_id "
            "LEFT JOIN scores s ON s.mention_id = c.mention_id AND s.model_id = t.model_id WHERE c.id = ?",
            [case_id],
        )
    )
    return found[0] if found else None


def insert_label_correction(
    conn: Connection, mention_id: str, model_id: str, label: str, actor: str, at: datetime
) -> None:
    conn.execute(
        "INSERT INTO label_corrections VALUES (?, ?, ?, ?, ?)", [mention_id, model_id, label, actor, at]
    )


def update_case(conn: Connection, case_id: str, changes: dict[str, Any]) -> None:
    conn.execute(
        f"UPDATE cases SET {_set_clause(changes, CASE_COLUMNS)} WHERE id = ?", [*changes.values(), case_id]
    )


def list_cases(
    conn: Connection,
    statuses: Sequence[str] | None = None,
    owner: str | None = None,
    team: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Cases, most urgent first, filtered by status, owner and team when given."""
    return _rows(
        conn.execute(
            "SELECT c.id, c.status, c.tier, c.owner, c.first_owner, c.team, c.first_response_due, "
            "c.escalated_at, m.source, m.author, m.lang, left(m.text, 120) AS excerpt "
            "FROM cases c JOIN mentions m ON m.id = c.mention_id "
            "WHERE (? IS NULL OR list_contains(?, c.status)) AND (? IS NULL OR c.owner = ?) "
            "AND (? IS NULL OR c.team = ?) ORDER BY c.first_response_due, c.id LIMIT ?",
            [statuses, list(statuses or []), owner, owner, team, team, limit],
        )
    )


def overdue_cases(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Open cases past their first-response due time, with no first response, not yet escalated."""
    return _rows(
        conn.execute(
            "SELECT id, tier, reasons, owner, first_owner, team, first_response_due FROM cases "
            "WHERE list_contains(?, status) AND first_response_at IS NULL AND escalated_at IS NULL "
            "AND first_response_due < ? ORDER BY first_response_due",
            [list(OPEN_STATUSES), now],
        )
    )


def insert_handoff(
    conn: Connection,
    case_id: str,
    at: datetime,
    actor: str,
    from_team: str,
    to_team: str,
    from_owner: str | None,
    to_owner: str | None,
    reason: str,
) -> None:
    conn.execute(
        "INSERT INTO handoffs (case_id, occurred_at, actor, from_team, to_team, from_owner, to_owner, "
        "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [case_id, at, actor, from_team, to_team, from_owner, to_owner, reason],
    )


def handoffs(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    return _rows(conn.execute("SELECT * FROM handoffs WHERE case_id = ? ORDER BY id", [case_id]))


def insert_draft(conn: Connection, draft: dict[str, Any]) -> int:
    """Store a new draft version for its case; returns the version number."""
    row = conn.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM drafts WHERE case_id = ?", [draft["case_id"]]
    )
    version = int(row.fetchone()[0])  # type: ignore[index]
    conn.execute(
        "INSERT INTO drafts (id, case_id, version, situation, lang, template_key, body, author, created_at, "
        "findings, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f"{draft['case_id']}-v{version}",
            draft["case_id"],
            version,
            draft["situation"],
            draft["lang"],
            draft["template_key"],
            draft["body"],
            draft["author"],
            draft["created_at"],
            json.dumps(draft["findings"]),
            draft["state"],
        ],
    )
    return version


def latest_draft(conn: Connection, case_id: str) -> dict[str, Any] | None:
    found = _rows(
        conn.execute("SELECT * FROM drafts WHERE case_id = ? ORDER BY version DESC LIMIT 1", [case_id])
    )
    if not found:
        return None
    draft = found[0]
    draft["findings"] = json.loads(draft["findings"])
    return draft


def update_draft(conn: Connection, draft_id: str, changes: dict[str, Any]) -> None:
    conn.execute(
        f"UPDATE drafts SET {_set_clause(changes, DRAFT_COLUMNS)} WHERE id = ?", [*changes.values(), draft_id]
    )


def audit_entries(conn: Connection, entity: str, limit: int) -> list[dict[str, Any]]:
    """The newest audit entries about one kind of thing (``settings``, ``case``...)."""
    return _rows(
        conn.execute(
            "SELECT * FROM audit_log WHERE entity = ? ORDER BY occurred_at DESC, id DESC LIMIT ?",
            [entity, limit],
        )
    )


def case_audit(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    return _rows(
        conn.execute(
            "SELECT occurred_at, actor, action, before, after FROM audit_log "
            "WHERE entity = 'case' AND entity_id = ? ORDER BY id",
            [case_id],
        )
    )


# --- one view per author ----------------------------------------------------------


def author_mentions(conn: Connection, source: str, author: str) -> list[dict[str, Any]]:
    """Everything an author said, with the model's mood and any case, oldest first."""
    return _rows(
        conn.execute(
            "SELECT m.id, coalesce(m.published_at, m.collected_at) AS said_at, left(m.text, 200) AS excerpt, "
            "s.label, s.p_negative, c.id AS case_id, c.status AS case_status "
            "FROM mentions m LEFT JOIN scores s ON s.mention_id = m.id "
            "LEFT JOIN cases c ON c.mention_id = m.id "
            "WHERE m.source = ? AND m.author = ? ORDER BY said_at, m.id",
            [source, author],
        )
    )


def insert_author_note(
    conn: Connection,
    note_id: str,
    source: str,
    author: str,
    note: str,
    confidential: bool,
    actor: str,
    at: datetime,
) -> None:
    conn.execute(
        "INSERT INTO author_notes VALUES (?, ?, ?, ?, ?, ?, ?)",
        [note_id, source, author, note, confidential, actor, at],
    )


def author_notes(
    conn: Connection, source: str, author: str, include_confidential: bool
) -> list[dict[str, Any]]:
    return _rows(
        conn.execute(
            "SELECT note, confidential, actor, created_at FROM author_notes "
            "WHERE source = ? AND author = ? AND (? OR NOT confidential) ORDER BY created_at",
            [source, author, include_confidential],
        )
    )


# --- notifications ------------------------------------------------------------------


def insert_notification(
    conn: Connection,
    at: datetime,
    channel: str,
    target: str,
    event: str,
    case_id: str | None,
    subject: str,
    status: str,
    attempts: int,
    last_error: str | None,
) -> None:
    conn.execute(
        "INSERT INTO notifications (created_at, channel, target, event, case_id, subject, status, attempts, "
        "last_error, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            at,
            channel,
            target,
            event,
            case_id,
            subject,
            status,
            attempts,
            last_error,
            at if status == "sent" else None,
        ],
    )


def notifications(conn: Connection, case_id: str | None = None) -> list[dict[str, Any]]:
    return _rows(
        conn.execute(
            "SELECT * FROM notifications WHERE (? IS NULL OR case_id = ?) ORDER BY id", [case_id, case_id]
        )
    )


# --- dashboard read models ------------------------------------------------------------


def pending_approvals(conn: Connection) -> list[dict[str, Any]]:
    """Drafts waiting for a comms lead, oldest first, with the mention beside them."""
    rows = _rows(
        conn.execute(
            "SELECT d.id AS draft_id, d.case_id, d.version, d.situation, d.lang, d.template_key, d.body, "
            "d.author AS drafted_by, d.created_at, d.findings, m.text AS mention, m.author, m.source, c.tier "
            "FROM drafts d JOIN cases c ON c.id = d.case_id JOIN mentions m ON m.id = c.mention_id "
            "WHERE d.state = 'pending_approval' ORDER BY d.created_at"
        )
    )
    for row in rows:
        row["findings"] = json.loads(row["findings"])
    return rows


def source_health(conn: Connection) -> list[dict[str, Any]]:
    """Each source's state and its last run."""
    return _rows(
        conn.execute(
            "SELECT s.name, s.kind, s.url, st.status, st.last_ok_at, st.last_run_at, st.last_error, "
            "st.items_last_run, (SELECT count(*) FROM mentions m WHERE m.source = s.name) AS mentions "
            "FROM sources s LEFT JOIN source_state st ON st.source = s.name ORDER BY s.name"
        )
    )


# --- trends and KPIs for leaders ---------------------------------------------------------


# When a mention happened: its publication time, else when we collected it.
AT = "coalesce(m.published_at, m.collected_at)"

# What a trends breakdown may group by; the only names that reach the SQL text.
BREAKDOWNS = {"source": "m.source", "language": "coalesce(m.lang, 'und')", "theme": "theme"}


def daily_sentiment(
    conn: Connection, model_id: str, since: datetime, by: str = "source"
) -> list[dict[str, Any]]:
    """Mentions per day, ``by`` (source, language or theme) and sentiment label since ``since``.

    By theme, a mention counts once under each of its themes (untagged ones under "none").
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {sorted(BREAKDOWNS)}")
    themes = (
        ", unnest(CASE WHEN len(s.themes) = 0 THEN ['none'] ELSE s.themes END) AS theme"
        if by == "theme"
        else ""
    )
    return _rows(
        conn.execute(
            f"SELECT day, {BREAKDOWNS[by]} AS {by}, label, count(*) AS mentions FROM ("
            f" SELECT date_trunc('day', {AT}) AS day, m.source, m.lang, "
            f" s.label{themes} FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
            f" WHERE {AT} >= ?) AS m "
            f"GROUP BY ALL ORDER BY day, {by}, label",
            [model_id, since],
        )
    )


def daily_negative_counts(
    conn: Connection, model_id: str, start: datetime, end: datetime
) -> list[tuple[Any, int]]:
    """(day, negative mentions) for every day from ``start`` to ``end``, zero days included."""
    return [
        (day, int(count))
        for day, count in conn.execute(
            "SELECT d.day, count(m.id) FROM (SELECT unnest(generate_series("
            "date_trunc('day', ?::TIMESTAMPTZ), date_trunc('day', ?::TIMESTAMPTZ), INTERVAL 1 DAY)) "
            "AS day) d "
            f"LEFT JOIN (SELECT m.id, date_trunc('day', {AT}) AS day FROM mentions m "
            " JOIN scores s ON s.mention_id = m.id AND s.model_id = ? AND s.label = 'negative' "
            f" WHERE {AT} >= ? - INTERVAL 1 DAY) m ON m.day = d.day "
            "GROUP BY d.day ORDER BY d.day",
            [start, end, model_id, start],
        ).fetchall()
    ]


def top_complaint_themes(
    conn: Connection, since: datetime, limit: int | None = 5, until: datetime | None = None
) -> list[dict[str, Any]]:
    """The most frequent themes among complaints in ``[since, until)``, most first (``limit=None``: all)."""
    return _rows(
        conn.execute(
            "SELECT theme, count(*) AS complaints FROM ("
            " SELECT unnest(s.themes) AS theme FROM triage t JOIN scores s ON s.mention_id = t.mention_id "
            " AND s.model_id = t.model_id JOIN mentions m ON m.id = t.mention_id "
            f" WHERE t.validity = 'complaint' AND {AT} >= ? AND (?::TIMESTAMPTZ IS NULL OR {AT} < ?)) "
            "GROUP BY theme ORDER BY complaints DESC, theme LIMIT ?",
            [since, until, until, limit],
        )
    )


def response_kpis(
    conn: Connection, now: datetime, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Care KPIs (DOMAIN.md): response and resolution times, SLA, repeats, backlog.

    Over all cases, or those opened in ``[since, until)`` (the backlog is always now's).
    """
    period = [since, since, until, until]
    row = conn.execute(
        "SELECT "
        " median(epoch(first_response_at - created_at)) / 3600.0, "
        " median(epoch(resolved_at - created_at)) / 3600.0, "
        " count(*) FILTER (WHERE first_response_at IS NOT NULL AND first_response_at <= first_response_due), "
        " count(*) FILTER (WHERE first_response_at IS NOT NULL OR first_response_due < ?), "
        " count(*) FILTER (WHERE status = 'closed'), "
        " count(*) FILTER (WHERE status = 'closed' AND (SELECT count(*) FROM drafts d "
        "   WHERE d.case_id = cases.id AND d.state = 'sent') = 1) "
        "FROM cases WHERE status <> 'dismissed' "
        "AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)",
        [now, *period],
    ).fetchone()
    assert row is not None
    repeat = conn.execute(
        "SELECT count(*) FILTER ("
        " WHERE len(list_filter(reasons, lambda r: starts_with(r, 'repeat complainer:'))) > 0), "
        "count(*) FROM triage WHERE validity = 'complaint' "
        "AND (? IS NULL OR triaged_at >= ?) AND (? IS NULL OR triaged_at < ?)",
        period,
    ).fetchone()
    assert repeat is not None
    backlog = conn.execute(
        "SELECT CASE WHEN age < INTERVAL 2 HOUR THEN 'under 2 h' WHEN age < INTERVAL 24 HOUR THEN '2-24 h' "
        " WHEN age < INTERVAL 48 HOUR THEN '1-2 days' ELSE 'over 2 days' END AS age, count(*) AS cases "
        "FROM (SELECT ? - created_at AS age FROM cases WHERE list_contains(?, status)) GROUP BY ALL",
        [now, list(OPEN_STATUSES)],
    ).fetchall()
    return {
        "median_first_response_hours": row[0],
        "median_resolution_hours": row[1],
        "sla_met_pct": 100.0 * row[2] / row[3] if row[3] else None,
        "first_contact_resolution_pct": 100.0 * row[5] / row[4] if row[4] else None,
        "repeat_complaint_pct": 100.0 * repeat[0] / repeat[1] if repeat[1] else None,
        "open_backlog_by_age": dict(backlog),
    }


# --- spikes --------------------------------------------------------------------------------


def negative_counts_per_window(conn: Connection, model_id: str, end: datetime, windows: int) -> list[int]:
    """Negative mentions in each 24 h window ending at ``end``: newest first."""
    rows = conn.execute(
        f"SELECT floor(epoch(? - {AT}) / 86400)::INTEGER AS w, count(*) "
        "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? AND s.label = 'negative' "
        f"WHERE {AT} > ? - to_days(?) "
        f"AND {AT} <= ? GROUP BY w",
        [end, model_id, end, windows, end],
    ).fetchall()
    counts = dict(rows)
    return [int(counts.get(w, 0)) for w in range(windows)]


def window_negatives(
    conn: Connection, model_id: str, start: datetime, end: datetime, limit: int
) -> dict[str, Any]:
    """The themes and the most negative mentions of one window, for a spike notice."""
    where = (
        "FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? AND s.label = 'negative' "
        f"WHERE {AT} > ? AND {AT} <= ? "
    )
    themes = conn.execute(
        f"SELECT theme, count(*) AS n FROM (SELECT unnest(s.themes) AS theme {where}) "
        "GROUP BY theme ORDER BY n DESC, theme LIMIT 5",
        [model_id, start, end],
    ).fetchall()
    examples = _rows(
        conn.execute(
            f"SELECT m.id, m.source, m.author, m.text, m.url {where} "
            "ORDER BY s.p_negative DESC, m.id LIMIT ?",
            [model_id, start, end, limit],
        )
    )
    return {"themes": [{"theme": t, "mentions": n} for t, n in themes], "examples": examples}


def latest_spike(conn: Connection) -> dict[str, Any] | None:
    rows = _rows(conn.execute("SELECT * FROM spikes ORDER BY detected_at DESC LIMIT 1"))
    return rows[0] if rows else None


def insert_spike(conn: Connection, spike: dict[str, Any]) -> int:
    row = conn.execute(
        "INSERT INTO spikes (detected_at, window_start, window_end, mentions, baseline_mean, baseline_sd, "
        "threshold, themes, examples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [
            spike["detected_at"],
            spike["window_start"],
            spike["window_end"],
            spike["mentions"],
            spike["baseline_mean"],
            spike["baseline_sd"],
            spike["threshold"],
            json.dumps(spike["themes"]),
            json.dumps(spike["examples"], default=str),
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def recent_spikes(conn: Connection, since: datetime) -> list[dict[str, Any]]:
    return _rows(conn.execute("SELECT * FROM spikes WHERE detected_at >= ? ORDER BY detected_at", [since]))


def spikes_between(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    return _rows(
        conn.execute(
            "SELECT * FROM spikes WHERE detected_at >= ? AND detected_at < ? ORDER BY detected_at",
            [since, until],
        )
    )


# --- the monthly leader report ---------------------------------------------------------------


def sentiment_totals(conn: Connection, model_id: str, since: datetime, until: datetime) -> dict[str, int]:
    """Mentions per label published in ``[since, until)``."""
    rows = conn.execute(
        "SELECT s.label, count(*) FROM mentions m JOIN scores s ON s.mention_id = m.id AND s.model_id = ? "
        f"WHERE {AT} >= ? AND {AT} < ? "
        "GROUP BY s.label",
        [model_id, since, until],
    ).fetchall()
    return {label: int(n) for label, n in rows}


def owner_summary(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per owner: cases opened in the period, closed, open now, median first response (hours)."""
    return _rows(
        conn.execute(
            "SELECT coalesce(owner, '(unassigned)') AS owner, count(*) AS cases, "
            " count(*) FILTER (WHERE status = 'closed') AS closed, "
            " count(*) FILTER (WHERE list_contains(?, status)) AS still_open, "
            " median(epoch(first_response_at - created_at)) / 3600.0 AS median_first_response_hours "
            "FROM cases WHERE status <> 'dismissed' AND created_at >= ? AND created_at < ? "
            "GROUP BY ALL ORDER BY cases DESC, owner",
            [list(OPEN_STATUSES), since, until],
        )
    )
