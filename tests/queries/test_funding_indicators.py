"""queries/community_funding_indicators.sql against tests/fixtures/indicators_small.sql."""

from __future__ import annotations

import pytest

from governance import db
from governance.catalogue import Standards
from tests.queries.helpers import check, params, rows_by_key

QUERY = "community_funding_indicators"


def run(conn, bound):
    return rows_by_key(conn, QUERY, bound)


EXPECTED = [
    # M01 = Σ office amount in 2024; floor 25,000
    ("C01", "M01", 25000.0, 25000, None, "met"),  # 25,000 ≥ 25,000 (2023's 99,999 ignored)
    ("C02", "M01", 20000.0, 25000, None, "not_met"),
    ("C03", "M01", None, 25000, None, "no_data"),  # lines only in 2023
    ("C04", "M01", 0.0, 25000, None, "not_met"),  # has a 2024 line, none of category office
    ("C05", "M01", 30000.0, 25000, None, "met"),
    # M02 = Σ party_building amount; floor 100,000
    ("C01", "M02", 100000.0, 100000, None, "met"),
    ("C02", "M02", 0.0, 100000, None, "not_met"),  # lines but no party_building: a real 0
    ("C03", "M02", None, 100000, None, "no_data"),
    ("C04", "M02", 0.0, 100000, None, "not_met"),  # one line of 0.00
    ("C05", "M02", 120000.0, 100000, None, "met"),
    # M03 = Σ all / households; no standard
    ("C01", "M03", 125.0, None, None, "not_rated"),  # 200,000 / 1,600
    ("C02", "M03", 50.0, None, None, "not_rated"),  # 80,000 / 1,600
    ("C03", "M03", None, None, None, "no_data"),
    ("C04", "M03", None, None, None, "no_data"),  # households 0
    ("C05", "M03", 200000 / 3500, None, None, "not_rated"),  # = 57.142857…
    # M04 = Σ non-fiscal / Σ all × 100; no standard
    ("C01", "M04", 37.5, None, None, "not_rated"),  # (35,000 + 40,000) / 200,000 × 100
    ("C02", "M04", 0.0, None, None, "not_rated"),  # all fiscal
    ("C03", "M04", None, None, None, "no_data"),
    ("C04", "M04", None, None, None, "no_data"),  # Σ all = 0
    ("C05", "M04", 25.0, None, None, "not_rated"),  # 50,000 / 200,000 × 100
    # M05 = lines on time (≤ 30 days) / lines with both dates × 100; target 100
    ("C01", "M05", 200 / 3, None, 100, "not_met"),  # 30 d ✓, 31 d ✗, 10 d ✓ → 2 / 3
    ("C02", "M05", 100.0, None, 100, "met"),  # 5 d ✓ → 1 / 1 (the undated line is skipped)
    ("C03", "M05", None, None, 100, "no_data"),
    ("C04", "M05", None, None, 100, "no_data"),  # no line has both dates
    ("C05", "M05", None, None, 100, "no_data"),  # no line has both dates
    # M06 = staff_avg_monthly_pay / 6,000 × 100; floor 100
    ("C01", "M06", 110.0, 100, None, "met"),  # 6,600 / 6,000 × 100
    ("C02", "M06", 90.0, 100, None, "not_met"),  # 5,400 / 6,000 × 100
    ("C03", "M06", None, 100, None, "no_data"),  # pay missing
    ("C04", "M06", None, 100, None, "no_data"),
    ("C05", "M06", None, 100, None, "no_data"),
    # M07 = certified / staff × 100; no standard
    ("C01", "M07", 30.0, None, None, "not_rated"),  # 3 / 10 × 100
    ("C02", "M07", 0.0, None, None, "not_rated"),  # 0 / 8
    ("C03", "M07", None, None, None, "no_data"),  # staff_count 0
    ("C04", "M07", None, None, None, "no_data"),  # staff_count missing
    ("C05", "M07", None, None, None, "no_data"),
]


