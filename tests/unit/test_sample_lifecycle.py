"""The sample district is one unit: a district's own communities replace it
whole, an administrator can clear it, and the banner names exactly what is left."""

from __future__ import annotations

import io

import duckdb
import pytest

from governance import auth, coverage, db, importer, permissions, sample_loader, sample_rows
from governance.cli import EXIT_OK, EXIT_REFUSED, main
from governance.contract import TABLES
from tests import district_files

ADMIN = auth.User("admin", "管理员", "admin")


def _counts(conn) -> dict[str, int]:
    return {
        name: conn.execute(
            "select count(*) from " + db.quote_identifier(name)
        ).fetchone()[0]
        for name in TABLES
    }


def _sources(folder) -> list[importer.SourceFile]:
    paths = district_files.write_district(folder)
    return [importer.SourceFile(path, table, path.name) for table, path in paths.items()]


@pytest.fixture
def sample_conn():
    conn = db.connect_memory()
    assert sample_loader.ensure_sample_loaded(conn)
    yield conn
    conn.close()


def test_the_sample_counts_every_table_it_wrote(sample_conn):
    present = sample_rows.count(sample_conn.cursor())
    assert present.tables == list(TABLES)
    assert present.by_table == _counts(sample_conn)
    assert present.describe().startswith("社区基本信息 117 行、公共服务设施 1,062 行")


def test_district_import_replaces_the_sample_whole(sample_conn, tmp_path):
    before = sample_rows.count(sample_conn.cursor())
    version = db.data_version(sample_conn)
    results = importer.import_files(sample_conn, _sources(tmp_path), applied_by="区民政局")
    assert [r.applied for r in results] == [True] * 4, [r.report.messages() for r in results]
    # nothing of the sample is left in any table, boundaries included
    assert sample_rows.tables_present(sample_conn) == []
    assert _counts(sample_conn) == {
        "communities": 5, "facilities": 5, "funding": 10, "safety": 51,
        "residences": 0, "incidents": 0,
    }
    assert sample_conn.execute(
        "select count(*) from community_boundaries").fetchone()[0] == 0
    assert sorted(r[0] for r in sample_conn.execute(
        "select distinct street from communities").fetchall()) == ["北湖街道", "南山街道"]
    # one transaction, one new version
    assert db.data_version(sample_conn) == version + 1
    # the communities report says what left, table by table
    communities_report = results[0].report
    removed_note = next(n for n in communities_report.notes if "示例数据已全部移除" in n)
    assert before.describe() in removed_note
    assert "网格事件 35,738 行" in removed_note
    # and the note is kept in the import history
    stored = sample_conn.execute(
        "select notes from import_history where table_name = 'communities' and not is_sample"
    ).fetchone()[0]
    assert removed_note in stored


def test_district_figures_rest_on_centres(sample_conn, tmp_path):
    importer.import_files(sample_conn, _sources(tmp_path), applied_by="区民政局")
    basis = coverage.coverage_basis(sample_conn)
    assert (basis["basis"], basis["communities_on_centroids"]) == ("centroids", 5)
    f03 = {r["community_id"]: r for r in coverage.f03_values(sample_conn).to_pylist()}
    assert {k: r["value"] for k, r in f03.items()} == pytest.approx(
        district_files.F03_BY_COMMUNITY)
    covered = sum(r["numerator"] for r in f03.values())
    total = sum(r["denominator"] for r in f03.values())
    assert (covered, total) == (district_files.HOUSEHOLDS_COVERED,
                                district_files.HOUSEHOLDS_TOTAL)


def test_a_refused_district_import_leaves_the_sample_untouched(sample_conn, tmp_path):
    sources = _sources(tmp_path)
    bad = tmp_path / "bad_funding.csv"
    bad.write_bytes("社区编码,年度,经费类别,金额\n340499001001,2025,办公经费,abc\n".encode())
    sources[2] = importer.SourceFile(bad, "funding", bad.name)
    before = _counts(sample_conn)
    version = db.data_version(sample_conn)
    results = importer.import_files(sample_conn, sources, applied_by="区民政局")
    assert not any(r.applied for r in results)
    assert _counts(sample_conn) == before
    assert db.data_version(sample_conn) == version
    assert sample_rows.tables_present(sample_conn) == list(TABLES)


def test_a_street_import_keeps_other_streets_sample_and_says_so(sample_conn, tmp_path):
    street = sample_conn.execute(
        "select street from communities order by community_id limit 1").fetchone()[0]
    rows = sample_conn.execute(
        "select community_id, community_name, street, community_type, households,"
        " population, office_area_m2 from communities where street = $s order by 1",
        {"s": street},
    ).fetchall()
    path = tmp_path / "street.csv"
    lines = ["community_id,community_name,street,community_type,households,population,"
             "office_area_m2"]
    lines += [",".join(str(v) for v in row[:4]) + f",{row[4] + 1},{row[5]},{row[6]}"
              for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = importer.import_files(
        sample_conn, [importer.SourceFile(path, "communities", path.name)],
        applied_by="street", scope=(street,))[0]
    assert result.applied, result.report.messages()
    assert "示例数据仍在库中" in " ".join(result.report.notes)
    # other streets' sample communities are still there, and still sample
    assert sample_conn.execute("select count(*) from communities").fetchone()[0] == 117
    assert "communities" in sample_rows.tables_present(sample_conn)


def test_clear_removes_every_sample_row_once(sample_conn):
    version = db.data_version(sample_conn)
    removed = sample_rows.clear(sample_conn, ADMIN)
    assert removed.tables == list(TABLES)
    assert _counts(sample_conn) == dict.fromkeys(TABLES, 0)
    assert db.data_version(sample_conn) == version + 1
    # the database is not "empty" for the loader: the sample never comes back
    assert sample_loader.ensure_sample_loaded(sample_conn) is False
    again = sample_rows.clear(sample_conn, ADMIN)
    assert again.total == 0 and db.data_version(sample_conn) == version + 1


def test_clear_keeps_the_districts_own_rows(sample_conn, tmp_path):
    # a district import first (sample gone), then a clear finds nothing to do
    importer.import_files(sample_conn, _sources(tmp_path), applied_by="区民政局")
    assert sample_rows.clear(sample_conn, ADMIN).total == 0
    assert _counts(sample_conn)["communities"] == 5


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cli_clear_sample_needs_yes(tmp_path):
    path = tmp_path / "district.duckdb"
    conn = db.connect(path)
    sample_loader.ensure_sample_loaded(conn)
    conn.close()
    code, _, err = _cli("clear-sample", "--db", str(path))
    assert code == EXIT_REFUSED and "--yes" in err
    check = duckdb.connect(str(path), read_only=True)
    assert check.execute("select count(*) from communities").fetchone()[0] == 117
    check.close()
    code, out, _ = _cli("clear-sample", "--db", str(path), "--yes")
    assert code == EXIT_OK and "已清除示例数据：社区基本信息 117 行" in out
    check = duckdb.connect(str(path), read_only=True)
    assert check.execute("select count(*) from communities").fetchone()[0] == 0
    check.close()
    code, out, _ = _cli("clear-sample", "--db", str(path))
    assert code == EXIT_OK and "库中已没有示例数据" in out


def test_only_an_administrator_clears_the_sample(sample_conn):
    for role in ("leader", "street"):
        with pytest.raises(permissions.NotPermitted, match="只有管理员"):
            sample_rows.clear(sample_conn, auth.User("x", "x", role, ("东关街道",)))
    assert sample_rows.tables_present(sample_conn) == list(TABLES)
