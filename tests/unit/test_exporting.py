"""Exports keep text as text: no formula ever runs when a download is opened."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd

from governance import exporting
from governance.exporting import safe_sheet_name, to_csv_bytes, to_excel_bytes
from tests.conftest import PROJECT_DIR

HYPERLINK = '=HYPERLINK("http://x")'


def _book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "社区": [HYPERLINK, "=1+1", "+86 123", "-abc", "@SUM(A1)", "\tx", "普通", None],
        "数值": [-1, 2, 3, 4, 5, 6, 7, 8],
        "比率": [-0.5, 1.5, np.nan, 3.0, 4.0, 5.0, 6.0, 7.0],
    })


def test_excel_keeps_formula_like_text_as_text():
    book = _book(to_excel_bytes({"结果": _frame()}))
    ws = book["结果"]
    cell = ws["A2"]
    assert cell.value == HYPERLINK
    assert cell.data_type == "s"  # a string, not a formula ('f')
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws["A3"].value == "=1+1"
    assert ws["A9"].value is None


def test_excel_numbers_stay_numbers_and_header_is_bold():
    ws = _book(to_excel_bytes({"结果": _frame()}))["结果"]
    assert [c.value for c in ws[1]] == ["社区", "数值", "比率"]
    assert all(c.font.b for c in ws[1])
    assert ws["B2"].value == -1 and ws["B2"].data_type == "n"
    assert ws["C2"].value == -0.5
    assert ws["C4"].value is None  # NaN → empty cell
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width >= len(HYPERLINK)


def test_excel_urls_are_not_turned_into_links():
    frame = pd.DataFrame({"url": ["http://example.invalid/a"]})
    ws = _book(to_excel_bytes({"s": frame}))["s"]
    assert ws["A2"].value == "http://example.invalid/a"
    assert ws["A2"].hyperlink is None


def test_excel_dates_decimals_and_booleans():
    frame = pd.DataFrame({
        "date": [dt.date(2024, 5, 1)],
        "stamp": [pd.Timestamp("2024-05-01 08:30")],
        "money": [Decimal("2110.50")],
        "flag": [True],
        "flags": pd.array([False, pd.NA], dtype="boolean")[:1],
    })
    ws = _book(to_excel_bytes({"s": frame}))["s"]
    assert ws["A2"].value == dt.datetime(2024, 5, 1)
    assert ws["B2"].value == dt.datetime(2024, 5, 1, 8, 30)
    assert ws["C2"].value == 2110.5
    # A yes/no reads in Chinese: Excel would show a boolean as TRUE / FALSE.
    assert (ws["D2"].value, ws["E2"].value) == ("是", "否")


def test_sheet_names_are_truncated_made_valid_and_unique():
    long = "社区治理指标看板" * 5
    frames = {long: _frame(), long + "二": _frame(), "a/b:c?": _frame(), "": _frame()}
    names = _book(to_excel_bytes(frames)).sheetnames
    assert len(names) == 4
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 4
    assert names[0] == long[:31]
    assert names[2] == "a_b_c_"
    used: set[str] = set()
    assert safe_sheet_name("Data", used) == "Data"
    assert safe_sheet_name("data", used) == "data(2)"


def test_long_frames_continue_on_further_sheets(monkeypatch):
    monkeypatch.setattr(exporting, "EXCEL_MAX_ROWS", 4)  # 3 data rows per sheet
    frame = pd.DataFrame({"n": range(7)})
    book = _book(to_excel_bytes({"表": frame}))
    assert len(book.sheetnames) == 3
    assert [book.worksheets[2].cell(2, 1).value] == [6]


def test_empty_workbook_and_empty_frame_still_open():
    assert _book(to_excel_bytes({})).sheetnames
    ws = _book(to_excel_bytes({"空": pd.DataFrame({"a": []})}))["空"]
    assert ws["A1"].value == "a"


def test_csv_prefixes_formula_text_but_not_numbers():
    raw = to_csv_bytes(_frame())
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", keep_default_na=False)
    assert back["社区"].tolist() == [
        "'" + HYPERLINK, "'=1+1", "'+86 123", "'-abc", "'@SUM(A1)", "'\tx", "普通", "",
    ]
    assert back["数值"].tolist() == [-1, 2, 3, 4, 5, 6, 7, 8]
    lines = raw.decode("utf-8-sig").split("\n")
    assert lines[1].endswith(",-1,-0.5")  # negative numbers are left alone


def test_csv_handles_object_columns_mixing_numbers_and_text():
    frame = pd.DataFrame({"mixed": pd.Series([-5, "-5", "=A1", 3.5], dtype=object)})
    back = to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert back == ["mixed", "-5", "'-5", "'=A1", "3.5"]


def test_csv_neutralises_formula_headers_too():
    back = to_csv_bytes(pd.DataFrame({"=cmd": [1]})).decode("utf-8-sig").splitlines()
    assert back[0] == "'=cmd"


def test_numbers_read_by_the_unit_in_their_header_and_hold_what_they_show():
    frame = pd.DataFrame({
        "用房成本(元)": [3253799.6], "用房缺口（平方米）": [1084.55], "覆盖率(%)": [66.4321],
        "基线下的值": [24.48175653858573], "年度": [2025], "办结用时中位数(小时)": [24.5638],
    })
    ws = _book(to_excel_bytes({"s": frame}))["s"]
    assert [ws.cell(2, c).number_format for c in range(1, 7)] \
        == ["#,##0", "#,##0.0", "0.0", "General", "General", "#,##0.0"]
    # Rounded half up (1,084.55 → 1,084.6, where binary rounding gives 1,084.5)
    # to what the cell shows; a column without a unit is left as it is.
    assert [ws.cell(2, c).value for c in range(1, 7)] \
        == [3253800, 1084.6, 66.4, 24.48175653858573, 2025, 24.6]


def test_mixed_columns_round_their_numbers_and_keep_their_text():
    frame = pd.DataFrame({"金额(元)": pd.Series([2.5, "合计", None, 7, Decimal("3.5")],
                                               dtype=object)})
    ws = _book(to_excel_bytes({"s": frame}))["s"]
    assert [ws.cell(r, 1).value for r in range(2, 7)] == [3, "合计", None, 7, 4]


def test_a_formatted_number_carries_its_own_format():
    frame = pd.DataFrame({"项目": ["达标率", "户数", "范围"],
                          "内容": [exporting.Formatted(58.823529, exporting.PERCENT_FORMAT),
                                   exporting.Formatted(7200, "#,##0"), "全区"]})
    ws = _book(to_excel_bytes({"s": frame}))["s"]
    assert (ws["B2"].value, ws["B2"].number_format) == (58.8, '0.0"%"')
    assert (ws["B3"].value, ws["B3"].number_format) == (7200, "#,##0")
    assert ws["B4"].value == "全区" and ws["B4"].data_type == "s"
    assert str(frame.iloc[0, 1]) == "58.8%"


def test_format_decimals():
    assert [exporting.format_decimals(f) for f in ("#,##0", "#,##0.0", "0.0", '0.0"%"',
                                                   "0.00%", "General")] == [0, 1, 1, 1, 2, 0]


def test_download_names_are_chinese_and_dated():
    day = dt.date(2026, 12, 7)
    assert exporting.download_name("brief", "html", day) == "会议简报_2026-12-07.html"
    assert exporting.download_name("scenario", "xlsx", day) == "情景对比_2026-12-07.xlsx"
    assert exporting.download_name("overview", "xlsx", day) == "总览达标矩阵_2026-12-07.xlsx"
    for what in ("facilities", "funding", "safety"):
        name = exporting.download_name(what, "xlsx", day)
        assert name.endswith("_2026-12-07.xlsx")
        assert re.fullmatch(r"[\u4e00-\u9fff]+_2026-12-07\.xlsx", name), name
    assert exporting.download_name("brief", "html").endswith(f"_{dt.date.today():%Y-%m-%d}.html")
    assert exporting.template_name("社区基本信息", "csv") == "社区基本信息_模板.csv"


def test_every_download_button_is_named_by_download_name():
    """No page names a download by hand (English, undated): each file_name= is
    a call of exporting.download_name, or template_name for the blank templates."""
    found = []
    for path in sorted((PROJECT_DIR / "pages").glob("*.py")):
        # The button itself passes file_name on; an upload's check passes the upload's own name.
        if path.name in {"_exports.py", "_uploads.py"}:
            continue
        for match in re.finditer(r"file_name=([^,)]*(?:\([^)]*\))?)", path.read_text("utf-8")):
            found.append((path.name, match.group(1)))
    assert len(found) >= 9, found
    for page, argument in found:
        if argument.startswith("boundary_upload"):  # an upload's own name, not a download
            continue
        assert re.match(r"exporting\.(download_name|template_name)\(", argument), (page, argument)
