"""The import pipeline end to end: reports, notes, and all-or-nothing apply."""

from __future__ import annotations

import hashlib
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
    # title 1, header 2, data 3-7, blank 8, total 9
    assert t("import.note.total_rows", rows=9) in notes
    stored = memory_conn.execute(
        "select count(*), sum(households) from communities"
    ).fetchone()
    assert stored[0] == 5
    history = memory_conn.execute(
        "select import_id, table_name, file_name, sha256, rows_in_file, rows_replaced,"
        " applied_by, is_sample from import_history"
    ).fetchall()
    assert history == [
        (result.import_id, "communities", "社区.csv", hashlib.sha256(data).hexdigest(), 5, 0,
         "tester", False)
    ]
    assert db.data_version(memory_conn) == 1
    assert memory_conn.execute(
        "select count(*) from communities where import_id = $id", {"id": result.import_id}
    ).fetchone()[0] == 5


def test_numbers_thousands_and_full_width_digits(conn_with_communities, tmp_path):
    text = (
        "标题行\n"
        "社区编码,社区名称,街道,社区类型,户数　,常住人口（人）,用房面积（平方米）,60岁以上老人\n"
        'C001,甲,东街道,城市社区,"1,234",１２３,"3,000.5",\n'
    )
    result = _import(conn_with_communities, tmp_path, "c.csv", "communities", text)
    assert result.applied, _messages(result.report)
    row = conn_with_communities.execute(
        "select households, population, office_area_m2, elderly_population from communities"
    ).fetchone()
    assert row == (1234, 123, 3000.5, None)  # a missing optional measure is NULL, not 0
    assert result.rows_replaced == 3


def test_bad_cells_are_reported_with_file_row_column_value_and_reason(memory_conn, tmp_path):
    text = "XX区社区基本情况统计表\n\n" + bad_communities_csv().decode("utf-8")
    result = _import(memory_conn, tmp_path, "bad.csv", "communities", text)
    report = result.report
    assert not result.applied and not report.ok
    found = {(p.row, p.column, p.value) for p in report.problems}
    # The fixture's rows 3, 4, 5 move down by the two lines above the header.
    assert (5, "户数", "-5") in found
    assert (6, "社区类型", "火星社区") in found
    assert (7, "办公和活动用房面积", "abc") in found
    assert (7, "社区编码", "X001") in found  # duplicate of row 4
    assert (4, "社区编码", "X001") in found
    assert report.problem_count == 5
    by_cell = {(p.row, p.column): p for p in report.problems}
    assert by_cell[(5, "户数")].reason == t("reason.below_minimum", minimum=0)
    assert "城市社区、农村社区" in by_cell[(6, "社区类型")].reason
    assert "urban" not in by_cell[(6, "社区类型")].reason
    assert by_cell[(7, "社区编码")].reason.startswith("与第 4 行重复")
    assert by_cell[(4, "社区编码")].reason.startswith("与第 7 行重复")
    message = by_cell[(5, "户数")].message()
    assert message == t(
        "import.error.line", file="bad.csv", row=5, column="户数", value="-5",
        reason=t("reason.below_minimum", minimum=0),
    )
    assert report.problems == sorted(report.problems, key=lambda p: p.row or 0)


def test_bad_thousands_and_scientific_ids_are_refused(memory_conn, tmp_path):
    text = (
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
        'C001,甲,东街道,城市社区,"1,23",10,1\n'
        "1.23E+11,乙,东街道,城市社区,1,10,1\n"
    )
    report = _import(memory_conn, tmp_path, "c.csv", "communities", text).report
    reasons = {(p.row, p.column): p.reason for p in report.problems}
    assert reasons == {
        (2, "户数"): t("reason.bad_thousands"),
        (3, "社区编码"): t("reason.scientific_id"),
    }


