"""Triage: is a negative mention actionable, how urgent is it, and why.

Every conclusion carries a human-readable reason (DOMAIN.md: invalid items are
told apart with the reason shown, never silently dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from responders.signals import INVALID_SIGNALS, PRIORITY_SIGNALS
from voxwatch.domain import Tier, Validity

STRONG_NEGATIVE = 0.85


@dataclass(frozen=True)
class Triage:
    validity: Validity
    validity_reason: str
    tier: Tier
    reasons: list[str]


@cache
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def matched(signals: dict[str, tuple[str, ...]], text: str) -> list[str]:
    """Names of the signals whose patterns occur in ``text``."""
    return [name for name, patterns in signals.items() if _compiled(patterns).search(text)]


def triage(text: str, p_negative: float, prior_negatives: int) -> Triage:
    invalid = matched(INVALID_SIGNALS, text)
    if invalid:
        return Triage(Validity.INVALID, invalid[0], Tier.NORMAL, invalid)
    reasons = matched(PRIORITY_SIGNALS, text)
    if prior_negatives:
        reasons.append(f"repeat complainer: {prior_negatives} earlier negative mention(s)")
    if p_negative >= STRONG_NEGATIVE:
        reasons.append(f"strongly negative (p={p_negative:.2f})")
    validity_reason = "negative mention" + (" with a question" if "?" in text or "？" in text else "")
    validity = Validity.QUESTION if "?" in text or "？" in text else Validity.COMPLAINT
    # Strong wording alone keeps the normal tier; any escalation signal makes it urgent.
    urgent = any(not r.startswith("strongly negative") for r in reasons)
    return Triage(validity, validity_reason, Tier.URGENT if urgent else Tier.NORMAL, reasons)
