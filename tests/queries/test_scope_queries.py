"""The non-indicator queries: communities, totals, streets, types, years, months."""

from __future__ import annotations

from datetime import date

import pytest

from governance import db
from tests.conftest import load_fixture_sql

STREETS = ["东湖街道", "西山镇"]
TYPES = ["urban", "rural", "resettlement", "old_town", "urban_village"]


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    return memory_conn


def run(conn, name, **params):
    return db.run_query(conn, name, params).to_pylist()


def test_communities_in_scope(conn):
    rows = run(conn, "communities_in_scope", scope_streets=STREETS, community_types=TYPES)
    # ordered by street, then community_id
    assert [r["community_id"] for r in rows] == ["C01", "C02", "C03", "C04", "C05"]
    c02 = rows[1]
    assert (c02["community_name"], c02["street"], c02["community_type"]) == (
        "老街社区", "东湖街道", "old_town",
    )
    assert (c02["households"], c02["population"], c02["office_area_m2"]) == (1600, 3200, 320.0)
    assert c02["lon"] is None and c02["lat"] is None  # missing coordinates are kept
    assert "import_id" not in rows[0]


def test_communities_in_scope_filters(conn):
    rows = run(conn, "communities_in_scope", scope_streets=["西山镇"], community_types=TYPES)
    assert [r["community_id"] for r in rows] == ["C03", "C04", "C05"]
    rows = run(conn, "communities_in_scope", scope_streets=STREETS, community_types=["urban"])
    assert [r["community_id"] for r in rows] == ["C01", "C05"]
    assert run(conn, "communities_in_scope", scope_streets=[], community_types=TYPES) == []


def test_district_totals(conn):
    rows = run(conn, "district_totals", scope_streets=STREETS, community_types=TYPES)
    # households 1,600 + 1,600 + 500 + 0 + 3,500; population 4,000 + 3,200 + 1,500 + 0 + 9,000
    assert rows == [{"communities": 5, "households": 7200, "population": 17700, "streets": 2}]
    rows = run(conn, "district_totals", scope_streets=STREETS, community_types=["urban"])
    # C01 + C05
    assert rows == [{"communities": 2, "households": 5100, "population": 13000, "streets": 2}]


def test_district_totals_when_nothing_is_visible(conn):
    rows = run(conn, "district_totals", scope_streets=[], community_types=TYPES)
    assert rows == [{"communities": 0, "households": 0, "population": 0, "streets": 0}]


def test_streets(conn):
    rows = run(conn, "streets", scope_streets=STREETS)
    assert rows == [
        {"street": "东湖街道", "communities": 2},
        {"street": "西山镇", "communities": 3},
    ]
    assert run(conn, "streets", scope_streets=["西山镇", "北湖街道"]) == [
        {"street": "西山镇", "communities": 3},
    ]
    assert run(conn, "streets", scope_streets=[]) == []


def test_community_types_present(conn):
    rows = run(conn, "community_types_present", scope_streets=STREETS)
    assert rows == [
        {"community_type": "old_town", "communities": 1},
        {"community_type": "resettlement", "communities": 1},
        {"community_type": "rural", "communities": 1},
        {"community_type": "urban", "communities": 2},
    ]
    assert run(conn, "community_types_present", scope_streets=["东湖街道"]) == [
        {"community_type": "old_town", "communities": 1},
        {"community_type": "urban", "communities": 1},
    ]


def test_funding_years(conn):
    assert run(conn, "funding_years", scope_streets=STREETS) == [{"year": 2024}, {"year": 2023}]
    # 西山镇: C03 has 2023, C04 and C05 have 2024
    assert run(conn, "funding_years", scope_streets=["西山镇"]) == [
        {"year": 2024}, {"year": 2023},
    ]
    assert run(conn, "funding_years", scope_streets=[]) == []


def test_funding_years_ignore_unknown_communities(conn):
    conn.execute(
        "insert into funding values ('C99', 2019, 'office', 'fiscal', 1.00, null, null, 9, 1)"
    )
    assert [r["year"] for r in run(conn, "funding_years", scope_streets=STREETS)] == [2024, 2023]


def test_safety_months(conn):
    months = [r["month"] for r in run(conn, "safety_months", scope_streets=STREETS)]
    assert months == [
        date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1),
        date(2024, 4, 1),
    ]
    # 东湖街道 = C01 (Dec–Apr) and C02 (Jan–Feb)
    months = [r["month"] for r in run(conn, "safety_months", scope_streets=["西山镇"])]
    assert months == [date(2023, 12, 1), date(2024, 1, 1), date(2024, 3, 1)]
    assert run(conn, "safety_months", scope_streets=[]) == []


def test_all_street_names_is_unscoped(conn):
    assert run(conn, "all_street_names") == [{"street": "东湖街道"}, {"street": "西山镇"}]


def test_empty_database(memory_conn):
    assert run(memory_conn, "all_street_names") == []
    assert run(memory_conn, "funding_years", scope_streets=STREETS) == []
    assert run(memory_conn, "district_totals", scope_streets=STREETS, community_types=TYPES) == [
        {"communities": 0, "households": 0, "population": 0, "streets": 0}
    ]
