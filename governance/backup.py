"""Backups after every committed import, and restoring one.

After an import that changed data, the database is copied through DuckDB itself
(`ATTACH` a new file, `COPY FROM DATABASE`, `DETACH`): the copy reads one
transaction's snapshot, so it is consistent even while other cursors of the
app keep reading or writing. It is written under a temporary name in
`backups/` beside the database file (a private folder, mode 0700), synced to
disk, then renamed into place, so a backup file is either complete or absent.
The newest KEEP_BACKUPS (or $GOVERNANCE_KEEP_BACKUPS; 0 turns backups off)
are kept. In-memory databases are never backed up.

When to take a backup, and what a failed one means (never undoing or hiding
the committed import), is the importer's policy (governance/importer/apply.py).

`restore` replaces the database file with a backup: only while no other
process has the database open, after saving the current file as a
`before-restore-…` backup, atomically (temporary copy in the same folder,
fsync, os.replace), and it checks that the result opens and has the schema.
Backups and the restored database are 0600, whatever the umask.

`recover` runs whenever the database is opened for writing (app start, CLI):
it removes what a backup or restore killed half-way left behind (`….partial`
files, a restore's temporary copy) and takes the backup of the newest import
if there is none (the process was killed between the import's commit and its
backup).

Paths reach SQL only through `sql_string` (ATTACH cannot take a bound
parameter) and database names only through `sql_name`; both refuse control
characters and escape their quote character.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from governance import db, private_files
from governance.contract import TABLES
from governance.text import t

log = logging.getLogger("governance.backup")

KEEP_BACKUPS = 10
KEEP_ENV_VAR = "GOVERNANCE_KEEP_BACKUPS"
BACKUP_DIR_NAME = "backups"
BACKUP_SUFFIX = ".duckdb"
PARTIAL_SUFFIX = ".partial"
BEFORE_RESTORE_PREFIX = "before-restore-"
# Tables a file must hold to count as one of our databases.
REQUIRED_TABLES = ("meta", "import_history", *TABLES)

_STAMP_FORMAT = "%Y%m%dT%H%M%S"
_STAMP = r"(?P<stamp>\d{8}T\d{6})\.(?P<ms>\d{3})Z"
_IMPORT_NAME = re.compile(r"^(?P<stem>.+)-" + _STAMP + r"-import-(?P<id>\d+)\.duckdb$")
_BEFORE_NAME = re.compile(r"^before-restore-(?P<stem>.+)-" + _STAMP + r"\.duckdb$")
_RESTORE_TEMP = re.compile(r"^\.(?P<name>.+)\.restore-[0-9a-f]{8}$")
_ODD = re.compile(r"[\x00-\x1f\x7f]")

# One backup at a time per process: the app may import from two sessions.
_backup_lock = threading.Lock()


class BackupError(Exception):
    """A backup or restore that could not be done; str() is a message for the user."""


class DatabaseBusy(BackupError):
    """Another process has the database open."""


class NotABackup(BackupError):
    """The file named as a backup is missing or is not one of our databases."""


class RestoreFailed(BackupError):
    """The restored file did not open; the previous database was put back."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime  # UTC, naive
    size: int  # bytes
    kind: str  # "import" or "before_restore"
    import_id: int | None  # the import that led to an "import" backup

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    source: Path
    saved_current: Path | None  # the before-restore copy; None when there was no file
    data_version: int
    latest_import_id: int | None


# -- SQL text ------------------------------------------------------------------------


def _refuse_odd(value: str) -> str:
    if not isinstance(value, str) or not value or _ODD.search(value):
        raise BackupError(t("backup.odd_name", value=repr(value)))
    return value


def sql_string(value: str) -> str:
    """The one way a path enters SQL text (ATTACH takes no bound parameter):
    control characters refused, single quotes doubled."""
    return "'" + _refuse_odd(value).replace("'", "''") + "'"


def sql_name(value: str) -> str:
    """A database name (ours, or the file stem DuckDB gave the database) as SQL."""
    return '"' + _refuse_odd(value).replace('"', '""') + '"'


# -- where and how many ----------------------------------------------------------------


def backup_dir(db_path: str | Path) -> Path:
    return Path(db_path).parent / BACKUP_DIR_NAME


