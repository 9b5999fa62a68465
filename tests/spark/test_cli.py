"""`python -m governance export` and `indicators --engine spark`: the same
output as the DuckDB command, from a database or from a Parquet folder; a
command leaves no session and no temporary folder behind."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from governance import cli, db, sample_loader
from governance.contract import TABLES
from tests.spark.conftest import forget_views


@pytest.fixture(scope="module")
def db_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("spark-cli") / "district.duckdb"
    conn = db.connect(path)
    sample_loader.ensure_sample_loaded(conn)
    conn.close()
    return path


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def own_temp(tmp_path, monkeypatch):
    """The commands' temporary folders go under this test's tmp_path."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_export_writes_every_contract_table_and_partitions_incidents(db_file, tmp_path):
    code, out, err = run("export", "--db", str(db_file), "--out", str(tmp_path))
    assert code == 0, err
    for name in TABLES:
        assert (tmp_path / name).is_dir()
        assert name in out
    months = sorted(p.name for p in (tmp_path / "incidents").iterdir())
    assert months[0].startswith("occurred_month=20") and len(months) >= 12
    conn = db.connect(db_file, read_only=True)
    try:
        for name in TABLES:
            stored = conn.sql("select count(*) from " + db.quote_identifier(name)).fetchall()
            assert pq.read_table(tmp_path / name).num_rows == stored[0][0], name
    finally:
        conn.close()


def test_indicators_on_spark_equal_the_duckdb_command(spark, db_file, tmp_path):
    code, duck, err = run("indicators", "--db", str(db_file))
    assert code == 0, err
    parquet = tmp_path / "pq"
    assert run("export", "--db", str(db_file), "--out", str(parquet))[0] == 0
    try:
        code, from_source, err = run("indicators", "--engine", "spark", "--source", str(parquet))
        assert code == 0, err
        code, from_db, err = run("indicators", "--engine", "spark", "--db", str(db_file),
                                 "--format", "parquet", "--out", str(tmp_path / "i.parquet"))
        assert code == 0, err
    finally:
        forget_views()
    # The tests' shared session was the caller's: still running.
    assert spark.sql("select 1 as one").collect()[0].one == 1
    assert duck.count("\n") > 1000
    assert from_source == duck
    written = pq.read_table(tmp_path / "i.parquet").to_pandas()
    assert written.to_csv(index=False, lineterminator="\n") == duck


def test_source_without_spark_is_a_usage_error(db_file, tmp_path):
    code, _, err = run("indicators", "--db", str(db_file), "--source", str(tmp_path))
    assert code == 2
    assert "--engine spark" in err


def test_a_spark_command_leaves_no_session_or_folder_behind(db_file, tmp_path, own_temp):
    """In a process of its own (no session running), as an operator runs it: the
    local session's files go under the command's temporary folder, which is
    removed once the session is stopped."""
    env = {**os.environ, "TMPDIR": str(own_temp), "GOVERNANCE_DB": str(db_file)}
    env.pop("PYSPARK_GATEWAY_PORT", None)
    done = subprocess.run(
        [sys.executable, "-m", "governance", "indicators", "--engine", "spark",
         "--db", str(db_file), "--format", "parquet", "--out", str(tmp_path / "i.parquet")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "i.parquet").num_rows > 1000
    left = sorted(p.name for p in own_temp.iterdir() if p.name.startswith("governance-"))
    assert left == []


def test_a_hive_database_name_that_is_not_an_identifier_is_refused(own_temp):
    code, _, err = run("indicators", "--engine", "spark", "--source", "hive:gov.x`; drop")
    assert code == 2
    assert "Hive 库名“gov.x`; drop”不合格式" in err
    assert list(own_temp.iterdir()) == []
