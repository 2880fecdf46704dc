"""VoxWatch dashboard entry point: ``voxwatch dashboard`` runs this with Streamlit."""

import streamlit as st

st.set_page_config(page_title="VoxWatch", page_icon=":material/campaign:", layout="wide")
page = st.navigation([st.Page("pages/inbox.py", title="Inbox", icon=":material/inbox:", default=True)])
page.run()
