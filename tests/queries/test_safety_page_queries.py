"""The safety page's queries against tests/fixtures/safety_small.sql, every
expected row worked out by hand (see the fixture's header for the cast)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from governance import db
from governance.catalogue import Standards
from governance.contract import INCIDENT_REPORT_COLUMNS
from tests.conftest import load_fixture_sql
from tests.queries.helpers import TYPES, params, rows_by_key

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
AS_OF = datetime(2024, 3, 31, 12, 0)
ALL_CATEGORIES = [
    "criminal", "public_order", "fire", "dispute", "mass_incident", "petition", "hazard",
    "environment", "public_facility", "other",
]


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "safety_small")
    return memory_conn


def bound(**overrides):
    values = {
        "scope_streets": ["东湖街道", "西山镇"],
        "community_types": TYPES,
        "month_from": JAN,
        "month_to": MAR,
        "community_id": "A1",
        "as_of": AS_OF,
        "row_limit": 100,
        "cell_deg_lon": 0.01,
        "cell_deg_lat": 0.01,
        "incident_categories": ALL_CATEGORIES,
    }
    values.update(overrides)
    return values


def run(conn, name, **overrides):
    return db.run_query(conn, name, bound(**overrides)).to_pylist()


def approx(value):
    return None if value is None else pytest.approx(value)


# --- safety_monthly_indicators ------------------------------------------------

# Only the communities that reported in every month enter a value: A3 (东湖街道)
# and B2 (西山镇); A1, A2 and B1 skip a month and are left out of every month.
# (street or None for the district, month, indicator) → (value, numerator, denominator)
MONTHLY = {
    # 东湖 = A3 alone.
    ("东湖街道", JAN, "S01"): (100, 4, 4),
    ("东湖街道", JAN, "S02"): (100, 4, 4),
    ("东湖街道", JAN, "S03"): (0, 0, 5),
    ("东湖街道", JAN, "S04"): (0, None, None),  # A1's major case is not in the line
    ("东湖街道", JAN, "S06"): (97, None, None),
    ("东湖街道", JAN, "S07"): (32, 32, 1),
    ("东湖街道", JAN, "S08"): (100, None, None),
    ("东湖街道", JAN, "S09"): (0, 0, 3000),
    ("东湖街道", FEB, "S01"): (None, 0, 0),  # 0 / 0
    ("东湖街道", FEB, "S02"): (None, 0, 0),
    ("东湖街道", FEB, "S05"): (0, None, None),  # nor A1's mass incident
    ("东湖街道", FEB, "S06"): (93, None, None),
    ("东湖街道", FEB, "S09"): (1, 3, 3000),  # 3 public order cases / 3,000 × 1,000
    ("东湖街道", MAR, "S01"): (100, 2, 2),
    ("东湖街道", MAR, "S07"): (30, 30, 1),
    # 西山 = B2 alone: no disputes, no correction subjects.
    ("西山镇", JAN, "S01"): (None, 0, 0),
    ("西山镇", JAN, "S03"): (None, 0, 0),
    ("西山镇", JAN, "S07"): (40, 40, 1),
    ("西山镇", FEB, "S06"): (95, None, None),  # B1's Feb report is left out
    ("西山镇", FEB, "S07"): (None, None, 0),  # police hours not reported
    ("西山镇", FEB, "S08"): (None, None, None),
    ("西山镇", FEB, "S09"): (0, 0, 1500),
    ("西山镇", MAR, "S06"): (96, None, None),
    # District = A3 + B2.
    (None, JAN, "S01"): (100, 4, 4),  # 4/4 + 0/0
    (None, JAN, "S03"): (0, 0, 5),
    (None, JAN, "S06"): (98, None, None),  # mean(97, 99)
    (None, JAN, "S07"): (36, 72, 2),  # mean(32, 40)
    (None, JAN, "S08"): (95, None, None),  # mean(100, 90)
    (None, JAN, "S09"): (0, 0, 4500),
    (None, FEB, "S01"): (None, 0, 0),
    (None, FEB, "S04"): (0, None, None),
    (None, FEB, "S05"): (0, None, None),
    (None, FEB, "S06"): (94, None, None),  # mean(93, 95)
    (None, FEB, "S07"): (28, 28, 1),  # B2 has no hours
    (None, FEB, "S08"): (100, None, None),  # B2 has no rate
    (None, FEB, "S09"): (3 / 4500 * 1000, 3, 4500),
    (None, MAR, "S06"): (97, None, None),  # mean(98, 96)
    (None, MAR, "S07"): (32.5, 65, 2),
}
# (street or None, month) → (communities reporting, compared, communities of the area)
REPORTING = {("东湖街道", JAN): (3, 1, 3), ("东湖街道", FEB): (2, 1, 3),
             ("东湖街道", MAR): (2, 1, 3),
             ("西山镇", JAN): (1, 1, 2), ("西山镇", FEB): (2, 1, 2), ("西山镇", MAR): (1, 1, 2),
             (None, JAN): (4, 2, 5), (None, FEB): (4, 2, 5), (None, MAR): (3, 2, 5)}


def test_monthly_indicators_have_a_row_per_area_month_indicator(conn):
    rows = run(conn, "safety_monthly_indicators")
    # (2 streets + district) × 3 months × 9 indicators, empty months included
    assert len(rows) == 3 * 3 * 9
    assert {r["street"] for r in rows} == {"东湖街道", "西山镇", None}
    assert all(r["is_district"] == (r["street"] is None) for r in rows)


def test_monthly_indicator_values_by_hand(conn):
    rows = {(r["street"], r["month"], r["indicator_id"]): r
            for r in run(conn, "safety_monthly_indicators")}
    for key, (value, numerator, denominator) in MONTHLY.items():
        row = rows[key]
        assert row["value"] == approx(value), key
        assert row["numerator"] == approx(numerator), key
        assert row["denominator"] == approx(denominator), key
    for (street, month), counts in REPORTING.items():
        for indicator_id in ("S01", "S09"):
            row = rows[(street, month, indicator_id)]
            got = (row["communities_reporting"], row["communities_compared"],
                   row["communities"])
            assert got == counts, (street, month, indicator_id)


def test_monthly_lines_do_not_jump_when_a_community_starts_reporting(conn):
    """B1 reports only from February: its 50 % satisfaction and its cases must
    not move the district line, and its rows count in communities_reporting."""
    conn.execute(
        "insert into safety (community_id, month, satisfaction_rate, public_order_cases,"
        " import_id) values ('B1', '2024-03-01', 50.0, 40, 4)")
    rows = {(r["street"], r["month"], r["indicator_id"]): r
            for r in run(conn, "safety_monthly_indicators")}
    assert rows[(None, MAR, "S06")]["value"] == pytest.approx(97)  # still A3 + B2
    assert rows[(None, MAR, "S09")]["value"] == pytest.approx(0)
    assert rows[(None, MAR, "S06")]["communities_reporting"] == 4
    # With B1's January too it reports every month and joins every month's line.
    conn.execute(
        "insert into safety (community_id, month, satisfaction_rate, import_id)"
        " values ('B1', '2024-01-01', 80.0, 4)")
    rows = {(r["street"], r["month"], r["indicator_id"]): r
            for r in run(conn, "safety_monthly_indicators")}
    assert rows[(None, JAN, "S06")]["value"] == pytest.approx((97 + 99 + 80) / 3)
    assert rows[(None, MAR, "S06")]["value"] == pytest.approx((98 + 96 + 50) / 3)
    assert {rows[(None, m, "S06")]["communities_compared"] for m in (JAN, FEB, MAR)} == {3}


def test_monthly_indicators_follow_the_type_filter(conn):
    rows = {(r["street"], r["month"], r["indicator_id"]): r
            for r in run(conn, "safety_monthly_indicators", community_types=["urban"])}
    # A2 and B2 (rural) drop out: 西山 keeps only B1, which skips January.
    assert rows[("东湖街道", MAR, "S01")]["communities_reporting"] == 1  # A3
    assert rows[("西山镇", FEB, "S06")]["value"] is None
    assert rows[("西山镇", FEB, "S06")]["communities_reporting"] == 1
    assert rows[("西山镇", FEB, "S06")]["communities_compared"] == 0
    assert rows[(None, JAN, "S06")]["value"] == pytest.approx(97.0)  # A3 alone
    assert rows[(None, JAN, "S06")]["communities"] == 3  # A1, A3, B1


# --- community_safety_indicators: reporting completeness --------------------------


def indicator_rows(conn, pct=None, **overrides):
    standards = Standards.default()
    if pct is not None:
        standards = standards.with_overrides(settings={"min_reported_months_pct": pct})
    return rows_by_key(conn, "community_safety_indicators",
                       {**params(standards), **bound(**overrides)})


def test_partial_reporters_are_no_data_and_only_red_flags_stay_red(conn):
    rows = indicator_rows(conn)
    months = {c: rows[c, "S01"]["months_reported"] for c in ("A1", "A2", "A3", "B1", "B2")}
    assert months == {"A1": 2, "A2": 2, "A3": 3, "B1": 1, "B2": 3}
    # A3 reported every month and meets every standard.
    assert {rows["A3", i]["status"] for i in ("S01", "S02", "S03", "S04", "S05", "S06",
                                               "S07", "S08")} == {"met"}
    assert rows["A3", "S06"]["value"] == pytest.approx(96.0)  # mean(97, 93, 98)
    assert rows["A3", "S07"]["value"] == pytest.approx(30.0)  # (32 + 28 + 30) / 3
    # A1 missed March: its January major case and February mass incident stay unmet.
    assert (rows["A1", "S04"]["status"], rows["A1", "S04"]["value"]) == ("not_met", 1)
    assert (rows["A1", "S05"]["status"], rows["A1", "S05"]["value"]) == ("not_met", 1)
    assert rows["A1", "S06"]["status"] == "no_data" and rows["A1", "S06"]["value"] is None
    # A2 and B1: nothing rated, not even "no major case".
    for community_id in ("A2", "B1"):
        assert {r["status"] for (c, _), r in rows.items() if c == community_id} == {"no_data"}
    # B2 reported every month but had no disputes: S01–S03 no_data from 0 / 0.
    assert [rows["B2", i]["status"] for i in ("S01", "S02", "S03", "S06")] == [
        "no_data", "no_data", "no_data", "met"]


def test_three_of_twelve_months_is_never_met(conn):
    """The user's case: a community that reported 3 of the 12 months."""
    rows = indicator_rows(conn, month_from=date(2023, 4, 1), month_to=MAR)
    a3 = [r for (c, _), r in rows.items() if c == "A3"]
    assert {(r["months_reported"], r["months_in_period"], r["months_required"])
            for r in a3} == {(3, 12, 12)}
    assert {r["status"] for r in a3} == {"no_data"}
    # B1's December (major cases 9, mass incidents 9) is now in range: still red.
    assert rows["B1", "S04"]["status"] == "not_met" and rows["B1", "S04"]["value"] == 9
    # A what-if at 25 % (3 of 12 months) rates A3 again.
    rows = indicator_rows(conn, pct=25.0, month_from=date(2023, 4, 1), month_to=MAR)
    assert rows["A3", "S06"]["status"] == "met" and rows["A3", "S01"]["months_required"] == 3
    assert rows["A1", "S06"]["status"] == "no_data"  # 2 of 12


