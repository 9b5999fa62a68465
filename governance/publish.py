"""Published snapshots: what the app processes of a cluster read.

DuckDB admits one read-write process or many read-only ones on a file, never
readers beside a writer. So in cluster mode no app process keeps the working
database open: an import (from any process or the command line) takes the
import lock (governance/state_store.py), opens the working database
read-write, applies, and publishes the result as a new immutable, versioned
file in `published/` beside it:

    data/published/governance-v000123.duckdb

written by the same `COPY FROM DATABASE` as the backups (backup.copy_database:
a temporary name, fsync, rename), so a snapshot file is complete or absent.
The pointer is the file name: the highest number is the newest. Every app
process opens the newest read-only and looks for a newer one at the start of
each rerun (`Snapshots.current`: one stat of the folder while nothing new
appeared). The newest max(backup.keep_count(), 2) are kept; a process still
reading an older one keeps its open file (Linux frees it on the last close).

Publishing is on for a database once its `published/` folder exists (the
`cluster` command makes it), so a command-line import publishes too without
anyone remembering a switch; an embedded `make run` never makes the folder.

For several hosts, the published folder is copied to each host's local disk
(README: 多台主机); `working_database` maps a copied snapshot back to the
working database's name, where the state store is found.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from governance import backup, db, private_files, state_store
from governance.auth import accounts_path

log = logging.getLogger("governance.publish")

PUBLISHED_DIR_NAME = "published"
CLUSTER_ENV_VAR = "GOVERNANCE_CLUSTER"
IMPORTS_ENV_VAR = "GOVERNANCE_IMPORTS"
# The newest this many snapshots at least are kept, whatever the backup count.
MIN_KEEP = 2
# How long an import waits for another one to finish.
IMPORT_LOCK_TIMEOUT_S = 600
# How long an app process starting with nothing published waits for the lock
# (a running import publishes anyway).
FIRST_PUBLISH_LOCK_TIMEOUT_S = 5
_SNAPSHOT = re.compile(r"^(?P<stem>.+)-v(?P<number>\d{6,})\.duckdb$")


class PublishError(Exception):
    """An import was committed to the working database, but publishing it
    failed; the next import, restore or cluster start publishes it."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    number: int

    @property
    def name(self) -> str:
        return self.path.name


def cluster_mode() -> bool:
    """Whether this app process reads published snapshots ($GOVERNANCE_CLUSTER=1)."""
    return os.environ.get(CLUSTER_ENV_VAR, "").strip() == "1"


def imports_here() -> bool:
    """False on a host that only reads snapshots copied from another
    ($GOVERNANCE_IMPORTS=off): its working database is not the one published."""
    return os.environ.get(IMPORTS_ENV_VAR, "").strip().lower() != "off"


def published_dir(db_path: str | Path) -> Path:
    return Path(db_path).expanduser().resolve().parent / PUBLISHED_DIR_NAME


def is_enabled(db_path: str | Path) -> bool:
    return published_dir(db_path).is_dir()


def snapshot_name(db_path: str | Path, number: int) -> str:
    return Path(db_path).stem + "-v" + format(int(number), "06d") + ".duckdb"


def working_database(path: str | Path) -> Path:
    """The working database a published snapshot was taken from (by name:
    `…/published/<stem>-vNNNNNN.duckdb` → `…/<stem>.duckdb`); any other
    path is itself."""
    path = Path(path)
    match = _SNAPSHOT.match(path.name)
    if match is None or path.parent.name != PUBLISHED_DIR_NAME:
        return path
    return path.parent.parent / (match.group("stem") + ".duckdb")


def list_snapshots(db_path: str | Path) -> list[Snapshot]:
    """Snapshots of this database, oldest first (temporary and other files ignored)."""
    folder = published_dir(db_path)
    stem = Path(db_path).stem
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            match = _SNAPSHOT.match(entry.name)
            if match is not None and match.group("stem") == stem and entry.is_file():
                found.append(Snapshot(Path(entry.path), int(match.group("number"))))
    found.sort(key=lambda s: s.number)
    return found


def newest(db_path: str | Path) -> Snapshot | None:
    found = list_snapshots(db_path)
    return found[-1] if found else None


