"""经费保障: funds against the standards, disbursement delays, staff pay, and a
funding-formula what-if."""

from __future__ import annotations

import streamlit as st

from governance import exporting, facility_view, funding, funding_view, presentation
from governance.contract import FUNDING_CATEGORY
from governance.text import t
from pages import _drawing, _exports, _reads, _shell

ctx = _shell.page_context()
st.title(t("funding.title"))
_shell.sample_banner(ctx)
if ctx.period.year is None:
    st.info(t("funding.no_year"))
    st.stop()
st.caption(_shell.period_caption(ctx.period))
_shell.communities_or_stop(ctx)

settings = ctx.standards.settings
settings_columns = st.columns(3)
on_time_days = settings_columns[0].number_input(
    t("funding.delay.on_time_days"), min_value=1, max_value=365, step=1,
    value=int(settings["on_time_days"]), key=ctx.key("funding_on_time_days"),
)
wage = settings_columns[1].number_input(
    t("funding.staff.wage"), min_value=500.0, max_value=50_000.0, step=100.0,
    value=float(settings["local_avg_monthly_wage_yuan"]), key=ctx.key("funding_wage"),
)
levels = list(funding.SOCIAL_WORKER_ALLOWANCE_BY_LEVEL.values())
level = settings_columns[2].selectbox(
    t("funding.staff.level"), levels,
    index=levels.index(int(settings["social_worker_allowance_level_yuan"]))
    if int(settings["social_worker_allowance_level_yuan"]) in levels else 1,
    key=ctx.key("funding_allowance_level"),
)


@st.fragment
def funding_section() -> None:
    with st.expander(t("funding.formula.title"), expanded=True):
        st.caption(t("funding.formula.source") + " " + t("funding.formula.rounding"))
        inputs = st.columns(5)
        base = inputs[0].number_input(
            t("funding.formula.base"), 0.0, 1_000_000.0,
            float(settings["funding_formula_base_yuan"]), 1_000.0, key=ctx.key("formula_base"))
        per_household = inputs[1].number_input(
            t("funding.formula.per_household"), 0.0, 1_000.0,
            float(settings["funding_formula_per_household_yuan"]), 1.0,
            key=ctx.key("formula_per_household"))
        per_elderly = inputs[2].number_input(
            t("funding.formula.per_elderly"), 0.0, 1_000.0,
            float(settings["funding_formula_per_elderly_yuan"]), 1.0,
            key=ctx.key("formula_per_elderly"))
        per_low_income = inputs[3].number_input(
            t("funding.formula.per_low_income"), 0.0, 10_000.0,
            float(settings["funding_formula_per_low_income_yuan"]), 10.0,
            key=ctx.key("formula_per_low_income"))
        category = inputs[4].selectbox(
            t("funding.column.category"), [c.code for c in FUNDING_CATEGORY.codes],
            format_func=FUNDING_CATEGORY.label_of, key="formula_category")
    request = funding_view.FundingRequest(
        ctx.period, int(on_time_days), float(wage), int(level),
        float(base), float(per_household), float(per_elderly), float(per_low_income), category,
        ctx.scenario,
    )
    view = _reads.funding_data(ctx.data, request, ctx.view_filter)

    summary = view.formula
    metrics = st.columns(4)
    metrics[0].metric(
        t("funding.summary.formula_total_yuan"), f"{int(summary['formula_total_yuan']):,}")
    metrics[1].metric(
        t("funding.summary.current_budget_yuan"), f"{int(summary['current_budget_yuan']):,}")
    metrics[2].metric(t("funding.summary.gainers"), funding_view.count_text(summary["gainers"]))
    metrics[3].metric(t("funding.summary.losers"), funding_view.count_text(summary["losers"]))
    _drawing.show_table(view.allocation, funding_view.formula_column_label, key="formula_table")

    st.subheader(t("funding.standards.title"))
    for line in facility_view.standards_caption(funding_view.FUNDING_INDICATORS, ctx.standards):
        st.caption(line)
    ids = presentation.matrix_indicator_ids(view.standards_matrix)
    matrix = presentation.with_type_labels(view.standards_matrix)
    _drawing.status_table(matrix, tuple(ids), ctx.scenario, key="funding_standards")
    left, right = st.columns([3, 2])
    with left:
        _drawing.chart(presentation.funding_by_street_bar, view.by_street_category,
                      key="funding_streets")
    with right:
        st.markdown("**" + t("funding.by_source.title") + "**")
        _drawing.show_table(funding_view.for_display(view.by_source), funding_view.column_label)

    st.subheader(t("funding.per_household.title"))
    spread = view.spread
    if spread["median"] is not None:
        st.caption(t(
            "funding.spread", min=f"{spread['min']:,.0f}", median=f"{spread['median']:,.0f}",
            max=f"{spread['max']:,.0f}",
            ratio="—" if spread["ratio"] is None else f"{spread['ratio']:.1f}",
        ))
    _drawing.chart(
        presentation.value_histogram, view.per_household["per_household_yuan"],
        t("funding.chart.per_household"), t("funding.axis.per_household"),
        key="funding_per_household")
    with st.expander(t("funding.sheet.per_household")):
        _drawing.show_table(view.per_household, funding_view.column_label)

    st.subheader(t("funding.delay.title"))
    st.caption(t("funding.delay.source"))
    delays = view.delays
    delay_metrics = st.columns(3)
    on_time = delays["on_time_pct"]
    delay_metrics[0].metric(
        t("funding.delay.on_time_pct"), "—" if on_time != on_time else f"{on_time:.1f}%")
    delay_metrics[1].metric(
        t("funding.delay.p90_delay_days"), "—" if delays["p90_delay_days"] != delays[
            "p90_delay_days"] else f"{delays['p90_delay_days']:.0f}")
    delay_metrics[2].metric(
        t("funding.delay.outstanding_yuan"), f"{float(delays['outstanding_yuan']):,.0f}")
    _drawing.chart(
        presentation.value_histogram, view.lines["delay_days"], t("funding.chart.delay"),
        t("funding.axis.days"), ((on_time_days, t("funding.delay.on_time_days")),),
        t("funding.axis.lines"), key="funding_delays")
    st.markdown("**" + t("funding.delay.problems") + "**")
    _drawing.show_table(funding_view.for_display(view.problem_lines), funding_view.column_label,
                       key="funding_problem_lines")

    st.subheader(t("funding.staff.title"))
    st.caption(t("funding.allowance.source") + " "
               + t("funding.allowance.assumption", level_yuan=level))
    _drawing.show_table(view.allowance, funding_view.column_label, key="funding_allowance")

    st.subheader(t("funding.public_welfare.title"))
    st.caption(t("funding.public_welfare.source"))
    _drawing.show_table(view.public_welfare, funding_view.column_label, key="public_welfare")

    _exports.excel_button(ctx, t("funding.export"), lambda: funding_view.export_sheets(view),
                         file_name=exporting.download_name("funding", "xlsx"),
                         key="funding_export")


funding_section()
