"""The template library: approved phrasing per situation and language, versioned.

Templates render in Jinja2's immutable sandbox. Only template *bodies* from the
library are ever compiled; mention text and author names reach a template as
variable values, so ``{{ 7*7 }}`` in a tweet stays the five characters it is.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from responders.plaintext import plain_text_name
from responders.sla import promised_time
from voxwatch.errors import SettingsError
from voxwatch.settings import SlaSettings

SITUATIONS = ("first_response", "apology_recovery", "need_more_info", "resolved", "follow_up", "closing")
VARIABLES = frozenset({"customer", "brand", "responder", "reply_by", "case_ref"})
# Values written by whoever posted (the author's display name): they go in as plain words,
# never as the Markdown, HTML, links or @-mentions they may hold (responders/plaintext.py).
FROM_POSTS = frozenset({"customer"})
# What the greeting says when nothing usable is left of a name, per template language.
NEUTRAL_NAMES = {"en": "there", "zh": "顾客"}


@dataclass(frozen=True)
class Template:
    situation: str
    lang: str
    version: int
    body: str

    @property
    def key(self) -> str:
        return f"{self.situation}/{self.lang}@v{self.version}"


@cache
def _environment() -> ImmutableSandboxedEnvironment:
    # Plain-text replies: no HTML escaping, but undefined names are errors, not blanks.
    return ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


def _validate(template: Template, origin: str) -> Template:
    where = f"template {template.key} in {origin}"
    if template.situation not in SITUATIONS:
        raise SettingsError(f"{where}: unknown situation (known: {', '.join(SITUATIONS)})")
    try:
        names = meta.find_undeclared_variables(_environment().parse(template.body))
    except TemplateError as exc:
        raise SettingsError(f"{where}: {exc}") from exc
    unknown = names - VARIABLES
    if unknown:
        raise SettingsError(f"{where}: unknown variable(s) {sorted(unknown)}; known: {sorted(VARIABLES)}")
    if template.situation == "first_response" and "reply_by" not in names:
        raise SettingsError(f"{where}: a first response must promise a reply time with {{{{ reply_by }}}}")
    return template


def checked(template: Template, origin: str) -> Template:
    """``template`` if it would load (known situation, known variables, a reply time); else SettingsError."""
    return _validate(template, origin)


def _parse(text: str, origin: str) -> list[Template]:
    try:
        rows = tomllib.loads(text).get("templates", [])
        return [
            _validate(Template(r["situation"], r["lang"], int(r["version"]), r["body"].strip()), origin)
            for r in rows
        ]
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"templates in {origin}: {exc!r}") from exc


class TemplateLibrary:
    """The newest version of each (situation, language), plus every older version by key."""

    def __init__(self, templates: list[Template]) -> None:
        self.by_key = {t.key: t for t in templates}
        self.latest: dict[tuple[str, str], Template] = {}
        for t in sorted(templates, key=lambda t: t.version):
            self.latest[(t.situation, t.lang)] = t

    @classmethod
    def load(cls, extra: Path | None = None) -> TemplateLibrary:
        """The shipped library; templates in ``extra`` add to it or supersede by version."""
        shipped = resources.files("responders.data").joinpath("templates.toml").read_text(encoding="utf-8")
        templates = _parse(shipped, "responders/data/templates.toml")
        if extra is not None:
            try:
                templates += _parse(extra.read_text(encoding="utf-8"), str(extra))
            except OSError as exc:
                raise SettingsError(f"cannot read templates {extra}: {exc.strerror or exc}") from exc
        return cls(templates)

    def get(self, situation: str, lang: str | None) -> Template:
        """The newest template for a situation, in the language or else in English."""
        for candidate in (lang or "en", "en"):
            if (situation, candidate) in self.latest:
                return self.latest[(situation, candidate)]
        raise SettingsError(f"no template for situation {situation!r}")

    def all(self) -> list[Template]:
        return sorted(self.latest.values(), key=lambda t: (t.situation, t.lang))


# Zones a Chinese reader knows as Beijing time: name them as they expect to read it.
BEIJING_TIME_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})


def reply_by_text(
    due: datetime,
    lang: str | None,
    tz: str = "UTC",
    now: datetime | None = None,
    sla: SlaSettings | None = None,
) -> str:
    """The reply-time promise as a customer reads it: in their language, naming the time zone.

    A deadline without a zone means a different hour to every reader, so both
    languages say which clock it is on. A promise is never in the past: once
    ``due`` has passed (at ``now``, by default the real clock), the promise is the
    urgent first-response target in ``sla``'s working time from now (see
    ``responders.sla.promised_time``).
    """
    moment = promised_time(due, now or datetime.now(UTC), sla or SlaSettings())
    local = moment.astimezone(ZoneInfo(tz))
    if lang == "zh":
        zone = "北京时间" if tz in BEIJING_TIME_ZONES else f"{tz} 时间"
        return f"{local.month}月{local.day}日 {local:%H:%M}（{zone}）"
    return f"{local:%H:%M} ({tz}) on {local:%Y-%m-%d}"


def render(template: Template, **values: str) -> str:
    """Fill a template; every value is data and is never parsed as template code.

    Values from posts (``FROM_POSTS``) are reduced to plain words first: a display
    name is internet text, and a link or image in it would otherwise go out in a
    public reply under the brand's name, where the linter could not tell it from
    the approved phrasing.
    """
    missing = VARIABLES - values.keys()
    if missing:
        raise ValueError(f"template {template.key}: missing values {sorted(missing)}")
    neutral = NEUTRAL_NAMES.get(template.lang, NEUTRAL_NAMES["en"])
    plain = {name: plain_text_name(values[name], neutral) for name in FROM_POSTS & values.keys()}
    return _environment().from_string(template.body).render(**(values | plain))
