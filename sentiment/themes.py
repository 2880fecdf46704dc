"""Complaint themes: what a mention is about, from a definition users can edit.

Themes are stored with each score and feed routing rules, triage (an ``urgent``
theme is a priority signal) and the trends leaders watch. The definition is data
(``sentiment/data/themes.toml``), so a team can add its own vocabulary without
touching code.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from voxwatch.errors import SettingsError
from voxwatch.patterns import any_of


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    patterns: tuple[str, ...]
    urgent: bool = False
    # The label in other interface languages ({"zh": "配送"}); ``label`` is the English one.
    labels: tuple[tuple[str, str], ...] = ()
    # What the theme is about, in words an embedding can compare a text with (any language).
    description: str = ""
    examples: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", any_of(self.patterns, f"theme {self.id!r}"))


@dataclass(frozen=True)
class Similarity:
    """How texts in languages without keyword lists get their themes (``[similarity]``).

    ``languages``: those the patterns are written for; a text in any other language
    also gets every theme whose description or examples its embedding is within
    ``threshold`` (cosine) of. A threshold above 1 turns matching by meaning off.
    """

    languages: frozenset[str] = frozenset({"en", "zh"})
    threshold: float = 2.0


@dataclass(frozen=True)
class ThemeBook:
    """A themes file: the themes in definition order and how similarity applies."""

    themes: tuple[Theme, ...]
    similarity: Similarity


def _strings(value: object, key: str) -> tuple[str, ...]:
    """A list of strings from TOML, or a ValueError naming ``key`` (a bare string is not a list)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings, not {value!r}")
    return tuple(value)


def _threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"[similarity] threshold must be a number above 0 (above 1: off), not {value!r}")
    return float(value)


def _theme(r: dict) -> Theme:
    return Theme(
        r["id"],
        r.get("label", r["id"]),
        tuple(r["patterns"]),
        bool(r.get("urgent", False)),
        tuple(sorted((str(k), str(v)) for k, v in r.get("labels", {}).items())),
        str(r.get("description", "")),
        _strings(r.get("examples", []), f"theme {r['id']!r} examples"),
    )


def _parse(text: str, origin: str) -> ThemeBook:
    try:
        document = tomllib.loads(text)
        themes = tuple(_theme(r) for r in document["themes"])
        given = document.get("similarity", {})
        similarity = Similarity(
            frozenset(
                _strings(given.get("languages", sorted(Similarity.languages)), "[similarity] languages")
            ),
            _threshold(given.get("threshold", Similarity.threshold)),
        )
        return ThemeBook(themes, similarity)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SettingsError(f"themes in {origin}: {exc!r}") from exc


@cache
def load_theme_book(path: Path | None = None) -> ThemeBook:
    """The shipped definition, or the user's file when settings name one."""
    if path is None:
        text = resources.files("sentiment.data").joinpath("themes.toml").read_text(encoding="utf-8")
        return _parse(text, "sentiment/data/themes.toml")
    try:
        return _parse(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise SettingsError(f"cannot read themes {path}: {exc.strerror or exc}") from exc


def load_themes(path: Path | None = None) -> tuple[Theme, ...]:
    """The themes of the shipped definition, or of the user's file when settings name one."""
    return load_theme_book(path).themes


def theme_labels(lang: str, path: Path | None = None) -> dict[str, str]:
    """Theme id -> its label in ``lang`` (the English label where the file gives none)."""
    return {theme.id: dict(theme.labels).get(lang, theme.label) for theme in load_themes(path)}


def tag_themes(text: str, themes: tuple[Theme, ...]) -> list[str]:
    """Ids of every theme whose patterns occur in ``text``, in definition order."""
    return [theme.id for theme in themes if theme.regex.search(text)]


def urgent_theme_ids(path: Path | None = None) -> frozenset[str]:
    """The ids of the themes marked urgent: triage raises a complaint about them to urgent."""
    return frozenset(theme.id for theme in load_themes(path) if theme.urgent)
