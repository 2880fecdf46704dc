"""The dashboard's language for this session: the person's setting, or what they picked in the sidebar.

Pages write ``_("Inbox")``: the message in the session's language (``voxwatch.i18n``). The
choice lives in the session state, so every page and every fragment re-run of this tab
speaks it; a new session starts from the person's ``interface_language`` setting.
"""

from __future__ import annotations

import streamlit as st

from voxwatch.i18n import LANGUAGES, Translator, translator
from voxwatch.settings import ResponderSettings

LANG_KEY = "voxwatch_interface_language"
CHOSEN_KEY = "voxwatch_interface_language_chosen"  # picked in the switch: the setting no longer applies
SWITCH_KEY = "voxwatch-language-switch"


def current() -> Translator:
    """The translator for this session (English until someone signs in)."""
    return translator(st.session_state.get(LANG_KEY))


def _(message: str, **values: object) -> str:
    """``message`` in this session's language, with its ``{name}``s filled in."""
    return current()(message, **values)


def start(person: ResponderSettings | None) -> None:
    """The person's own language, unless someone picked one in this session's switch."""
    if person is not None and not st.session_state.get(CHOSEN_KEY):
        st.session_state[LANG_KEY] = person.interface_language


def language_switch() -> None:
    """The language picker (sidebar, sign-in form); the page re-runs in the language picked."""
    codes = list(LANGUAGES)
    st.selectbox(
        _("Language"),
        codes,
        index=codes.index(current().lang),
        format_func=LANGUAGES.__getitem__,
        key=SWITCH_KEY,
        on_change=_picked,
    )


def _picked() -> None:
    st.session_state[LANG_KEY] = st.session_state[SWITCH_KEY]
    st.session_state[CHOSEN_KEY] = True
