"""The meeting brief's Excel workbook: the brief's tables, Chinese headers, one
sheet each, for `exporting.to_excel_bytes`.

Numbers stay numbers: the summary's counts and rates carry their own format
(25,000; 95.7%); the other sheets' are formatted, and rounded as the pages
show them, by the unit in their header. The comparison's status changes and
totals are the scenario page's tables (`scenarios.changes_for_display`,
`scenarios.totals_for_display`) under the brief's headers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from governance import exporting, meetings, presentation, scenarios
from governance.brief import GAP_COLUMNS, Brief
from governance.text import t

COUNT_FORMAT = "#,##0"


def _count_cell(value: Any) -> exporting.Formatted | None:
    return None if pd.isna(value) else exporting.Formatted(int(value), COUNT_FORMAT)


def _share_cell(value: Any) -> exporting.Formatted | None:
    return None if pd.isna(value) else exporting.Formatted(value, exporting.PERCENT_FORMAT)


def _summary(brief: Brief) -> pd.DataFrame:
    rows = [
        (t("brief.meta.scope"), brief.filter_text),
        (t("brief.meta.period"), brief.period_text),
        (t("brief.meta.scenario"), brief.scenario_name),
        (t("brief.meta.data_version"), brief.data_version),
        (t("brief.meta.generated_at"), f"{brief.generated_at:%Y-%m-%d %H:%M}"),
        (t("overview.kpi.communities"), _count_cell(brief.totals.get("communities"))),
        (t("overview.kpi.households"), _count_cell(brief.totals.get("households"))),
        (t("overview.kpi.population"), _count_cell(brief.totals.get("population"))),
    ]
    rows += [(t("brief.headline.dimension", dimension=s.label),
              _share_cell(s.summary["met_share_pct"])) for s in brief.sections]
    if brief.follow_up is not None:
        rows += [(t("brief.since.title"), line)
                 for line in meetings.summary_lines(brief.follow_up)]
    return pd.DataFrame(rows, columns=[t("brief.column.item"), t("brief.column.content")])


def _dimensions(brief: Brief) -> pd.DataFrame:
    return pd.DataFrame(
        [[t(f"dimension.{row['dimension']}"), row["rated"], row["met"], row["partly_met"],
          row["not_met"], row["no_data"], row["not_rated"], row["met_share_pct"]]
         for row in brief.dimensions.to_dict("records")],
        columns=[t("brief.column.dimension"), t("indicators.column.rated"),
                 t("status.met"), t("status.partly_met"), t("status.not_met"),
                 t("status.no_data"), t("status.not_rated"),
                 t("indicators.column.met_share_pct")])


def _indicators(brief: Brief) -> pd.DataFrame:
    rows = [
        [section.label, row["indicator_id"], row["name"], row["unit"], row["standard"],
         row["met"], row["partly_met"], row["not_met"], row["no_data"], row["not_rated"],
         row["met_share_pct"]]
        for section in brief.sections for row in section.indicators.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=[
        t("brief.column.dimension"), t("indicators.column.indicator_id"),
        t("brief.column.indicator"), t("brief.column.unit"), t("brief.column.standard"),
        t("status.met"), t("status.partly_met"), t("status.not_met"), t("status.no_data"),
        t("status.not_rated"), t("indicators.column.met_share_pct")])


def _in_need(brief: Brief) -> pd.DataFrame:
    return brief.in_need_all.rename(columns={
        **presentation.lead_column_labels(), "unmet": t("brief.column.unmet")})


def _comparison_sheets(brief: Brief, comparison: scenarios.Comparison) -> dict[str, pd.DataFrame]:
    gap_labels = presentation.lead_column_labels()
    gap_labels.update({c: t(f"brief.column.{c}") for c in (
        *GAP_COLUMNS, "office_fund_gap_yuan", "party_fund_gap_yuan")})
    return {
        t("brief.sheet.changes"): pd.DataFrame(
            {t("brief.scenario.changes"): brief.standard_changes}),
        t("brief.sheet.totals"): scenarios.totals_for_display(comparison.totals).rename(
            columns={
                "indicator_id": t("brief.column.indicator"),
                "met_baseline": t("brief.column.met_baseline"),
                "met_scenario": t("brief.column.met_scenario"),
                "not_met_baseline": t("brief.column.not_met_baseline"),
                "not_met_scenario": t("brief.column.not_met_scenario"),
                "change": t("brief.column.change"),
            }),
        t("brief.sheet.status_changes"): scenarios.changes_for_display(
            comparison.status_changes).rename(columns={
                **presentation.lead_column_labels(),
                "indicator_id": t("brief.column.indicator"),
                "baseline_value": t("brief.column.baseline_value"),
                "baseline_status": t("brief.column.baseline_status"),
                "scenario_value": t("brief.column.scenario_value"),
                "scenario_status": t("brief.column.scenario_status"),
            }),
        t("brief.sheet.gaps"): comparison.gaps.rename(columns=gap_labels),
    }


def brief_sheets(brief: Brief) -> dict[str, pd.DataFrame]:
    """The brief's tables, Chinese headers, one sheet each (for exporting.to_excel_bytes).
    With a meeting on record the follow-up sheets come first, as in the brief."""
    sheets: dict[str, pd.DataFrame] = {}
    if brief.follow_up is not None:
        sheets.update(meetings.export_sheets(brief.follow_up))
    sheets |= {
        t("brief.sheet.summary"): _summary(brief),
        t("brief.sheet.dimensions"): _dimensions(brief),
        t("brief.sheet.indicators"): _indicators(brief),
        t("brief.sheet.in_need"): _in_need(brief),
    }
    if brief.comparison is not None:
        sheets.update(_comparison_sheets(brief, brief.comparison))
    return sheets
