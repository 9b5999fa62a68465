"""Uploads on the 数据管理 page: stored once by hash, read through in a
bounded child process, validated as a batch with progress, imported under
the server's import lock, and the validation report drawn."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from governance import (
    backup,
    boundaries,
    importer,
    publish,
    reports,
    state_store,
    templates,
    upload_guard,
    uploads,
)
from governance.text import escape_markdown, t
from pages._context import PageContext, connection, db_path_from_argv, show_failure
from pages._drawing import table
from pages._session import session_id

log = logging.getLogger("governance.app")


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
    return uploads.session_dir(uploads.upload_root(db_path_from_argv()), session_id())


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
# otherwise meet as a DuckDB write conflict. The state store's import lock
# extends this to every process and the command line.
_IMPORT_LOCK = threading.Lock()


def run_import(apply):
    """Run `apply(conn)` on the working database under the import lock shared
    by every process (governance/state_store.py); a failure becomes a message.
    In cluster mode the working database is opened for this import only and
    the result published (governance/publish.py): every process's next rerun
    reads it.

    Returns the import's results, or None after showing the failure.
    """
    db_path = db_path_from_argv()
    if not publish.imports_here():  # a host that reads snapshots copied from another
        st.error(t("publish.imports_elsewhere"))
        return None
    result = None
    try:
        # The wait for another import's lock can be long: say so meanwhile.
        with _IMPORT_LOCK, st.spinner(t("publish.importing")):
            if publish.cluster_mode():
                with publish.importing(db_path, prepare=backup.recover) as conn:
                    result = apply(conn)
                return result
            with publish.store_for(db_path).import_lock(publish.IMPORT_LOCK_TIMEOUT_S):
                conn = connection()
                result = apply(conn)
                # A published/ folder left by a cluster run: it gets this import too.
                publish.publish_changes(conn, db_path)
                return result
    except state_store.LockTimeout:
        st.error(t("cli.import_lock_busy"))
        return None
    except publish.PublishError as exc:
        # Committed already: the results stand, only the other processes lag.
        ref = uuid.uuid4().hex[:8]
        log.error("publishing after an import failed %s", ref, exc_info=exc)
        st.warning(t("publish.failed_after_import", ref=ref))
        return result
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
