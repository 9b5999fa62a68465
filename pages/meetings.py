"""会议记录 / 上次会议以来: pick a meeting on record (default: the last one)
and see how the communities it flagged are doing now; administrators may
delete a meeting. Street accounts see their own communities only."""

from __future__ import annotations

import streamlit as st

from governance import exporting, meetings, permissions
from governance.text import escape_markdown, t
from pages import _drawing, _exports, _session, _shell
from pages._context import PageContext

ctx = _shell.page_context()
st.title(t("meeting.title"))
_shell.sample_banner(ctx)
st.caption(t("meeting.intro"))


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs={PageContext: lambda c: c.data})
def _follow_up(ctx: PageContext, meeting_id: int, meeting_version: int, period, scenario
               ) -> meetings.FollowUp | None:
    """Keyed by the data (version and scope), the meeting list's version, the
    period and the scenario: an import or a meeting saved elsewhere recomputes it."""
    meeting = meetings.load_meeting(ctx.conn, meeting_id)
    if meeting is None:
        return None
    return meetings.follow_up(ctx.conn, meeting, period, scenario, ctx.user.scope)


def _delete(meeting_id: int, name: str) -> None:
    try:
        meetings.delete_meeting(ctx.conn, meeting_id, ctx.user)
    except meetings.MeetingError as problem:
        st.toast(str(problem))
        return
    _session.audit(ctx, "meeting_delete", name)
    st.session_state.pop("meeting_pick", None)
    st.toast(t("meeting.deleted", name=name))


listing = meetings.list_meetings(ctx.conn)
if listing.empty:
    st.info(t("meeting.none"))
    st.stop()

labels = {row["id"]: t("meeting.label", date=row["meeting_date"], name=row["name"])
          for row in listing.to_dict("records")}
if st.session_state.get("meeting_pick") not in labels:
    st.session_state.pop("meeting_pick", None)
picked = st.selectbox(t("meeting.pick"), list(labels), format_func=labels.get,
                      key="meeting_pick", help=t("meeting.pick.help"))
if ctx.user.scope is not None:
    st.caption(t("meeting.scope_note", streets=t("text.list_separator").join(ctx.user.scope)))
st.caption(t("meeting.now_period", period=_shell.period_caption(ctx.period),
             scenario=escape_markdown(ctx.scenario.name or t("scenario.baseline"))))

try:
    result = _follow_up(ctx, int(picked), meetings.meeting_version(ctx.conn), ctx.period,
                        ctx.scenario)
except meetings.MeetingError as problem:
    st.error(str(problem))
    result = None

if result is not None:
    for line in meetings.summary_lines(result):
        st.markdown(escape_markdown(line))
    counts = result.counts
    metrics = st.columns(6)
    for column, (key, value) in zip(metrics, [
        ("flagged", counts["flagged"]), ("now_met", counts["now_met"]),
        ("improved", counts["improved"]), ("still_not_met", counts["still_not_met"]),
        ("worse", counts["worse"]), ("newly_short", counts["newly_short"]),
    ], strict=True):
        column.metric(t(f"meeting.kpi.{key}"), f"{value:,}")
    st.subheader(t("meeting.items.title"))
    _drawing.show_table(meetings.items_for_display(result.items), meetings.column_label,
                        key="meeting_items", empty=t("meeting.items.none"))
    st.subheader(t("meeting.newly.title"))
    _drawing.show_table(meetings.items_for_display(result.newly_short), meetings.column_label,
                        key="meeting_newly", empty=t("meeting.newly.none"))
    st.subheader(t("meeting.districts.title"))
    _drawing.show_table(meetings.districts_for_display(result.districts),
                        meetings.column_label, key="meeting_districts")
    _exports.excel_button(ctx, t("meeting.export"), lambda: meetings.export_sheets(result),
                          file_name=exporting.download_name("meeting", "xlsx"),
                          key="meeting_export")

if permissions.may_delete_meeting(ctx.user):
    confirm = st.checkbox(t("meeting.delete.confirm"), key="meeting_delete_confirm")
    st.button(t("meeting.delete"), key="meeting_delete", disabled=not confirm,
              on_click=_delete, args=(int(picked), listing.set_index("id").loc[picked, "name"]))

st.subheader(t("meeting.list.title"))
_drawing.show_table(listing.drop(columns=["id"]), meetings.column_label, key="meeting_list")
files, size = meetings.snapshot_sizes(ctx.conn)
st.caption(t("meeting.disk", files=f"{files:,}", size=f"{size / 1e6:,.1f}"))
