"""Phrase lists as one case-insensitive regular expression.

Linter rules, complaint themes and triage signals are all user-editable lists of
patterns; this is the one place they become a regex, and a bad pattern becomes
a ``SettingsError`` that names what it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from voxwatch.errors import SettingsError


@cache
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def any_of(patterns: Iterable[str], owner: str = "pattern list") -> re.Pattern[str]:
    """A regex matching any of ``patterns``; ``owner`` names them in errors."""
    try:
        return _compile(tuple(patterns))
    except re.error as exc:
        raise SettingsError(f"{owner}: bad pattern ({exc})") from exc
