"""queries/community_facility_indicators.sql against tests/fixtures/indicators_small.sql."""

from __future__ import annotations

from governance import db
from governance.catalogue import Standards
from tests.queries.helpers import check, params, rows_by_key

QUERY = "community_facility_indicators"


def run(conn, bound):
    return rows_by_key(conn, QUERY, bound)


EXPECTED = [
    # F01 = office_area_m2 / households × 100; floor 20, target 30
    ("C01", "F01", 30.0, 20, 30, "met"),  # 480 / 1,600 × 100 = 30.0
    ("C02", "F01", 20.0, 20, 30, "partly_met"),  # 320 / 1,600 × 100 = 20.0 (= floor)
    ("C03", "F01", 24.0, 20, 30, "partly_met"),  # 120 / 500 × 100 = 24.0
    ("C04", "F01", None, 20, 30, "no_data"),  # 350 / 0 households
    ("C05", "F01", 8.0, 20, 30, "not_met"),  # 280 / 3,500 × 100 = 8.0
    # F02 = office_area_m2 ≥ 300, rural ≥ 100 (setting); pass/fail
    ("C01", "F02", 480.0, 300, None, "met"),
    ("C02", "F02", 320.0, 300, None, "met"),
    ("C03", "F02", 120.0, 100, None, "met"),  # rural: 120 ≥ 100
    ("C04", "F02", 350.0, 300, None, "met"),  # households 0 is irrelevant here
    ("C05", "F02", 280.0, 300, None, "not_met"),
    # F04 = in-use basic types / 6 × 100; target 100
    ("C01", "F04", 100.0, None, 100, "met"),  # 6 / 6
    ("C02", "F04", 50.0, None, 100, "not_met"),  # service_center, sports, elderly_daycare:
    #   3 / 6 (culture closed, police building, service_center twice counts once)
    ("C03", "F04", 0.0, None, 100, "not_met"),  # planned elderly home, toilet not basic
    ("C04", "F04", 0.0, None, 100, "not_met"),  # no facilities, table loaded → 0
    ("C05", "F04", 500 / 6, None, 100, "not_met"),  # 5 / 6 × 100 = 83.33 (no police)
    # F05 = Σ in-use elderly area / households × 100; floor 20, target 30
    ("C01", "F05", 30.0, 20, 30, "met"),  # (300 + 180) / 1,600 × 100 = 30.0
    ("C02", "F05", 20.0, 20, 30, "partly_met"),  # 320 / 1,600 × 100 = 20.0
    ("C03", "F05", 0.0, 20, 30, "not_met"),  # only a planned elderly home → 0 m²
    ("C04", "F05", None, 20, 30, "no_data"),  # households 0
    ("C05", "F05", None, 20, 30, "no_data"),  # its only elderly facility has no area
]


def test_values_and_statuses(conn):
    rows = run(conn, params())
    check(rows, EXPECTED)
    assert len(rows) == len(EXPECTED) == 20


def test_columns_and_order(conn):
    table = db.run_query(conn, QUERY, params())
    assert table.column_names[:6] == [
        "community_id", "indicator_id", "value", "floor_value", "target_value", "status",
    ]
    keys = list(zip(table.column("community_id").to_pylist(),
                    table.column("indicator_id").to_pylist(), strict=True))
    assert keys == sorted(keys)
    assert set(table.column("indicator_id").to_pylist()) == {"F01", "F02", "F04", "F05"}


def test_numerators_and_denominators(conn):
    rows = run(conn, params())
    assert (rows["C02", "F04"]["numerator"], rows["C02", "F04"]["denominator"]) == (3, 6)
    assert (rows["C01", "F05"]["numerator"], rows["C01", "F05"]["denominator"]) == (480, 1600)
    assert (rows["C01", "F01"]["numerator"], rows["C01", "F01"]["denominator"]) == (480, 1600)
    assert rows["C01", "F01"]["street"] == "东湖街道"
    assert rows["C03", "F01"]["community_type"] == "rural"


def test_empty_facilities_table_is_no_data_for_f04_f05_only(conn):
    conn.execute("delete from facilities")
    rows = run(conn, params())
    for community_id in ("C01", "C02", "C03", "C04", "C05"):
        assert rows[community_id, "F04"]["status"] == "no_data"
        assert rows[community_id, "F04"]["value"] is None
        assert rows[community_id, "F05"]["status"] == "no_data"
    assert rows["C01", "F01"]["status"] == "met"  # unaffected
    assert rows["C05", "F02"]["status"] == "not_met"


def test_scope_limits_rows(conn):
    rows = run(conn, params(scope_streets=["东湖街道"]))
    assert {c for c, _ in rows} == {"C01", "C02"}


def test_empty_scope_means_nothing_visible(conn):
    assert db.run_query(conn, QUERY, params(scope_streets=[])).num_rows == 0


def test_street_outside_scope_yields_no_rows(conn):
    assert db.run_query(conn, QUERY, params(scope_streets=["北湖街道"])).num_rows == 0


def test_type_filter(conn):
    rows = run(conn, params(community_types=["rural"]))
    assert {c for c, _ in rows} == {"C03"}
    rows = run(conn, params(community_types=["urban", "old_town"]))
    assert {c for c, _ in rows} == {"C01", "C02", "C05"}
    assert db.run_query(conn, QUERY, params(community_types=[])).num_rows == 0


def test_f01_floor_override_changes_status(conn):
    standards = Standards.default().with_overrides({"F01": {"floor": 30.0}})
    rows = run(conn, params(standards))
    check(rows, [
        ("C01", "F01", 30.0, 30, 30, "met"),
        ("C02", "F01", 20.0, 30, 30, "not_met"),  # 20 < new floor 30
        ("C03", "F01", 24.0, 30, 30, "not_met"),
    ])


def test_rural_floor_setting_and_f02_floor_override(conn):
    standards = Standards.default().with_overrides(
        {"F02": {"floor": 250.0}}, settings={"rural_office_area_floor_m2": 150.0}
    )
    rows = run(conn, params(standards))
    check(rows, [
        ("C03", "F02", 120.0, 150, None, "not_met"),  # rural: 120 < 150
        ("C05", "F02", 280.0, 250, None, "met"),  # urban: 280 ≥ 250
    ])


def test_basic_facility_types_setting(conn):
    rows = run(conn, params(basic_facility_types=["service_center", "police"]))
    check(rows, [
        ("C01", "F04", 100.0, None, 100, "met"),  # 2 / 2
        ("C02", "F04", 50.0, None, 100, "not_met"),  # 1 / 2 (police still building)
        ("C05", "F04", 50.0, None, 100, "not_met"),  # 1 / 2
    ])
    rows = run(conn, params(basic_facility_types=[]))
    assert rows["C01", "F04"]["status"] == "no_data"  # empty list: 0 / 0


def test_elderly_facility_types_setting(conn):
    rows = run(conn, params(elderly_facility_types=["elderly_home"]))
    check(rows, [
        ("C01", "F05", 11.25, 20, 30, "not_met"),  # 180 / 1,600 × 100 = 11.25
        ("C02", "F05", 0.0, 20, 30, "not_met"),  # no in-use elderly_home → 0
    ])
