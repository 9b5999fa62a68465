"""A street account imports only its own streets' rows: others are refused with
the rows named and nothing written; what a file replaces stays in the scope."""

from __future__ import annotations

from pathlib import Path

from governance import importer

COMMUNITIES = (
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    "C001,甲社区,东街道,城市社区,1200,3000,320\n"
    "C002,乙社区,东街道,村,800,2000,200\n"
    "C003,丙社区,西街道,安置社区,500,1500,150\n"
)
SAFETY = (
    "社区编码,月份,刑事案件数\n"
    "C001,2024-01,1\n"
    "C002,2024-01,2\n"
    "C003,2024-01,3\n"
)
EAST = ("东街道",)


def _source(tmp_path: Path, name: str, table: str, text: str) -> importer.SourceFile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return importer.SourceFile(path, table)


def _setup(conn, tmp_path):
    results = importer.import_files(
        conn, [_source(tmp_path, "c.csv", "communities", COMMUNITIES),
               _source(tmp_path, "s.csv", "safety", SAFETY)], applied_by="admin")
    assert all(r.applied for r in results)


def _rows(conn, sql):
    return conn.execute(sql).fetchall()


def test_rows_of_another_street_are_refused_and_named(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    before = _rows(memory_conn, "select * exclude (import_id) from safety order by all")
    text = "社区编码,月份,刑事案件数\nC001,2024-01,5\nC003,2024-01,9\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "mine.csv", "safety", text)], applied_by="jie",
        scope=EAST)
    assert not result.applied
    problems = result.report.problems
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "社区编码", "C003")]
    assert "西街道" in problems[0].reason and "东街道" in problems[0].reason
    assert _rows(memory_conn, "select * exclude (import_id) from safety order by all") == before


def test_validation_gives_the_same_verdict(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    text = "社区编码,月份,刑事案件数\nC003,2024-02,1\n"
    (report,) = importer.validate_batch(
        memory_conn, [_source(tmp_path, "v.csv", "safety", text)], scope=EAST)
    assert not report.ok and report.problem_count == 1
    (unscoped,) = importer.validate_batch(
        memory_conn, [_source(tmp_path, "v.csv", "safety", text)])
    assert unscoped.ok


def test_an_in_scope_file_replaces_only_the_scopes_rows(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    # East's January report, with C002 left out: C002's row goes, C003 (west) stays.
    text = "社区编码,月份,刑事案件数\nC001,2024-01,7\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "east.csv", "safety", text)], applied_by="jie",
        scope=EAST)
    assert result.applied and result.rows_replaced == 2
    assert _rows(memory_conn, "select community_id, criminal_cases from safety order by 1") == [
        ("C001", 7), ("C003", 3)]


def test_a_street_communities_file_leaves_other_streets_alone(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    text = ("社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
            "C001,甲社区,东街道,城市社区,1300,3100,330\n")
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "east_c.csv", "communities", text)],
        applied_by="jie", scope=EAST)
    assert result.applied and result.rows_replaced == 2
    assert _rows(memory_conn, "select community_id, households from communities order by 1") == [
        ("C001", 1300), ("C003", 500)]


def test_a_communities_row_naming_another_street_is_refused(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    text = ("社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
            "C009,新社区,西街道,城市社区,100,300,330\n")
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "x.csv", "communities", text)],
        applied_by="jie", scope=EAST)
    assert not result.applied
    assert [(p.row, p.column, p.value) for p in result.report.problems] == [(2, "街道", "西街道")]
    assert _rows(memory_conn, "select count(*) from communities") == [(3,)]


def test_no_streets_means_nothing_may_be_imported(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    text = "社区编码,月份,刑事案件数\nC001,2024-03,1\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "none.csv", "safety", text)], applied_by="x", scope=())
    assert not result.applied and result.report.problem_count == 1
