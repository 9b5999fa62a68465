"""The coverage queries against tests/fixtures/coverage_small.sql (distances worked
by hand in the fixture's header):

    queries/coverage_points.sql, queries/community_facility_coverage.sql,
    queries/community_coverage_indicators.sql, queries/community_coverage_basis.sql
"""

from __future__ import annotations

import math
import re

import pytest

from governance import coverage, db
from governance import indicators as ind
from governance.catalogue import Standards
from governance.indicators import Period, ViewFilter
from tests.conftest import load_fixture_sql

STREETS = ["东街道", "南街道", "西镇"]
TYPES = ["urban", "rural", "resettlement", "old_town", "urban_village"]
M_PER_DEG = 6_371_008.8 * math.pi / 180  # 111,195.08 m per degree of latitude
DETOUR = 1.25
COS30 = math.cos(math.radians(30.0))
COVERAGE_QUERIES = [
    "coverage_points", "community_facility_coverage", "community_coverage_indicators",
]


def walking(straight_m: float) -> float:
    return straight_m * DETOUR


def params(**overrides):
    standards = Standards.default()
    bound = {
        key: list(value) if isinstance(value, (list, tuple)) else value
        for key, value in standards.settings.items()
    }
    bound.update(
        scope_streets=STREETS,
        community_types=TYPES,
        thresholds=standards.thresholds_param(),
        facility_types=["service_center"],
        radius_m=500.0,
        nearest_search_m=3000.0,
        added_facilities=[],
        closed_facility_ids=[],
    )
    bound.update(overrides)
    return bound


def proposal(lon, lat, n=1, facility_type="service_center"):
    return {"facility_id": f"proposed-{n}", "facility_name": f"拟建{n}",
            "facility_type": facility_type, "lon": lon, "lat": lat}


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "coverage_small")
    return memory_conn


def points(conn, **overrides):
    table = db.run_query(conn, "coverage_points", params(**overrides))
    return {(r["point_id"], r["facility_type"]): r for r in table.to_pylist()}


def communities(conn, **overrides):
    table = db.run_query(conn, "community_facility_coverage", params(**overrides))
    return {(r["community_id"], r["facility_type"]): r for r in table.to_pylist()}


def f03(conn, **overrides):
    table = db.run_query(conn, "community_coverage_indicators", params(**overrides))
    return {r["community_id"]: r for r in table.to_pylist()}


def pct(rows, community_id, facility_type="service_center"):
    return rows[community_id, facility_type]["coverage_pct"]


# --- the shared grid -------------------------------------------------------------


