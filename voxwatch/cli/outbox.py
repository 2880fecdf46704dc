"""``voxwatch outbox ...``: what is queued to go out (replies, alerts), and delivering it now.

The route flow delivers the outbox on every run; ``deliver`` does the same on
demand (after an outage, or to take over from a process that died mid-send).
Nothing here needs a person's proof: delivering only sends what was approved
and queued by someone who had it.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from voxwatch.cli.options import ConfigOption, config_path
from voxwatch.cli.output import print_json
from voxwatch.domain import case_number_label
from voxwatch.settings import load_settings

console = Console(soft_wrap=True)
outbox_app = typer.Typer(help="Replies and alerts queued to go out: list them, deliver what is due.")


@outbox_app.command("list")
def list_outbox(
    config: ConfigOption = None,
    state: Annotated[str | None, typer.Option(help="Only this state (pending, sent, failed, ...).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
) -> None:
    """Every queued message, oldest first, with where it went or why it has not."""
    from voxwatch.store import queries, store_for

    settings = load_settings(config_path(config))
    rows = store_for(settings).read(lambda conn: queries.outbox_entries(conn, state=state))
    if as_json:
        print_json(rows)
        return
    table = Table("kind", "channel", "case", "state", "tries", box=None, pad_edge=False, expand=True)
    table.add_column("where / why", no_wrap=True, overflow="ellipsis", ratio=1, min_width=10)
    for row in rows:
        where = row["external_url"] or row["last_error"] or ""
        table.add_row(
            row["kind"], row["channel"], _case(row), row["state"], str(row["attempts"]), Text(where)
        )
    Console().print(table)  # made now: measures this terminal


def _case(row: dict) -> str:
    """The case a message is about, as people name it (VW-n), or '-' for one about no case."""
    if row["case_number"] is not None:
        return case_number_label(row["case_number"])
    return str(row["case_id"] or "-")


@outbox_app.command("deliver")
def deliver(config: ConfigOption = None) -> None:
    """Deliver every message that is due now; exit 1 if any failed for good."""
    from responders.delivery import outbox_for
    from responders.service import utcnow

    report = outbox_for(load_settings(config_path(config)), utcnow).deliver_due()
    console.print(
        f"sent {report.sent}, to retry {report.retrying}, failed {report.failed}, "
        f"unknown (check by hand) {report.unknown}"
    )
    if report.failed:
        raise typer.Exit(1)
