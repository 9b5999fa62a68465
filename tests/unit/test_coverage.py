"""governance/coverage.py and the grid search it runs in SQL.

The property test checks the grid equi-join against brute-force haversine on
random points, many placed on or a hair away from cell edges and corners, at
several latitudes and radii: the set of facilities within the radius of every
point, and its nearest facility, must be exactly what brute force finds.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import coverage, db
from governance.catalogue import Standards
from governance.text import t
from tests.conftest import load_fixture_sql

R = 6_371_008.8
LATITUDES = [0.0, 23.0, 32.0, 45.0, 60.0, 80.0, -33.0, 84.9]
RADII = [300.0, 500.0, 1000.0]
BOUNDARY_TOLERANCE_M = 1e-6  # pairs this close to the circle may fall either way


# --- brute force ----------------------------------------------------------------


def haversine_m(lon1, lat1, lon2, lat2):
    """Every pair: rows are points (1), columns facilities (2)."""
    p1 = np.radians(np.asarray(lat1))[:, None]
    p2 = np.radians(np.asarray(lat2))[None, :]
    dl = np.radians(np.asarray(lon2)[None, :] - np.asarray(lon1)[:, None])
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


# --- running the grid block on its own ------------------------------------------


def _pairs_sql() -> str:
    """coverage_points.sql up to the end of the walking grid it includes (as
    it runs, composed), then the pairs."""
    sql = (db.QUERIES_DIR / "coverage_points.sql").read_text(encoding="utf-8")
    head = sql[: sql.index("-- include: walking_grid")] + "-- include: walking_grid\n"
    return db.compose(head)[0] + """
final as (
    select p.point_id, f.facility_id, n.hav
    from near_pairs as n
    inner join typed_points as p using (point_no, type_no)
    inner join typed_facilities as f using (facility_no)
)

select * from final
"""


PAIRS_SQL = _pairs_sql()


def run_pairs(conn, params) -> set[tuple[str, str]]:
    body = "\n".join(line for line in PAIRS_SQL.splitlines() if not line.lstrip().startswith("--"))
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", body))
    rows = conn.execute(PAIRS_SQL, {k: params[k] for k in used}).fetchall()
    return {(point_id, facility_id) for point_id, facility_id, _ in rows}


def load_scene(conn, point_lon, point_lat, fac_lon, fac_lat) -> None:
    conn.execute("delete from residences; delete from facilities; delete from communities")
    conn.execute(
        "insert into communities (community_id, community_name, street, community_type, "
        "households, population, office_area_m2, import_id) "
        "values ('P', 'P', 'S', 'urban', 0, 0, 0, 1)"
    )
    residences = pa.table({
        "residence_id": [f"r{i:03d}" for i in range(len(point_lon))],
        "lon": pa.array(point_lon, pa.float64()),
        "lat": pa.array(point_lat, pa.float64()),
    })
    facilities = pa.table({
        "facility_id": [f"f{j:03d}" for j in range(len(fac_lon))],
        "lon": pa.array(fac_lon, pa.float64()),
        "lat": pa.array(fac_lat, pa.float64()),
    })
    conn.register("scene_residences", residences)
    conn.register("scene_facilities", facilities)
    conn.execute(
        "insert into residences (residence_id, community_id, households, lon, lat, import_id) "
        "select residence_id, 'P', 1, lon, lat, 1 from scene_residences"
    )
    conn.execute(
        "insert into facilities (facility_id, community_id, facility_type, status, lon, lat, "
        "import_id) select facility_id, 'P', 'service_center', 'in_use', lon, lat, 1 "
        "from scene_facilities"
    )
    conn.unregister("scene_residences")
    conn.unregister("scene_facilities")


def scene_params(radius_m: float, detour: float, search_m: float) -> dict:
    return {
        "scope_streets": ["S"], "community_types": ["urban"],
        "facility_types": ["service_center"], "radius_m": radius_m,
        "walking_detour_factor": detour, "nearest_search_m": search_m,
        "added_facilities": [], "closed_facility_ids": [],
    }


@pytest.fixture(scope="module")
def scene_conn():
    conn = db.connect_memory()
    yield conn
    conn.close()


def _cell(straight_m: float, lat: float) -> tuple[float, float]:
    """The grid's cell height and an approximate width near `lat`, in degrees."""
    height = straight_m / 111195.0 * 1.000001
    poleward = min(89.999, abs(lat) + height)
    ratio = math.sin(straight_m / R) / math.cos(math.radians(poleward))
    width = 360.0 if ratio >= 1 else math.degrees(math.asin(ratio)) * 1.000001
    return height, width


