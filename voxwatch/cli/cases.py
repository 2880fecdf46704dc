"""``voxwatch cases ...``: list, show and act on cases, as the dashboard does.

Every action goes through ``responders.cases.CaseService``, so the same role,
state and four-eyes checks apply here as in the dashboard. ``--as NAME`` says who
is acting (a name from the settings' responders), and is believed only with proof:
NAME's token in ``$VOXWATCH_TOKEN``, or NAME's password at a prompt
(``voxwatch.cli.identity``).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from voxwatch.cli.identity import verified
from voxwatch.cli.options import ActorOption, ConfigOption, config_path
from voxwatch.cli.output import print_json
from voxwatch.domain import case_number_label, parse_case_number
from voxwatch.settings import load_settings

if TYPE_CHECKING:
    from responders.cases import CaseService

console = Console(soft_wrap=True)  # a message is one line, however long its path
cases_app = typer.Typer(help="Work on cases: list, show, assign, hand off, draft, approve, send, close.")

CaseArg = Annotated[
    str, typer.Argument(help="The case: its number (VW-1042 or 1042), its id, or the start of its id.")
]

# A terminal this wide or wider also shows tier, team and author in ``cases list``.
WIDE = 120


def _service(config: Path | None) -> CaseService:
    """The case service, for reading: listing and showing need nobody's proof."""
    from responders.cases import CaseService

    return CaseService(load_settings(config_path(config)))


def _acting(config: Path | None, actor: str) -> CaseService:
    """The case service, once ``actor`` is proven (token or password); nothing is read before."""
    from responders.cases import CaseService

    settings = load_settings(config_path(config))
    verified(settings, actor)
    return CaseService(settings)


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
        print_json(rows)
        return
    screen = Console()  # made now, so it measures the terminal (or $COLUMNS) this command runs in
    screen.print(case_table(rows, datetime.now(UTC), wide=screen.width >= WIDE))


