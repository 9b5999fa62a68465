"""设施覆盖: the ten-minute service circle, space standards, and a facility what-if."""

from __future__ import annotations

import streamlit as st

from governance import coords, coverage, exporting, facility_view, maps, presentation
from governance.catalogue import load_catalogue
from governance.contract import FACILITY_TYPE
from governance.text import t
from pages import _drawing, _exports, _reads, _shell

CIRCLES = [*coverage.CIRCLE_PRESETS_M, "custom"]

ctx = _shell.page_context()
st.title(t("facilities.title"))
_shell.sample_banner(ctx)
_shell.communities_or_stop(ctx)

type_column, circle_column, radius_column, detour_column = st.columns([2, 2, 1, 1])
facility_type = type_column.selectbox(
    t("facilities.type"), [c.code for c in FACILITY_TYPE.codes],
    format_func=FACILITY_TYPE.label_of, key="coverage_type",
)
settings = ctx.standards.settings
scenario_radius = float(settings["service_circle_radius_m"])
circle = circle_column.selectbox(
    t("facilities.circle"), CIRCLES, index=CIRCLES.index(coverage.circle_for(scenario_radius)),
    format_func=lambda c: t(
        "facilities.circle.custom" if c == "custom" else f"coverage.circle.{c}"
    ),
    key=ctx.key("coverage_circle"), help=t("facilities.help.circle"),
)
if circle == "custom":
    custom_radius = radius_column.number_input(
        t("facilities.radius"), min_value=50, max_value=5000, value=int(scenario_radius),
        step=50, key=ctx.key("coverage_radius"),
    )
else:
    # Greyed out, showing the radius in use: the preset's (a widget of its own per
    # preset, so its value is never a stale custom one).
    radius_column.number_input(
        t("facilities.radius"), min_value=50, max_value=5000,
        value=int(coverage.CIRCLE_PRESETS_M[circle]), step=50,
        key=ctx.key(f"coverage_radius_{circle}"), disabled=True,
    )
    custom_radius = None
detour = detour_column.number_input(
    t("facilities.detour"), min_value=1.0, max_value=3.0, step=0.05,
    value=float(settings["walking_detour_factor"]),
    key=ctx.key("coverage_detour"), help=load_catalogue().setting("walking_detour_factor").help,
)
radius_m = float(custom_radius if circle == "custom" else coverage.CIRCLE_PRESETS_M[circle])


@st.fragment
def coverage_section() -> None:
    """Map, what-if and tables: reruns alone as the what-if inputs move."""
    closable = _reads.closable_facilities(ctx.data, ctx.view_filter, facility_type)
    with st.expander(t("facilities.whatif.title"), expanded=True):
        st.caption(t("facilities.whatif.caption"))
        text_column, system_column = st.columns([3, 1])
        typed = text_column.text_area(
            t("facilities.whatif.editor"), key="proposals_text", height=90,
            placeholder="117.0123,32.6345",
        )
        system = system_column.selectbox(
            t("facilities.whatif.system"), list(coords.SYSTEMS),
            format_func=lambda s: t(f"coords.{s}"), key="proposals_system",
        )
        closed = st.multiselect(
            t("facilities.whatif.close"), list(closable), format_func=closable.get,
            key="closed_facilities", placeholder=t("facilities.whatif.close.placeholder"),
            select_all=False,  # one click would close every facility
        )
    map_state = st.session_state.get("coverage_map")
    clicked = facility_view.proposal_from_selection(map_state.selection if map_state else None)
    added, problems = facility_view.proposals_from_text(typed, system)
    for problem in problems:
        st.warning(problem)
    request = facility_view.CoverageRequest(
        facility_type, radius_m, float(detour),
        added=added + ((clicked,) if clicked else ()), closed=tuple(closed),
        scenario=ctx.scenario,
    )
    view = _reads.coverage_view(ctx.data, request, ctx.view_filter)
    district = view.district

    kpis = st.columns(4)
    pct = district["coverage_pct"]
    kpis[0].metric(
        t("facilities.kpi.coverage"), "—" if pct is None else f"{pct:.1f}%",
        delta=None if not request.is_what_if or pct is None
        else f"{pct - district['coverage_before_pct']:+.1f}",
    )
    kpis[1].metric(t("facilities.kpi.uncovered"), f"{district['households_uncovered']:,}")
    kpis[2].metric(
        t("facilities.kpi.full"), f"{district['communities_full']} / {district['communities']}"
    )
    kpis[3].metric(t("facilities.kpi.no_data"), str(district["communities_no_data"]))
    st.caption(coverage.basis_text(view.basis))

    st.subheader(t("facilities.map.title"))
    st.caption(t("facilities.map.caption"))
    if view.shapes["derived"].any():
        st.caption(t("facilities.map.derived"))
    if len(view.points) > maps.MAX_POINTS:
        st.caption(t("facilities.map.aggregated", points=f"{len(view.points):,}"))
    figure = _drawing.coverage_map(ctx.data, request, ctx.view_filter)
    map_column, legend_column = st.columns(maps.MAP_LEGEND_COLUMNS, gap="medium")
    map_column.pydeck_chart(
        figure.deck, on_select="rerun", selection_mode="single-object", key="coverage_map",
        height=maps.COVERAGE_MAP_HEIGHT_PX,
    )
    legend_column.markdown(figure.legend_html, unsafe_allow_html=True)
    if clicked:
        st.caption(t("facilities.whatif.clicked", lon=clicked.lon, lat=clicked.lat))
    if request.is_what_if:
        before = district["coverage_before_pct"]
        st.info(t(
            "facilities.whatif.summary",
            newly=f"{district['households_newly_covered']:,}",
            lost=f"{district['households_lost']:,}",
            before="—" if before is None else f"{before:.1f}%",
            after="—" if pct is None else f"{pct:.1f}%",
        ))
        st.markdown("**" + t("facilities.whatif.changes") + "**")
        _drawing.show_table(view.changes, facility_view.coverage_column_label)
    else:
        st.caption(t("facilities.whatif.none"))

    table_column, chart_column = st.columns([3, 2])
    with table_column:
        st.markdown("**" + t("facilities.table.left_out") + "**")
        _drawing.show_table(view.left_out, facility_view.coverage_column_label, key="left_out")
    with chart_column:
        _drawing.chart(presentation.coverage_by_street_bar, view.streets, key="street_coverage")
    st.markdown("**" + t("facilities.table.points", n=facility_view.LEFT_OUT_POINTS_SHOWN) + "**")
    _drawing.show_table(view.uncovered_points, facility_view.coverage_column_label)
    with st.expander(t("facilities.table.communities")):
        _drawing.show_table(view.communities, facility_view.coverage_column_label)

    standards_section(view)


def standards_section(view: facility_view.CoverageView) -> None:
    st.subheader(t("facilities.standards.title"))
    for line in facility_view.standards_caption(standards=ctx.standards):
        st.caption(line)
    values = _reads.indicator_values(
        ctx.data, ctx.period, ctx.view_filter, ctx.scenario)
    standards = _reads.space_standards(ctx.data, ctx.period, ctx.view_filter, ctx.scenario)
    ids = presentation.matrix_indicator_ids(standards)
    _drawing.status_table(standards, tuple(ids), ctx.scenario, key="space_standards")
    _drawing.chart(presentation.indicator_histogram, values, "F01", t("facilities.chart.f01"),
                  ctx.standards, key="f01_histogram")
    _exports.excel_button(
        ctx, t("facilities.export"), lambda: facility_view.export_sheets(view, standards),
        file_name=exporting.download_name("facilities", "xlsx"), key="facilities_export",
    )


coverage_section()
