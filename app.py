"""社区治理指标看板 — entry point.

    streamlit run app.py [-- --db PATH]

The database path comes from --db, then $GOVERNANCE_DB, then
data/governance.duckdb. An empty database is loaded with the shipped sample
district (示例数据) on first start.
"""

from __future__ import annotations

from pages import _context, _shell

# Any failure of the shell or the page ends in the Chinese message with a log
# number (never Streamlit's English error box).
_context.run_guarded(lambda: _shell.render_shell().run())