def test_values_and_statuses(conn):
    rows = run(conn, params())
    check(rows, EXPECTED)
    assert len(rows) == len(EXPECTED) == 35


def test_value_column_is_double_not_decimal(conn):
    table = db.run_query(conn, QUERY, params())
    assert str(table.schema.field("value").type) == "double"


def test_numerators_and_denominators(conn):
    rows = run(conn, params())
    assert (rows["C01", "M05"]["numerator"], rows["C01", "M05"]["denominator"]) == (2, 3)
    assert (rows["C01", "M04"]["numerator"], rows["C01", "M04"]["denominator"]) == (
        75000, 200000,
    )
    assert (rows["C01", "M03"]["numerator"], rows["C01", "M03"]["denominator"]) == (
        200000, 1600,
    )


def test_year_filter(conn):
    rows = run(conn, params(year=2023))
    check(rows, [
        ("C01", "M01", 99999.0, 25000, None, "met"),
        ("C01", "M02", 0.0, 100000, None, "not_met"),
        ("C01", "M05", 0.0, None, 100, "not_met"),  # 2023-03-01 → 2023-12-31 = 305 days
        ("C02", "M01", None, 25000, None, "no_data"),  # no 2023 lines
        ("C03", "M01", 30000.0, 25000, None, "met"),
        ("C03", "M05", 100.0, None, 100, "met"),  # 9 days
        ("C03", "M03", 60.0, None, None, "not_rated"),  # 30,000 / 500
        ("C01", "M06", 110.0, 100, None, "met"),  # attributes do not depend on the year
    ])


def test_year_without_data_or_none(conn):
    for year in (2030, None):
        rows = run(conn, params(year=year))
        for (_, indicator_id), row in rows.items():
            if indicator_id in {"M01", "M02", "M03", "M04", "M05"}:
                assert row["status"] == "no_data"
        assert rows["C01", "M07"]["status"] == "not_rated"


def test_on_time_days_setting(conn):
    rows = run(conn, params(on_time_days=31))
    check(rows, [("C01", "M05", 100.0, None, 100, "met")])  # 31 d now on time → 3 / 3
    rows = run(conn, params(on_time_days=9))
    check(rows, [
        ("C01", "M05", 0.0, None, 100, "not_met"),  # 30, 31, 10 d all late
        ("C02", "M05", 100.0, None, 100, "met"),  # 5 d
    ])


def test_local_wage_setting(conn):
    rows = run(conn, params(local_avg_monthly_wage_yuan=6600.0))
    check(rows, [
        ("C01", "M06", 100.0, 100, None, "met"),  # 6,600 / 6,600 × 100 = 100 (= floor)
        ("C02", "M06", 5400 / 66, 100, None, "not_met"),  # = 81.82
    ])


def test_m01_floor_override(conn):
    standards = Standards.default().with_overrides({"M01": {"floor": 30000.0}})
    rows = run(conn, params(standards))
    check(rows, [
        ("C01", "M01", 25000.0, 30000, None, "not_met"),  # 25,000 < 30,000
        ("C05", "M01", 30000.0, 30000, None, "met"),
    ])


def test_scope_and_type_filter(conn):
    assert {c for c, _ in run(conn, params(scope_streets=["西山镇"]))} == {"C03", "C04", "C05"}
    assert db.run_query(conn, QUERY, params(scope_streets=[])).num_rows == 0
    assert db.run_query(conn, QUERY, params(scope_streets=["北湖街道"])).num_rows == 0
    assert {c for c, _ in run(conn, params(community_types=["old_town"]))} == {"C02"}


def test_funding_lines_of_unknown_communities_are_ignored(conn):
    conn.execute(
        "insert into funding values ('C99', 2024, 'office', 'fiscal', 1000.00, null, null, 9, 1)"
    )
    rows = run(conn, params())
    assert {c for c, _ in rows} == {"C01", "C02", "C03", "C04", "C05"}
    assert rows["C01", "M01"]["value"] == pytest.approx(25000.0)