# --- safety_red_flags -----------------------------------------------------------


def test_red_flags_newest_first_in_scope_and_range(conn):
    rows = run(conn, "safety_red_flags")
    assert [(r["community_id"], r["month"], r["major_criminal_cases"], r["mass_incidents"])
            for r in rows] == [("A1", FEB, 0, 1), ("A1", JAN, 1, 0)]
    # Z9's major cases are outside the scope; B1's are in December.
    assert run(conn, "safety_red_flags", scope_streets=["西山镇"]) == []


# --- safety_community_months ----------------------------------------------------


def test_community_months_include_the_month_without_a_report(conn):
    rows = run(conn, "safety_community_months")
    assert [r["month"] for r in rows] == [JAN, FEB, MAR]
    jan, feb, mar = rows
    assert jan["has_report"] and feb["has_report"] and not mar["has_report"]
    assert jan["mediation_rate_pct"] == pytest.approx(100.0)  # 10 / 10
    assert jan["mediation_success_pct"] == pytest.approx(90.0)  # 9 / 10
    assert jan["reoffending_pct"] == pytest.approx(0.0)  # 0 / 4
    assert jan["cases_per_1000"] == pytest.approx(1.5)  # (2 + 1) / 2,000 × 1,000
    assert feb["mediation_rate_pct"] is None and feb["reoffending_pct"] is None  # 0 / 0
    assert feb["cases_per_1000"] == pytest.approx(0.0)
    assert mar["criminal_cases"] is None and mar["cases_per_1000"] is None
    assert [(r["incidents"], r["open_incidents"]) for r in rows] == [(5, 1), (2, 1), (0, 0)]


