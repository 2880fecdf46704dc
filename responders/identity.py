"""Who is acting on the command line: personal tokens, and checking a person's proof.

The dashboard signs a person in once with their password; a command has no
session, so ``--as NAME`` must bring proof every time: NAME's personal token, or
NAME's password (checked against ``password_hash`` in settings). Without it the
four-eyes rule would hold only in the dashboard, since anyone could type another
person's name.

Why a plain SHA-256 for tokens, when passwords get scrypt: a token is 32 bytes
from ``secrets`` (256 bits), so there is nothing to guess and a slow, salted hash
would buy no safety; what a stolen store gives away is a hash that cannot be
turned back into a token. A fast, unsalted hash also lets a token be found by
one indexed lookup instead of an scrypt run per stored token. The token itself
is shown once, when it is made, and never stored.

Who manages tokens: everyone their own, but a new one only with their password,
so a leaked token cannot breed more; an admin (``Action.MANAGE_TOKENS``) anyone's.
Every issue and revocation is audited, without the token.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from responders.service import Service
from voxwatch.errors import PermissionDenied, Unverified
from voxwatch.passwords import verify_password
from voxwatch.permissions import Action, may, roles_for
from voxwatch.settings import ResponderSettings
from voxwatch.store import queries
from voxwatch.store.database import Connection

TOKEN_PREFIX = "vxw_"  # a leaked token is recognisable, by people and by secret scanners
TOKEN_BYTES = 32


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


class IdentityService(Service):
    """Issues, revokes and lists personal tokens, and checks a person's proof for the command line."""

    # --- proof ----------------------------------------------------------------------

    def check_token(self, name: str, token: str) -> ResponderSettings:
        """The person, if ``token`` is their live token; Unverified otherwise."""
        person = self.settings.person(name)
        owner = self.store.read(lambda conn: queries.token_owner(conn, token_digest(token)))
        if owner != name:  # unknown, revoked, or someone else's: the message does not say which
            raise Unverified(f"the token given is not a valid token of {name} (revoked, or someone else's?)")
        return person

    def check_password(self, name: str, password: str) -> ResponderSettings:
        """The person, if ``password`` is theirs; Unverified otherwise (also when they have none)."""
        person = self.settings.person(name)
        if not person.password_hash:
            raise Unverified(
                f"{name} has no password in settings; an admin can issue them a token "
                f"(voxwatch users token {name} --as ADMIN)"
            )
        if not verify_password(password, person.password_hash):
            raise Unverified(f"wrong password for {name}")
        return person

    # --- tokens ---------------------------------------------------------------------

    def _check_manages(self, actor: str, person: str) -> None:
        """Anyone manages their own tokens; only admins manage other people's."""
        who = self.settings.person(actor)
        self.settings.person(person)  # a clear error for a name that is not in settings
        if actor != person and not may(who.roles, Action.MANAGE_TOKENS):
            needed = ", ".join(roles_for(Action.MANAGE_TOKENS))
            raise PermissionDenied(
                f"{actor} ({', '.join(who.roles)}) may not manage {person}'s tokens: it needs one of {needed}"
            )

    def issue(self, actor: str, person: str, password: str | None = None) -> tuple[str, str]:
        """A new token for ``person``: ``(token id, token)``. The token is returned once, never stored.

        A token for oneself needs one's password (so a token cannot breed tokens);
        an admin, whom the caller has verified, issues one for anybody else.
        """
        self._check_manages(actor, person)
        if actor == person:
            self.check_password(actor, password or "")
        token_id, token = secrets.token_hex(4), new_token()
        now = self.clock()

        def _do(conn: Connection) -> None:
            queries.insert_token(conn, token_id, person, token_digest(token), now, actor)
            queries.append_audit(
                conn, now, actor, "person", person, "token_issued", None, {"token": token_id}
            )

        self.store.write(_do)
        return token_id, token

    def revoke(self, actor: str, person: str, token_id: str | None = None) -> list[str]:
        """Revoke ``person``'s live tokens (or the one ``token_id``); the ids revoked, audited."""
        self._check_manages(actor, person)
        now = self.clock()

        def _do(conn: Connection) -> list[str]:
            revoked = queries.revoke_tokens(conn, person, now, actor, token_id)
            if revoked:
                queries.append_audit(
                    conn, now, actor, "person", person, "token_revoked", None, {"tokens": revoked}
                )
            return revoked

        revoked: list[str] = self.store.write(_do)
        return revoked

    def tokens(self, actor: str, person: str | None = None) -> list[dict[str, Any]]:
        """Tokens without their values: an admin sees anyone's (everyone's by default), others their own."""
        admin = may(self.settings.person(actor).roles, Action.MANAGE_TOKENS)
        wanted = person if person is not None or admin else actor
        if wanted is not None:
            self._check_manages(actor, wanted)
        return self.store.read(lambda conn: queries.list_tokens(conn, wanted))
