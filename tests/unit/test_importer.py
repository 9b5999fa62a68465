"""The import pipeline end to end: reports, notes, and all-or-nothing apply."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from governance import db, importer, tabular
from governance.contract import TABLES
from governance.text import t
from tests.conftest import bad_communities_csv, messy_communities_csv

COMMUNITIES_CSV = (
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    "C001,甲社区,东街道,城市社区,1200,3000,320\n"
    "C002,乙社区,东街道,村,800,2000,200\n"
    "C003,丙社区,西街道,安置社区,500,1500,150\n"
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _source(tmp_path: Path, name: str, table: str, text: str, encoding: str = "utf-8"):
    return importer.SourceFile(_write(tmp_path, name, text, encoding), table)


def _import(conn, tmp_path, name, table, text, encoding="utf-8") -> importer.ImportResult:
    return importer.import_file(
        conn, _source(tmp_path, name, table, text, encoding), applied_by="tester",
    )


def _snapshot(conn) -> dict[str, list]:
    out = {}
    for name in [*TABLES, "import_history", "meta"]:
        out[name] = conn.execute("select * from " + name + " order by all").fetchall()
    return out


@pytest.fixture
def conn_with_communities(memory_conn, tmp_path):
    result = _import(memory_conn, tmp_path, "base.csv", "communities", COMMUNITIES_CSV)
    assert result.applied, result.report.messages()
    return memory_conn


def _messages(report: importer.ImportReport) -> str:
    return "\n".join(report.messages())


# -- accepted files ---------------------------------------------------------------


def test_messy_gbk_export_is_understood_and_applied(memory_conn, tmp_path):
    data = messy_communities_csv(rows=5)
    path = tmp_path / "社区.csv"
    path.write_bytes(data)
    result = importer.import_file(
        memory_conn, importer.SourceFile(path, "communities"), applied_by="tester",
    )
    report = result.report
    assert result.applied and report.ok, _messages(report)
    assert report.rows == 5
    assert report.encoding == "gb18030"
    notes = "\n".join(report.notes)
    assert t("import.note.title_rows", count=1) in notes
    assert t("import.note.blank_rows", count=1) in notes
    assert t("import.note.total_rows", rows=8) in notes  # title 1, header 2, rows 3-7, blank 8? no
    stored = memory_conn.execute(
        "select count(*), sum(households) from communities"
    ).fetchone()
    assert stored[0] == 5
    history = memory_conn.execute(
        "select import_id, table_name, file_name, sha256, rows_in_file, rows_replaced,"
        " applied_by, is_sample from import_history"
    ).fetchall()
    import hashlib

    assert history == [
        (result.import_id, "communities", "社区.csv", hashlib.sha256(data).hexdigest(), 5, 0,
         "tester", False)
    ]
    assert db.data_version(memory_conn) == 1
    assert memory_conn.execute(
        "select count(*) from communities where import_id = $id", {"id": result.import_id}
    ).fetchone()[0] == 5