def test_community_months_empty_outside_the_scope(conn):
    assert run(conn, "safety_community_months", community_id="Z9") == []
    assert run(conn, "safety_community_months", community_types=["rural"]) == []


# --- incident_summary -------------------------------------------------------------


def test_incident_summary(conn):
    (row,) = run(conn, "incident_summary")
    assert row["incidents"] == 12  # I01–I12; I13 belongs to Z9
    assert row["first_occurred_at"] == datetime(2023, 12, 20)
    # avg lat of the nine visible incidents with a latitude
    assert row["mean_lat"] == pytest.approx(32 + 0.057 / 9)
    # The latest time in the whole table (I12), whatever the scope.
    assert row["data_as_of"] == datetime(2024, 4, 1)
    (empty,) = run(conn, "incident_summary", scope_streets=["无此街道"])
    assert empty["incidents"] == 0 and empty["data_as_of"] == datetime(2024, 4, 1)


# --- incident_counts_by_month -------------------------------------------------------


def test_incident_counts_by_month_and_category(conn):
    rows = {(r["month"], r["category"]): r for r in run(conn, "incident_counts_by_month")}
    categories = {"criminal", "public_order", "dispute", "hazard", "fire", "mass_incident"}
    assert {c for _, c in rows} == categories
    assert len(rows) == 3 * len(categories)  # empty month-category cells are zero rows

    def counts(month, category):
        r = rows[(month, category)]
        return (r["incidents"], r["resolved_incidents"], r["open_incidents"],
                r["major_incidents"])

    assert counts(JAN, "criminal") == (2, 2, 0, 1)
    assert counts(JAN, "dispute") == (1, 0, 1, 0)
    assert counts(JAN, "hazard") == (1, 1, 0, 0)  # 23:59:59 on the 31st is still January
    assert counts(FEB, "mass_incident") == (1, 0, 1, 1)
    assert counts(FEB, "public_order") == (1, 1, 0, 0)  # B1's I10
    assert counts(MAR, "dispute") == (2, 2, 0, 0)
    assert counts(MAR, "criminal") == (0, 0, 0, 0)  # I12 is in April


