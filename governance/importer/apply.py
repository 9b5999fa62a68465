"""Applying a batch that passed every check: one transaction replaces what
each file covers (the sample district as a whole when the district's own
communities arrive), records import_history and bumps the data version once;
then a backup is taken, and what a failed backup means is decided here."""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from governance import backup, db, import_scope, sample_rows
from governance.contract import TABLES, Table
from governance.importer.checks import _stage_batch, _staged_keys_sql, _table_order
from governance.importer.staging import _count, _refusal, _Staged
from governance.importer.types import ImportResult, Progress, SourceFile
from governance.text import t

log = logging.getLogger("governance.importer")

INSERT_BATCH_ROWS = 100_000


_DUPLICATE_KEY = re.compile(r'Duplicate key "([^"]*)"')
_BARE_DUPLICATE_KEY = re.compile(r'duplicate key "([^"]*)"')


def _refused_by_keys(sources: list[SourceFile],
                     exc: duckdb.ConstraintException) -> list[ImportResult]:
    log.warning("import refused by a database key: %s", exc)
    match = _DUPLICATE_KEY.search(str(exc))
    labels = {c.name: c.label for table in TABLES.values() for c in table.columns}
    key = "、".join(
        f"{labels.get(name, name)} {value}"
        for name, value in re.findall(r"(\w+): ([^,]*)", match.group(1) if match else "")
    )
    if not key:
        # Inside a transaction DuckDB names only the value ('duplicate key
        # "E2"'): the key's columns come from the batch's table when it has one.
        bare = _BARE_DUPLICATE_KEY.search(str(exc))
        tables = {TABLES[s.table] for s in sources if s.table in TABLES}
        if bare and len(tables) == 1 and next(iter(tables)).key:
            table = next(iter(tables))
            key = "、".join(table.column_by_name[k].label for k in table.key) + " " + bare.group(1)
        elif bare:
            key = bare.group(1)
    key = key or "—"
    reason = t("import.refused_by_key", key=key)
    return [ImportResult(_refusal(s, reason), False, False, None, 0) for s in sources]


def _locked_results(sources: list[SourceFile], path: str) -> list[ImportResult]:
    reason = t("error.db_locked", path=path)
    return [ImportResult(_refusal(s, reason), False, False, None, 0) for s in sources]


def _replace_sql(table: Table) -> str:
    quoted = db.quote_identifier(table.name)
    if table.replaces == "years":
        return (
            "delete from "
            + quoted
            + " where list_contains($periods, "
            + db.quote_identifier("year")
            + ")"
        )
    if table.replaces == "months":
        return (
            "delete from "
            + quoted
            + " where list_contains($periods, "
            + db.quote_identifier("month")
            + ")"
        )
    if table.replaces == "keys":
        # The file's keys are registered on the cursor as incoming_keys.
        matches = " and ".join(
            "k." + db.quote_identifier(k) + " = " + quoted + "." + db.quote_identifier(k)
            for k in table.key
        )
        return (
            "delete from " + quoted + " where exists (select 1 from incoming_keys k where "
            + matches + ")"
        )
    return "delete from " + quoted


def _scoped_replace_sql(table: Table) -> str:
    """_replace_sql narrowed to the rows of $scope_streets (a street account's import)."""
    base = _replace_sql(table)
    joiner = " and " if " where " in base else " where "
    street = db.quote_identifier("street")
    if table.name == "communities":
        return base + joiner + "list_contains($scope_streets, " + street + ")"
    community_id = db.quote_identifier("community_id")
    return (
        base + joiner + community_id + " in (select " + community_id + " from "
        + db.quote_identifier("communities") + " where list_contains($scope_streets, "
        + street + "))"
    )


def _replace(
    cur: duckdb.DuckDBPyConnection, item: _Staged, scope: tuple[str, ...] | None = None
) -> int:
    """Delete what an accepted file replaces (inside the caller's transaction),
    only within `scope` when given; the number of stored rows deleted."""
    table = item.table
    assert table is not None and item.con is not None
    sql = _replace_sql(table) if scope is None else _scoped_replace_sql(table)
    params: dict = {} if scope is None else {"scope_streets": list(scope)}
    if table.replaces in ("years", "months"):
        return _count(cur, sql, {**params, "periods": item.periods})
    if table.replaces == "keys":
        stored = cur.execute(
            "select count(*) from " + db.quote_identifier(table.name)
        ).fetchall()[0][0]
        if not stored:
            return 0  # nothing to replace: the file's keys need not cross over
        # Streamed: a 10-million-event file's keys never sit in Python memory whole.
        keys = item.con.sql(_staged_keys_sql(table)).to_arrow_reader(INSERT_BATCH_ROWS)
        cur.register("incoming_keys", keys)
        try:
            return _count(cur, sql, params or None)
        finally:
            cur.unregister("incoming_keys")
    return _count(cur, sql, params or None)


