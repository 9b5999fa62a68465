"""pydeck maps with no basemap: community shapes, facilities and residences.

Nothing is fetched from outside: `map_provider=None` draws no tiles, and the
community shapes are the base layer (tests/browser checks every request).
pydeck ships its data as JSON to the browser (about 10 MB per 100k points), so
point layers are aggregated to grid cells above `MAX_POINTS`.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pydeck as pdk

from governance.contract import FACILITY_STATUS, FACILITY_TYPE, INCIDENT_CATEGORY
from governance.text import t

# About 300 bytes of JSON per point: 8,000 cells keep a map under ~3 MB.
MAX_POINTS = 8_000
EARTH_M_PER_DEG = 111_195.0

FACILITY_COLOURS: dict[str, list[int]] = {
    "service_center": [183, 28, 28],
    "culture": [123, 31, 162],
    "sports": [0, 121, 107],
    "elderly_daycare": [239, 108, 0],
    "elderly_home": [230, 81, 0],
    "health": [2, 119, 189],
    "childcare": [194, 24, 91],
    "police": [26, 35, 126],
    "mediation": [85, 139, 47],
    "public_toilet": [109, 76, 65],
    "waste": [96, 125, 139],
    "parking": [69, 90, 100],
    "fire": [221, 44, 0],
    "park": [46, 125, 50],
    "other": [117, 117, 117],
}
UNCOVERED = [198, 40, 40, 220]
COVERED = [84, 110, 122, 110]
PROPOSED = [0, 0, 0, 255]
NO_DATA_FILL = [200, 200, 200, 90]


def coverage_fill(coverage_pct: float | None) -> list[int]:
    """Red (0 %) through amber to green (100 %), translucent so points show."""
    if coverage_pct is None or coverage_pct != coverage_pct:
        return NO_DATA_FILL
    share = max(0.0, min(1.0, coverage_pct / 100))
    red, amber, green = np.array([229, 57, 53]), np.array([255, 179, 0]), np.array([67, 160, 71])
    if share < 0.5:
        colour = red + (amber - red) * share * 2
    else:
        colour = amber + (green - amber) * (share - 0.5) * 2
    return [int(c) for c in colour] + [110]


def aggregate_points(points: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """Points as they are, or summed into square cells when there are too many.

    Cells grow until at most `max_points` remain; each cell sits at the
    households-weighted centre of its points and keeps the covered and
    uncovered household totals.
    """
    if len(points) <= max_points:
        return points.assign(points_in_cell=1)
    lat0 = float(points["lat"].mean())
    cell_m = 50.0
    while True:
        cell_lat = cell_m / EARTH_M_PER_DEG
        cell_lon = cell_m / (EARTH_M_PER_DEG * math.cos(math.radians(lat0)))
        keys = pd.DataFrame(
            {
                "cx": np.floor(points["lon"].to_numpy() / cell_lon).astype(np.int64),
                "cy": np.floor(points["lat"].to_numpy() / cell_lat).astype(np.int64),
            }
        )
        if keys.drop_duplicates().shape[0] <= max_points:
            break
        cell_m *= 1.5
    weight = points["households"].clip(lower=0).astype(float) + 1e-9
    frame = pd.DataFrame(
        {
            "cx": keys["cx"], "cy": keys["cy"],
            "wlon": points["lon"].to_numpy() * weight, "wlat": points["lat"].to_numpy() * weight,
            "weight": weight,
            "households": points["households"],
            "uncovered_households": points["households"].where(~points["covered"], 0),
            "points_in_cell": 1,
        }
    )
    cells = frame.groupby(["cx", "cy"], sort=False).sum(numeric_only=True).reset_index()
    return pd.DataFrame(
        {
            "lon": cells["wlon"] / cells["weight"],
            "lat": cells["wlat"] / cells["weight"],
            "households": cells["households"],
            "uncovered_households": cells["uncovered_households"],
            "covered": cells["uncovered_households"] == 0,
            "points_in_cell": cells["points_in_cell"],
        }
    )


def view_for(lons: np.ndarray, lats: np.ndarray, width_px: int = 900, height_px: int = 560):
    """A view that fits the extent: deck.gl's world is 512 px × 2^zoom wide."""
    if len(lons) == 0:
        return pdk.ViewState(longitude=117.0, latitude=32.6, zoom=10)
    lon_span = float(np.nanmax(lons) - np.nanmin(lons)) or 0.01
    lat_span = float(np.nanmax(lats) - np.nanmin(lats)) or 0.01
    centre_lat = float(np.nanmean([np.nanmin(lats), np.nanmax(lats)]))
    # Web Mercator stretches latitude by 1 / cos φ.
    lat_span_mercator = lat_span / math.cos(math.radians(centre_lat))
    zoom = min(
        math.log2(width_px * 360 / (512 * lon_span)),
        math.log2(height_px * 360 / (512 * lat_span_mercator)),
    ) - 0.15
    return pdk.ViewState(
        longitude=float(np.nanmean([np.nanmin(lons), np.nanmax(lons)])),
        latitude=centre_lat,
        zoom=max(8.0, min(17.0, zoom)),
    )