def test_same_row_rules(conn_with_communities, tmp_path):
    communities = (
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积,60岁以上老人,"
        "社区工作者人数,持证社工人数\n"
        "C001,甲,东街道,城市社区,1,100,1,101,5,6\n"
        "C002,乙,东街道,城市社区,1,100,1,100,,6\n"  # no staff_count: rule not checked
    )
    report = _import(conn_with_communities, tmp_path, "c.csv", "communities", communities).report
    reasons = {(p.row, p.column): p.reason for p in report.problems}
    assert reasons == {
        (2, "60岁以上老人"): t("reason.not_above", other="常住人口", other_value="100"),
        (2, "持证社工人数"): t("reason.not_above", other="社区工作者人数", other_value="5"),
    }
    safety = (
        "社区编码,月份,矛盾纠纷受理数,调解数,社区矫正对象数,矫正对象再犯人数\n"
        "C001,2023-05,3,4,2,1\n"
        "C002,2023-05,3,3,1,2\n"
    )
    report = _import(conn_with_communities, tmp_path, "s.csv", "safety", safety).report
    assert {(p.row, p.column) for p in report.problems} == {(2, "调解数"), (3, "矫正对象再犯人数")}


def test_percent_forms_and_the_column_rule(conn_with_communities, tmp_path):
    text = (
        "社区编码,月份,居民满意率,普法教育覆盖率\n"
        "C001,2023-05,95%,0.95\n"
        "C002,2023-05,95,0.5\n"
        "C003,2023-05,90.5,1\n"
    )
    result = _import(conn_with_communities, tmp_path, "s.csv", "safety", text)
    assert result.applied, _messages(result.report)
    rows = conn_with_communities.execute(
        "select community_id, satisfaction_rate, legal_education_rate from safety order by 1"
    ).fetchall()
    assert rows == [("C001", 95.0, 95.0), ("C002", 95.0, 50.0), ("C003", 90.5, 100.0)]
    assert t("import.note.percent_fraction", column="普法教育覆盖率") in result.report.notes
    assert t("import.note.percent_fraction", column="居民满意率") not in result.report.notes


def test_ambiguous_percent_mix_is_refused(conn_with_communities, tmp_path):
    text = (
        "社区编码,月份,居民满意率\n"
        "C001,2023-05,95\n"
        "C002,2023-05,0.9\n"
        "C003,2023-05,0.5%\n"  # explicit: 0.5 percent, fine
    )
    report = _import(conn_with_communities, tmp_path, "s.csv", "safety", text).report
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "居民满意率", "0.9")]
    assert report.problems[0].reason == t("reason.ambiguous_percent", value="0.9", scaled="90")


def test_percent_decision_spans_chunks(conn_with_communities, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 2)
    lines = ["社区编码,月份,居民满意率"]
    lines += [f"C001,2023-{m:02d},0.{m}" for m in range(1, 10)]
    lines += ["C002,2023-01,80"]  # the last chunk shows the column is in percents
    report = _import(conn_with_communities, tmp_path, "s.csv", "safety", "\n".join(lines)).report
    assert report.problem_count == 9
    assert {p.reason.split("，")[0] for p in report.problems} == {"本列其他值按百分数填写"}


def test_money_header_in_wan_yuan_and_cell_units(conn_with_communities, tmp_path):
    text = (
        "社区编码,年度,经费类别,金额（万元）,资金来源\n"
        "C001,2024,办公经费,2.5,\n"
        "C001,2024年,党建经费,3000元,共建单位\n"
        "C002,2024,other,1.5万,donation\n"
        "C003,2024,设施建设,0.123456,\n"
    )
    result = _import(conn_with_communities, tmp_path, "f.csv", "funding", text)
    assert result.applied, _messages(result.report)
    rows = conn_with_communities.execute(
        "select community_id, category, source, amount_yuan from funding order by all"
    ).fetchall()
    assert rows == [
        ("C001", "office", "fiscal", Decimal("25000.00")),
        ("C001", "party_building", "co_building", Decimal("3000.00")),
        ("C002", "other", "donation", Decimal("15000.00")),
        ("C003", "facility", "fiscal", Decimal("1234.56")),
    ]
    notes = result.report.notes
    assert t("import.note.money_scaled", column="金额") in notes
    assert t("import.note.defaults", column="资金来源", count=2, value="财政拨款") in notes


def test_unknown_money_unit_in_header_or_cell(conn_with_communities, tmp_path):
    header_bad = "社区编码,年度,经费类别,金额（千元）\nC001,2024,办公经费,2\n"
    report = _import(conn_with_communities, tmp_path, "a.csv", "funding", header_bad).report
    assert report.problem_count == 1 and report.problems[0].row is None
    assert "千元" in report.problems[0].reason
    cell_bad = "社区编码,年度,经费类别,金额\nC001,2024,办公经费,2美元\n"
    report = _import(conn_with_communities, tmp_path, "b.csv", "funding", cell_bad).report
    assert [p.reason for p in report.problems] == [t("reason.bad_unit", unit="美元")]


