"""Dashboard sign-in that survives a reload: signed session tokens, sign-out everywhere, lockouts.

No Streamlit here, so every rule is testable as plain functions on a real store:

- A session token is ``payload.signature``: the payload names the person, their session
  generation and when the token was issued and expires; the signature is an HMAC-SHA256
  under a key from ``VOXWATCH_DASHBOARD__SECRET_KEY`` or, without one, a random key made
  once and kept in the store. The browser holds only this token: no password, no hash,
  no key, and changing a byte of it (a longer expiry, another name) voids it.
- "Sign out everywhere" raises the person's generation in the store; every token (and
  open tab) carrying an older one stops working at its next request.
- Failed sign-ins are counted per account and per client address; reaching
  ``dashboard.sign_in_attempts`` within ``dashboard.sign_in_lockout_minutes`` locks that
  account or address until the window passes, even for the right password. Every
  failure, lockout and refusal is in the audit log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from voxwatch.i18n import N_
from voxwatch.passwords import verify_password
from voxwatch.settings import ResponderSettings, Settings
from voxwatch.store import Store, queries, store_for

COOKIE = "voxwatch_session"
SECRET_NAME = "session_signing_key"
AUDIT_ENTITY = "dashboard_sign_in"
WRONG = N_("Wrong name or password.")
# Checked for unknown names too, so the time taken does not tell which names exist.
DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"


@dataclass(frozen=True)
class Session:
    """What a valid token says: who, which generation, and when it was issued and expires."""

    person: str
    generation: int
    issued_at: datetime
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def issue_token(key: bytes, person: str, generation: int, now: datetime, minutes: int) -> str:
    """A token for ``person`` valid for ``minutes`` from ``now``, unless their generation moves on."""
    body = {
        "p": person,
        "g": generation,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_signature(key, payload)}"


def read_token(key: bytes, token: str, now: datetime) -> Session | None:
    """The session a token carries, or None when it is forged, altered, malformed or expired."""
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _signature(key, payload).encode()):
        return None
    try:
        body = json.loads(_unb64(payload))
        session = Session(
            str(body["p"]),
            int(body["g"]),
            datetime.fromtimestamp(int(body["iat"]), UTC),
            datetime.fromtimestamp(int(body["exp"]), UTC),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return session if now < session.expires_at else None


@dataclass(frozen=True)
class Outcome:
    """A sign-in's result: the person and their token, or the refusal to show."""

    person: ResponderSettings | None = None
    token: str | None = None
    refusal: str | None = None


class SignInService:
    """Sign-in, session checks and sign-out everywhere for the dashboard, on the settings' store."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or store_for(settings)
        self._key: bytes | None = None

    # --- tokens ----------------------------------------------------------------------------

    def signing_key(self) -> bytes:
        """The environment's key, else the store's (made on first use, so restarts keep sessions)."""
        if self._key is None:
            configured = self.settings.dashboard.secret_key
            if configured is not None:
                self._key = configured.get_secret_value().encode("utf-8")
            else:
                made = secrets.token_urlsafe(48)
                now = datetime.now(UTC)
                stored = self.store.write(lambda c: queries.dashboard_secret(c, SECRET_NAME, made, now))
                self._key = stored.encode("utf-8")
        return self._key

    def issue(self, person: str, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        generation = self.generation(person)
        return issue_token(
            self.signing_key(), person, generation, now, self.settings.dashboard.session_minutes
        )

    def generation(self, person: str) -> int:
        return self.store.read(lambda c: queries.session_generation(c, person))

    def session_for(self, token: str, now: datetime | None = None) -> Session | None:
        """The live session a cookie's token stands for: signed, unexpired, current, person still there."""
        session = read_token(self.signing_key(), token, now or datetime.now(UTC))
        if session is None or self.person(session.person) is None:
            return None
        return session if self.generation(session.person) == session.generation else None

    def person(self, name: str) -> ResponderSettings | None:
        return next((p for p in self.settings.responders if p.name == name), None)

    def sign_out_everywhere(self, person: str, now: datetime | None = None) -> int:
        """Void every session the person has, in every browser; audited."""
        now = now or datetime.now(UTC)

        def raise_and_audit(conn: queries.Connection) -> int:
            generation = queries.raise_session_generation(conn, person, now)
            queries.append_audit(
                conn,
                now,
                person,
                AUDIT_ENTITY,
                person,
                "signed_out_everywhere",
                None,
                {"generation": generation},
            )
            return generation

        return self.store.write(raise_and_audit)

    # --- signing in ------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, address: str, now: datetime | None = None) -> Outcome:
        """Check the lockouts, then the password; count and audit what fails."""
        now = now or datetime.now(UTC)
        account = name.strip()
        locked = self._locks(account, address, now)
        if locked:
            self._audit(account, "sign_in_refused_locked", address, now, {"locked": _describe(locked)})
            until = f"{_latest(locked):%H:%M}"
            return Outcome(
                refusal=N_("Too many failed sign-ins. Try again after {time} UTC.").format(time=until)
            )
        person = self.person(account)
        stored = person.password_hash if person and person.password_hash else DUMMY_HASH
        if person is None or not verify_password(password, stored):
            return self._failed(account, address, now)
        self.store.write(lambda c: self._succeeded(c, account, address, now))
        return Outcome(person=person, token=self.issue(account, now))

    def locked_until(self, scope: str, key: str, now: datetime) -> datetime | None:
        """When ``key`` may try again, if its recent failures reached the limit; else None."""
        limit = self.settings.dashboard.sign_in_attempts
        window = timedelta(minutes=self.settings.dashboard.sign_in_lockout_minutes)
        failures = self.store.read(lambda c: queries.sign_in_failures_since(c, scope, key, now - window))
        if len(failures) < limit:
            return None
        until: datetime = failures[-limit] + window
        return until if until > now else None

    def _locks(self, account: str, address: str, now: datetime) -> list[tuple[str, str, datetime]]:
        """Which of the account and the address are locked now, and until when."""
        keys = (("account", account), ("address", address))
        return [(scope, key, until) for scope, key in keys if (until := self.locked_until(scope, key, now))]

    def _failed(self, account: str, address: str, now: datetime) -> Outcome:
        def record(conn: queries.Connection) -> None:
            for scope, key in (("account", account), ("address", address)):
                queries.record_sign_in_failure(conn, scope, key, now)
            queries.append_audit(
                conn, now, account or "-", AUDIT_ENTITY, account, "sign_in_failed", None, {"address": address}
            )

        self.store.write(record)
        locked = [
            (s, k, u)
            for s, k in (("account", account), ("address", address))
            if (u := self.locked_until(s, k, now))
        ]
        if locked:
            self._audit(account, "sign_in_locked_out", address, now, {"locked": _describe(locked)})
        return Outcome(refusal=WRONG)

    def _succeeded(self, conn: queries.Connection, account: str, address: str, now: datetime) -> None:
        queries.clear_sign_in_failures(conn, "account", account)
        queries.append_audit(
            conn, now, account, AUDIT_ENTITY, account, "signed_in", None, {"address": address}
        )

    def _audit(self, account: str, action: str, address: str, now: datetime, extra: dict[str, Any]) -> None:
        after = {"address": address} | extra
        self.store.write(
            lambda c: queries.append_audit(c, now, account or "-", AUDIT_ENTITY, account, action, None, after)
        )


def _describe(locked: list[tuple[str, str, datetime]]) -> dict[str, str]:
    return {scope: until.isoformat() for scope, _key, until in locked}


def _latest(locked: list[tuple[str, str, datetime]]) -> datetime:
    return max(until for _scope, _key, until in locked)