# Fractions of a cell: exactly on an edge, a hair either side of it, the middle,
# or anywhere.
FRACTIONS = st.one_of(
    st.sampled_from([0.0, 1e-12, 1e-9, 0.5, 1 - 1e-9, 1 - 1e-12]),
    st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)


@st.composite
def scenes(draw):
    base_lat = draw(st.sampled_from(LATITUDES))
    radius = draw(st.sampled_from(RADII))
    detour = draw(st.sampled_from([1.0, 1.25, 1.6]))
    height, width = _cell(radius / detour, base_lat)
    row0 = math.floor(base_lat / height)
    col0 = math.floor(117.0 / width)

    def place():
        lat = (row0 + draw(st.integers(-3, 3)) + draw(FRACTIONS)) * height
        lon = (col0 + draw(st.integers(-3, 3)) + draw(FRACTIONS)) * width
        return lon, lat

    points = [place() for _ in range(draw(st.integers(1, 20)))]
    facilities = [place() for _ in range(draw(st.integers(0, 12)))]
    if facilities and draw(st.booleans()):  # a point exactly on a facility
        points.append(facilities[0])
    return radius, detour, points, facilities


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenes())
def test_grid_join_equals_brute_force(scene_conn, scene):
    radius, detour, points, facilities = scene
    p_lon, p_lat = (list(c) for c in zip(*points, strict=True))
    f_lon = [f[0] for f in facilities]
    f_lat = [f[1] for f in facilities]
    load_scene(scene_conn, p_lon, p_lat, f_lon, f_lat)
    search = 2 * radius
    params = scene_params(radius, detour, search)

    straight = radius / detour
    d = haversine_m(p_lon, p_lat, f_lon, f_lat) if facilities else np.zeros((len(points), 0))
    clear = np.abs(d - straight) > BOUNDARY_TOLERANCE_M
    brute = {(f"r{i:03d}", f"f{j:03d}") for i, j in zip(*np.nonzero((d <= straight) & clear),
                                                        strict=True)}
    unclear = {(f"r{i:03d}", f"f{j:03d}") for i, j in zip(*np.nonzero(~clear), strict=True)}
    assert run_pairs(scene_conn, params) - unclear == brute

    rows = {r["point_id"]: r for r in
            db.run_query(scene_conn, "coverage_points", params).to_pylist()}
    assert len(rows) == len(points)
    for i in range(len(points)):
        row = rows[f"r{i:03d}"]
        nearest = d[i].min() if facilities else math.inf
        if nearest * detour <= search - BOUNDARY_TOLERANCE_M:
            assert row["nearest_walking_m"] == pytest.approx(nearest * detour, abs=1e-6)
            ties = {f"f{j:03d}" for j in np.nonzero(d[i] <= nearest + 1e-6)[0]}
            assert row["nearest_facility_id"] in ties
        elif nearest * detour > search + BOUNDARY_TOLERANCE_M:
            assert row["nearest_walking_m"] is None and row["nearest_facility_id"] is None
        if abs(nearest - straight) > BOUNDARY_TOLERANCE_M:
            assert row["is_covered"] == (nearest <= straight)
            assert row["was_covered"] == row["is_covered"]


@pytest.mark.parametrize("lat", LATITUDES)
@pytest.mark.parametrize("radius", RADII)
def test_ring_of_points_just_inside_and_outside(scene_conn, lat, radius):
    """Points at bearing steps of 15° on circles 1 mm inside and outside the radius."""
    detour = 1.25
    straight = radius / detour
    lon0 = 117.0
    bearings = np.radians(np.arange(0, 360, 15))
    p_lon, p_lat = [], []
    for dist in (straight - 1e-3, straight + 1e-3):
        delta = dist / R
        phi1 = math.radians(lat)
        phi2 = np.arcsin(math.sin(phi1) * np.cos(delta)
                         + math.cos(phi1) * np.sin(delta) * np.cos(bearings))
        lam2 = math.radians(lon0) + np.arctan2(
            np.sin(bearings) * np.sin(delta) * math.cos(phi1),
            np.cos(delta) - math.sin(phi1) * np.sin(phi2))
        p_lon += list(np.degrees(lam2))
        p_lat += list(np.degrees(phi2))
    load_scene(scene_conn, p_lon, p_lat, [lon0], [lat])
    rows = db.run_query(scene_conn, "coverage_points", scene_params(radius, detour, 3000.0))
    covered = dict(zip(rows.column("point_id").to_pylist(),
                       rows.column("is_covered").to_pylist(), strict=True))
    n = len(bearings)
    assert [covered[f"r{i:03d}"] for i in range(2 * n)] == [True] * n + [False] * n


