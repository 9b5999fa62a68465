"""社区治理指标看板 — entry point.

    streamlit run app.py [-- --db PATH]

The database path comes from --db, then $GOVERNANCE_DB, then
data/governance.duckdb. An empty database is loaded with the shipped sample
district (示例数据) on first start.
"""

from __future__ import annotations

from pages import _common

_common.render_shell().run()
