"""总览: district KPIs, the community × indicator status matrix, the ranking."""

from __future__ import annotations

import streamlit as st

from governance import exporting, presentation
from governance.catalogue import DIMENSIONS
from governance.text import t
from pages import _drawing, _exports, _reads, _shell

ctx = _shell.page_context()
st.title(t("overview.title"))
_shell.sample_banner(ctx)
st.caption(_shell.period_caption(ctx.period))

totals = _shell.communities_or_stop(ctx)

kpi_columns = st.columns(3)
kpi_columns[0].metric(t("overview.kpi.communities"), f"{totals['communities']:,}")
kpi_columns[1].metric(t("overview.kpi.households"), f"{totals['households']:,}")
kpi_columns[2].metric(t("overview.kpi.population"), f"{totals['population']:,}")

summary = _reads.dimension_summary(
    ctx.data, ctx.period, ctx.view_filter, ctx.scenario).set_index("dimension")
dimension_columns = st.columns(len(DIMENSIONS))
for column, dimension in zip(dimension_columns, DIMENSIONS, strict=True):
    row = summary.loc[dimension]
    share = row["met_share_pct"]
    column.metric(
        t("overview.kpi.dimension", dimension=_drawing.dimension_label(dimension)),
        "—" if share is None or share != share else f"{share:.1f}%",
        help=t("overview.kpi.dimension.help", rated=int(row["rated"]), not_met=int(row["not_met"]),
               no_data=int(row["no_data"])),
    )

st.subheader(t("overview.matrix.title"))
st.caption(t("overview.matrix.caption"))
matrix = _reads.status_matrix(
    ctx.data, ctx.period, ctx.view_filter, ctx.scenario)
indicator_ids = _drawing.matrix_indicator_ids(matrix)
_drawing.status_table(matrix, tuple(indicator_ids), ctx.scenario, key="overview_matrix",
                     height=min(38 + 35 * len(matrix), 600))
_exports.excel_button(
    ctx, t("overview.export"),
    lambda: {t("overview.matrix.title"): _drawing.matrix_export(matrix)},
    file_name=exporting.download_name("overview", "xlsx"), key="overview_export",
)

ranking_column, street_column = st.columns(2)
with ranking_column:
    _drawing.chart(presentation.ranking_bar, matrix, key="overview_ranking")
    st.caption(t("overview.ranking.caption"))
with street_column:
    counts = _reads.street_status_counts(ctx.data, ctx.period, ctx.view_filter, ctx.scenario)
    _drawing.chart(presentation.street_status_bar, counts, key="overview_streets")
