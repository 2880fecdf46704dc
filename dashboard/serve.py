"""Start Streamlit for the dashboard: ``python -m dashboard.serve run dashboard/app.py --flags``.

The same as ``streamlit run``, with one difference. Streamlit treats a ``pages/`` folder
next to the main script as its old multipage mode until some run calls
``st.navigation``; so, in a freshly started server, the first visitor who follows a link
such as ``/case?case=ID`` would get ``pages/case.py`` run on its own, without
``app.py``'s sign-in and navigation. ``app.py`` always calls ``st.navigation``, so the
old mode is switched off here, before the first session.
"""

from __future__ import annotations

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


def main() -> None:
    PagesManager.uses_pages_directory = False
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
