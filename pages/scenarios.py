"""情景推演与会议简报: edit any threshold or setting, compare with the policy
baseline at once, save named scenarios, and export the meeting brief."""

from __future__ import annotations

import streamlit as st

from governance import exporting, permissions, scenarios
from governance.catalogue import DIMENSIONS
from governance.text import escape_markdown, t
from pages import _drawing, _exports, _reads, _session, _shell

ctx = _shell.page_context()
st.title(t("scenario.title"))
_shell.sample_banner(ctx)
st.caption(t("scenario.intro"))

# One source of truth: the scenario applied in the sidebar (ctx.scenario) is the
# one the editor starts from, so the comparison, the brief and its Excel begin
# with what every other page shows. This page's picker applies a scenario
# (it sets the sidebar's picker) rather than holding a second one.
saved = _reads.scenario_list(ctx.db_path, scenarios.scenario_version(ctx.conn))
names = saved["name"].tolist()
start = ctx.scenario
start_name = "" if start.is_baseline else (start.name or "")


def _apply(name: str) -> None:
    """Apply a saved scenario (or the baseline, "") to every page (a callback)."""
    st.session_state["filter_scenario"] = name


def _apply_picked(picker_key: str) -> None:
    _apply(st.session_state[picker_key])


def _delete(name: str) -> None:
    """Delete the applied scenario and go back to the baseline (a callback);
    governance refuses it when the scenario is another leader's."""
    try:
        scenarios.delete_scenario(ctx.conn, name, ctx.user)
    except scenarios.ScenarioError as problem:
        st.toast(str(problem))
        return
    _session.audit(ctx, "scenario_delete", name)
    _apply("")


start_column, delete_column = st.columns([3, 1])
picker_key = ctx.key("scenario_start")
start_column.selectbox(
    t("scenario.start"), ["", *names],
    index=names.index(start_name) + 1 if start_name in names else 0,
    format_func=lambda n: n or t("scenario.baseline"), key=picker_key,
    on_change=_apply_picked, args=(picker_key,), help=t("scenario.start.help"),
)
if start_name and permissions.may_change_scenario(ctx.user, scenarios.owner(ctx.conn, start_name)):
    delete_column.button(t("scenario.delete"), key="scenario_delete",
                         on_click=_delete, args=(start_name,))


def _number(container, label: str, value: float, key: str, help_text: str | None = None):
    step = 1.0 if abs(value) >= 10 or value == 0 else 0.1
    return container.number_input(label, value=float(value), step=step, key=key, help=help_text)


def _editor() -> scenarios.Scenario:
    """Every threshold and numeric setting, starting from the applied scenario
    (its keys change with it, so applying another starts afresh)."""
    thresholds: dict[str, tuple[float | None, float | None]] = {}
    tabs = st.tabs([_drawing.dimension_label(d) for d in DIMENSIONS] + [t("scenario.settings")])
    for tab, dimension in zip(tabs, DIMENSIONS, strict=False):
        with tab:
            for row in scenarios.editable_thresholds(dimension):
                if row["floor"] is None and row["target"] is None:
                    # Its standard is a rule of settings (O01: members by household band).
                    st.caption(t("scenario.threshold_in_settings", tab=t("scenario.settings"),
                                 indicator=f"{row['indicator_id']} {row['name']}",
                                 settings=t("text.list_separator").join(row["setting_labels"])))
                    continue
                floor, target = scenarios.threshold_of(start, row["indicator_id"])
                left, right = st.columns(2)
                label = f"{row['indicator_id']} {row['name']}（{row['unit']}）"
                if row["floor"] is not None:
                    floor = _number(left, label + t("scenario.floor"), floor,
                                    ctx.key(f"scn_floor_{row['indicator_id']}"), row["source"])
                if row["target"] is not None:
                    target = _number(right, label + t("scenario.target"), target,
                                     ctx.key(f"scn_target_{row['indicator_id']}"),
                                     row["source"])
                thresholds[row["indicator_id"]] = (floor, target)
    settings = {}
    with tabs[-1]:
        columns = st.columns(2)
        for index, row in enumerate(scenarios.editable_settings()):
            value = start.setting(row["key"])
            settings[row["key"]] = _number(
                columns[index % 2], f"{row['label']}（{row['unit']}）" if row["unit"]
                else row["label"], value, ctx.key(f"scn_setting_{row['key']}"), row["help"])
    return scenarios.named_as(scenarios.from_values(None, thresholds, settings), start)


