"""Command-line parts for Spark (added to `python -m governance` by governance/cli.py):

    python -m governance export --db PATH --out DIR [--format parquet]
    python -m governance indicators --engine spark (--db PATH | --source DIR|hive:DB) …
    python -m governance aggregates [--engine spark|duckdb] (--db PATH | --source …)
                                    --from YYYY-MM --to YYYY-MM --out DIR [--format parquet|csv]
    python -m governance import-aggregates --db PATH DIR

`--db` with `--engine spark` exports the database to a temporary Parquet folder
first (a small run); `--source` reads a Parquet folder written by `export` (or
by the platform in the same layout), or `hive:DATABASE` — the contract's tables
by name in a Hive metastore, where spark-submit configures one.
Under spark-submit (governance/spark/submit.py) the session spark-submit made
is used; otherwise a local one on this machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from governance.text import t

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Host:
    """What these commands use of governance/cli.py, handed over by it
    (importing it from here would make the two modules import each other)."""

    usage_error: type[Exception]
    open_db: Callable[..., Any]
    importing: Callable[[str], Any]
    parse_month: Callable[[str], Any]


_HOST: list[Host] = []


def _host() -> Host:
    return _HOST[-1]


def _usage(message: str) -> Exception:
    return _host().usage_error(message)


def _session(source: str | None, work_dir: Path) -> tuple[Any, bool]:
    """The Spark session to run on, and whether it is ours to stop: one
    spark-submit made is the cluster's, one already running in this process is
    its caller's (the tests' shared session); otherwise a local session whose
    files all go under work_dir."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise _usage(t("spark.cli.no_pyspark")) from exc
    from governance.spark import engine

    try:
        if os.environ.get("PYSPARK_GATEWAY_PORT"):
            # Started by spark-submit: its master, resources and metastore.
            builder = SparkSession.builder.appName("governance")
            if source and source.startswith("hive:"):
                builder = builder.enableHiveSupport()
            return engine.pin_session(builder.getOrCreate()), False
        running = SparkSession.getActiveSession()
        if running is not None:
            return engine.pin_session(running), False
        return engine.local_session(work_dir), True
    except Exception as exc:  # noqa: BLE001 — no Java, or the JVM did not start
        if "JAVA" in str(exc).upper():
            raise _usage(t("spark.cli.no_java")) from exc
        raise


@contextmanager
def spark_connection(db_path: str | None, source: str | None):
    """A SparkConnection over --source, or over --db exported to a temporary
    Parquet folder. The temporary folder also holds a local session's files;
    both the session we started and the folder are gone afterwards."""
    from governance.spark import engine, export

    if not db_path and not source:
        raise _usage(t("spark.cli.need_source"))
    if source:
        try:
            engine.hive_database(source)
        except ValueError as exc:
            raise _usage(str(exc)) from exc
    with tempfile.TemporaryDirectory(prefix="governance-parquet-") as scratch:
        if source:
            local = not source.startswith("hive:") and "://" not in source
            if local and not Path(source).is_dir():
                raise _usage(t("cli.file_not_found", path=source))
        else:
            parquet = Path(scratch) / "parquet"
            conn = _host().open_db(db_path, read_only=True)
            try:
                export.export_tables(conn, parquet)
            finally:
                conn.close()
            source = str(parquet)
        spark, ours = _session(source, Path(scratch) / "spark")
        try:
            engine.register_source(spark, source)
            yield engine.SparkConnection(spark)
        finally:
            if ours:
                spark.stop()


@contextmanager
def any_connection(args: argparse.Namespace):
    """The engine args.engine names, over --db (or --source for Spark)."""
    if args.engine == "spark":
        with spark_connection(args.db, args.source) as conn:
            yield conn
        return
    if args.source:
        raise _usage(t("spark.cli.source_needs_spark"))
    if not args.db:
        raise _usage(t("spark.cli.need_db"))
    conn = _host().open_db(args.db, read_only=True)
    try:
        yield conn
    finally:
        conn.close()


def period_for(conn: Any, args: argparse.Namespace):
    """The data's default period with --year/--from/--to applied."""
    from governance import indicators

    _parse_month = _host().parse_month
    period = indicators.default_period(conn)
    if getattr(args, "year", None) is not None:
        period = replace(period, year=args.year)
    if args.month_from:
        period = replace(period, month_from=_parse_month(args.month_from))
    if args.month_to:
        period = replace(period, month_to=_parse_month(args.month_to))
    return period


def _cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from governance.contract import TABLES
    from governance.spark import export

    conn = _host().open_db(args.db, read_only=True)
    try:
        written = export.export_tables(conn, Path(args.out))
    finally:
        conn.close()
    for table, rows in written.items():
        print(t("spark.export.table", table=TABLES[table].label, name=table, rows=rows,
                folder=str(Path(args.out) / table)), file=out)
    return 0


def _cmd_aggregates(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from governance.spark import aggregates

    with any_connection(args) as conn:
        period = period_for(conn, args)
        if period.month_from is None or period.month_to is None:
            raise _usage(t("spark.aggregates.no_months"))
        run = aggregates.compute(conn, period)
    source = args.source or str(args.db)
    aggregates.write(run, Path(args.out), args.format, args.engine, source)
    print(t("spark.aggregates.written", out=args.out, month_from=f"{period.month_from:%Y-%m}",
            month_to=f"{period.month_to:%Y-%m}", format=args.format), file=out)
    return 0


def _cmd_import_aggregates(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from governance.spark import aggregates

    folder = Path(args.folder)
    if not folder.is_dir():
        raise _usage(t("cli.file_not_found", path=args.folder))
    # Under the import lock, published like any import (governance/publish.py).
    with _host().importing(args.db) as conn:
        try:
            rows = aggregates.import_aggregates(conn, folder)
        except aggregates.AggregateImportError as exc:
            print(str(exc), file=err)
            print(t("spark.aggregates.refused", folder=args.folder), file=err)
            return 1
    print(t("spark.aggregates.imported", folder=args.folder), file=out)
    for table, count in rows.items():
        print(t("spark.aggregates.imported_table", table=table, rows=count), file=out)
    return 0


def add_engine_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--engine", choices=ENGINES, default="duckdb", help=t("spark.help.engine"))
    cmd.add_argument("--source", help=t("spark.help.source"))


def add_commands(commands: Any, host: Host) -> None:
    _HOST.append(host)
    cmd = commands.add_parser("export", help=t("spark.help.export"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("--out", required=True, help=t("spark.help.export_out"))
    cmd.add_argument("--format", choices=("parquet",), default="parquet")
    cmd.set_defaults(handler=_cmd_export)

    cmd = commands.add_parser("aggregates", help=t("spark.help.aggregates"))
    cmd.add_argument("--db", help=t("cli.help.db"))
    add_engine_options(cmd)
    cmd.add_argument("--from", dest="month_from", help=t("cli.help.from"))
    cmd.add_argument("--to", dest="month_to", help=t("cli.help.to"))
    cmd.add_argument("--out", required=True, help=t("spark.help.aggregates_out"))
    cmd.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    cmd.set_defaults(handler=_cmd_aggregates)

    cmd = commands.add_parser("import-aggregates", help=t("spark.help.import_aggregates"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("folder", help=t("spark.help.aggregates_folder"))
    cmd.set_defaults(handler=_cmd_import_aggregates)
