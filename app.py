"""社区治理指标看板 — entry point.

    streamlit run app.py [-- --db PATH]

The database path comes from --db, then $GOVERNANCE_DB, then
data/governance.duckdb. An empty database is loaded with the shipped sample
district (示例数据) on first start.
"""

from __future__ import annotations

import streamlit as st

from governance.text import t
from pages import _common

st.set_page_config(page_title=t("app.title"), layout="wide")

# Facilities, funding, safety and what-if pages join the dashboards section.
PAGES = {
    t("nav.section.dashboards"): [
        st.Page("pages/overview.py", title=t("nav.overview"), default=True),
    ],
    t("nav.section.data"): [
        st.Page("pages/data.py", title=t("nav.data")),
    ],
}

navigation = st.navigation(PAGES)
try:
    _common.sidebar_filters()
except Exception as exc:  # noqa: BLE001 — the user sees a message, the log the details
    _common.show_failure(exc)
    st.stop()
navigation.run()
