"""Streamlit glue shared by app.py and the pages: the cached connection, the
sidebar filters, cached reads keyed on the data version, and status styling.

Only composition lives here; every computation is a call into `governance`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import pickle
import sys
import threading
import types
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.errors import FragmentHandledException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from governance import (
    auth,
    backup,
    boundaries,
    brief,
    db,
    exporting,
    facility_view,
    funding_view,
    history,
    importer,
    indicators,
    maps,
    presentation,
    reports,
    safety,
    safety_view,
    sample_loader,
    sample_rows,
    scenarios,
    templates,
    upload_guard,
    uploads,
)
from governance.brief_workbook import brief_sheets
from governance.catalogue import Standards
from governance.contract import COMMUNITY_TYPE
from governance.indicators import Period, ViewFilter
from governance.scenarios import BASELINE, Scenario
from governance.text import escape_markdown, t
from pages import _session_cookie

log = logging.getLogger("governance.app")

# Cached reads hold at most this many (data version × filter) results.
CACHE_ENTRIES = 64


def db_path_from_argv(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return str(db.resolve_db_path(known.db))


@st.cache_resource(show_spinner=False)
def _connection(db_path: str) -> duckdb.DuckDBPyConnection:
    conn = db.connect(db_path)
    sample_loader.ensure_sample_loaded(conn)
    backup.recover(conn)  # a killed backup's leftovers; the newest import's backup
    uploads.start(uploads.upload_root(db_path))  # old uploads purged now and periodically
    return conn


def connection() -> duckdb.DuckDBPyConnection:
    return _connection(db_path_from_argv())


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


def _install_error_hook() -> None:
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
    _install_error_hook()
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


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _available_periods(data: DataKey) -> tuple[list[int], list[date]]:
    conn = _connection(data.db_path)
    return (indicators.available_years(conn, data.scope),
            indicators.available_months(conn, data.scope))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _streets(data: DataKey) -> list[str]:
    return indicators.list_streets(_connection(data.db_path), data.scope)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _sample_tables(db_path: str, version: int) -> list[str]:
    return sample_rows.tables_present(_connection(db_path))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def scenario_list(db_path: str, scenario_version: int) -> pd.DataFrame:
    return scenarios.list_scenarios(_connection(db_path))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _saved_scenario(db_path: str, scenario_version: int, name: str) -> Scenario | None:
    return scenarios.load_scenario(_connection(db_path), name)


def _month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def sidebar_filters() -> None:
    """Render the filters every page shares (called once per run by app.py).

    The widgets live in the entry script, so their values hold across pages.
    """
    conn = connection()
    db_path = db_path_from_argv()
    data = DataKey(db_path, db.data_version(conn), current_user().scope)
    years, months = _available_periods(data)
    with st.sidebar:
        st.header(t("filter.header"))
        st.multiselect(
            t("filter.streets"), _streets(data),
            key="filter_streets", help=t("filter.streets.help"), placeholder=t("filter.all"),
            select_all=False,  # its label is English, and picking none already means all
        )
        st.multiselect(
            t("filter.types"), [c.code for c in COMMUNITY_TYPE.codes],
            format_func=COMMUNITY_TYPE.label_of, key="filter_types",
            help=t("filter.types.help"), placeholder=t("filter.all"), select_all=False,
        )
        if years:
            st.selectbox(t("filter.year"), years, key="filter_year", help=t("filter.year.help"))
        if months:
            st.select_slider(
                t("filter.months"), options=months, value=indicators.default_month_range(months),
                format_func=_month_label, key="filter_months", help=t("filter.months.help"),
            )
        names = scenario_list(db_path, scenarios.scenario_version(conn))["name"].tolist()
        st.selectbox(
            t("filter.scenario"), ["", *names], format_func=lambda n: n or t("scenario.baseline"),
            key="filter_scenario", help=t("filter.scenario.help"),
        )


# Whether app.py drew the shell in the current script run (set by render_shell,
# consumed by page_context): app.py and the page it routes to run in one thread.
_shell = threading.local()


def navigation_pages(user: auth.User | None = None) -> dict[str, list]:
    """The pages the account may open (each page checks again for itself)."""
    sections = {
        t("nav.section.dashboards"): [
            st.Page("pages/overview.py", title=t("nav.overview"), default=True),
            st.Page("pages/facilities.py", title=t("nav.facilities")),
            st.Page("pages/funding.py", title=t("nav.funding")),
            st.Page("pages/safety.py", title=t("nav.safety")),
            st.Page("pages/scenarios.py", title=t("nav.scenarios")),
        ],
        t("nav.section.data"): [],
    }
    if user is None or user.can_import:
        sections[t("nav.section.data")].append(st.Page("pages/data.py", title=t("nav.data")))
    if user is None or user.is_admin:
        sections[t("nav.section.data")].append(st.Page("pages/admin.py", title=t("nav.admin")))
    return {name: pages for name, pages in sections.items() if pages}


# Who is signed in, per Streamlit session: the id of a sign-in session of
# accounts.sqlite (governance/auth.py), checked on every run, so a sign-out,
# an expiry (auth.SESSION_MAX_AGE) or a change to the account ends it at once.
# A reload starts a new Streamlit session: the browser's HttpOnly cookie
# (pages/_session_cookie.py) names the same sign-in session.
_SIGNED_IN: dict[str, str] = {}
_SIGNED_IN_LOCK = threading.Lock()
# Session-state keys: a ticket to trade for the cookie, a cookie to expire.
_COOKIE_TICKET = "_sign_in_cookie_ticket"
_COOKIE_CLEAR = "_sign_in_cookie_clear"


def accounts() -> auth.Accounts:
    return auth.Accounts(auth.accounts_path(db_path_from_argv()))


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"


def _through_proxy() -> bool:
    """Whether this session came through a reverse proxy (it says whom for):
    a loopback address then no longer means only this machine's user."""
    try:
        headers = st.context.headers
        found = [headers.get(name) for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP")]
    except Exception:  # noqa: BLE001 — no browser (bare run): no proxy
        return False
    return any(isinstance(value, str) and value for value in found)


def local_mode() -> bool:
    """No account configured: one user on this machine only."""
    return not accounts().any_accounts()


def _sign_in_cookie() -> str | None:
    """The sign-in cookie the browser sent when this session connected."""
    try:
        value = st.context.cookies.get(auth.SESSION_COOKIE)
    except Exception:  # noqa: BLE001 — no browser (bare run): no cookie
        return None
    return value if isinstance(value, str) else None  # AppTest has a stand-in


def current_user() -> auth.User | None:
    """The signed-in account (fresh from the accounts file, so a role change or
    a removal applies at once), the local user in local mode, or None.

    A session without a sign-in of its own takes the browser's cookie: a
    reload within auth.SESSION_MAX_AGE of signing in keeps the sign-in."""
    store = accounts()
    if not store.any_accounts():
        return auth.local_user()
    key = _session_id()
    with _SIGNED_IN_LOCK:
        session = _SIGNED_IN.get(key)
    if session is not None:
        user = store.session_user(session)
        if user is not None:
            return user
        with _SIGNED_IN_LOCK:  # signed out elsewhere, expired, or the account changed
            _SIGNED_IN.pop(key, None)
    cookie = _sign_in_cookie()
    resumed = store.resume(cookie) if cookie else None
    if resumed is not None:
        session, user = resumed
        with _SIGNED_IN_LOCK:
            _SIGNED_IN[key] = session
        store.audit(user.username, "session_resume")
        return user
    if oidc_configured() and st.user.is_logged_in:
        # The identity provider says who; the local account says what they may see.
        return store.get_user(auth.oidc_username(dict(st.user)))
    return None


def oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 — no secrets file at all: not configured
        return False


def _allowed(user: auth.User, need: str) -> bool:
    return {
        "import": user.can_import,
        "scenarios": user.can_edit_scenarios,
        "admin": user.is_admin,
    }[need]


def sign_in(username: str, password: str) -> auth.User | None:
    """Check the password (auth.Accounts.verify) and start a sign-in session;
    the next run hands the browser its cookie (_deliver_cookie)."""
    store = accounts()
    user = store.verify(username, password)
    if user is not None:
        session, ticket = store.start_session(user.username)
        with _SIGNED_IN_LOCK:
            _SIGNED_IN[_session_id()] = session
        st.session_state[_COOKIE_TICKET] = ticket
    return user


def sign_out() -> None:
    """End the sign-in session on the server (every tab and reload of this
    browser with it), then have the browser drop its cookie."""
    with _SIGNED_IN_LOCK:
        session = _SIGNED_IN.pop(_session_id(), None)
    if session is not None:
        store = accounts()
        username = store.end_session(session)
        if username:
            store.audit(username, "sign_out")
        st.session_state.pop(_COOKIE_TICKET, None)
        st.session_state[_COOKIE_CLEAR] = True
    elif oidc_configured() and st.user.is_logged_in:
        accounts().audit(auth.oidc_username(dict(st.user)), "sign_out")
        st.logout()


def _deliver_cookie() -> None:
    """The page script that sets (after a sign-in) or expires (after a
    sign-out) the browser's HttpOnly cookie through serve.py's route."""
    ticket = st.session_state.pop(_COOKIE_TICKET, None)
    if ticket:
        st.html(_session_cookie.set_cookie_script(ticket), unsafe_allow_javascript=True)
    if st.session_state.pop(_COOKIE_CLEAR, None):
        st.html(_session_cookie.clear_cookie_script(), unsafe_allow_javascript=True)


def audit(ctx: PageContext, action: str, detail: str = "", outcome: str = "ok") -> None:
    """One audit line for the signed-in account (local mode: the local user)."""
    accounts().audit(ctx.user.username, action, detail, outcome)


def _sign_in_form() -> None:
    st.title(t("app.title"))
    st.caption(t("auth.sign_in.caption"))
    _deliver_cookie()
    with st.form("sign_in_form"):
        username = st.text_input(t("auth.username"), key="signin_username")
        password = st.text_input(t("auth.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if submitted:
        if sign_in(username, password) is not None:
            st.rerun()
        st.error(t("auth.sign_in.failed"))
    if oidc_configured():
        if st.user.is_logged_in:
            # Signed in at the identity provider, but no local account of that name.
            st.error(t("auth.oidc.no_account"))
            st.button(t("auth.sign_out"), on_click=st.logout, key="oidc_sign_out")
        else:
            st.button(t("auth.oidc.sign_in"), on_click=st.login, key="oidc_sign_in")


def _user_box(user: auth.User) -> None:
    with st.sidebar:
        if local_mode():
            st.caption(t("auth.local_mode", address=st.get_option("server.address") or "127.0.0.1"))
            return
        _deliver_cookie()
        st.caption(t("auth.signed_in_as", name=escape_markdown(user.display_name),
                     role=user.role_label,
                     scope=escape_markdown(auth.scope_text(user.role, user.streets))))
        if st.button(t("auth.sign_out"), key="sign_out"):
            sign_out()
            st.rerun()


def render_shell():
    """Page config, navigation and the shared sidebar filters; returns the page to run.

    app.py calls this on every run. Until st.navigation has run once in a
    server process, Streamlit treats the `pages/` folder as a pages-directory
    app, so the first request for /facilities after a restart runs that file
    without app.py; page_context() then draws the shell itself.
    """
    _install_error_hook()  # also when a page runs without app.py (render_shell's doc)
    st.set_page_config(page_title=t("app.title"), layout="wide")
    if local_mode() and (not auth.is_loopback(st.get_option("server.address"))
                         or _through_proxy()):
        # No accounts but reachable from the network (directly or through a
        # reverse proxy on this machine): refuse to show any data.
        st.error(t("auth.local_mode.exposed"))
        st.stop()
    user = current_user()
    if user is None:
        st.navigation([st.Page(_sign_in_form, title=t("auth.sign_in"))],
                      position="hidden").run()
        st.stop()
    page = st.navigation(navigation_pages(user))
    _user_box(user)
    try:
        sidebar_filters()
    except Exception as exc:  # noqa: BLE001 — the user sees a message, the log the details
        show_failure(exc)
        st.stop()
    _shell.rendered = True
    return page


def page_context(need: str | None = None) -> PageContext:
    """The context a page computes with, read from the sidebar widget keys.

    `need` names what the page requires of the signed-in account ("import",
    "scenarios", "admin"); without it the page stops with a message. Pages
    check this themselves even though the navigation hides them.
    """
    if not getattr(_shell, "rendered", False):
        render_shell()
    _shell.rendered = False
    user = current_user()
    if user is None or (need is not None and not _allowed(user, need)):
        st.error(t("auth.forbidden"))
        st.stop()
    conn = connection()
    db_path = db_path_from_argv()
    version = db.data_version(conn)
    years, months = _available_periods(DataKey(db_path, version, user.scope))
    year = st.session_state.get("filter_year")
    if year not in years:
        year = years[0] if years else None
    month_range = st.session_state.get("filter_months")
    if month_range and month_range[0] in months and month_range[1] in months:
        month_from, month_to = month_range
    else:
        month_from, month_to = indicators.default_month_range(months) or (None, None)
    view_filter = ViewFilter(
        streets=tuple(st.session_state.get("filter_streets") or ()),
        community_types=tuple(st.session_state.get("filter_types") or ()),
    )
    name = st.session_state.get("filter_scenario")
    scenario = (
        _saved_scenario(db_path, scenarios.scenario_version(conn), name) if name else None
    ) or BASELINE
    return PageContext(
        conn, db_path, version, Period(year, month_from, month_to), view_filter, user, scenario
    )


def sample_tables(ctx: PageContext, version: int | None = None) -> list[str]:
    """Tables still holding sample rows at `version` (default: the page's)."""
    return _sample_tables(ctx.db_path, ctx.version if version is None else version)


def sample_banner(ctx: PageContext, container=None, version: int | None = None) -> None:
    """What the page is showing: sample data, and the scenario applied, if any.

    `container` and `version` let a page that changes data (数据管理) draw the
    banner at its top after the change, from the data as it now stands."""
    tables = sample_tables(ctx, version)
    target = container if container is not None else st
    if tables:
        labels = t("text.list_separator").join(history.table_label(name) for name in tables)
        target.warning(t("sample.banner", tables=labels), icon="⚠️")
    if not ctx.scenario.is_baseline:
        changes = t("text.clause_separator").join(scenarios.describe(ctx.scenario))
        target.info(t("scenario.applied", name=escape_markdown(ctx.scenario.name),
                      changes=changes), icon=":material/tune:")


# Indicator values and the community list are computed once per scope and
# narrowed to each street/type filter: a filter change then costs a row filter,
# not every indicator query again (indicators.within_filter says when that holds).
@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _scope_indicator_values(data: DataKey, period: Period, scenario: Scenario) -> pa.Table:
    return indicators.indicator_values(
        _connection(data.db_path), period, ViewFilter(), scenario.standards(), data.scope)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def indicator_values(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    return indicators.within_filter(
        _scope_indicator_values(data, period, scenario), view_filter).to_pandas()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def district_totals(data: DataKey, view_filter: ViewFilter) -> dict:
    return indicators.district_totals(_connection(data.db_path), view_filter, data.scope)


def communities_or_stop(ctx: PageContext) -> dict:
    """The district totals of the filtered view; when the filters match no
    community, a message instead of the page (whose charts and maps need rows)."""
    totals = district_totals(ctx.data, ctx.view_filter)
    if not totals["communities"]:
        st.info(t("overview.empty"))
        st.stop()
    return totals


def status_label(status: str) -> str:
    return t(f"status.{status}")


def dimension_label(dimension: str) -> str:
    return t(f"dimension.{dimension}")



@st.cache_data(max_entries=32, show_spinner=False)
def template_bytes(table_name: str, kind: str) -> bytes:
    if kind == "csv":
        return templates.template_csv_bytes(table_name)
    return templates.template_xlsx_bytes(table_name)


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    sha256: str


def store_upload(upload) -> StoredUpload:
    """Write an upload to a temp file once (named by its hash).

    The importer reads from a path: faster than from memory, and it keeps
    Streamlit's copy the only one held in memory.
    """
    path, digest = uploads.store(upload_dir(), upload.getvalue(),
                                 Path(upload.name).suffix.lower())
    return StoredUpload(path, digest)


def discard_uploads(paths) -> None:
    """Delete stored uploads whose import was applied or refused (Streamlit
    still holds them in memory while they stay in the uploader)."""
    uploads.discard(paths)


def upload_dir() -> Path:
    """This browser session's private upload folder (governance/uploads.py:
    0700, files 0600, removed after the import or by the periodic purge)."""
    return uploads.session_dir(uploads.upload_root(db_path_from_argv()), _session_id())


# Sandboxed read-throughs by (file hash, suffix): governance/upload_guard.py
# reads each upload once in a child process with a memory and time limit
# before this server parses it. A plain bounded cache (the check writes its
# progress to the page while it runs).
_CHECKS: OrderedDict[tuple[str, str], upload_guard.Verdict] = OrderedDict()
_CHECKS_LOCK = threading.Lock()
CHECK_CACHE_ENTRIES = 64
# A file the check refused stands in its batch with this suffix: the importer
# refuses it unread (an unsupported type), so the batch is judged as the import
# would judge it with that file refused, and the report then gives the reason.
_REFUSED_SUFFIX = ".refused"


def check_upload(path: Path, sha256: str) -> upload_guard.Verdict:
    """The sandboxed read-through of a stored upload (run once per file)."""
    key = (sha256, Path(path).suffix.lower())
    with _CHECKS_LOCK:
        if key in _CHECKS:
            _CHECKS.move_to_end(key)
            return _CHECKS[key]
    progress_line = st.empty()

    def show_progress(rows: int) -> None:
        progress_line.caption(t("data.check.progress", rows=f"{rows:,}"))

    verdict = upload_guard.check_file(path, progress=show_progress)
    progress_line.empty()
    with _CHECKS_LOCK:
        _CHECKS[key] = verdict
        while len(_CHECKS) > CHECK_CACHE_ENTRIES:
            _CHECKS.popitem(last=False)
    return verdict


def guess_table(path: Path, sha256: str) -> str | None:
    """The table an upload's header names, from its sandboxed read-through
    (None when the file was refused or names no table)."""
    return check_upload(path, sha256).table


def _refused_report(report: importer.ImportReport, reason: str,
                    stand_in: str) -> importer.ImportReport:
    """A stand-in's report with the check's reason in place of the importer's
    "unsupported type" (the batch's own problems, if any, are kept)."""
    problems = [importer.CellProblem(report.file_name, None, None, None, reason)]
    problems += [p for p in report.problems if p.reason != stand_in]
    return replace(report, problems=problems, notes=[], preview=None)


# Validation reports by (database, data version, file hash, table). A plain
# bounded cache rather than st.cache_data, because validating a large file must
# write its progress to the page while it runs.
_REPORTS: OrderedDict[tuple, importer.ImportReport] = OrderedDict()
_REPORTS_LOCK = threading.Lock()
REPORT_CACHE_ENTRIES = 16

# One import at a time per server: two sessions replacing the same rows would
# otherwise meet as a DuckDB write conflict.
_IMPORT_LOCK = threading.Lock()


def run_import(apply):
    """Run an import under the server's import lock; a failure becomes a message.

    Returns the import's results, or None after showing the failure.
    """
    try:
        with _IMPORT_LOCK:
            return apply()
    except Exception as exc:  # noqa: BLE001 — shown as a message, logged in full
        show_failure(exc)
        return None


def _cached_report(key: tuple, compute):
    with _REPORTS_LOCK:
        if key in _REPORTS:
            _REPORTS.move_to_end(key)
            return _REPORTS[key]
    report = compute()
    with _REPORTS_LOCK:
        _REPORTS[key] = report
        while len(_REPORTS) > REPORT_CACHE_ENTRIES:
            _REPORTS.popitem(last=False)
    return report


def batch_reports(
    ctx: PageContext, sources: list[importer.SourceFile]
) -> list[importer.ImportReport]:
    """Validation of every uploaded file as one batch, shown with progress."""
    if not sources:
        return []
    # Stored uploads are named by their SHA-256 (store_upload), so the stem is the hash.
    files = tuple(
        (Path(s.path).stem, s.table, s.display_name, s.coordinate_system) for s in sources
    )
    key = ("batch", ctx.db_path, ctx.version, ctx.user.scope, files)

    def compute():
        # Each file is first read through in a limited child process; one it
        # refused is never parsed here.
        refused = {}
        for index, source in enumerate(sources):
            path = Path(source.path)
            verdict = check_upload(path, path.stem)
            if not verdict.ok:
                refused[index] = verdict.reason
        judged = [replace(source, path=Path(source.path).with_suffix(_REFUSED_SUFFIX))
                  if index in refused else source for index, source in enumerate(sources)]
        progress_line = st.empty()

        def show_progress(file_name: str, rows: int) -> None:
            progress_line.caption(
                t("data.progress", file=escape_markdown(file_name), rows=f"{rows:,}")
            )

        reports = importer.validate_batch(ctx.conn, judged, progress=show_progress,
                                          scope=ctx.user.scope)
        progress_line.empty()
        stand_in = t("import.unsupported_format", suffix=_REFUSED_SUFFIX)
        for index, reason in refused.items():
            reports[index] = _refused_report(reports[index], reason, stand_in)
        return reports

    return _cached_report(key, compute)


def render_report(report: importer.ImportReport) -> None:
    if report.ok:
        st.success(t("data.validate.ok", rows=f"{report.rows:,}"))
    else:
        st.error(t("data.validate.failed", count=f"{report.problem_count:,}"))
    if report.notes:
        with st.expander(t("data.validate.notes"), expanded=not report.ok):
            for note in report.notes:
                st.markdown("- " + escape_markdown(note))
    if report.problems:
        st.markdown("**" + t("data.validate.errors") + "**")
        # Each reason in full: a wide column, rows as tall as the longest needs.
        widths = {reports.problem_column_label(name): width
                  for name, width in reports.PROBLEM_WIDTHS_PX.items()}
        table(reports.problems_frame(report), row_height=reports.problem_row_height(report),
              height=reports.problem_table_height(report),
              column_config={label: st.column_config.Column(width=width)
                             for label, width in widths.items()})
        for message in report.messages()[len(report.problems):]:
            st.caption(escape_markdown(message))
    if report.ok and report.preview is not None:
        with st.expander(t("data.preview", n=len(report.preview))):
            preview, formats = reports.preview_frame(report)
            table(preview, column_config={
                header: st.column_config.NumberColumn(format=fmt.format, step=fmt.step)
                for header, fmt in formats.items()})


def period_caption(period: Period) -> str:
    missing = t("filter.no_data")
    return t(
        "overview.period",
        year=period.year or missing,
        month_from=_month_label(period.month_from) if period.month_from else missing,
        month_to=_month_label(period.month_to) if period.month_to else missing,
    )


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _scope_communities(data: DataKey) -> pa.Table:
    return indicators.communities_in_scope(_connection(data.db_path), ViewFilter(), data.scope)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def communities(data: DataKey, view_filter: ViewFilter) -> pd.DataFrame:
    return indicators.within_filter(_scope_communities(data), view_filter).to_pandas()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def status_matrix(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    values = indicator_values(data, period, view_filter, scenario)
    matrix = indicators.status_matrix(values, communities(data, view_filter))
    return presentation.with_type_labels(matrix)


MATRIX_LEAD_COLUMNS = presentation.MATRIX_LEAD_COLUMNS
matrix_indicator_ids = presentation.matrix_indicator_ids
matrix_export = presentation.matrix_for_export


def matrix_column_config(indicator_ids: list[str], standards=None) -> dict:
    labels = presentation.lead_column_labels()
    config = {
        "community_name": st.column_config.TextColumn(labels["community_name"], pinned=True),
        "street": st.column_config.TextColumn(labels["street"]),
        "community_type": st.column_config.TextColumn(labels["community_type"]),
        "not_met_count": st.column_config.NumberColumn(labels["not_met_count"], format="%d"),
        "met_share_pct": st.column_config.NumberColumn(labels["met_share_pct"], format="%.0f"),
        "reported_months": st.column_config.TextColumn(
            labels["reported_months"], help=t("indicators.column.reported_months.help")),
        "reporting_note": st.column_config.TextColumn(labels["reporting_note"]),
    }
    for indicator_id in indicator_ids:
        number = presentation.indicator_number_format(indicator_id)
        config[indicator_id] = st.column_config.NumberColumn(
            presentation.indicator_header(indicator_id),
            help=presentation.threshold_help(indicator_id, standards),
            format=number.format, step=number.step,
        )
    return config


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def facilities_in_scope(data: DataKey, view_filter: ViewFilter) -> pd.DataFrame:
    return facility_view.facilities_in_scope(_connection(data.db_path), view_filter, data.scope)


# Each what-if combination holds a full points frame: keep few.
@st.cache_data(max_entries=8, show_spinner=False)
def coverage_view(
    data: DataKey, request: facility_view.CoverageRequest, view_filter: ViewFilter
) -> facility_view.CoverageView:
    return facility_view.coverage_view(
        _connection(data.db_path), request, view_filter, data.scope)


@st.cache_resource(max_entries=8, show_spinner=False)
def coverage_map(
    data: DataKey, request: facility_view.CoverageRequest, view_filter: ViewFilter
) -> maps.MapFigure:
    """The coverage map of coverage_view and its legend (it takes clicks, so it is
    drawn on every run: the deck and its JSON are what is kept)."""
    view = coverage_view(data, request, view_filter)
    proposals = pd.DataFrame([{"lon": p.lon, "lat": p.lat} for p in request.added])
    return maps.coverage_figure(
        view.shapes, facility_view.map_coverage(view), facilities_in_scope(data, view_filter),
        view.points, proposals, focus_type=request.facility_type,
        height_px=maps.COVERAGE_MAP_HEIGHT_PX,
    )


# Turning a table or a figure into page elements costs more than reading its
# data (Styler marshalling, Plotly validation, JSON): a page of them took
# 150–300 ms of the one interpreter every session shares. The drawers below are
# cached on their inputs, so on a hit Streamlit replays the recorded elements,
# for any session. Their inputs come from reads keyed on the data version, so
# an import draws afresh. They draw on the container they are called in
# (`with column:`): replay cannot target a container passed in.
DRAWN_ENTRIES = 128


def _function_name(function: types.FunctionType) -> str:
    """Builders and label functions key the drawers' caches by name, so only
    module-level ones will do: two lambdas of one module would share a name."""
    if "<" in function.__qualname__:
        raise TypeError(f"a drawer takes module-level functions, not {function.__qualname__}")
    return f"{function.__module__}.{function.__qualname__}"


def _content_digest(frame: pd.DataFrame | pd.Series) -> bytes:
    """Every row of a frame: Streamlit hashes a 10,000-row sample of a large one,
    and a drawer must not replay a table whose other rows changed."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((getattr(frame, "columns", None), frame.dtypes, frame.shape)).encode())
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists): their pickle stands in
        digest.update(pickle.dumps(frame))
    return digest.digest()


# Thresholds key the caches by value (their settings are a read-only mapping).
_DRAWER_KEYS = {
    types.FunctionType: _function_name,
    Standards: lambda s: repr((s.indicators, sorted(s.settings.items()))),
    pd.DataFrame: _content_digest,
    pd.Series: _content_digest,
}


def table(data, *, empty: str | None = None, **options) -> None:
    """st.dataframe as every table here draws it: no index, the page's width, a
    missing value read "—" (Streamlit's own placeholder is the English "None"),
    and for a table without rows a caption (`empty`, default 无记录) in place of
    the grid, which would say "empty".

    `data`: a DataFrame or a pandas Styler of one; `options` go to st.dataframe."""
    frame = data.data if isinstance(data, Styler) else data
    if len(frame) == 0:
        st.caption(empty or t("table.empty"))
        return
    st.dataframe(data, hide_index=True, width="stretch", placeholder=t("table.missing"),
                 **options)


@st.cache_resource(max_entries=DRAWN_ENTRIES, show_spinner=False, hash_funcs=_DRAWER_KEYS)
def show_table(
    frame: pd.DataFrame, label, key: str | None = None, display=facility_view.for_display,
    empty: str | None = None,
) -> None:
    """A read-only table with Chinese headers, codes shown as words (by `display`)
    and numbers formatted by their unit; `empty` is said when it has no rows."""
    shown = display(frame)
    formats = presentation.number_formats(shown)
    shown = presentation.rounded_for_display(shown, formats).rename(columns=label)
    column_config = {
        label(name): st.column_config.NumberColumn(format=fmt.format, step=fmt.step)
        for name, fmt in formats.items()
    }
    table(shown, empty=empty, key=key, column_config=column_config)


@st.cache_resource(max_entries=DRAWN_ENTRIES, show_spinner=False, hash_funcs=_DRAWER_KEYS)
def status_table(
    matrix: pd.DataFrame, indicator_ids: tuple[str, ...], scenario: Scenario, key: str,
    height: int | None = None,
) -> None:
    """A community × indicator table, each value cell coloured by its status, with
    the scenario's thresholds in the column tooltips."""
    ids = list(indicator_ids)
    styles = presentation.matrix_cell_styles(matrix, ids)
    matrix = presentation.rounded_for_display(
        matrix, {i: presentation.indicator_number_format(i) for i in ids if i in matrix})
    table(
        matrix.style.apply(lambda _: styles, axis=None),
        height=height or "auto", column_order=presentation.matrix_column_order(matrix, ids),
        column_config=matrix_column_config(ids, scenario.standards()), key=key,
    )


@st.cache_resource(max_entries=DRAWN_ENTRIES, show_spinner=False, hash_funcs=_DRAWER_KEYS)
def chart(build, *args, key: str) -> None:
    """st.plotly_chart of `build(*args)` (a module-level function of presentation)."""
    st.plotly_chart(build(*args), key=key)


def boundary_report(
    ctx: PageContext, stored: StoredUpload, file_name: str, coordinate_system: str
) -> importer.ImportReport:
    """Validation of an uploaded GeoJSON against the stored communities (writes nothing)."""

    def compute():
        cur = ctx.conn.cursor()
        try:
            known = boundaries.known_community_ids(cur)
        finally:
            cur.close()
        report, _ = boundaries.read_boundaries(
            stored.path, known, file_name=file_name, coordinate_system=coordinate_system
        )
        return report

    key = ("boundaries", ctx.db_path, ctx.version, stored.sha256, file_name, coordinate_system)
    return _cached_report(key, compute)


@st.cache_data(max_entries=16, show_spinner=False)
def funding_data(
    data: DataKey, request: funding_view.FundingRequest, view_filter: ViewFilter
) -> funding_view.FundingView:
    return funding_view.funding_view(_connection(data.db_path), request, view_filter, data.scope)


@st.cache_data(max_entries=16, show_spinner=False)
def safety_data(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> safety_view.SafetyView:
    return safety_view.safety_view(
        _connection(data.db_path), period, view_filter, data.scope, scenario.standards())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def safety_community_months(
    data: DataKey, period: Period, view_filter: ViewFilter, community_id: str
) -> pd.DataFrame:
    return safety.community_months(
        _connection(data.db_path), period, community_id, view_filter, data.scope)


# Each entry holds a map's cells and shapes: keep few.
@st.cache_resource(max_entries=8, show_spinner=False)
def incident_map(
    data: DataKey, period: Period, view_filter: ViewFilter, cell_m: int,
    categories: tuple[str, ...], mean_lat: float | None,
) -> tuple[maps.MapFigure, int]:
    """The grid-event map with its legend, and how many cells it draws."""
    shapes, cells = safety_view.incident_map(
        _connection(data.db_path), period, cell_m, mean_lat, categories, view_filter, data.scope)
    figure = maps.incident_figure(shapes, cells, cell_m, height_px=maps.INCIDENT_MAP_HEIGHT_PX)
    return figure, len(cells)


def saved_scenario(ctx: PageContext, name: str) -> Scenario:
    """A saved scenario by name (the baseline if it has just been deleted)."""
    found = _saved_scenario(ctx.db_path, scenarios.scenario_version(ctx.conn), name)
    return found or BASELINE


# Each comparison computes every indicator twice: keep few.
@st.cache_data(max_entries=8, show_spinner=False)
def scenario_comparison(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario
) -> scenarios.Comparison:
    return scenarios.compare(_connection(data.db_path), period, scenario, view_filter, data.scope)


def _brief(ctx: PageContext, scenario: Scenario):
    return brief.build_brief(
        ctx.conn, ctx.period, ctx.view_filter, scenario, data_version=ctx.version,
        generated_at=datetime.now(), scope=ctx.user.scope,
    )


def brief_html(ctx: PageContext, scenario: Scenario) -> bytes:
    """The meeting brief as one offline HTML file (built when the button is clicked)."""
    return brief.render_html(_brief(ctx, scenario)).encode("utf-8")


def brief_workbook(ctx: PageContext, scenario: Scenario) -> bytes:
    return exporting.to_excel_bytes(brief_sheets(_brief(ctx, scenario)))


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_button(ctx: PageContext, label: str, *, data: Callable[[], bytes], file_name: str,
                  key: str, mime: str = XLSX_MIME, container=None) -> None:
    """A download button whose click is written to the audit log (who, what file).

    `data` builds the file when the button is clicked (in its own thread): an
    Excel workbook built on every rerun cost a quarter of each page's time and
    a copy per session in the media store.
    """
    (container or st).download_button(
        label, data=data, file_name=file_name, mime=mime, key=key,
        on_click=audit, args=(ctx, "export", file_name),
    )


def excel_button(ctx: PageContext, label: str, sheets: Callable[[], dict], *,
                 file_name: str, key: str) -> None:
    """An audited download of the workbook `sheets()` describes, built on click."""
    export_button(ctx, label, data=lambda: exporting.to_excel_bytes(sheets()),
                  file_name=file_name, key=key)


def street_names(ctx: PageContext) -> list[str]:
    """The streets the account may see (for pickers)."""
    return _streets(ctx.data)
