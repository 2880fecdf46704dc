"""Sign-in and role checks for the dashboard, enforced on the server for every page.

A person signs in with their name and password (checked against the scrypt hash
in settings); the session remembers who they are until ``dashboard.session_minutes``
have passed. Pages call ``require(settings, action)`` with the action that opens
them (``voxwatch.permissions``), and every action still goes through
``CaseService``, which checks roles again.
"""

from __future__ import annotations

import time

import streamlit as st

from voxwatch.passwords import verify_password
from voxwatch.permissions import Action, may, roles_for
from voxwatch.settings import ResponderSettings, Settings

USER_KEY = "voxwatch_user"
SINCE_KEY = "voxwatch_signed_in_at"


def current_person(settings: Settings) -> ResponderSettings | None:
    """Who is signed in, or None (never signed in, or the session expired)."""
    name = st.session_state.get(USER_KEY)
    since = st.session_state.get(SINCE_KEY, 0.0)
    if not name:
        return None
    if time.time() - since > settings.dashboard.session_minutes * 60:
        sign_out()
        return None
    matches = [p for p in settings.responders if p.name == name]
    return matches[0] if matches else None


def sign_in(settings: Settings, name: str, password: str) -> bool:
    person = next((p for p in settings.responders if p.name == name.strip()), None)
    # Check a hash even for unknown names, so timing does not tell which names exist.
    stored = person.password_hash if person else "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"
    if not verify_password(password, stored) or person is None:
        return False
    st.session_state[USER_KEY] = person.name
    st.session_state[SINCE_KEY] = time.time()
    return True


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(SINCE_KEY, None)


def require(settings: Settings, action: Action) -> ResponderSettings:
    """The signed-in person, if their roles allow ``action`` (voxwatch.permissions); else stop the page."""
    person = current_person(settings)
    if person is None:
        st.warning("Please sign in.")
        st.stop()
    assert person is not None
    if not may(person.roles, action):
        mine = ", ".join(person.roles)
        needed = ", ".join(roles_for(action))
        st.error(f"This page is for: {needed}. You are signed in as {person.name} ({mine}).")
        st.stop()
    return person
