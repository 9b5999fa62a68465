"""The funding page's queries on the small fixture (tests/fixtures/indicators_small.sql).

Fixture funding lines (year, community, category, source, amount, allocated → disbursed):
  2024 C01 office          fiscal          25,000  03-01 → 03-31  (30 days)
  2024 C01 party_building  fiscal         100,000  03-01 → 04-01  (31 days)
  2024 C01 public_welfare  donation        35,000  no dates
  2024 C01 activity        co_building     40,000  05-10 → 05-20  (10 days)
  2023 C01 office          fiscal          99,999  2023-03-01 → 2023-12-31
  2024 C02 office          fiscal          20,000  02-01 → 02-06  (5 days)
  2024 C02 facility        fiscal          60,000  06-01 → never
  2023 C03 office          fiscal          30,000  2023-02-01 → 2023-02-10
  2024 C04 party_building  fiscal               0  no dates
  2024 C05 office / party_building / other  30,000 / 120,000 / 50,000, no dates
Streets: C01, C02 东湖街道; C03, C04, C05 西山镇.
"""

from __future__ import annotations

from datetime import date

import pytest

from governance import db
from tests.queries.helpers import params


def _rows(conn, query, **overrides):
    return db.run_query(conn, query, params(**overrides)).to_pylist()


# ---------------------------------------------------------------------------
# funding_by_category_source


def test_category_source_rows_for_2024(conn):
    rows = _rows(conn, "funding_by_category_source")
    got = [(r["community_id"], r["category"], r["source"], r["amount_yuan"], r["lines"]) for r in rows]
    assert got == [
        ("C01", "activity", "co_building", 40000.0, 1),
        ("C01", "office", "fiscal", 25000.0, 1),
        ("C01", "party_building", "fiscal", 100000.0, 1),
        ("C01", "public_welfare", "donation", 35000.0, 1),
        ("C02", "facility", "fiscal", 60000.0, 1),
        ("C02", "office", "fiscal", 20000.0, 1),
        ("C04", "party_building", "fiscal", 0.0, 1),  # a zero line is still a line
        ("C05", "office", "fiscal", 30000.0, 1),
        ("C05", "other", "service_income", 50000.0, 1),
        ("C05", "party_building", "fiscal", 120000.0, 1),
    ]
    assert all(isinstance(r["amount_yuan"], float) for r in rows)
    # C01: 40,000 + 25,000 + 100,000 + 35,000 = 200,000, as M03's numerator.
    assert sum(r["amount_yuan"] for r in rows if r["community_id"] == "C01") == 200000.0


def test_category_source_year_filter(conn):
    rows = _rows(conn, "funding_by_category_source", year=2023)
    got = [(r["community_id"], r["category"], r["amount_yuan"]) for r in rows]
    # Only the two 2023 lines: C01 office 99,999 and C03 office 30,000.
    assert got == [("C01", "office", 99999.0), ("C03", "office", 30000.0)]
    assert _rows(conn, "funding_by_category_source", year=2020) == []


def test_category_source_scope_and_type_filter(conn):
    rows = _rows(conn, "funding_by_category_source", scope_streets=["东湖街道"])
    assert {r["community_id"] for r in rows} == {"C01", "C02"}
    rows = _rows(conn, "funding_by_category_source", community_types=["urban"])
    assert {r["community_id"] for r in rows} == {"C01", "C05"}
    assert _rows(conn, "funding_by_category_source", scope_streets=[]) == []


def test_category_source_groups_several_lines(memory_conn):
    memory_conn.execute(
        """
        insert into communities (community_id, community_name, street, community_type,
            households, population, office_area_m2, import_id)
        values ('X1', 'x', '东湖街道', 'urban', 100, 200, 300.0, 1);
        insert into funding (community_id, year, category, source, amount_yuan, import_id)
        values ('X1', 2024, 'office', 'fiscal', 10000.50, 1),
               ('X1', 2024, 'office', 'fiscal', 14999.50, 1),
               ('X1', 2024, 'office', 'donation', 1.25, 1);
        """
    )
    rows = _rows(memory_conn, "funding_by_category_source")
    # fiscal: 10,000.50 + 14,999.50 = 25,000.00 over 2 lines; donation 1.25 over 1.
    assert [(r["source"], r["amount_yuan"], r["lines"]) for r in rows] == [
        ("donation", 1.25, 1),
        ("fiscal", 25000.0, 2),
    ]


# ---------------------------------------------------------------------------
# funding_by_community_year


def test_community_year_rows(conn):
    rows = {(r["community_id"], r["year"]): r for r in _rows(conn, "funding_by_community_year")}
    assert list(rows) == [
        ("C01", 2023), ("C01", 2024), ("C02", 2024), ("C03", 2023), ("C04", 2024), ("C05", 2024),
    ]
    c01_2023, c01_2024 = rows[("C01", 2023)], rows[("C01", 2024)]
    assert c01_2023["total_yuan"] == 99999.0
    assert c01_2023["per_household_yuan"] == pytest.approx(99999 / 1600)  # 62.499375
    assert c01_2023["previous_year_total_yuan"] is None
    assert c01_2023["change_yuan"] is None and c01_2023["change_pct"] is None
    # 2024: 200,000 / 1,600 = 125; change 200,000 − 99,999 = 100,001 = 100.002 %.
    assert c01_2024["total_yuan"] == 200000.0 and c01_2024["lines"] == 4
    assert c01_2024["per_household_yuan"] == pytest.approx(125.0)
    assert c01_2024["previous_year_total_yuan"] == 99999.0
    assert c01_2024["change_yuan"] == pytest.approx(100001.0)
    assert c01_2024["change_pct"] == pytest.approx(100001 * 100 / 99999)
    # C02: 80,000 / 1,600 = 50; C03: 30,000 / 500 = 60; C05: 200,000 / 3,500.
    assert rows[("C02", 2024)]["per_household_yuan"] == pytest.approx(50.0)
    assert rows[("C03", 2023)]["per_household_yuan"] == pytest.approx(60.0)
    assert rows[("C05", 2024)]["per_household_yuan"] == pytest.approx(200000 / 3500)
    # C04: 0 households → per household NULL, total a real 0.
    assert rows[("C04", 2024)]["total_yuan"] == 0.0
    assert rows[("C04", 2024)]["per_household_yuan"] is None
    # C02 has no 2023 lines: no previous year.
    assert rows[("C02", 2024)]["change_yuan"] is None


