"""DuckDB access: schema, identifier quoting, the query runner, data version.

All SQL text lives in `queries/*.sql` (questions) and `governance/sql/*.sql`
(schema and import statements). Values are always bound parameters; the only
identifiers ever spliced into SQL come from the contract's allowlist through
`quote_identifier`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from governance import private_files
from governance.contract import TABLES

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
QUERIES_DIR = PROJECT_DIR / "queries"
FRAGMENTS_DIR = QUERIES_DIR / "fragments"
SQL_DIR = PACKAGE_DIR / "sql"
DEFAULT_DB_PATH = PROJECT_DIR / "data" / "governance.duckdb"
DB_ENV_VAR = "GOVERNANCE_DB"

SCHEMA_VERSION = "1"

log = logging.getLogger("governance.db")

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INCLUDE = re.compile(r"^[ \t]*-- include: ([a-z][a-z0-9_]*)[ \t]*$", re.M)

# Every stored table's key, as schema.sql declares it. A database made before
# the keys were declared gets them on its next read-write connect.
STORAGE_KEYS: dict[str, tuple[str, ...]] = {
    "import_history": ("import_id",),
    "meta": ("key",),
    "communities": ("community_id",),
    "facilities": ("facility_id",),
    "funding": ("import_id", "line_no"),
    "safety": ("community_id", "month"),
    "residences": ("residence_id",),
    "incidents": ("incident_id",),
    "community_boundaries": ("community_id",),
    "scenarios": ("name",),
}

IDENTIFIER_ALLOWLIST: frozenset[str] = frozenset(
    {name for name in TABLES}
    | {column.name for table in TABLES.values() for column in table.columns}
    | set(STORAGE_KEYS)
    | {column for key in STORAGE_KEYS.values() for column in key}
)


class _CommitGate:
    """Reads wait while a commit is in progress, and a commit waits for the
    reads already running.

    Why: DuckDB 2.0 makes a large commit visible in steps. A statement that
    starts while a transaction that deleted rows and appended others is
    committing can see the appended rows but not yet the deletes
    (tests/fault/test_snapshot_reads.py caught it: 185,738 incidents where
    there were 35,738 before and 150,301 after). Every read in this process
    goes through `reading()` (run_query, data_version, the readers pages use)
    and every commit of changed data through `committing()`, so no read starts
    mid-commit. One process owns the database file, so an in-process gate is
    enough."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._committing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._committing)
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                self._condition.notify_all()

    @contextmanager
    def committing(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._committing)
            self._committing = True
            self._condition.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._condition:
                self._committing = False
                self._condition.notify_all()


COMMIT_GATE = _CommitGate()


def commit(cur: duckdb.DuckDBPyConnection) -> None:
    """Commit the cursor's transaction with no read starting meanwhile."""
    with COMMIT_GATE.committing():
        cur.execute("commit")


class QueryError(RuntimeError):
    """A query was called wrongly (unknown name, missing parameter)."""


def resolve_db_path(cli_value: str | None = None) -> Path:
    """--db wins, then $GOVERNANCE_DB, then data/governance.duckdb."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get(DB_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return DEFAULT_DB_PATH


def quote_identifier(name: str) -> str:
    """The one place an identifier enters SQL text: allowlisted, then quoted."""
    if name not in IDENTIFIER_ALLOWLIST:
        raise QueryError(f"identifier not in allowlist: {name!r}")
    return '"' + name.replace('"', '""') + '"'


@cache
def read_sql(name: str) -> str:
    """A statement file under governance/sql/."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def declared_keys(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """table → primary key columns, as the database holds them."""
    cur = conn.cursor()
    try:
        return {name: tuple(columns) for name, columns in
                cur.execute(read_sql("declared_keys")).fetchall()}
    finally:
        cur.close()


def _declare_missing_keys(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Give an older database the keys schema.sql declares; the tables whose
    stored rows hold duplicates (so no key can be declared) are returned and
    logged, and stay as they are until those rows are corrected."""
    held = declared_keys(conn)
    blocked = []
    cur = conn.cursor()
    try:
        columns = {row[0] for row in cur.execute(
            "select column_name from information_schema.columns"
            " where table_name = 'funding' and table_schema = 'main'").fetchall()}
        if "line_no" not in columns:
            cur.execute(read_sql("migrate_funding_line_no")).fetchall()
        for table, key in STORAGE_KEYS.items():
            if held.get(table) == key:
                continue
            statement = (
                "alter table " + quote_identifier(table) + " add primary key ("
                + ", ".join(quote_identifier(column) for column in key) + ")"
            )
            try:
                cur.execute(statement).fetchall()
            except duckdb.ConstraintException:
                log.error("table %s holds duplicate keys %s: no primary key declared",
                          table, key)
                blocked.append(table)
    finally:
        cur.close()
    return blocked


def apply_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(read_sql("schema"))
    _declare_missing_keys(conn)
    cur = conn.cursor()
    try:
        cur.execute("begin transaction")
        if get_meta(cur, "schema_version") is None:
            set_meta(cur, "schema_version", SCHEMA_VERSION)
            set_meta(cur, "data_version", "0")
        cur.execute("commit")
    finally:
        cur.close()


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database file and bring its schema up.
    Read-write, the file (and its write-ahead log) is made 0600 and a folder
    created for it 0700 (governance/private_files.py)."""
    path = Path(path)
    if not read_only:
        private_files.database_dir(
            path.parent, ours=path.parent.resolve() == DEFAULT_DB_PATH.parent)
    conn = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        for made in (path, path.with_name(path.name + ".wal")):
            private_files.private_file(made)
        apply_schema(conn)
    return conn


# A connection's file never changes (nothing here runs USE): asked on every
# page run through the state store, the catalogue query is asked once.
_DATABASE_PATHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DATABASE_PATHS_LOCK = threading.Lock()


def database_path(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind conn's current database; None for an in-memory one."""
    with _DATABASE_PATHS_LOCK:
        if conn in _DATABASE_PATHS:
            return _DATABASE_PATHS[conn]
    cur = conn.cursor()
    try:
        row = cur.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchall()
    finally:
        cur.close()
    path = None if not row or not row[0][0] or row[0][0] == ":memory:" else Path(row[0][0])
    with _DATABASE_PATHS_LOCK:
        _DATABASE_PATHS[conn] = path
    return path


