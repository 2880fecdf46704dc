"""Sign-in and role checks for the dashboard, enforced on the server for every page.

A person signs in with their name and password (checked against the scrypt hash in
settings, with lockouts: ``dashboard.auth``). The session lives in two places:

- ``st.session_state``, for this browser tab's connection;
- a cookie holding a signed, expiring token (``dashboard.auth.COOKIE``), so a reload or a
  new tab is still signed in. The cookie is written by a line of JavaScript after sign-in
  (Streamlit can read cookies, ``st.context.cookies``, but not set them).

Either way the person's session generation is checked against the store on every run,
so "Sign out everywhere" ends every tab at its next click. Sessions end after
``dashboard.session_minutes``. Pages call ``require(settings, action)`` with the action
that opens them (``voxwatch.permissions``), and every action still goes through
``CaseService``, which checks roles again.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import streamlit as st

from dashboard.auth import COOKIE, SignInService
from dashboard.i18n import _
from dashboard.words import ROLE_WORDS
from voxwatch.permissions import Action, may, roles_for
from voxwatch.settings import ResponderSettings, Settings

USER_KEY = "voxwatch_user"
SINCE_KEY = "voxwatch_signed_in_at"
GENERATION_KEY = "voxwatch_session_generation"
COOKIE_WRITE_KEY = "voxwatch_cookie_to_write"  # a token to store, or "" to delete the cookie
IGNORED_COOKIE_KEY = "voxwatch_ignored_cookie"  # signed out here: the browser's old cookie is void


def service(settings: Settings) -> SignInService:
    """One service per settings (it keeps the signing key), shared by every session."""
    return _services(settings.model_dump_json(), settings)


@st.cache_resource
def _services(key: str, _settings: Settings) -> SignInService:
    return SignInService(_settings)


def current_person(settings: Settings) -> ResponderSettings | None:
    """Who is signed in (this tab, else the browser's cookie), or None; stale sessions end here."""
    name = st.session_state.get(USER_KEY)
    if not name:
        return _from_cookie(settings)
    since = st.session_state.get(SINCE_KEY, 0.0)
    if time.time() - since > settings.dashboard.session_minutes * 60 or not _current(settings, name):
        sign_out()
        return None
    matches = [p for p in settings.responders if p.name == name]
    return matches[0] if matches else None


def _current(settings: Settings, name: str) -> bool:
    """Whether no "sign out everywhere" happened since this tab signed in."""
    generation = service(settings).generation(name)
    return st.session_state.setdefault(GENERATION_KEY, generation) == generation


def _from_cookie(settings: Settings) -> ResponderSettings | None:
    """The person whose valid token the browser sent when this tab connected (reload, new tab)."""
    token = st.context.cookies.get(COOKIE)
    if not isinstance(token, str) or not token or token == st.session_state.get(IGNORED_COOKIE_KEY):
        return None
    session = service(settings).session_for(token)
    if session is None:
        return None
    _remember(session.person, session.issued_at.timestamp(), session.generation)
    return service(settings).person(session.person)


def _remember(name: str, since: float, generation: int) -> None:
    st.session_state[USER_KEY] = name
    st.session_state[SINCE_KEY] = since
    st.session_state[GENERATION_KEY] = generation


def client_address() -> str:
    """The browser's address: a local proxy's X-Forwarded-For, else the connection's own.

    The header is believed only from a loopback peer (a proxy on this host), since any
    browser can send one to dodge the per-address limit.
    """
    address = st.context.ip_address
    # Outside a server (AppTest) the context holds placeholders, not strings.
    peer = address if isinstance(address, str) and address else "unknown"
    forwarded = st.context.headers.get("X-Forwarded-For", "")
    if peer in ("127.0.0.1", "::1") and isinstance(forwarded, str) and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return peer


def sign_in(settings: Settings, name: str, password: str) -> str | None:
    """Sign in this tab and, through the cookie, the browser; None, else the refusal to show."""
    outcome = service(settings).sign_in(name, password, client_address())
    if outcome.person is None or outcome.token is None:
        return outcome.refusal
    session = service(settings).session_for(outcome.token)
    assert session is not None
    _remember(session.person, session.issued_at.timestamp(), session.generation)
    st.session_state[COOKIE_WRITE_KEY] = outcome.token
    return None


def sign_out() -> None:
    """End this tab's session and have the browser drop its cookie (other browsers keep theirs)."""
    st.session_state[IGNORED_COOKIE_KEY] = st.context.cookies.get(COOKIE)
    for key in (USER_KEY, SINCE_KEY, GENERATION_KEY):
        st.session_state.pop(key, None)
    st.session_state[COOKIE_WRITE_KEY] = ""


def sign_out_everywhere(settings: Settings, name: str) -> None:
    """End every session the person has, in every browser and tab, then this one."""
    service(settings).sign_out_everywhere(name, datetime.now(UTC))
    sign_out()


def write_cookie(settings: Settings) -> None:
    """Send the browser the cookie change a sign-in or sign-out asked for, once."""
    token = st.session_state.pop(COOKIE_WRITE_KEY, None)
    if token is None:
        return
    max_age = settings.dashboard.session_minutes * 60 if token else 0
    # json.dumps quotes the value for JavaScript; a token is base64url and a dot anyway.
    script = (
        "<script>"
        f"document.cookie = {json.dumps(COOKIE)} + '=' + {json.dumps(token)} + "
        f"'; Path=/; Max-Age={max_age}; SameSite=Strict' + "
        "(window.location.protocol === 'https:' ? '; Secure' : '');"
        "</script>"
    )
    st.html(script, unsafe_allow_javascript=True)


def require(settings: Settings, action: Action) -> ResponderSettings:
    """The signed-in person, if their roles allow ``action`` (voxwatch.permissions); else stop the page."""
    person = current_person(settings)
    if person is None:
        st.warning(_("Please sign in."))
        st.stop()
    assert person is not None
    if not may(person.roles, action):
        mine = ", ".join(_(ROLE_WORDS[role]) for role in person.roles)
        needed = ", ".join(_(ROLE_WORDS[role]) for role in roles_for(action))
        st.error(
            _(
                "This page is for: {roles}. You are signed in as {name} ({mine}).",
                roles=needed,
                name=person.name,
                mine=mine,
            )
        )
        st.stop()
    return person
