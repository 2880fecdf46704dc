"""Domain types shared by every stage.

Plain frozen dataclasses: sources produce ``Mention``s, the model produces
``Score``s, the responders produce ``Routing`` decisions. The store turns them
into rows and back; nothing here knows about SQL, HTTP or screens, and nothing
here imports another VoxWatch module: this is the ground every layer stands on.

Also here, because several layers must agree on them: how a case id is made from
its mention (``case_id_for``), how people write a case's number (``case_number_label``,
``parse_case_number``) and the name under which the pipeline acts in the audit log
(``SYSTEM_ACTOR``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")


class CaseStatus(StrEnum):
    """Case life cycle (DESIGN.md): new -> assigned -> ... -> closed, or dismissed."""

    NEW = "new"
    ASSIGNED = "assigned"
    DRAFTING = "drafting"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class FollowUpOutcome(StrEnum):
    """What the author's next mention after a posted reply did to the case (``FollowUp``)."""

    REOPENED = "reopened"  # negative: the case is back with its owner
    NOTED = "noted"  # linked only: the case is being worked on already, or a person moved it meanwhile
    CLOSED = "closed"  # not negative: the case was waiting on the customer, and is closed as recovered
    RECOVERED = "recovered"  # not negative, the case's status left as it was (closed already, or in work)


class Validity(StrEnum):
    COMPLAINT = "complaint"
    QUESTION = "question"
    PRAISE = "praise"
    NEUTRAL = "neutral"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