def _moved_text(moved: list[tuple[str, str, str, str]]) -> str:
    shown = t("text.list_separator").join(
        t("import.moved_one", community_id=community_id, name=name, before=before, after=after)
        for community_id, name, before, after in moved[:10]
    ) + ("…" if len(moved) > 10 else "")
    return t("import.moved", count=len(moved), examples=shown)


def _stored_rows_sql(table: Table) -> str:
    """A staged file's rows as they are stored: a table keyed by file line
    (funding) keeps the row number as line_no."""
    # Sorted: staged is not in file order (DuckDB's joins need not keep it),
    # and unsorted the 10,000,000-event import was no faster and peaked
    # about 250 MB higher (benchmarks/import_throughput.py --incidents).
    if "line_no" in db.STORAGE_KEYS.get(table.name, ()):
        return "select * exclude (_plain) rename (_row as line_no) from staged order by line_no"
    return "select * exclude (_row, _plain) from staged order by _row"


def _orphans_sql(table: Table) -> str:
    quoted = db.quote_identifier(table.name)
    community_id = db.quote_identifier("community_id")
    return (
        "select count(*), (list(distinct " + community_id + " order by " + community_id + "))[1:3]"
        " from "
        + quoted
        + " where "
        + community_id
        + " not in (select "
        + community_id
        + " from "
        + db.quote_identifier("communities")
        + ")"
    )


def _apply(
    conn: duckdb.DuckDBPyConnection,
    batch: list[_Staged],
    results: dict[int, ImportResult],
    *,
    applied_by: str,
    is_sample: bool,
    progress: Progress | None,
    scope: tuple[str, ...] | None = None,
) -> None:
    cur = conn.cursor()
    history: list[dict] = []
    effects: dict[int, list[str]] = {}
    try:
        cur.execute("begin transaction")
        communities_item: _Staged | None = None
        for item in batch:
            table = item.table
            assert table is not None and item.con is not None
            report = item.report
            latest = cur.execute(
                db.read_sql("import_latest"), {"table_name": table.name}
            ).fetchone()
            if (
                latest is not None
                and latest[1] == report.sha256
                and latest[2] == item.source.coordinate_system
            ):
                results[id(item)] = ImportResult(report, False, True, int(latest[0]), 0)
                continue
            # fetchall: a half-read result would block registering Arrow data.
            import_id = int(cur.execute(db.read_sql("import_next_id")).fetchall()[0][0])
            if table.name == "communities" and not is_sample and scope is None:
                # The district's own communities for every street: the sample
                # district leaves whole, every table of it, in this transaction.
                removed = sample_rows.remove(cur)
                if removed.total:
                    effect = t("sample.removed", tables=removed.describe())
                    report.notes.append(effect)
                    effects.setdefault(id(item), []).append(effect)
                moved = import_scope.moved_communities(cur, item)
                if moved:
                    effect = _moved_text(moved)
                    report.notes.append(effect)
                    effects.setdefault(id(item), []).append(effect)
            rows_replaced = _replace(cur, item, scope)
            reader = item.con.sql(_stored_rows_sql(table)).to_arrow_reader(INSERT_BATCH_ROWS)
            cur.register("incoming", reader)
            try:
                cur.execute(
                    "insert into "
                    + db.quote_identifier(table.name)
                    + " by name select *, $import_id as import_id from incoming",
                    {"import_id": import_id},
                ).fetchall()
            finally:
                # After a refused insert the transaction is aborted and even
                # unregistering fails: the insert's own error is the one to raise.
                with contextlib.suppress(duckdb.TransactionException):
                    cur.unregister("incoming")
            # Its rows are in: the staging database goes now, not after the
            # commit. Committing 10,000,000 keyed events merges the primary-key
            # index and briefly holds it twice (about 1 GB); the staging
            # database's 600 MB on top made the import's peak.
            item.close()
            if progress is not None:
                progress(report.file_name, report.rows)
            history.append(
                {
                    "import_id": import_id,
                    "table_name": table.name,
                    "file_name": report.file_name,
                    "sha256": report.sha256,
                    "rows_in_file": report.rows,
                    "rows_replaced": rows_replaced,
                    "applied_by": applied_by,
                    "is_sample": is_sample,
                    "coordinate_system": item.source.coordinate_system,
                    "item": item,
                }
            )
            results[id(item)] = ImportResult(report, True, False, import_id, rows_replaced,
                                             effects=effects.get(id(item), []))
            if table.name == "communities":
                communities_item = item
        if communities_item is not None:
            for other in TABLES.values():
                if not other.references_communities:
                    continue
                count, examples = cur.execute(_orphans_sql(other)).fetchone()
                if count:
                    communities_item.report.notes.append(
                        t(
                            "import.orphans",
                            table=other.label,
                            count=count,
                            examples="、".join(examples or []),
                        )
                    )
        if history and scope is not None and sample_rows.count(cur).total:
            for entry in history:
                entry["item"].report.notes.append(t("sample.street_import_note"))
                results[id(entry["item"])].effects.append(t("sample.street_import_note"))
        applied_at = datetime.now(UTC).replace(tzinfo=None)
        for entry in history:
            item = entry.pop("item")
            entry["applied_at"] = applied_at
            entry["notes"] = "\n".join(item.report.notes) or None
            cur.execute(db.read_sql("import_history_insert"), entry).fetchall()
        if history:
            db.bump_data_version(cur)
        db.commit(cur)
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            cur.execute("rollback")
        raise
    finally:
        cur.close()


