"""VoxWatch dashboard entry point: ``voxwatch dashboard`` runs this with Streamlit.

Until someone signs in, the only page is the sign-in form; afterwards each
person sees the pages their roles allow (each page checks again on the server).
"""

import streamlit as st

from dashboard.data import current_settings
from dashboard.session import current_person, sign_in, sign_out
from voxwatch.permissions import Action, may

st.set_page_config(page_title="VoxWatch", page_icon=":material/campaign:", layout="wide")
settings = current_settings()
person = current_person(settings)


def sign_in_page() -> None:
    st.title("VoxWatch")
    with st.form("sign-in"):
        name = st.text_input("Name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            if sign_in(settings, name, password):
                st.rerun()
            st.error("Wrong name or password.")


PAGES = [
    ("pages/inbox.py", "Inbox", ":material/inbox:", Action.VIEW_INBOX),
    ("pages/case.py", "Case", ":material/forum:", Action.VIEW_CASE),
    ("pages/approvals.py", "Approvals", ":material/approval:", Action.VIEW_APPROVALS),
    ("pages/trends.py", "Trends", ":material/trending_up:", Action.VIEW_TRENDS),
    ("pages/sources.py", "Sources", ":material/rss_feed:", Action.VIEW_SOURCES),
    ("pages/settings.py", "Settings", ":material/settings:", Action.EDIT_SETTINGS),
]

if person is None:
    page = st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")])
else:
    with st.sidebar:
        st.text(f"Signed in as {person.display_name} ({', '.join(person.roles)})")
        if st.button("Sign out"):
            sign_out()
            st.rerun()
    allowed = [
        st.Page(path, title=title, icon=icon)
        for path, title, icon, action in PAGES
        if may(person.roles, action)
    ]
    if not allowed:
        allowed = [st.Page(lambda: st.info("No pages for your role yet."), title="Welcome")]
    page = st.navigation(allowed)
page.run()
