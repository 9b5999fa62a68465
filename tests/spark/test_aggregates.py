"""The 平安建设 event aggregations computed on Spark, written as Parquet or CSV,
and imported into the dashboard's database: the stored rows are the rows the
safety page's queries give on DuckDB."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from governance import db, indicators
from governance.spark import aggregates, engine
from tests.spark.compare import differences
from tests.spark.conftest import on_spark


@pytest.fixture(scope="module")
def spark_run(spark, datasets):
    data = datasets["sample"]
    on_spark(spark, data)
    period = indicators.default_period(data.conn)
    return aggregates.compute(engine.SparkConnection(spark), period)


@pytest.fixture(scope="module")
def duck_run(datasets):
    data = datasets["sample"]
    return aggregates.compute(data.conn, indicators.default_period(data.conn))


def test_spark_aggregates_equal_duckdbs(spark_run, duck_run):
    assert spark_run.as_of == duck_run.as_of
    assert spark_run.scope_streets == duck_run.scope_streets
    for table in aggregates.AGGREGATES:
        assert duck_run.tables[table].num_rows > 0, table
        assert differences(duck_run.tables[table], spark_run.tables[table]) == [], table


@pytest.mark.parametrize("fmt", aggregates.FORMATS)
def test_written_aggregates_import_as_the_same_rows(spark_run, duck_run, fmt, tmp_path):
    aggregates.write(spark_run, tmp_path, fmt, "spark", "test")
    conn = db.connect_memory()
    before = db.data_version(conn)
    counts = aggregates.import_aggregates(conn, tmp_path)
    assert counts == {t: duck_run.tables[t].num_rows for t in aggregates.AGGREGATES}
    assert db.data_version(conn) == before + 1
    for table, query in aggregates.AGGREGATES.items():
        stored = conn.table(table).to_arrow_table()
        expected = duck_run.tables[table]
        assert stored.column_names == expected.column_names, query
        assert differences(expected, stored) == [], table
    run = conn.sql("select month_from, month_to, as_of, engine from incident_agg_runs").fetchall()
    assert run == [(duck_run.period.month_from, duck_run.period.month_to, duck_run.as_of,
                    "spark")]
    stored = aggregates.stored_run(conn)
    assert (stored.period.month_from, stored.period.month_to) == (
        duck_run.period.month_from, duck_run.period.month_to)
    assert stored.scope_streets == duck_run.scope_streets
    assert all(not differences(duck_run.tables[t], stored.tables[t]) for t in aggregates.AGGREGATES)


def test_no_run_before_an_import():
    assert aggregates.stored_run(db.connect_memory()) is None


def test_a_second_import_replaces_the_first(duck_run, tmp_path):
    aggregates.write(duck_run, tmp_path, "parquet", "duckdb", "test")
    conn = db.connect_memory()
    aggregates.import_aggregates(conn, tmp_path)
    aggregates.import_aggregates(conn, tmp_path)
    assert conn.sql("select count(*) from incident_agg_runs").fetchall() == [(1,)]
    rows = conn.sql("select count(*) from incident_agg_open").fetchall()[0][0]
    assert rows == duck_run.tables["incident_agg_open"].num_rows


def test_a_file_with_wrong_columns_is_refused_and_nothing_changes(duck_run, tmp_path):
    aggregates.write(duck_run, tmp_path, "csv", "duckdb", "test")
    conn = db.connect_memory()
    aggregates.import_aggregates(conn, tmp_path)
    path = tmp_path / "incident_agg_counts_by_month.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace('"major_incidents"', '"重大事件"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    manifest["as_of"] = "2030-01-01 00:00:00"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    version = db.data_version(conn)
    with pytest.raises(aggregates.AggregateImportError,
                       match="incident_agg_counts_by_month.csv.*缺少 major_incidents.*多出 重大事件"):
        aggregates.import_aggregates(conn, tmp_path)
    assert db.data_version(conn) == version
    assert conn.sql("select as_of from incident_agg_runs").fetchall() == [(duck_run.as_of,)]


def test_a_refused_import_adds_no_tables(duck_run, tmp_path):
    """Checked before any DDL: a first import that is refused leaves the
    database without the incident_agg_* tables."""
    aggregates.write(duck_run, tmp_path, "parquet", "duckdb", "test")
    (tmp_path / "incident_agg_open.parquet").write_bytes(b"not parquet")
    conn = db.connect_memory()
    with pytest.raises(aggregates.AggregateImportError,
                       match="无法读取 incident_agg_open.parquet：不是有效的 Parquet 文件"):
        aggregates.import_aggregates(conn, tmp_path)
    tables = {row[0] for row in conn.sql("show tables").fetchall()}
    assert not {t for t in tables if t.startswith("incident_agg_")}


def test_a_value_of_the_wrong_type_names_file_and_column_in_chinese(duck_run, tmp_path):
    aggregates.write(duck_run, tmp_path, "parquet", "duckdb", "test")
    path = tmp_path / "incident_agg_summary.parquet"
    rows = duck_run.tables["incident_agg_summary"]
    at = rows.column_names.index("incidents")
    bad = rows.set_column(at, "incidents", [["许多"] * rows.num_rows])
    pq.write_table(bad, path)
    with pytest.raises(aggregates.AggregateImportError) as refused:
        aggregates.import_aggregates(db.connect_memory(), tmp_path)
    message = str(refused.value)
    assert message == "incident_agg_summary.parquet 的 incidents 列中有值不能按汇总表的类型（int64）读取。"


def test_a_failure_inside_the_transaction_leaves_no_tables(duck_run, tmp_path, monkeypatch):
    """The schema's DDL is part of the import's transaction."""
    aggregates.write(duck_run, tmp_path, "parquet", "duckdb", "test")
    conn = db.connect_memory()

    def fail(cur):
        raise RuntimeError("stopped before commit")

    monkeypatch.setattr(db, "bump_data_version", fail)
    with pytest.raises(RuntimeError, match="stopped before commit"):
        aggregates.import_aggregates(conn, tmp_path)
    tables = {row[0] for row in conn.sql("show tables").fetchall()}
    assert not {t for t in tables if t.startswith("incident_agg_")}
