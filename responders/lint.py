"""The draft linter: checks a reply against good service practice before anyone sees it.

Rules are data (``responders/data/lint_rules.toml`` plus any file the user adds);
this module only applies them. Each finding names its rule and the offending
span, so an editor can underline it. ``responders/LINT_RULES.md`` gives each
rule's precision and recall on the labelled replies in
``tests/fixtures/lint_replies.jsonl`` (``bench/lint_report.py`` writes it).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from voxwatch.errors import SettingsError
from voxwatch.i18n import ENGLISH_WORDS, Translator
from voxwatch.patterns import any_of

Severity = Literal["error", "needs_approval"]


@dataclass(frozen=True)
class LintRule:
    id: str
    kind: Literal["forbidden", "required"]
    severity: Severity
    message: str
    patterns: tuple[str, ...]
    situations: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    # A match that the template itself put in the draft (its text is in ``allowed``) is
    # no finding: a template's own link is approved phrasing, a pasted one is not.
    allowed_in_template: bool = False
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", any_of(self.patterns, f"lint rule {self.id!r}"))

    def applies(self, situation: str | None, lang: str | None) -> bool:
        return (not self.situations or situation in self.situations) and (
            not self.langs or lang in self.langs
        )


@dataclass(frozen=True)
class Finding:
    rule: str
    start: int
    end: int
    message: str
    severity: Severity
    excerpt: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rules_from_toml(text: str, origin: str) -> list[LintRule]:
    try:
        data = tomllib.loads(text)
        return [
            LintRule(
                id=r["id"],
                kind=r["kind"],
                severity=r.get("severity", "error"),
                message=r["message"],
                patterns=tuple(r["patterns"]),
                situations=tuple(r.get("situations", ())),
                langs=tuple(r.get("langs", ())),
                allowed_in_template=bool(r.get("allowed_in_template", False)),
            )
            for r in data.get("rules", [])
        ]
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise SettingsError(f"lint rules in {origin}: {exc!r}") from exc


@cache
def default_rules() -> tuple[LintRule, ...]:
    text = resources.files("responders.data").joinpath("lint_rules.toml").read_text(encoding="utf-8")
    return tuple(_rules_from_toml(text, "responders/data/lint_rules.toml"))


def load_rules(extra: Path | None = None) -> tuple[LintRule, ...]:
    """The shipped rules, plus the rules in ``extra`` when settings name a file."""
    if extra is None:
        return default_rules()
    try:
        text = extra.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read lint rules {extra}: {exc.strerror or exc}") from exc
    return default_rules() + tuple(_rules_from_toml(text, str(extra)))


def _forbidden(rule: LintRule, text: str, allowed: str | None) -> list[Finding]:
    """A finding per match, except matches the template put there when the rule allows them."""
    return [
        Finding(rule.id, m.start(), m.end(), rule.message, rule.severity, m.group(0))
        for m in rule.regex.finditer(text)
        if not (rule.allowed_in_template and allowed is not None and m.group(0) in allowed)
    ]


def lint(
    text: str,
    situation: str | None = None,
    lang: str | None = None,
    rules: Iterable[LintRule] | None = None,
    allowed: str | None = None,
) -> list[Finding]:
    """All findings for ``text``, in the order they occur.

    ``allowed`` is the text the draft started from (the rendered template): a match
    of an ``allowed_in_template`` rule (links, markup, @-mentions) that also
    appears there is the template's own and is not flagged. Without it, every
    match is.
    """
    findings: list[Finding] = []
    for rule in rules if rules is not None else default_rules():
        if not rule.applies(situation, lang):
            continue
        if rule.kind == "forbidden":
            findings.extend(_forbidden(rule, text, allowed))
        elif not rule.regex.search(text):
            findings.append(Finding(rule.id, 0, len(text), rule.message, rule.severity, ""))
    return sorted(findings, key=lambda f: (f.start, f.rule))


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """Findings that stop a draft as it stands: every ``error`` and every ``needs_approval``.

    ``voxwatch lint`` exits 1 on any of them, so an unapproved promise of money or a
    deadline fails a check as surely as a forbidden phrase. Submitting a draft is
    stricter only about errors: a promise may go to the comms lead, who approves it.
    """
    return [f for f in findings if f.severity in ("error", "needs_approval")]


def split_findings(findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(must fix, needs approval): errors stop a submission; notes only ask the comms lead to look."""
    found = list(findings)
    return [f for f in found if f.severity == "error"], [f for f in found if f.severity == "needs_approval"]


def finding_words(finding: Finding, tr: Translator = ENGLISH_WORDS) -> str:
    """A finding as people read it: the rule, the words it is about (not character offsets), why.

    The rule's message is translated when the catalogue has it (the shipped rules' are there).
    """
    about = f" '{finding.excerpt}'" if finding.excerpt else ""
    return tr("{rule}:{about} - {why}", rule=finding.rule, about=about, why=tr.recorded(finding.message))
