"""平安建设: S01–S09 against seed 002's standards, red flags first, monthly
trends, a street × month heat map, a community drill-down, and grid events."""

from __future__ import annotations

import streamlit as st

from governance import exporting, facility_view, maps, presentation, safety, safety_view
from governance.contract import INCIDENT_CATEGORY
from governance.text import t
from pages import _drawing, _exports, _reads, _shell


def _show(frame, key: str) -> None:
    _drawing.show_table(frame, safety_view.column_label, key=key, display=safety_view.for_display)


ctx = _shell.page_context()
st.title(t("safety.title"))
_shell.sample_banner(ctx)
if ctx.period.month_from is None:
    st.info(t("safety.no_months"))
    st.stop()
st.caption(_shell.period_caption(ctx.period))
view = _reads.safety_data(ctx.data, ctx.period, ctx.view_filter, ctx.scenario)
matrix = view.standards_matrix

if len(view.red_flags):
    st.error(t("safety.red_flags.alert", communities=view.red_flag_communities,
               months=len(view.red_flags)), icon=":material/flag:")
    _show(view.red_flags, key="safety_red_flags")
else:
    st.success(t("safety.red_flags.none"))

headline = safety.headline(matrix)
requirement = safety.reporting_requirement(matrix)
metrics = st.columns(5)
metrics[0].metric(t("safety.kpi.communities"), f"{headline['communities']:,}")
metrics[1].metric(t("safety.kpi.all_met"), f"{headline['all_met']:,}",
                  help=t("safety.kpi.all_met.help"))
metrics[2].metric(t("safety.kpi.red_flag"), f"{headline['red_flag']:,}")
metrics[3].metric(t("safety.kpi.any_not_met"), f"{headline['any_not_met']:,}")
metrics[4].metric(t("safety.kpi.short_reporting"), f"{headline['short_reporting']:,}",
                  help=t("safety.kpi.short_reporting.help", **requirement) if requirement else None)

st.subheader(t("safety.standards.title"))
if requirement:
    st.caption(t("safety.reporting.rule", **requirement,
                 pct=f"{ctx.standards.settings['min_reported_months_pct']:g}"))
for line in facility_view.standards_caption(safety.SAFETY_INDICATORS, ctx.standards):
    st.caption(line)
ids = presentation.matrix_indicator_ids(matrix)
_drawing.status_table(presentation.with_type_labels(matrix), tuple(ids), ctx.scenario,
                     key="safety_standards", worst_first=False)


def _indicator_label(indicator_id: str) -> str:
    return presentation.indicator_column_label(indicator_id)


@st.fragment
def trends_section() -> None:
    st.subheader(t("safety.trend.title"))
    left, right = st.columns([1, 2])
    indicator_id = left.selectbox(
        t("safety.trend.indicator"), safety.SAFETY_INDICATORS, format_func=_indicator_label,
        key="safety_trend_indicator",
    )
    streets = right.multiselect(
        t("safety.trend.streets"), sorted(matrix["street"].unique()),
        key="safety_trend_streets", placeholder=t("safety.trend.streets.placeholder"),
        select_all=False,
    )
    series = safety.trend(view.monthly, indicator_id, tuple(streets))
    _drawing.chart(presentation.safety_trend_chart, series, indicator_id, ctx.standards,
                  key="safety_trend")
    basis = safety.trend_basis(view.monthly)
    if basis["compared"]:
        st.caption(t("safety.trend.basis", months=basis["months"], compared=basis["compared"],
                     communities=basis["communities"], fewest=basis["fewest_reporting"]))
    else:
        st.warning(t("safety.trend.basis.none", months=basis["months"]))

    heat_id = st.selectbox(
        t("safety.heatmap.indicator"), safety.SAFETY_INDICATORS, format_func=_indicator_label,
        key="safety_heat_indicator",
    )
    heat = safety.street_month_matrix(view.monthly, heat_id)
    if heat.empty:
        st.info(t("safety.heatmap.empty"))
    else:
        _drawing.chart(presentation.street_month_heatmap, heat, heat_id, ctx.standards,
                      key="safety_heatmap")