def test_date_forms_in_funding(conn_with_communities, tmp_path):
    text = (
        "社区编码,年度,经费类别,金额,下达日期,到账日期\n"
        "C001,2023,办公经费,1,2023-05-01,2023/5/20\n"          # 2
        "C001,2023,党建经费,1,2023年5月1日,2023.6.1\n"         # 3
        "C001,2023,公益创投,1,2023年5月,\n"                    # 4 month only
        "C001,2023,设施建设,1,2023-05,2023-02-30\n"            # 5 month only, impossible
        "C001,2023,人员报酬,1,2023-05-02,2023-05-01\n"         # 6 paid before allocated
    )
    report = _import(conn_with_communities, tmp_path, "f.csv", "funding", text).report
    reasons = {(p.row, p.column): p.reason for p in report.problems}
    assert reasons == {
        (4, "下达日期"): t("reason.date_without_day"),
        (5, "下达日期"): t("reason.date_without_day"),
        (5, "到账日期"): t("reason.bad_date"),
        (6, "到账日期"): t("reason.not_before", other="下达日期", other_value="2023-05-02"),
    }
    good = "\n".join(text.splitlines()[:3])
    result = _import(conn_with_communities, tmp_path, "g.csv", "funding", good)
    assert result.applied
    assert conn_with_communities.execute(
        "select allocated_date, disbursed_date from funding order by all"
    ).fetchall() == [
        (date(2023, 5, 1), date(2023, 5, 20)),
        (date(2023, 5, 1), date(2023, 6, 1)),
    ]


def test_month_forms_in_safety(conn_with_communities, tmp_path):
    text = (
        "社区编码,统计月份,刑事案件数\n"
        "C001,2023-05,1\n"
        "C001,2023/6,1\n"
        "C001,2023年7月,1\n"
        "C001,202308,1\n"
        "C001,2023-09-15,1\n"
        "C002,2023年5月,\n"
    )
    result = _import(conn_with_communities, tmp_path, "s.csv", "safety", text)
    assert result.applied, _messages(result.report)
    rows = conn_with_communities.execute(
        "select community_id, month, criminal_cases from safety order by all"
    ).fetchall()
    assert rows == [
        ("C001", date(2023, 5, 1), 1), ("C001", date(2023, 6, 1), 1),
        ("C001", date(2023, 7, 1), 1), ("C001", date(2023, 8, 1), 1),
        ("C001", date(2023, 9, 1), 1), ("C002", date(2023, 5, 1), None),
    ]


def test_duplicate_composite_key_names_the_other_rows(conn_with_communities, tmp_path):
    text = (
        "社区编码,月份,刑事案件数\n"
        "C001,2023-05,1\n"      # 2
        "C001,2023年5月,2\n"    # 3 same month, other spelling
        "C002,2023-05,1\n"      # 4
        "C001,202305,3\n"       # 5
    )
    report = _import(conn_with_communities, tmp_path, "s.csv", "safety", text).report
    assert report.problem_count == 3
    by_row = {p.row: p for p in report.problems}
    assert by_row[2].reason.startswith("与第 3、5 行重复")
    assert by_row[5].reason.startswith("与第 2、3 行重复")
    assert by_row[3].value == "C001 / 2023-05"
    assert "社区编码、月份" in by_row[3].column


def test_duplicate_keys_across_chunks(memory_conn, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 3)
    lines = ["社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积"]
    lines += [f"C{i:03d},名{i},街,村,1,1,1" for i in range(10)]
    lines.append("C001,重复,街,村,1,1,1")  # row 12 repeats row 3
    report = _import(memory_conn, tmp_path, "c.csv", "communities", "\n".join(lines)).report
    assert sorted(p.row for p in report.problems) == [3, 12]


def test_unknown_community_against_stored_and_batch(conn_with_communities, tmp_path):
    safety = "社区编码,月份\nC001,2023-05\nC404,2023-05\n"
    report = _import(conn_with_communities, tmp_path, "s.csv", "safety", safety).report
    assert [(p.row, p.column, p.value, p.reason) for p in report.problems] == [
        (3, "社区编码", "C404", t("reason.unknown_community"))
    ]
    # With a communities file in the same batch, that file is the reference.
    communities = COMMUNITIES_CSV.replace("C003", "C404")
    results = importer.import_files(
        conn_with_communities,
        [
            _source(tmp_path, "s2.csv", "safety", safety),
            _source(tmp_path, "c2.csv", "communities", communities),
        ],
        applied_by="tester",
    )
    assert [r.applied for r in results] == [True, True]
    assert results[0].report.file_name == "s2.csv"  # results in the order given