def case_table(rows: list[dict], now: datetime, wide: bool = False) -> Table:
    """One line per case, whatever the terminal's width: number, status, due, owner, first words.

    Every column but the text keeps its width and never wraps; the text takes what is
    left and ends in an ellipsis, so 80 columns still read as a list, not a word per
    line. Cells are ``Text``: a post's words are never read as rich markup.
    """
    table = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    table.add_column("case", no_wrap=True)
    table.add_column("status", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("due (UTC)", no_wrap=True)
    table.add_column("owner", no_wrap=True, max_width=10, overflow="ellipsis")
    if wide:
        for name in ("tier", "team", "author"):
            table.add_column(name, no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("text", no_wrap=True, overflow="ellipsis", ratio=1, min_width=10)
    for row in rows:
        due = row["first_response_due"].astimezone(UTC)
        late = due < now or row["escalated_at"] is not None
        extra = [row["tier"], row["team"], row["author"] or "-"] if wide else []
        cells = [_label(row), row["status"], f"{due:%m-%d %H:%M}", row["owner"] or "-", *extra]
        text = " ".join((row["excerpt"] or "").split())  # one line, even if the post had several
        table.add_row(*map(Text, cells), Text(text), style="red" if late else None)
    return table


def _label(row: dict) -> str:
    """The case as people name it: its number, or its id for a case without one."""
    return case_number_label(row["number"]) if row.get("number") is not None else str(row["id"])


def _named(ref: str) -> str:
    """How a message names the case a person typed: ``VW-n`` for a number (digits are one), else as typed."""
    number = parse_case_number(ref)
    return case_number_label(number) if number is not None else ref


@cases_app.command("show")
def show(case_id: CaseArg, config: ConfigOption = None) -> None:
    """One case as JSON: mention, triage, draft, hand-offs, audit trail, the customer's next mentions."""
    print_json(_service(config).show(case_id))


@cases_app.command("assign")
def assign(
    case_id: CaseArg,
    actor: ActorOption,
    to: Annotated[str | None, typer.Option(help="New owner (default: yourself, i.e. claim).")] = None,
    config: ConfigOption = None,
) -> None:
    """Assign a case, or claim it for yourself."""
    _acting(config, actor).assign(case_id, actor, to or actor)
    console.print(f"{_named(case_id)} assigned to {to or actor}")


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
    _acting(config, actor).handoff(case_id, actor, reason, to_team=team, to=to)
    console.print(f"{_named(case_id)} handed off")


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
    print_json(_acting(config, actor).draft(case_id, actor, situation, body))


@cases_app.command("submit")
def submit(case_id: CaseArg, actor: ActorOption, config: ConfigOption = None) -> None:
    """Send the latest draft to a comms lead for approval."""
    _acting(config, actor).submit(case_id, actor)
    console.print(f"{_named(case_id)}: draft submitted for approval")


@cases_app.command("approve")
def approve(
    case_id: CaseArg,
    actor: ActorOption,
    comment: Annotated[str, typer.Option(help="Optional note to the responder.")] = "",
    config: ConfigOption = None,
) -> None:
    """Approve the waiting draft (comms leads only; never your own)."""
    _acting(config, actor).approve(case_id, actor, comment)
    console.print(f"{_named(case_id)}: draft approved")


@cases_app.command("reject")
def reject(
    case_id: CaseArg,
    actor: ActorOption,
    comment: Annotated[str, typer.Option(help="What to change (required).")],
    config: ConfigOption = None,
) -> None:
    """Send the waiting draft back with a comment."""
    _acting(config, actor).reject(case_id, actor, comment)
    console.print(f"{_named(case_id)}: draft sent back")


@cases_app.command("send")
def send(
    case_id: CaseArg,
    actor: ActorOption,
    config: ConfigOption = None,
    version: Annotated[
        int | None, typer.Option(help="The approved version you read; refused if it is not the latest.")
    ] = None,
) -> None:
    """Send the approved reply: posted through the source's channel, or by you by hand."""
    entry = _acting(config, actor).send(case_id, actor, version)
    said = f"{_named(case_id)}: reply v{entry['draft_version']}"
    if entry["state"] == "sent":
        console.print(f"{said} posted: {entry['external_url'] or '(no link)'}")
    elif entry["state"] == "awaiting_link":
        console.print(
            f"{said} approved to post by hand; then record it with "
            f"`voxwatch cases reply-link {case_id} URL --as {actor}`"
        )
    else:
        console.print(f"{said} queued ({entry['state']}): {entry['last_error']}")


@cases_app.command("reply-link")
def reply_link(
    case_id: CaseArg,
    url: Annotated[str, typer.Argument(help="Link to the reply as posted.")],
    actor: ActorOption,
    config: ConfigOption = None,
) -> None:
    """Record where a reply posted by hand (or one whose outcome was unknown) is public."""
    _acting(config, actor).record_reply_link(case_id, actor, url)
    console.print(f"{_named(case_id)}: reply recorded at {url}")


@cases_app.command("resend")
def resend(case_id: CaseArg, actor: ActorOption, config: ConfigOption = None) -> None:
    """Send again a reply whose outcome was unknown, after checking it is not there."""
    entry = _acting(config, actor).resend(case_id, actor)
    console.print(f"{_named(case_id)}: reply {entry['state']} {entry['external_url'] or ''}".rstrip())


@cases_app.command("follow-up")
def follow_up(
    case_id: CaseArg,
    actor: ActorOption,
    note: Annotated[str, typer.Option(help="What the customer said when you followed up.")],
    config: ConfigOption = None,
) -> None:
    """Record the follow-up with the customer."""
    _acting(config, actor).follow_up(case_id, actor, note)
    console.print(f"{_named(case_id)}: follow-up recorded")


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
    _acting(config, actor).close(case_id, actor, waive_follow_up)
    console.print(f"{_named(case_id)}: closed")


@cases_app.command("dismiss")
def dismiss(
    case_id: CaseArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why it needs no answer.")],
    config: ConfigOption = None,
) -> None:
    """Dismiss a case as invalid (kept, with the reason)."""
    _acting(config, actor).dismiss(case_id, actor, reason)
    console.print(f"{_named(case_id)}: dismissed")


@cases_app.command("reopen")
def reopen(
    case_id: CaseArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why it is open again.")],
    config: ConfigOption = None,
) -> None:
    """Reopen a closed or dismissed case."""
    _acting(config, actor).reopen(case_id, actor, reason)
    console.print(f"{_named(case_id)}: reopened")
