"""The interface's languages: message catalogues a translator edits, and locale formatting.

Every word the dashboard and the monthly report show is an English message id marked
in the code (``_("Inbox")``, ``N_("new")`` for words kept in tables) and translated in
``voxwatch/locale/<lang>/LC_MESSAGES/voxwatch.po``: plain gettext files, edited with any
PO editor and no code (``voxwatch/locale/README.md`` says how to add a message or a
language). They are read with Babel at first use, so there is no compile step to forget.

Messages use ``{name}`` placeholders, filled after translation, so a translator can move
them. Dates and numbers are formatted for the locale by Babel (CLDR data).

Only our own words are translated: text from the internet (a mention, an author's name)
is data and is shown as it came.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import BinaryIO, Final

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from voxwatch.errors import SettingsError

DOMAIN: Final = "voxwatch"
ENGLISH: Final = "en"
# Interface languages: code -> the name of the language in itself (what the switch shows).
LANGUAGES: Final = {"en": "English", "zh": "简体中文"}
LOCALES: Final = {"en": "en_GB", "zh": "zh_Hans_CN"}


def N_(message: str) -> str:
    """Mark a word for the catalogue without translating it yet (a table of statuses, say)."""
    return message


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> msgstr for ``lang``, read from its .po file (English has none: ids are English)."""
    if lang == ENGLISH:
        return {}
    if lang not in LANGUAGES:
        raise SettingsError(f"interface language {lang!r} is not one of {', '.join(LANGUAGES)}")
    path = resources.files("voxwatch").joinpath(f"locale/{lang}/LC_MESSAGES/{DOMAIN}.po")
    with path.open("rb") as po:
        messages = read_po(po, locale=LOCALES[lang], domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in messages
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


@dataclass(frozen=True)
class Translator:
    """Our words and our numbers in one interface language; call it like gettext's ``_``."""

    lang: str = ENGLISH

    def __call__(self, message: str, **values: object) -> str:
        """The translation of ``message`` (English when it has none), with ``{name}``s filled in."""
        text = catalogue(self.lang).get(message, message)
        return text.format(**values) if values else text

    @property
    def locale(self) -> Locale:
        return _locale(self.lang)

    def recorded(self, text: str, names: Mapping[str, str] | None = None) -> str:
        """A message the store kept in English (a routing reason), in this language.

        Reasons are written with a marked message and its values filled in
        (``N_("theme: {theme}").format(...)``); this finds the message whose shape the
        text has and translates it, values included when they are messages themselves
        (a signal's name) or ids ``names`` has a name for (a theme's). Text of any other
        shape is shown as it was recorded.
        """
        words = catalogue(self.lang)
        if not words or text in words or len(text) > 2000:
            return words.get(text, text)
        for pattern, message in _shapes(self.lang):
            found = pattern.fullmatch(text)
            if found:
                values = {
                    k: (names or {}).get(v) or self.recorded(v, names) for k, v in found.groupdict().items()
                }
                return words[message].format(**values)
        return text

    def day(self, day: date | datetime) -> str:
        """A day as people of this locale write it (30 Nov 2026, 2026年11月30日)."""
        return format_date(day, format="medium", locale=self.locale)

    def month(self, day: date) -> str:
        """A month and its year (November 2026, 2026年11月)."""
        return format_skeleton("yMMMM", day, locale=self.locale)

    def moment(self, when: datetime) -> str:
        """A UTC time with its date, in the locale's order, always saying UTC."""
        return format_datetime(when, format="yyyy-MM-dd HH:mm", locale=self.locale) + " UTC"

    def number(self, value: float, digits: int = 1) -> str:
        """A number with the locale's separators and ``digits`` decimals."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: float) -> str:
        """A share (0.42) as a whole percentage (42%)."""
        return format_percent(share, locale=self.locale)


def extract_toml_messages(
    fileobj: BinaryIO, keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extractor for data files whose ``message`` keys are shown (the shipped lint rules).

    Named in ``locale/babel.cfg``, so ``pybabel extract`` puts those messages in the catalogue too.
    """
    for number, line in enumerate(fileobj.read().decode("utf-8").splitlines(), start=1):
        found = re.match(r'\s*message\s*=\s*"((?:[^"\\]|\\.)*)"\s*$', line)
        if found:
            yield number, None, tomllib.loads(f"m = {found.group(0).split('=', 1)[1].strip()}")["m"], []


@cache
def _locale(lang: str) -> Locale:
    """Parsed once per language: every date and number a page formats asks for it."""
    return Locale.parse(LOCALES[lang])


@cache
def _shapes(lang: str) -> list[tuple[re.Pattern[str], str]]:
    """Each message with ``{name}`` placeholders as a pattern matching its filled-in English."""
    shapes = []
    for message in catalogue(lang):
        if "{" not in message:
            continue
        parts = re.split(r"\{(\w+)\}", message)
        if not any(re.search(r"\w", literal) for literal in parts[::2]):
            continue  # all placeholders ("{what} {due}"): it would match any text
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        shapes.append((re.compile(regex, re.DOTALL), message))
    return shapes


ENGLISH_WORDS: Final = Translator()  # the default for functions that take a translator


def translator(lang: str | None) -> Translator:
    """The translator for ``lang``; an unknown or missing language gets English."""
    return Translator(lang if lang in LANGUAGES else ENGLISH)
