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
from governance.contract import Table
from governance.text import t

# The most rows named per file; the count of the rest is still reported.
MAX_NAMED = 200


def community_streets(conn, batch_communities_con=None) -> pa.Table:
    """community_id → street, with priority: the stored communities (0), then
    the batch's communities file (1) for the communities it adds."""
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


def _held_elsewhere_sql(table: Table) -> str:
    """Staged keys (incoming_keys: _row and the key) that the database already
    holds under a community of a street outside $scope_streets: a street
    account may neither take over nor overwrite another street's rows."""
    key = [db.quote_identifier(k) for k in table.key]
    community_id = db.quote_identifier("community_id")
    shown = " || ' / ' || ".join("k." + k + "::varchar" for k in key)
    stored = db.quote_identifier(table.name)
    join = (" inner join " + stored + " as s using (" + ", ".join(key) + ")"
            + " inner join " + db.quote_identifier("communities") + " as c on c."
            + community_id + " = s." + community_id)
    if table.name == "communities":
        join = " inner join " + stored + " as c using (" + community_id + ")"
    return (
        "select k._row, " + shown + ", c." + db.quote_identifier("street")
        + ", count(*) over () from incoming_keys as k" + join
        + " where not list_contains($scope_streets, c." + db.quote_identifier("street") + ")"
        + " order by k._row limit $limit"
    )


def held_elsewhere(conn, item, scope: tuple[str, ...]) -> tuple[list, int]:
    """[(row, key label, key value, street)] of a staged file's keys that
    belong to another street's stored rows (at most MAX_NAMED), and how many.

    Safety months are keyed by their community, which the street check above
    already holds to the scope; every other keyed table is checked here."""
    table = item.table
    if item.con is None or table is None or not table.key or "month" in table.key:
        return [], 0
    keys = item.con.sql(
        "select _row, " + ", ".join(db.quote_identifier(k) for k in table.key)
        + " from staged").to_arrow_table()
    label = "、".join(table.column_by_name[k].label for k in table.key)
    cur = conn.cursor()
    try:
        cur.register("incoming_keys", keys)
        rows = cur.execute(_held_elsewhere_sql(table),
                           {"scope_streets": list(scope), "limit": MAX_NAMED}).fetchall()
        cur.unregister("incoming_keys")
    finally:
        cur.close()
    total = int(rows[0][3]) if rows else 0
    return [(row, label, value, street) for row, value, street, _ in rows], total


def held_reason(street: str) -> str:
    return t("import.held_elsewhere", street=street)


def moved_communities(cur, item) -> list[tuple[str, str, str, str]]:
    """An administrator's communities file that moves stored communities to
    another street: [(community_id, name, street before, street after)], read
    on the caller's cursor (inside the import's transaction, before it
    replaces anything)."""
    if item.con is None:
        return []
    incoming = item.con.sql(db.read_sql("import_staged_streets")).to_arrow_table()
    cur.register("incoming_streets", incoming)
    try:
        return [tuple(row) for row in
                cur.execute(db.read_sql("import_moved_communities")).fetchall()]
    finally:
        cur.unregister("incoming_streets")


def reason(street: str | None, scope: tuple[str, ...]) -> str:
    allowed = "、".join(scope) if scope else t("auth.no_streets")
    if street:
        return t("import.out_of_scope", street=street, allowed=allowed)
    return t("import.out_of_scope.unknown", allowed=allowed)
