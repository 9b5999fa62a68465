"""网格事件 (incidents): datetime cells, the status rule, and the keys replace."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pytest

from governance import (
    coords,
    db,
    history,
    importer,
    reports,
    sample_rows,
    tabular,
    templates,
)
from governance.cli import EXIT_OK, EXIT_REFUSED, main
from governance.contract import TABLES
from governance.text import t

COMMUNITIES_CSV = (
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    "C001,甲社区,东街道,城市社区,1200,3000,320\n"
    "C002,乙社区,东街道,村,800,2000,200\n"
    "C003,丙社区,西街道,安置社区,500,1500,150\n"
)

HEADER = "事件编号,社区编码,发生时间,事件类别,严重程度,办理状态,办结时间\n"

THREE_INCIDENTS = HEADER + (
    "E001,C001,2023-05-01 14:30,治安,,已办结,2023年5月2日 9时5分\n"
    "E002,C002,2023/5/3,纠纷,较大,处置中,\n"
    "E003,C003,2023年5月4日14时30分,fire,重大,已办结,\n"  # resolved, time unknown
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _source(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", **kw):
    return importer.SourceFile(_write(tmp_path, name, text, encoding), "incidents", **kw)


def _import(conn, tmp_path, name, text, encoding="utf-8", **kw) -> importer.ImportResult:
    return importer.import_file(
        conn, _source(tmp_path, name, text, encoding, **kw), applied_by="tester"
    )


def _snapshot(conn) -> dict[str, list]:
    out = {}
    for name in [*TABLES, "import_history", "meta"]:
        out[name] = conn.execute("select * from " + name + " order by all").fetchall()
    return out


def _incidents(conn) -> list[tuple]:
    return conn.execute(
        "select incident_id, community_id, occurred_at, category, severity, status,"
        " resolved_at from incidents order by incident_id"
    ).fetchall()


@pytest.fixture
def conn(memory_conn, tmp_path):
    path = _write(tmp_path, "base.csv", COMMUNITIES_CSV)
    result = importer.import_file(
        memory_conn, importer.SourceFile(path, "communities"), applied_by="tester"
    )
    assert result.applied, result.report.messages()
    return memory_conn


# -- accepted files ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_incidents_import_after_communities(conn, tmp_path, encoding):
    result = _import(conn, tmp_path, "事件.csv", THREE_INCIDENTS, encoding)
    report = result.report
    assert result.applied and report.ok, report.messages()
    assert report.rows == 3 and result.rows_replaced == 0
    assert report.encoding == ("gb18030" if encoding == "gbk" else "utf-8-sig")
    assert _incidents(conn) == [
        ("E001", "C001", datetime(2023, 5, 1, 14, 30), "public_order", "general", "resolved",
         datetime(2023, 5, 2, 9, 5)),
        ("E002", "C002", datetime(2023, 5, 3, 0, 0), "dispute", "serious", "in_progress", None),
        ("E003", "C003", datetime(2023, 5, 4, 14, 30), "fire", "major", "resolved", None),
    ]
    assert t("import.note.defaults", column="严重程度", count=1, value="一般") in report.notes
    stored_type = conn.execute(
        "select data_type from information_schema.columns"
        " where table_name = 'incidents' and column_name = 'occurred_at'"
    ).fetchone()[0]
    assert stored_type == "TIMESTAMP"
    assert history.table_label("incidents") == "网格事件"
    lines = reports.result_lines([result])
    assert lines[0].ok and lines[0].text.startswith("已导入网格事件：3 行")


def test_incident_coordinates_are_converted_to_wgs84(conn, tmp_path):
    text = (
        "事件编号,社区编码,发生时间,事件类别,办理状态,经度,纬度\n"
        "E1,C001,2023-05-01,治安,已上报,117.0060,32.6300\n"
        "E2,C001,2023-05-01,治安,已上报,,\n"
    )
    result = _import(conn, tmp_path, "gcj.csv", text, coordinate_system="gcj02")
    assert result.applied, result.report.messages()
    assert t("import.note.coordinates", system="gcj02") in result.report.notes
    rows = conn.execute("select lon, lat from incidents order by incident_id").fetchall()
    expected_lon, expected_lat = coords.to_wgs84(np.array([117.0060]), np.array([32.6300]), "gcj02")
    assert rows[0] == pytest.approx((float(expected_lon[0]), float(expected_lat[0])))
    assert 0.003 < 117.0060 - rows[0][0] < 0.007
    assert rows[1] == (None, None)


# -- refused files ------------------------------------------------------------------


def test_refused_incidents_file_names_every_problem_and_changes_nothing(conn, tmp_path):
    assert _import(conn, tmp_path, "first.csv", THREE_INCIDENTS).applied
    before = _snapshot(conn)
    version = db.data_version(conn)
    bad = HEADER + (
        "E001,C001,2023-05-01 14:30,治安,,已办结,\n"             # 2 fine (an update)
        "E010,C001,2023-02-30 10:00,治安,,已上报,\n"             # 3 impossible date
        "E011,C001,2023-05-01 25:00,治安,,已上报,\n"             # 4 impossible time
        "E012,C002,2023-05-06 10:00,纠纷,,已办结,2023-05-01 10:00\n"  # 5 resolved before
        "E013,C002,2023-05-06 10:00,纠纷,,处置中,2023-05-07 10:00\n"  # 6 resolved but open
        "E014,C404,2023-05-06,纠纷,,已上报,\n"                    # 7 unknown community
        "E001,C003,2023-05-06,纠纷,,已上报,\n"                    # 8 duplicate id (row 2)
        "E015,C003,2023-05-06,打架,,已上报,\n"                    # 9 bad category
        "E016,C003,2023年5月,纠纷,,已上报,\n"                     # 10 month without day
    )
    result = _import(conn, tmp_path, "坏事件.csv", bad)
    assert not result.applied and result.import_id is None
    report = result.report
    categories = "、".join(c.label for c in TABLES["incidents"].column_by_name[
        "category"].enum.codes)
    expected = [
        ("坏事件.csv", 2, "事件编号", "E001", t("reason.duplicate_key", rows="8",
                                                  key="事件编号相同")),
        ("坏事件.csv", 3, "发生时间", "2023-02-30 10:00", t("reason.bad_datetime")),
        ("坏事件.csv", 4, "发生时间", "2023-05-01 25:00", t("reason.bad_datetime")),
        ("坏事件.csv", 5, "办结时间", "2023-05-01 10:00",
         "不能早于同行的「发生时间」（2023-05-06 10:00）"),
        ("坏事件.csv", 6, "办结时间", "2023-05-07 10:00",
         "只有「办理状态」为“已办结”时才能填写；本行「办理状态」为“处置中”"),
        ("坏事件.csv", 7, "社区编码", "C404", t("reason.unknown_community")),
        ("坏事件.csv", 8, "事件编号", "E001", t("reason.duplicate_key", rows="2",
                                                  key="事件编号相同")),
        ("坏事件.csv", 9, "事件类别", "打架", t("reason.bad_enum", choices=categories)),
        ("坏事件.csv", 10, "发生时间", "2023年5月", t("reason.date_without_day")),
    ]
    assert [(p.file, p.row, p.column, p.value, p.reason) for p in report.problems] == expected
    assert report.problem_count == len(expected)
    assert report.messages()[4] == (
        "文件 坏事件.csv 第 6 行「办结时间」值“2023-05-07 10:00”："
        "只有「办理状态」为“已办结”时才能填写；本行「办理状态」为“处置中”"
    )
    assert _snapshot(conn) == before
    assert db.data_version(conn) == version
    assert conn.execute("select count(*) from incidents").fetchone()[0] == 3


def test_resolved_time_with_an_open_status_names_the_status_as_written(conn, tmp_path):
    text = HEADER + "E1,C001,2023-05-01,治安,,reported,2023-05-02\n"
    report = _import(conn, tmp_path, "r.csv", text).report
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (2, "办结时间", "只有「办理状态」为“已办结”时才能填写；本行「办理状态」为“已上报”"),
    ]


# -- replacing by incident id ---------------------------------------------------------


def test_a_later_export_updates_listed_incidents_and_keeps_the_rest(conn, tmp_path):
    first = _import(conn, tmp_path, "may.csv", THREE_INCIDENTS)
    assert first.applied
    version = db.data_version(conn)
    later = HEADER + (
        "E002,C002,2023/5/3,纠纷,较大,已办结,2023-05-10 16:00\n"   # E002 resolved since
        "E004,C001,2023-06-01 08:00,隐患,,已上报,\n"               # new
    )
    result = _import(conn, tmp_path, "june.csv", later)
    assert result.applied, result.report.messages()
    assert result.rows_replaced == 1
    assert db.data_version(conn) == version + 1
    rows = {r[0]: r for r in _incidents(conn)}
    assert sorted(rows) == ["E001", "E002", "E003", "E004"]
    assert rows["E002"][5:] == ("resolved", datetime(2023, 5, 10, 16, 0))
    assert rows["E004"][3] == "hazard"
    # Untouched incidents keep the import that wrote them.
    import_ids = dict(conn.execute("select incident_id, import_id from incidents").fetchall())
    assert import_ids["E001"] == import_ids["E003"] == first.import_id
    assert import_ids["E002"] == import_ids["E004"] == result.import_id
    recorded = conn.execute(
        "select rows_in_file, rows_replaced from import_history where import_id = $id",
        {"id": result.import_id},
    ).fetchone()
    assert recorded == (2, 1)


def test_reimporting_an_identical_incidents_file_changes_nothing(conn, tmp_path):
    assert _import(conn, tmp_path, "a.csv", THREE_INCIDENTS).applied
    before = _snapshot(conn)
    version = db.data_version(conn)
    again = _import(conn, tmp_path, "again.csv", THREE_INCIDENTS)
    assert again.unchanged and not again.applied and again.rows_replaced == 0
    assert _snapshot(conn) == before
    assert db.data_version(conn) == version


def test_incidents_files_sharing_ids_in_one_batch_are_both_refused(conn, tmp_path):
    before = _snapshot(conn)
    ids = [f"E{i:03d}" for i in range(1, 10)]
    first = HEADER + "".join(f"{i},C001,2023-05-01,治安,,已上报,\n" for i in ids)
    second = HEADER + "".join(f"{i},C002,2023-05-02,纠纷,,处置中,\n" for i in ids[1:]) + (
        "E100,C002,2023-05-02,纠纷,,处置中,\n"
    )
    results = importer.import_files(
        conn,
        [_source(tmp_path, "一.csv", first), _source(tmp_path, "二.csv", second)],
        applied_by="tester",
    )
    assert not any(r.applied for r in results)
    reason = t(
        "import.batch_shared_keys", table="网格事件", columns="事件编号",
        keys="E002、E003、E004、E005、E006、E007…", count=8, files="一.csv、二.csv",
    )
    for result in results:
        assert result.report.problems[0] == importer.CellProblem(
            result.report.file_name, None, None, None, reason
        )
    assert _snapshot(conn) == before
    # validate_batch, which the upload page shows, says the same.
    reports_ = importer.validate_batch(
        conn, [_source(tmp_path, "一.csv", first), _source(tmp_path, "二.csv", second)]
    )
    assert [r.problems[0].reason for r in reports_] == [reason, reason]

    few = HEADER + "E001,C002,2023-05-02,纠纷,,处置中,\n"
    results = importer.import_files(
        conn,
        [_source(tmp_path, "三.csv", first), _source(tmp_path, "四.csv", few)],
        applied_by="tester",
    )
    assert results[1].report.problems[0].reason == t(
        "import.batch_shared_keys", table="网格事件", columns="事件编号", keys="E001",
        count=1, files="三.csv、四.csv",
    )


def test_incidents_files_with_distinct_ids_in_one_batch_both_apply(conn, tmp_path):
    a = HEADER + "E001,C001,2023-05-01,治安,,已上报,\n"
    b = HEADER + "E002,C002,2023-05-02,纠纷,,处置中,\nE003,C002,2023-05-03,纠纷,,处置中,\n"
    results = importer.import_files(
        conn, [_source(tmp_path, "a.csv", a), _source(tmp_path, "b.csv", b)], applied_by="t",
    )
    assert [r.applied for r in results] == [True, True]
    assert [r.rows_replaced for r in results] == [0, 0]
    assert [r[0] for r in _incidents(conn)] == ["E001", "E002", "E003"]


def test_orphaned_incidents_are_noted_when_communities_shrink(conn, tmp_path):
    assert _import(conn, tmp_path, "i.csv", THREE_INCIDENTS).applied
    smaller = "\n".join(COMMUNITIES_CSV.splitlines()[:3]) + "\n"  # drops C003
    result = importer.import_file(
        conn, importer.SourceFile(_write(tmp_path, "c.csv", smaller), "communities"),
        applied_by="tester",
    )
    assert result.applied
    assert t("import.orphans", table="网格事件", count=1, examples="C003") in result.report.notes


# -- Excel, templates, detection, CLI --------------------------------------------------


def test_xlsx_with_real_datetime_cells(conn, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "事件"
    sheet.append(["XX街道网格事件导出"])
    sheet.append(["工单号", "社区编码", "上报时间", "事件类型", "处置状态", "结案时间"])
    sheet.append(["W1", "C001", datetime(2023, 5, 1, 14, 30), "治安", "已办结",
                  datetime(2023, 5, 2, 9, 5, 30)])
    sheet.append(["W2", "C002", datetime(2023, 5, 3), "纠纷", "处置中", None])  # midnight
    sheet.append(["W3", "C003", date(2023, 5, 4), "火灾", "已上报", None])
    # A time that Excel's day fractions brought back a hair short of 08:00.
    sheet.append(["W4", "C003", datetime(2023, 5, 5, 7, 59, 59, 999_600), "火灾", "已上报", None])
    for row in range(3, 7):
        sheet.cell(row=row, column=3).number_format = "yyyy-mm-dd hh:mm"
    path = tmp_path / "events.xlsx"
    workbook.save(path)
    assert importer.guess_table(path) == "incidents"
    result = importer.import_file(
        conn, importer.SourceFile(path, "incidents"), applied_by="tester"
    )
    assert result.applied, result.report.messages()
    assert result.report.sheet == "事件"
    got = [(r[0], r[2], r[6]) for r in _incidents(conn)]
    assert got == [
        ("W1", datetime(2023, 5, 1, 14, 30), datetime(2023, 5, 2, 9, 5, 30)),
        ("W2", datetime(2023, 5, 3, 0, 0), None),
        ("W3", datetime(2023, 5, 4, 0, 0), None),
        ("W4", datetime(2023, 5, 5, 8, 0), None),
    ]


def test_excel_datetime_text_keeps_the_time_only_in_datetime_columns():
    moment = datetime(2023, 5, 1, 14, 30)
    assert tabular.excel_text(moment, kind="datetime") == "2023-05-01 14:30:00"
    assert tabular.excel_text(datetime(2023, 5, 1), kind="datetime") == "2023-05-01 00:00:00"
    assert tabular.excel_text(moment, kind="date") == "2023-05-01"
    assert tabular.excel_text(datetime(2023, 5, 1, 23, 59, 59, 600_000), kind="datetime") == (
        "2023-05-02 00:00:00"
    )


def test_generated_templates_round_trip(conn, tmp_path):
    csv_text = templates.template_csv_bytes("incidents").decode("utf-8")
    rows = (
        "E1,C001,2023-05-01 14:30,治安,一般,已办结,2023-05-01 18:00,117.0,32.6\r\n"
        "E2,C002,2023-05-02,other,,reported,,,\r\n"
    )
    path = tmp_path / "template.csv"
    path.write_bytes((csv_text + rows).encode("utf-8"))
    assert importer.guess_table(path) == "incidents"
    result = importer.import_file(
        conn, importer.SourceFile(path, "incidents"), applied_by="tester"
    )
    assert result.applied, result.report.messages()
    assert result.report.notes == [
        t("import.note.defaults", column="严重程度", count=1, value="一般")
    ]

    book = openpyxl.load_workbook(io.BytesIO(templates.template_xlsx_bytes("incidents")))
    data = book.worksheets[0]
    data.append(["E3", "C003", datetime(2023, 5, 3, 7, 15), "隐患", "较大", "处置中"])
    xlsx = tmp_path / "template.xlsx"
    book.save(xlsx)
    result = importer.import_file(
        conn, importer.SourceFile(xlsx, "incidents"), applied_by="tester"
    )
    assert result.applied, result.report.messages()
    assert _incidents(conn)[-1][2] == datetime(2023, 5, 3, 7, 15)
    assert result.rows_replaced == 0
    assert conn.execute("select count(*) from incidents").fetchone()[0] == 3


def test_cli_imports_and_validates_incidents(tmp_path):
    db_path = tmp_path / "cli.duckdb"
    communities = _write(tmp_path, "c.csv", COMMUNITIES_CSV)
    incidents = _write(tmp_path, "i.csv", THREE_INCIDENTS)
    bad = _write(tmp_path, "bad.csv", HEADER + "E9,C001,2023-05-01 14:61,治安,,已上报,\n")

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()

    assert run("import", "--db", str(db_path), "--table", "communities", str(communities))[0] == (
        EXIT_OK
    )
    code, out, err = run("validate", "--table", "incidents", "--db", str(db_path), str(bad))
    assert code == EXIT_REFUSED
    assert "第 2 行「发生时间」值“2023-05-01 14:61”" in err
    code, out, err = run("import", "--db", str(db_path), "--table", "incidents", str(incidents))
    assert code == EXIT_OK, err
    assert "已导入网格事件：3 行（替换原有 0 行）" in out
    check = duckdb.connect(str(db_path), read_only=True)
    try:
        assert check.execute("select count(*) from incidents").fetchone()[0] == 3
    finally:
        check.close()


def test_sample_banner_lists_incidents_written_by_a_sample_import(memory_conn, tmp_path):
    results = importer.import_files(
        memory_conn,
        [
            importer.SourceFile(_write(tmp_path, "c.csv", COMMUNITIES_CSV), "communities"),
            _source(tmp_path, "i.csv", THREE_INCIDENTS),
        ],
        applied_by="tester", is_sample=True,
    )
    assert all(r.applied for r in results)
    assert sample_rows.tables_present(memory_conn) == ["communities", "incidents"]