def test_validate_file_writes_nothing_and_notes_skipped_reference(memory_conn, tmp_path):
    source = _source(tmp_path, "s.csv", "safety", "社区编码,月份\nC404,2023-05\n")
    before = _snapshot(memory_conn)
    report = importer.validate_file(source)
    assert report.ok
    assert t("import.note.reference_skipped") in report.notes
    checked = importer.validate_file(source, conn=memory_conn)
    assert checked.problem_count == 1
    assert _snapshot(memory_conn) == before


def test_enum_labels_aliases_and_default_status(conn_with_communities, tmp_path):
    text = (
        "设施编码,所属社区编码,设施类型,设施名称,状态\n"
        "F1,C001,社区服务站,服务站,\n"
        "F2,C001,敬老院,,在建\n"
        "F3,C002,PARK,,\n"
        "F4,C002,健身路径,,closed\n"
    )
    result = _import(conn_with_communities, tmp_path, "f.csv", "facilities", text)
    assert result.applied, _messages(result.report)
    rows = conn_with_communities.execute(
        "select facility_id, facility_type, facility_name, status from facilities order by 1"
    ).fetchall()
    assert rows == [
        ("F1", "service_center", "服务站", "in_use"),
        ("F2", "elderly_home", None, "building"),
        ("F3", "park", None, "in_use"),
        ("F4", "sports", None, "closed"),
    ]
    assert t("import.note.defaults", column="状态", count=2, value="在用") in result.report.notes


def test_absent_default_column_is_filled(conn_with_communities, tmp_path):
    text = "设施编码,社区编码,设施类型\nF1,C001,警务室\n"
    result = _import(conn_with_communities, tmp_path, "f.csv", "facilities", text)
    assert result.applied
    assert conn_with_communities.execute("select status from facilities").fetchall() == [
        ("in_use",)
    ]


# -- all or nothing ------------------------------------------------------------------


def test_refused_file_changes_nothing(conn_with_communities, tmp_path):
    before = _snapshot(conn_with_communities)
    version = db.data_version(conn_with_communities)
    bad = COMMUNITIES_CSV + "C004,丁,东街道,城市社区,-1,1,1\n"
    result = _import(conn_with_communities, tmp_path, "bad.csv", "communities", bad)
    assert not result.applied and result.import_id is None
    assert _snapshot(conn_with_communities) == before
    assert db.data_version(conn_with_communities) == version


def test_reimporting_the_same_file_changes_nothing(conn_with_communities, tmp_path):
    before = _snapshot(conn_with_communities)
    first_id = before["import_history"][0][0]
    result = _import(conn_with_communities, tmp_path, "again.csv", "communities", COMMUNITIES_CSV)
    assert result.unchanged and not result.applied
    assert result.import_id == first_id
    assert _snapshot(conn_with_communities) == before


def test_funding_replaces_only_its_years(conn_with_communities, tmp_path):
    first = (
        "社区编码,年度,经费类别,金额\n"
        "C001,2022,办公经费,1\nC001,2023,办公经费,2\nC002,2023,党建经费,3\n"
    )
    assert _import(conn_with_communities, tmp_path, "a.csv", "funding", first).applied
    second = "社区编码,年度,经费类别,金额\nC003,2023,其他,9\n"
    result = _import(conn_with_communities, tmp_path, "b.csv", "funding", second)
    assert result.applied and result.rows_replaced == 2
    rows = conn_with_communities.execute(
        "select community_id, year, amount_yuan from funding order by all"
    ).fetchall()
    assert rows == [("C001", 2022, Decimal("1.00")), ("C003", 2023, Decimal("9.00"))]


