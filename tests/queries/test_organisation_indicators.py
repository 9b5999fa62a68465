"""queries/community_organisation_indicators.sql against tests/fixtures/indicators_small.sql."""

from __future__ import annotations

from governance import db
from governance.catalogue import Standards
from tests.queries.helpers import check, params, rows_by_key

QUERY = "community_organisation_indicators"


def run(conn, bound):
    return rows_by_key(conn, QUERY, bound)


EXPECTED = [
    # O01: value = committee_members; floor = required members by households
    #   (5 up to 1,000; 7 up to 3,000; 9 above)
    ("C01", "O01", 7.0, 7, None, "met"),  # 1,600 households → 7; has 7
    ("C02", "O01", 5.0, 7, None, "not_met"),  # 1,600 → 7; has 5
    ("C03", "O01", 5.0, 5, None, "met"),  # 500 → 5; has 5
    ("C04", "O01", None, 5, None, "no_data"),  # 0 → 5; members not reported
    ("C05", "O01", 8.0, 9, None, "not_met"),  # 3,500 → 9; has 8
    # O02 = volunteers / population × 1,000; no standard
    ("C01", "O02", 30.0, None, None, "not_rated"),  # 120 / 4,000 × 1,000
    ("C02", "O02", 0.0, None, None, "not_rated"),  # 0 / 3,200
    ("C03", "O02", 20.0, None, None, "not_rated"),  # 30 / 1,500 × 1,000
    ("C04", "O02", None, None, None, "no_data"),  # population 0
    ("C05", "O02", 20.0, None, None, "not_rated"),  # 180 / 9,000 × 1,000
]


def test_values_and_statuses(conn):
    rows = run(conn, params())
    check(rows, EXPECTED)
    assert len(rows) == len(EXPECTED) == 10


def test_band_upper_bounds_are_inclusive(conn):
    rows = run(conn, params(committee_medium_max_households=1600))
    check(rows, [("C01", "O01", 7.0, 7, None, "met")])  # 1,600 ≤ 1,600 → still 7
    rows = run(conn, params(committee_medium_max_households=1599))
    check(rows, [("C01", "O01", 7.0, 9, None, "not_met")])  # 1,600 > 1,599 → 9
    rows = run(conn, params(committee_small_max_households=1600))
    check(rows, [
        ("C01", "O01", 7.0, 5, None, "met"),  # 1,600 ≤ 1,600 → 5
        ("C02", "O01", 5.0, 5, None, "met"),
    ])


def test_member_count_settings(conn):
    rows = run(conn, params(committee_members_large=8, committee_members_medium=5))
    check(rows, [
        ("C05", "O01", 8.0, 8, None, "met"),
        ("C02", "O01", 5.0, 5, None, "met"),
    ])


def test_per_community_floor_overrides_a_catalogue_floor(conn):
    standards = Standards.default().with_overrides({"O01": {"floor": 100.0}})
    rows = run(conn, params(standards))
    check(rows, [("C01", "O01", 7.0, 7, None, "met")])


def test_scope_and_type_filter(conn):
    assert {c for c, _ in run(conn, params(scope_streets=["西山镇"]))} == {"C03", "C04", "C05"}
    assert db.run_query(conn, QUERY, params(scope_streets=[])).num_rows == 0
    assert db.run_query(conn, QUERY, params(scope_streets=["北湖街道"])).num_rows == 0
    assert {c for c, _ in run(conn, params(community_types=["urban"]))} == {"C01", "C05"}
