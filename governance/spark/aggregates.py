"""The 平安建设 event aggregations as a table the dashboard imports.

A province keeps its grid events (10⁸–10⁹ rows) on its data platform. The
job `python -m governance aggregates --engine spark --source …` runs the same
query files the safety page runs on DuckDB (incident_summary,
incident_counts_by_month, incident_resolution_by_category, open_incidents,
incident_report_reconciliation, incident_map_cells) for one month range and
scope, plus two at community grain (incident_community_months: additive
counts per community × month × category; open_incidents_by_community: each
community's oldest open cases), and writes each result as Parquet or CSV with
a manifest.json of the parameters. `python -m governance import-aggregates
--db PATH DIR` loads them into the incident_agg_* tables
(governance/spark/sql/aggregates_schema.sql), one transaction, replacing the
previous run (`stored_run` reads them back).

The 平安建设 page reads them (governance/safety_view.py) when the imported run
is newer than the raw events in the dashboard's database: the community-grain
tables let queries/agg_*.sql give the raw queries' rows for any street, type
and months inside the run; medians and percentiles, which do not add up, and
the map cells exist only for the run's whole scope and range.

`compute` takes any connection `db.run_query` accepts: a DuckDB connection,
or a SparkConnection (governance/spark/engine.py); the two give the same rows
(tests/spark/test_aggregates.py).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from governance import db, safety
from governance.contract import INCIDENT_CATEGORY
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter, query_params
from governance.text import t

log = logging.getLogger("governance.spark.aggregates")

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Stored table → the query file whose rows it holds.
AGGREGATES: dict[str, str] = {
    "incident_agg_summary": "incident_summary",
    "incident_agg_counts_by_month": "incident_counts_by_month",
    "incident_agg_resolution": "incident_resolution_by_category",
    "incident_agg_open": "open_incidents",
    "incident_agg_reconciliation": "incident_report_reconciliation",
    "incident_agg_map_cells": "incident_map_cells",
    "incident_agg_community_months": "incident_community_months",
    "incident_agg_open_oldest": "open_incidents_by_community",
}
MANIFEST = "manifest.json"
FORMATS = ("parquet", "csv")


class AggregateImportError(ValueError):
    """A file set that cannot be imported; the message says which file and why."""


@dataclass(frozen=True)
class AggregateRun:
    period: Period
    as_of: datetime
    scope_streets: tuple[str, ...]
    tables: dict[str, pa.Table]


@cache
def read_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def compute(conn: Any, period: Period, scope: Scope = ALL_STREETS,
            cell_m: float = safety.DEFAULT_CELL_M,
            row_limit: int = safety.OPEN_ROWS_SHOWN) -> AggregateRun:
    """Run the six aggregation queries for one period and scope, with the
    parameters the safety page uses (as of the time the event data runs to)."""
    if period.month_from is None or period.month_to is None:
        raise ValueError("an aggregate run needs a month range")
    params = query_params(conn, period, ViewFilter(), scope=scope)
    summary = db.run_query(conn, "incident_summary", params)
    first = summary.to_pylist()[0]
    as_of = safety.as_of_for(period, first)
    cell_lon, cell_lat = safety.cell_degrees(cell_m, first["mean_lat"])
    params.update(
        as_of=as_of, row_limit=int(row_limit), cell_deg_lon=cell_lon, cell_deg_lat=cell_lat,
        incident_categories=[c.code for c in INCIDENT_CATEGORY.codes],
    )
    tables = {"incident_agg_summary": summary}
    for table, query in AGGREGATES.items():
        if table not in tables:
            tables[table] = db.run_query(conn, query, params)
    return AggregateRun(period, as_of, tuple(params["scope_streets"]), tables)


def write(run: AggregateRun, out: Path, fmt: str, engine: str, source: str) -> list[Path]:
    """out/<table>.parquet|csv for each aggregate, and out/manifest.json."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table, rows in run.tables.items():
        path = out / f"{table}.{fmt}"
        if fmt == "parquet":
            pq.write_table(rows, path)
        else:
            pacsv.write_csv(rows, path)
        written.append(path)
    manifest = {
        "format": fmt,
        "month_from": run.period.month_from.isoformat(),
        "month_to": run.period.month_to.isoformat(),
        "as_of": run.as_of.isoformat(sep=" "),
        "scope_streets": list(run.scope_streets),
        "engine": engine,
        "source": source,
        "computed_at": datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
        "tables": {table: rows.num_rows for table, rows in run.tables.items()},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")
    written.append(out / MANIFEST)
    return written


def apply_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(read_sql("aggregates_schema"))


def expected_schema(cur: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    return cur.table(table).limit(0).to_arrow_table().schema


def expected_schemas() -> dict[str, pa.Schema]:
    """Each incident_agg_* table's columns, from the schema file alone: the
    files are checked against them before the target database is touched."""
    conn = duckdb.connect(":memory:")
    try:
        apply_schema(conn)
        return {table: expected_schema(conn, table) for table in AGGREGATES}
    finally:
        conn.close()


def _read(path: Path, fmt: str, schema: pa.Schema) -> pa.Table:
    if not path.is_file():
        raise AggregateImportError(t("spark.aggregates.missing_file", file=path.name))
    try:
        if fmt == "parquet":
            rows = pq.read_table(path)
        else:
            rows = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types={f.name: f.type for f in schema}, strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError) as exc:
        # Arrow's detail is English and technical: the log keeps it.
        log.warning("could not read %s: %s", path, exc)
        raise AggregateImportError(
            t("spark.aggregates.unreadable_parquet" if fmt == "parquet"
              else "spark.aggregates.unreadable_csv", file=path.name)) from exc
    separator = t("text.list_separator")
    missing = [name for name in schema.names if name not in rows.column_names]
    extra = [name for name in rows.column_names if name not in schema.names]
    if missing or extra:
        raise AggregateImportError(t(
            "spark.aggregates.columns", file=path.name,
            missing=separator.join(missing) or "—", extra=separator.join(extra) or "—"))
    columns = []
    for field in schema:
        try:
            columns.append(rows.column(field.name).cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            log.warning("%s column %s as %s: %s", path, field.name, field.type, exc)
            raise AggregateImportError(t(
                "spark.aggregates.column_type", file=path.name, column=field.name,
                type=str(field.type))) from exc
    return pa.Table.from_arrays(columns, schema=schema)


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise AggregateImportError(t("spark.aggregates.missing_file", file=MANIFEST))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["month_from"] = date.fromisoformat(manifest["month_from"])
        manifest["month_to"] = date.fromisoformat(manifest["month_to"])
        manifest["as_of"] = datetime.fromisoformat(manifest["as_of"])
        manifest["computed_at"] = datetime.fromisoformat(manifest["computed_at"])
        if manifest["format"] not in FORMATS:
            raise ValueError(manifest["format"])
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("could not read %s: %r", path, exc)
        raise AggregateImportError(t("spark.aggregates.bad_manifest", file=MANIFEST)) from exc
    return manifest


def import_aggregates(conn: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Validate every file of the run in folder, then replace the incident_agg_*
    tables in one transaction; table → rows. Raises AggregateImportError with
    nothing changed."""
    manifest = _manifest(folder)
    staged = {
        table: _read(folder / f"{table}.{manifest['format']}", manifest["format"], schema)
        for table, schema in expected_schemas().items()
    }
    cur = conn.cursor()
    try:
        cur.begin()
        try:
            # DDL inside the transaction: a failed import leaves no new tables.
            apply_schema(cur)
            for table, rows in staged.items():
                cur.register("staged_aggregate", rows)
                cur.execute(read_sql(f"{table}_replace"))
                cur.unregister("staged_aggregate")
            cur.execute(read_sql("incident_agg_runs_replace"), {
                "month_from": manifest["month_from"], "month_to": manifest["month_to"],
                "as_of": manifest["as_of"],
                "scope_streets": json.dumps(manifest.get("scope_streets", []),
                                            ensure_ascii=False),
                "engine": str(manifest.get("engine", "")),
                "source": str(manifest.get("source", "")),
                "computed_at": manifest["computed_at"],
                "imported_at": datetime.now(UTC).replace(tzinfo=None),
            })
            db.bump_data_version(cur)
            db.commit(cur)
        except BaseException:
            cur.rollback()
            raise
    finally:
        cur.close()
    return {table: rows.num_rows for table, rows in staged.items()}


def stored_run(conn: duckdb.DuckDBPyConnection) -> AggregateRun | None:
    """The imported run as a page could read it (None when none was
    imported): its period, as-of time, streets, and each table's rows."""
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            known = {row[0] for row in cur.sql("show tables").fetchall()}
            if "incident_agg_runs" not in known:
                return None
            runs = cur.table("incident_agg_runs").to_arrow_table().to_pylist()
            if not runs:
                return None
            tables = {table: cur.table(table).to_arrow_table() for table in AGGREGATES}
    finally:
        cur.close()
    run = runs[0]
    return AggregateRun(
        Period(month_from=run["month_from"], month_to=run["month_to"]), run["as_of"],
        tuple(json.loads(run["scope_streets"])), tables)


@dataclass(frozen=True)
class ImportedRun:
    """What the 平安建设 page needs to know about the imported run."""
    period: Period
    as_of: datetime
    scope_streets: tuple[str, ...]
    engine: str
    source: str
    computed_at: datetime
    imported_at: datetime
    incidents: int
    mean_lat: float | None


def _page_tables_present(cur: duckdb.DuckDBPyConnection) -> bool:
    present = {row[0] for row in cur.sql(read_sql("incident_agg_tables_present")).fetchall()}
    return {"incident_agg_runs", *AGGREGATES} <= present


def imported_run(conn: duckdb.DuckDBPyConnection) -> ImportedRun | None:
    """The imported run's parameters without its rows; None when no run was
    imported, or the run lacks a table the page reads (imported before the
    community-grain tables existed: import it again)."""
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            if not _page_tables_present(cur):
                return None
            rows = cur.sql(read_sql("incident_agg_run_read")).to_arrow_table().to_pylist()
    finally:
        cur.close()
    if not rows:
        return None
    run = rows[0]
    return ImportedRun(
        period=Period(month_from=run["month_from"], month_to=run["month_to"]),
        as_of=run["as_of"], scope_streets=tuple(json.loads(run["scope_streets"])),
        engine=run["engine"], source=run["source"], computed_at=run["computed_at"],
        imported_at=run["imported_at"], incidents=int(run["incidents"] or 0),
        mean_lat=run["mean_lat"])


def imported_map_cells(conn: duckdb.DuckDBPyConnection) -> pa.Table:
    """The run's map cells (its whole scope and range, default cell size)."""
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            return cur.sql(read_sql("incident_agg_map_cells_read")).to_arrow_table()
    finally:
        cur.close()
