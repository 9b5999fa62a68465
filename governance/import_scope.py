"""A street account imports only its own streets' rows.

Checked after a batch is staged, before anything is written: every row of a
communities file must name a street in scope, and every row of the other
tables must cite a community (stored, or in the batch's communities file)
whose street is in scope. Rows outside are refused with file, row, column,
value and reason, like any other problem; the whole batch then writes nothing.
"""

from __future__ import annotations

import pyarrow as pa

from governance import db
from governance.text import t

# The most rows named per file; the count of the rest is still reported.
MAX_NAMED = 200


def community_streets(conn, batch_communities_con=None) -> pa.Table:
    """community_id → street: the batch's communities file when it has one
    (it replaces the stored ones in scope), plus the stored communities."""
    cur = conn.cursor()
    try:
        stored = cur.sql(db.read_sql("import_community_streets")).to_arrow_table()
    finally:
        cur.close()
    if batch_communities_con is None:
        return stored
    staged = batch_communities_con.sql(db.read_sql("import_staged_streets")).to_arrow_table()
    return pa.concat_tables([staged, stored])


def out_of_scope_rows(item, streets: pa.Table, scope: tuple[str, ...]) -> tuple[list, int]:
    """[(row, column label, value, street)] of an item's rows outside the
    scope (at most MAX_NAMED), and how many there are in all."""
    table = item.table
    if item.con is None or table is None:
        return [], 0
    params = {"scope_streets": list(scope), "limit": MAX_NAMED}
    if table.name == "communities":
        sql = db.read_sql("import_out_of_scope_communities")
        label = table.column_by_name["street"].label
    elif table.references_communities:
        item.con.register("ref_streets", streets)
        sql = db.read_sql("import_out_of_scope_rows")
        label = table.column_by_name["community_id"].label
    else:
        return [], 0
    try:
        rows = item.con.execute(sql, params).fetchall()
    finally:
        if table.name != "communities":
            item.con.unregister("ref_streets")
    total = int(rows[0][3]) if rows else 0
    return [(row, label, value, street) for row, value, street, _ in rows], total


def reason(street: str | None, scope: tuple[str, ...]) -> str:
    allowed = "、".join(scope) if scope else t("auth.no_streets")
    if street:
        return t("import.out_of_scope", street=street, allowed=allowed)
    return t("import.out_of_scope.unknown", allowed=allowed)
