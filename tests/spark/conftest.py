"""One Spark session for the whole test run (starting one takes ~20 s), and the
datasets every translated query runs on, on both engines: the hand-computed
query fixtures (tests/fixtures/*.sql) and the sample district (data/sample).

Each dataset is a DuckDB database and the same tables exported to Parquet
(governance/spark/export.py); `on_spark(spark, dataset)` points Spark's views at
that dataset's Parquet folder.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from governance import db, indicators, safety, sample_loader
from governance.catalogue import Standards
from governance.contract import INCIDENT_CATEGORY
from governance.spark import engine, export
from tests.conftest import load_fixture_sql
from tests.queries.helpers import TYPES

# The three hand-computed fixtures share no key, so they load into one
# database: one Spark pass over them instead of three.
# pyspark 4.3 warns about pandas 3 on every session start; toArrow() does not
# go through pandas.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                        category=FutureWarning)

FIXTURES = ("indicators_small", "safety_small", "coverage_small")
DATASETS = ("fixtures", "sample")


@dataclass
class Dataset:
    name: str
    conn: duckdb.DuckDBPyConnection
    folder: Path
    params: dict[str, Any] = field(default_factory=dict)


def fixture_params(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every parameter any query file takes, as tests/queries binds them, over
    every street of the fixtures."""
    standards = Standards.default()
    bound = {key: list(value) if isinstance(value, (list, tuple)) else value
             for key, value in standards.settings.items()}
    bound.update(
        scope_streets=db.run_query(conn, "all_street_names").column("street").to_pylist(),
        community_types=TYPES,
        thresholds=standards.thresholds_param(),
        year=2024, month_from=date(2024, 1, 1), month_to=date(2024, 3, 1),
        as_of=datetime(2024, 3, 31, 12, 0), as_of_date=date(2024, 3, 31),
        community_id="A1", row_limit=100, cell_deg_lon=0.01, cell_deg_lat=0.01,
        incident_categories=[c.code for c in INCIDENT_CATEGORY.codes],
    )
    return bound


def sample_params(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The parameters the pages bind for the sample district's default view."""
    period = indicators.default_period(conn)
    bound = indicators.query_params(conn, period)
    summary = safety.incident_summary(conn)
    lon, lat = safety.cell_degrees(safety.DEFAULT_CELL_M, summary["mean_lat"])
    first = indicators.communities_in_scope(conn).column("community_id")[0].as_py()
    bound.update(
        as_of=safety.as_of_for(period, summary), as_of_date=date(2025, 12, 31),
        community_id=first, row_limit=safety.OPEN_ROWS_SHOWN,
        cell_deg_lon=lon, cell_deg_lat=lat,
        incident_categories=[c.code for c in INCIDENT_CATEGORY.codes],
    )
    return bound


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    session = engine.local_session(tmp_path_factory.mktemp("spark"), cores=2,
                                   shuffle_partitions=2, memory="1g")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def datasets(tmp_path_factory) -> dict[str, Dataset]:
    made = {}
    for name in DATASETS:
        conn = db.connect_memory()
        if name == "sample":
            assert sample_loader.ensure_sample_loaded(conn)
            params = sample_params(conn)
        else:
            for fixture in FIXTURES:
                load_fixture_sql(conn, fixture)
            params = fixture_params(conn)
        folder = tmp_path_factory.mktemp(f"parquet-{name}")
        export.export_tables(conn, folder)
        made[name] = Dataset(name, conn, folder, params)
    yield made
    for dataset in made.values():
        dataset.conn.close()


_ON_SPARK: dict[str, str] = {}


def on_spark(spark, dataset: Dataset) -> None:
    """Spark's views of the contract's tables → this dataset's Parquet."""
    if _ON_SPARK.get("dataset") != dataset.name:
        engine.register_parquet(spark, dataset.folder)
        _ON_SPARK["dataset"] = dataset.name


def forget_views() -> None:
    """After a test that registered other views on the shared session."""
    _ON_SPARK.clear()