def import_files(
    conn: duckdb.DuckDBPyConnection | str | Path,
    sources: list[SourceFile],
    *,
    applied_by: str,
    is_sample: bool = False,
    progress: Progress | None = None,
    scope: tuple[str, ...] | None = None,
) -> list[ImportResult]:
    """Validate every file, then apply all of them in one transaction, or none.

    `scope` (a street account's streets; None: every street) refuses rows of
    other streets and narrows what the files replace to the scope's rows.

    Results come back in the order of `sources`. conn may also be a database
    path; a file locked by another process is then a refusal (error.db_locked).
    """
    if not sources:
        return []
    own: duckdb.DuckDBPyConnection | None = None
    if isinstance(conn, (str, Path)):
        try:
            own = db.connect(conn)
        except duckdb.IOException as exc:
            if db.is_lock_error(exc):
                return _locked_results(sources, str(conn))
            raise
        conn = own
    try:
        return _import_files(
            conn, sources, applied_by=applied_by, is_sample=is_sample, progress=progress,
            scope=scope,
        )
    finally:
        if own is not None:
            own.close()


def _import_files(
    conn: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    *,
    applied_by: str,
    is_sample: bool,
    progress: Progress | None,
    scope: tuple[str, ...] | None = None,
) -> list[ImportResult]:
    order = sorted(range(len(sources)), key=lambda i: (_table_order(sources[i].table), i))
    staged: dict[int, _Staged] = {}
    try:
        items = _stage_batch(conn, sources, order, staged, progress, scope)
        results: dict[int, ImportResult] = {}
        if all(item.report.ok for item in items):
            try:
                _apply(
                    conn,
                    items,
                    results,
                    applied_by=applied_by,
                    is_sample=is_sample,
                    progress=progress,
                    scope=scope,
                )
            except duckdb.IOException as exc:
                if db.is_lock_error(exc):
                    return _locked_results(sources, str(db.database_path(conn) or ":memory:"))
                raise
            except duckdb.ConstraintException as exc:
                # The database's own key held where the checks above let a
                # duplicate through: rolled back, said in Chinese.
                return _refused_by_keys(sources, exc)
            # Committed: keep a copy (never raises; a failure becomes a note).
            back_up_after(conn, list(results.values()))
        out = []
        for i in range(len(sources)):
            item = staged[i]
            out.append(results.get(id(item)) or ImportResult(item.report, False, False, None, 0))
        return out
    finally:
        for item in staged.values():
            item.close()


def import_file(
    conn: duckdb.DuckDBPyConnection | str | Path,
    source: SourceFile,
    *,
    applied_by: str,
    is_sample: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    return import_files(
        conn, [source], applied_by=applied_by, is_sample=is_sample, progress=progress
    )[0]


def back_up_after(conn: duckdb.DuckDBPyConnection, results: list[ImportResult]) -> Path | None:
    """After a committed import, a backup when any file was applied. A failed
    backup never undoes or hides the import: it is logged, and each applied
    file's report and result say so (the data page shows it in red)."""
    applied = [r for r in results if r.applied and r.import_id is not None]
    if not applied:
        return None
    import_id = max(int(r.import_id) for r in applied)
    try:
        started = datetime.now(UTC)
        path = backup.take_backup(conn, import_id)
        if path is not None:
            log.info("backup %s written in %.2f s (%d bytes)", path,
                     (datetime.now(UTC) - started).total_seconds(), path.stat().st_size)
        return path
    except Exception as exc:  # noqa: BLE001 — the committed import must stand
        log.exception("backup after import %s failed", import_id)
        db_path = db.database_path(conn)
        folder = str(backup.backup_dir(db_path)) if db_path else backup.BACKUP_DIR_NAME
        detail = getattr(exc, "strerror", None) or type(exc).__name__
        note = t("backup.failed", folder=folder, detail=detail, import_id=import_id)
        for result in applied:
            result.report.notes.append(note)
            result.warnings.append(note)
        return None