def test_safety_replaces_only_its_months(conn_with_communities, tmp_path):
    first = "社区编码,月份,刑事案件数\nC001,2023-04,1\nC001,2023-05,2\nC002,2023-05,3\n"
    assert _import(conn_with_communities, tmp_path, "a.csv", "safety", first).applied
    second = "社区编码,月份,刑事案件数\nC001,2023年5月,7\nC001,2023-06,8\n"
    result = _import(conn_with_communities, tmp_path, "b.csv", "safety", second)
    assert result.applied and result.rows_replaced == 2
    rows = conn_with_communities.execute(
        "select community_id, month, criminal_cases from safety order by all"
    ).fetchall()
    assert rows == [
        ("C001", date(2023, 4, 1), 1), ("C001", date(2023, 5, 1), 7), ("C001", date(2023, 6, 1), 8),
    ]
    history = conn_with_communities.execute(
        "select file_name, rows_in_file, rows_replaced from import_history"
        " where table_name = 'safety' order by import_id"
    ).fetchall()
    assert history == [("a.csv", 3, 0), ("b.csv", 2, 2)]


def test_batch_with_one_bad_file_writes_nothing(conn_with_communities, tmp_path):
    before = _snapshot(conn_with_communities)
    results = importer.import_files(
        conn_with_communities,
        [
            _source(tmp_path, "c.csv", "communities", COMMUNITIES_CSV.replace("C003", "C009")),
            _source(tmp_path, "f.csv", "facilities", "设施编码,社区编码,设施类型\nF1,C001,警务室\n"),
            _source(tmp_path, "s.csv", "safety", "社区编码,月份\nC001,2023-13\n"),
        ],
        applied_by="tester",
    )
    assert [r.applied for r in results] == [False, False, False]
    assert [r.report.ok for r in results] == [True, True, False]
    assert _snapshot(conn_with_communities) == before


def test_batch_applies_in_one_version_bump_with_history_per_file(memory_conn, tmp_path):
    results = importer.import_files(
        memory_conn,
        [
            _source(tmp_path, "f.csv", "facilities", "设施编码,社区编码,设施类型\nF1,C001,警务室\n"),
            _source(tmp_path, "c.csv", "communities", COMMUNITIES_CSV),
        ],
        applied_by="tester", is_sample=True,
    )
    assert all(r.applied for r in results)
    assert db.data_version(memory_conn) == 1
    history = memory_conn.execute(
        "select table_name, is_sample from import_history order by import_id"
    ).fetchall()
    assert history == [("communities", True), ("facilities", True)]  # communities first
    ids = {r.report.table: r.import_id for r in results}
    assert memory_conn.execute("select distinct import_id from facilities").fetchall() == [
        (ids["facilities"],)
    ]


def test_batch_refuses_two_files_replacing_the_same_thing(conn_with_communities, tmp_path):
    before = _snapshot(conn_with_communities)
    results = importer.import_files(
        conn_with_communities,
        [
            _source(tmp_path, "a.csv", "safety", "社区编码,月份\nC001,2023-05\n"),
            _source(tmp_path, "b.csv", "safety", "社区编码,月份\nC002,2023年5月\nC002,2023-06\n"),
        ],
        applied_by="tester",
    )
    assert not any(r.applied for r in results)
    assert "2023-05" in results[0].report.problems[0].reason
    assert _snapshot(conn_with_communities) == before
    disjoint = importer.import_files(
        conn_with_communities,
        [
            _source(tmp_path, "c.csv", "safety", "社区编码,月份\nC001,2023-05\n"),
            _source(tmp_path, "d.csv", "safety", "社区编码,月份\nC002,2023-06\n"),
        ],
        applied_by="tester",
    )
    assert all(r.applied for r in disjoint)
    two_tables = importer.import_files(
        conn_with_communities,
        [
            _source(tmp_path, "e.csv", "communities", COMMUNITIES_CSV),
            _source(tmp_path, "g.csv", "communities", COMMUNITIES_CSV + "C9,x,y,村,1,1,1\n"),
        ],
        applied_by="tester",
    )
    assert not any(r.applied for r in two_tables)


def test_orphans_after_replacing_communities_are_a_warning(conn_with_communities, tmp_path):
    facilities = "设施编码,社区编码,设施类型\nF1,C003,警务室\nF2,C001,警务室\n"
    assert _import(conn_with_communities, tmp_path, "f.csv", "facilities", facilities).applied
    smaller = "\n".join(COMMUNITIES_CSV.splitlines()[:3]) + "\n"  # drops C003
    result = _import(conn_with_communities, tmp_path, "c.csv", "communities", smaller)
    assert result.applied
    assert t("import.orphans", table="公共服务设施", count=1, examples="C003") in result.report.notes
    stored_notes = conn_with_communities.execute(
        "select notes from import_history where import_id = $id", {"id": result.import_id}
    ).fetchone()[0]
    assert "C003" in stored_notes