def _escape(value: object) -> str:
    return html.escape("" if value is None or value != value else str(value))


def shapes_layer_data(shapes: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """One polygon row per community ring, coloured by coverage, with a tooltip.

    `coverage` has community_id, community_name, street, households,
    covered_households and coverage_pct.
    """
    merged = shapes.merge(coverage, on="community_id", how="left")
    rows = []
    for row in merged.itertuples(index=False):
        pct = row.coverage_pct if row.coverage_pct == row.coverage_pct else None
        tooltip = t(
            "map.tooltip.community",
            name=_escape(row.community_name), street=_escape(row.street),
            households=_escape(row.households), covered=_escape(row.covered_households),
            pct="—" if pct is None else f"{pct:.1f}%",
        )
        if row.derived:
            tooltip += "<br/>" + t("map.tooltip.derived")
        rows.append(
            {
                "polygon": row.rings[0],
                "fill": coverage_fill(pct),
                "tooltip": tooltip,
            }
        )
    return pd.DataFrame(rows, columns=["polygon", "fill", "tooltip"])


def facilities_layer_data(facilities: pd.DataFrame) -> pd.DataFrame:
    located = facilities.dropna(subset=["lon", "lat"])
    colours = []
    tooltips = []
    for row in located.itertuples(index=False):
        base = FACILITY_COLOURS.get(row.facility_type, FACILITY_COLOURS["other"])
        colours.append(base + [235 if row.status == "in_use" else 90])
        tooltips.append(
            t(
                "map.tooltip.facility",
                name=_escape(row.facility_name), type=FACILITY_TYPE.label_of(row.facility_type),
                status=FACILITY_STATUS.label_of(row.status),
            )
        )
    return pd.DataFrame(
        {"lon": located["lon"], "lat": located["lat"], "fill": colours, "tooltip": tooltips}
    )


def points_layer_data(points: pd.DataFrame) -> pd.DataFrame:
    cells = aggregate_points(points)
    uncovered = cells.get("uncovered_households", cells["households"].where(~cells["covered"], 0))
    tooltips = [
        t("map.tooltip.points", points=int(n), households=int(h), uncovered=int(u))
        for n, h, u in zip(cells["points_in_cell"], cells["households"], uncovered, strict=True)
    ]
    return pd.DataFrame(
        {
            "lon": cells["lon"].round(6), "lat": cells["lat"].round(6),
            "fill": [UNCOVERED if not c else COVERED for c in cells["covered"]],
            "radius": (
                np.where(cells["covered"], 15, 35) + np.sqrt(cells["households"].clip(lower=0))
            ).round(1),
            "tooltip": tooltips,
        }
    )


def coverage_deck(
    shapes: pd.DataFrame,
    coverage: pd.DataFrame,
    facilities: pd.DataFrame,
    points: pd.DataFrame,
    proposals: pd.DataFrame | None = None,
) -> pdk.Deck:
    """The coverage map: shapes by coverage, residences (uncovered in red),
    facilities by type (faded unless in use), proposed sites in black."""
    polygon_data = shapes_layer_data(shapes, coverage)
    layers = [
        pdk.Layer(
            "PolygonLayer", polygon_data, id="communities", get_polygon="polygon",
            get_fill_color="fill", get_line_color=[90, 90, 90, 200], line_width_min_pixels=1,
            stroked=True, filled=True, pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer", points_layer_data(points), id="residences",
            get_position=["lon", "lat"], get_fill_color="fill", get_radius="radius",
            radius_units="'meters'", radius_min_pixels=2, pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer", facilities_layer_data(facilities), id="facilities",
            get_position=["lon", "lat"], get_fill_color="fill", get_radius=4,
            radius_units="'pixels'", stroked=True, get_line_color=[255, 255, 255],
            line_width_min_pixels=1, pickable=True,
        ),
    ]
    if proposals is not None and not proposals.empty:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                proposals.assign(tooltip=t("map.tooltip.proposed")),
                id="proposed", get_position=["lon", "lat"], get_fill_color=PROPOSED,
                get_radius=9, radius_units="'pixels'", stroked=True,
                get_line_color=[255, 235, 59], line_width_min_pixels=3, pickable=True,
            )
        )
    return _deck(layers, shapes, points["lon"], points["lat"])


