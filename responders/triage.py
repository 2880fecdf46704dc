"""Triage: what kind of mention this is, how urgent, and why.

Every scored mention is triaged. Every conclusion carries a human-readable reason
(DOMAIN.md: invalid items are told apart with the reason shown, never silently
dropped), and every signal that raised the priority is listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from responders.signals import INVALID_SIGNALS, PRIORITY_SIGNALS, QUESTION_PATTERNS
from voxwatch.domain import Tier, Validity
from voxwatch.i18n import N_  # reasons are stored in English and shown in the reader's language
from voxwatch.patterns import any_of
from voxwatch.settings import TriageSettings


@dataclass(frozen=True)
class TriageInput:
    text: str
    p_negative: float
    label: str
    author: str | None = None
    author_reach: int | None = None
    prior_negatives: int = 0
    negative_threshold: float = 0.5
    themes: tuple[str, ...] = ()
    urgent_themes: frozenset[str] = frozenset()
    off_topic: str | None = None  # why it is off-topic, when it is
    duplicate_of: str | None = None  # an earlier mention with the same text


@dataclass(frozen=True)
class Triage:
    validity: Validity
    validity_reason: str
    tier: Tier
    reasons: list[str] = field(default_factory=list)

    @property
    def needs_case(self) -> bool:
        """Complaints and questions get answered; invalid items are kept, dismissed."""
        return self.validity in (Validity.COMPLAINT, Validity.QUESTION, Validity.INVALID)


def matched(signals: dict[str, tuple[str, ...]], text: str) -> list[str]:
    """Names of the signals whose patterns occur in ``text``."""
    return [name for name, patterns in signals.items() if any_of(patterns, f"signal {name!r}").search(text)]


def is_question(text: str) -> bool:
    return bool(any_of(QUESTION_PATTERNS, "question patterns").search(text))


def _validity(item: TriageInput) -> tuple[Validity, str]:
    if item.duplicate_of:
        return Validity.DUPLICATE, N_("repost of mention {mention}: linked, no new case").format(
            mention=item.duplicate_of
        )
    invalid = matched(INVALID_SIGNALS, item.text)
    if invalid:
        return Validity.INVALID, invalid[0]
    if item.off_topic:
        return Validity.INVALID, item.off_topic
    if item.p_negative >= item.negative_threshold:
        return Validity.COMPLAINT, N_("negative sentiment (p={p})").format(p=f"{item.p_negative:.2f}")
    # Escalation phrases are complaints whatever the model makes of the wording.
    signals = matched(PRIORITY_SIGNALS, item.text)
    if signals:
        return Validity.COMPLAINT, N_("complaint signal: {signal} (model p_negative={p})").format(
            signal=signals[0], p=f"{item.p_negative:.2f}"
        )
    if is_question(item.text):
        return Validity.QUESTION, N_("asks a question")
    if item.label == "positive":
        return Validity.PRAISE, N_("positive sentiment")
    return Validity.NEUTRAL, N_("neutral, no question: nothing to answer")


def triage(item: TriageInput, settings: TriageSettings) -> Triage:
    validity, reason = _validity(item)
    if validity is Validity.INVALID:
        return Triage(validity, reason, Tier.NORMAL, [reason])
    reasons = matched(PRIORITY_SIGNALS, item.text) if validity is Validity.COMPLAINT else []
    if validity is Validity.COMPLAINT and item.prior_negatives:
        reasons.append(
            N_("repeat complainer: {n} earlier negative mention(s)").format(n=item.prior_negatives)
        )
    reasons += [
        N_("theme: {theme}").format(theme=t)
        for t in item.themes
        if t in item.urgent_themes and validity is Validity.COMPLAINT
    ]
    if item.author and item.author in settings.vip_authors:
        reasons.append(N_("VIP / high-value customer"))
    if item.author_reach is not None and item.author_reach >= settings.high_reach_followers:
        reasons.append(
            N_("high reach author ({followers} followers)").format(followers=f"{item.author_reach:,}")
        )
    # Strong wording alone keeps the normal tier; any escalation signal makes it urgent.
    urgent = bool(reasons)
    if validity is Validity.COMPLAINT and item.p_negative >= settings.strong_negative:
        reasons.append(N_("strongly negative (p={p})").format(p=f"{item.p_negative:.2f}"))
    return Triage(validity, reason, Tier.URGENT if urgent else Tier.NORMAL, reasons)