# -- file-level refusals ---------------------------------------------------------------


def test_undecodable_unknown_table_and_unsupported_format(memory_conn, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x80\x81\xff")
    report = importer.validate_file(importer.SourceFile(path, "communities"))
    assert report.messages() == [t("import.error.file", file="x.csv",
                                   reason=t("import.decode_failed"))]
    assert report.sha256 == hashlib.sha256(b"\x80\x81\xff").hexdigest()
    unknown = importer.import_file(
        memory_conn, importer.SourceFile(path, "people"), applied_by="tester"
    )
    assert not unknown.applied and "people" in unknown.report.problems[0].reason
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"x")
    report = importer.validate_file(importer.SourceFile(xls, "communities", "旧表.xls"))
    assert report.problems[0].reason == t("import.unsupported_format", suffix=".xls")
    assert report.file_name == "旧表.xls"


def test_header_only_file_is_refused_rather_than_emptying_a_table(conn_with_communities, tmp_path):
    header_only = COMMUNITIES_CSV.splitlines()[0] + "\n合计,,,,0,0,0\n"
    result = _import(conn_with_communities, tmp_path, "h.csv", "communities", header_only)
    assert not result.applied
    assert result.report.problems[0].reason == t("import.no_rows")
    assert conn_with_communities.execute("select count(*) from communities").fetchone()[0] == 3


def test_too_many_problems_are_counted_not_all_listed(memory_conn, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 700)
    lines = ["社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积"]
    lines += [f"C{i:05d},n,s,火星,-1,1,1" for i in range(1500)]  # 2 problems a row
    report = _import(memory_conn, tmp_path, "m.csv", "communities", "\n".join(lines)).report
    assert report.problem_count == 3000
    assert len(report.problems) == importer.MAX_LISTED_PROBLEMS
    assert report.problems[-1].row == 501  # rows 2..501, two problems each
    assert report.messages()[-1] == t("import.too_many_errors", count=2000)


def test_xlsx_with_typed_cells_and_title_row(conn_with_communities, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "平安"
    sheet.append(["XX区平安建设月报"])
    sheet.append(["社区编码", "月份", "居民满意率", "刑事案件数", "民警下沉社区时长"])
    from datetime import datetime

    sheet.append(["C001", datetime(2023, 5, 1), 0.95, 2.0, 1.5])
    sheet.append(["C002", "2023年5月", 0.8, None, 3])
    sheet.append(["C003", 202305, 0.85, 12.5, None])  # row 5: 12.5 cases
    sheet["C3"].number_format = "0%"
    path = tmp_path / "s.xlsx"
    workbook.save(path)
    report = importer.validate_file(importer.SourceFile(path, "safety"), conn=conn_with_communities)
    assert [(p.row, p.column, p.value) for p in report.problems] == [(5, "刑事案件数", "12.5")]
    assert report.sheet == "平安"
    sheet["D5"] = 1
    workbook.save(path)
    result = importer.import_file(
        conn_with_communities, importer.SourceFile(path, "safety"), applied_by="tester",
    )
    assert result.applied, _messages(result.report)
    rows = conn_with_communities.execute(
        "select community_id, month, satisfaction_rate, criminal_cases, police_hours"
        " from safety order by 1"
    ).fetchall()
    # C3 formatted 0% → "95%"; the others are plain fractions → the column is fractions.
    assert rows == [
        ("C001", date(2023, 5, 1), 95.0, 2, 1.5),
        ("C002", date(2023, 5, 1), 80.0, None, 3.0),
        ("C003", date(2023, 5, 1), 85.0, 1, None),
    ]


@pytest.mark.parametrize("engine", [True, False])
def test_preview_and_progress(conn_with_communities, tmp_path, monkeypatch, engine):
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 10)
    if not engine:  # the row-by-row path (files the engine may not number) reports per chunk
        monkeypatch.setattr(tabular, "read_raw", lambda *args, **kwargs: False)
    lines = ["社区编码,月份,刑事案件数"] + [f"C001,2020-{m:02d},{m}" for m in range(1, 13)]
    lines += [f"C002,2021-{m:02d},{m}" for m in range(1, 13)]
    seen: list[tuple[str, int]] = []
    result = importer.import_file(
        conn_with_communities, _source(tmp_path, "p.csv", "safety", "\n".join(lines)),
        applied_by="tester", progress=lambda name, rows: seen.append((name, rows)),
    )
    assert result.applied
    # The engine reads the whole file at once: it reports the rows read, then
    # again once they are checked, then once applied.
    expected = [24, 24, 24] if engine else [10, 20, 24]
    assert [rows for _, rows in seen][:3] == expected
    preview = result.report.preview
    assert len(preview) == importer.PREVIEW_ROWS
    assert list(preview.columns) == list(TABLES["safety"].column_names)
    assert preview["criminal_cases"].tolist()[:3] == [1, 2, 3]


