"""Streamlit glue shared by app.py and the pages: the cached connection, the
sidebar filters, cached reads keyed on the data version, and status styling.

Only composition lives here; every computation is a call into `governance`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from governance import (
    boundaries,
    db,
    exporting,
    facility_view,
    funding_view,
    history,
    importer,
    indicators,
    presentation,
    reports,
    safety,
    safety_view,
    sample,
    scenarios,
    templates,
)
from governance.contract import COMMUNITY_TYPE
from governance.indicators import Period, ViewFilter
from governance.scenarios import BASELINE, Scenario
from governance.text import escape_markdown, t

log = logging.getLogger("governance.app")

# Cached reads hold at most this many (data version × filter) results.
CACHE_ENTRIES = 64
# Uploads hold residents' data: a private folder beside the database, emptied
# of files older than UPLOAD_KEEP_S.
UPLOAD_KEEP_S = 24 * 3600


def db_path_from_argv(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return str(db.resolve_db_path(known.db))


@st.cache_resource(show_spinner=False)
def _connection(db_path: str) -> duckdb.DuckDBPyConnection:
    conn = db.connect(db_path)
    sample.ensure_sample_loaded(conn)
    return conn


def connection() -> duckdb.DuckDBPyConnection:
    return _connection(db_path_from_argv())


def show_failure(exc: BaseException) -> None:
    """A generic Chinese message for the user; the details go to the log."""
    ref = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s", ref, exc_info=exc)
    st.error(t("error.generic", ref=ref))


@dataclass(frozen=True)
class PageContext:
    conn: duckdb.DuckDBPyConnection
    db_path: str
    version: int
    period: Period
    view_filter: ViewFilter
    # The what-if scenario applied to every page (BASELINE: policy defaults).
    scenario: Scenario = BASELINE

    @property
    def standards(self):
        return self.scenario.standards()

    def key(self, widget_key: str) -> str:
        """A widget key that starts afresh (at the scenario's value) when the
        applied scenario changes; the baseline keeps the plain key."""
        return widget_key if self.scenario.is_baseline else f"{widget_key}@{self.scenario.name}"


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _available_periods(db_path: str, version: int) -> tuple[list[int], list[date]]:
    conn = _connection(db_path)
    return indicators.available_years(conn), indicators.available_months(conn)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _streets(db_path: str, version: int) -> list[str]:
    return indicators.list_streets(_connection(db_path))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def _sample_tables(db_path: str, version: int) -> list[str]:
    return sample.sample_tables_present(_connection(db_path))


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
    version = db.data_version(conn)
    years, months = _available_periods(db_path, version)
    with st.sidebar:
        st.header(t("filter.header"))
        st.multiselect(
            t("filter.streets"), _streets(db_path, version),
            key="filter_streets", help=t("filter.streets.help"), placeholder=t("filter.all"),
        )
        st.multiselect(
            t("filter.types"), [c.code for c in COMMUNITY_TYPE.codes],
            format_func=COMMUNITY_TYPE.label_of, key="filter_types",
            help=t("filter.types.help"), placeholder=t("filter.all"),
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


def navigation_pages() -> dict[str, list]:
    return {
        t("nav.section.dashboards"): [
            st.Page("pages/overview.py", title=t("nav.overview"), default=True),
            st.Page("pages/facilities.py", title=t("nav.facilities")),
            st.Page("pages/funding.py", title=t("nav.funding")),
            st.Page("pages/safety.py", title=t("nav.safety")),
            st.Page("pages/scenarios.py", title=t("nav.scenarios")),
        ],
        t("nav.section.data"): [
            st.Page("pages/data.py", title=t("nav.data")),
        ],
    }


def render_shell():
    """Page config, navigation and the shared sidebar filters; returns the page to run.

    app.py calls this on every run. Until st.navigation has run once in a
    server process, Streamlit treats the `pages/` folder as a pages-directory
    app, so the first request for /facilities after a restart runs that file
    without app.py; page_context() then draws the shell itself.
    """
    st.set_page_config(page_title=t("app.title"), layout="wide")
    page = st.navigation(navigation_pages())
    try:
        sidebar_filters()
    except Exception as exc:  # noqa: BLE001 — the user sees a message, the log the details
        show_failure(exc)
        st.stop()
    _shell.rendered = True
    return page


def page_context() -> PageContext:
    """The context a page computes with, read from the sidebar widget keys."""
    if not getattr(_shell, "rendered", False):
        render_shell()
    _shell.rendered = False
    conn = connection()
    db_path = db_path_from_argv()
    version = db.data_version(conn)
    years, months = _available_periods(db_path, version)
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
        conn, db_path, version, Period(year, month_from, month_to), view_filter, scenario
    )


def sample_banner(ctx: PageContext) -> None:
    """What the page is showing: sample data, and the scenario applied, if any."""
    tables = _sample_tables(ctx.db_path, ctx.version)
    if tables:
        labels = "、".join(history.table_label(name) for name in tables)
        st.warning(t("sample.banner", tables=labels), icon="⚠️")
    if not ctx.scenario.is_baseline:
        st.info(t("scenario.applied", name=escape_markdown(ctx.scenario.name),
                  changes="；".join(scenarios.describe(ctx.scenario))), icon=":material/tune:")


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def indicator_values(
    db_path: str, version: int, period: Period, view_filter: ViewFilter,
    scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    return indicators.indicator_values(
        _connection(db_path), period, view_filter, scenario.standards()).to_pandas()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def district_totals(db_path: str, version: int, view_filter: ViewFilter) -> dict:
    return indicators.district_totals(_connection(db_path), view_filter)


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
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    suffix = Path(upload.name).suffix.lower()
    folder = upload_dir()
    path = folder / f"{digest}{suffix}"
    if not path.exists():
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as partial:
            partial.write(data)
        os.replace(partial.name, path)
    return StoredUpload(path, digest)


def upload_dir() -> Path:
    folder = Path(db_path_from_argv()).parent / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    cutoff = time.time() - UPLOAD_KEEP_S
    for old in folder.iterdir():
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()
    return folder


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def guess_table(path: Path, sha256: str) -> str | None:
    return importer.guess_table(path)


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
    key = ("batch", ctx.db_path, ctx.version, files)

    def compute():
        progress_line = st.empty()

        def show_progress(file_name: str, rows: int) -> None:
            progress_line.caption(
                t("data.progress", file=escape_markdown(file_name), rows=f"{rows:,}")
            )

        reports = importer.validate_batch(ctx.conn, sources, progress=show_progress)
        progress_line.empty()
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
        st.dataframe(reports.problems_frame(report), hide_index=True, width="stretch")
        for message in report.messages()[len(report.problems):]:
            st.caption(escape_markdown(message))
    if report.ok and report.preview is not None:
        with st.expander(t("data.preview", n=len(report.preview))):
            st.dataframe(report.preview, hide_index=True, width="stretch")


def period_caption(period: Period) -> str:
    missing = t("filter.no_data")
    return t(
        "overview.period",
        year=period.year or missing,
        month_from=_month_label(period.month_from) if period.month_from else missing,
        month_to=_month_label(period.month_to) if period.month_to else missing,
    )


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def communities(db_path: str, version: int, view_filter: ViewFilter) -> pd.DataFrame:
    return indicators.communities_in_scope(_connection(db_path), view_filter).to_pandas()


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def status_matrix(
    db_path: str, version: int, period: Period, view_filter: ViewFilter,
    scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    values = indicator_values(db_path, version, period, view_filter, scenario)
    matrix = indicators.status_matrix(values, communities(db_path, version, view_filter))
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
    }
    for indicator_id in indicator_ids:
        config[indicator_id] = st.column_config.NumberColumn(
            presentation.indicator_column_label(indicator_id),
            help=presentation.threshold_help(indicator_id, standards),
            format="%.1f",
        )
    return config


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def facilities_in_scope(db_path: str, version: int, view_filter: ViewFilter) -> pd.DataFrame:
    return facility_view.facilities_in_scope(_connection(db_path), view_filter)


# Each what-if combination holds a full points frame: keep few.
@st.cache_data(max_entries=8, show_spinner=False)
def coverage_view(
    db_path: str, version: int, request: facility_view.CoverageRequest, view_filter: ViewFilter
) -> facility_view.CoverageView:
    return facility_view.coverage_view(_connection(db_path), request, view_filter)


def show_table(
    frame: pd.DataFrame, label, key: str | None = None, display=facility_view.for_display
) -> None:
    """A read-only table with Chinese headers and codes shown as words (by `display`)."""
    shown = display(frame).rename(columns=label)
    st.dataframe(shown, hide_index=True, width="stretch", key=key)


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
    db_path: str, version: int, request: funding_view.FundingRequest, view_filter: ViewFilter
) -> funding_view.FundingView:
    return funding_view.funding_view(_connection(db_path), request, view_filter)


@st.cache_data(max_entries=16, show_spinner=False)
def safety_data(
    db_path: str, version: int, period: Period, view_filter: ViewFilter,
    scenario: Scenario = BASELINE,
) -> safety_view.SafetyView:
    return safety_view.safety_view(
        _connection(db_path), period, view_filter, standards=scenario.standards())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def safety_community_months(
    db_path: str, version: int, period: Period, view_filter: ViewFilter, community_id: str
) -> pd.DataFrame:
    return safety.community_months(_connection(db_path), period, community_id, view_filter)


# Each entry holds a map's cells and shapes: keep few.
@st.cache_data(max_entries=8, show_spinner=False)
def incident_map_data(
    db_path: str, version: int, period: Period, view_filter: ViewFilter, cell_m: int,
    categories: tuple[str, ...], mean_lat: float | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return safety_view.incident_map(
        _connection(db_path), period, cell_m, mean_lat, categories, view_filter)


def saved_scenario(ctx: PageContext, name: str) -> Scenario:
    """A saved scenario by name (the baseline if it has just been deleted)."""
    found = _saved_scenario(ctx.db_path, scenarios.scenario_version(ctx.conn), name)
    return found or BASELINE


# Each comparison computes every indicator twice: keep few.
@st.cache_data(max_entries=8, show_spinner=False)
def scenario_comparison(
    db_path: str, version: int, period: Period, view_filter: ViewFilter, scenario: Scenario
) -> scenarios.Comparison:
    return scenarios.compare(_connection(db_path), period, scenario, view_filter)


def _brief(ctx: PageContext, scenario: Scenario):
    from governance import brief  # TEMP until governance/brief.py lands

    return brief.build_brief(
        ctx.conn, ctx.period, ctx.view_filter, scenario, data_version=ctx.version,
        generated_at=datetime.now(),
    )


def brief_html(ctx: PageContext, scenario: Scenario) -> bytes:
    """The meeting brief as one offline HTML file (built when the button is clicked)."""
    from governance import brief  # TEMP

    return brief.render_html(_brief(ctx, scenario)).encode("utf-8")


def brief_workbook(ctx: PageContext, scenario: Scenario) -> bytes:
    from governance import brief  # TEMP

    return exporting.to_excel_bytes(brief.brief_sheets(_brief(ctx, scenario)))
