"""Downloads: the meeting brief (HTML and Excel) and audited workbook
buttons, each file built only when its button is clicked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import streamlit as st

from governance import (
    brief,
    exporting,
    meetings,
    permissions,
)
from governance.brief_workbook import brief_sheets
from governance.scenarios import Scenario
from governance.text import escape_markdown, t
from pages._context import PageContext
from pages._session import audit


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


def save_meeting_controls(ctx: PageContext, scenario: Scenario) -> None:
    """Save the brief's view as a meeting on record (name, date, a button),
    beside the brief's download; administrators and leaders only."""
    if not permissions.may_save_meetings(ctx.user):
        st.caption(t("meeting.save.read_only"))
        return
    st.markdown("**" + t("meeting.save.title") + "**")
    st.caption(t("meeting.save.caption"))
    name_column, date_column, button_column = st.columns([3, 2, 1])
    name = name_column.text_input(t("meeting.save.name"), key="meeting_name",
                                  max_chars=meetings.NAME_MAX)
    day = date_column.date_input(t("meeting.save.date"), value=date.today(), key="meeting_date",
                                 format="YYYY-MM-DD")
    if button_column.button(t("meeting.save.button"), key="meeting_save"):
        try:
            meeting = meetings.save_meeting(
                ctx.conn, name=name, meeting_date=day, period=ctx.period,
                view_filter=ctx.view_filter, scenario=scenario, user=ctx.user)
        except meetings.MeetingError as problem:
            st.error(str(problem))
            return
        detail = t("audit.meeting_detail", name=meeting.name, date=day.isoformat(),
                   version=meeting.data_version, flagged=len(meeting.flagged))
        audit(ctx, "meeting_save", detail)
        st.success(t("meeting.save.done", name=escape_markdown(meeting.name),
                     date=day.isoformat(), version=meeting.data_version,
                     flagged=f"{len(meeting.flagged):,}"))


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
