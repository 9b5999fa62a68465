"""Command line for bureau IT batch loads and for our own checks.

    python -m governance import --db PATH --table NAME FILE
    python -m governance validate --table NAME FILE [--db PATH]
    python -m governance indicators --db PATH [--year Y] [--from YYYY-MM --to YYYY-MM]
                                    [--format csv|json] [--out FILE]
    python -m governance sample --out DIR [--communities N] [--seed S]
    python -m governance clear-sample --db PATH [--yes]
    python -m governance backups --db PATH
    python -m governance restore --db PATH --from BACKUP [--yes]

Exit codes: 0 done or valid; 1 refused or invalid; 2 wrong usage or a file or
database that cannot be opened; 3 an unexpected fault (details only with
GOVERNANCE_DEBUG=1). Never a traceback otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import sys
import traceback
from datetime import date
from pathlib import Path
from typing import TextIO

import duckdb

from governance import (
    auth,
    backup,
    boundaries,
    cli_users,
    cluster,
    coords,
    db,
    importer,
    indicators,
    publish,
    sample,
    sample_rows,
    state_store,
)
from governance.contract import TABLES
from governance.spark import cli as spark_cli
from governance.text import t

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_FAULT = 0, 1, 2, 3

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class UsageError(Exception):
    """A message for the user; exit code 2."""


def _parse_month(value: str) -> date:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UsageError(t("cli.bad_month", value=value))
    return date(int(match.group(1)), int(match.group(2)), 1)


def _existing_file(value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(t("cli.file_not_found", path=value))
    return path


def _open_db(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    db_path = db.resolve_db_path(path)
    if read_only and not db_path.is_file():
        raise UsageError(t("cli.file_not_found", path=str(db_path)))
    try:
        conn = db.connect(db_path, read_only=read_only)
    except duckdb.IOException as exc:
        raise UsageError(t("error.db_locked", path=str(db_path))) from exc
    if not read_only:
        backup.recover(conn)  # a killed backup's leftovers; the newest import's backup
    return conn


def _imports_allowed_here() -> None:
    """A reading host ($GOVERNANCE_IMPORTS=off) serves snapshots copied from
    the data host: a change written here would be published beside them and
    then overwritten by the next copy, so nothing that writes the working
    database runs here, as on the data page."""
    if not publish.imports_here():
        raise UsageError(t("cli.imports_off"))


@contextlib.contextmanager
def _importing(path: str):
    """The working database for an import, under the import lock shared with
    every app process; what it changes is published when publishing is on
    (governance/publish.py)."""
    db_path = db.resolve_db_path(path)
    _imports_allowed_here()
    try:
        with publish.importing(db_path, prepare=backup.recover) as conn:
            yield conn
    except state_store.LockTimeout as exc:
        raise UsageError(t("cli.import_lock_busy")) from exc
    except duckdb.IOException as exc:
        if db.is_lock_error(exc):
            raise UsageError(t("error.db_locked", path=str(db_path))) from exc
        raise


def _print_report(report: importer.ImportReport, out: TextIO) -> None:
    for note in report.notes:
        print("· " + note, file=out)
    for message in report.messages():
        print(message, file=out)


def _cmd_import(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = _existing_file(args.file)
    with _importing(args.db) as conn:
        result = importer.import_file(
            conn,
            importer.SourceFile(path, args.table, coordinate_system=args.coords),
            applied_by=args.by or getpass.getuser(),
        )
    return _finish(result, TABLES[args.table].label, out, err)


def _finish(result: importer.ImportResult, label: str, out: TextIO, err: TextIO) -> int:
    """Print what an import did; the exit code says whether it was refused."""
    report = result.report
    if result.unchanged:
        _print_report(report, out)
        print(t("cli.unchanged", table=label), file=out)
        return EXIT_OK
    if result.applied:
        _print_report(report, out)
        print(
            t(
                "cli.applied", table=label, rows=report.rows,
                replaced=result.rows_replaced, import_id=result.import_id,
            ),
            file=out,
        )
        return EXIT_OK
    _print_report(report, err)
    print(t("cli.refused", file=report.file_name), file=err)
    return EXIT_REFUSED


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = _existing_file(args.file)
    conn = _open_db(args.db, read_only=True) if args.db else None
    try:
        source = importer.SourceFile(path, args.table, coordinate_system=args.coords)
        report = importer.validate_file(source, conn=conn)
    finally:
        if conn is not None:
            conn.close()
    if report.ok:
        _print_report(report, out)
        print(t("cli.valid", file=report.file_name, table=TABLES[args.table].label,
                rows=report.rows), file=out)
        return EXIT_OK
    _print_report(report, err)
    return EXIT_REFUSED


def _operator(args: argparse.Namespace) -> auth.User:
    """Who runs the command line: the server's operator, an administrator
    (whoever can run it can open the database file anyway)."""
    name = getattr(args, "by", None) or getpass.getuser()
    return auth.User(name, name, "admin")


def _cmd_boundaries(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path = _existing_file(args.file)
    with _importing(args.db) as conn:
        result = boundaries.import_boundaries(
            conn, path, user=_operator(args), coordinate_system=args.coords
        )
    return _finish(result, t("boundaries.label"), out, err)


def _cmd_indicators(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # The same engine code on either: Spark runs the translated query files.
    with spark_cli.any_connection(args) as conn:
        frame = indicators.indicators_long(conn, spark_cli.period_for(conn, args))
    if args.format == "parquet":
        if not args.out:
            raise UsageError(t("spark.cli.parquet_needs_out"))
        frame.to_parquet(args.out, index=False)
        return EXIT_OK
    if args.format == "json":
        records = [
            {k: (None if v != v else v) for k, v in row.items()}  # NaN → null
            for row in frame.to_dict(orient="records")
        ]
        text = json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    else:
        text = frame.to_csv(index=False, lineterminator="\n")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        out.write(text)
    return EXIT_OK


def _cmd_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    size = sample.SampleSize(
        communities=args.communities, months=args.months,
        residences_per_community=args.residences, incidents=args.incidents,
    )
    try:
        sample.write_sample(Path(args.out), size, seed=args.seed)
    except ValueError:
        print(t("cli.sample_refused.incidents", incidents=args.incidents), file=err)
        return EXIT_USAGE
    print(t("cli.sample_written", out=args.out, communities=args.communities), file=out)
    return EXIT_OK


def _cmd_clear_sample(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _importing(args.db) as conn:
        cur = conn.cursor()
        try:
            present = sample_rows.count(cur)
        finally:
            cur.close()
        if not present.total:
            print(t("sample.clear.nothing"), file=out)
            return EXIT_OK
        if not args.yes:
            print(t("cli.clear_sample.need_yes", tables=present.describe()), file=err)
            return EXIT_REFUSED
        removed = sample_rows.clear(conn, _operator(args))
        print(t("sample.clear.done", tables=removed.describe()), file=out)
        return EXIT_OK


def _size_text(size: int) -> str:
    return format(size / (1 << 20), ".1f") + " MB"


def _cmd_backups(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    db_path = db.resolve_db_path(args.db)
    folder = backup.backup_dir(db_path)
    keep = backup.keep_count()
    if keep == 0:
        print(t("cli.backups.off"), file=out)
    found = backup.list_backups(db_path)
    if not found:
        print(t("cli.backups.none", folder=str(folder), db=str(db_path)), file=out)
        return EXIT_OK
    print(t("cli.backups.header", db=str(db_path), folder=str(folder), keep=keep), file=out)
    for item in reversed(found):  # newest first
        print(
            t(
                "cli.backups.row",
                time=item.taken_at.strftime("%Y-%m-%d %H:%M:%S"),
                size=_size_text(item.size),
                kind=t("backup.kind." + item.kind),
                import_id="—" if item.import_id is None else item.import_id,
                name=item.name,
            ),
            file=out,
        )
    print(t("cli.backups.hint", db=str(db_path)), file=out)
    return EXIT_OK


def _confirmed(args: argparse.Namespace, db_path: Path, source: Path, out: TextIO) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(t("cli.restore.need_yes", source=str(source), db=str(db_path)))
    print(t("cli.restore.confirm", source=str(source), db=str(db_path)), end="", file=out)
    out.flush()
    return sys.stdin.readline().strip().lower() == "yes"


def _cmd_restore(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _imports_allowed_here()
    db_path = db.resolve_db_path(args.db)
    source = backup.resolve_backup(db_path, args.source)
    if not source.is_file():
        raise UsageError(t("backup.not_found", path=args.source))
    try:
        backup.check_backup(source)
    except backup.NotABackup as exc:
        print(str(exc), file=err)
        return EXIT_REFUSED
    if not _confirmed(args, db_path, source, out):
        print(t("cli.restore.cancelled"), file=out)
        return EXIT_REFUSED
    try:
        # No import may open the database meanwhile; a cluster then reads the result.
        with publish.store_for(db_path).import_lock(publish.IMPORT_LOCK_TIMEOUT_S):
            result = backup.restore(db_path, source)
        if publish.is_enabled(db_path):
            publish.ensure_published(db_path)
    except backup.DatabaseBusy as exc:
        raise UsageError(str(exc)) from exc
    except state_store.LockTimeout as exc:
        raise UsageError(t("cli.import_lock_busy")) from exc
    except backup.NotABackup as exc:
        print(str(exc), file=err)
        return EXIT_REFUSED
    except backup.BackupError as exc:
        print(str(exc), file=err)
        return EXIT_FAULT
    print(
        t(
            "cli.restore.done", db=str(result.database), source=str(result.source),
            import_id="—" if result.latest_import_id is None else result.latest_import_id,
            version=result.data_version,
        ),
        file=out,
    )
    if result.saved_current is not None:
        print(t("cli.restore.saved", saved=str(result.saved_current)), file=out)
    else:
        print(t("cli.restore.no_previous"), file=out)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m governance", description=t("cli.help.description")
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cli_users.add_commands(commands)
    spark_cli.add_commands(commands, spark_cli.Host(UsageError, _open_db, _importing, _parse_month))
    cluster.add_command(commands)
    table_choices = sorted(TABLES)

    cmd = commands.add_parser("import", help=t("cli.help.import"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("--table", required=True, choices=table_choices, help=t("cli.help.table"))
    cmd.add_argument("--by", help=t("cli.help.by"))
    cmd.add_argument("--coords", choices=coords.SYSTEMS, default="wgs84", help=t("cli.help.coords"))
    cmd.add_argument("file", help=t("cli.help.file"))
    cmd.set_defaults(handler=_cmd_import)

    cmd = commands.add_parser("validate", help=t("cli.help.validate"))
    cmd.add_argument("--table", required=True, choices=table_choices)
    cmd.add_argument("--db", help=t("cli.help.validate_db"))
    cmd.add_argument("--coords", choices=coords.SYSTEMS, default="wgs84", help=t("cli.help.coords"))
    cmd.add_argument("file")
    cmd.set_defaults(handler=_cmd_validate)

    cmd = commands.add_parser("boundaries", help=t("cli.help.boundaries"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("--by", help=t("cli.help.by"))
    cmd.add_argument("--coords", choices=coords.SYSTEMS, default="wgs84", help=t("cli.help.coords"))
    cmd.add_argument("file", help=t("cli.help.geojson"))
    cmd.set_defaults(handler=_cmd_boundaries)

    cmd = commands.add_parser("indicators", help=t("cli.help.indicators"))
    cmd.add_argument("--db")
    spark_cli.add_engine_options(cmd)
    cmd.add_argument("--year", type=int, help=t("cli.help.year"))
    cmd.add_argument("--from", dest="month_from", help=t("cli.help.from"))
    cmd.add_argument("--to", dest="month_to", help=t("cli.help.to"))
    cmd.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
    cmd.add_argument("--out", help=t("cli.help.out"))
    cmd.set_defaults(handler=_cmd_indicators)

    cmd = commands.add_parser("sample", help=t("cli.help.sample"))
    cmd.add_argument("--out", required=True)
    cmd.add_argument("--communities", type=int, default=sample.SampleSize().communities)
    cmd.add_argument("--months", type=int, default=sample.SampleSize().months)
    cmd.add_argument(
        "--residences", type=int, default=sample.SampleSize().residences_per_community,
        help=t("cli.help.residences"),
    )
    cmd.add_argument("--incidents", type=int, default=None, help=t("cli.help.incidents"))
    cmd.add_argument("--seed", type=int, default=sample.DEFAULT_SEED)
    cmd.set_defaults(handler=_cmd_sample)

    cmd = commands.add_parser("clear-sample", help=t("cli.help.clear_sample"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("--yes", action="store_true", help=t("cli.help.clear_sample_yes"))
    cmd.set_defaults(handler=_cmd_clear_sample)

    cmd = commands.add_parser("backups", help=t("cli.backups.help"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.set_defaults(handler=_cmd_backups)

    cmd = commands.add_parser("restore", help=t("cli.restore.help"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("--from", dest="source", required=True, help=t("cli.restore.help_from"))
    cmd.add_argument("--yes", action="store_true", help=t("cli.restore.help_yes"))
    cmd.set_defaults(handler=_cmd_restore)
    return parser


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args, out, err)
    except (UsageError, state_store.ConfigError) as exc:
        print(str(exc), file=err)
        return EXIT_USAGE
    except Exception:  # noqa: BLE001 — a message, never a traceback, unless debugging
        if os.environ.get("GOVERNANCE_DEBUG"):
            traceback.print_exc(file=err)
        print(t("error.generic", ref="cli"), file=err)
        return EXIT_FAULT
