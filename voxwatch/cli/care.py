"""The care team's other commands: ``authors ...``, ``templates ...``, ``route``, ``lint``.

Every action goes through the services in ``responders``, so the same role checks
apply here as in the dashboard. ``--as NAME`` says who is acting (a name from the
settings' responders), believed only with NAME's token or password
(``voxwatch.cli.identity``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from voxwatch.cli.identity import verified
from voxwatch.cli.options import ActorOption, ConfigOption, config_path
from voxwatch.cli.output import print_json
from voxwatch.settings import LibrarySettings, load_settings

if TYPE_CHECKING:
    from responders.authors import AuthorService

console = Console(soft_wrap=True)  # a message is one line, however long its path
templates_app = typer.Typer(help="The approved response templates.")
authors_app = typer.Typer(help="One view per author: history, mood over time, notes.")


def _authors(config: Path | None, actor: str) -> AuthorService:
    """The author service, once ``actor`` is proven: even reading shows notes by role."""
    from responders.authors import AuthorService

    settings = load_settings(config_path(config))
    verified(settings, actor)
    return AuthorService(settings)


@authors_app.command("show")
def author_show(
    source: Annotated[str, typer.Argument(help="Source name, e.g. reddit-larkspur")],
    author: Annotated[str, typer.Argument(help="Author handle as the source gives it")],
    actor: ActorOption,
    config: ConfigOption = None,
) -> None:
    """An author's mentions, cases and mood over time; confidential notes only for allowed roles."""
    print_json(_authors(config, actor).view(actor, source, author))


