"""Community shapes (uploaded or derived) and the tile-free coverage map."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from governance import auth, boundaries, coords, db, maps
from governance.importer import SourceFile, import_file
from governance.text import t

EAST_M_PER_DEG_AT_32 = 111_195.0 * np.cos(np.radians(32.0))

ADMIN = auth.User("t", "t", "admin")


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
    result = boundaries.import_boundaries(conn, path, user=ADMIN)
    assert result.applied and result.report.rows == 1
    params = query_params(conn, default_period(conn), ViewFilter())
    shapes = {s.community_id: s for s in boundaries.community_shapes(conn, params)}
    assert shapes["A"].derived is False and shapes["A"].rings[0] == _square(117.0, 32.0)
    assert shapes["B"].derived is True
    again = boundaries.import_boundaries(conn, path, user=ADMIN)
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
    result = boundaries.import_boundaries(conn, path, user=ADMIN)
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


def test_coverage_deck_has_no_basemap_and_keeps_names_as_text():
    deck = _one_community_map("<b>甲</b>", 30_000)
    spec = json.loads(deck.to_json())
    # Streamlit swaps a null mapStyle for an internet basemap; pydeck's sentinel it drops.
    assert spec.get("mapStyle") == "__MAP_STYLE__"
    assert spec.get("mapProvider") is None
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert set(layers) == {"communities", "residences", "facilities", "community_labels",
                           "scale_bar", "scale_label"}
    assert len(layers["residences"]["data"]) <= maps.MAX_POINTS
    # A text tooltip is set as innerText: the name's tags are shown, never parsed.
    assert "html" not in deck._tooltip and deck._tooltip["text"] == "{tooltip}"
    tooltip = layers["communities"]["data"][0]["tooltip"]
    assert tooltip.startswith("<b>甲</b>（东）\n") and "50.0%" in tooltip
    assert len(deck.to_json()) < 5_000_000


def test_a_deck_encodes_its_json_once_compactly_and_as_pydeck_would():
    import pydeck as pdk

    deck = _one_community_map("甲", 50)
    first = deck.to_json()
    assert deck.to_json() is first
    assert "\n" not in first  # compact: json's C encoder, not pydeck's indented one
    plain = pdk.Deck(layers=deck.layers, initial_view_state=deck.initial_view_state,
                     map_provider=None, tooltip=deck._tooltip)
    assert json.loads(first) == json.loads(plain.to_json())


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
                     "proposed": "pixels", "community_labels": None, "scale_bar": None,
                     "scale_label": None}
    labels = next(layer for layer in spec["layers"] if layer["id"] == "community_labels")
    # CJK glyphs are built for the characters used, in a CJK font.
    assert labels["characterSet"] == "auto" and labels["sizeUnits"] == "pixels"
    assert labels["fontFamily"].startswith('"Noto Sans CJK SC"')


def test_escape_markdown_neutralises_links_and_images():
    from governance.text import escape_markdown

    escaped = escape_markdown("![x](http://203.0.113.9/a.png) <b>*bold*</b>")
    assert "](" not in escaped and "<b>" not in escaped and "*bold*" not in escaped
    assert escaped.replace("\\", "") == "![x](http://203.0.113.9/a.png) <b>*bold*</b>"


def test_uncovered_points_never_say_nan():
    from governance import facility_view, sample_loader

    conn = db.connect_memory()
    sample_loader.ensure_sample_loaded(conn)
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


# --- readable maps: labels, legend, scale bar, fitted view, tooltips -------------------

FIVE = pd.DataFrame({
    "community_id": ["A", "B", "C", "D", "E"],
    "community_name": ["北湖社区", "南湖社区", "东山村", '<a href="http://x">西山</a>', "@@=新城"],
    "street": ["北湖街道", "北湖街道", "北湖街道", "南山街道", "<b>南山</b>"],
    "lon": [117.000, 117.010, 117.050, 116.990, 117.020],
    "lat": [32.600, 32.600, 32.600, 32.610, 32.620],
    "households": [1000, 800, 500, 1200, 1500],
    "covered_households": [1000, 800, 0, 600, np.nan],
    "coverage_pct": [100.0, 100.0, 0.0, 50.0, np.nan],
})


def _five_district(basis=("residences", "residences", "centroids", "centroids", "centroids")):
    """Five small communities over about 6 × 2.3 km, one point each (a building
    for the first two, the centre for the rest), two service centres."""
    shapes = pd.DataFrame({
        "community_id": FIVE["community_id"],
        "rings": [[_square(lon, lat, 0.0025)] for lon, lat in zip(FIVE["lon"], FIVE["lat"], strict=True)],
        "derived": [True] * 5,
    })
    coverage = FIVE[["community_id", "community_name", "street", "households",
                     "covered_households", "coverage_pct"]]
    points = pd.DataFrame({
        "point_id": ["R1", "R2", "C", "D", "E"], "basis": list(basis),
        "community_id": FIVE["community_id"], "community_name": FIVE["community_name"],
        "households": FIVE["households"], "lon": FIVE["lon"], "lat": FIVE["lat"],
        "covered": [True, True, False, True, False],
    })
    facilities = pd.DataFrame({
        "facility_name": ["北湖服务中心", "<i>南湖</i>站", "公厕"],
        "facility_type": ["service_center", "service_center", "public_toilet"],
        "status": ["in_use", "closed", "in_use"],
        "lon": [117.002, 117.010, 117.001], "lat": [32.600, 32.603, 32.601],
    })
    return shapes, coverage, facilities, points


def _layers(figure):
    return {layer["id"]: layer for layer in json.loads(figure.deck.to_json())["layers"]}


def test_every_community_of_a_small_district_is_labelled_by_its_name_as_text():
    figure = maps.coverage_figure(*_five_district(), focus_type="service_center")
    texts = [row["text"] for row in _layers(figure)["community_labels"]["data"]]
    assert figure.labels_shown == figure.labels_total == 5
    # Glyphs, not HTML: a name is drawn exactly as written; only a leading "@@"
    # (deck.gl's JSON converter would read "@@=…" as an expression) is defused.
    assert set(texts) == {"北湖社区", "南湖社区", "东山村", '<a href="http://x">西山</a>',
                          "\u200b@@=新城"}
    assert not any(text.startswith("@@") for text in texts)


def test_a_small_district_fills_the_fitted_view():
    shapes, coverage, facilities, points = _five_district()
    figure = maps.coverage_figure(shapes, coverage, facilities, points, height_px=600)
    frame = figure.frame
    outline = np.concatenate([np.asarray(r[0]) for r in shapes["rings"]])
    x, y = frame.to_px(outline[:, 0], outline[:, 1])
    # Everything drawn is on the canvas, clear of the side margins and of the
    # scale strip at the bottom …
    assert x.min() >= maps.FIT_PAD_X_PX - 1 and x.max() <= frame.width_px - maps.FIT_PAD_X_PX + 1
    assert y.min() >= maps.FIT_PAD_Y_PX - 1
    assert y.max() <= frame.height_px - maps.FIT_PAD_Y_PX - maps.SCALE_STRIP_PX + 1
    # … and fills it in one direction: not five dots in a large white box.
    usable_w = frame.width_px - 2 * maps.FIT_PAD_X_PX
    usable_h = frame.height_px - 2 * maps.FIT_PAD_Y_PX - maps.SCALE_STRIP_PX
    fill = max((x.max() - x.min()) / usable_w, (y.max() - y.min()) / usable_h)
    assert fill == pytest.approx(1.0, abs=0.01)


def test_fit_frame_projection_round_trips_and_matches_deck_gl_scale():
    frame = maps.fit_frame([117.0, 117.1], [32.5, 32.6], width_px=900, height_px=600)
    x, y = frame.to_px(np.array([117.0, 117.1]), np.array([32.5, 32.6]))
    lon, lat = frame.to_lonlat(x, y)
    assert lon == pytest.approx([117.0, 117.1], abs=1e-9)
    assert lat == pytest.approx([32.5, 32.6], abs=1e-9)
    # deck.gl: 512 px × 2^zoom per 360° of longitude.
    assert (x[1] - x[0]) == pytest.approx(0.1 / 360 * 512 * 2 ** frame.zoom)
    one = maps.fit_frame([117.0], [32.5])
    assert maps.MIN_ZOOM <= one.zoom <= maps.MAX_ZOOM


@pytest.mark.parametrize(("view_width_m", "expected"), [
    (400, 50), (600, 100), (999, 100), (1_000, 200), (2_600, 500), (5_000, 1_000),
    (9_999, 1_000), (10_000, 2_000), (51_000, 10_000), (260_000, 50_000),
])
def test_scale_bar_is_the_longest_round_length_within_a_fifth_of_the_view(view_width_m, expected):
    length = maps.scale_length_m(view_width_m)
    assert length == expected
    assert length in maps.SCALE_LENGTHS_M
    assert length <= view_width_m / 5 or length == maps.SCALE_LENGTHS_M[0]
    longer = [m for m in maps.SCALE_LENGTHS_M if m > length]
    assert not longer or longer[0] > view_width_m / 5


def test_scale_bar_drawn_is_as_long_as_its_label_says():
    figure = maps.coverage_figure(*_five_district())
    layers = _layers(figure)
    path = layers["scale_bar"]["data"][0]["path"]
    (lon0, lat0), (lon1, lat1) = path[1], path[2]
    assert lat0 == lat1
    length_m = np.radians(lon1 - lon0) * 6_371_008.8 * np.cos(np.radians(lat0))
    expected = maps.scale_length_m(figure.frame.width_px * figure.frame.metres_per_px())
    assert length_m == pytest.approx(expected, rel=1e-3)
    assert layers["scale_label"]["data"][0]["text"] == maps.scale_text(expected)
    assert maps.scale_text(1_000) == "1 公里" and maps.scale_text(500) == "500 米"
    # Under the data, inside the canvas.
    x, y = figure.frame.to_px(np.array([lon0, lon1]), np.array([lat0, lat1]))
    assert x.min() >= 0 and x.max() <= figure.frame.width_px and y[0] <= figure.frame.height_px


def test_tooltips_are_text_with_names_as_written_and_no_markup_of_ours():
    figure = maps.coverage_figure(*_five_district(), focus_type="service_center")
    layers = _layers(figure)
    assert figure.deck._tooltip["text"] == "{tooltip}" and "html" not in figure.deck._tooltip
    tooltips = [row["tooltip"] for layer in layers.values() if layer.get("pickable")
                for row in layer["data"]]
    assert len(tooltips) == 5 + 2 + 3 + 3  # shapes, residences, centres, facilities
    user_text = ('<a href="http://x">西山</a>', "<b>南山</b>", "<i>南湖</i>")
    for tooltip in tooltips:
        ours = tooltip
        for text in user_text:
            ours = ours.replace(text, "")
        assert "<" not in ours and ">" not in ours and "&lt;" not in ours, tooltip
        assert not tooltip.startswith("@@")
    west = next(tip for tip in tooltips if tip.startswith('<a href="http://x">西山</a>（南山街道）'))
    assert "户数 1,200，覆盖 600 户（50.0%）" in west and "计算依据：社区中心点，按户数估算" in west
    assert any(tip.startswith("\u200b@@=新城（<b>南山</b>）") for tip in tooltips)
    assert any(tip.startswith("<i>南湖</i>站\n综合服务中心 · 停用") for tip in tooltips)


def test_buildings_and_centres_are_drawn_apart_and_the_legend_says_so():
    figure = maps.coverage_figure(*_five_district(), focus_type="service_center")
    layers = _layers(figure)
    assert len(layers["residences"]["data"]) == 2 and len(layers["centroids"]["data"]) == 3
    assert layers["centroids"]["radiusUnits"] == "pixels" and layers["centroids"]["stroked"]
    texts = maps.legend_texts(figure.legend)
    for key in ("map.legend.coverage", "map.legend.coverage.full", "map.legend.no_data",
                "map.legend.basis", "map.legend.residence.uncovered",
                "map.legend.centroid.uncovered", "map.legend.centroid.covered",
                "map.legend.basis.mixed", "map.legend.facility.faded"):
        assert t(key) in texts, key
    assert t("map.legend.facility.focus", type="综合服务中心") in texts
    assert "公共厕所" in texts and "警务室" not in texts  # the types drawn, only
    swatches = {item.label: item for group in figure.legend for item in group.items}
    assert swatches[t("map.legend.centroid.uncovered")].shape == "ring"
    assert swatches[t("map.legend.residence.uncovered")].shape == "dot"
    # One basis alone: no word about the other.
    only = maps.coverage_figure(*_five_district(basis=("residences",) * 5))
    assert t("map.legend.centroid.covered") not in maps.legend_texts(only.legend)
    assert "centroids" not in _layers(only)


def test_community_colours_are_the_legend_classes():
    figure = maps.coverage_figure(*_five_district())
    fills = [row["fill"] for row in _layers(figure)["communities"]["data"]]
    classes = {item.label: list(item.colour) for item in figure.legend[0].items}
    assert fills[0] == classes[t("map.legend.coverage.full")]  # 100 %
    assert fills[2] == classes[t("map.legend.coverage.below", high="50")]  # 0 %
    assert fills[3] == classes[t("map.legend.coverage.range", low="50", high="70")]  # 50 %
    assert fills[4] == classes[t("map.legend.no_data")]
    assert maps.coverage_fill(99.9) == classes[t("map.legend.coverage.range", low="90", high="100")]


def test_legend_html_escapes_every_text():
    group = maps.LegendGroup('<img src="x">', (maps.LegendItem("<b>甲</b>", (1, 2, 3, 255)),),
                             note="<script>")
    page = maps.legend_html((group,))
    assert "<img" not in page and "<b>" not in page and "<script>" not in page
    assert "&lt;b&gt;甲&lt;/b&gt;" in page and "rgba(1,2,3,1.00)" in page


def test_many_communities_are_thinned_to_labels_that_do_not_overlap():
    rng = np.random.default_rng(7)
    n = 300
    lons, lats = 117 + rng.random(n) * 0.2, 32.5 + rng.random(n) * 0.2
    shapes = pd.DataFrame({"community_id": [f"C{i}" for i in range(n)],
                           "rings": [[_square(x, y, 0.001)] for x, y in zip(lons, lats, strict=True)],
                           "derived": [False] * n})
    coverage = pd.DataFrame({"community_id": shapes["community_id"],
                             "community_name": [f"第{i}社区" for i in range(n)], "street": "东",
                             "households": 100, "covered_households": np.arange(n) % 100,
                             "coverage_pct": (np.arange(n) % 100).astype(float)})
    points = pd.DataFrame({"lon": lons, "lat": lats, "households": 100, "covered": True,
                           "community_id": shapes["community_id"]})
    figure = maps.coverage_figure(shapes, coverage, pd.DataFrame(
        columns=["facility_name", "facility_type", "status", "lon", "lat"]), points)
    labels = pd.DataFrame(_layers(figure)["community_labels"]["data"])
    assert 0 < len(labels) <= maps.MAX_LABELS and figure.labels_total == n
    # The communities with most uncovered households come first.
    assert "第0社区" in set(labels["text"])
    x, y = figure.frame.to_px(labels["lon"].to_numpy(), labels["lat"].to_numpy())
    x = x + labels["offset"].str[0].to_numpy()
    y = y + labels["offset"].str[1].to_numpy()
    width = np.array([maps._text_width_px(s) for s in labels["text"]]) + 2 * maps.LABEL_PAD_PX[0]
    height = maps.LABEL_FONT_PX * 1.25 + 2 * maps.LABEL_PAD_PX[1]
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            apart_x = abs(x[i] - x[j]) >= (width[i] + width[j]) / 2
            apart_y = abs(y[i] - y[j]) >= height
            assert apart_x or apart_y, (labels["text"][i], labels["text"][j])
    note = t("map.legend.labels.some", shown=len(labels), total=n)
    assert note in maps.legend_texts(figure.legend)


def test_incident_map_has_labels_scale_and_a_legend_of_its_colours():
    shapes, coverage, _, _ = _five_district()
    shapes = shapes.assign(community_name=coverage["community_name"])
    cells = pd.DataFrame({"cell_lon": [117.0, 117.01], "cell_lat": [32.6, 32.6],
                          "incidents": [10, 4], "open_incidents": [0, 4],
                          "major_incidents": [1, 0], "top_category": ["fire", "fire"]})
    figure = maps.incident_figure(shapes, cells, 250)
    layers = _layers(figure)
    assert {"communities", "incident_cells", "community_labels", "scale_bar"} <= set(layers)
    assert figure.labels_shown == 5
    fills = [row["fill"] for row in layers["incident_cells"]["data"]]
    items = {item.label: list(item.colour) for item in figure.legend[0].items}
    assert fills == [items[t("map.legend.incidents.resolved")],
                     items[t("map.legend.incidents.open")]]
    assert t("map.legend.incidents.size", max="10") in maps.legend_texts(figure.legend)
    tooltip = layers["incident_cells"]["data"][0]["tooltip"]
    assert tooltip.endswith("\n最多：火灾") and "<" not in tooltip


def test_a_label_sits_on_a_shape_that_holds_it_and_beside_one_that_does_not():
    frame = maps.fit_frame([116.9, 117.1], [32.5, 32.6])
    shapes = pd.DataFrame({"community_id": ["big", "small"],
                           "rings": [[_square(116.95, 32.55, 0.02)], [_square(117.08, 32.52, 0.0005)]],
                           "derived": [False, False]})
    anchors = maps.community_anchors(shapes).assign(text=["大社区", "小社区"])
    assert anchors.set_index("community_id").loc["big", "lon"] == pytest.approx(116.95)
    labels = maps.place_labels(anchors, frame).set_index("text")
    assert labels.loc["大社区", "offset"] == [0.0, 0.0]
    # Beside the small one (above it first), so its colour stays in sight.
    dx, dy = labels.loc["小社区", "offset"]
    _, top = frame.to_px(np.array([117.08]), np.array([32.5205]))
    _, centre = frame.to_px(np.array([117.08]), np.array([32.52]))
    assert dx == 0 and centre[0] + dy + (maps.LABEL_FONT_PX * 1.25 + 6) / 2 <= top[0]


def test_a_click_on_a_community_centre_proposes_a_site_there():
    from governance import facility_view

    picked = facility_view.proposal_from_selection(
        {"objects": {"centroids": [{"lon": 117.01, "lat": 32.6, "tooltip": "x"}]}})
    assert picked == facility_view.Proposal(117.01, 32.6)
    assert facility_view.proposal_from_selection({"objects": {"communities": [{}]}}) is None


def test_only_an_administrator_imports_boundaries(tmp_path):
    conn = db.connect_memory()
    try:
        path = tmp_path / "b.geojson"
        path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
        for role in ("leader", "street"):
            result = boundaries.import_boundaries(
                conn, path, user=auth.User("x", "x", role, ("东街道",)))
            assert not result.applied
            assert "只有管理员可以导入社区边界" in result.report.messages()[0]
    finally:
        conn.close()


def test_residence_and_facility_tooltips_read_their_columns_as_written():
    """Tooltips are built from the columns they read (as lists, not records):
    a missing name or count shows "—", a leading "@@" is defused, the nearest
    facility or the search limit follows, and other columns change nothing."""
    points = pd.DataFrame({
        "point_id": pd.Series(["R1", "@@=R2", "R3"], dtype="str"),
        "community_name": pd.Series(["东一社区", None, "西三村"], dtype="str"),
        "households": [120, 5, None],
        "covered": [True, False, False],
        "facility_type": ["service_center"] * 3,
        "nearest_walking_m": [432.4, None, 2999.6],
        "search_limit_m": [3000.0] * 3,
        "nearest_facility_name": pd.Series(["中心站", None, None], dtype="str"),
        "nearest_facility_id": ["F1", None, "F9"],
        "unrelated": ["x", "y", "z"],
    })
    assert maps._point_tooltips(points, "map.tooltip.residence") == [
        "楼栋/网格 R1（东一社区）\n120 户，在步行范围内\n最近的综合服务中心：中心站，步行约 432 米",
        "楼栋/网格 \u200b@@=R2（—）\n5 户，不在步行范围内\n步行 3,000 米内没有综合服务中心",
        "楼栋/网格 R3（西三村）\n— 户，不在步行范围内\n最近的综合服务中心：F9，步行约 3,000 米",
    ]
    facilities = pd.DataFrame({
        "facility_type": ["police", "service_center", "culture"],
        "status": ["in_use", "closed", "in_use"],
        "facility_name": pd.Series(["@@#派出所", None, "文化站"], dtype="str"),
        "lon": [114.0, 114.1, None], "lat": [30.0, 30.1, 30.2],
    })
    layer = maps.facilities_layer_data(facilities, focus_type="service_center")
    # The unlocated one is left out; the focus type is drawn last, larger.
    assert layer["tooltip"].tolist() == ["\u200b@@#派出所\n警务室 · 在用", "—\n综合服务中心 · 停用"]
    assert layer["radius"].tolist() == [maps.OTHER_RADIUS_PX, maps.FOCUS_RADIUS_PX]
