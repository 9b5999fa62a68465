"""What an import says about a file, and what a caller gives it: the types
every part of the importer, the pages, the CLI and the reports share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from governance.text import t

if TYPE_CHECKING:
    import pandas

MAX_LISTED_PROBLEMS = 1000
PREVIEW_ROWS = 20

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class CellProblem:
    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def message(self) -> str:
        if self.row is None:
            return t("import.error.file", file=self.file, reason=self.reason)
        return t(
            "import.error.line",
            file=self.file,
            row=self.row,
            column=self.column or "",
            value="" if self.value is None else self.value,
            reason=self.reason,
        )


@dataclass
class ImportReport:
    file_name: str
    table: str
    sha256: str
    rows: int
    problems: list[CellProblem]
    problem_count: int
    notes: list[str]
    preview: pandas.DataFrame | None
    encoding: str | None = None  # CSV: "utf-8-sig" or "gb18030"
    sheet: str | None = None  # XLSX: the sheet read

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def messages(self) -> list[str]:
        lines = [p.message() for p in self.problems]
        hidden = self.problem_count - len(self.problems)
        if hidden > 0:
            lines.append(t("import.too_many_errors", count=hidden))
        return lines


@dataclass
class ImportResult:
    report: ImportReport
    applied: bool
    unchanged: bool
    import_id: int | None  # the new import; for an unchanged file, the earlier one
    rows_replaced: int
    # What went wrong after the import committed (it stands): a failed backup.
    warnings: list[str] = field(default_factory=list)
    # What else the applied import did, beside its own rows: the sample removed.
    effects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    table: str
    file_name: str | None = None
    # lon/lat as written: wgs84, gcj02 (高德/腾讯) or bd09 (百度); stored as WGS-84.
    coordinate_system: str = "wgs84"

    @property
    def display_name(self) -> str:
        return self.file_name or Path(self.path).name
