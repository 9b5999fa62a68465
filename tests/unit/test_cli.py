"""`python -m governance …`: exit codes, Chinese messages, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time

import duckdb
import pytest

from governance.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from governance.contract import TABLES
from tests.conftest import PROJECT_DIR, SAMPLE_DIR, bad_communities_csv, messy_communities_csv

INDICATOR_COUNT = 23  # every catalogue indicator, F03 included


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _count(db_path, table: str) -> int:
    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        return conn.execute("select count(*) from " + table).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def loaded_db(tmp_path):
    """A database loaded table by table through the CLI, as bureau IT would."""
    path = tmp_path / "cli.duckdb"
    for table in TABLES:
        code, out, err = run_cli("import", "--db", str(path), "--table", table,
                                 str(SAMPLE_DIR / f"{table}.csv"))
        assert code == EXIT_OK, err
        assert "已导入" in out
    return path


def test_import_messy_gbk_export_then_reimport_changes_nothing(tmp_path):
    source = tmp_path / "社区.csv"
    source.write_bytes(messy_communities_csv())
    path = tmp_path / "db.duckdb"
    code, out, err = run_cli("import", "--db", str(path), "--table", "communities", str(source))
    assert code == EXIT_OK, err
    assert "117 行" in out and "合计" in out
    code, out, _ = run_cli("import", "--db", str(path), "--table", "communities", str(source))
    assert code == EXIT_OK
    assert "完全相同" in out
    conn = duckdb.connect(str(path), read_only=True)
    assert conn.execute("select count(*) from import_history").fetchone()[0] == 1
    conn.close()


def test_refused_import_names_rows_and_leaves_database_unchanged(tmp_path, loaded_db):
    before = _count(loaded_db, "communities")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(bad_communities_csv())
    code, out, err = run_cli("import", "--db", str(loaded_db), "--table", "communities", str(bad))
    assert code == EXIT_REFUSED
    assert "文件 bad.csv 第 3 行「户数」" in err
    assert "第 4 行「社区类型」" in err
    assert "未导入" in err and "Traceback" not in err
    assert _count(loaded_db, "communities") == before


def test_validate_exit_codes_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(bad_communities_csv())
    assert run_cli("validate", "--table", "communities", str(bad))[0] == EXIT_REFUSED
    code, out, _ = run_cli("validate", "--table", "communities", str(SAMPLE_DIR / "communities.csv"))
    assert code == EXIT_OK and "校验通过" in out
    assert list(tmp_path.iterdir()) == [bad]


def test_indicators_long_csv_covers_every_community_and_indicator(loaded_db):
    code, out, err = run_cli("indicators", "--db", str(loaded_db))
    assert code == EXIT_OK, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["community_id", "indicator_id", "value", "status"]
    assert len(rows) == 117 * INDICATOR_COUNT
    assert {r["status"] for r in rows} <= {"met", "partly_met", "not_met", "no_data", "not_rated"}
    for row in rows:
        assert (row["value"] == "") == (row["status"] == "no_data"), row


def test_indicators_json_and_periods(loaded_db):
    code, out, _ = run_cli("indicators", "--db", str(loaded_db), "--format", "json", "--year", "2023")
    assert code == EXIT_OK
    records = json.loads(out)
    m01 = [r for r in records if r["indicator_id"] == "M01"]
    assert len(m01) == 117
    code, out_2025, _ = run_cli("indicators", "--db", str(loaded_db), "--format", "json",
                                "--from", "2025-12", "--to", "2025-12")
    s07 = {r["community_id"]: r["value"] for r in json.loads(out_2025) if r["indicator_id"] == "S07"}
    assert len(s07) == 117


def test_usage_errors_are_messages(tmp_path, loaded_db):
    code, _, err = run_cli("indicators", "--db", str(loaded_db), "--from", "2025/13")
    assert code == EXIT_USAGE and "YYYY-MM" in err
    code, _, err = run_cli("import", "--db", str(tmp_path / "x.duckdb"), "--table", "funding",
                           str(tmp_path / "missing.csv"))
    assert code == EXIT_USAGE and "找不到文件" in err


def test_sample_command_writes_a_scaled_district(tmp_path):
    code, out, _ = run_cli("sample", "--out", str(tmp_path), "--communities", "30", "--months", "3")
    assert code == EXIT_OK
    with open(tmp_path / "communities.csv", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 31


def test_locked_database_gives_a_message_not_a_traceback(tmp_path):
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        time.sleep(0.2)
        code, _, err = run_cli("import", "--db", str(path), "--table", "communities",
                               str(SAMPLE_DIR / "communities.csv"))
        assert code == EXIT_USAGE
        assert "占用" in err and "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()


def test_module_entry_point_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "governance", "validate", "--table", "communities",
         str(SAMPLE_DIR / "communities.csv")],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "校验通过" in result.stdout


def test_import_with_gcj02_coordinates_and_boundaries(tmp_path, loaded_db):
    import json

    source = tmp_path / "f.csv"
    source.write_text(
        "设施编码,社区编码,设施类型,经度,纬度\nF1,340403001001,综合服务中心,117.0060,32.6300\n",
        encoding="utf-8",
    )
    code, out, err = run_cli("import", "--db", str(loaded_db), "--table", "facilities",
                             "--coords", "gcj02", str(source))
    assert code == EXIT_OK, err
    assert "gcj02" in out
    conn = duckdb.connect(str(loaded_db), read_only=True)
    lon = conn.execute("select lon from facilities where facility_id = 'F1'").fetchone()[0]
    conn.close()
    assert 0.003 < 117.0060 - lon < 0.007  # GCJ-02 sits ~500 m east of WGS-84 here

    geojson = tmp_path / "b.geojson"
    ring = [[117.0, 32.6], [117.01, 32.6], [117.01, 32.61], [117.0, 32.61], [117.0, 32.6]]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"community_id": "340403001001"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    code, out, err = run_cli("boundaries", "--db", str(loaded_db), str(geojson))
    assert code == EXIT_OK, err
    assert "社区边界" in out
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    code, _, err = run_cli("boundaries", "--db", str(loaded_db), str(bad))
    assert code == EXIT_REFUSED and "没有任何要素" in err


def test_sample_command_writes_the_requested_incidents(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = main(["sample", "--out", str(tmp_path), "--incidents", "50000"], out, err)
    assert code == EXIT_OK, err.getvalue()
    lines = (tmp_path / "incidents.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50_001
    code = main(["sample", "--out", str(tmp_path / "few"), "--incidents", "10"], out, err)
    assert code == EXIT_USAGE
    assert "--incidents 10 太小" in err.getvalue()
