"""VoxWatch dashboard entry point: ``voxwatch dashboard`` runs this with Streamlit.

Until someone signs in, every page's address shows the sign-in form, so a link to a
case (``/case?case=ID``) opens that case right after sign-in; afterwards each person
sees the pages their roles allow (each page checks again on the server). A reload or
a new tab stays signed in through the session cookie (``dashboard.session``).
"""

from pathlib import Path

import streamlit as st

from dashboard.data import current_settings
from dashboard.display import landing_page
from dashboard.i18n import _, current, language_switch, start
from dashboard.session import current_person, sign_in, sign_out, sign_out_everywhere, write_cookie
from dashboard.words import ROLE_WORDS
from voxwatch.i18n import N_
from voxwatch.permissions import Action, may

st.set_page_config(page_title="VoxWatch", page_icon=":material/campaign:", layout="wide")
settings = current_settings()
person = current_person(settings)
write_cookie(settings)
start(person)


def sign_in_page() -> None:
    st.title("VoxWatch")
    language_switch()
    with st.form("sign-in"):
        name = st.text_input(_("Name"))
        password = st.text_input(_("Password"), type="password")
        if st.form_submit_button(_("Sign in")):
            refusal = sign_in(settings, name, password)
            if refusal is None:
                st.rerun()
            st.error(current().recorded(refusal or ""))


PAGES = [  # titles in English here (N_), shown translated
    ("pages/inbox.py", N_("Inbox"), ":material/inbox:", Action.VIEW_INBOX),
    ("pages/case.py", N_("Case"), ":material/forum:", Action.VIEW_CASE),
    ("pages/approvals.py", N_("Approvals"), ":material/approval:", Action.VIEW_APPROVALS),
    ("pages/trends.py", N_("Trends"), ":material/trending_up:", Action.VIEW_TRENDS),
    ("pages/sources.py", N_("Sources"), ":material/rss_feed:", Action.VIEW_SOURCES),
    ("pages/settings.py", N_("Settings"), ":material/settings:", Action.EDIT_SETTINGS),
]


def signed_out_pages() -> list[st.Page]:
    """The sign-in form, at its own address and at every page's (hidden), keeping ``?case=``."""
    form = [st.Page(sign_in_page, title=_("Sign in"), icon=":material/login:", default=True)]
    return form + [
        st.Page(sign_in_page, title=_("Sign in"), url_path=Path(path).stem, visibility="hidden")
        for path, _title, _icon, _action in PAGES
    ]


if person is None:
    page = st.navigation(signed_out_pages(), position="hidden")
else:
    with st.sidebar:
        roles = ", ".join(_(ROLE_WORDS[role]) for role in person.roles)
        st.text(_("Signed in as {name} ({roles})", name=person.display_name, roles=roles))
        language_switch()
        if st.button(_("Sign out"), key="sign-out"):
            sign_out()
            st.rerun()
        if st.button(
            _("Sign out everywhere"), key="sign-out-everywhere", help=_("Ends every session you have.")
        ):
            sign_out_everywhere(settings, person.name)
            st.rerun()
    lands_on = landing_page(person.roles)  # each role opens where its work is
    allowed = [
        st.Page(path, title=_(title), icon=icon, default=title == lands_on)
        for path, title, icon, action in PAGES
        if may(person.roles, action)
    ]
    if not allowed:
        allowed = [st.Page(lambda: st.info(_("No pages for your role yet.")), title=_("Welcome"))]
    page = st.navigation(allowed)
page.run()