class SerializedOnceDeck(pdk.Deck):
    """A deck that encodes its JSON once. A cached map is drawn again on every
    rerun of every session, and pydeck's encoding was a quarter of the coverage
    page's time. Build a new deck rather than changing one."""

    def to_json(self) -> str:
        encoded = getattr(self, "_encoded", None)
        if encoded is None:
            encoded = self._encoded = super().to_json()
        return encoded


def _deck(layers: list, shapes: pd.DataFrame, lons: pd.Series, lats: pd.Series) -> pdk.Deck:
    """A deck framed on the community shapes (on the given points without shapes)."""
    if len(shapes):
        outline = np.concatenate([np.asarray(rings[0]) for rings in shapes["rings"]])
        lons, lats = outline[:, 0], outline[:, 1]
    return SerializedOnceDeck(
        layers=layers,
        initial_view_state=view_for(np.asarray(lons), np.asarray(lats)),
        # No basemap. map_style stays pydeck's default sentinel on purpose:
        # Streamlit replaces an explicit None with a Carto style from the internet.
        map_provider=None,
        tooltip={"html": "{tooltip}", "style": {"fontSize": "13px"}},
    )


OPEN_HEAVY = [198, 40, 40, 210]
MOSTLY_RESOLVED = [21, 101, 192, 170]


def incident_cells_layer_data(cells: pd.DataFrame, cell_m: float) -> pd.DataFrame:
    """One square per map cell: size by incidents, red where many are still open."""
    if cells.empty:
        return pd.DataFrame(columns=["lon", "lat", "fill", "radius", "tooltip"])
    open_share = cells["open_incidents"] / cells["incidents"].where(cells["incidents"] > 0)
    largest = float(cells["incidents"].max())
    radius = cell_m / 2 * np.sqrt(cells["incidents"] / largest).clip(lower=0.25)
    fills = [
        [int(a + (b - a) * share) for a, b in zip(MOSTLY_RESOLVED, OPEN_HEAVY, strict=True)]
        for share in open_share.fillna(0).clip(0, 1)
    ]
    tooltips = [
        t("map.tooltip.incidents", incidents=int(n), open=int(o), major=int(m),
          category=INCIDENT_CATEGORY.label_of(c))
        for n, o, m, c in zip(cells["incidents"], cells["open_incidents"],
                              cells["major_incidents"], cells["top_category"], strict=True)
    ]
    return pd.DataFrame({
        "lon": cells["cell_lon"].round(6), "lat": cells["cell_lat"].round(6),
        "fill": fills, "radius": radius.round(1), "tooltip": tooltips,
    })


def incident_deck(shapes: pd.DataFrame, cells: pd.DataFrame, cell_m: float) -> pdk.Deck:
    """Grid events per cell over the community shapes (no basemap). `shapes`
    may carry community_name for the shape tooltips."""
    names = shapes["community_name"] if "community_name" in shapes else shapes["community_id"]
    polygon_data = pd.DataFrame({
        "polygon": [rings[0] for rings in shapes["rings"]],
        "tooltip": [_escape(name) for name in names],
    })
    layers = [
        pdk.Layer(
            "PolygonLayer", polygon_data, id="communities", get_polygon="polygon",
            get_fill_color=[236, 239, 241, 160], get_line_color=[90, 90, 90, 200],
            line_width_min_pixels=1, stroked=True, filled=True, pickable=True,
        ),
        pdk.Layer(
            "ScatterplotLayer", incident_cells_layer_data(cells, cell_m), id="incident_cells",
            get_position=["lon", "lat"], get_fill_color="fill", get_radius="radius",
            radius_units="'meters'", radius_min_pixels=2, pickable=True,
        ),
    ]
    return _deck(layers, shapes, cells["cell_lon"], cells["cell_lat"])