def _destination(lon, lat, bearing, dist_m):
    phi1, delta = math.radians(lat), dist_m / R
    phi2 = math.asin(math.sin(phi1) * math.cos(delta)
                     + math.cos(phi1) * math.sin(delta) * math.cos(bearing))
    lam = math.atan2(math.sin(bearing) * math.sin(delta) * math.cos(phi1),
                     math.cos(delta) - math.sin(phi1) * math.sin(phi2))
    return lon + math.degrees(lam), math.degrees(phi2)


@pytest.mark.parametrize("lat", [60.0, 84.9, -80.0])
@pytest.mark.parametrize("radius", [300.0, 1000.0])
def test_worst_case_pairs(scene_conn, lat, radius):
    """The pairs that decide the cell sizes: residences along the poleward edge of
    a row, 1,500 of them spread evenly over 1.5 cell widths so that some sit a
    hair from their column's edge whatever the grid, each with a facility 1 mm
    inside the radius at the bearing that reaches farthest east in longitude.
    A grid whose row width were taken at the row's equatorward edge (0.1–1 %
    too narrow up here) would miss some of these pairs; this one must not."""
    detour = 1.25
    straight = radius / detour
    height = straight / 111195.0 * 1.000001
    row = math.floor(lat / height)
    edge = (row + 1) * height if lat >= 0 else row * height
    r_lat = edge - math.copysign(height * 1e-9, lat)  # just inside the poleward edge
    bearing = max(np.radians(np.linspace(0.0, 180.0, 3601)),
                  key=lambda b: _destination(0.0, r_lat, b, straight - 1e-3)[0])
    d_lon, f_lat = _destination(0.0, r_lat, bearing, straight - 1e-3)
    n = 1500
    r_lon = 117.0 + np.linspace(0.0, 1.5 * d_lon, n)
    load_scene(scene_conn, list(r_lon), [r_lat] * n, list(r_lon + d_lon), [f_lat] * n)
    pairs = run_pairs(scene_conn, scene_params(radius, detour, 3000.0))
    assert {(f"r{i:03d}", f"f{i:03d}") for i in range(n)} <= pairs


def test_ties_go_to_the_smallest_facility_id(scene_conn):
    # f002 and f001 share a spot 0.001° east of the point; f000 is farther away.
    load_scene(scene_conn, [117.0], [32.6], [116.99, 117.001, 117.001], [32.6, 32.6, 32.6])
    scene_conn.execute("update facilities set facility_id = 'f009' where facility_id = 'f001'")
    row = db.run_query(scene_conn, "coverage_points",
                       scene_params(500.0, 1.25, 3000.0)).to_pylist()[0]
    assert row["nearest_facility_id"] == "f002"  # beats f009 at the same distance


# --- the Python API -------------------------------------------------------------


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "coverage_small")
    return memory_conn


def test_coverage_params_defaults_and_validation(conn):
    params = coverage.coverage_params(conn)
    assert params["radius_m"] == 500.0 and params["walking_detour_factor"] == 1.25
    assert params["facility_types"] == ["service_center"]
    assert params["added_facilities"] == [] and params["closed_facility_ids"] == []
    assert params["nearest_search_m"] == coverage.DEFAULT_NEAREST_SEARCH_M
    for bad in (0, -5, float("nan"), "abc"):
        with pytest.raises(coverage.CoverageInputError):
            coverage.coverage_params(conn, radius_m=bad)
    with pytest.raises(coverage.CoverageInputError):
        coverage.coverage_params(conn, "swimming_pool")
    standards = Standards.default().with_overrides(settings={"walking_detour_factor": 0})
    with pytest.raises(coverage.CoverageInputError):
        coverage.coverage_params(conn, standards=standards)


