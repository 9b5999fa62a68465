"""governance/meetings.py: a meeting saved on one data version, then imports
that change it; the follow-up against hand-computed before/after values.

The district: three communities (A01, B01 on 东街道, C01 on 西街道), safety
reports for 2024-01 .. 2024-03 with every safety figure met except S06 居民满意率
(floor 95, mean of the months):

  version at the meeting   A01 93, 93, 93 → 93.0 not met   (flagged)
                           B01 97, 97, 97 → 97.0 met
                           C01 93, 93, 93 → 93.0 not met   (flagged)
  2024-02 re-imported      A01 93, 99, 93 → 95.0 met       (fixed: a corrected figure)
                           B01 97, 88, 97 → 94.0 not met   (broken: newly short)
                           C01 unchanged  → 93.0 not met   (same figures: no reason)
  2024-04 newly reported   A01 95 → (93+99+93+95)/4 = 95.0 met
  (range 2024-01..04)      B01 88 and one major criminal case → S06 92.5, S04 not met
                           C01 99 → (93·3+99)/4 = 94.5 not met, improved

Safety met shares per community × indicator (S04, S05, S06, S07, S08 rated;
S01–S03 no disputes or correction subjects: no data; S09 not rated):
then 13 of 15 = 86.7 %; after the new month 12 of 15 = 80.0 %.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime

import duckdb
import openpyxl
import pytest

from governance import (
    auth,
    backup,
    brief,
    brief_workbook,
    db,
    exporting,
    importer,
    meetings,
    scenarios,
)
from governance.indicators import Period, ViewFilter
from governance.text import t

COMMUNITIES = (
    "community_id,community_name,street,community_type,households,population,office_area_m2\n"
    "A01,甲社区,东街道,urban,1000,3000,300\n"
    "B01,乙社区,东街道,urban,1000,3000,300\n"
    "C01,丙社区,西街道,urban,1000,3000,300\n"
)
SAFETY_HEADER = ("community_id,month,major_criminal_cases,mass_incidents,police_hours,"
                 "satisfaction_rate,legal_education_rate\n")
FIRST_QUARTER = Period(None, date(2024, 1, 1), date(2024, 3, 1))
TO_APRIL = Period(None, date(2024, 1, 1), date(2024, 4, 1))
ADMIN = auth.User("boss", "局长", "admin")
LEADER = auth.User("lead", "区领导", "leader")
STREET = auth.User("east", "东街道办", "street", ("东街道",))


def _safety(rows) -> str:
    return SAFETY_HEADER + "".join(f"{c},{m},{major},0,40,{rate},100\n"
                                   for c, m, rate, major in rows)


class District:
    def __init__(self, folder):
        self.folder = folder
        self.path = folder / "district.duckdb"
        self.count = 0

    def load(self, text: str, table: str) -> None:
        self.count += 1
        source = self.folder / f"upload-{self.count}.csv"
        source.write_text(text, encoding="utf-8")
        result = importer.import_file(str(self.path), importer.SourceFile(source, table),
                                      applied_by="tester")
        assert result.applied, result.report

    def conn(self):
        return db.connect(self.path)

    def correct_february(self) -> None:
        self.load(_safety([("A01", "2024-02", 99, 0), ("B01", "2024-02", 88, 0),
                           ("C01", "2024-02", 93, 0)]), "safety")

    def report_april(self) -> None:
        self.load(_safety([("A01", "2024-04", 95, 0), ("B01", "2024-04", 88, 1),
                           ("C01", "2024-04", 99, 0)]), "safety")


@pytest.fixture
def district(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.ACCOUNTS_ENV_VAR, raising=False)
    monkeypatch.delenv(backup.KEEP_ENV_VAR, raising=False)
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    place = District(folder)
    place.load(COMMUNITIES, "communities")
    place.load(_safety([(c, f"2024-0{m}", rate, 0)
                        for c, rate in (("A01", 93), ("B01", 97), ("C01", 93))
                        for m in (1, 2, 3)]), "safety")
    return place


def _save(district, name="一季度督办会", scenario=scenarios.BASELINE, user=ADMIN):
    conn = district.conn()
    try:
        return meetings.save_meeting(conn, name=name, meeting_date=date(2024, 4, 10),
                                     period=FIRST_QUARTER, view_filter=ViewFilter(),
                                     scenario=scenario, user=user)
    finally:
        conn.close()


def _follow_up(district, period, scenario=scenarios.BASELINE, scope=None):
    conn = district.conn()
    try:
        return meetings.follow_up(conn, meetings.latest_meeting(conn), period, scenario, scope)
    finally:
        conn.close()


def _row(frame, community_id, indicator_id="S06") -> dict:
    rows = frame[(frame["community_id"] == community_id)
                 & (frame["indicator_id"] == indicator_id)].to_dict("records")
    assert len(rows) == 1, frame
    return rows[0]


def test_the_record_holds_the_flagged_list_and_the_version(district):
    meeting = _save(district)
    flagged = meeting.flagged[meeting.flagged["indicator_id"] == "S06"]
    assert sorted(flagged["community_id"]) == ["A01", "C01"]
    assert flagged["value"].tolist() == [93.0, 93.0]
    conn = district.conn()
    try:
        assert meeting.data_version == db.data_version(conn) == 2
        stored = meetings.load_meeting(conn, meeting.id)
    finally:
        conn.close()
    assert stored.name == "一季度督办会" and stored.period == FIRST_QUARTER
    assert stored.flagged.equals(meeting.flagged)
    # The backup of import 2 holds that version: the meeting's snapshot is the
    # same file under a second name, so it costs no disk while the backup lives.
    snapshot = district.folder / "meetings" / meeting.snapshot
    after_import_2 = [b for b in backup.list_backups(district.path) if b.import_id == 2]
    assert len(after_import_2) == 1
    assert os.path.samefile(snapshot, after_import_2[0].path)
    assert oct(snapshot.stat().st_mode & 0o777) == "0o600"


def test_a_corrected_month_fixes_one_community_and_breaks_another(district):
    _save(district)
    district.correct_february()
    result = _follow_up(district, FIRST_QUARTER)
    fixed = _row(result.items, "A01")
    assert (fixed["value_then"], fixed["status_then"]) == (93.0, "not_met")
    assert (fixed["value_now"], fixed["status_now"], fixed["outcome"]) == (95.0, "met",
                                                                             "now_met")
    assert "2024-02" in fixed["reason"] and "更正" in fixed["reason"]
    assert "新报送" not in fixed["reason"]
    unchanged = _row(result.items, "C01")
    assert (unchanged["value_now"], unchanged["outcome"], unchanged["reason"]) == (
        93.0, "still_not_met", "")
    # B01 was met at the meeting, so it is not on the list: it newly falls short.
    assert "B01" not in set(result.items["community_id"])
    broken = _row(result.newly_short, "B01")
    assert (broken["value_then"], broken["status_then"]) == (97.0, "met")
    assert (broken["value_now"], broken["status_now"]) == (94.0, "not_met")
    assert "更正" in broken["reason"]
    assert result.newly_short["community_id"].tolist() == ["B01"]
    assert result.counts["now_met"] == 1 and result.counts["newly_short_communities"] == 1
    safety = result.districts.set_index("dimension").loc["safety"]
    assert safety["met_share_then"] == pytest.approx(13 / 15 * 100)
    assert safety["met_share_now"] == pytest.approx(13 / 15 * 100)


def test_a_newly_reported_month_is_told_apart_from_a_correction(district):
    _save(district)
    district.correct_february()
    district.report_april()
    result = _follow_up(district, TO_APRIL)
    improved = _row(result.items, "C01")
    assert (improved["value_then"], improved["value_now"]) == (93.0, 94.5)
    assert improved["outcome"] == "improved"
    assert t("meeting.reason.new_safety", table="平安建设月报", periods="2024-04") \
        == improved["reason"]
    fixed = _row(result.items, "A01")
    assert (fixed["value_now"], fixed["outcome"]) == (95.0, "now_met")
    assert "2024-04" in fixed["reason"] and "2024-02" in fixed["reason"]
    assert sorted(result.newly_short["indicator_id"]) == ["S04", "S06"]
    assert _row(result.newly_short, "B01")["value_now"] == 92.5
    assert _row(result.newly_short, "B01", "S04")["value_now"] == 1.0
    safety = result.districts.set_index("dimension").loc["safety"]
    assert safety["met_share_then"] == pytest.approx(86.666666, abs=1e-4)
    assert safety["met_share_now"] == pytest.approx(80.0)
    assert result.notes and "2024-04" in result.notes[0]


def test_a_threshold_changed_by_a_scenario_is_named(district):
    _save(district)
    lower = scenarios.from_values("放宽满意率", {"S06": (93.0, None)}, {})
    result = _follow_up(district, FIRST_QUARTER, lower)
    row = _row(result.items, "C01")
    assert (row["value_now"], row["status_now"], row["outcome"]) == (93.0, "met", "now_met")
    assert "标准改变" in row["reason"] and "放宽满意率" in row["reason"]


def test_the_record_keeps_the_scenario_as_it_was(district):
    strict = scenarios.from_values(None, {"S06": (97.0, None)}, {})
    conn = district.conn()
    try:
        scenarios.save_scenario(conn, strict, "严格", ADMIN)
    finally:
        conn.close()
    _save(district, scenario=scenarios.Scenario("严格", strict.thresholds))
    conn = district.conn()
    try:
        looser = scenarios.from_values(None, {"S06": (90.0, None)}, {})
        scenarios.save_scenario(conn, looser, "严格", ADMIN)
        meeting = meetings.latest_meeting(conn)
    finally:
        conn.close()
    assert meeting.scenario.standards().indicator("S06").floor == 97.0
    # B01's 97.0 met the scenario's floor of 97 then.
    assert "B01" not in set(meeting.flagged.loc[meeting.flagged["indicator_id"] == "S06",
                                                "community_id"])


def test_the_version_outlives_the_backup_count(district, monkeypatch):
    meeting = _save(district)
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "1")
    district.correct_february()
    district.report_april()
    assert [b.import_id for b in backup.list_backups(district.path)] == [4]
    snapshot = district.folder / "meetings" / meeting.snapshot
    assert snapshot.stat().st_nlink == 1  # the backup's name is gone; the file is not
    assert _row(_follow_up(district, FIRST_QUARTER).items, "A01")["value_then"] == 93.0


def test_a_version_without_a_backup_is_copied(district, monkeypatch):
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "0")
    district.correct_february()  # no backup of version 3
    meeting = _save(district)
    assert meeting.data_version == 3
    snapshot = district.folder / "meetings" / meeting.snapshot
    assert snapshot.stat().st_nlink == 1
    conn = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert db.data_version(conn) == 3
    finally:
        conn.close()


def test_street_accounts_see_their_own_communities_only(district):
    _save(district)
    district.correct_february()
    result = _follow_up(district, FIRST_QUARTER, scope=("东街道",))
    assert set(result.items["community_id"]) == {"A01"}
    assert set(result.newly_short["community_id"]) == {"B01"}
    west = _follow_up(district, FIRST_QUARTER, scope=("西街道",))
    assert set(west.items["community_id"]) == {"C01"} and west.newly_short.empty


def test_who_may_save_and_delete(district):
    with pytest.raises(meetings.MeetingError, match="区领导与管理员"):
        _save(district, user=STREET)
    first = _save(district, user=LEADER)
    second = _save(district, name="第二次", user=ADMIN)
    assert first.snapshot == second.snapshot  # one file per data version
    snapshot = district.folder / "meetings" / first.snapshot
    conn = district.conn()
    try:
        with pytest.raises(meetings.MeetingError, match="管理员"):
            meetings.delete_meeting(conn, first.id, LEADER)
        assert meetings.delete_meeting(conn, first.id, ADMIN)
        assert snapshot.is_file()  # the second meeting still needs it
        assert meetings.delete_meeting(conn, second.id, ADMIN)
        assert not snapshot.exists()
        assert meetings.list_meetings(conn).empty
        assert not meetings.delete_meeting(conn, second.id, ADMIN)
    finally:
        conn.close()


def test_the_next_brief_opens_with_the_follow_up(district):
    _save(district)
    district.correct_february()
    conn = district.conn()
    try:
        made = brief.build_brief(conn, FIRST_QUARTER, ViewFilter(), scenarios.BASELINE,
                                 data_version=3, generated_at=datetime(2024, 5, 1))
        page = brief.render_html(made)
        book = openpyxl.load_workbook(
            io.BytesIO(exporting.to_excel_bytes(brief_workbook.brief_sheets(made))))
    finally:
        conn.close()
    headings = [h.split("</h2>")[0] for h in page.split("<h2>")[1:]]
    assert headings[0] == "一、上次会议以来"
    # Then the usual brief, its sections numbered on from 二.
    assert headings[1] == t("brief.headline.title")
    assert headings[2] == "二、" + t("brief.overview.title")
    assert page.index("甲社区") < page.index('id="overview"')
    assert book.sheetnames[0] == t("meeting.sheet.follow_up")
    sheet = book[t("meeting.sheet.follow_up")]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True))
            for r in sheet.iter_rows(min_row=2)]
    a01 = next(r for r in rows if r[t("meeting.column.community_name")] == "甲社区"
               and r[t("meeting.column.indicator_id")].startswith("S06"))
    assert (a01[t("meeting.column.value_then")], a01[t("meeting.column.value_now")]) == (93, 95)
    assert a01[t("meeting.column.outcome")] == t("meeting.outcome.now_met")


def test_without_a_meeting_the_brief_is_as_before(district):
    conn = district.conn()
    try:
        made = brief.build_brief(conn, FIRST_QUARTER, ViewFilter(), scenarios.BASELINE,
                                 data_version=2, generated_at=datetime(2024, 5, 1))
    finally:
        conn.close()
    assert made.follow_up is None
    assert "<h2>一、" in brief.render_html(made)
    assert "上次会议以来" not in brief.render_html(made)


def test_a_version_number_reached_again_after_a_restore_is_other_data(district):
    """Meeting at v2 → restore v1 → another import → v2 again, other figures:
    a meeting saved now reads the new data, not the first meeting's file."""
    first = _save(district)
    assert first.data_version == 2
    version_one = next(b.path for b in backup.list_backups(district.path)
                       if b.kind == "import" and b.import_id == 1)
    assert backup.restore(district.path, version_one).data_version == 1
    district.load(_safety([(c, f"2024-0{m}", 99, 0) for c in ("A01", "B01", "C01")
                           for m in (1, 2, 3)]), "safety")
    second = _save(district, name="重新导入之后")
    assert second.data_version == 2
    assert second.snapshot != first.snapshot
    assert second.flagged.empty  # every community at 99: none short
    conn = district.conn()
    try:
        again = meetings.follow_up(conn, second, FIRST_QUARTER, scenarios.BASELINE)
        before = meetings.follow_up(conn, first, FIRST_QUARTER, scenarios.BASELINE)
    finally:
        conn.close()
    assert again.items.empty
    assert set(again.districts["met_share_then"].dropna()) == {100.0}
    # The first meeting keeps its own data: A01 at 93 then, 99 now.
    a01 = _row(before.items, "A01")
    assert (a01["value_then"], a01["value_now"]) == (93.0, 99.0)


