"""Formula-safe downloads: Excel workbooks and CSV files built from DataFrames.

Data that came from an upload can hold text such as `=HYPERLINK(...)`.
Opened in Excel, such a cell would run as a formula (CSV/formula injection).
`to_excel_bytes` writes every string as a string (xlsxwriter with
strings_to_formulas/strings_to_urls off, and explicit `write_string`);
`to_csv_bytes` prefixes `'` to any text cell that Excel would read as a formula.
Numeric columns are never touched by the formula guard; in a workbook a number
is rounded (half up) to the decimals its column's format shows, so a cell holds
what the page shows.

`download_name` names every download: what it holds, in Chinese, and the day.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from governance.presentation import round_half_up
from governance.text import t

EXCEL_MAX_ROWS = 1_048_576  # including the header row
SHEET_NAME_MAX = 31
WORKBOOK_OPTIONS: dict[str, Any] = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
# Characters that start a formula (or, after a tab/CR, can smuggle one in).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_WIDTH_SAMPLE_ROWS = 2000
_MIN_WIDTH, _MAX_WIDTH = 6, 60


def display_width(text: str) -> int:
    """Columns a string takes in Excel: CJK (wide/full-width) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def safe_sheet_name(name: object, used: set[str]) -> str:
    """A valid, unique (case-insensitive) Excel sheet name; records it in `used`."""
    clean = _INVALID_SHEET_CHARS.sub("_", str(name)).strip().strip("'")
    clean = clean or t("export.sheet.default")
    candidate = clean[:SHEET_NAME_MAX]
    number = 2
    while candidate.lower() in used:
        suffix = f"({number})"
        candidate = clean[: SHEET_NAME_MAX - len(suffix)] + suffix
        number += 1
    used.add(candidate.lower())
    return candidate


def _header_text(column: object) -> str:
    if isinstance(column, tuple):
        return " / ".join(str(part) for part in column if str(part))
    return str(column)


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def column_widths(frame: pd.DataFrame, headers: list[str]) -> list[int]:
    """Character widths per column from the header and the first rows."""
    widths = []
    head = frame.head(_WIDTH_SAMPLE_ROWS)
    for position, header in enumerate(headers):
        longest = display_width(header)
        for value in head.iloc[:, position].tolist():
            if not _is_missing(value):
                longest = max(longest, display_width(str(value)))
        widths.append(min(_MAX_WIDTH, max(_MIN_WIDTH, longest + 2)))
    return widths


def download_name(what: str, extension: str, day: dt.date | None = None) -> str:
    """The file name of a download: what it holds (`download.<what>` in the
    string table) and the day, e.g. 会议简报_2026-12-07.html."""
    day = day or dt.date.today()
    return t("download.name", what=t(f"download.{what}"), day=f"{day:%Y-%m-%d}",
             extension=extension)


def template_name(table_label: str, extension: str) -> str:
    """A blank template's file name, e.g. 社区基本信息_模板.csv (undated: it
    does not change from day to day)."""
    return t("download.template", table=table_label, extension=extension)


# How a number column reads in Excel, by the unit its header ends with (the
# units are the string table's, so a translation keeps them). The tables on
# the pages round the same units to the same decimals (presentation.number_formats),
# and the cell is rounded to them too: it holds what the page shows.
_UNIT_NUMBER_FORMATS = (
    (("export.unit.yuan",), "#,##0"),
    (("export.unit.m2", "export.unit.wan_yuan", "export.unit.hours"), "#,##0.0"),
    (("export.unit.percent",), "0.0"),
)
PERCENT_FORMAT = '0.0"%"'


@dataclass(frozen=True)
class Formatted:
    """A number for a column of mixed rows (a summary sheet's 内容), with its
    own Excel format: `Formatted(95.7, PERCENT_FORMAT)` reads 95.7% and holds 95.7."""

    value: float
    num_format: str

    def __str__(self) -> str:  # for the column width
        decimals = format_decimals(self.num_format)
        text = f"{self.value:,.{decimals}f}"
        return text + "%" if "%" in self.num_format else text


def format_decimals(num_format: str) -> int:
    """Decimals an Excel number format shows: "#,##0.0" → 1, "#,##0" → 0."""
    number = num_format.split(";")[0].split('"')[0]
    return len(number.split(".")[1].rstrip("%")) if "." in number else 0


def _is_fraction(value: Any) -> bool:
    return (isinstance(value, float | np.floating | Decimal) and math.isfinite(float(value))
            and not float(value).is_integer())