def is_lock_error(exc: BaseException) -> bool:
    """DuckDB's refusal to open a file another process holds."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.IOException) and ("lock" in text or "conflicting" in text)


def connect_memory() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    apply_schema(conn)
    return conn


def get_meta(cur: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = cur.execute("select value from meta where key = $key", {"key": key}).fetchone()
    return None if row is None else row[0]


def set_meta(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cur.execute("delete from meta where key = $key", {"key": key})
    cur.execute("insert into meta values ($key, $value)", {"key": key, "value": value})


def data_version(conn: duckdb.DuckDBPyConnection) -> int:
    """Bumped by every applied import; caches key on it."""
    cur = conn.cursor()
    try:
        with COMMIT_GATE.reading():
            value = get_meta(cur, "data_version")
    finally:
        cur.close()
    return int(value or 0)


DATA_UID_KEY = "data_uid"


def content_id(conn: duckdb.DuckDBPyConnection) -> tuple[str, int] | None:
    """(data uid, data version): names the data's content, in any copy of the
    database; None for a database no import has bumped (a fixture), whose
    content nothing names, and for the Spark engine's stand-in connection
    (governance/spark/engine.py), which runs query files only."""
    if not isinstance(conn, duckdb.DuckDBPyConnection):
        return None
    cur = conn.cursor()
    try:
        with COMMIT_GATE.reading():
            rows = dict(cur.execute(
                "select key, value from meta where key in ('data_version', $uid)",
                {"uid": DATA_UID_KEY}).fetchall())
    finally:
        cur.close()
    if rows.get(DATA_UID_KEY) is None:
        return None
    return rows[DATA_UID_KEY], int(rows.get("data_version") or 0)


def bump_data_version(cur: duckdb.DuckDBPyConnection) -> int:
    """Inside the caller's transaction."""
    version = int(get_meta(cur, "data_version") or 0) + 1
    set_meta(cur, "data_version", str(version))
    # A restore brings an older version number back and imports then count up
    # through numbers already used: the uid tells those versions apart (meetings.py).
    set_meta(cur, DATA_UID_KEY, uuid.uuid4().hex)
    return version


@dataclass(frozen=True)
class QueryFile:
    name: str
    sql: str  # as run: every `-- include:` replaced by its fragment
    parameters: frozenset[str]
    header: str
    fragments: tuple[str, ...] = ()


def query_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))


def fragment_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in FRAGMENTS_DIR.glob("*.sql")))


def _leading_comment(text: str) -> tuple[str, str]:
    """(the opening comment block, the rest) of a SQL file."""
    lines = text.splitlines()
    n = 0
    while n < len(lines) and lines[n].startswith("--"):
        n += 1
    return "\n".join(lines[:n]), "\n".join(lines[n:])


def load_fragment(name: str, _including: tuple[str, ...] = ()) -> str:
    """queries/fragments/<name>.sql without its opening comment, composed: one
    or more named CTEs, each followed by a comma, to stand in a `with` list."""
    if not _QUERY_NAME.match(name) or name not in fragment_names():
        raise QueryError(f"unknown fragment: {name!r}")
    if name in _including:
        raise QueryError(f"fragment includes itself: {' → '.join((*_including, name))}")
    _, body = _leading_comment((FRAGMENTS_DIR / f"{name}.sql").read_text(encoding="utf-8"))
    return compose(body.strip("\n"), (*_including, name))[0]


def compose(sql: str, _including: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]]:
    """A query's text with each `-- include: NAME` line replaced by the named
    fragment (as dbt composes models): the rule is written once, and the text
    that runs, on DuckDB or translated for another engine, is plain SQL.
    Returns the text and the fragments it includes, directly or not."""
    used: list[str] = []

    def expand(match: re.Match) -> str:
        text = load_fragment(match.group(1), _including)
        used.append(match.group(1))
        used.extend(_INCLUDE.findall(
            (FRAGMENTS_DIR / f"{match.group(1)}.sql").read_text(encoding="utf-8")))
        return text

    return _INCLUDE.sub(expand, sql), tuple(dict.fromkeys(used))


@cache
def load_query(name: str) -> QueryFile:
    if not _QUERY_NAME.match(name) or name not in query_names():
        raise QueryError(f"unknown query: {name!r}")
    text = (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
    header = "\n".join(
        line[2:].strip() for line in text.splitlines() if line.startswith("--")
    )
    sql, fragments = compose(text)
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return QueryFile(name, sql, frozenset(_PARAMETER.findall(body)), header, fragments)


def run_query(
    conn: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None
) -> pa.Table:
    """Run queries/<name>.sql with bound parameters on a fresh cursor → Arrow.

    Parameters the query does not use are dropped (callers pass one shared set);
    a parameter it uses but was not given is an error, never a silent NULL.
    """
    query = load_query(name)
    params = dict(params or {})
    missing = query.parameters - params.keys()
    if missing:
        raise QueryError(f"{name}: missing parameters {sorted(missing)}")
    bound = {key: params[key] for key in query.parameters}
    cur = conn.cursor()
    try:
        with COMMIT_GATE.reading():
            return cur.sql(query.sql, params=bound or None).to_arrow_table()
    finally:
        cur.close()