def test_proposals_param():
    rows = coverage.proposals_param([
        coverage.ProposedFacility(117.0, 32.6),
        {"lon": "117.1", "lat": 32.7, "facility_type": "health", "facility_name": "新卫生站"},
    ])
    assert [r["facility_id"] for r in rows] == ["proposed-1", "proposed-2"]
    assert rows[0]["facility_name"] == "拟建设施1" and rows[0]["facility_type"] == "service_center"
    assert rows[1] == {"facility_id": "proposed-2", "facility_name": "新卫生站",
                       "facility_type": "health", "lon": 117.1, "lat": 32.7}
    for bad in ({"lon": 117.0, "lat": 86.0}, {"lon": float("nan"), "lat": 32.0},
                {"lon": 200.0, "lat": 32.0}, {"lon": None, "lat": 32.0},
                {"lon": 117.0, "lat": 32.0, "facility_type": "moon_base"}):
        with pytest.raises(coverage.CoverageInputError):
            coverage.proposals_param([bad])


def test_community_coverage_and_summary(conn):
    table = coverage.community_coverage(conn)
    rows = {r["community_id"]: r for r in table.to_pylist()}
    assert rows["K01"]["coverage_pct"] == pytest.approx(130 / 180 * 100)
    district = coverage.coverage_summary(table)
    assert district.loc[0, "communities"] == 6 and district.loc[0, "communities_with_data"] == 4
    # K01 130/180 + K02 10/50 + K05 200/300 + K06 60/60 (K03, K04 no data)
    assert district.loc[0, "households_total"] == 590
    assert district.loc[0, "households_covered"] == 400
    assert district.loc[0, "coverage_pct"] == pytest.approx(400 / 590 * 100)
    streets = coverage.coverage_summary(table, by="street").set_index("street")
    assert streets.loc["东街道", "coverage_pct"] == pytest.approx(130 / 180 * 100)
    assert streets.loc["西镇", "coverage_pct"] == pytest.approx(260 / 360 * 100)
    assert streets.loc["西镇", "communities"] == 4
    empty = coverage.coverage_summary(coverage.community_coverage(conn, scope=()))
    assert empty.empty and "coverage_pct" in empty.columns


def test_what_if_reports_new_and_lost_households(conn):
    frame = coverage.what_if(
        conn,
        added=[{"lon": 114.306, "lat": 30.0}],  # on R07 (K05)
        closed=["S1"],  # K01's centre: K01 loses 130, K02 loses R08's 10
    ).set_index("community_id")
    assert list(frame.columns) == list(coverage.WHAT_IF_COLUMNS[1:])
    assert frame.loc["K05", "households_newly_covered"] == 100
    assert frame.loc["K05", "coverage_after_pct"] == 100.0
    assert frame.loc["K05", "coverage_change_pct"] == pytest.approx(100 - 200 / 3)
    assert frame.loc["K01", "households_lost"] == 130
    assert frame.loc["K01", "coverage_after_pct"] == 0.0
    assert frame.loc["K02", "households_lost"] == 10
    assert frame.loc["K06", "households_newly_covered"] == 0
    assert math.isnan(frame.loc["K03", "coverage_change_pct"])
    assert conn.execute("select count(*) from facilities").fetchone()[0] == 8  # untouched


def test_points_api_and_sentences(conn):
    table = coverage.coverage_points(conn, radius_m=coverage.CIRCLE_PRESETS_M["15min"])
    rows = {r["point_id"]: r for r in table.to_pylist()}
    assert rows["R07"]["is_covered"]  # 722 m ≤ 1,000 m
    assert "722" in coverage.nearest_text(rows["R07"])
    assert "3,000" in coverage.nearest_text(rows["R04"])  # nothing within the search
    basis = coverage.coverage_basis(conn)
    assert coverage.basis_text(basis) == "5 个社区按楼栋/网格的位置和户数计算。" + t(
        "coverage.basis.without_points", count="1")
    conn.execute("delete from residences where community_id = 'K05'")
    assert coverage.basis_text(coverage.coverage_basis(conn)).startswith(
        "4 个社区按楼栋/网格计算；1 个社区没有楼栋/网格数据，按社区中心点和社区户数估算")


def test_f03_values_and_basis(conn):
    values = coverage.f03_values(conn)
    assert values.column("indicator_id").to_pylist() == ["F03"] * 6
    basis = coverage.coverage_basis(conn)
    assert basis["basis"] == "residences" and basis["communities_without_points"] == 1
    conn.execute("delete from residences")
    assert coverage.coverage_basis(conn)["basis"] == "centroids"
