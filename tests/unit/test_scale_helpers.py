"""The pieces that keep a city's or a province's pages small: paging a long
table, and maps that sum communities, facilities and event cells into cells."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance import boundaries, maps, presentation


def test_worst_first_puts_the_most_unmet_first_then_the_least_met():
    matrix = pd.DataFrame({
        "community_id": ["a", "b", "c", "d"], "street": ["甲", "甲", "乙", "乙"],
        "not_met_count": [1, 3, 3, 0], "met_share_pct": [50.0, 20.0, 10.0, 100.0],
    })
    assert list(presentation.worst_first(matrix)["community_id"]) == ["c", "b", "a", "d"]


def test_search_matches_any_text_column_literally_and_pages_are_clamped():
    frame = pd.DataFrame({"community_name": ["东关社区", "西关社区", "东门(1)社区"],
                          "street": ["东关街道", "西关街道", "东关街道"], "n": [1, 2, 3]})
    assert list(presentation.search_rows(frame, "东关")["n"]) == [1, 3]
    assert list(presentation.search_rows(frame, "(1)")["n"]) == [3]  # not a pattern
    assert list(presentation.search_rows(frame, "  ")["n"]) == [1, 2, 3]
    assert presentation.search_rows(frame, "北").empty
    rows = pd.DataFrame({"i": range(450)})
    assert presentation.page_count(450, 200) == 3 and presentation.page_count(0, 200) == 1
    assert list(presentation.page_of(rows, 3, 200)["i"]) == list(range(400, 450))
    assert list(presentation.page_of(rows, 9, 200)["i"]) == list(range(400, 450))


def _shapes(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    lon = 117.0 + rng.uniform(0, 2.0, n)
    lat = 32.0 + rng.uniform(0, 2.0, n)
    ids = [f"c{i}" for i in range(n)]
    d = 0.002
    shapes = pd.DataFrame({
        "community_id": ids,
        "rings": [[[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]]
                  for x, y in zip(lon, lat, strict=True)],
        "derived": True,
    })
    households = rng.integers(100, 3_000, n)
    coverage = pd.DataFrame({"community_id": ids, "households": households,
                             "covered_households": (households * rng.uniform(0, 1, n)).astype(int)})
    return shapes, coverage


def test_community_cells_keep_every_community_and_household():
    shapes, coverage = _shapes(5_000)
    cells = maps.community_cells(shapes, coverage)
    assert len(cells) <= maps.MAX_SHAPES
    assert cells["communities"].sum() == 5_000
    assert cells["households"].sum() == coverage["households"].sum()
    assert cells["covered_households"].sum() == coverage["covered_households"].sum()
    one = cells.iloc[0]
    assert one["coverage_pct"] == one["covered_households"] / one["households"] * 100


def test_facilities_past_the_limit_are_the_focus_type_counted_per_cell():
    rng = np.random.default_rng(2)
    n = 10_000
    facilities = pd.DataFrame({
        "facility_id": [f"f{i}" for i in range(n)], "facility_name": "站",
        "facility_type": np.where(np.arange(n) % 2 == 0, "service_centre", "elderly_care"),
        "status": np.where(np.arange(n) % 4 == 0, "in_use", "planned"),
        "lon": 117.0 + rng.uniform(0, 1, n), "lat": 32.0 + rng.uniform(0, 1, n),
    })
    data = maps.facilities_layer_data(facilities, "service_centre")
    assert 0 < len(data) <= maps.MAX_FACILITY_MARKS
    counts = data["tooltip"].str.extract(r"此处 ([\d,]+) 个.*在用 ([\d,]+) 个")
    counts = counts.apply(lambda c: c.str.replace(",", "").astype(int))
    assert counts[0].sum() == 5_000 and counts[1].sum() == 2_500


def test_incident_cells_past_the_limit_merge_without_losing_events():
    rng = np.random.default_rng(3)
    n = 20_000
    cells = pd.DataFrame({
        "cell_lon": 117.0 + rng.uniform(0, 1, n), "cell_lat": 32.0 + rng.uniform(0, 1, n),
        "incidents": rng.integers(1, 50, n), "top_category": "dispute",
    })
    cells["open_incidents"] = cells["incidents"] // 2
    cells["major_incidents"] = cells["incidents"] // 10
    merged, cell_m = maps.coarser_incident_cells(cells, 100.0)
    assert len(merged) <= maps.MAX_POINTS and cell_m > 100.0
    for column in ("incidents", "open_incidents", "major_incidents"):
        assert merged[column].sum() == cells[column].sum()
    small = cells.head(50)
    assert maps.coarser_incident_cells(small, 100.0)[0] is small


def test_derived_boxes_hold_every_point_of_their_community():
    rng = np.random.default_rng(4)
    points = pd.DataFrame({"community_id": rng.integers(0, 2_000, 30_000).astype(str),
                           "lon": 117.0 + rng.uniform(0, 1, 30_000),
                           "lat": 32.0 + rng.uniform(0, 1, 30_000)})
    shapes = {s.community_id: np.asarray(s.rings[0]) for s in boundaries.derived_boxes(points)}
    assert len(shapes) == points["community_id"].nunique()
    for community_id, group in points.groupby("community_id"):
        ring = shapes[community_id]
        assert ring[:, 0].min() < group["lon"].min() and ring[:, 0].max() > group["lon"].max()
        assert ring[:, 1].min() < group["lat"].min() and ring[:, 1].max() > group["lat"].max()


def test_an_event_map_without_communities_is_drawn_empty():
    """A street × type filter that keeps no community (the load benchmark
    found the event map failing on it): the empty shapes still merge."""
    shapes = boundaries.shapes_frame([]).merge(
        pd.DataFrame({"community_id": pd.Series([], dtype="str"),
                      "community_name": pd.Series([], dtype="str")}),
        on="community_id", how="left")
    cells = pd.DataFrame(columns=["cell_lon", "cell_lat", "incidents", "open_incidents",
                                  "major_incidents", "top_category"])
    figure = maps.incident_figure(shapes, cells, 250)
    assert figure.labels_shown == 0