def rounded_as_shown(values: pd.Series, num_format: str | None) -> list[Any]:
    """A column's cells, each number rounded half up (as the pages' tables round,
    presentation.round_half_up) to the decimals `num_format` shows; text,
    whole numbers and missing cells as they are."""
    if num_format is None or pd.api.types.is_bool_dtype(values.dtype) \
            or pd.api.types.is_integer_dtype(values.dtype):
        return values.tolist()
    decimals = format_decimals(num_format)
    if pd.api.types.is_float_dtype(values.dtype):
        return round_half_up(values, decimals).tolist()
    cells = values.tolist()
    at = [n for n, value in enumerate(cells) if _is_fraction(value)]
    if at:
        rounded = round_half_up(pd.Series([float(cells[n]) for n in at]), decimals)
        for n, value in zip(at, rounded.tolist(), strict=True):
            cells[n] = value
    return cells


_HEADER_UNIT = re.compile(r"[(（](?P<unit>[^()（）]+)[)）]\s*$")


def number_format_for(header: str) -> str | None:
    """Excel number format for a column headed `header` ("用房成本(元)" → "#,##0")."""
    found = _HEADER_UNIT.search(header)
    if found is None:
        return None
    unit = found.group("unit").strip()
    return next((fmt for keys, fmt in _UNIT_NUMBER_FORMATS
                 if unit in {t(key) for key in keys}), None)


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self.header = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._numbers: dict[str, Any] = {}

    def number(self, num_format: str | None) -> Any:
        if num_format is None:
            return None
        if num_format not in self._numbers:
            self._numbers[num_format] = self._workbook.add_format({"num_format": num_format})
        return self._numbers[num_format]


def _write_cell(ws: Any, row: int, col: int, value: Any, formats: _Formats,
                number_format: Any = None) -> None:
    """Write one value with an explicit type; text is always literal text."""
    if isinstance(value, Formatted):
        number_format = formats.number(value.num_format)
        (value,) = rounded_as_shown(pd.Series([float(value.value)]), value.num_format)
    if _is_missing(value):
        return
    if isinstance(value, bool | np.bool_):
        # Excel shows a boolean as TRUE / FALSE whatever its language.
        ws.write_string(row, col, t("common.yes") if value else t("common.no"))
    elif isinstance(value, int | float | np.integer | np.floating | Decimal):
        number = float(value)
        if math.isfinite(number):
            ws.write_number(row, col, number, number_format)
        else:
            ws.write_string(row, col, str(value))
    elif isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_localize(None)
        if stamp == stamp.normalize():
            ws.write_datetime(row, col, stamp.to_pydatetime(), formats.date)
        else:
            ws.write_datetime(row, col, stamp.to_pydatetime(), formats.datetime)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day),
                          formats.date)
    else:
        ws.write_string(row, col, str(value))


def write_frame(workbook: xlsxwriter.Workbook, name: str, frame: pd.DataFrame,
                formats: _Formats, used: set[str]) -> list[str]:
    """One DataFrame onto one or more sheets (Excel caps rows); returns sheet names."""
    headers = [_header_text(c) for c in frame.columns]
    widths = column_widths(frame, headers)
    per_sheet = EXCEL_MAX_ROWS - 1
    chunks = max(1, math.ceil(len(frame) / per_sheet))
    names = []
    for chunk in range(chunks):
        part = frame.iloc[chunk * per_sheet: (chunk + 1) * per_sheet]
        title = name if chunk == 0 else t("export.sheet.continued", name=name, n=chunk + 1)
        sheet_name = safe_sheet_name(title, used)
        names.append(sheet_name)
        ws = workbook.add_worksheet(sheet_name)
        for col, header in enumerate(headers):
            ws.write_string(0, col, header, formats.header)
            ws.set_column(col, col, widths[col])
        for col in range(len(headers)):
            num_format = number_format_for(headers[col])
            values = rounded_as_shown(part.iloc[:, col], num_format)
            number_format = formats.number(num_format)
            for offset, value in enumerate(values, start=1):
                _write_cell(ws, offset, col, value, formats, number_format)
        ws.freeze_panes(1, 0)
        if headers:
            ws.autofilter(0, 0, max(len(part), 1), len(headers) - 1)
    return names


def to_excel_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An .xlsx with one sheet per frame: bold header, widths, text kept as text.

    Sheet names are made valid (no []:*?/\\, at most 31 characters) and unique.
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    formats = _Formats(workbook)
    used: set[str] = set()
    if not sheets:
        workbook.add_worksheet(safe_sheet_name(t("export.sheet.default"), used))
    for name, frame in sheets.items():
        write_frame(workbook, name, frame, formats, used)
    workbook.close()
    return buffer.getvalue()


def neutralise_formula(value: Any) -> Any:
    """`=1+1` → `'=1+1`; anything not a string starting a formula is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _is_numeric_column(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel opens it correctly); text that would run as a formula
    in Excel gets a leading `'`. Numeric, boolean and date columns are untouched."""
    safe = frame.copy()
    safe.columns = [neutralise_formula(_header_text(c)) for c in frame.columns]
    for position in range(safe.shape[1]):
        series = safe.iloc[:, position]
        if _is_numeric_column(series):
            continue
        safe.isetitem(position, series.astype(object).map(neutralise_formula))
    text = safe.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8-sig")
