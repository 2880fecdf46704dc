"""The care team's commands: ``voxwatch cases ...``, ``templates ...``, ``route``, ``lint``.

Every action goes through ``responders.cases.CaseService``, so the same role,
state and four-eyes checks apply here as in the dashboard. ``--as NAME`` says who
is acting (a name from the settings' responders).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from voxwatch.settings import LibrarySettings, load_settings

if TYPE_CHECKING:
    from responders.cases import CaseService

console = Console()
cases_app = typer.Typer(help="Work on cases: list, show, assign, hand off, draft, approve, send, close.")
templates_app = typer.Typer(help="The approved response templates.")
authors_app = typer.Typer(help="One view per author: history, mood over time, notes.")

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Settings TOML file.")]
ActorOption = Annotated[str, typer.Option("--as", help="Who is acting (a responder name from settings).")]
CaseArg = Annotated[str, typer.Argument(help="Case id, e.g. case-1a2b3c...")]


def _service(config: Path | None) -> CaseService:
    from responders.cases import CaseService
    from voxwatch.cli import config_path

    return CaseService(load_settings(config_path(config)))


def _print_json(value: Any) -> None:
    from responders.cases import as_json_ready

    print(json.dumps(as_json_ready(value), ensure_ascii=False, indent=2))


@cases_app.command("list")
def list_cases(
    config: ConfigOption = None,
    status: Annotated[str | None, typer.Option(help="Only this status (default: all open).")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """Cases sorted by first-response due time, most urgent first."""
    rows = _service(config).list(status, owner, team)
    if as_json:
        _print_json(rows)
        return
    table = Table("case", "status", "tier", "owner", "team", "due (UTC)", "author", "text")
    now = datetime.now(UTC)
    for row in rows:
        due = row["first_response_due"]
        style = "red" if due < now or row["escalated_at"] else None
        table.add_row(
            row["id"],
            row["status"],
            row["tier"],
            row["owner"] or "-",
            row["team"],
            f"{due:%Y-%m-%d %H:%M}",
            row["author"] or "-",
            row["excerpt"],
            style=style,
        )
    console.print(table)


@cases_app.command("show")
def show(case_id: CaseArg, config: ConfigOption = None) -> None:
    """Everything about one case as JSON: mention, triage, draft, hand-offs, audit trail."""
    _print_json(_service(config).show(case_id))


@cases_app.command("assign")
def assign(
    case_id: CaseArg,
    actor: ActorOption,
    to: Annotated[str | None, typer.Option(help="New owner (default: yourself, i.e. claim).")] = None,
    config: ConfigOption = None,
) -> None:
    """Assign a case, or claim it for yourself."""
    _service(config).assign(case_id, actor, to or actor)
    console.print(f"{case_id} assigned to {to or actor}")


@cases_app.command("handoff")
def handoff(
    case_id: CaseArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why it is handed off (recorded).")],
    team: Annotated[str | None, typer.Option(help="Team that takes the work.")] = None,
    to: Annotated[str | None, typer.Option(help="Person who takes the work.")] = None,
    config: ConfigOption = None,
) -> None:
    """Hand work to another team or person; you stay accountable as first owner."""
    _service(config).handoff(case_id, actor, reason, to_team=team, to=to)
    console.print(f"{case_id} handed off")


@cases_app.command("draft")
def draft(
    case_id: CaseArg,
    actor: ActorOption,
    situation: Annotated[str, typer.Option(help="Template situation.")] = "first_response",
    body_file: Annotated[
        Path | None, typer.Option(help="Your own text instead of the template's ('-' for stdin).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write a reply from the template (or your text), linted; prints the draft and findings."""
    body = None
    if body_file is not None:
        body = sys.stdin.read() if str(body_file) == "-" else body_file.read_text(encoding="utf-8")
    _print_json(_service(config).draft(case_id, actor, situation, body))


@cases_app.command("submit")
def submit(case_id: CaseArg, actor: ActorOption, config: ConfigOption = None) -> None:
    """Send the latest draft to a comms lead for approval."""
    _service(config).submit(case_id, actor)
    console.print(f"{case_id}: draft submitted for approval")


