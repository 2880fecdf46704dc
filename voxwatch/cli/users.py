"""``voxwatch users ...``: passwords for the dashboard, personal tokens for the command line.

A token is printed once, when it is made; only its hash is kept (``responders.identity``
says why a plain SHA-256 is enough). Give it to commands as ``$VOXWATCH_TOKEN``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from voxwatch.cli.identity import TOKEN_ENV, ask_password, identity, verified
from voxwatch.cli.options import ConfigOption, config_path
from voxwatch.cli.output import print_json
from voxwatch.errors import VoxWatchError
from voxwatch.settings import load_settings

console = Console(soft_wrap=True)  # a message is one line, however long its path
users_app = typer.Typer(help="Accounts: dashboard passwords and command-line tokens.")

NameArg = Annotated[str, typer.Argument(help="A person's name from settings.")]
ByOption = Annotated[
    str | None, typer.Option("--as", help="Who does it, if not NAME (an admin), proven by token or password.")
]


@users_app.command("hash-password")
def hash_password_command() -> None:
    """Ask for a password and print its hash, for a person's password_hash in settings."""
    from voxwatch.passwords import hash_password

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise VoxWatchError("use at least 10 characters")
    typer.echo(hash_password(password))


@users_app.command("token")
def issue_token(name: NameArg, actor: ByOption = None, config: ConfigOption = None) -> None:
    """Make a personal token for NAME's commands; it is shown once, only its hash is kept.

    For yourself, type your password; an admin issues one for anybody with --as.
    """
    settings = load_settings(config_path(config))
    if actor is None or actor == name:
        # Asked only of someone who has a password; the service names what is missing otherwise.
        password = ask_password(name) if settings.person(name).password_hash else ""
        token_id, token = identity(settings).issue(name, name, password)
    else:
        token_id, token = identity(settings).issue(verified(settings, actor), name)
    console.print(f"token {token_id} for {name}; it is shown only now, keep it secret:", highlight=False)
    typer.echo(token)
    console.print(f"use it as: export {TOKEN_ENV}=<the token>", highlight=False)


@users_app.command("revoke-token")
def revoke_token(
    name: NameArg,
    token_id: Annotated[str | None, typer.Option("--id", help="Only this token (default: all).")] = None,
    actor: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke NAME's tokens (or one, by id); commands using them are refused from now on."""
    settings = load_settings(config_path(config))
    revoked = identity(settings).revoke(verified(settings, actor or name), name, token_id)
    if token_id and not revoked:
        raise VoxWatchError(f"{name} has no live token {token_id!r}")
    console.print(f"revoked {len(revoked)} token(s) of {name}: {', '.join(revoked) or '-'}", highlight=False)


@users_app.command("tokens")
def list_tokens(
    actor: Annotated[str, typer.Option("--as", help="Who asks, proven by token or password.")],
    person: Annotated[str | None, typer.Option(help="Only this person's (admins: anyone's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of a table.")] = False,
    config: ConfigOption = None,
) -> None:
    """List tokens without their values: yours, or (admins) anyone's."""
    settings = load_settings(config_path(config))
    rows = identity(settings).tokens(verified(settings, actor), person)
    if as_json:
        print_json(rows)
        return
    table = Table("token", "person", "created (UTC)", "by", "revoked", box=None, pad_edge=False)
    for row in rows:
        revoked = f"{row['revoked_at']:%Y-%m-%d %H:%M} by {row['revoked_by']}" if row["revoked_at"] else "-"
        table.add_row(
            row["id"], row["person"], f"{row['created_at']:%Y-%m-%d %H:%M}", row["created_by"], revoked
        )
    Console().print(table)  # made now: measures this terminal
