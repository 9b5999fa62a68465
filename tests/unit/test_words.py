"""What a reader sees in tables and exports is worded in Chinese: the import
preview and problem list, the matrix headers' units, community types and
yes/no cells in workbooks."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd

from governance import exporting, funding_view, presentation, reports
from governance.importer import CellProblem, ImportReport


def _report(table: str, preview: pd.DataFrame | None = None,
            problems: list[CellProblem] | None = None) -> ImportReport:
    problems = problems or []
    return ImportReport(file_name="设施.csv", table=table, sha256="", rows=0 if preview is None else len(preview),
                        problems=problems, problem_count=len(problems), notes=[],
                        preview=preview)


def test_preview_reads_labels_and_words_not_column_names_and_codes():
    preview = pd.DataFrame({
        "facility_id": ["C1-F01", "C1-F02"],
        "community_id": ["340403001001", "340403001001"],
        "facility_type": ["service_center", "park"],
        "area_m2": [315.46, None],
        "capacity": pd.array([None, 1200], dtype="Int64"),
        "status": ["in_use", None],
    })
    shown, formats = reports.preview_frame(_report("facilities", preview))
    assert list(shown.columns) == [
        "设施编码", "社区编码", "设施类型", "建筑面积（平方米）", "床位数", "状态"]
    assert shown["设施类型"].tolist() == ["综合服务中心", "小公园"]
    assert shown["状态"].iloc[0] == "在用" and pd.isna(shown["状态"].iloc[1])
    # Numbers by their unit, rounded before they are sent; missing stays missing.
    assert shown["建筑面积（平方米）"].iloc[0] == 315.5
    assert pd.isna(shown["建筑面积（平方米）"].iloc[1])
    assert formats["建筑面积（平方米）"] == presentation.TENTHS
    assert formats["床位数"] == presentation.WHOLE


def test_funding_preview_labels_money_with_its_unit_and_codes_in_words():
    preview = pd.DataFrame({
        "community_id": ["340403001001"], "year": pd.array([2025], dtype="Int64"),
        "category": ["party_building"], "source": ["co_building"],
        "amount_yuan": [100000.0], "allocated_date": [date(2025, 3, 1)],
        "disbursed_date": [None],
    })
    shown, formats = reports.preview_frame(_report("funding", preview))
    assert shown.iloc[0][["经费类别", "资金来源", "金额（元）"]].tolist() == [
        "党建经费", "共建单位", 100000.0]
    assert "年度" not in formats  # a year reads 2025, not 2,025
    assert formats["金额（元）"] == presentation.WHOLE


def _problem(reason: str, column: str = "户数", value: str | None = "-5") -> CellProblem:
    return CellProblem("社区表.csv", 3, column, value, reason)


def test_problem_rows_grow_to_show_the_longest_text_in_full():
    short = _report("communities", problems=[_problem("不能小于 0")])
    assert reports.problem_row_height(short) is None
    assert reports.problem_table_height(short) == "auto"
    choices = "、".join(["综合服务中心", "文化活动室", "体育健身场地", "日间照料中心"] * 4)
    long = _report("communities", problems=[_problem("不能小于 0"),
                                            _problem("不是可接受的取值；可填：" + choices)])
    height = reports.problem_row_height(long)
    # Streamlit wraps only rows taller than 64 px; this reason needs 5 lines of
    # 57 half-width characters (420 px less padding, 7 px each).
    assert height > 64
    per_line = (reports.PROBLEM_WIDTHS_PX["reason"] - 16) // 7
    lines = -(-exporting.display_width(long.problems[1].reason) // per_line)
    assert lines == 5 and height == 16 + 20 * lines
    assert reports.problem_table_height(long) == 38 + 2 * height
    # A long column label alone wraps too (办公和活动用房面积 in 120 px).
    label = _report("communities", problems=[_problem("不是数字", "办公和活动用房面积", "三百")])
    assert reports.problem_row_height(label) > 64


def test_matrix_headers_carry_the_catalogue_unit():
    assert presentation.indicator_header("F01") == "F01 每百户办公和活动用房面积（平方米/百户）"
    assert presentation.indicator_header("M01") == "M01 办公经费（元）"
    matrix = pd.DataFrame({
        "community_id": ["C1"], "community_name": ["甲"], "street": ["东"],
        "community_type": ["城市社区"], "not_met_count": [1], "met_share_pct": [50.0],
        "F01": [12.46], "F01_status": ["not_met"], "M01": [25000.0], "M01_status": ["met"],
    })
    exported = presentation.matrix_for_export(matrix)
    assert exported["F01 每百户办公和活动用房面积（平方米/百户）"].iloc[0] == 12.5
    assert exported["F01 每百户办公和活动用房面积（状态）"].iloc[0] == "未达标"
    # The unit in the header sets the workbook's number format (元: whole yuan).
    assert exporting.number_format_for("M01 办公经费（元）") == "#,##0"


def test_funding_tables_name_community_types_and_workbooks_write_yes_no():
    frame = pd.DataFrame({"community_type": ["old_town", "urban_village"],
                          "gains": pd.array([True, pd.NA], dtype="boolean")})
    shown = funding_view.for_display(frame)
    assert shown["community_type"].tolist() == ["老城区社区", "城中村"]
    book = openpyxl.load_workbook(io.BytesIO(exporting.to_excel_bytes({"表": shown})))
    cells = [cell.value for cell in book["表"]["B"]]
    assert cells == ["gains", "是", None]
