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


# --- keys that belong to another street --------------------------------------------

FACILITIES = (
    "设施编码,社区编码,设施类型,状态\n"
    "F-E1,C001,综合服务中心,在用\n"
    "F-W1,C003,综合服务中心,在用\n"
)


def _counts(conn) -> tuple:
    return tuple(conn.execute(sql).fetchone()[0] for sql in (
        "select count(*) from communities", "select count(distinct community_id) from communities",
        "select count(*) from safety", "select count(*) from facilities"))


def test_a_street_cannot_take_over_another_streets_community(memory_conn, tmp_path):
    """东街道's file: its two communities plus 西街道's C003 with the street
    changed to 东街道, and in the same batch a safety month for C003."""
    _setup(memory_conn, tmp_path)
    before = _counts(memory_conn)
    west_safety = _rows(memory_conn, "select * from safety where community_id = 'C003'")
    takeover = (
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
        "C001,甲社区,东街道,城市社区,1200,3000,320\n"
        "C002,乙社区,东街道,村,800,2000,200\n"
        "C003,丙社区,东街道,安置社区,500,1500,150\n"
    )
    safety = "社区编码,月份,刑事案件数,重大刑事案件数,群体性事件数\nC003,2024-01,3,3,2\n"
    results = importer.import_files(
        memory_conn, [_source(tmp_path, "takeover.csv", "communities", takeover),
                      _source(tmp_path, "s.csv", "safety", safety)],
        applied_by="jie", scope=EAST)
    assert not any(r.applied for r in results)
    communities, months = results
    named = [(p.row, p.column, p.value) for p in communities.report.problems]
    assert named == [(4, "社区编码", "C003")]
    assert "西街道" in communities.report.problems[0].reason
    # the safety month is refused on its own account: C003 stays 西街道's
    assert [(p.row, p.value) for p in months.report.problems] == [(2, "C003")]
    assert "西街道" in months.report.problems[0].reason
    assert _counts(memory_conn) == before
    assert _rows(memory_conn, "select * from safety where community_id = 'C003'") == west_safety


def test_the_takeover_split_over_two_batches_is_refused_too(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    safety = "社区编码,月份,刑事案件数\nC003,2024-01,3\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "s.csv", "safety", safety)],
        applied_by="jie", scope=EAST)
    assert not result.applied
    assert "西街道" in result.report.problems[0].reason


def test_a_street_cannot_reuse_another_streets_facility_id(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    importer.import_files(memory_conn, [_source(tmp_path, "f.csv", "facilities", FACILITIES)],
                          applied_by="admin")
    before = _rows(memory_conn, "select * from facilities order by all")
    # 东街道 lists F-W1 (西街道's C003 centre) under its own C002
    mine = "设施编码,社区编码,设施类型,状态\nF-E1,C001,综合服务中心,在用\nF-W1,C002,警务室,在用\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "mine.csv", "facilities", mine)],
        applied_by="jie", scope=EAST)
    assert not result.applied
    assert [(p.row, p.column, p.value) for p in result.report.problems] == [
        (3, "设施编码", "F-W1")]
    assert "西街道" in result.report.problems[0].reason
    assert _rows(memory_conn, "select * from facilities order by all") == before


def test_a_street_cannot_file_a_grid_event_under_another_streets_id(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    west = "事件编号,社区编码,发生时间,事件类别,办理状态\nE-1,C003,2024-01-05 10:00,矛盾纠纷,已上报\n"
    importer.import_files(memory_conn, [_source(tmp_path, "w.csv", "incidents", west)],
                          applied_by="admin")
    mine = "事件编号,社区编码,发生时间,事件类别,办理状态\nE-1,C001,2024-01-06 10:00,治安案件,已上报\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "mine.csv", "incidents", mine)],
        applied_by="jie", scope=EAST)
    assert not result.applied
    assert [(p.row, p.value) for p in result.report.problems] == [(2, "E-1")]
    assert _rows(memory_conn, "select incident_id, community_id from incidents") == [
        ("E-1", "C003")]


def test_an_administrator_may_move_a_community_and_it_is_said(memory_conn, tmp_path):
    _setup(memory_conn, tmp_path)
    moved = COMMUNITIES.replace("C003,丙社区,西街道", "C003,丙社区,东街道")
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "c2.csv", "communities", moved)], applied_by="admin")
    assert result.applied
    assert result.effects == ["1 个社区改属其他街道（管理员导入）：丙社区（C003）：西街道 → 东街道"]
    from governance import reports

    assert result.effects[0] in reports.audit_detail([result])
    assert _rows(memory_conn, "select street from communities where community_id = 'C003'") == [
        ("东街道",)]


def test_the_database_key_holds_where_a_check_would_be_missing(memory_conn, tmp_path,
                                                              monkeypatch):
    from governance import import_scope

    _setup(memory_conn, tmp_path)
    importer.import_files(memory_conn, [_source(tmp_path, "f.csv", "facilities", FACILITIES)],
                          applied_by="admin")
    before = _rows(memory_conn, "select * from facilities order by all")
    version = memory_conn.execute("select value from meta where key = 'data_version'").fetchone()
    monkeypatch.setattr(import_scope, "held_elsewhere", lambda conn, item, scope: ([], 0))
    mine = "设施编码,社区编码,设施类型,状态\nF-W1,C002,警务室,在用\n"
    (result,) = importer.import_files(
        memory_conn, [_source(tmp_path, "mine.csv", "facilities", mine)],
        applied_by="jie", scope=EAST)
    assert not result.applied
    assert result.report.messages() == [
        "文件 mine.csv：数据库拒绝写入：键 设施编码 F-W1 已存在（每个社区、设施、楼栋、事件和社区月份"
        "只能有一行）。本次导入未做任何更改。"]
    assert _rows(memory_conn, "select * from facilities order by all") == before
    assert memory_conn.execute(
        "select value from meta where key = 'data_version'").fetchone() == version
