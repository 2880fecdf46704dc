"""The schema as named, ordered migrations.

Append new migrations at the end; never edit one that has shipped. ``Store.migrate``
applies the ones a database has not seen, each in its own transaction, and records
them in ``schema_migrations``.
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    version: int
    name: str
    sql: str
    # Run after ``sql`` on Postgres only: indexes a row store needs where DuckDB scans columns.
    postgres_sql: str = ""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial",
        """
        CREATE TABLE sources (
            name VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        -- One row per source: where collection stands and how healthy it is.
        CREATE TABLE source_state (
            source VARCHAR PRIMARY KEY,
            cursor VARCHAR,
            etag VARCHAR,
            last_modified VARCHAR,
            status VARCHAR NOT NULL DEFAULT 'ok',
            last_run_at TIMESTAMPTZ,
            last_ok_at TIMESTAMPTZ,
            last_error VARCHAR,
            items_last_run INTEGER
        );
        -- One row per collection run of a source: its health over time.
        CREATE TABLE source_runs (
            source VARCHAR NOT NULL,
            ran_at TIMESTAMPTZ NOT NULL,
            status VARCHAR NOT NULL,
            http_status INTEGER,
            items_new INTEGER NOT NULL,
            error VARCHAR
        );
        -- Raw responses, content-addressed, kept for audit and replay.
        CREATE TABLE raw_responses (
            sha256 VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            url VARCHAR NOT NULL,
            status INTEGER NOT NULL,
            content_type VARCHAR,
            fetched_at TIMESTAMPTZ NOT NULL,
            body BLOB NOT NULL
        );
        CREATE TABLE mentions (
            id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            external_id VARCHAR NOT NULL,
            url VARCHAR,
            author VARCHAR,
            title VARCHAR,
            text VARCHAR NOT NULL,
            lang VARCHAR,
            rating DOUBLE,
            author_reach BIGINT,
            published_at TIMESTAMPTZ,
            collected_at TIMESTAMPTZ NOT NULL,
            content_hash VARCHAR NOT NULL,
            duplicate_of VARCHAR,  -- the same text seen before (repost, cross-post)
            raw_sha256 VARCHAR,
            UNIQUE (source, external_id)
        );
        -- The model's suggestion, one row per mention and model version.
        CREATE TABLE scores (
            mention_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            p_negative DOUBLE NOT NULL,
            p_neutral DOUBLE NOT NULL,
            p_positive DOUBLE NOT NULL,
            themes VARCHAR[] NOT NULL,
            scored_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (mention_id, model_id)
        );
        CREATE TABLE responders (
            name VARCHAR PRIMARY KEY,
            display_name VARCHAR NOT NULL,
            team VARCHAR NOT NULL,
            roles VARCHAR[] NOT NULL,
            languages VARCHAR[] NOT NULL,
            capacity INTEGER NOT NULL,
            active BOOLEAN NOT NULL DEFAULT TRUE
        );
        -- Triage of every scored mention: the system's suggestion, kept apart from cases.
        CREATE TABLE triage (
            mention_id VARCHAR PRIMARY KEY,
            model_id VARCHAR NOT NULL,
            validity VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            tier VARCHAR NOT NULL,
            reasons VARCHAR[] NOT NULL,
            triaged_at TIMESTAMPTZ NOT NULL
        );
        -- The work item: one per actionable (or dismissed) mention.
        CREATE TABLE cases (
            id VARCHAR PRIMARY KEY,
            mention_id VARCHAR NOT NULL UNIQUE,
            tier VARCHAR NOT NULL,
            reasons VARCHAR[] NOT NULL,
            rule VARCHAR NOT NULL,
            team VARCHAR NOT NULL,
            owner VARCHAR,
            first_owner VARCHAR,
            status VARCHAR NOT NULL,
            dismissed_reason VARCHAR,
            first_response_due TIMESTAMPTZ NOT NULL,
            resolution_due TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            first_response_at TIMESTAMPTZ,
            followed_up_at TIMESTAMPTZ,
            follow_up_waived VARCHAR,
            resolved_at TIMESTAMPTZ,
            escalated_at TIMESTAMPTZ
        );
        -- Work handed to another team or person; the first owner stays accountable.
        CREATE SEQUENCE handoff_id;
        CREATE TABLE handoffs (
            id BIGINT PRIMARY KEY DEFAULT nextval('handoff_id'),
            case_id VARCHAR NOT NULL,
            occurred_at TIMESTAMPTZ NOT NULL,
            actor VARCHAR NOT NULL,
            from_team VARCHAR NOT NULL,
            to_team VARCHAR NOT NULL,
            from_owner VARCHAR,
            to_owner VARCHAR,
            reason VARCHAR NOT NULL
        );
        -- Replies: the template's suggestion, the person's text, the linter's findings
        -- and the approver's decision, each kept.
        CREATE TABLE drafts (
            id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            situation VARCHAR NOT NULL,
            lang VARCHAR NOT NULL,
            template_key VARCHAR,
            body VARCHAR NOT NULL,
            author VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            findings JSON NOT NULL,
            state VARCHAR NOT NULL,
            decided_by VARCHAR,
            decided_at TIMESTAMPTZ,
            decision_comment VARCHAR,
            sent_at TIMESTAMPTZ,
            UNIQUE (case_id, version)
        );
        -- A person's correction of the model's label: kept apart from the score, feeds evaluation.
        CREATE TABLE label_corrections (
            mention_id VARCHAR NOT NULL,
            model_id VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            corrected_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE author_notes (
            id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            author VARCHAR NOT NULL,
            note VARCHAR NOT NULL,
            confidential BOOLEAN NOT NULL,
            actor VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL
        );
        CREATE SEQUENCE notification_id;
        CREATE TABLE notifications (
            id BIGINT PRIMARY KEY DEFAULT nextval('notification_id'),
            created_at TIMESTAMPTZ NOT NULL,
            channel VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            event VARCHAR NOT NULL,
            case_id VARCHAR,
            subject VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            attempts INTEGER NOT NULL,
            last_error VARCHAR,
            sent_at TIMESTAMPTZ
        );
        -- Append-only: the store has no statement that updates or deletes it.
        CREATE SEQUENCE audit_log_id;
        CREATE TABLE audit_log (
            id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id'),
            occurred_at TIMESTAMPTZ NOT NULL,
            actor VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            entity_id VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            before JSON,
            after JSON
        );
        """,
    ),
    Migration(
        2,
        "spikes",
        """
        -- One row per spike of negative mentions; the comms channel is told once per row.
        CREATE SEQUENCE spike_id;
        CREATE TABLE spikes (
            id BIGINT PRIMARY KEY DEFAULT nextval('spike_id'),
            detected_at TIMESTAMPTZ NOT NULL,
            window_start TIMESTAMPTZ NOT NULL,
            window_end TIMESTAMPTZ NOT NULL,
            mentions INTEGER NOT NULL,
            baseline_mean DOUBLE NOT NULL,
            baseline_sd DOUBLE NOT NULL,
            threshold DOUBLE NOT NULL,
            themes JSON NOT NULL,
            examples JSON NOT NULL
        );
        """,
    ),
    Migration(
        3,
        "reliability",
        """
        -- A walk that stopped at its page budget continues from here next run.
        ALTER TABLE source_state ADD COLUMN resume_page VARCHAR;  -- JSON query parameters
        ALTER TABLE source_state ADD COLUMN pending_cursor VARCHAR;  -- saved as cursor when the walk ends
        -- The source asked us (Retry-After) not to come back before then.
        ALTER TABLE source_state ADD COLUMN retry_after_until TIMESTAMPTZ;
        ALTER TABLE source_state ADD COLUMN warning VARCHAR;  -- e.g. items that reused another's id
        ALTER TABLE source_runs ADD COLUMN warning VARCHAR;
        -- The same author saying the same words (a duplicate); the same words from someone else
        -- are only related, and still routed.
        ALTER TABLE mentions ADD COLUMN repost_key VARCHAR;
        ALTER TABLE mentions ADD COLUMN related_to VARCHAR;
        ALTER TABLE mentions ADD COLUMN claimed_published_at TIMESTAMPTZ;  -- a future date as given
        CREATE INDEX mentions_repost_key ON mentions (repost_key);
        CREATE INDEX mentions_content_hash ON mentions (content_hash);
        -- People who asked to be forgotten: their posts are never collected again.
        CREATE TABLE forgotten_authors (
            source VARCHAR NOT NULL,
            author_key VARCHAR NOT NULL,
            forgotten_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (source, author_key)
        );
        """,
    ),
    Migration(
        4,
        "resolution_escalation",
        """
        -- Breaching the resolution target escalates too, once per case, apart from the
        -- first-response escalation recorded in escalated_at.
        ALTER TABLE cases ADD COLUMN resolution_escalated_at TIMESTAMPTZ;
        """,
    ),
    Migration(
        5,
        "outbox",
        """
        -- Everything VoxWatch says to the outside world (replies in public, notices to the
        -- team) is first written here, in the same transaction as the change that calls for
        -- it, and delivered afterwards outside any transaction. The key is the idempotency
        -- key: the same message is queued once, and a platform that dedupes on it (Mastodon's
        -- Idempotency-Key, a Bluesky record key) never shows it twice.
        CREATE SEQUENCE outbox_order;
        CREATE TABLE outbox (
            key VARCHAR PRIMARY KEY,
            seq BIGINT NOT NULL DEFAULT nextval('outbox_order'),  -- delivered in the order queued
            kind VARCHAR NOT NULL,  -- 'reply' or 'notice'
            channel VARCHAR NOT NULL,  -- mastodon, bluesky, email, webhook, manual
            target VARCHAR NOT NULL,  -- the post answered, or the recipient
            case_id VARCHAR,
            draft_version INTEGER,  -- replies: exactly the approved version that goes out
            event VARCHAR,  -- notices: urgent_case, sla_breach, spike, publish_failed
            subject VARCHAR,
            body VARCHAR NOT NULL,
            extra JSON,
            -- pending -> sending -> sent; failed (given up), unknown (a person must check),
            -- awaiting_link (manual: a person posts by hand and pastes the link)
            state VARCHAR NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMPTZ NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            last_attempt_at TIMESTAMPTZ,
            claimed_by VARCHAR,  -- host:pid of the process delivering it (a dead one's claim lapses)
            sent_at TIMESTAMPTZ,
            external_id VARCHAR,
            external_url VARCHAR,
            last_error VARCHAR
        );
        CREATE INDEX outbox_case ON outbox (case_id);
        ALTER TABLE cases ADD COLUMN reply_url VARCHAR;  -- where the reply is, once posted
        """,
    ),
    Migration(
        6,
        "person_tokens",
        """
        -- Personal tokens for the command line: proof that `--as NAME` is NAME. Only a
        -- SHA-256 of each token is kept (tokens are 32 random bytes, so no slow hash is
        -- needed); the token itself is shown once, when it is made.
        CREATE TABLE person_tokens (
            id VARCHAR PRIMARY KEY,  -- a short public id, to list and revoke by
            person VARCHAR NOT NULL,
            token_sha256 VARCHAR NOT NULL UNIQUE,
            created_at TIMESTAMPTZ NOT NULL,
            created_by VARCHAR NOT NULL,
            revoked_at TIMESTAMPTZ,
            revoked_by VARCHAR
        );
        """,
    ),
    Migration(
        7,
        "case_followups",
        """
        -- The author's next mentions after a case's reply was posted (within the follow-up
        -- window): linked to the case instead of opening a new one. One row per mention, so
        -- routing again links nothing twice. Rows are only inserted (and deleted by erasure).
        CREATE TABLE case_followups (
            mention_id VARCHAR PRIMARY KEY,
            case_id VARCHAR NOT NULL,
            label VARCHAR NOT NULL,  -- the model's label when it was linked
            -- what it did: reopened, noted (linked only), closed (as recovered), recovered
            outcome VARCHAR NOT NULL,
            said_at TIMESTAMPTZ NOT NULL,
            linked_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    Migration(
        8,
        "dashboard_sessions",
        """
        -- Dashboard sign-ins. A session cookie carries a person's generation; "sign out
        -- everywhere" raises it, so every older cookie (and open tab) stops working.
        CREATE TABLE dashboard_sessions (
            person VARCHAR PRIMARY KEY,
            generation INTEGER NOT NULL,
            changed_at TIMESTAMPTZ NOT NULL
        );
        -- The key that signs session cookies when the environment gives none: made once.
        CREATE TABLE dashboard_secrets (
            name VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL
        );
        -- Failed sign-ins, per account and per client address, for the lockout. A
        -- successful sign-in deletes the account's rows; the audit log keeps them all.
        CREATE TABLE sign_in_failures (
            scope VARCHAR NOT NULL,  -- account or address
            key VARCHAR NOT NULL,
            failed_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    Migration(
        9,
        "case_numbers",
        """
        -- Case numbers people can say and type (VW-1042): one per case, sequential per
        -- installation, never changed or reused. Existing cases are numbered in the order
        -- they were opened; the sequence then continues after the last of them (it is
        -- advanced once per existing case). New cases take nextval in insert_case.
        -- (The index comes before the backfill: DuckDB builds none over a transaction's updates.)
        CREATE SEQUENCE case_number START 1;
        ALTER TABLE cases ADD COLUMN number BIGINT;
        CREATE UNIQUE INDEX cases_number ON cases (number);
        UPDATE cases SET number = ordered.n
        FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM cases) ordered
        WHERE cases.id = ordered.id;
        SELECT max(nextval('case_number')) FROM cases;
        """,
    ),
    Migration(
        10,
        "daily_rollups",
        """
        -- What the trends page and the monthly report count, kept per UTC day as the rows
        -- arrive, in the same transaction (queries/rollups.py), so reading 90 days reads a few
        -- thousand rows however many millions of mentions there are. A day is that of the
        -- mention's publication, else of its collection (queries.analytics.AT).
        -- Scored mentions per model, day, source, language ('und' when unknown) and label.
        CREATE TABLE daily_sentiment (
            model_id VARCHAR NOT NULL,
            day TIMESTAMPTZ NOT NULL,
            source VARCHAR NOT NULL,
            lang VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            mentions BIGINT NOT NULL,
            PRIMARY KEY (model_id, day, source, lang, label)
        );
        -- The same per theme: a mention counts under each of its themes, an untagged one under 'none'.
        CREATE TABLE daily_theme_sentiment (
            model_id VARCHAR NOT NULL,
            day TIMESTAMPTZ NOT NULL,
            theme VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            mentions BIGINT NOT NULL,
            PRIMARY KEY (model_id, day, theme, label)
        );
        -- Complaints (triage validity) per day and theme, with the themes of the triage's model.
        CREATE TABLE daily_complaint_themes (
            day TIMESTAMPTZ NOT NULL,
            theme VARCHAR NOT NULL,
            complaints BIGINT NOT NULL,
            PRIMARY KEY (day, theme)
        );
        INSERT INTO daily_sentiment
        SELECT s.model_id, date_trunc('day', coalesce(m.published_at, m.collected_at)), m.source,
               coalesce(m.lang, 'und'), s.label, count(*)
        FROM scores s JOIN mentions m ON m.id = s.mention_id GROUP BY 1, 2, 3, 4, 5;
        INSERT INTO daily_theme_sentiment
        SELECT s.model_id, date_trunc('day', coalesce(m.published_at, m.collected_at)), t.theme, s.label,
               count(*)
        FROM scores s JOIN mentions m ON m.id = s.mention_id,
             unnest(CASE WHEN cardinality(s.themes) = 0 THEN ARRAY['none']::VARCHAR[] ELSE s.themes END)
             AS t(theme)
        GROUP BY 1, 2, 3, 4;
        INSERT INTO daily_complaint_themes
        SELECT date_trunc('day', coalesce(m.published_at, m.collected_at)), t.theme, count(*)
        FROM triage tr JOIN scores s ON s.mention_id = tr.mention_id AND s.model_id = tr.model_id
             JOIN mentions m ON m.id = tr.mention_id, unnest(s.themes) AS t(theme)
        WHERE tr.validity = 'complaint' GROUP BY 1, 2;
        """,
    ),
    Migration(
        11,
        "case_kpi_rollups",
        """
        -- The care KPIs of the cases opened each UTC day (queries/kpi_rollups.py): a change to
        -- a case uncounts it and counts it again in the same transaction, so the trends page
        -- reads 90 rows, not millions of cases. Routed cases only (not dismissed).
        CREATE TABLE daily_case_kpis (
            day TIMESTAMPTZ PRIMARY KEY,
            cases BIGINT NOT NULL,
            answered BIGINT NOT NULL,            -- with a first response
            answered_in_time BIGINT NOT NULL,    -- first response by its due time
            closed BIGINT NOT NULL,
            closed_one_reply BIGINT NOT NULL,    -- closed with exactly one reply sent
            answered_complaints BIGINT NOT NULL DEFAULT 0,  -- complaints with a first response
            spoke_again BIGINT NOT NULL DEFAULT 0,          -- ... whose author posted again
            recovered BIGINT NOT NULL DEFAULT 0             -- ... and that next post was not negative
        );
        -- How many of a day's cases took each whole number of minutes to first response and
        -- to resolution: a period's medians come from these counts.
        CREATE TABLE daily_case_durations (
            day TIMESTAMPTZ NOT NULL,
            measure VARCHAR NOT NULL,  -- first_response or resolution
            minutes BIGINT NOT NULL,
            cases BIGINT NOT NULL,
            PRIMARY KEY (day, measure, minutes)
        );
        -- Complaints per day of triage, and how many came from a repeat complainer.
        CREATE TABLE daily_complaint_repeats (
            day TIMESTAMPTZ PRIMARY KEY,
            complaints BIGINT NOT NULL,
            repeats BIGINT NOT NULL
        );
        INSERT INTO daily_case_kpis (day, cases, answered, answered_in_time, closed, closed_one_reply)
        SELECT date_trunc('day', c.created_at), count(*), count(c.first_response_at),
               count(*) FILTER (WHERE c.first_response_at <= c.first_response_due),
               count(*) FILTER (WHERE c.status = 'closed'),
               count(*) FILTER (WHERE c.status = 'closed' AND (SELECT count(*) FROM drafts d
                                WHERE d.case_id = c.id AND d.state = 'sent') = 1)
        FROM cases c WHERE c.status <> 'dismissed' GROUP BY 1;
        UPDATE daily_case_kpis SET answered_complaints = r.answered_complaints,
               spoke_again = r.spoke_again, recovered = r.recovered
        FROM (SELECT date_trunc('day', a.created_at) AS day, count(*) AS answered_complaints,
                     count(n.case_id) AS spoke_again,
                     count(*) FILTER (WHERE n.label <> 'negative') AS recovered
              FROM (SELECT c.id, c.created_at FROM cases c JOIN triage t ON t.mention_id = c.mention_id
                    WHERE t.validity = 'complaint' AND c.first_response_at IS NOT NULL
                    AND c.status <> 'dismissed') AS a
              LEFT JOIN (SELECT case_id, label FROM (
                  SELECT f.case_id, coalesce((SELECT lc.label FROM label_corrections lc
                         WHERE lc.mention_id = f.mention_id ORDER BY lc.corrected_at DESC, lc.label LIMIT 1),
                         f.label) AS label,
                         row_number() OVER (PARTITION BY f.case_id ORDER BY f.said_at, f.mention_id) AS rank
                  FROM case_followups f) AS ranked WHERE rank = 1) AS n ON n.case_id = a.id
              GROUP BY 1) AS r
        WHERE daily_case_kpis.day = r.day;
        INSERT INTO daily_case_durations
        SELECT day, measure, minutes, count(*) FROM (
            SELECT date_trunc('day', created_at) AS day, CAST('first_response' AS VARCHAR) AS measure,
                   CAST(floor(extract(epoch FROM first_response_at - created_at) / 60) AS BIGINT) AS minutes
            FROM cases WHERE first_response_at IS NOT NULL AND status <> 'dismissed'
            UNION ALL
            SELECT date_trunc('day', created_at), CAST('resolution' AS VARCHAR),
                   CAST(floor(extract(epoch FROM resolved_at - created_at) / 60) AS BIGINT)
            FROM cases WHERE resolved_at IS NOT NULL AND status <> 'dismissed'
        ) AS d GROUP BY day, measure, minutes;
        INSERT INTO daily_complaint_repeats
        SELECT date_trunc('day', tr.triaged_at), count(*),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM unnest(tr.reasons) AS r(reason)
                                              WHERE starts_with(reason, 'repeat complainer:')))
        FROM triage tr WHERE tr.validity = 'complaint' GROUP BY 1;
        """,
        postgres_sql="""
        -- Cases by opening time, for a period counted from the rows (the monthly report in a
        -- business time zone, owners' figures); the unanswered ones, whose due time passing is
        -- counted as it is read; open cases, most urgent first, for the inbox,
        -- the backlog and escalation (the predicate is queries.cases.OPEN, word for word);
        -- a case's follow-ups and a post's label corrections, for service recovery.
        CREATE INDEX cases_created ON cases (created_at);
        CREATE INDEX cases_unanswered ON cases (first_response_due)
            WHERE first_response_at IS NULL AND status <> 'dismissed';
        CREATE INDEX cases_open ON cases (first_response_due, id) INCLUDE (created_at, owner, status)
            WHERE status IN ('new', 'assigned', 'drafting', 'pending_approval', 'approved', 'sent',
                             'follow_up');
        CREATE INDEX case_followups_case ON case_followups (case_id);
        CREATE INDEX label_corrections_mention ON label_corrections (mention_id);
        """,
    ),
)
