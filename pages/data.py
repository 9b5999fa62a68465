"""数据管理: templates, upload → validation report → apply, import history."""

from __future__ import annotations

import streamlit as st

from governance import boundaries, coords, db, exporting, history, importer, reports, sample_rows
from governance.contract import TABLES
from governance.text import escape_markdown, t
from pages import _drawing, _reads, _session, _shell, _uploads

ctx = _shell.page_context("import")
st.title(t("data.title"))
# Filled last, from the data as it stands after this run's import or clear.
banner = st.container()

st.subheader(t("data.templates.title"))
st.caption(t("data.templates.caption"))
for table in TABLES.values():
    # Wide enough for the longest label (社区基本信息 模板（Excel）) on a laptop screen.
    csv_column, xlsx_column, help_column = st.columns([1.3, 1.3, 2.4])
    csv_column.download_button(
        t("data.templates.csv", table=table.label),
        data=_uploads.template_bytes(table.name, "csv"),
        file_name=exporting.template_name(table.label, "csv"),
        mime="text/csv",
        key=f"template_csv_{table.name}",
    )
    xlsx_column.download_button(
        t("data.templates.xlsx", table=table.label),
        data=_uploads.template_bytes(table.name, "xlsx"),
        file_name=exporting.template_name(table.label, "xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"template_xlsx_{table.name}",
    )
    help_column.caption(t("data.replaces", replaces=t(f"replaces.{table.replaces}")))

st.subheader(t("data.upload.title"))
uploads = st.file_uploader(
    t("data.upload.label", size=st.get_option("server.maxUploadSize")), type=["csv", "xlsx"],
    accept_multiple_files=True,
    key="upload_files", help=t("data.upload.help"),
)

sources: list[importer.SourceFile] = []
boxes = []
for upload in uploads or []:
    box = st.container(border=True)
    with box:
        stored = _uploads.store_upload(upload)
        guessed = _uploads.guess_table(stored.path, stored.sha256)
        if guessed:
            st.caption(t("data.upload.detected", table=TABLES[guessed].label))
        else:
            st.warning(t("data.upload.undetected"))
        table_name = st.selectbox(
            t("data.upload.table", file=escape_markdown(upload.name)), list(TABLES),
            index=list(TABLES).index(guessed) if guessed else 0,
            format_func=lambda name: TABLES[name].label,
            key=f"upload_table_{upload.file_id}",
        )
        system = "wgs84"
        if "lon" in TABLES[table_name].column_by_name:
            system = st.selectbox(
                t("data.upload.coords", file=escape_markdown(upload.name)), list(coords.SYSTEMS),
                format_func=lambda s: t(f"coords.{s}"), key=f"upload_coords_{upload.file_id}",
                help=t("data.upload.coords.help"),
            )
    sources.append(
        importer.SourceFile(stored.path, table_name, upload.name, coordinate_system=system)
    )
    boxes.append(box)

# The files are judged together, as the import will judge them.
batch = _uploads.batch_reports(ctx, sources)
for box, report in zip(boxes, batch, strict=True):
    with box:
        _uploads.render_report(report)
all_valid = bool(batch) and all(report.ok for report in batch)

apply_clicked = uploads and st.button(
    t("data.apply"), type="primary", disabled=not all_valid, key="apply_import",
)
if apply_clicked:
    progress_line = st.empty()

    def show_progress(file_name: str, rows: int) -> None:
        progress_line.caption(
            t("data.progress", file=escape_markdown(file_name), rows=f"{rows:,}")
        )

    results = _uploads.run_import(
        lambda conn: importer.import_files(
            conn, sources, applied_by=ctx.user.record_name, progress=show_progress,
            scope=ctx.user.scope,
        )
    )
    progress_line.empty()
    _session.audit(ctx, "import", reports.audit_detail(results or []),
                  "ok" if results and all(r.applied or r.unchanged for r in results)
                  else "refused")
    for line in reports.result_lines(results or []):
        (st.success if line.ok else st.error)(escape_markdown(line.text))
if apply_clicked or not all_valid:  # applied or refused: residents' files leave the disk
    _uploads.discard_uploads(source.path for source in sources)

# Boundaries replace every community's shape: administrators only.
boundary_upload = None
if ctx.user.is_admin:
    st.subheader(t("data.boundaries.title"))
    st.caption(t("data.boundaries.caption"))
    boundary_upload = st.file_uploader(
        t("data.boundaries.label", size=st.get_option("server.maxUploadSize")),
        type=["geojson", "json"], key="upload_boundaries",
    )
if boundary_upload is not None:
    stored = _uploads.store_upload(boundary_upload)
    boundary_system = st.selectbox(
        t("data.upload.coords", file=escape_markdown(boundary_upload.name)), list(coords.SYSTEMS),
        format_func=lambda s: t(f"coords.{s}"), key="boundaries_coords",
    )
    boundary_report = _uploads.boundary_report(ctx, stored, boundary_upload.name, boundary_system)
    _uploads.render_report(boundary_report)
    if st.button(
        t("data.apply"), disabled=not boundary_report.ok, key="apply_boundaries", type="primary"
    ):
        result = _uploads.run_import(
            lambda conn: boundaries.import_boundaries(
                conn, stored.path, user=ctx.user,
                file_name=boundary_upload.name, coordinate_system=boundary_system,
            )
        )
        for line in reports.result_lines([result] if result else []):
            (st.success if line.ok else st.error)(escape_markdown(line.text))
        _uploads.discard_uploads([stored.path])
    if not boundary_report.ok:
        _uploads.discard_uploads([stored.path])

sample_left = _reads.sample_tables(ctx, db.data_version(ctx.conn))
if ctx.user.is_admin and sample_left:
    st.subheader(t("sample.clear.title"))
    st.caption(t("sample.clear.caption", tables=t("text.list_separator").join(
        history.table_label(name) for name in sample_left)))
    confirmed = st.checkbox(t("sample.clear.confirm"), key="sample_clear_confirm")
    if st.button(t("sample.clear.button"), disabled=not confirmed, key="sample_clear"):
        removed = _uploads.run_import(lambda conn: sample_rows.clear(conn, ctx.user))
        if removed is not None:
            _session.audit(ctx, "sample_clear", removed.describe())
            st.success(t("sample.clear.done", tables=removed.describe())
                       if removed.total else t("sample.clear.nothing"))

st.subheader(t("data.history.title"))
history_frame = history.import_history(ctx.conn)
if not ctx.user.is_admin:
    history_frame = history.by_account(history_frame, ctx.user.record_name)
if history_frame.empty:
    st.caption(t("data.history.empty"))
else:
    _drawing.show_table(history_frame, history.column_label)

_shell.sample_banner(ctx, banner, version=db.data_version(ctx.conn))
