"""Language of a mention, from its script and a few very common words.

VoxWatch serves English and Chinese speakers first. Telling those apart is a
question of script (Han characters vs Latin letters), which this answers without
a model; other scripts are named when they are unambiguous (kana, hangul), and
Latin-script text that shows no common English words is ``und`` (undetermined)
rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata

_ENGLISH_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "my",
        "your",
        "our",
        "this",
        "that",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "not",
        "no",
        "at",
        "by",
        "from",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "can",
        "will",
        "would",
        "just",
        "so",
        "very",
        "what",
        "why",
        "how",
        "when",
        "me",
    ]
)
_WORD = re.compile(r"[a-z']+")


def _script_counts(text: str) -> dict[str, int]:
    counts = {"han": 0, "kana": 0, "hangul": 0, "latin": 0}
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        if name.startswith("CJK UNIFIED") or name.startswith("CJK COMPATIBILITY IDEOGRAPH"):
            counts["han"] += 1
        elif name.startswith(("HIRAGANA", "KATAKANA")):
            counts["kana"] += 1
        elif name.startswith("HANGUL"):
            counts["hangul"] += 1
        elif name.startswith("LATIN"):
            counts["latin"] += 1
    return counts


def detect_language(text: str) -> str:
    """Return an ISO 639-1 code (``en``, ``zh``, ``ja``, ``ko``) or ``und``."""
    counts = _script_counts(text)
    if counts["kana"]:
        return "ja"
    if counts["hangul"] > counts["han"]:
        return "ko"
    # Han characters carry a word each; Latin letters need ~5 for one word.
    if counts["han"] and counts["han"] * 5 >= counts["latin"]:
        return "zh"
    words = _WORD.findall(text.lower())
    if words and sum(w in _ENGLISH_WORDS for w in words) >= max(1, len(words) // 10):
        return "en"
    return "und"