def test_community_year_scope(conn):
    rows = _rows(conn, "funding_by_community_year", scope_streets=["西山镇"])
    assert {r["community_id"] for r in rows} == {"C03", "C04", "C05"}
    rows = _rows(conn, "funding_by_community_year", community_types=["old_town"])
    assert [(r["community_id"], r["year"]) for r in rows] == [("C02", 2024)]


# ---------------------------------------------------------------------------
# funding_disbursement_lines


def _lines(conn, **overrides):
    overrides.setdefault("as_of_date", date(2024, 12, 31))
    return _rows(conn, "funding_disbursement_lines", **overrides)


def test_disbursement_lines_statuses(conn):
    rows = _lines(conn)
    got = [
        (r["community_id"], r["category"], r["delay_days"], r["status"], r["days_outstanding"])
        for r in rows
    ]
    assert got == [
        ("C01", "office", 30, "on_time", None),  # 03-01 → 03-31 = 30 ≤ 30
        ("C01", "party_building", 31, "late", None),  # 03-01 → 04-01 = 31 > 30
        ("C01", "activity", 10, "on_time", None),  # 05-10 → 05-20 = 10
        ("C01", "public_welfare", None, "undated", None),
        ("C02", "office", 5, "on_time", None),  # 02-01 → 02-06 = 5
        # allocated 2024-06-01, never disbursed: 06-01 → 12-31 = 29+31+31+30+31+30+31 = 213
        ("C02", "facility", None, "not_disbursed", 213),
        ("C04", "party_building", None, "undated", None),
        ("C05", "office", None, "undated", None),
        ("C05", "other", None, "undated", None),
        ("C05", "party_building", None, "undated", None),
    ]
    c02 = rows[5]
    assert c02["allocated_date"] == date(2024, 6, 1) and c02["disbursed_date"] is None
    assert c02["amount_yuan"] == 60000.0


def test_disbursement_on_time_days_is_a_setting(conn):
    statuses = [r["status"] for r in _lines(conn, on_time_days=31)][:3]
    assert statuses == ["on_time", "on_time", "on_time"]
    statuses = [r["status"] for r in _lines(conn, on_time_days=9)][:3]
    assert statuses == ["late", "late", "late"]


def test_disbursement_as_of_before_allocation_is_zero(conn):
    rows = _lines(conn, as_of_date=date(2024, 5, 1))
    assert [r["days_outstanding"] for r in rows if r["status"] == "not_disbursed"] == [0]


def test_disbursement_year_and_scope(conn):
    rows = _lines(conn, year=2023)
    # 2023: C01 03-01 → 12-31 = 305 days (late); C03 02-01 → 02-10 = 9 days.
    assert [(r["community_id"], r["delay_days"], r["status"]) for r in rows] == [
        ("C01", 305, "late"),
        ("C03", 9, "on_time"),
    ]
    rows = _lines(conn, scope_streets=["西山镇"])
    assert {r["community_id"] for r in rows} == {"C04", "C05"}


def test_disbursed_without_allocation_date_is_undated(memory_conn):
    memory_conn.execute(
        """
        insert into communities (community_id, community_name, street, community_type,
            households, population, office_area_m2, import_id)
        values ('X1', 'x', '东湖街道', 'urban', 100, 200, 300.0, 1);
        insert into funding (community_id, year, category, source, amount_yuan,
            allocated_date, disbursed_date, import_id)
        values ('X1', 2024, 'office', 'fiscal', 1.00, null, '2024-02-01', 1);
        """
    )
    rows = _lines(memory_conn)
    assert [(r["status"], r["delay_days"], r["days_outstanding"]) for r in rows] == [
        ("undated", None, None)
    ]


# ---------------------------------------------------------------------------
# district_public_welfare


def test_district_public_welfare(conn):
    rows = _rows(conn, "district_public_welfare", public_welfare_budget_yuan=1_000_000.0)
    assert rows == [
        # 2023 has lines (C01, C03) but none is public_welfare.
        {"year": 2023, "public_welfare_yuan": 0.0, "lines": 0, "communities_funded": 0,
         "budget_yuan": 1_000_000.0, "share_of_budget_pct": 0.0},
        # 2024: C01's 35,000 donation line; 35,000 / 1,000,000 × 100 = 3.5 %.
        {"year": 2024, "public_welfare_yuan": 35000.0, "lines": 1, "communities_funded": 1,
         "budget_yuan": 1_000_000.0, "share_of_budget_pct": 3.5},
    ]


def test_district_public_welfare_scope_and_zero_budget(conn):
    rows = _rows(
        conn, "district_public_welfare", public_welfare_budget_yuan=0.0, scope_streets=["西山镇"]
    )
    # 西山镇 has C03 (2023) and C04/C05 (2024) lines, none public_welfare.
    assert [(r["year"], r["public_welfare_yuan"], r["share_of_budget_pct"]) for r in rows] == [
        (2023, 0.0, None),
        (2024, 0.0, None),
    ]