@authors_app.command("note")
def author_note(
    source: Annotated[str, typer.Argument(help="Source name")],
    author: Annotated[str, typer.Argument(help="Author handle")],
    actor: ActorOption,
    note: Annotated[str, typer.Option(help="What to remember about this customer.")],
    confidential: Annotated[
        bool, typer.Option(help="Only supervisors, approvers and admins see it.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a note to an author's record (audited)."""
    _authors(config, actor).add_note(actor, source, author, note, confidential)
    console.print("note added")


@authors_app.command("forget")
def author_forget(
    source: Annotated[str, typer.Argument(help="Source name")],
    author: Annotated[str, typer.Argument(help="Author handle as the source gives it")],
    actor: ActorOption,
    config: ConfigOption = None,
) -> None:
    """Erase an author's posts, scores, triage and case details; never collect them again (audited)."""
    erased = _authors(config, actor).forget(actor, source, author)
    console.print(
        f"forgot {author} on {source}: {erased['mentions']} mention(s), {erased['cases']} case(s) redacted, "
        f"{erased.get('notes', 0)} note(s); a tombstone keeps them from coming back"
    )


@templates_app.command("list")
def templates_list(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """The newest template per situation and language."""
    from responders.templates import TemplateLibrary

    library = TemplateLibrary.load(_library(config).templates)
    if as_json:
        print_json([{"key": t.key, **asdict(t)} for t in library.all()])
        return
    table = Table("template", "situation", "lang", "version", box=None, pad_edge=False, expand=True)
    table.add_column("body", no_wrap=True, overflow="ellipsis", ratio=1, min_width=10)
    for t in library.all():
        table.add_row(t.key, t.situation, t.lang, str(t.version), Text(" ".join(t.body.split())))
    Console().print(table)  # a console made now measures this terminal: one line per template


def _library(config: Path | None) -> LibrarySettings:
    """The user's template and linter files, when a settings file is there (else the shipped ones)."""

    path = config_path(config)
    return load_settings(path).library if path.exists() else LibrarySettings()


@templates_app.command("render")
def templates_render(
    situation: Annotated[str, typer.Argument(help="first_response, apology_recovery, ...")],
    lang: Annotated[str, typer.Option(help="en or zh")] = "en",
    customer: Annotated[str, typer.Option(help="Customer name")] = "Sam",
    responder: Annotated[str, typer.Option(help="Responder name")] = "Amy",
    brand: Annotated[str, typer.Option(help="Brand name")] = "Our brand",
    hours: Annotated[float, typer.Option(help="Reply-time promise, hours from now")] = 24,
    config: ConfigOption = None,
) -> None:
    """Render a template with sample values, and lint the result."""
    from datetime import timedelta

    from responders.lint import lint
    from responders.templates import TemplateLibrary, render, reply_by_text

    template = TemplateLibrary.load(_library(config).templates).get(situation, lang)
    due = datetime.now(UTC) + timedelta(hours=hours)
    text = render(
        template,
        customer=customer,
        responder=responder,
        brand=brand,
        reply_by=reply_by_text(due, template.lang),
        case_ref="case-example",
    )
    print(text)
    for finding in lint(text, situation, template.lang):
        console.print(f"[yellow]lint[/] {finding.rule}: {finding.message}")


def route(
    text: Annotated[str, typer.Argument(help="A mention's text.")],
    explain: Annotated[bool, typer.Option("--explain", help="Print the whole decision as JSON.")] = True,
    lang: Annotated[str | None, typer.Option(help="Language (default: detected).")] = None,
    source: Annotated[str, typer.Option(help="Source name, for source rules.")] = "cli",
    author: Annotated[str | None, typer.Option(help="Author handle (VIP list).")] = None,
    config: ConfigOption = None,
) -> None:
    """Dry run: score a text and show validity, tier, reasons, SLA, rule and team. Stores nothing."""
    from responders.decide import route_case, triage_candidate
    from sentiment.lang import detect_language
    from sentiment.model import load_scorer
    from sentiment.theme_match import tag_texts, wheel_matcher
    from sentiment.themes import load_theme_book, urgent_theme_ids
    from voxwatch.domain import RoutingCandidate, StoredMention

    settings = load_settings(config_path(config))
    now = datetime.now(UTC)
    language = lang or detect_language(text)
    (score,) = load_scorer(settings.model).score([text], [language])
    book = load_theme_book(settings.library.themes)
    (themes,) = tag_texts([text], [language], book, wheel_matcher(book))
    score = replace(score, themes=tuple(themes))
    mention = StoredMention("dry-run", source, text, author, language, now, now)
    candidate = RoutingCandidate(mention, score, prior_negatives=0)
    result = triage_candidate(settings, candidate, urgent_theme_ids(settings.library.themes))
    decision: dict[str, Any] = {
        "lang": language,
        "label": score.label,
        "probs": score.probs,
        "themes": list(score.themes),
        "validity": result.validity.value,
        "validity_reason": result.validity_reason,
        "tier": result.tier.value,
        "reasons": result.reasons,
        "opens_case": result.needs_case,
    }
    if result.needs_case:
        case = route_case(settings, result, "dry-run", source, language, text, now, {}, score.themes)
        decision |= {
            "rule": case.rule,
            "team": case.team,
            "owner_if_all_idle": case.owner,
            "status": case.status.value,
            "first_response_due": case.first_response_due.isoformat(),
            "resolution_due": case.resolution_due.isoformat(),
        }
    if explain:
        print(json.dumps(decision, ensure_ascii=False))
    else:
        print(f"{decision['validity']} {decision['tier']} -> {decision.get('team', '-')}")


def lint_command(
    file: Annotated[str, typer.Argument(help="Draft file, or '-' for standard input.")],
    lang: Annotated[str | None, typer.Option(help="en or zh (rules may be language-specific).")] = None,
    situation: Annotated[str | None, typer.Option(help="Template situation, e.g. first_response.")] = None,
    config: ConfigOption = None,
) -> None:
    """Lint a draft: one JSON object per finding; exit 1 on any error or needs_approval finding, else 0.

    An unapproved promise of money, a refund or a deadline (``needs_approval``) fails
    the check too: a draft that still needs the comms lead is not ready to post as
    it stands. (Submitting it in a case is allowed; only errors block that.)
    """
    from responders.lint import blocking, lint, load_rules
    from voxwatch.errors import VoxWatchError

    extra = _library(config).lint_rules
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VoxWatchError(f"cannot read draft {file}: {exc}") from exc
    findings = lint(text, situation, lang, load_rules(extra))
    for finding in findings:
        out = {"rule": finding.rule, "start": finding.start, "end": finding.end, "message": finding.message}
        print(
            json.dumps(out | {"severity": finding.severity, "excerpt": finding.excerpt}, ensure_ascii=False)
        )
    raise typer.Exit(1 if blocking(findings) else 0)
