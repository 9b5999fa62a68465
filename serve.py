"""Start the dashboard: `python serve.py [streamlit options] [-- --db PATH]`.

Equivalent to `streamlit run app.py`, with three differences:

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
- The umask is 077, so files DuckDB creates beside the database (its
  write-ahead log, spill files) are private like the ones we chmod.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().with_name("app.py")
# pages/ and governance/ import from here also when another script runs this
# one (benchmarks/timed_serve.py) from its own folder.
if str(APP.parent) not in sys.path:
    sys.path.insert(0, str(APP.parent))

from pages import _session_cookie  # noqa: E402

# Found by `streamlit run serve.py` (it looks for a module-level st.App).
app = st.App(APP, routes=_session_cookie.routes())

if __name__ == "__main__":
    # What DuckDB itself creates beside the database (its .wal, spill files in
    # .tmp) is private too; our own files are chmod-ed explicitly anyway.
    os.umask(0o077)
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(Path(__file__).resolve()), *sys.argv[1:]]
    sys.exit(cli.main())
