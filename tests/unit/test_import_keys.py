"""The incidents table's primary key stays the database's to enforce, and the
engine's plain form for enum codes reads as the row-by-row parsers do."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance import importer
from governance.importer import staging
from governance.text import t
from tests.unit.test_import_sql_cleaning import _both

COMMUNITIES_CSV = (
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    "C001,甲社区,东街道,城市社区,1200,3000,320\n"
    "C002,乙社区,东街道,村,800,2000,200\n"
)
HEADER = "事件编号,社区编码,发生时间,事件类别,严重程度,办理状态,办结时间\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def conn(memory_conn, tmp_path):
    path = _write(tmp_path, "communities.csv", COMMUNITIES_CSV)
    result = importer.import_file(
        memory_conn, importer.SourceFile(path, "communities"), applied_by="tester"
    )
    assert result.applied, result.report.messages()
    return memory_conn


def _state(conn) -> tuple[list, list]:
    return (
        conn.execute("select * from incidents order by all").fetchall(),
        conn.execute("select import_id, table_name from import_history order by all").fetchall(),
    )


def test_a_duplicate_id_past_the_checks_is_refused_by_the_database_key(
    conn, tmp_path, monkeypatch
):
    first = HEADER + "E1,C001,2023-05-01 08:00,dispute,general,resolved,2023-05-02 08:00\n"
    path = _write(tmp_path, "first.csv", first)
    assert importer.import_file(conn, importer.SourceFile(path, "incidents"),
                                applied_by="tester").applied
    before = _state(conn)
    # A check that let the file's own duplicate through: the primary key is
    # what stops it, the whole batch is rolled back, and the user reads why.
    monkeypatch.setattr(staging, "_has_duplicate_keys", lambda con, table: False)
    second = HEADER + (
        "E1,C001,2023-06-01 08:00,fire,general,in_progress,\n"
        "E2,C002,2023-06-02 08:00,fire,general,in_progress,\n"
        "E2,C002,2023-06-03 08:00,hazard,major,in_progress,\n"
    )
    path = _write(tmp_path, "second.csv", second)
    result = importer.import_file(conn, importer.SourceFile(path, "incidents"),
                                  applied_by="tester")
    assert not result.applied
    assert result.report.messages() == [
        "文件 second.csv：" + t("import.refused_by_key", key="事件编号 E2")
    ]
    assert _state(conn) == before


def test_a_duplicate_id_is_named_by_the_checks_before_the_database(conn, tmp_path):
    before = _state(conn)
    text = HEADER + (
        "E2,C002,2023-06-02 08:00,fire,general,in_progress,\n"
        "E2,C002,2023-06-03 08:00,hazard,major,in_progress,\n"
    )
    path = _write(tmp_path, "dup.csv", text)
    result = importer.import_file(conn, importer.SourceFile(path, "incidents"),
                                  applied_by="tester")
    assert not result.applied
    assert [(p.row, p.column) for p in result.report.problems] == [(2, "事件编号"), (3, "事件编号")]
    assert _state(conn) == before


def test_enum_codes_labels_and_misspellings_read_alike_by_engine_and_rows(conn, tmp_path):
    text = HEADER + (
        "E1,C001,2023-05-01 08:00,dispute,general,resolved,2023-05-02 08:00\n"
        "E2,C001,2023-05-01 08:00,纠纷,较大,已办结,2023-05-02 08:00\n"
        "E3,C002,2023-05-01 08:00,Dispute, general ,RESOLVED,2023-05-02 08:00\n"
        "E4,C002,2023-05-01 08:00,ｆｉｒｅ,,in_progress,\n"
        "E5,C002,2023-05-01 08:00,dispute ,major,resolved,2023-05-02 08:00\n"
        "E6,C002,2023-05-01 08:00,martian,huge,done,\n"
        "E7,C001,2023-05-01 08:00,,general,,\n"
    )
    path = _write(tmp_path, "enums.csv", text)
    engine, rows, used = _both(path, "incidents", conn)
    assert used == [True]
    assert engine == rows
    assert engine[1] > 0  # the misspelt and empty cells are named


def test_an_import_of_keyed_rows_leaves_no_staging_files(conn, tmp_path, monkeypatch):
    made: list[str] = []
    real = staging.tempfile.TemporaryDirectory

    def spy(*args, **kwargs):
        folder = real(*args, **kwargs)
        made.append(folder.name)
        return folder

    monkeypatch.setattr(staging.tempfile, "TemporaryDirectory", spy)
    text = HEADER + "E1,C001,2023-05-01 08:00,dispute,general,resolved,2023-05-02 08:00\n"
    path = _write(tmp_path, "one.csv", text)
    assert importer.import_file(conn, importer.SourceFile(path, "incidents"),
                                applied_by="tester").applied
    assert made and not any(Path(name).exists() for name in made)
