"""Start the dashboard: `python serve.py [streamlit options] [-- --db PATH]`.

Equivalent to `streamlit run app.py`, except that Streamlit's pages-directory
mode is switched off before the first script runs. Without this, the first
request after a start runs a `pages/` file on its own (Streamlit's behaviour
until st.navigation has run once), and widgets from that run lose their state
on the next one — a bookmarked /data page would drop the first upload.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

APP = Path(__file__).resolve().with_name("app.py")

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    sys.exit(cli.main())