def test_guess_table(tmp_path):
    assert importer.guess_table(_write(tmp_path, "c.csv", "标题\n" + COMMUNITIES_CSV, "gbk")) == (
        "communities"
    )
    residences = "楼栋编码,社区编码,户数,人口,经度,纬度\nB1,C001,10,20,116.9,32.6\n"
    assert importer.guess_table(_write(tmp_path, "r.csv", residences)) == "residences"
    assert importer.guess_table(_write(tmp_path, "s.csv", "社区编码,月份\n")) == "safety"
    assert importer.guess_table(_write(tmp_path, "x.csv", "a,b\n1,2\n")) is None
    assert importer.guess_table(_write(tmp_path, "y.csv", "")) is None


def test_locked_database_file_is_a_refusal(tmp_path):
    db_path = tmp_path / "locked.duckdb"
    db.connect(db_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            """
            import sys, duckdb
            conn = duckdb.connect(sys.argv[1])
            print("ready", flush=True)
            sys.stdin.read()
            """
        ), str(db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        source = _source(tmp_path, "c.csv", "communities", COMMUNITIES_CSV)
        results = importer.import_files(db_path, [source], applied_by="tester")
        assert not results[0].applied
        assert results[0].report.problems[0].reason == t("error.db_locked", path=str(db_path))
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_notes_name_every_conversion_the_import_made(tmp_path):
    from tests import district_files

    paths = district_files.write_district(tmp_path)
    conn = db.connect_memory()
    sources = [importer.SourceFile(p, name, p.name) for name, p in paths.items()]
    reports = {r.table: r for r in importer.validate_batch(conn, sources)}
    assert all(r.ok for r in reports.values())
    communities = reports["communities"].notes
    assert "已跳过合计行：第 9 行" in communities
    # 1,000 / 1,200 / 1,500 and ８００; ２２１０ in the population column
    assert "「户数」：全角数字 1 格、千位分隔符 3 格，已按标准写法读入" in communities
    assert "「常住人口」：全角数字 1 格，已按标准写法读入" in communities
    safety = reports["safety"].notes
    assert "「月份」：中文日期写法（如 2025年1月）51 格，已按标准写法读入" in safety
    assert "「居民满意率」：带 % 的百分数 51 格，已按标准写法读入" in safety
    assert "「金额」以万元填写，已换算为元（×10000）" in reports["funding"].notes


def test_money_written_in_wan_per_cell_is_noted(tmp_path):
    conn = db.connect_memory()
    conn.execute(
        "insert into communities (community_id, community_name, street, community_type,"
        " households, population, office_area_m2, import_id)"
        " values ('C1', '甲', '东街道', 'urban', 100, 300, 50, 0)"
    )
    source = _source(tmp_path, "f.csv", "funding",
                     "社区编码,年度,经费类别,金额\nC1,2025,办公经费,2.5万\nC1,2025,党建经费,12000\n")
    report = importer.validate_file(source, conn=conn)
    assert report.ok, report.messages()
    assert "「金额」：以“万”为单位的金额 1 格，已按标准写法读入" in report.notes


def test_communities_with_no_households_are_accepted_and_named(tmp_path):
    source = _source(
        tmp_path, "c.csv", "communities",
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
        "N1,新建社区,东街道,城市社区,0,0,120\n"
        "N2,老社区,东街道,城市社区,800,2000,300\n",
    )
    report = importer.validate_file(source)
    assert report.ok
    note = next(n for n in report.notes if "户数为 0" in n)
    assert note.startswith("有 1 个社区户数为 0（如 N1）")