@cases_app.command("approve")
def approve(
    case_id: CaseArg,
    actor: ActorOption,
    comment: Annotated[str, typer.Option(help="Optional note to the responder.")] = "",
    config: ConfigOption = None,
) -> None:
    """Approve the waiting draft (comms leads only; never your own)."""
    _service(config).approve(case_id, actor, comment)
    console.print(f"{case_id}: draft approved")


@cases_app.command("reject")
def reject(
    case_id: CaseArg,
    actor: ActorOption,
    comment: Annotated[str, typer.Option(help="What to change (required).")],
    config: ConfigOption = None,
) -> None:
    """Send the waiting draft back with a comment."""
    _service(config).reject(case_id, actor, comment)
    console.print(f"{case_id}: draft sent back")


@cases_app.command("send")
def send(case_id: CaseArg, actor: ActorOption, config: ConfigOption = None) -> None:
    """Mark the approved draft as sent (stamps the first-response time)."""
    _service(config).send(case_id, actor)
    console.print(f"{case_id}: reply sent")


@cases_app.command("follow-up")
def follow_up(
    case_id: CaseArg,
    actor: ActorOption,
    note: Annotated[str, typer.Option(help="What the customer said when you followed up.")],
    config: ConfigOption = None,
) -> None:
    """Record the follow-up with the customer."""
    _service(config).follow_up(case_id, actor, note)
    console.print(f"{case_id}: follow-up recorded")


@cases_app.command("close")
def close(
    case_id: CaseArg,
    actor: ActorOption,
    waive_follow_up: Annotated[
        str | None, typer.Option(help="Close without a follow-up, giving the reason.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Close a case (after its follow-up, or with a reason to waive it)."""
    _service(config).close(case_id, actor, waive_follow_up)
    console.print(f"{case_id}: closed")


@cases_app.command("dismiss")
def dismiss(
    case_id: CaseArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why it needs no answer.")],
    config: ConfigOption = None,
) -> None:
    """Dismiss a case as invalid (kept, with the reason)."""
    _service(config).dismiss(case_id, actor, reason)
    console.print(f"{case_id}: dismissed")


@cases_app.command("reopen")
def reopen(
    case_id: CaseArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why it is open again.")],
    config: ConfigOption = None,
) -> None:
    """Reopen a closed or dismissed case."""
    _service(config).reopen(case_id, actor, reason)
    console.print(f"{case_id}: reopened")


@authors_app.command("show")
def author_show(
    source: Annotated[str, typer.Argument(help="Source name, e.g. reddit-larkspur")],
    author: Annotated[str, typer.Argument(help="Author handle as the source gives it")],
    actor: ActorOption,
    config: ConfigOption = None,
) -> None:
    """An author's mentions, cases and mood over time; confidential notes only for allowed roles."""
    _print_json(_service(config).author_view(actor, source, author))


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
    _service(config).add_author_note(actor, source, author, note, confidential)
    console.print("note added")


@templates_app.command("list")
def templates_list(config: ConfigOption = None) -> None:
    """The newest template per situation and language."""
    from responders.templates import TemplateLibrary

    library = TemplateLibrary.load(_library(config).templates)
    table = Table("template", "situation", "lang", "version", "body")
    for t in library.all():
        table.add_row(t.key, t.situation, t.lang, str(t.version), t.body[:80] + "…")
    console.print(table)


def _library(config: Path | None) -> LibrarySettings:
    """The user's template and linter files, when a settings file is there (else the shipped ones)."""
    from voxwatch.cli import config_path

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
    from sentiment.themes import load_themes, tag_themes
    from voxwatch.cli import config_path
    from voxwatch.domain import StoredMention
    from voxwatch.store.queries import RoutingCandidate

    settings = load_settings(config_path(config))
    now = datetime.now(UTC)
    language = lang or detect_language(text)
    (score,) = load_scorer(settings.model).score([text])
    score = replace(score, themes=tuple(tag_themes(text, load_themes(settings.library.themes))))
    mention = StoredMention("dry-run", source, text, author, language, now, now)
    candidate = RoutingCandidate(mention, score, prior_negatives=0)
    result = triage_candidate(settings, candidate)
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
    """Lint a draft: one JSON object per finding; exit 1 if there is any, 0 if clean."""
    from responders.lint import lint, load_rules
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
    raise typer.Exit(1 if findings else 0)
