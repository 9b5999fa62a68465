"""Spark local mode against DuckDB on the same grid events and the same SQL.

    .venv/bin/python benchmarks/spark.py [--rows N [N ...]] [--repeat K [K ...]]

For each N (default 1,000,000 and 10,000,000 incidents) the sample generator
writes a district as benchmarks/safety.py does (about 100 events per
community-month), loaded into DuckDB unvalidated (DuckDB's CSV reader; the
importer is measured by benchmarks/safety.py), then exported to Parquet with
`governance.spark.export` (timed). Each of the 平安建设 aggregation queries
(governance/spark/aggregates.py) runs with the safety page's parameters on
DuckDB (db.run_query) and on Spark (the translated query, local[2] on this
machine, reading the Parquet folder, result collected to Arrow): --warmup
untimed runs (default 1), then K timed runs each; printed as mean ± standard deviation, min–max, and
the ratio of the means. The results of the two engines are compared row by
row (tests/spark/compare.py) and `same` says whether they match. The last
row is the whole aggregate job (`aggregates.compute`).

Spark pays for planning and task scheduling on every query and runs on the
same 2 cores here, so it is expected to be slower: the ratio is reported as
measured. The machine's load average is printed, since other work on it
changes both engines' times.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import db, indicators, safety  # noqa: E402
from governance.contract import INCIDENT_CATEGORY  # noqa: E402
from governance.spark import aggregates, engine, export  # noqa: E402
from tests.spark.compare import differences  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "safety_bench", Path(__file__).with_name("safety.py"))
safety_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(safety_bench)

DEFAULT_ROWS = (1_000_000, 10_000_000)
QUERIES = tuple(aggregates.AGGREGATES.values())
JOB = "aggregates.compute"


def timed(run, repeat: int, warmup: int = 1) -> tuple[list[float], object]:
    result = None
    for _ in range(warmup):  # Spark: code generation; DuckDB: file cache
        result = run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times, result


def describe(times: list[float]) -> str:
    mean = statistics.mean(times)
    spread = statistics.stdev(times) if len(times) > 1 else 0.0
    return f"{mean:8.2f} ± {spread:5.2f} ({min(times):.2f}–{max(times):.2f})"


def bench(rows: int, repeat: int, spark, scratch: Path, warmup: int = 1,
          names: tuple[str, ...] = (*QUERIES, JOB)) -> None:
    folder = scratch / f"n{rows}"
    folder.mkdir()
    communities, generated_s = safety_bench.write_csvs(folder, rows)
    loaded = safety_bench.direct_load(folder)
    conn = db.connect(folder / "bench.duckdb", read_only=True)
    started = time.perf_counter()
    export.export_tables(conn, folder / "parquet")
    export_s = time.perf_counter() - started
    engine.register_parquet(spark, folder / "parquet")
    period = indicators.default_period(conn)
    params = indicators.query_params(conn, period)
    summary = db.run_query(conn, "incident_summary", params).to_pylist()[0]
    as_of = safety.as_of_for(period, summary)
    lon, lat = safety.cell_degrees(safety.DEFAULT_CELL_M,
                                              summary["mean_lat"])
    params.update(as_of=as_of, row_limit=safety.OPEN_ROWS_SHOWN, cell_deg_lon=lon,
                  cell_deg_lat=lat, incident_categories=[
                      c.code for c in INCIDENT_CATEGORY.codes])
    print(f"\n{rows:,} incidents, {communities:,} communities "
          f"(generated {generated_s:.1f} s, loaded {loaded['seconds']:.1f} s, "
          f"Parquet export {export_s:.1f} s); {repeat} timed runs after {warmup} warm-up; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'query':34} {'DuckDB s (mean ± sd, min–max)':>34} "
          f"{'Spark s (mean ± sd, min–max)':>34} {'Spark/DuckDB':>12}  same")
    spark_conn = engine.SparkConnection(spark)
    for name in names:
        if name == JOB:
            duck_times, duck = timed(lambda: aggregates.compute(conn, period), repeat, warmup)
            spark_times, on_spark = timed(
                lambda: aggregates.compute(spark_conn, period), repeat, warmup)
            same = all(not differences(duck.tables[t], on_spark.tables[t]) for t in duck.tables)
        else:
            duck_times, duck = timed(
                lambda n=name: db.run_query(conn, n, params), repeat, warmup)
            spark_times, on_spark = timed(
                lambda n=name: engine.run_query(spark, n, params), repeat, warmup)
            same = not differences(duck, on_spark)
        ratio = statistics.mean(spark_times) / statistics.mean(duck_times)
        print(f"{name:34} {describe(duck_times):>34} {describe(spark_times):>34} "
              f"{ratio:11.1f}×  {'yes' if same else 'NO'}", flush=True)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_ROWS))
    parser.add_argument("--repeat", type=int, nargs="+", default=[3],
                        help="timed runs per size (one number for all, or one per --rows)")
    parser.add_argument("--queries", nargs="+", choices=(*QUERIES, JOB), default=None,
                        help="only these queries (default: all six and the whole job)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed runs before the timed ones (0 at sizes that take long)")
    args = parser.parse_args()
    repeats = args.repeat * len(args.rows) if len(args.repeat) == 1 else args.repeat
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch:
        started = time.perf_counter()
        spark = engine.local_session(Path(scratch) / "spark", cores=2, shuffle_partitions=4,
                                     memory="6g")
        print(f"Spark {spark.version} local[2] session started in "
              f"{time.perf_counter() - started:.1f} s; DuckDB and Spark share this machine's "
              f"{os.cpu_count()} cores")
        try:
            for rows, repeat in zip(args.rows, repeats, strict=True):
                bench(rows, repeat, spark, Path(scratch), args.warmup,
                      tuple(args.queries or (*QUERIES, JOB)))
        finally:
            # Before the scratch folder holding the session's files is removed.
            spark.stop()


if __name__ == "__main__":
    main()
