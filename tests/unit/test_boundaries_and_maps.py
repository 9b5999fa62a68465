"""Community shapes (uploaded or derived) and the tile-free coverage map."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from governance import boundaries, coords, db, maps
from governance.importer import SourceFile, import_file

EAST_M_PER_DEG_AT_32 = 111_195.0 * np.cos(np.radians(32.0))


def _communities_csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "community_id,community_name,street,community_type,households,population,office_area_m2,lon,lat\n"
        "A,甲社区,东街道,urban,1000,2500,300,117.000,32.000\n"
        "B,乙社区,东街道,urban,800,2000,200,117.020,32.000\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def conn(tmp_path):
    connection = db.connect(tmp_path / "b.duckdb")
    assert import_file(connection, SourceFile(_communities_csv(tmp_path), "communities"),
                       applied_by="t").applied
    yield connection
    connection.close()


def _square(lon, lat, half=0.002):
    return [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]


def _geojson(tmp_path, features, name="b.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_derived_shape_contains_every_point_with_a_margin():
    lons = np.array([117.0, 117.004, 117.002, 117.001])
    lats = np.array([32.0, 32.0, 32.003, 32.001])
    ring = np.array(boundaries.derive_shape(lons, lats))
    assert (ring[0] == ring[-1]).all()
    # The outline reaches beyond the extreme points by about the margin (80 m).
    east_margin_m = (ring[:, 0].max() - lons.max()) * EAST_M_PER_DEG_AT_32
    north_margin_m = (ring[:, 1].max() - lats.max()) * 111_195.0
    assert 40 < east_margin_m <= 81 and 40 < north_margin_m <= 81


def test_single_point_community_gets_a_circle_of_the_minimum_radius():
    ring = np.array(boundaries.derive_shape(np.array([117.0]), np.array([32.0])))
    radius_m = (ring[:, 1].max() - 32.0) * 111_195.0
    assert radius_m == pytest.approx(boundaries.DERIVED_MIN_RADIUS_M, rel=0.02)


def test_uploaded_boundaries_replace_derived_ones(conn, tmp_path):
    from governance.indicators import ViewFilter, default_period, query_params

    params = query_params(conn, default_period(conn), ViewFilter())
    derived = boundaries.community_shapes(conn, params)
    assert {(s.community_id, s.derived) for s in derived} == {("A", True), ("B", True)}
    path = _geojson(tmp_path, [{"type": "Feature", "properties": {"社区编码": "A"},
                                "geometry": {"type": "Polygon", "coordinates": [_square(117.0, 32.0)]}}])
    result = boundaries.import_boundaries(conn, path, applied_by="t")
    assert result.applied and result.report.rows == 1
    params = query_params(conn, default_period(conn), ViewFilter())
    shapes = {s.community_id: s for s in boundaries.community_shapes(conn, params)}
    assert shapes["A"].derived is False and shapes["A"].rings[0] == _square(117.0, 32.0)
    assert shapes["B"].derived is True
    again = boundaries.import_boundaries(conn, path, applied_by="t")
    assert again.unchanged and not again.applied


def test_bad_geojson_is_refused_feature_by_feature_and_changes_nothing(conn, tmp_path):
    version = db.data_version(conn)
    path = _geojson(tmp_path, [
        {"type": "Feature", "properties": {"community_id": "Z"},
         "geometry": {"type": "Polygon", "coordinates": [_square(117.0, 32.0)]}},
        {"type": "Feature", "properties": {"community_id": "A"},
         "geometry": {"type": "Point", "coordinates": [117.0, 32.0]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [_square(117.0, 32.0)]}},
    ])
    result = boundaries.import_boundaries(conn, path, applied_by="t")
    assert not result.applied
    messages = " ".join(result.report.messages())
    assert "第 1 个要素「community_id」值“Z”" in messages and "不存在" in messages
    assert "第 2 个要素「geometry」" in messages
    assert "第 3 个要素" in messages
    assert db.data_version(conn) == version
    assert conn.execute("select count(*) from community_boundaries").fetchone()[0] == 0


def test_not_a_feature_collection_is_a_file_level_refusal(conn, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "Polygon"}', "utf-8")
    report, rows = boundaries.read_boundaries(path, {"A"})
    assert not report.ok and "FeatureCollection" in report.messages()[0]
    assert rows.num_rows == 0


def test_gcj02_import_stores_wgs84(tmp_path):
    lon_gcj, lat_gcj = coords.wgs84_to_gcj02(np.array([117.0]), np.array([32.0]))
    path = tmp_path / "c.csv"
    path.write_text(
        "社区编码,社区名称,街道,社区类型,户数,常住人口,用房面积,经度,纬度\n"
        f"A,甲社区,东街道,城市社区,1000,2500,300,{lon_gcj[0]:.8f},{lat_gcj[0]:.8f}\n"
        "B,乙社区,东街道,城市社区,800,2000,200,,\n",
        encoding="utf-8",
    )
    connection = db.connect(tmp_path / "g.duckdb")
    result = import_file(connection, SourceFile(path, "communities", coordinate_system="gcj02"),
                         applied_by="t")
    assert result.applied, result.report.messages()
    assert any("gcj02" in note for note in result.report.notes)
    rows = dict(connection.execute("select community_id, lon from communities").fetchall())
    lat = connection.execute("select lat from communities where community_id = 'A'").fetchone()[0]
    assert rows["B"] is None  # missing coordinates stay missing
    assert abs(rows["A"] - 117.0) * EAST_M_PER_DEG_AT_32 < 0.5
    assert abs(lat - 32.0) * 111_195.0 < 0.5
    # The same bytes read as WGS-84 are a different import, not "unchanged".
    second = import_file(connection, SourceFile(path, "communities"), applied_by="t")
    assert second.applied and not second.unchanged
    connection.close()


def test_unknown_coordinate_system_is_refused(tmp_path):
    report = import_file(db.connect_memory(),
                         SourceFile(_communities_csv(tmp_path), "communities", coordinate_system="utm"),
                         applied_by="t").report
    assert not report.ok and "utm" in report.messages()[0]


def _points(n, covered_every=2):
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "lon": 117.0 + rng.random(n) * 0.2, "lat": 32.0 + rng.random(n) * 0.2,
        "households": rng.integers(1, 50, n),
        "covered": np.arange(n) % covered_every == 0,
    })


def test_large_point_sets_are_aggregated_and_keep_household_totals():
    points = _points(60_000)
    cells = maps.aggregate_points(points, max_points=5_000)
    assert len(cells) <= 5_000
    assert cells["households"].sum() == points["households"].sum()
    assert cells["uncovered_households"].sum() == points.loc[~points["covered"], "households"].sum()
    small = maps.aggregate_points(points.head(100), max_points=5_000)
    assert len(small) == 100


def _one_community_map(name: str, points: int):
    """coverage_deck of one square community with one service centre."""
    shapes = pd.DataFrame({"community_id": ["A"], "rings": [[_square(117.0, 32.0)]], "derived": [True]})
    coverage = pd.DataFrame({"community_id": ["A"], "community_name": [name], "street": ["东"],
                             "households": [10], "covered_households": [5], "coverage_pct": [50.0]})
    facilities = pd.DataFrame({"facility_name": ["站"], "facility_type": ["service_center"],
                               "status": ["in_use"], "lon": [117.0], "lat": [32.0]})
    return maps.coverage_deck(shapes, coverage, facilities, _points(points))


def test_coverage_deck_has_no_basemap_and_escapes_names():
    deck = _one_community_map("<b>甲</b>", 30_000)
    spec = json.loads(deck.to_json())
    # Streamlit swaps a null mapStyle for an internet basemap; pydeck's sentinel it drops.
    assert spec.get("mapStyle") == "__MAP_STYLE__"
    assert spec.get("mapProvider") is None
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert set(layers) == {"communities", "residences", "facilities"}
    assert len(layers["residences"]["data"]) <= maps.MAX_POINTS
    tooltip = layers["communities"]["data"][0]["tooltip"]
    assert "&lt;b&gt;甲&lt;/b&gt;" in tooltip and "50.0%" in tooltip
    assert len(deck.to_json()) < 5_000_000


def test_a_deck_encodes_its_json_once_and_as_pydeck_would(monkeypatch):
    import pydeck as pdk

    deck = _one_community_map("甲", 50)
    encodings = []
    encode = pdk.Deck.to_json
    monkeypatch.setattr(pdk.Deck, "to_json", lambda self: encodings.append(1) or encode(self))
    first = deck.to_json()
    assert deck.to_json() is first
    assert len(encodings) == 1
    plain = pdk.Deck(layers=deck.layers, initial_view_state=deck.initial_view_state,
                     map_provider=None, tooltip=deck._tooltip)
    assert json.loads(first) == json.loads(encode(plain))


def test_proposals_from_text_reads_picker_formats_and_reports_bad_lines():
    from governance import facility_view

    proposals, problems = facility_view.proposals_from_text(
        "117.01,32.6\n\n117.02，32.61\n117.03 32.62\n200,32\nabc"
    )
    assert [(p.lon, p.lat) for p in proposals] == [(117.01, 32.6), (117.02, 32.61), (117.03, 32.62)]
    assert len(problems) == 2 and "第 5 行" in problems[0] and "第 6 行" in problems[1]
    converted, _ = facility_view.proposals_from_text("117.01,32.6", "gcj02")
    lon, lat = coords.gcj02_to_wgs84(np.array([117.01]), np.array([32.6]))
    assert converted[0].lon == pytest.approx(lon[0]) and converted[0].lat == pytest.approx(lat[0])


def test_layer_constants_are_literals_not_accessors():
    """pydeck turns bare strings into JS expressions: radiusUnits must stay a literal."""
    shapes = pd.DataFrame({"community_id": ["A"], "rings": [[_square(117.0, 32.0)]], "derived": [True]})
    coverage = pd.DataFrame({"community_id": ["A"], "community_name": ["甲"], "street": ["东"],
                             "households": [10], "covered_households": [5], "coverage_pct": [50.0]})
    facilities = pd.DataFrame({"facility_name": ["站"], "facility_type": ["service_center"],
                               "status": ["in_use"], "lon": [117.0], "lat": [32.0]})
    proposals = pd.DataFrame({"lon": [117.001], "lat": [32.001]})
    spec = json.loads(maps.coverage_deck(shapes, coverage, facilities, _points(10), proposals).to_json())
    units = {layer["id"]: layer.get("radiusUnits") for layer in spec["layers"]}
    assert units == {"communities": None, "residences": "meters", "facilities": "pixels",
                     "proposed": "pixels"}


def test_escape_markdown_neutralises_links_and_images():
    from governance.text import escape_markdown

    escaped = escape_markdown("![x](http://203.0.113.9/a.png) <b>*bold*</b>")
    assert "](" not in escaped and "<b>" not in escaped and "*bold*" not in escaped
    assert escaped.replace("\\", "") == "![x](http://203.0.113.9/a.png) <b>*bold*</b>"


def test_uncovered_points_never_say_nan():
    from governance import facility_view, sample

    conn = db.connect_memory()
    sample.ensure_sample_loaded(conn)
    for facility_type in ("fire", "elderly_home"):
        view = facility_view.coverage_view(
            conn, facility_view.CoverageRequest(facility_type=facility_type)
        )
        texts = view.uncovered_points["nearest"].tolist()
        assert texts and not any("nan" in text for text in texts)
    conn.close()


def test_absurdly_nested_geojson_is_refused_not_a_crash(tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    report, rows = boundaries.read_boundaries(path, {"A"})
    assert not report.ok and "GeoJSON" in report.messages()[0]
    assert rows.num_rows == 0