def test_a_snapshot_name_that_is_a_path_is_refused(district):
    meeting = _save(district)
    conn = district.conn()
    try:
        store = meetings._state(conn)
    finally:
        conn.close()
    with store.write() as state:
        state.execute("update meetings set snapshot = ? where id = ?",
                      ("../district.duckdb", meeting.id))
    conn = district.conn()
    try:
        with pytest.raises(meetings.MeetingError, match="不是本系统生成的快照文件名"):
            meetings.load_meeting(conn, meeting.id)
        assert meetings.latest_follow_up(conn, FIRST_QUARTER, scenarios.BASELINE) is None
        assert meetings.delete_meeting(conn, meeting.id, ADMIN)
    finally:
        conn.close()
    assert district.path.is_file()  # the working database, not unlinked


def test_a_missing_snapshot_names_the_file_not_the_server_path(district):
    meeting = _save(district)
    (district.folder / "meetings" / meeting.snapshot).unlink()
    conn = district.conn()
    try:
        with pytest.raises(meetings.MeetingError) as raised:
            meetings.follow_up(conn, meeting, FIRST_QUARTER, scenarios.BASELINE)
    finally:
        conn.close()
    assert meeting.snapshot in str(raised.value)
    assert str(district.folder) not in str(raised.value)


def test_a_corrupt_snapshot_leaves_the_brief_without_the_follow_up(district):
    meeting = _save(district)
    snapshot = district.folder / "meetings" / meeting.snapshot
    snapshot.unlink()  # a hard link to the backup: replaced, not written through
    snapshot.write_bytes(b"not a database " * 1000)
    conn = district.conn()
    try:
        made = brief.build_brief(conn, FIRST_QUARTER, ViewFilter(), scenarios.BASELINE,
                                 data_version=2, generated_at=datetime(2024, 5, 1))
    finally:
        conn.close()
    assert made.follow_up is None
    assert "上次会议以来" not in brief.render_html(made)
