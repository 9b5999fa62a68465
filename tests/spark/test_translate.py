"""The translation step itself: golden files, parameters, refusals, and the
behaviour pinned on the Spark session."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from governance import db
from governance.spark import engine, translate

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GOVERNANCE_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", translate.spark_query_names())
def test_translation_matches_its_golden_file(name):
    """A new sqlglot (or a changed query) that translates differently fails
    here; review the diff, then rewrite the golden files with
    GOVERNANCE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/spark/test_translate.py"""
    text = translate.translate(name).sql + "\n"
    path = GOLDEN / f"{name}.sql"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file for {name}"
    assert path.read_text(encoding="utf-8") == text


def test_no_golden_file_without_a_query():
    assert sorted(p.stem for p in GOLDEN.glob("*.sql")) == sorted(translate.spark_query_names())


def test_every_query_file_is_translated_or_kept_for_a_stated_reason():
    assert set(translate.spark_query_names()) | translate.NOT_ON_SPARK == set(db.query_names())
    for name in translate.NOT_ON_SPARK:
        with pytest.raises(translate.TranslationError, match=name):
            translate.translate(name)


@pytest.mark.parametrize("name", sorted(translate.DUCKDB_CONSTRUCTS))
def test_a_duckdb_only_query_really_fails_to_translate_for_its_reason(name):
    """The list is not a way to skip a query quietly: its text, translated
    regardless of the list, is refused for the construct the list names. A
    query rewritten to translate fails here until it is taken off the list
    (and so joins the golden and differential tests)."""
    reason = translate.DUCKDB_CONSTRUCTS[name]
    with pytest.raises(translate.TranslationError, match=f"{name}: .*{reason}"):
        translate.translate_sql(db.load_query(name).sql, name)


def _tables_read(name: str) -> set[str]:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(db.load_query(name).sql, read="duckdb")
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    return {table.name for table in tree.find_all(exp.Table)} - ctes - {""}


@pytest.mark.parametrize("name", sorted(translate.DASHBOARD_ONLY | translate.AGGREGATE_READS))
def test_a_dashboard_only_query_reads_a_table_the_platform_has_not(name):
    assert _tables_read(name) - set(translate.SOURCE_TABLES), name


def test_the_aggregate_reads_read_the_imported_tables():
    for name in translate.AGGREGATE_READS:
        assert any(table.startswith("incident_agg_") for table in _tables_read(name)), name


def test_qualify_over_select_star_is_refused():
    """sqlglot's QUALIFY rewrite adds its window column to `select *`."""
    with pytest.raises(translate.TranslationError, match="QUALIFY"):
        translate.translate_sql("select * from t qualify row_number() over (order by a) = 1")


def test_a_tuple_aggregate_is_refused():
    """min((value, key))[2] is DuckDB's arg-min; sqlglot would pass it through."""
    with pytest.raises(translate.TranslationError, match="tuple aggregate"):
        translate.translate_sql("select min((a, b))[2] from t")
    with pytest.raises(translate.TranslationError, match="tuple aggregate"):
        translate.translate_sql("select max((a, b)) filter (where c) from t")


@pytest.mark.parametrize("name", translate.spark_query_names())
def test_parameters_stay_named_markers(name):
    """Every $parameter becomes :parameter; no value is written into the text."""
    query = translate.translate(name)
    assert "$" not in query.sql
    markers = set(re.findall(r":([a-z_][a-z0-9_]*)\b", query.sql))
    assert markers == set(query.parameters)


@pytest.mark.parametrize("sql", [
    "select list_aggregate(xs, 'sum') from t",
    "select histogram(x) from t",
    "select current_setting('threads')",
])
def test_a_duckdb_only_function_is_refused(sql):
    with pytest.raises(translate.TranslationError, match="no Spark equivalent"):
        translate.translate_sql(sql)


def test_a_function_sqlglot_does_not_know_is_refused():
    with pytest.raises(translate.TranslationError, match=r"made_up_fn\(\) is unknown"):
        translate.translate_sql("select made_up_fn(x) from t")


@pytest.mark.parametrize(("sql", "what"), [
    ("select * from a asof join b on a.t >= b.t", "ASOF JOIN"),
    ("select * from a positional join b", "POSITIONAL JOIN"),
    ("pivot t on a using sum(b)", "PIVOT"),
    ("select x::uhugeint from t", "type"),
    ("select map {1: 2}", "map"),  # sqlglot's own failure, passed on as ours
])
def test_syntax_spark_has_not_is_refused(sql, what):
    """sqlglot writes some DuckDB syntax out unchanged; the translator refuses it."""
    with pytest.raises(translate.TranslationError):
        translate.translate_sql(sql)


def test_the_status_macro_is_expanded_from_schema_sql():
    spark_sql = translate.translate("community_funding_indicators").sql
    assert "indicator_status" not in spark_sql.lower()
    assert "'partly_met'" in spark_sql


def test_rowid_becomes_a_row_number_over_the_key():
    spark_sql = translate.translate("communities_in_scope").sql
    assert "rowid" not in spark_sql.lower()
    assert "ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST)" in spark_sql


def test_null_ordering_is_explicit():
    spark_sql = translate.translate("open_incidents").sql
    assert "occurred_at NULLS LAST" in spark_sql


def test_session_behaviour_is_pinned(spark):
    conf = {key: spark.conf.get(key) for key in engine.PINNED_CONF}
    assert conf["spark.sql.ansi.enabled"] == "true"
    assert conf["spark.sql.session.timeZone"] == "Asia/Shanghai"
    assert conf["spark.sql.timestampType"] == "TIMESTAMP_NTZ"
    # ANSI: an overflow fails instead of wrapping or turning into NULL.
    with pytest.raises(Exception, match="ARITHMETIC_OVERFLOW|CAST_OVERFLOW"):
        spark.sql("select cast(2147483647 as int) + 1").collect()


ROUNDING = ("select round(2.5::double), round(-2.5::double), round(0.5::double),"
            " round(1.5::double), round(0.125::double, 2), round(-0.125::double, 2),"
            " round(33.3333335::double, 6), round(2.5::decimal(4, 1)),"
            " round(1.005::decimal(10, 3), 2)")


def test_rounding_is_half_up_as_in_duckdb(spark):
    """DuckDB rounds halves away from zero; so does Spark's round (HALF_UP),
    for doubles and decimals, through the translation."""
    duck = duckdb.connect().sql(ROUNDING).fetchall()[0]
    on_spark = spark.sql(translate.translate_sql(ROUNDING)).collect()[0]
    assert [float(v) for v in on_spark] == [float(v) for v in duck]
    assert [float(v) for v in duck][:4] == [3.0, -3.0, 1.0, 2.0]


def test_timestamps_have_no_time_zone(spark):
    """A datetime parameter and a Parquet timestamp keep their wall-clock value."""
    from datetime import datetime

    row = spark.sql("select :t as t, hour(:t) as h",
                    args={"t": datetime(2025, 3, 1, 23, 30)}).collect()[0]
    assert row["t"] == datetime(2025, 3, 1, 23, 30)
    assert row["h"] == 23
