"""Import reports and results, shaped for display (table and one-line summaries)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from governance.history import table_label
from governance.importer import ImportReport, ImportResult
from governance.text import t

PROBLEM_COLUMNS = ("file", "row", "column", "value", "reason")


def problems_frame(report: ImportReport) -> pd.DataFrame:
    """One row per listed problem: 文件, 行号, 列, 值, 原因."""
    rows = [
        (p.file, p.row, p.column, p.value, p.reason) for p in report.problems
    ]
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return frame.rename(columns={c: t(f"column.{c}") for c in PROBLEM_COLUMNS})


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
    return "；".join(parts)
