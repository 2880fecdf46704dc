"""VoxWatch dashboard entry point: ``voxwatch dashboard`` runs this with Streamlit.

Until someone signs in, the only page is the sign-in form; afterwards each
person sees the pages their roles allow (each page checks again on the server).
"""

import streamlit as st

from dashboard.data import current_settings
from dashboard.session import can, current_person, sign_in, sign_out

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
    ("pages/inbox.py", "Inbox", ":material/inbox:", ("responder", "supervisor", "admin", "approver")),
    ("pages/case.py", "Case", ":material/forum:", ("responder", "supervisor", "admin", "approver")),
    ("pages/approvals.py", "Approvals", ":material/approval:", ("approver",)),
    ("pages/trends.py", "Trends", ":material/trending_up:", ("executive", "supervisor", "admin", "approver")),
    ("pages/sources.py", "Sources", ":material/rss_feed:", ("supervisor", "admin")),
    ("pages/settings.py", "Settings", ":material/settings:", ("admin",)),
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
        st.Page(path, title=title, icon=icon) for path, title, icon, roles in PAGES if can(person, roles)
    ]
    if not allowed:
        allowed = [st.Page(lambda: st.info("No pages for your role yet."), title="Welcome")]
    page = st.navigation(allowed)
page.run()