def prune(db_path: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` (at least MIN_KEEP) snapshots."""
    removed = []
    found = list_snapshots(db_path)
    for old in found[: max(len(found) - max(keep, MIN_KEEP), 0)]:
        old.path.unlink(missing_ok=True)
        removed.append(old.path)
    return removed


def _remove_partials(folder: Path) -> None:
    """What a publish cut short left (the caller holds the import lock, so no
    publish is running)."""
    for entry in folder.iterdir():
        if entry.name.endswith((backup.PARTIAL_SUFFIX, backup.PARTIAL_SUFFIX + ".wal")):
            entry.unlink(missing_ok=True)
            log.warning("removed %s, left by a publish that did not finish", entry)


def publish(conn: duckdb.DuckDBPyConnection) -> Snapshot:
    """Publish conn's (working) database as the next snapshot. The caller
    holds the import lock, so numbers are never taken twice."""
    db_path = db.database_path(conn)
    if db_path is None:
        raise ValueError("an in-memory database cannot be published")
    folder = private_files.private_dir(published_dir(db_path))
    _remove_partials(folder)
    latest = newest(db_path)
    number = 1 if latest is None else latest.number + 1
    target = folder / snapshot_name(db_path, number)
    backup.copy_database(conn, target)
    try:
        prune(db_path, backup.keep_count())
    except OSError:
        log.exception("could not delete old snapshots in %s", folder)
    log.info("published %s", target)
    return Snapshot(target, number)


def _identity(conn: duckdb.DuckDBPyConnection) -> tuple[int, int | None]:
    """What says two copies hold the same data: the data version and the
    newest import (a restore can bring back an older version number)."""
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            latest = cur.execute("select max(import_id) from import_history").fetchall()[0][0]
    finally:
        cur.close()
    return db.data_version(conn), latest


def snapshot_identity(snapshot: Snapshot) -> tuple[int, int | None]:
    conn = duckdb.connect(str(snapshot.path), read_only=True)
    try:
        return _identity(conn)
    finally:
        conn.close()


def store_for(db_path: str | Path) -> state_store.StateStore:
    """The state store of this working database (the accounts file beside
    it, $GOVERNANCE_ACCOUNTS, or $GOVERNANCE_STATE_URL)."""
    return state_store.open_store(accounts_path(working_database(db_path)))


def publish_changes(conn: duckdb.DuckDBPyConnection, db_path: str | Path) -> Snapshot | None:
    """When publishing is on (is_enabled): conn's working database published,
    unless the newest snapshot already holds it. Raises PublishError: what
    conn committed stays committed."""
    if not is_enabled(db_path):
        return None
    try:
        latest = newest(db_path)
        if latest is None or snapshot_identity(latest) != _identity(conn):
            return publish(conn)
        return latest
    except Exception as exc:
        raise PublishError(str(exc)) from exc


@contextmanager
def importing(
    db_path: str | Path,
    *,
    store: state_store.StateStore | None = None,
    timeout_s: float | None = IMPORT_LOCK_TIMEOUT_S,
    prepare: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The working database opened read-write under the import lock, for one
    import; when the block ends and publishing is on (is_enabled), what
    changed is published before the lock is released, so the next import
    never starts from an unpublished state. `prepare(conn)` runs first (the
    CLI's recovery of a killed backup). Raises state_store.LockTimeout when
    another import holds the lock longer than timeout_s, and DuckDB's
    IOException when a process outside the cluster holds the file."""
    store = store or store_for(db_path)
    with store.import_lock(timeout_s):
        conn = db.connect(db_path)
        try:
            if prepare is not None:
                prepare(conn)
            yield conn
            publish_changes(conn, db_path)
        finally:
            conn.close()


def ensure_published(
    db_path: str | Path,
    *,
    store: state_store.StateStore | None = None,
    prepare: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
    timeout_s: float | None = IMPORT_LOCK_TIMEOUT_S,
) -> Snapshot:
    """Turn publishing on for this database and make sure the newest
    snapshot holds what the working database holds (a first start, or an
    import or restore made while no cluster ran). `prepare(conn)` runs on
    the working database first (the first start's sample load)."""
    private_files.private_dir(published_dir(db_path))
    with importing(db_path, store=store, prepare=prepare, timeout_s=timeout_s):
        pass
    latest = newest(db_path)
    assert latest is not None  # importing() published one if there was none
    return latest


class Snapshots:
    """An app process's view of the published snapshots of one database:
    the newest, opened read-only, and a few before it still open for reads
    already under way. Safe from any thread."""

    def __init__(self, db_path: str | Path, keep_open: int = MIN_KEEP):
        self.db_path = Path(db_path)
        self.folder = published_dir(db_path)
        self.keep_open = keep_open
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None  # the folder's (mtime_ns, inode)
        self._newest: Snapshot | None = None
        self._open: dict[Path, duckdb.DuckDBPyConnection] = {}

    def _folder_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.folder.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_ino

    def newest(self) -> Snapshot | None:
        """The newest snapshot; the folder is listed again only when it
        changed (a rename into it changes its mtime)."""
        stamp = self._folder_stamp()
        with self._lock:
            if stamp is not None and stamp == self._seen and self._newest is not None:
                return self._newest
        found = newest(self.db_path)
        with self._lock:
            self._seen, self._newest = stamp, found
        return found

    def connection(self, path: str | Path) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the snapshot at `path` (opened once)."""
        path = Path(path)
        with self._lock:
            conn = self._open.get(path)
            if conn is not None:
                return conn
        conn = duckdb.connect(str(path), read_only=True)
        with self._lock:
            if path in self._open:  # another thread opened it meanwhile
                conn.close()
                return self._open[path]
            self._open[path] = conn
            # Older connections are dropped from here, not closed: a read
            # under way keeps its reference, and the last one closes it.
            for old in sorted(self._open, key=lambda p: p.name)[: -self.keep_open]:
                if old != path:
                    self._open.pop(old)
            return conn

    def current(self) -> tuple[Snapshot, duckdb.DuckDBPyConnection]:
        """The newest snapshot and its connection. Raises FileNotFoundError
        when nothing is published yet."""
        for _ in range(3):  # pruned between listing and opening: look again
            latest = self.newest()
            if latest is None:
                raise FileNotFoundError(self.folder)
            try:
                return latest, self.connection(latest.path)
            except duckdb.IOException:
                with self._lock:
                    self._seen = None
        latest = self.newest()
        if latest is None:
            raise FileNotFoundError(self.folder)
        return latest, self.connection(latest.path)