def test_every_coverage_query_uses_the_one_walking_grid():
    for name in COVERAGE_QUERIES:
        query = db.load_query(name)
        assert "walking_grid" in query.fragments, name
        # written once: no query file spells the grid out itself
        text = (db.QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
        assert not re.search(r"^(row_widths|near_pairs) as \(", text, re.M), name
    block = db.load_fragment("walking_grid")
    assert " between " not in block.lower()  # an equi-join, not a band join
    assert not re.search(r"cross join (typed_)?facilities\b", block)  # and not all pairs


def test_f03_query_follows_the_indicator_query_rules():
    query = db.load_query("community_coverage_indicators")
    assert {"scope_streets", "community_types", "thresholds",
            "service_circle_radius_m", "walking_detour_factor"} == set(query.parameters)
    assert "indicator_status(" in query.sql
    assert re.search(r"select \* from final\s*(order by [a-z_, ]+)?\s*$", query.sql)
    assert "'not_met'" not in query.sql and "'no_data'" not in query.sql


# --- points ---------------------------------------------------------------------


def test_point_distances_and_flags(conn):
    rows = points(conn)
    assert len(rows) == 9  # every residence once for the one type
    r01, r02, r03 = rows["R01", "service_center"], rows["R02", "service_center"], \
        rows["R03", "service_center"]
    # R01: 0.0030° N of S1 = 333.59 m straight → 416.98 m walking ≤ 500: covered
    assert r01["nearest_walking_m"] == pytest.approx(walking(0.003 * M_PER_DEG), rel=1e-9)
    assert (r01["nearest_facility_id"], r01["nearest_facility_name"]) == ("S1", "东一服务中心")
    assert r01["is_covered"] and r01["was_covered"]
    # R02: 0.0037° N = 411.42 m → 514.28 m > 500: not covered, nearest still reported
    assert r02["nearest_walking_m"] == pytest.approx(walking(0.0037 * M_PER_DEG), rel=1e-9)
    assert r02["nearest_facility_id"] == "S1" and not r02["is_covered"]
    assert r03["nearest_walking_m"] == pytest.approx(277.99, abs=0.01)
    # R07: 0.006° E at 30° N = 577.78 m → 722.22 m walking
    r07 = rows["R07", "service_center"]
    assert r07["nearest_walking_m"] == pytest.approx(walking(0.006 * M_PER_DEG * COS30), rel=1e-6)
    assert r07["nearest_facility_id"] == "S6" and not r07["is_covered"]
    # R04: the closed S2 and planned S3 sit 111 m away and do not count; S1 is 9.6 km
    # away, beyond the 3,000 m search: nearest unknown, said as such
    r04 = rows["R04", "service_center"]
    assert r04["nearest_facility_id"] is None and r04["nearest_walking_m"] is None
    assert not r04["is_covered"] and r04["search_limit_m"] == 3000.0
    # R08 (K02, 南街道) is served by K01's S1 on another street
    assert rows["R08", "service_center"]["is_covered"]
    assert rows["R08", "service_center"]["nearest_facility_id"] == "S1"
    assert {r["basis"] for r in rows.values()} == {"residences"}
    assert rows["R01", "service_center"]["street"] == "东街道"


def test_points_radius_and_search_limit(conn):
    at_300 = points(conn, radius_m=300.0)
    assert not at_300["R01", "service_center"]["is_covered"]  # 416.98 > 300
    assert at_300["R03", "service_center"]["is_covered"]  # 277.99 ≤ 300
    # A search limit below the distance hides the nearest beyond the circle …
    short = points(conn, nearest_search_m=600.0)
    assert short["R07", "service_center"]["nearest_walking_m"] is None  # 722 > 600
    assert short["R02", "service_center"]["nearest_facility_id"] == "S1"  # 514 ≤ 600
    # … and it is never shorter than the circle itself.
    assert points(conn, nearest_search_m=10.0)["R01", "service_center"]["search_limit_m"] == 500


def test_points_for_several_types(conn):
    rows = points(conn, facility_types=["service_center", "culture"])
    assert len(rows) == 18
    assert rows["R04", "culture"]["nearest_facility_id"] == "S4"
    assert rows["R04", "culture"]["nearest_walking_m"] == pytest.approx(
        walking(0.001 * M_PER_DEG), rel=1e-9)  # 139.00 m
    assert rows["R04", "culture"]["is_covered"]
    assert rows["R01", "culture"]["nearest_facility_id"] is None  # S4 is 9.6 km away


# --- per community --------------------------------------------------------------


def test_community_coverage_is_household_weighted(conn):
    rows = communities(conn)
    assert len(rows) == 6
    k01 = rows["K01", "service_center"]
    assert (k01["points"], k01["households_total"], k01["households_covered"]) == (3, 180, 130)
    assert k01["coverage_pct"] == pytest.approx(130 / 180 * 100)  # R01 100 + R03 30 of 180
    assert pct(rows, "K02") == pytest.approx(20.0)  # R08 10 of 50 (R04 is far from S1)
    assert pct(rows, "K05") == pytest.approx(200 / 300 * 100)  # R06 yes, R07 no
    assert pct(rows, "K06") == pytest.approx(100.0)
    # K03: no residences → no points → no data; K04: its only point has 0 households
    k03, k04 = rows["K03", "service_center"], rows["K04", "service_center"]
    assert (k03["points"], k03["households_total"], k03["coverage_pct"]) == (0, 0, None)
    assert (k04["points"], k04["households_total"], k04["coverage_pct"]) == (1, 0, None)
    # K03 has neither residences nor centre coordinates: no basis at all
    assert {k: r["basis"] for (k, _), r in rows.items()} == {
        "K01": "residences", "K02": "residences", "K03": None, "K04": "residences",
        "K05": "residences", "K06": "residences"}
    # no what-if: the baseline equals the plain figures
    for row in rows.values():
        assert row["households_covered_baseline"] == row["households_covered"]
        assert row["households_newly_covered"] in (0, None)
        assert row["households_lost"] in (0, None)


@pytest.mark.parametrize(("radius", "expected"), [
    (300.0, {"K01": 30 / 180 * 100, "K02": 20.0, "K05": 0.0, "K06": 100.0}),
    (1000.0, {"K01": 100.0, "K02": 20.0, "K05": 100.0, "K06": 100.0}),
])
def test_community_coverage_by_radius(conn, radius, expected):
    rows = communities(conn, radius_m=radius)
    for community_id, value in expected.items():
        assert pct(rows, community_id) == pytest.approx(value), community_id


def test_community_coverage_by_type(conn):
    rows = communities(conn, facility_types=["culture", "service_center"])
    assert len(rows) == 12
    assert pct(rows, "K02", "culture") == pytest.approx(80.0)  # R04 40 of 50
    assert pct(rows, "K01", "culture") == 0.0
    assert pct(rows, "K04", "culture") is None


def test_centroid_fallback(conn):
    conn.execute("delete from residences")
    rows = communities(conn)
    assert {r["basis"] for k, r in rows.items() if k[0] != "K03"} == {"centroids"}
    # K01 centroid 0.001° N of S1 (139 m walking) carries all 180 households
    k01 = rows["K01", "service_center"]
    assert (k01["points"], k01["households_total"], k01["coverage_pct"]) == (1, 180, 100.0)
    assert pct(rows, "K02") == 0.0  # centroid on the closed S2; S1 is 9.6 km away
    assert rows["K03", "service_center"]["points"] == 0  # no coordinates
    assert pct(rows, "K03") is None
    assert pct(rows, "K04") is None  # 0 households
    assert pct(rows, "K05") == 100.0 and pct(rows, "K06") == 100.0
    point_rows = points(conn)
    assert set(point_rows) == {(k, "service_center") for k in ("K01", "K02", "K04", "K05", "K06")}
    assert point_rows["K01", "service_center"]["basis"] == "centroids"
    assert point_rows["K01", "service_center"]["nearest_walking_m"] == pytest.approx(
        walking(0.001 * M_PER_DEG), rel=1e-9)


def test_basis_is_per_community(conn):
    # K05 loses its residences (R06 200 hh covered, R07 100 hh not): it falls back
    # to its centre, 0.001° N of S6 in use (139 m walking), carrying its 300 households.
    conn.execute("delete from residences where community_id = 'K05'")
    rows = communities(conn)
    k05 = rows["K05", "service_center"]
    assert (k05["basis"], k05["points"], k05["households_total"]) == ("centroids", 1, 300)
    assert k05["coverage_pct"] == pytest.approx(100.0)
    # the others keep their residences and their figures
    assert rows["K01", "service_center"]["basis"] == "residences"
    assert pct(rows, "K01") == pytest.approx(130 / 180 * 100)
    point_rows = points(conn)
    assert point_rows["K05", "service_center"]["basis"] == "centroids"
    assert point_rows["R01", "service_center"]["basis"] == "residences"
    f03_rows = f03(conn)
    assert f03_rows["K05"]["value"] == pytest.approx(100.0)
    assert f03_rows["K05"]["denominator"] == 300


def test_scope_and_type_filters(conn):
    rows = communities(conn, scope_streets=["南街道"])
    assert set(rows) == {("K02", "service_center")}
    assert pct(rows, "K02") == pytest.approx(20.0)  # facilities are never scope-filtered
    assert set(points(conn, scope_streets=["南街道"])) == {
        ("R04", "service_center"), ("R08", "service_center")}
    rows = communities(conn, community_types=["urban"])
    assert {k for k, _ in rows} == {"K01", "K04", "K06"}
    assert communities(conn, scope_streets=[]) == {}
    assert points(conn, scope_streets=[]) == {}


def test_no_facility_coordinates_means_no_data(conn):
    conn.execute("update facilities set lon = null, lat = null")
    rows = communities(conn)
    assert all(r["coverage_pct"] is None for r in rows.values())
    assert rows["K01", "service_center"]["households_total"] == 180
    assert all(r["status"] == "no_data" for r in f03(conn).values())


# --- what-if --------------------------------------------------------------------


def test_what_if_add_a_service_centre(conn):
    rows = communities(conn, added_facilities=[proposal(114.306, 30.0)])  # on R07
    k05 = rows["K05", "service_center"]
    assert (k05["households_covered_baseline"], k05["households_covered"]) == (200, 300)
    assert (k05["households_newly_covered"], k05["households_lost"]) == (100, 0)
    assert k05["coverage_pct"] == 100.0
    assert k05["coverage_baseline_pct"] == pytest.approx(200 / 3)
    assert rows["K01", "service_center"]["households_newly_covered"] == 0
    # the stored data is untouched
    assert conn.execute("select count(*) from facilities").fetchone()[0] == 8
    point = points(conn, added_facilities=[proposal(114.306, 30.0)])["R07", "service_center"]
    assert point["nearest_facility_id"] == "proposed-1" and point["nearest_walking_m"] == 0
    assert point["is_covered"] and not point["was_covered"]


def test_what_if_close_a_service_centre(conn):
    rows = communities(conn, closed_facility_ids=["S1"])
    k01 = rows["K01", "service_center"]
    assert (k01["households_covered"], k01["households_lost"], k01["coverage_pct"]) == (0, 130, 0)
    assert rows["K02", "service_center"]["households_lost"] == 10  # R08 was served by S1
    point = points(conn, closed_facility_ids=["S1"])["R01", "service_center"]
    assert point["nearest_facility_id"] is None and point["was_covered"]


def test_what_if_move_a_service_centre(conn):
    # Close S1 and propose one on R02 (0.0037° N of S1): R01 is then 77.8 m straight
    # away, R03 189.0 m (236.3 m walking): all of K01 covered, R02's 50 households new;
    # R08 is now 0.0057° away = 633.8 m straight → 792.3 m walking: lost.
    rows = communities(conn, closed_facility_ids=["S1"],
                       added_facilities=[proposal(114.0, 30.0037)])
    k01 = rows["K01", "service_center"]
    assert (k01["households_covered"], k01["households_newly_covered"],
            k01["households_lost"]) == (180, 50, 0)
    k02 = rows["K02", "service_center"]
    assert (k02["households_covered"], k02["households_lost"]) == (0, 10)
    # a proposal of another type changes nothing for service centres
    rows = communities(conn, added_facilities=[proposal(114.306, 30.0, facility_type="culture")])
    assert rows["K05", "service_center"]["households_newly_covered"] == 0


# --- F03 ------------------------------------------------------------------------


def test_f03_values_and_statuses(conn):
    rows = f03(conn)
    assert list(rows) == ["K01", "K02", "K03", "K04", "K05", "K06"]
    expected = {
        "K01": (130 / 180 * 100, "not_met", 130, 180),
        "K02": (20.0, "not_met", 10, 50),
        "K03": (None, "no_data", None, None),  # no residences
        "K04": (None, "no_data", 0, 0),  # 0 households
        "K05": (200 / 3, "not_met", 200, 300),
        "K06": (100.0, "met", 60, 60),
    }
    for community_id, (value, status, numerator, denominator) in expected.items():
        row = rows[community_id]
        assert row["indicator_id"] == "F03"
        assert row["status"] == status, community_id
        assert row["value"] == (None if value is None else pytest.approx(value)), community_id
        assert (row["numerator"], row["denominator"]) == (numerator, denominator), community_id
        assert row["target_value"] == 100.0 and row["floor_value"] is None
    assert rows["K05"]["community_type"] == "resettlement" and rows["K05"]["street"] == "西镇"


def test_f03_follows_the_radius_setting_and_scope(conn):
    rows = f03(conn, service_circle_radius_m=1000.0)
    assert rows["K01"]["value"] == 100.0 and rows["K01"]["status"] == "met"
    assert list(f03(conn, scope_streets=["东街道"])) == ["K01"]
    rows = f03(conn, walking_detour_factor=1.0)  # R02 411 m straight ≤ 500
    assert rows["K01"]["value"] == 100.0


def test_f03_in_indicators_long_for_every_community(conn):
    frame = ind.indicators_long(conn, Period())
    f03_rows = frame[frame.indicator_id == "F03"].set_index("community_id")
    assert list(f03_rows.index) == ["K01", "K02", "K03", "K04", "K05", "K06"]
    assert f03_rows.loc["K06", "status"] == "met"
    assert math.isnan(f03_rows.loc["K03", "value"])
    values = ind.indicator_values(conn, Period(), ViewFilter(community_types=("urban",)))
    assert values.schema == ind.VALUES_SCHEMA
    frame = values.to_pandas()
    assert sorted(frame[frame.indicator_id == "F03"].community_id) == ["K01", "K04", "K06"]
    assert set(frame[frame.indicator_id == "F03"].dimension) == {"facilities"}
    # catalogue order: F03 between F02 and F04
    ids = frame[frame.community_id == "K01"].indicator_id.tolist()
    assert ids[:4] == ["F01", "F02", "F03", "F04"]
    matrix = ind.status_matrix(values)
    assert "F03" in matrix.columns and "F03_status" in matrix.columns


def test_f03_with_the_indicator_fixture(memory_conn):
    # indicators_small has no facility coordinates: F03 is no_data for all five.
    load_fixture_sql(memory_conn, "indicators_small")
    frame = ind.indicators_long(memory_conn, Period())
    statuses = frame[frame.indicator_id == "F03"].set_index("community_id")["status"]
    assert statuses.to_dict() == {c: "no_data" for c in ("C01", "C02", "C03", "C04", "C05")}


# --- basis ----------------------------------------------------------------------


def _bases(conn, base) -> dict:
    rows = db.run_query(conn, "community_coverage_basis", base).to_pylist()
    return {r["community_id"]: (r["residences"], r["basis"]) for r in rows}


def test_community_coverage_basis(conn):
    base = {"scope_streets": STREETS, "community_types": TYPES}
    # K03 has neither residences nor centre coordinates: nothing to rate it on.
    assert _bases(conn, base) == {
        "K01": (3, "residences"), "K02": (2, "residences"), "K03": (0, None),
        "K04": (1, "residences"), "K05": (2, "residences"), "K06": (1, "residences")}
    assert coverage.coverage_basis(conn) == {
        "basis": "residences", "communities": 6, "communities_on_residences": 5,
        "communities_on_centroids": 0, "points": 9, "communities_without_points": 1}
    conn.execute("delete from residences where community_id = 'K05'")  # R06, R07
    assert _bases(conn, base)["K05"] == (0, "centroids")  # its centre stands in
    basis = coverage.coverage_basis(conn)
    assert (basis["basis"], basis["communities_on_residences"],
            basis["communities_on_centroids"], basis["points"]) == ("mixed", 4, 1, 8)
    # A filter's figures are its own communities' rows added up.
    west = coverage.coverage_basis(conn, ViewFilter(streets=("西镇",)))
    assert (west["communities"], west["communities_on_residences"],
            west["communities_without_points"], west["points"]) == (4, 2, 1, 3)
    conn.execute("delete from residences")
    basis = coverage.coverage_basis(conn)
    assert (basis["basis"], basis["points"], basis["communities_without_points"]) == (
        "centroids", 5, 1)
    assert _bases(conn, {**base, "scope_streets": []}) == {}
    assert coverage.coverage_basis(conn, scope=()) == {
        "basis": "centroids", "communities": 0, "communities_on_residences": 0,
        "communities_on_centroids": 0, "points": 0, "communities_without_points": 0}


def test_empty_database(memory_conn):
    assert db.run_query(memory_conn, "coverage_points", params()).num_rows == 0
    assert db.run_query(memory_conn, "community_facility_coverage", params()).num_rows == 0
    assert db.run_query(memory_conn, "community_coverage_indicators", params()).num_rows == 0
