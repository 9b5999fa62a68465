"""会议记录 / 上次会议以来 through AppTest: a meeting saved from the brief on the
sample district, then an import that corrects December 2025 — fixing one
community's 民警下沉时长 and breaking another's 重大刑事案件 — then the page.

Hand-computed from data/sample/safety.csv over the default period (the latest
12 months, 2025-01 .. 2025-12): 340403001007 reported police hours summing to
357 (29.75 a month, below the floor of 30); adding 3 hours to December makes
360 / 12 = 30.0, met. 340403001001 had no major criminal case in those months
(S04 met); one in December makes S04 = 1, not met."""

from __future__ import annotations

import csv
from datetime import date

from streamlit.testing.v1 import AppTest

from governance import auth, db, importer, meetings, scenarios
from governance.indicators import Period, ViewFilter
from governance.text import t
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR, SAMPLE_DIR

FIXED = "340403001007"
BROKEN = "340403001001"
PASSWORD = "correct horse battery staple"


def _safety_rows() -> list[dict]:
    with open(SAMPLE_DIR / "safety.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _names() -> dict[str, tuple[str, str]]:
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        return {r["community_id"]: (r["community_name"], r["street"])
                for r in csv.DictReader(handle)}


def _correct_december(db_path, folder) -> None:
    """Re-import 2025-12 for every community (a month is replaced whole), two changed."""
    rows = [r for r in _safety_rows() if r["month"] == "2025-12"]
    year = [r for r in _safety_rows() if r["community_id"] == FIXED and r["month"] >= "2025-01"]
    total = sum(float(r["police_hours"]) for r in year)
    assert total == 357.0  # the figure the module doc works from
    for row in rows:
        if row["community_id"] == FIXED:
            row["police_hours"] = str(float(row["police_hours"]) + 360.0 - total)
        if row["community_id"] == BROKEN:
            assert row["major_criminal_cases"] == "0"
            row["major_criminal_cases"] = "1"
    path = folder / "平安月报_2025-12_更正.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = importer.import_file(str(db_path), importer.SourceFile(path, "safety"),
                                  applied_by="tester")
    assert result.applied, result.report


def _table(at, column: str):
    """The dataframe whose headers include `column`, headers as shown."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def _row(frame, community_id: str, indicator_id: str) -> dict:
    name = _names()[community_id][0]
    rows = [r for r in frame.to_dict("records")
            if r[t("meeting.column.community_name")] == name
            and r[t("meeting.column.indicator_id")].startswith(indicator_id + " ")]
    assert len(rows) == 1, frame
    return rows[0]


def _open_meetings(at: AppTest) -> AppTest:
    at.switch_page("pages/meetings.py").run()
    assert not at.exception, at.exception
    return at


def test_save_from_the_brief_then_an_import_then_the_follow_up(app, app_db, tmp_path):
    app.switch_page("pages/scenarios.py").run()
    assert not app.exception, app.exception
    app.text_input(key="meeting_name").input("年度督办会")
    app.button(key="meeting_save").click().run()
    assert not app.exception, app.exception
    assert any("年度督办会" in s.value for s in app.success), [s.value for s in app.success]

    conn = db.connect(app_db)
    try:
        meeting = meetings.latest_meeting(conn)
    finally:
        conn.close()
    assert meeting.period == Period(2025, date(2025, 1, 1), date(2025, 12, 1))
    flagged = set(zip(meeting.flagged["community_id"], meeting.flagged["indicator_id"],
                      strict=True))
    assert (FIXED, "S07") in flagged and (BROKEN, "S04") not in flagged

    # Before any import the follow-up shows nothing new.
    page = _open_meetings(app)
    metrics = {m.label: m.value for m in page.metric}
    assert metrics[t("meeting.kpi.flagged")] == f"{len(meeting.flagged):,}"
    assert metrics[t("meeting.kpi.now_met")] == "0"
    assert metrics[t("meeting.kpi.newly_short")] == "0"

    _correct_december(app_db, tmp_path)
    page = _open_meetings(app)
    metrics = {m.label: m.value for m in page.metric}
    assert metrics[t("meeting.kpi.now_met")] == "1"
    assert metrics[t("meeting.kpi.newly_short")] == "1"
    assert metrics[t("meeting.kpi.improved")] == metrics[t("meeting.kpi.worse")] == "0"
    # Nothing else moved: every other flagged item is still not met.
    assert metrics[t("meeting.kpi.still_not_met")] == f"{len(meeting.flagged) - 1:,}"
    newly = _table(page, t("meeting.column.outcome"))[1]
    # The flagged list is long (a page at a time): look the community up.
    page.text_input(key="meeting_items__search").input(_names()[FIXED][0]).run()
    items = _table(page, t("meeting.column.outcome"))[0]
    fixed = _row(items, FIXED, "S07")
    assert fixed[t("meeting.column.value_then")] == 29.8  # 29.75, one decimal, half up
    assert fixed[t("meeting.column.value_now")] == 30.0
    assert fixed[t("meeting.column.outcome")] == t("meeting.outcome.now_met")
    assert "更正" in fixed[t("meeting.column.reason")]
    assert "2025-12" in fixed[t("meeting.column.reason")]
    assert "新报送" not in fixed[t("meeting.column.reason")]
    assert len(newly) == 1
    broken = _row(newly, BROKEN, "S04")
    assert (broken[t("meeting.column.value_then")], broken[t("meeting.column.value_now")]) == (
        0, 1)
    assert broken[t("meeting.column.status_now")] == t("status.not_met")


def test_administrators_delete_a_meeting(app, app_db):
    conn = db.connect(app_db)
    try:
        meetings.save_meeting(conn, name="待删除", meeting_date=date(2026, 1, 5),
                              period=Period(2025, date(2025, 1, 1), date(2025, 12, 1)),
                              view_filter=ViewFilter(), scenario=scenarios.BASELINE,
                              user=auth.local_user())
    finally:
        conn.close()
    page = _open_meetings(app)
    assert page.selectbox(key="meeting_pick").value is not None
    page.checkbox(key="meeting_delete_confirm").check().run()
    page.button(key="meeting_delete").click().run()
    assert not page.exception, page.exception
    assert [i.value for i in page.info] == [t("meeting.none")]


def test_a_street_account_sees_its_own_communities(app_db):
    names = _names()
    street = names[FIXED][1]
    conn = db.connect(app_db)
    try:
        meeting = meetings.save_meeting(
            conn, name="督办会", meeting_date=date(2026, 1, 5),
            period=Period(2025, date(2025, 1, 1), date(2025, 12, 1)),
            view_filter=ViewFilter(), scenario=scenarios.BASELINE, user=auth.local_user())
    finally:
        conn.close()
    store = auth.Accounts(auth.accounts_path(app_db))
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("jie", PASSWORD, "street", (street,))
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.text_input(key="signin_username").input("jie")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()
    page = _open_meetings(at)
    assert not [b for b in page.button if b.key == "meeting_delete"]
    items = _table(page, t("meeting.column.outcome"))[0]
    assert set(items[t("meeting.column.street")]) == {street}
    in_street = meeting.flagged[meeting.flagged["street"] == street]
    metrics = {m.label: m.value for m in page.metric}
    assert metrics[t("meeting.kpi.flagged")] == f"{len(in_street):,}"
    assert 0 < len(in_street) < len(meeting.flagged)
