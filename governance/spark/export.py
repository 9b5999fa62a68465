"""The data contract's tables as Parquet, for Spark (`python -m governance export`).

One folder per table under the output folder (`communities/`, `incidents/`, …),
each a Parquet dataset Spark reads with `spark.read.parquet(folder)`. Grid
events are partitioned by the month they occurred in (`occurred_month=2025-03/`):
a province appends a month as a new folder, and a month's files can be replaced
alone. The partition column is not part of the contract and is dropped again
when Spark registers the table (governance/spark/engine.py), so every query
sees exactly the columns DuckDB sees.

Written through DuckDB's relation API (no SQL text is built): the table names
come from the contract. The files hold residents' data: folders 0700, files
0600 (governance/private_files.py), whatever the umask.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from governance import db
from governance.contract import TABLES
from governance.private_files import private_dir, private_file

PARTITION_COLUMN = "occurred_month"
PARTITIONED = {"incidents": PARTITION_COLUMN}


def export_tables(conn: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write every contract table of conn under out/<table>/; table → rows.
    An existing out/<table>/ folder is replaced whole."""
    private_dir(out)
    written = {}
    cur = conn.cursor()
    # One transaction: every table from the same snapshot, as a backup is.
    try:
        with db.COMMIT_GATE.reading():
            cur.begin()
            for name in TABLES:
                written[name] = _write(cur, name, out / name)
            cur.rollback()
    finally:
        cur.close()
    return written


def _write(cur: duckdb.DuckDBPyConnection, name: str, folder: Path) -> int:
    if folder.exists():
        shutil.rmtree(folder)
    relation = cur.table(name)
    rows = relation.aggregate("count(*)").fetchall()[0][0]
    private_dir(folder)
    # An empty table still needs a file: Spark takes the schema from it.
    if name in PARTITIONED and rows:
        relation = relation.select(
            duckdb.StarExpression(),
            duckdb.FunctionExpression(
                "strftime", duckdb.ColumnExpression("occurred_at"),
                duckdb.ConstantExpression("%Y-%m"),
            ).alias(PARTITION_COLUMN),
        )
        relation.write_parquet(str(folder), partition_by=[PARTITION_COLUMN])
    else:
        relation.write_parquet(str(folder / "part-0.parquet"))
    # DuckDB makes the month folders and files with the umask's modes.
    for path in folder.rglob("*"):
        if path.is_dir():
            private_dir(path)
        else:
            private_file(path)
    return rows
