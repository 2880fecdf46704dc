"""What a page shows in our own words that is still English: the Chinese interface's check.

A page in Chinese may still show data in any language (and `code`: the settings file's
keys): mention text, people's and sources' names, case numbers, template keys and drafted
replies. Everything else that has Latin words in it is one of our strings without a
translation. ``leftover`` removes the data it is told about (longest first) and the few
names every language keeps, then returns each string that still holds a Latin word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names and codes every interface language keeps as they are.
KEPT = {
    "VoxWatch",
    "UTC",
    "CSV",
    "HTML",
    "TOML",
    "SLA",
    "VIP",
    "VW",
    "und",
    "en",
    "zh",
    "ja",
    "ko",
    "English",
}
LATIN_WORD = re.compile(r"[A-Za-z](?:[A-Za-z_'-]*[A-Za-z])?")


def leftover(shown: Iterable[str], data: Iterable[str]) -> list[str]:
    """The shown strings with a Latin word that is neither data nor a kept name."""
    known = sorted({d for d in data if d}, key=len, reverse=True)
    found = []
    for text in shown:
        rest = re.sub(r"`[^`]*`", " ", text)  # code spans: keys and names typed as they are
        for piece in known:
            rest = rest.replace(piece, " ")
        words = [w for w in LATIN_WORD.findall(rest) if w not in KEPT and len(w) > 1]
        if words:
            found.append(f"{text!r}: {words}")
    return found