def test_incident_counts_empty_range_returns_nothing(conn):
    assert run(conn, "incident_counts_by_month", month_from=date(2022, 1, 1),
               month_to=date(2022, 6, 1)) == []


# --- incident_resolution_by_category ----------------------------------------------------

RESOLUTION = {
    # category: (incidents, resolved, resolved %, timed, median h, p90 h, open, open > 30 d)
    None: (10, 8, 80.0, 7, 6.0, 48.0, 2, 2),  # hours 1, 2, 4, 6, 10, 48, 48
    "criminal": (2, 2, 100.0, 2, 29.0, 44.2, 0, 0),  # 10, 48
    "dispute": (3, 2, 200 / 3, 2, 26.0, 43.6, 1, 1),  # 48, 4; I04 open since Jan 20
    "fire": (1, 1, 100.0, 1, 1.0, 1.0, 0, 0),
    "hazard": (1, 1, 100.0, 0, None, None, 0, 0),  # resolved without a time
    "mass_incident": (1, 0, 0.0, 0, None, None, 1, 1),
    "public_order": (2, 2, 100.0, 2, 4.0, 5.6, 0, 0),  # 2, 6
}


def test_resolution_by_category_by_hand(conn):
    rows = run(conn, "incident_resolution_by_category")
    assert [r["category"] for r in rows] == [None, "criminal", "dispute", "fire", "hazard",
                                              "mass_incident", "public_order"]
    assert rows[0]["is_total"] and not any(r["is_total"] for r in rows[1:])
    for row in rows:
        expected = RESOLUTION[row["category"]]
        got = (row["incidents"], row["resolved_incidents"], row["resolved_pct"],
               row["timed_resolutions"], row["median_resolution_hours"],
               row["p90_resolution_hours"], row["open_incidents"], row["open_over_30_days"])
        assert got == tuple(approx(v) for v in expected), row["category"]


def test_open_over_30_days_depends_on_as_of(conn):
    rows = run(conn, "incident_resolution_by_category", as_of=datetime(2024, 3, 5))
    total = rows[0]
    # I04 (Jan 20) is over 30 days old on Mar 5; I07 (Feb 10) is not.
    assert total["open_over_30_days"] == 1


# --- open_incidents ---------------------------------------------------------------------


def test_open_incidents_oldest_first_with_backlog(conn):
    rows = run(conn, "open_incidents")
    assert [(r["incident_id"], r["in_range"], r["age_days"]) for r in rows] == [
        ("I11", False, 102),  # Dec 20 → Mar 31: 11 + 31 + 29 + 31
        ("I04", True, 71),  # Jan 20 → Mar 31: 11 + 29 + 31
        ("I07", True, 50),  # Feb 10 → Mar 31: 19 + 31
    ]
    assert {r["open_total"] for r in rows} == {3}
    assert rows[0]["community_name"] == "山前社区" and rows[0]["street"] == "西山镇"


def test_open_incidents_limit_keeps_the_total(conn):
    rows = run(conn, "open_incidents", row_limit=2)
    assert [r["incident_id"] for r in rows] == ["I11", "I04"]
    assert rows[0]["open_total"] == 3


# --- incident_map_cells -----------------------------------------------------------------


