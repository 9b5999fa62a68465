"""The shipped sample district (示例数据) as one unit in the database.

Rows are sample rows when the import that wrote them is marked `is_sample` in
import_history. The sample leaves whole: when a district's own communities
file is imported for every street, and on an administrator's explicit clear.
Both remove every sample row of every data table, boundaries included, inside
one transaction, and say how many rows of which table went.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from governance import db, permissions
from governance.auth import User
from governance.history import table_label
from governance.text import t


@dataclass(frozen=True)
class SampleRows:
    """Sample rows per table, in contract order (boundaries last)."""

    by_table: dict[str, int] = field(default_factory=dict)

    @property
    def tables(self) -> list[str]:
        return list(self.by_table)

    @property
    def total(self) -> int:
        return sum(self.by_table.values())

    def describe(self) -> str:
        """「社区基本信息 117 行、经费拨付 476 行…」 for reports and the CLI."""
        return t("text.list_separator").join(
            t("sample.removed_table", table=table_label(name), rows=f"{rows:,}")
            for name, rows in self.by_table.items()
        )


def count(cur: duckdb.DuckDBPyConnection) -> SampleRows:
    """What the sample still holds (on the caller's cursor, in its transaction)."""
    rows = cur.execute(db.read_sql("sample_rows_by_table")).fetchall()
    return SampleRows({name: int(n) for name, n in rows})


def tables_present(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Data tables that still hold sample rows: the banner names exactly these."""
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            return count(cur).tables
    finally:
        cur.close()


def remove(cur: duckdb.DuckDBPyConnection) -> SampleRows:
    """Delete every sample row inside the caller's transaction; what went."""
    present = count(cur)
    if present.total:
        cur.execute(db.read_sql("sample_rows_delete")).fetchall()
    return present


def clear(conn: duckdb.DuckDBPyConnection, user: User) -> SampleRows:
    """An administrator's explicit clear: one transaction, bumping the data
    version when anything went. Nothing happens (and nothing is returned)
    when the sample is already gone."""
    if not permissions.may_clear_sample(user):
        raise permissions.NotPermitted(t("sample.clear.not_permitted"))
    cur = conn.cursor()
    try:
        cur.execute("begin transaction")
        try:
            removed = remove(cur)
            if removed.total:
                db.bump_data_version(cur)
            db.commit(cur)
        except BaseException:
            cur.execute("rollback")
            raise
        return removed
    finally:
        cur.close()