def _save_controls(scenario: scenarios.Scenario) -> scenarios.Scenario:
    """Name and save the scenario (administrators and leaders); returns it under
    its saved name when it is saved unchanged, so the brief is titled by it."""
    save_column, button_column = st.columns([3, 1])
    name = save_column.text_input(t("scenario.name"), value=start_name,
                                  key=ctx.key("scenario_name"), max_chars=scenarios.NAME_MAX)
    if button_column.button(t("scenario.save"), key="scenario_save", type="primary"):
        try:
            scenarios.save_scenario(ctx.conn, scenario, name, ctx.user)
        except scenarios.ScenarioError as problem:
            st.error(str(problem))
        else:
            _session.audit(ctx, "scenario_save", t(
                "audit.scenario_detail", name=name.strip(),
                changes=t("text.clause_separator").join(scenarios.describe(scenario))))
            # The whole app, so the sidebar's scenario list has the new name.
            st.rerun(scope="app")
    stored = _reads.saved_scenario(ctx, name.strip()) if name.strip() else scenarios.BASELINE
    if not stored.is_baseline:
        if scenarios.same_changes(stored, scenario):
            if stored.name == start_name:
                st.success(t("scenario.saved.applied", name=escape_markdown(stored.name)))
            else:
                st.success(t("scenario.saved", name=escape_markdown(stored.name)))
                # A click applies it everywhere; the whole app reruns so the
                # sidebar shows it (a fragment rerun would not).
                if st.button(t("scenario.apply"), key="scenario_apply",
                             on_click=_apply, args=(stored.name,)):
                    st.rerun(scope="app")
            return scenarios.named_as(scenario, stored)
        st.warning(t("scenario.unsaved", name=escape_markdown(stored.name)))
    return scenario


@st.fragment
def scenario_section() -> None:
    scenario = _editor()
    comparison = _reads.scenario_comparison(ctx.data, ctx.period,
                                             ctx.view_filter, scenario)
    summary = comparison.summary
    st.subheader(t("scenario.compare.title"))
    if not scenarios.same_changes(scenario, start):
        # Edited here: the comparison and the brief follow the edits, the
        # other pages the applied scenario until this one is saved and applied.
        st.info(t("scenario.edited", applied=escape_markdown(
            start_name or t("scenario.baseline"))), icon=":material/edit:")
    if scenario.is_baseline:
        st.caption(t("scenario.compare.baseline"))
    else:
        for line in scenarios.describe(scenario):
            st.caption(escape_markdown(line))
    metrics = st.columns(4)
    metrics[0].metric(t("scenario.kpi.communities_changed"), f"{summary['communities_changed']:,}")
    metrics[1].metric(t("scenario.kpi.status_changes"), f"{summary['status_changes']:,}")
    metrics[2].metric(t("scenario.kpi.total_cost_yuan"), f"{summary['total_cost_yuan']:,.0f}",
                      delta=f"{summary['cost_change_yuan']:,.0f}",
                      delta_color="inverse")
    metrics[3].metric(t("scenario.kpi.formula_total_yuan"), f"{summary['formula_total_yuan']:,}")
    st.markdown("**" + t("scenario.totals.title") + "**")
    _drawing.show_table(scenarios.totals_for_display(comparison.totals),
                       scenarios.column_label, key="scenario_totals")
    st.markdown("**" + t("scenario.changes.title") + "**")
    if comparison.status_changes.empty:
        st.info(t("scenario.changes.none"))
    else:
        _drawing.show_table(scenarios.changes_for_display(comparison.status_changes),
                           scenarios.column_label, key="scenario_changes")
    st.markdown("**" + t("scenario.gaps.title") + "**")
    st.caption(t("scenario.gaps.rule", cost=f"{scenario.setting('space_cost_yuan_per_m2'):,.0f}",
                 space=f"{summary['space_gap_m2']:,.0f}",
                 space_yuan=f"{summary['space_cost_yuan']:,.0f}",
                 funding=f"{summary['funding_gap_yuan']:,.0f}"))
    _drawing.show_table(comparison.gaps, scenarios.column_label, key="scenario_gaps")

    if ctx.user.can_edit_scenarios:
        scenario = _save_controls(scenario)
    else:
        st.caption(t("scenario.read_only"))

    st.subheader(t("brief.section"))
    st.caption(t("brief.caption"))
    brief_columns = st.columns(2)
    _exports.export_button(
        ctx, t("brief.download.html"), container=brief_columns[0],
        data=lambda: _exports.brief_html(ctx, scenario),
        file_name=exporting.download_name("brief", "html"), mime="text/html", key="brief_html",
    )
    _exports.export_button(
        ctx, t("brief.download.xlsx"), container=brief_columns[1],
        data=lambda: _exports.brief_workbook(ctx, scenario),
        file_name=exporting.download_name("brief", "xlsx"), key="brief_xlsx",
    )
    _exports.save_meeting_controls(ctx, scenario)
    _exports.excel_button(ctx, t("scenario.export"), lambda: scenarios.export_sheets(comparison),
                         file_name=exporting.download_name("scenario", "xlsx"),
                         key="scenario_export")


scenario_section()

if len(saved):
    st.subheader(t("scenario.saved_list"))
    _drawing.show_table(saved, scenarios.column_label, key="scenario_saved_list")
