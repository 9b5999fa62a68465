"""Run the translated query files on Apache Spark.

`pin_session(spark)` fixes what could make Spark answer differently from
DuckDB, on any session (local, or the one spark-submit gives on a cluster):
ANSI mode on (overflow and bad casts fail instead of turning into NULL), the
session time zone Asia/Shanghai, and timestamps without time zone, as DuckDB's
`timestamp` columns are. Null ordering is made explicit by the translation
(sqlglot writes NULLS LAST where DuckDB's default differs from Spark's), and
`round` is half-up on both engines (tests/spark/test_translate.py holds it).

`register_parquet` / `register_hive` make the contract's tables visible under
their own names; `run_query` runs one file with its parameters bound as named
markers (`spark.sql(text, args=...)`), never written into the text.

`SparkConnection` lets governance/indicators.py run unchanged on Spark: it
offers the two calls `db.run_query` makes on a DuckDB connection (`cursor()`,
then `sql(text, params=...)`), recognises the text as one of the query files,
and runs that file's translation instead. Anything else is refused.

pyspark is imported only here, when Spark is asked for: the dashboard itself
never needs it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from governance import db
from governance.spark import translate
from governance.spark.export import PARTITION_COLUMN
from governance.text import t

HIVE_DATABASE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

PINNED_CONF: dict[str, str] = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "Asia/Shanghai",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}


def pin_session(spark: Any) -> Any:
    for key, value in PINNED_CONF.items():
        spark.conf.set(key, value)
    return spark


def local_session(work_dir: Path | str | None = None, cores: int = 2,
                  shuffle_partitions: int = 4, memory: str = "2g") -> Any:
    """A Spark session in local mode on this machine, bound to 127.0.0.1 with
    no web UI; its warehouse, metastore and scratch files under work_dir
    (without one, a new temporary folder the caller must remove after
    spark.stop(): the commands pass their own scratch folder)."""
    from pyspark.sql import SparkSession

    work = Path(work_dir or tempfile.mkdtemp(prefix="governance-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    java_options = f"-Dderby.system.home={work / 'derby'} -Djava.io.tmpdir={work / 'tmp'}"
    (work / "tmp").mkdir(exist_ok=True)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("governance")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.local.dir", str(work / "tmp"))
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.sql.adaptive.enabled", "true")
    )
    for key, value in PINNED_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return pin_session(spark)


def _register(read: Callable[[str], Any]) -> dict[str, int]:
    """Temp views of the contract's tables, each frame from read(table name);
    table → columns. The partition column export adds is dropped again."""
    columns = {}
    for name in translate.SOURCE_TABLES:
        frame = read(name)
        if PARTITION_COLUMN in frame.columns and name == "incidents":
            frame = frame.drop(PARTITION_COLUMN)
        frame.createOrReplaceTempView(name)
        columns[name] = len(frame.columns)
    return columns


def register_parquet(spark: Any, folder: Path | str) -> dict[str, int]:
    """Temp views of the contract's tables from folder/<table>/ (as `export`
    writes them); table → columns. A missing optional table is refused."""
    folder = Path(folder)
    return _register(lambda name: spark.read.parquet(str(folder / name)))


def hive_database(source: str) -> str | None:
    """The database of `hive:DATABASE` (None for any other source). It is
    joined to a table name as `database.table`, so only a plain identifier is
    accepted; anything else is refused with a message for the operator."""
    if not source.startswith("hive:"):
        return None
    database = source.removeprefix("hive:")
    if not HIVE_DATABASE.fullmatch(database):
        raise ValueError(t("spark.cli.bad_hive_database", database=database))
    return database


def register_hive(spark: Any, database: str) -> dict[str, int]:
    """Temp views of the contract's tables held in a Hive database (a session
    with a configured metastore: spark-submit on the platform)."""
    database = hive_database(f"hive:{database}")
    # Table names come from the contract; the database was checked above.
    return _register(lambda name: spark.table(f"{database}.{name}"))


def register_source(spark: Any, source: str) -> dict[str, int]:
    """`--source`: a Parquet folder, or `hive:DATABASE`."""
    database = hive_database(source)
    if database is not None:
        return register_hive(spark, database)
    return register_parquet(spark, source)


def _literal(value: Any, spark: Any) -> Any:
    """A Python parameter value as a Spark literal Column. `spark.sql` accepts
    only literals and array()/struct()/map() of literals (no casts), so a date
    or a datetime goes as itself: with the session's TIMESTAMP_NTZ a datetime
    becomes a timestamp without time zone, as in DuckDB."""
    from pyspark.sql import functions as F  # noqa: N812

    if isinstance(value, Decimal):
        return F.lit(float(value))
    if isinstance(value, (type(None), bool, int, float, str, dt.date)):
        return F.lit(value)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Mapping) for v in value):
            return F.array(*[_struct(v, spark) for v in value])
        return F.array(*[_literal(v, spark) for v in value])
    raise TypeError(f"no Spark literal for parameter value {value!r}")


def _typed_null_double(spark: Any) -> Any:
    """NULL typed DOUBLE. A list of structs where one floor is missing and
    another is a number needs it: an untyped NULL would make Spark coerce the
    array with a cast, which `spark.sql` refuses in a parameter. PySpark has
    no public typed-NULL literal, so the Literal is made on the JVM (classic
    sessions, as spark-submit and local mode give)."""
    from pyspark.sql.column import Column

    jvm = spark._jvm
    literal = jvm.org.apache.spark.sql.catalyst.expressions.Literal.create(
        None, jvm.org.apache.spark.sql.types.DataType.fromDDL("double"))
    return Column(jvm.org.apache.spark.sql.classic.ExpressionUtils.column(literal))


def _struct(value: Mapping[str, Any], spark: Any) -> Any:
    """A struct of literals; floats and missing numbers as DOUBLE ($thresholds)."""
    from pyspark.sql import functions as F  # noqa: N812

    fields = []
    for key, item in value.items():
        fields.append(F.lit(key))
        fields.append(_typed_null_double(spark) if item is None else _literal(item, spark))
    return F.named_struct(*fields)


def bound_args(spark: Any, name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters query `name` uses, as Spark literals; a missing one is an
    error, as in db.run_query."""
    query = translate.translate(name)
    params = dict(params or {})
    missing = query.parameters - params.keys()
    if missing:
        raise db.QueryError(f"{name}: missing parameters {sorted(missing)}")
    return {key: _literal(params[key], spark) for key in sorted(query.parameters)}


def run_frame(spark: Any, name: str, params: Mapping[str, Any] | None = None) -> Any:
    """queries/<name>.sql on Spark → a Spark DataFrame (lazy)."""
    query = translate.translate(name)
    return spark.sql(query.sql, args=bound_args(spark, name, params))


def run_query(spark: Any, name: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    """queries/<name>.sql on Spark → Arrow, as db.run_query gives on DuckDB."""
    return run_frame(spark, name, params).toArrow()


@cache
def _names_by_text() -> dict[str, str]:
    return {db.load_query(name).sql: name for name in translate.spark_query_names()}


class _SparkResult:
    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def to_arrow_table(self) -> pa.Table:
        return self._table


class SparkConnection:
    """Stands where governance/indicators.py expects a DuckDB connection."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def cursor(self) -> SparkConnection:
        return self

    def close(self) -> None:
        """The session outlives the cursor: nothing to release."""

    def sql(self, text: str, params: Mapping[str, Any] | None = None) -> _SparkResult:
        name = _names_by_text().get(text)
        if name is None:
            raise db.QueryError("only the query files in queries/ run on Spark")
        return _SparkResult(run_query(self.spark, name, params))