class Tier(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


# Who acted, in the audit log, when no person did (collecting, scoring, routing, escalating).
SYSTEM_ACTOR = "system"


def case_id_for(mention_id: str) -> str:
    """The id of the case opened for a mention: one case per mention, whoever opens it."""
    return f"case-{mention_id}"


CASE_NUMBER_PREFIX = "VW-"


def case_number_label(number: int) -> str:
    """How people say and type a case: ``VW-1042``, short enough to read out on a call."""
    return f"{CASE_NUMBER_PREFIX}{number}"


def parse_case_number(ref: str) -> int | None:
    """The number in ``VW-1042``, ``vw-1042`` or ``1042``; None when ``ref`` is not a case number."""
    text = ref.strip()
    if text[: len(CASE_NUMBER_PREFIX)].upper() == CASE_NUMBER_PREFIX:
        text = text[len(CASE_NUMBER_PREFIX) :]
    return int(text) if text.isascii() and text.isdigit() else None


def content_hash(text: str) -> str:
    """Hash of the normalised text, so reposts with other spacing or case match."""
    normal = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_author(author: str | None) -> str | None:
    """An author handle as people mean it: case, spaces, a leading ``@`` or ``/u/`` do not matter.

    None when there is no author: two anonymous posts are never the same person.
    """
    if author is None:
        return None
    handle = " ".join(unicodedata.normalize("NFKC", author).casefold().split())
    for prefix in ("/u/", "u/", "@"):
        handle = handle.removeprefix(prefix)
    return handle or None


def repost_key(author: str | None, text: str) -> str | None:
    """What makes two mentions one complaint: the same author saying the same words.

    The one definition of a near-duplicate: normalised author plus normalised
    text (``content_hash``). Two different authors never share a key, however
    alike their words; a mention with no author has no key at all.
    """
    who = normalise_author(author)
    if who is None:
        return None
    return hashlib.sha256(f"{who}\x00{content_hash(text)}".encode("utf-8", "surrogatepass")).hexdigest()


_SURROGATE = re.compile("[\ud800-\udfff]")  # in a Python str, every surrogate is a lone one


def scrub(text: str | None) -> str | None:
    """Text as the store can keep it: a lone surrogate (JSON's ``"\\ud800"``) becomes U+FFFD."""
    if text is None:
        return None
    return _SURROGATE.sub("\ufffd", text)


def clamp_to_collection(published_at: datetime | None, collected_at: datetime) -> datetime | None:
    """A publication date from the future is the time we collected the post (the SLA clock's start)."""
    if published_at is not None and published_at > collected_at:
        return collected_at
    return published_at


def mention_id(source: str, external_id: str) -> str:
    """Stable id of a mention: the same post from the same source is one row."""
    return hashlib.sha256(f"{source}\x00{external_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Mention:
    """One public post or review as a source parser returns it."""

    external_id: str
    text: str
    url: str | None = None
    author: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    rating: float | None = None
    lang: str | None = None
    author_reach: int | None = None  # followers, where the source tells
    # A date from the future, as the source gave it (published_at is then clamped; kept for display).
    claimed_published_at: datetime | None = None


@dataclass(frozen=True)
class StoredMention:
    """A mention as it sits in the store, ready for the next stage."""

    id: str
    source: str
    text: str
    author: str | None
    lang: str | None
    published_at: datetime | None
    collected_at: datetime
    author_reach: int | None = None
    duplicate_of: str | None = None  # an earlier mention by the same author with the same words


@dataclass(frozen=True)
class SourceState:
    """Where a source stands: its cursor and validators for the next run, and its health."""

    source: str
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    status: str = "ok"
    last_ok_at: datetime | None = None
    last_error: str | None = None
    items_last_run: int | None = None
    resume_page: dict[str, str] | None = None  # where a walk stopped at its page budget continues
    pending_cursor: str | None = None  # the cursor to save once that walk completes
    retry_after_until: datetime | None = None  # the source asked us not to come back before then


@dataclass(frozen=True)
class Score:
    """The model's suggestion for one text; a person may later correct the label."""

    label: str
    probs: dict[str, float]
    model_id: str
    themes: tuple[str, ...] = ()  # complaint themes, tagged in the same stage

    @property
    def negative(self) -> float:
        return self.probs["negative"]


@dataclass(frozen=True)
class TriageRecord:
    """What triage concluded about one scored mention (stored for every mention)."""

    mention_id: str
    model_id: str
    validity: Validity
    reason: str
    tier: Tier
    reasons: list[str]


@dataclass(frozen=True)
class Routing:
    """The case routing opens for an actionable (or dismissed) mention."""

    mention_id: str
    validity: Validity
    validity_reason: str
    tier: Tier
    reasons: list[str]
    rule: str
    team: str
    owner: str | None
    status: CaseStatus
    first_response_due: datetime
    resolution_due: datetime


@dataclass(frozen=True)
class RawResponse:
    """A source's response as received, before any parsing: kept and replayable."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def in_follow_up_window(replied_at: datetime, said_at: datetime, window: timedelta) -> bool:
    """Whether a mention said at ``said_at`` answers a reply posted at ``replied_at``.

    The closed loop's follow-up (DOMAIN.md): what the author says next, from the
    moment the reply is public until ``window`` later, is their answer to it. The
    store (which finds the cases) and the tests share this one definition.
    """
    return replied_at <= said_at <= replied_at + window


@dataclass(frozen=True)
class AnsweredCase:
    """A case whose reply is public, by the same author on the same source as a new mention."""

    case_id: str
    status: CaseStatus
    owner: str | None
    replied_at: datetime  # the case's first_response_at: when its reply was posted


def latest_answered(
    answered: Iterable[AnsweredCase], said_at: datetime, window: timedelta
) -> AnsweredCase | None:
    """The case a mention said at ``said_at`` follows up: the latest reply within the window.

    The most recent reply is the one the author is most likely answering; ties
    (two replies at the same instant) go to the higher case id, so the choice never
    depends on the order the store returned them in.
    """
    inside = [a for a in answered if in_follow_up_window(a.replied_at, said_at, window)]
    return max(inside, key=lambda a: (a.replied_at, a.case_id), default=None)


@dataclass(frozen=True)
class RoutingCandidate:
    """A scored, not yet triaged mention with what triage needs to know.

    When its SLA clock starts is a care rule, so it lives in ``responders.sla``
    (``clock_start``), not here.
    """

    mention: StoredMention
    score: Score
    prior_negatives: int
    watch_started_at: datetime | None = None  # when this source was first collected
    # The author's answered case this mention follows up (``latest_answered``), if any.
    answered_case: AnsweredCase | None = None

    @property
    def said_at(self) -> datetime:
        """When the mention was said: its publication time, else when it was collected."""
        return self.mention.published_at or self.mention.collected_at


@dataclass(frozen=True)
class FollowUp:
    """The author's next mention after a posted reply, linked to that case, and what it does to it.

    ``status`` is the case's new status (None: it stays) and ``expected`` the status
    it was decided from: if a person moved the case between routing's read and its
    write, the store changes nothing and only notes the link. ``reason`` goes in the
    audit entry of the change.
    """

    case_id: str
    mention_id: str
    label: str
    said_at: datetime
    outcome: FollowUpOutcome
    expected: CaseStatus
    status: CaseStatus | None
    reason: str


@dataclass(frozen=True)
class Decision:
    """What routing decided for one candidate: its triage, and the case to open (if any)."""

    triage: TriageRecord
    case: Routing | None
    candidate: RoutingCandidate  # what was decided on, for the case's audit trail
    # Notices the new case calls for (urgent: tell the channel and the owner), queued with it.
    messages: tuple[Outgoing, ...] = ()
    # The author answering a posted reply: linked to that case instead of opening a new one.
    follow_up: FollowUp | None = None


@dataclass(frozen=True)
class Notice:
    """A message for the team (urgent case, SLA breach, spike), before any channel sends it."""

    event: str  # "urgent_case", "sla_breach", "spike", ...
    subject: str
    text: str
    case_id: str | None = None
    ref: str | None = None  # what the notice is about when not a case (a spike's id): one notice per ref


@dataclass(frozen=True)
class Outgoing:
    """A message queued in the outbox: a reply to put in public, or a notice for the team.

    ``key`` is its idempotency key: queuing the same key twice queues it once, and
    publishers hand it to platforms that dedupe on it. Built by the stages
    (``responders.outbox``), stored by the store in the same transaction as the
    change that calls for it, delivered afterwards.
    """

    key: str
    kind: str  # "reply" or "notice"
    channel: str  # mastodon, bluesky, email, webhook, manual
    target: str
    body: str
    case_id: str | None = None
    draft_version: int | None = None
    event: str | None = None
    subject: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    state: str = "pending"  # "awaiting_link" for a reply a person posts by hand