@st.fragment
def drill_section() -> None:
    st.subheader(t("safety.drill.title"))
    left, right = st.columns([1, 2])
    street = left.selectbox(
        t("safety.drill.street"), ["", *sorted(matrix["street"].unique())],
        format_func=lambda s: s or t("filter.all"), key="safety_drill_street",
    )
    choices = _reads.safety_drill_choices(ctx.data, ctx.period, ctx.view_filter, ctx.scenario,
                                          street)
    if not choices:
        st.info(t("safety.drill.none"))
        return
    community_id = right.selectbox(
        t("safety.drill.community"), list(choices), format_func=choices.get,
        key="safety_drill_community",
    )
    months = _reads.safety_community_months(
        ctx.data, ctx.period, ctx.view_filter, community_id)
    missing = int((~months["has_report"]).sum())
    if missing:
        st.warning(t("safety.drill.missing_months", months=missing))
    _show(months.drop(columns=["community_id"]), key="safety_drill_months")


trends_section()
drill_section()

incidents = view.incidents
st.subheader(t("safety.incidents.title"))
if incidents is None:
    st.info(t("safety.incidents.none"))
else:
    st.caption(t("safety.incidents.as_of", as_of=incidents.as_of.strftime("%Y-%m-%d %H:%M")))
    source_notes = safety_view.source_notes(incidents)
    st.info(source_notes[0], icon=":material/database:")
    for note in source_notes[1:]:
        st.warning(note)
    figures = safety_view.incident_kpis(incidents)
    for column, (key, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(t(f"safety.kpi.{key}"), value)
    if len(incidents.counts):
        _drawing.chart(presentation.incident_month_bar, incidents.counts, key="safety_incidents")
        left, right = st.columns([3, 2])
        with left:
            _drawing.chart(presentation.resolution_bar, incidents.resolution,
                          key="safety_resolution")
        with right:
            _show(incidents.resolution, key="safety_resolution_table")

    st.markdown("**" + t("safety.open.title") + "**")
    if incidents.open_total > len(incidents.open_cases):
        st.caption(t("safety.open.limited", total=f"{incidents.open_total:,}",
                     shown=len(incidents.open_cases)))
    _show(incidents.open_cases, key="safety_open")

    from_run = incidents.source.kind == safety_view.AGGREGATES

    @st.fragment
    def map_section() -> None:
        st.markdown("**" + t("safety.map.title") + "**")
        if from_run:
            # The run holds one map (its scope, months, default cell, every
            # category): no controls that could not change it.
            cell_m, categories = safety.DEFAULT_CELL_M, []
            if not safety_view.map_from_run(incidents.source, cell_m, ()):
                st.info(t("safety.map.run_unavailable", metres=cell_m))
                return
            st.caption(t("safety.map.from_run", metres=cell_m))
        else:
            left, right = st.columns([1, 2])
            cell_m = left.select_slider(
                t("safety.map.cell"), options=[100, 250, 500, 1000],
                value=safety.DEFAULT_CELL_M,
                format_func=lambda m: t("safety.map.cell.metres", metres=m),
                key="safety_cell_m",
            )
            categories = right.multiselect(
                t("safety.map.categories"), [c.code for c in INCIDENT_CATEGORY.codes],
                format_func=INCIDENT_CATEGORY.label_of, key="safety_map_categories",
                placeholder=t("filter.all"), select_all=False,
            )
        figure, cell_count = _drawing.incident_map(
            ctx.data, ctx.period, ctx.view_filter, int(cell_m),
            tuple(categories), incidents.summary.get("mean_lat"),
        )
        st.caption(t("safety.map.legend", cells=f"{cell_count:,}"))
        map_column, legend_column = st.columns(maps.MAP_LEGEND_COLUMNS, gap="medium")
        map_column.pydeck_chart(figure.deck, key="safety_map",
                                height=maps.INCIDENT_MAP_HEIGHT_PX)
        legend_column.markdown(figure.legend_html, unsafe_allow_html=True)

    map_section()

    st.markdown("**" + t("safety.reconcile.title") + "**")
    summary = incidents.reconciliation
    st.caption(t("safety.reconcile.rule"))
    if summary["differing"] or summary["unreported"]:
        st.warning(t("safety.reconcile.summary", checked=summary["checked"],
                     differing=summary["differing"], unreported=summary["unreported"]))
        _show(incidents.differences, key="safety_reconcile")
    else:
        st.success(t("safety.reconcile.ok"))

_exports.excel_button(ctx, t("safety.export"), lambda: safety_view.export_sheets(view),
                     file_name=exporting.download_name("safety", "xlsx"), key="safety_export")
