"""The Streamlit dashboard: pages describe the UI; reads live in ``data``."""
