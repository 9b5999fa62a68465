"""Import history as the data page shows it."""

from __future__ import annotations

import duckdb
import pandas as pd

from governance.clock import local_time
from governance.contract import TABLES
from governance.db import run_query
from governance.text import has_text, t

HISTORY_COLUMNS = (
    "import_id", "table_name", "file_name", "rows_in_file", "rows_replaced",
    "applied_at", "applied_by", "is_sample", "sha256",
)


def table_label(name: str) -> str:
    """Chinese name of a data table, boundaries included."""
    if name in TABLES:
        return TABLES[name].label
    return t(f"{name}.label") if has_text(f"{name}.label") else name


def import_history(conn: duckdb.DuckDBPyConnection, limit_rows: int = 200) -> pd.DataFrame:
    """Newest first, table names in Chinese, times local (headers by column_label)."""
    frame = run_query(conn, "import_history", {"limit_rows": limit_rows}).to_pandas()
    frame["table_name"] = frame["table_name"].map(table_label)
    frame["applied_at"] = local_time(frame["applied_at"])
    return frame[list(HISTORY_COLUMNS)]


def column_label(name: str) -> str:
    return t(f"history.{name}")


def by_account(history_frame: pd.DataFrame, applied_by: str) -> pd.DataFrame:
    """The history narrowed to one account's imports."""
    return history_frame[history_frame["applied_by"] == applied_by].reset_index(drop=True)
