"""What every page computes with: the one cached DuckDB connection, the
guard that turns a failure into a Chinese message, and the page context
(database, data version, period, filters, account, applied scenario)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import streamlit as st
from streamlit.errors import FragmentHandledException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from governance import (
    auth,
    backup,
    cluster,
    db,
    publish,
    sample_loader,
    state_store,
    uploads,
)
from governance.indicators import Period, ViewFilter
from governance.scenarios import BASELINE, Scenario
from governance.text import t

log = logging.getLogger("governance.app")


# Cached reads hold at most this many (data version × filter) results.
CACHE_ENTRIES = 64


def db_path_from_argv(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return str(db.resolve_db_path(known.db))


def connection_for(db_path: str) -> duckdb.DuckDBPyConnection:
    """The connection to `db_path`: the working database, held read-write by
    this one process; in cluster mode a published snapshot, read-only
    (governance/publish.py)."""
    if publish.cluster_mode():
        return published_snapshots().connection(db_path)
    return _working_connection(db_path)


@st.cache_resource(show_spinner=False)
def _working_connection(db_path: str) -> duckdb.DuckDBPyConnection:
    conn = db.connect(db_path)
    sample_loader.ensure_sample_loaded(conn)
    backup.recover(conn)  # a killed backup's leftovers; the newest import's backup
    uploads.start(uploads.upload_root(db_path))  # old uploads purged now and periodically
    return conn


@st.cache_resource(show_spinner=False)
def published_snapshots() -> publish.Snapshots:
    """Cluster mode: this process's view of the published snapshots (the
    working database is published first if nothing is yet)."""
    db_path = db_path_from_argv()
    # The cluster command publishes before it starts the apps; only a process
    # started some other way finds nothing yet. The wait for the lock is
    # short: a running import publishes anyway.
    if publish.imports_here() and publish.newest(db_path) is None:
        with contextlib.suppress(state_store.LockTimeout):
            publish.ensure_published(db_path, prepare=cluster.first_start,
                                     timeout_s=publish.FIRST_PUBLISH_LOCK_TIMEOUT_S)
    uploads.start(uploads.upload_root(db_path))  # old uploads purged now and periodically
    return publish.Snapshots(db_path)


def data_path() -> str:
    """What the pages read and cached reads key on: the working database, or
    in cluster mode the newest published snapshot, looked for afresh on each
    call (one stat of its folder), so every rerun moves to a new one."""
    if publish.cluster_mode():
        return str(published_snapshots().current()[0].path)
    return db_path_from_argv()


def connection() -> duckdb.DuckDBPyConnection:
    return connection_for(data_path())


def show_failure(exc: BaseException) -> None:
    """A generic Chinese message for the user; the details go to the log."""
    ref = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s", ref, exc_info=exc)
    st.error(t("error.generic", ref=ref))


def _page_failure(exc: Exception) -> None:
    """A page that failed (run_guarded, _script_error): the message, logged.
    (tests/app/conftest.py re-raises here, so AppTest still sees the failure.)"""
    show_failure(exc)


def _script_error(exc: Exception) -> bool:
    """Streamlit's hook for a failure it catches itself: our message in place
    of its English one ("This app has encountered an error", Ask Google…)."""
    _page_failure(exc)
    return True  # Streamlit's own display is suppressed


def install_error_hook() -> None:
    """Every failure Streamlit catches — in a page run without app.py, in a
    fragment, in a widget callback — goes to _script_error.

    The hook is Streamlit's `on_script_error` (what st.App sets): on this
    run's context, and on the browser session, which hands it to the contexts
    of its later runs (a callback runs before app.py; a fragment reruns alone).
    The session's attribute is not public API: if an upgrade moves it, this
    run is still covered and the browser test of callbacks fails.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    ctx.on_script_error = _script_error
    with contextlib.suppress(Exception):
        from streamlit.runtime import Runtime

        info = Runtime.instance()._session_mgr.get_active_session_info(ctx.session_id)
        if info is not None and getattr(info.session, "_on_script_error", None) is None:
            info.session._on_script_error = _script_error


def run_guarded(run: Callable[[], object]) -> None:
    """Run the shell and the page (app.py) so that every failure ends in the
    Chinese message with a log number, never in Streamlit's English error box.

    st.stop() and st.rerun() raise Streamlit's control-flow exceptions, which
    are not Exceptions and pass through. A fragment's failure is caught by
    Streamlit inside the fragment and shown there by the hook; the run then
    ends quietly.
    """
    install_error_hook()
    try:
        run()
    except FragmentHandledException:
        pass  # already shown by _script_error
    except Exception as exc:  # noqa: BLE001 — the user sees a message, the log the details
        _page_failure(exc)


@dataclass(frozen=True)
class DataKey:
    """Which data a cached read sees: the database, its version, and the signed-in
    account's street scope (None: every street). Every cached read takes one,
    so a scope can never be served another scope's cached result."""

    db_path: str
    version: int
    scope: tuple[str, ...] | None


@dataclass(frozen=True)
class PageContext:
    conn: duckdb.DuckDBPyConnection
    db_path: str
    version: int
    period: Period
    view_filter: ViewFilter
    user: auth.User
    # The what-if scenario applied to every page (BASELINE: policy defaults).
    scenario: Scenario = BASELINE

    @property
    def data(self) -> DataKey:
        return DataKey(self.db_path, self.version, self.user.scope)

    @property
    def standards(self):
        return self.scenario.standards()

    def key(self, widget_key: str) -> str:
        """A widget key that starts afresh (at the scenario's value) when the
        applied scenario changes; the baseline keeps the plain key."""
        return widget_key if self.scenario.is_baseline else f"{widget_key}@{self.scenario.name}"