def test_map_cells_by_hand(conn):
    rows = run(conn, "incident_map_cells")
    got = [(round(r["cell_lon"], 6), round(r["cell_lat"], 6), r["incidents"],
            r["open_incidents"], r["major_incidents"], r["top_category"]) for r in rows]
    assert got == [
        (117.005, 32.005, 4, 1, 1, "criminal"),  # I01, I02, I04, I10
        (117.015, 32.005, 3, 1, 1, "fire"),  # I03, I06, I07: a three-way tie → first code
        (117.025, 32.015, 1, 0, 0, "dispute"),  # I08 (I09 has no longitude)
    ]


def test_map_cells_category_filter(conn):
    rows = run(conn, "incident_map_cells", incident_categories=["criminal"])
    assert [(r["incidents"], r["top_category"]) for r in rows] == [(2, "criminal")]


# --- incident_report_reconciliation ---------------------------------------------------

DIFFERENCES = {
    # (community, month, measure): (reported, incidents)
    ("A1", JAN, "disputes_received"): (10, 1),
    ("A1", JAN, "petitions"): (1, 0),
    ("A2", JAN, "criminal_cases"): (None, 0),
    ("A2", JAN, "major_criminal_cases"): (None, 0),
    ("A2", JAN, "public_order_cases"): (2, 0),
    ("A2", JAN, "disputes_received"): (5, 0),
    ("A2", JAN, "petitions"): (None, 0),
    ("A2", MAR, "criminal_cases"): (1, 0),
    ("B1", FEB, "public_order_cases"): (4, 1),
    ("B1", FEB, "disputes_received"): (4, 0),
    ("B1", FEB, "petitions"): (2, 0),
    ("A3", JAN, "disputes_received"): (4, 0),
    ("A3", FEB, "public_order_cases"): (3, 0),
    ("A3", MAR, "disputes_received"): (2, 0),
    # B2 reports zero everywhere, as the grid system does: no row.
}
MEASURES = sorted(INCIDENT_REPORT_COLUMNS.values()) + ["major_criminal_cases"]
# No report at all: every measure is a row.
for _community, _month in (("A1", MAR), ("A2", FEB), ("B1", JAN), ("B1", MAR)):
    for _measure in MEASURES:
        DIFFERENCES[(_community, _month, _measure)] = (None, 0)


def test_reconciliation_returns_exactly_the_disagreements(conn):
    rows = run(conn, "incident_report_reconciliation")
    got = {(r["community_id"], r["month"], r["measure"]): (r["reported_count"],
                                                           r["incident_count"])
           for r in rows}
    assert got == DIFFERENCES
    assert len(rows) == 42
    for row in rows:
        expected = None if row["reported_count"] is None else (
            row["incident_count"] - row["reported_count"])
        assert row["difference_count"] == expected
    # A1/A2/A3/B1/B2 × Jan, Feb, Mar (every month has some event)
    assert {r["checked_community_months"] for r in rows} == {15}


def test_reconciliation_covers_every_mapped_category(conn):
    """The SQL's category → column mapping is the contract's: one extra incident of
    each mapped category in A1's February (which agrees today) shows up as +1 on
    exactly its column."""
    for number, (category, column) in enumerate(INCIDENT_REPORT_COLUMNS.items()):
        conn.execute(
            "insert into incidents values ($id, 'A1', timestamp '2024-02-03 10:00', $category,"
            " 'general', 'resolved', null, null, null, 7)",
            {"id": f"X{number}", "category": category},
        )
        rows = [r for r in run(conn, "incident_report_reconciliation")
                if r["community_id"] == "A1" and r["month"] == FEB]
        assert [(r["measure"], r["difference_count"]) for r in rows] == [(column, 1)], category
        conn.execute("delete from incidents where incident_id = $id", {"id": f"X{number}"})


def test_reconciliation_counts_major_criminal_incidents(conn):
    conn.execute(
        "insert into incidents values ('X9', 'A1', timestamp '2024-02-03 10:00', 'criminal',"
        " 'major', 'resolved', null, null, null, 7)"
    )
    rows = [(r["measure"], r["difference_count"])
            for r in run(conn, "incident_report_reconciliation")
            if r["community_id"] == "A1" and r["month"] == FEB]
    assert sorted(rows) == [("criminal_cases", 1), ("major_criminal_cases", 1)]


def test_reconciliation_only_months_the_grid_system_logged(conn):
    conn.execute("delete from incidents where occurred_at >= timestamp '2024-03-01'")
    rows = run(conn, "incident_report_reconciliation")
    assert MAR not in {r["month"] for r in rows}
    assert {r["checked_community_months"] for r in rows} == {10}  # 5 communities × Jan, Feb
