"""Exported values are what the pages show: indicator values to the catalogue's
decimals (half up), and columns named for what they are."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from governance import exporting, funding_view, presentation, safety_view, scenarios
from governance.catalogue import load_catalogue
from governance.indicators import Period
from governance.text import t
from tests.conftest import load_fixture_sql

PERIOD = Period(2024, date(2024, 1, 1), date(2024, 3, 1))


def _sheet(sheets: dict, name: str):
    return openpyxl.load_workbook(io.BytesIO(exporting.to_excel_bytes(sheets)))[name]


def test_matrix_export_holds_each_indicator_to_its_catalogue_decimals():
    catalogue = load_catalogue()
    assert catalogue.indicator("M01").decimals == 0 and catalogue.indicator("F01").decimals == 1
    matrix = pd.DataFrame({
        "community_id": ["C01", "C02"], "community_name": ["甲社区", "乙社区"],
        "street": ["东湖街道", "东湖街道"], "community_type": ["城市社区", "城市社区"],
        "not_met_count": [0, 1], "met_share_pct": [100.0, 50.0],
        "F01": [24.48175653858573, 20.05], "F01_status": ["partly_met", "partly_met"],
        "M01": [25000.5, None], "M01_status": ["met", "no_data"],
    })
    sheet = _sheet({"矩阵": presentation.matrix_for_export(matrix)}, "矩阵")
    headers = [c.value for c in sheet[1]]
    f01 = headers.index(presentation.indicator_header("F01")) + 1
    m01 = headers.index(presentation.indicator_header("M01")) + 1
    # 24.48… → 24.5; 20.05 → 20.1 (half up, where binary rounding gives 20.0);
    # 25,000.5 yuan → 25,001; a missing value stays empty.
    assert [sheet.cell(r, f01).value for r in (2, 3)] == [24.5, 20.1]
    assert [sheet.cell(r, m01).value for r in (2, 3)] == [25001, None]


def test_round_to_indicator_rounds_each_row_by_its_indicator():
    values = pd.Series([25000.5, 24.45, 91.8367, None, 1.5])
    ids = pd.Series(["M01", "F01", "S02", "F01", None])
    rounded = presentation.round_to_indicator(values, ids)
    assert rounded.iloc[:3].tolist() == [25001.0, 24.5, 91.8]
    assert pd.isna(rounded.iloc[3])
    assert rounded.iloc[4] == 1.5  # no indicator: left as it is


def test_scenario_export_and_page_show_status_changes_to_the_indicators_decimals(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    raised = scenarios.from_values("调解提标", {"S02": (92.0, None)}, {})
    comparison = scenarios.compare(memory_conn, PERIOD, raised)
    raw = comparison.status_changes.set_index("indicator_id").loc["S02", "baseline_value"]
    assert raw == pytest.approx(4500 / 49)  # C01: 45 of 49 disputes settled
    shown = scenarios.changes_for_display(comparison.status_changes)
    assert shown["baseline_value"].tolist() == [91.8]
    sheet = _sheet(scenarios.export_sheets(comparison), t("scenario.sheet.status_changes"))
    headers = [c.value for c in sheet[1]]
    column = headers.index(t("scenario.column.baseline_value")) + 1
    assert sheet.cell(2, column).value == 91.8


def test_the_formula_tables_difference_is_named_for_what_it_is(memory_conn):
    """Formula − current funds is not a change on last year: the formula sheet
    says 较现有经费增减, the per-household sheet keeps its real 同比增减."""
    load_fixture_sql(memory_conn, "indicators_small")
    view = funding_view.funding_view(memory_conn, funding_view.FundingRequest(PERIOD))
    sheets = funding_view.export_sheets(view)
    formula = sheets[t("funding.sheet.formula")]
    difference = t("funding.column.formula_change_yuan")
    assert difference == "较现有经费增减(元)"
    assert difference in formula.columns and t("funding.column.change_yuan") not in formula.columns
    assert (formula[difference] == formula[t("funding.column.formula_yuan")]
            - formula[t("funding.column.current_yuan")]).all()
    assert t("funding.column.change_yuan") in sheets[t("funding.sheet.per_household")].columns
    assert funding_view.formula_column_label("change_yuan") == difference
    assert funding_view.formula_column_label("formula_yuan") == t("funding.column.formula_yuan")


def test_safety_monthly_export_holds_each_value_to_its_indicators_decimals():
    monthly = pd.DataFrame({
        "street": ["东湖街道", None], "is_district": [False, True],
        "month": pd.to_datetime(["2025-01-01", "2025-01-01"]),
        "indicator_id": ["S06", "S04"], "value": [92.84166666666665, 2.0],
    })
    frame = safety_view.monthly_for_export(monthly)
    assert frame["value"].tolist() == [92.8, 2.0]
    assert frame["street"].tolist() == ["东湖街道", t("safety.district")]
