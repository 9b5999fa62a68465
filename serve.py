"""Start the dashboard: `python serve.py [streamlit options] [-- --db PATH]`.

Equivalent to `streamlit run app.py`, with two differences:

- Streamlit's pages-directory mode is switched off before the first script
  runs. Without this, the first request after a start runs a `pages/` file on
  its own (Streamlit's behaviour until st.navigation has run once), and
  widgets from that run lose their state on the next one — a bookmarked /data
  page would drop the first upload.
- The app is served as an `st.App` (Streamlit 1.67's supported way to add
  HTTP routes to its own web server) with one more route, PATH in
  pages/_session_cookie.py, which turns a sign-in into an HttpOnly cookie so
  a page reload keeps the sign-in. `streamlit run app.py` works as before,
  except that a reload then asks for the password again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from pages import _session_cookie

APP = Path(__file__).resolve().with_name("app.py")

# Found by `streamlit run serve.py` (it looks for a module-level st.App).
app = st.App(APP, routes=_session_cookie.routes())

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(Path(__file__).resolve()), *sys.argv[1:]]
    sys.exit(cli.main())
