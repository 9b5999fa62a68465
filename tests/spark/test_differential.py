"""Every translated query, on DuckDB and on PySpark in local mode, over the
same data: the hand-computed query fixtures and the sample district. The rows
must be identical (floats within 1e-9 relative), in the same order, with the
same statuses — statuses are ordinary columns of the rows compared."""

from __future__ import annotations

import pytest

from governance import db
from governance.spark import engine, translate
from tests.spark.compare import differences
from tests.spark.conftest import DATASETS, on_spark

CASES = [(dataset, name) for dataset in DATASETS for name in translate.spark_query_names()]

# Queries allowed to return no rows on every dataset (two empty results compare
# as equal, so each entry is a query the differential test does not really
# check). None today: add one only with the reason it cannot have rows here.
ALLOWED_EMPTY: dict[str, str] = {}


@pytest.mark.parametrize(("dataset", "name"), CASES, ids=[f"{d}-{n}" for d, n in CASES])
def test_same_rows_on_spark_and_duckdb(spark, datasets, dataset, name):
    data = datasets[dataset]
    duck = db.run_query(data.conn, name, data.params)
    on_spark(spark, data)
    result = engine.run_query(spark, name, data.params)
    assert differences(duck, result) == []


def test_the_comparison_sees_a_changed_value(spark, datasets):
    """The differential test could fail: a status changed on one side is found."""
    data = datasets["fixtures"]
    duck = db.run_query(data.conn, "community_facility_indicators", data.params)
    on_spark(spark, data)
    result = engine.run_query(spark, "community_facility_indicators", data.params)
    status = result.column("status").to_pylist()
    status[0] = "met" if status[0] != "met" else "not_met"
    changed = result.set_column(result.column_names.index("status"), "status",
                                [status])
    assert differences(duck, changed)
    values = result.column("value").to_pylist()
    k = next(i for i, v in enumerate(values) if v)
    values[k] = values[k] * (1 + 1e-8)
    nudged = result.set_column(result.column_names.index("value"), "value", [values])
    assert differences(duck, nudged)


def test_every_dataset_has_rows_for_the_indicator_queries(datasets):
    """The comparison is not vacuous: each indicator query returns rows on the
    fixtures it is about and on the sample district."""
    for dataset, name in [
        ("fixtures", "community_facility_indicators"),
        ("fixtures", "community_funding_indicators"),
        ("fixtures", "community_safety_indicators"),
        ("fixtures", "community_organisation_indicators"),
        ("fixtures", "community_coverage_indicators"),
        ("fixtures", "incident_counts_by_month"),
        ("fixtures", "incident_report_reconciliation"),
        ("fixtures", "incident_resolution_by_category"),
        ("fixtures", "open_incidents"),
        ("sample", "safety_monthly_indicators"),
        ("sample", "incident_map_cells"),
    ]:
        data = datasets[dataset]
        assert db.run_query(data.conn, name, data.params).num_rows > 0, (dataset, name)


@pytest.mark.parametrize("name", translate.spark_query_names())
def test_every_query_has_rows_on_some_dataset(datasets, name):
    """Two empty results are equal: each query must give rows to compare."""
    rows = {dataset: db.run_query(data.conn, name, data.params).num_rows
            for dataset, data in datasets.items()}
    if name in ALLOWED_EMPTY:
        assert not any(rows.values()), f"{name} has rows now: take it off ALLOWED_EMPTY"
    else:
        assert any(rows.values()), rows
