"""Proof of who is acting: ``--as NAME`` is believed only with NAME's token or password.

A command acts for a person only once it has verified them: the personal token in
``$VOXWATCH_TOKEN`` (``voxwatch users token NAME``), or, at a terminal, NAME's
password typed at a hidden prompt. A wrong or missing proof is an error before
anything is read or changed. The checks themselves are ``responders.identity``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import typer

from voxwatch.errors import Unverified
from voxwatch.settings import Settings

if TYPE_CHECKING:
    from responders.identity import IdentityService

TOKEN_ENV = "VOXWATCH_TOKEN"


def interactive() -> bool:
    """Whether a person is at a terminal to type a password (a script never is)."""
    return sys.stdin.isatty()


def identity(settings: Settings) -> IdentityService:
    from responders.identity import IdentityService

    return IdentityService(settings)


def ask_password(name: str) -> str:
    """NAME's password from a hidden prompt; Unverified when nobody can type one."""
    if not interactive():
        raise Unverified(
            f"acting as {name} needs proof: set ${TOKEN_ENV} to {name}'s personal token "
            f"(voxwatch users token {name}), or run the command in a terminal to type {name}'s password"
        )
    try:
        return str(typer.prompt(f"Password for {name}", hide_input=True))
    except typer.Abort as exc:  # end of input or Ctrl-C: no proof given
        raise Unverified(f"no password given for {name}") from exc


def verified(settings: Settings, name: str) -> str:
    """``name``, once proven by ``$VOXWATCH_TOKEN`` or, failing that, by their password."""
    service = identity(settings)
    person = settings.person(name)  # an unknown name is named before any prompt
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        service.check_token(name, token)
    elif person.password_hash:
        service.check_password(name, ask_password(name))
    else:
        raise Unverified(
            f"acting as {name} needs proof: set ${TOKEN_ENV} to {name}'s personal token "
            f"(an admin issues one: voxwatch users token {name} --as ADMIN)"
        )
    return name
