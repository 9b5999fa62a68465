"""queries/community_organisation_indicators.sql against tests/fixtures/indicators_small.sql."""

from __future__ import annotations

from datetime import date

import pytest

from governance import db
from governance.catalogue import Standards
from tests.conftest import load_fixture_sql

QUERY = "community_organisation_indicators"
STREETS = ["东湖街道", "西山镇"]
TYPES = ["urban", "rural", "resettlement", "old_town", "urban_village"]


def params(standards: Standards | None = None, **overrides):
    standards = standards or Standards.default()
    bound = {
        key: list(value) if isinstance(value, (list, tuple)) else value
        for key, value in standards.settings.items()
    }
    bound.update(
        scope_streets=STREETS,
        community_types=TYPES,
        thresholds=standards.thresholds_param(),
        year=2024,
        month_from=date(2024, 1, 1),
        month_to=date(2024, 3, 1),
    )
    bound.update(overrides)
    return bound


def run(conn, bound):
    table = db.run_query(conn, QUERY, bound)
    return {(r["community_id"], r["indicator_id"]): r for r in table.to_pylist()}


def check(rows, expected):
    """expected: (community, indicator, value, floor, target, status) tuples."""
    for community_id, indicator_id, value, floor, target, status in expected:
        row = rows[(community_id, indicator_id)]
        where = f"{community_id} {indicator_id}"
        assert row["status"] == status, where
        if value is None:
            assert row["value"] is None, where
        else:
            assert row["value"] == pytest.approx(value), where
        assert row["floor_value"] == (None if floor is None else pytest.approx(floor)), where
        assert row["target_value"] == (None if target is None else pytest.approx(target)), where


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    return memory_conn


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
