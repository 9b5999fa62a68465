"""Checks of a batch as a whole, after each file is staged: files that would
overwrite each other, and a street account's rows and keys outside its streets.
The upload page shows validate_batch's verdict; import_files applies only a
batch that passes the same checks."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from governance import db, import_scope
from governance.contract import TABLES, Table
from governance.importer.staging import (
    _display_expr,
    _stage,
    _Staged,
    _staged_community_ids,
    _stored_community_ids,
)
from governance.importer.types import (
    MAX_LISTED_PROBLEMS,
    CellProblem,
    ImportReport,
    Progress,
    SourceFile,
)
from governance.text import t


def _table_order(name: str) -> int:
    names = list(TABLES)
    return names.index(name) if name in names else len(names)


def _batch_conflicts(staged: list[_Staged]) -> None:
    """Two files of one batch that would overwrite each other: refuse both."""
    by_table: dict[str, list[_Staged]] = {}
    for item in staged:
        if item.table is not None:
            by_table.setdefault(item.table.name, []).append(item)
    for name, items in by_table.items():
        if len(items) < 2:
            continue
        table = TABLES[name]
        files = "、".join(i.report.file_name for i in items)
        if table.replaces == "table":
            reason = t("import.batch_duplicate_table", table=table.label, files=files)
            for item in items:
                _add_file_problem(item.report, reason)
            continue
        for i, first in enumerate(items):
            for second in items[i + 1 :]:
                if table.replaces == "keys":
                    _shared_keys_conflict(table, first, second)
                    continue
                shared = sorted(set(first.periods) & set(second.periods))
                if not shared:
                    continue
                shown = "、".join(
                    p.strftime("%Y-%m") if isinstance(p, date) else str(p) for p in shared[:6]
                ) + ("…" if len(shared) > 6 else "")
                reason = t(
                    "import.batch_overlap",
                    table=table.label,
                    periods=shown,
                    files=first.report.file_name + "、" + second.report.file_name,
                )
                _add_file_problem(first.report, reason)
                _add_file_problem(second.report, reason)


def _shared_keys_conflict(table: Table, first: _Staged, second: _Staged) -> None:
    """Two files replacing rows by key that share a key: refuse both."""
    if first.con is None or second.con is None:
        return  # a file refused before staging has no keys to compare
    keys = first.con.sql(_staged_keys_sql(table)).to_arrow_table()
    cur = second.con.cursor()  # its own connection: nothing half-read blocks register
    try:
        cur.register("other_keys", keys)
        count, examples = cur.execute(_shared_keys_sql(table)).fetchall()[0]
    finally:
        cur.close()
    if not count:
        return
    shown = "、".join(examples or []) + ("…" if count > 6 else "")
    reason = t(
        "import.batch_shared_keys",
        table=table.label,
        columns="、".join(table.column_by_name[k].label for k in table.key),
        keys=shown,
        count=count,
        files=first.report.file_name + "、" + second.report.file_name,
    )
    _add_file_problem(first.report, reason)
    _add_file_problem(second.report, reason)


def _add_file_problem(report: ImportReport, reason: str) -> None:
    report.problems.insert(0, CellProblem(report.file_name, None, None, None, reason))
    del report.problems[MAX_LISTED_PROBLEMS:]
    report.problem_count += 1


def _staged_keys_sql(table: Table) -> str:
    """The distinct keys of a staged file (replaces == "keys")."""
    keys = [db.quote_identifier(k) for k in table.key]
    return (
        "select distinct " + ", ".join(keys) + " from staged where "
        + " and ".join(k + " is not null" for k in keys)
    )


def _shared_keys_sql(table: Table) -> str:
    """How many of a staged file's keys another file (other_keys) also holds,
    and the first 6 of them as written."""
    matches = " and ".join(
        "o." + db.quote_identifier(k) + " = s." + db.quote_identifier(k) for k in table.key
    )
    shown = " || ' / ' || ".join(
        _display_expr(table.column_by_name[k], "s") for k in table.key
    )
    return (
        "select count(*), (list(shown order by shown))[1:6] from (select distinct "
        + shown
        + " as shown from staged s where exists (select 1 from other_keys o where "
        + matches
        + "))"
    )


def _stage_batch(
    conn: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    order: list[int],
    staged: dict[int, _Staged],
    progress: Progress | None,
    scope: tuple[str, ...] | None = None,
) -> list[_Staged]:
    """Stage every file of a batch (communities first) into `staged`, checking
    references against the batch's own communities file when it has one, and
    the conflicts between files; returns the staged files in `order`."""
    batch_communities = [i for i in order if sources[i].table == "communities"]
    stored_reference: pa.Table | None = None
    for i in order:
        source = sources[i]
        table = TABLES.get(source.table)
        reference = None
        if table is not None and table.references_communities:
            if batch_communities:
                first = staged.get(batch_communities[0])
                if first is not None and first.con is not None:
                    reference = _staged_community_ids(first)
            else:
                if stored_reference is None:
                    stored_reference = _stored_community_ids(conn)
                reference = stored_reference
        staged[i] = _stage(source, reference, progress)
    items = [staged[i] for i in order]
    _batch_conflicts(items)
    if scope is not None:
        _scope_conflicts(conn, items, scope)
    return items


def _scope_conflicts(
    conn: duckdb.DuckDBPyConnection, items: list[_Staged], scope: tuple[str, ...]
) -> None:
    """Rows outside a street account's streets: named, and the batch refused."""
    communities = next((i for i in items if i.table is not None
                        and i.table.name == "communities" and i.con is not None), None)
    streets = import_scope.community_streets(conn, communities.con if communities else None)
    for item in items:
        rows, total = import_scope.out_of_scope_rows(item, streets, scope)
        held, held_total = import_scope.held_elsewhere(conn, item, scope)
        if not total and not held_total:
            continue
        report = item.report
        named = [CellProblem(report.file_name, row, label, value,
                             import_scope.reason(street, scope))
                 for row, label, value, street in rows]
        named += [CellProblem(report.file_name, row, label, value,
                              import_scope.held_reason(street))
                  for row, label, value, street in held]
        named.sort(key=lambda problem: problem.row or 0)
        report.problems[:0] = named
        del report.problems[MAX_LISTED_PROBLEMS:]
        report.problem_count += total + held_total


def validate_batch(
    conn: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    progress: Progress | None = None,
    scope: tuple[str, ...] | None = None,
) -> list[ImportReport]:
    """What import_files would say of this batch, writing nothing; reports in
    the order of `sources`. The upload page shows these, so its verdict and
    the import's agree (a facilities file may cite communities that arrive in
    the same batch; two files may not replace the same rows)."""
    order = sorted(range(len(sources)), key=lambda i: (_table_order(sources[i].table), i))
    staged: dict[int, _Staged] = {}
    try:
        _stage_batch(conn, sources, order, staged, progress, scope)
        return [staged[i].report for i in range(len(sources))]
    finally:
        for item in staged.values():
            item.close()