def keep_count() -> int:
    """How many backups to keep: $GOVERNANCE_KEEP_BACKUPS (0 = no backups) or KEEP_BACKUPS."""
    raw = os.environ.get(KEEP_ENV_VAR, "").strip()
    if not raw:
        return KEEP_BACKUPS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        log.warning("%s=%r is not a count; keeping %d backups", KEEP_ENV_VAR, raw, KEEP_BACKUPS)
        return KEEP_BACKUPS
    return value


def _stamp(moment: datetime) -> str:
    return moment.strftime(_STAMP_FORMAT) + "." + format(moment.microsecond // 1000, "03d") + "Z"


def _parse_stamp(match: re.Match) -> datetime:
    moment = datetime.strptime(match.group("stamp"), _STAMP_FORMAT)
    return moment.replace(microsecond=int(match.group("ms")) * 1000)


def import_backup_name(db_path: Path, import_id: int, moment: datetime) -> str:
    stamp = _stamp(moment)
    return Path(db_path).stem + "-" + stamp + "-import-" + str(int(import_id)) + BACKUP_SUFFIX


def before_restore_name(db_path: Path, moment: datetime) -> str:
    return BEFORE_RESTORE_PREFIX + Path(db_path).stem + "-" + _stamp(moment) + BACKUP_SUFFIX


def list_backups(db_path: str | Path) -> list[Backup]:
    """Backups of this database (its file name decides), oldest first."""
    db_path = Path(db_path)
    folder = backup_dir(db_path)
    found: list[Backup] = []
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        match = _IMPORT_NAME.match(entry.name)
        kind = "import"
        if match is None:
            match = _BEFORE_NAME.match(entry.name)
            kind = "before_restore"
        if match is None or match.group("stem") != db_path.stem or not entry.is_file():
            continue
        import_id = int(match.group("id")) if kind == "import" else None
        found.append(Backup(entry, _parse_stamp(match), entry.stat().st_size, kind, import_id))
    found.sort(key=lambda b: (b.taken_at, b.name))
    return found


def prune(db_path: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups of each kind; the paths deleted."""
    removed = []
    backups = list_backups(db_path)
    for kind in ("import", "before_restore"):
        mine = [b for b in backups if b.kind == kind]
        for old in mine[: max(len(mine) - keep, 0)]:
            old.path.unlink(missing_ok=True)
            removed.append(old.path)
    return removed


# -- taking a backup -----------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem syncs directories
        _fsync_file(folder)


def _private_dir(folder: Path) -> Path:
    return private_files.private_dir(folder)


def _remove_partial(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _remove_stale_partials(folder: Path, db_path: Path) -> list[Path]:
    """Temporary files of a backup or a before-restore copy cut short (power
    loss, a killed process) — `X.duckdb.partial`, `X.duckdb.partial.wal`,
    `X.duckdb.wal.partial` — of this database only. Only the process holding
    the database writes its backups, one at a time. Returns what was removed."""
    removed = []
    for entry in folder.iterdir():
        name = entry.name.removesuffix(".wal")
        if not name.endswith(PARTIAL_SUFFIX):
            continue
        name = name.removesuffix(PARTIAL_SUFFIX).removesuffix(".wal")
        match = _IMPORT_NAME.match(name) or _BEFORE_NAME.match(name)
        if match is not None and match.group("stem") == db_path.stem:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def copy_database(conn: duckdb.DuckDBPyConnection, target: Path) -> None:
    """A consistent copy of conn's current database written to `target`
    (via a temporary name beside it, synced, then renamed): a backup, or a
    published snapshot (governance/publish.py)."""
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    _remove_partial(partial)
    alias = "backup_" + uuid.uuid4().hex  # unique: backups in two threads never clash
    cur = conn.cursor()
    attached = False
    try:
        with contextlib.suppress(duckdb.Error):  # the copy below is consistent anyway
            cur.execute("checkpoint")
        source = cur.execute("select current_database()").fetchone()[0]
        cur.execute("attach " + sql_string(str(partial)) + " as " + sql_name(alias))
        attached = True
        cur.execute("copy from database " + sql_name(source) + " to " + sql_name(alias))
        cur.execute("detach " + sql_name(alias))
        attached = False
        _fsync_file(partial)
        os.chmod(partial, private_files.FILE_MODE)
        os.replace(partial, target)
        _fsync_dir(target.parent)
    except BaseException:
        if attached:
            with contextlib.suppress(duckdb.Error):
                cur.execute("detach " + sql_name(alias))
        _remove_partial(partial)
        raise
    finally:
        cur.close()


def take_backup(
    conn: duckdb.DuckDBPyConnection, import_id: int, *, moment: datetime | None = None
) -> Path | None:
    """Back up conn's database after import `import_id`; None when it is in
    memory or backups are turned off. Raises on failure."""
    db_path = db.database_path(conn)
    keep = keep_count()
    if db_path is None or keep == 0:
        return None
    moment = moment or datetime.now(UTC).replace(tzinfo=None)
    with _backup_lock:
        folder = _private_dir(backup_dir(db_path))
        _remove_stale_partials(folder, db_path)
        target = folder / import_backup_name(db_path, import_id, moment)
        copy_database(conn, target)
        try:
            prune(db_path, keep)
        except OSError:
            log.exception("could not delete old backups in %s", folder)
    return target


def _remove_stale_restore_copies(db_path: Path) -> list[Path]:
    """A restore's temporary copy of the database (`.NAME.restore-xxxxxxxx`
    beside it) left by a restore killed half-way."""
    removed = []
    for entry in db_path.parent.iterdir():
        match = _RESTORE_TEMP.match(entry.name)
        if match is not None and match.group("name") == db_path.name and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _latest_import(conn: duckdb.DuckDBPyConnection) -> int | None:
    cur = conn.cursor()
    try:
        return cur.execute("select max(import_id) from import_history").fetchone()[0]
    finally:
        cur.close()


def recover(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """On opening the database for writing (the caller holds it, so no backup
    or restore of it is running): remove what a killed backup or restore left
    (`….partial`, a restore's temporary copy) and, when the newest import has
    no backup (killed between its commit and its backup), take it now.
    Returns that backup's path, else None. Never raises: a failure is logged."""
    try:
        db_path = db.database_path(conn)
        if db_path is None:
            return None
        folder = backup_dir(db_path)
        removed = _remove_stale_restore_copies(db_path)
        if folder.is_dir():
            with _backup_lock:
                removed += _remove_stale_partials(folder, db_path)
        for path in removed:
            log.warning("removed %s, left by a backup or restore that did not finish", path)
        latest = _latest_import(conn)
        if latest is None or keep_count() == 0:
            return None
        if any(b.kind == "import" and b.import_id == latest for b in list_backups(db_path)):
            return None
        path = take_backup(conn, int(latest))
        log.warning("import %s had no backup (the process stopped before it was taken);"
                    " backed up now as %s", latest, path)
        return path
    except Exception:  # noqa: BLE001 — opening the database must not fail on this
        log.exception("recovering backups at start failed")
        return None


# -- restoring -------------------------------------------------------------------------


def _missing_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    present = {
        row[0]
        for row in conn.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    }
    return [name for name in REQUIRED_TABLES if name not in present]


def check_backup(source: Path) -> None:
    """Refuse (NotABackup) a file that is not one of our databases."""
    if not source.is_file():
        raise NotABackup(t("backup.not_found", path=str(source)))
    try:
        conn = duckdb.connect(str(source), read_only=True)
    except duckdb.Error as exc:
        raise NotABackup(
            t("backup.not_a_backup", path=str(source), reason=t("backup.reason.unreadable"))
        ) from exc
    try:
        missing = _missing_tables(conn)
        version = None if missing else db.get_meta(conn, "schema_version")
    finally:
        conn.close()
    if missing or version is None:
        reason = t("backup.reason.no_schema", tables="、".join(missing) or "meta.schema_version")
        raise NotABackup(t("backup.not_a_backup", path=str(source), reason=reason))


def resolve_backup(db_path: str | Path, name: str) -> Path:
    """--from: a path to a file, or a name listed by `backups`."""
    given = Path(name).expanduser()
    if given.is_file():
        return given
    listed = backup_dir(db_path) / name
    return listed if listed.is_file() else given


def _hold_file(path: Path) -> int:
    """An exclusive lock on the database file, as DuckDB itself takes one, so
    no process opens it while it is being replaced."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise DatabaseBusy(t("backup.restore_busy", path=str(path))) from exc
    return fd


def _place(source: Path, target: Path) -> None:
    """Copy source over target atomically: temp file in target's folder, fsync, rename."""
    temp = target.with_name("." + target.name + ".restore-" + uuid.uuid4().hex[:8])
    try:
        # Private from its first byte (0600 whatever the umask): it is the database.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private_files.FILE_MODE)
        with os.fdopen(fd, "wb") as writer, open(source, "rb") as reader:
            os.fchmod(writer.fileno(), private_files.FILE_MODE)
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
        # A write-ahead log left beside the old file must not be replayed
        # onto the new one (its contents are in the before-restore copy).
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        os.replace(temp, target)
        _fsync_dir(target.parent)
    finally:
        temp.unlink(missing_ok=True)


def _save_current(db_path: Path, moment: datetime) -> tuple[Path | None, int | None]:
    """Copy the current database to backups/before-restore-…; returns that
    path and a lock on the database file held until the caller releases it."""
    if not db_path.exists():
        return None, None
    folder = _private_dir(backup_dir(db_path))
    target = folder / before_restore_name(db_path, moment)
    try:
        conn = duckdb.connect(str(db_path))
    except duckdb.Error as exc:
        if db.is_lock_error(exc):
            raise DatabaseBusy(t("backup.restore_busy", path=str(db_path))) from exc
        conn = None  # unreadable: copy the bytes as they are, below
        log.warning("database %s does not open (%s); saving its bytes", db_path, exc)
    if conn is not None:
        try:
            with _backup_lock:
                copy_database(conn, target)
        finally:
            conn.close()
        return target, _hold_file(db_path)
    fd = _hold_file(db_path)
    try:
        for suffix in ("", ".wal"):
            old = db_path.with_name(db_path.name + suffix)
            if old.exists():
                partial = target.with_name(target.name + suffix + PARTIAL_SUFFIX)
                shutil.copyfile(old, partial)
                os.chmod(partial, private_files.FILE_MODE)
                _fsync_file(partial)
                os.replace(partial, target.with_name(target.name + suffix))
        _fsync_dir(folder)
    except BaseException:
        os.close(fd)
        raise
    return target, fd


def _verify(db_path: Path) -> tuple[int, int | None]:
    """Open the restored database as the app does; its data version and latest import."""
    conn = db.connect(db_path)
    try:
        missing = _missing_tables(conn)
        if missing or db.get_meta(conn, "schema_version") is None:
            raise RestoreFailed(t("backup.restore_failed", path=str(db_path)))
        latest = conn.execute("select max(import_id) from import_history").fetchone()[0]
        return db.data_version(conn), latest
    finally:
        conn.close()


def restore(db_path: str | Path, source: str | Path) -> RestoreResult:
    """Replace the database file with the backup `source`.

    Raises NotABackup (nothing changed), DatabaseBusy (nothing changed) or
    RestoreFailed (the previous database was put back).
    """
    db_path = Path(os.path.realpath(Path(db_path).expanduser()))
    source = Path(source).expanduser()
    check_backup(source)
    if db_path.exists() and db_path.samefile(source):
        raise NotABackup(
            t("backup.not_a_backup", path=str(source), reason=t("backup.reason.same_file"))
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    saved, fd = _save_current(db_path, datetime.now(UTC).replace(tzinfo=None))
    try:
        _place(source, db_path)
    except OSError as exc:
        raise BackupError(
            t("backup.restore_io", path=str(db_path), detail=exc.strerror or type(exc).__name__)
        ) from exc
    finally:
        if fd is not None:
            os.close(fd)
    try:
        version, latest = _verify(db_path)
    except Exception as exc:
        log.exception("restored database %s does not open", db_path)
        if saved is not None:
            _place(saved, db_path)
        if isinstance(exc, RestoreFailed):
            raise
        raise RestoreFailed(t("backup.restore_failed", path=str(db_path))) from exc
    log.info("restored %s from %s (previous saved as %s)", db_path, source, saved)
    return RestoreResult(db_path, source, saved, version, latest)
