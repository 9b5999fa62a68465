"""Import reports and results, shaped for display (table and one-line summaries)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from governance import presentation
from governance.contract import TABLES
from governance.exporting import display_width
from governance.history import table_label
from governance.importer import ImportReport, ImportResult
from governance.text import t

PROBLEM_COLUMNS = ("file", "row", "column", "value", "reason")
# The problem table's columns in pixels (together narrower than the page on a
# laptop; a wider page shares out the rest): the reason gets the widest and,
# when some reason needs more than one line there, every row grows to hold the
# longest in full (Streamlit wraps a table's text once its rows are taller than
# 64 px; a taller row is one height for all rows).
PROBLEM_WIDTHS_PX = {"file": 140, "row": 56, "column": 120, "value": 120, "reason": 420}
_CELL_PADDING_PX = 16
# Width of one display column (half a CJK character) and of one wrapped line,
# at the table's font, rounded up: an estimate that errs towards a taller row.
_HALF_CHAR_PX = 7
_LINE_PX = 20
_MAX_LINES = 10
_HEADER_PX = 38
_MIN_WRAPPING_PX = 66
PROBLEM_ROWS_SHOWN = 8


def problems_frame(report: ImportReport) -> pd.DataFrame:
    """One row per listed problem: 文件, 行号, 列, 值, 原因."""
    rows = [
        (p.file, p.row, p.column, p.value, p.reason) for p in report.problems
    ]
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return frame.rename(columns=problem_column_label)


def problem_column_label(name: str) -> str:
    return t(f"column.{name}")


def _lines(text: str | None, column: str) -> int:
    """Lines `text` takes wrapped in `column` of the problem table."""
    per_line = (PROBLEM_WIDTHS_PX[column] - _CELL_PADDING_PX) // _HALF_CHAR_PX
    return math.ceil(display_width(text or "") / per_line)


def problem_row_height(report: ImportReport) -> int | None:
    """Row height (px) that shows every problem's text in full (the reason above
    all) in columns PROBLEM_WIDTHS_PX wide; None when each fits on one line."""
    lines = max((_lines(text, column) for p in report.problems for column, text in (
        ("file", p.file), ("column", p.column), ("value", p.value), ("reason", p.reason))),
        default=1)
    if lines <= 1:
        return None
    # Streamlit wraps only in rows taller than 64 px.
    return max(_MIN_WRAPPING_PX, _CELL_PADDING_PX + _LINE_PX * min(lines, _MAX_LINES))


def problem_table_height(report: ImportReport) -> int | str:
    """The problem table's height (px): about PROBLEM_ROWS_SHOWN rows of it
    when its rows are tall, Streamlit's own otherwise ("auto")."""
    row_height = problem_row_height(report)
    if row_height is None:
        return "auto"
    return _HEADER_PX + row_height * min(len(report.problems), PROBLEM_ROWS_SHOWN)


def preview_column_label(table_name: str, name: str) -> str:
    """A data column's header as the template writes it, with its unit where it
    is not a count (金额（元）, 建筑面积（平方米）, 户数)."""
    column = TABLES[table_name].column_by_name.get(name) if table_name in TABLES else None
    if column is None:
        return name
    return f"{column.label}（{column.unit}）" if column.unit and column.kind != "int" \
        else column.label


def preview_frame(
    report: ImportReport,
) -> tuple[pd.DataFrame, dict[str, presentation.NumberFormat]]:
    """The validated rows as a person reads them: the contract's Chinese headers,
    codes as their labels (urban → 城市社区), numbers rounded to their unit;
    with the number format of each column, keyed by its header."""
    frame = report.preview.copy()
    table = TABLES.get(report.table)
    for column in table.columns if table is not None else ():
        if column.enum is not None and column.name in frame:
            frame[column.name] = frame[column.name].map(
                lambda code, enum=column.enum: enum.label_of(code) if isinstance(code, str)
                else code)
    formats = presentation.number_formats(frame)
    frame = presentation.rounded_for_display(frame, formats)
    labels = {name: preview_column_label(report.table, name) for name in frame.columns}
    return (frame.rename(columns=labels),
            {labels[name]: number for name, number in formats.items()})


@dataclass(frozen=True)
class ResultLine:
    ok: bool
    text: str


def result_lines(results: list[ImportResult]) -> list[ResultLine]:
    """What happened to each file of a batch, in Chinese."""
    lines = []
    for result in results:
        label = table_label(result.report.table)
        if result.unchanged:
            lines.append(ResultLine(True, t("data.apply.unchanged", table=label)))
        elif result.applied:
            lines.append(
                ResultLine(
                    True,
                    t("data.apply.done", table=label, rows=result.report.rows,
                      replaced=result.rows_replaced),
                )
            )
            lines.extend(ResultLine(True, effect) for effect in result.effects)
            lines.extend(ResultLine(False, warning) for warning in result.warnings)
        else:
            reasons = "；".join(result.report.messages()[:5])
            refused = t("cli.refused", file=result.report.file_name)
            lines.append(ResultLine(False, refused + (" " + reasons if reasons else "")))
    return lines


def audit_detail(results: list[ImportResult]) -> str:
    """One audit line for a batch: each file, its table, rows and outcome."""
    parts = []
    for result in results:
        outcome = ("unchanged" if result.unchanged else "applied" if result.applied
                   else "refused")
        parts.append(t("audit.import_file", file=result.report.file_name,
                       table=table_label(result.report.table), rows=result.report.rows,
                       outcome=t(f"audit.outcome.{outcome}")))
        # What else it did (the sample removed, communities moved between streets).
        parts.extend(result.effects)
    return "；".join(parts)
