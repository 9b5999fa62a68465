"""pydeck maps with no basemap, readable on a projector: community shapes with
their names, a scale bar, a view fitted to what is drawn, and a legend.

Nothing is fetched from outside: `map_provider=None` draws no tiles, and the
community shapes are the base layer (tests/browser checks every request);
labels use the fonts installed on the viewer's machine (a CJK family first).
pydeck ships its data as JSON to the browser (about 10 MB per 100k points), so
point layers are aggregated to grid cells above `MAX_POINTS`.

Every string that reaches the browser from the data goes through `_plain`:
tooltips are pydeck *text* tooltips (set as innerText, never parsed as HTML),
labels are drawn as glyphs, and a leading "@@" — which deck.gl's JSON converter
would read as an expression or constant — is defused. The legend is HTML built
here from text.py strings with every text escaped; the page renders it beside
the map (MAP_LEGEND_COLUMNS), so both are on screen together.

Geometry of the fitted view: deck.gl's Web Mercator world is 512 px × 2^zoom
wide. The page's map is `height_px` tall; its width is not known on the server,
so the view is fitted to `FIT_WIDTH_PX`: the map column (three quarters of the
wide layout beside the legend) is about 1,080 px on a 1920 × 1080 screen with
the sidebar open, about 660 px on a 1366 px laptop, where a district wider than
tall loses a little at its sides until the map is zoomed out.
"""

from __future__ import annotations

import html
import json
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings import json_tools

from governance.contract import FACILITY_STATUS, FACILITY_TYPE, INCIDENT_CATEGORY
from governance.coverage import nearest_text
from governance.text import t

# About 300 bytes of JSON per point: 8,000 cells keep a map under ~3 MB.
MAX_POINTS = 8_000
# A city (5,000 communities) or a province (20,000) drawn shape by shape is
# tens of MB of polygons: past this many the communities are drawn as cells
# (a dot per cell, coloured by the cell's share), and past MAX_FACILITY_MARKS
# the facilities too (the focus type only, counted per cell).
MAX_SHAPES = 1_500
MAX_FACILITY_MARKS = 3_000
EARTH_M_PER_DEG = 111_195.0
EARTH_CIRCUMFERENCE_M = EARTH_M_PER_DEG * 360
WORLD_PX = 512  # deck.gl's Web Mercator world at zoom 0

# The fitted view: the map's height is the page's; its width is assumed.
FIT_WIDTH_PX = 900
MAP_HEIGHT_PX = 600
COVERAGE_MAP_HEIGHT_PX = 620
INCIDENT_MAP_HEIGHT_PX = 580
MAP_LEGEND_COLUMNS = (3, 1)  # the page's map and legend side by side
FIT_PAD_X_PX = 60  # room for half a label beside the outermost community
FIT_PAD_Y_PX = 28
SCALE_STRIP_PX = 44  # below the data, for the scale bar
MIN_SPAN_M = 600.0  # one community alone is not drawn at street-corner zoom
MIN_ZOOM, MAX_ZOOM = 3.0, 18.0

# Scale bar: the longest of these not over a fifth of the view's width.
SCALE_LENGTHS_M = (50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
                   200_000, 500_000)
SCALE_SHARE = 0.2

# Labels: glyphs for exactly the characters used (CJK needs "auto"); a CJK
# family first, then what Windows and macOS machines have.
LABEL_FONT_FAMILY = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", '
                     '"PingFang SC", sans-serif')
LABEL_FONT_PX = 17
LABEL_PAD_PX = (6, 3)  # background padding left/right, top/bottom
LABEL_GAP_PX = 3
MAX_LABELS = 40
MAX_LABEL_TRIES = 400  # anchors tried, in order of priority (a large district has 10,000+)

# Type colours keep clear of the status colours of points: red (not covered)
# and blue-grey (covered).
FACILITY_COLOURS: dict[str, list[int]] = {
    "service_center": [21, 101, 192],
    "culture": [123, 31, 162],
    "sports": [0, 121, 107],
    "elderly_daycare": [239, 108, 0],
    "elderly_home": [230, 81, 0],
    "health": [0, 172, 193],
    "childcare": [194, 24, 91],
    "police": [26, 35, 126],
    "mediation": [85, 139, 47],
    "public_toilet": [109, 76, 65],
    "waste": [130, 119, 23],
    "parking": [0, 96, 100],
    "fire": [221, 44, 0],
    "park": [46, 125, 50],
    "other": [117, 117, 117],
}
IN_USE_ALPHA, NOT_IN_USE_ALPHA = 235, 90
# The facilities the coverage is computed for stand out: larger, dark outline.
FOCUS_RADIUS_PX, OTHER_RADIUS_PX = 5, 3
FOCUS_LINE, OTHER_LINE = [33, 33, 33, 255], [255, 255, 255, 255]
UNCOVERED = [198, 40, 40, 220]
COVERED = [84, 110, 122, 110]
CENTROID_FILL = [255, 255, 255, 230]
CENTROID_UNCOVERED_LINE = [198, 40, 40, 255]
CENTROID_COVERED_LINE = [84, 110, 122, 255]
PROPOSED = [0, 0, 0, 255]
PROPOSED_LINE = [255, 235, 59, 255]
SHAPE_LINE = [80, 80, 80, 220]
FILL_ALPHA = 130
NO_DATA_FILL = [200, 200, 200, 90]
# Coverage classes, highest first: (lowest coverage % of the class, colour).
COVERAGE_CLASSES: tuple[tuple[float, list[int]], ...] = (
    (100.0, [46, 125, 50, FILL_ALPHA]),
    (90.0, [139, 195, 74, FILL_ALPHA]),
    (70.0, [255, 193, 7, FILL_ALPHA]),
    (50.0, [251, 140, 0, FILL_ALPHA]),
    (0.0, [229, 57, 53, FILL_ALPHA]),
)
TOOLTIP_STYLE = {
    "fontSize": "15px", "lineHeight": "1.5", "backgroundColor": "#ffffff", "color": "#212121",
    "border": "1px solid #9e9e9e", "borderRadius": "4px", "padding": "6px 10px",
    "maxWidth": "420px",
}


# ---- text that reaches the browser ---------------------------------------------------


def _plain(value: object) -> str:
    """User text as it goes into a map's JSON: a missing value as "—", and never
    a deck.gl JSON directive ("@@=…" is an expression, "@@#…" a constant)."""
    text = "—" if value is None or value != value else str(value)
    return "\u200b" + text if text.startswith("@@") else text


def _count(value: object) -> str:
    return "—" if value is None or value != value else f"{int(value):,}"


# ---- the fitted view ------------------------------------------------------------------


def _mercator_x(lon):
    return (np.asarray(lon, dtype=float) + 180.0) / 360.0


def _mercator_y(lat):
    phi = np.radians(np.clip(np.asarray(lat, dtype=float), -85.0511, 85.0511))
    return (1.0 - np.log(np.tan(math.pi / 4 + phi / 2)) / math.pi) / 2.0


def _lon_of(x):
    return np.asarray(x, dtype=float) * 360.0 - 180.0


def _lat_of(y):
    return np.degrees(2 * np.arctan(np.exp(math.pi * (1 - 2 * np.asarray(y, dtype=float))))
                      - math.pi / 2)


@dataclass(frozen=True)
class Frame:
    """A map view (centre and zoom) on a canvas of width_px × height_px."""

    longitude: float
    latitude: float
    zoom: float
    width_px: int = FIT_WIDTH_PX
    height_px: int = MAP_HEIGHT_PX

    @property
    def world_px(self) -> float:
        return WORLD_PX * 2.0 ** self.zoom

    def to_px(self, lons, lats) -> tuple[np.ndarray, np.ndarray]:
        """Canvas pixels (x right, y down, from the top-left corner)."""
        x = (_mercator_x(lons) - _mercator_x(self.longitude)) * self.world_px + self.width_px / 2
        y = (_mercator_y(lats) - _mercator_y(self.latitude)) * self.world_px + self.height_px / 2
        return x, y

    def to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        dx = (np.asarray(x, float) - self.width_px / 2) / self.world_px
        dy = (np.asarray(y, float) - self.height_px / 2) / self.world_px
        mx = _mercator_x(self.longitude) + dx
        my = _mercator_y(self.latitude) + dy
        return _lon_of(mx), _lat_of(my)

    def metres_per_px(self, latitude: float | None = None) -> float:
        lat = self.latitude if latitude is None else latitude
        return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / self.world_px

    def view_state(self) -> pdk.ViewState:
        return pdk.ViewState(longitude=self.longitude, latitude=self.latitude, zoom=self.zoom)


def fit_frame(
    lons, lats, width_px: int = FIT_WIDTH_PX, height_px: int = MAP_HEIGHT_PX
) -> Frame:
    """The view in which the points' bounding box fills the canvas, less margins
    for labels at the sides and a strip for the scale bar at the bottom."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    keep = np.isfinite(lons) & np.isfinite(lats)
    lons, lats = lons[keep], lats[keep]
    if len(lons) == 0:
        return Frame(117.0, 32.6, 10.0, width_px, height_px)
    x = _mercator_x(lons)
    y = _mercator_y(lats)
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    mid_lat = float(_lat_of((y0 + y1) / 2))
    # A span of at least MIN_SPAN_M each way, in world units at this latitude.
    min_span = MIN_SPAN_M / (EARTH_CIRCUMFERENCE_M * math.cos(math.radians(mid_lat)))
    if x1 - x0 < min_span:
        x0, x1 = (x0 + x1 - min_span) / 2, (x0 + x1 + min_span) / 2
    if y1 - y0 < min_span:
        y0, y1 = (y0 + y1 - min_span) / 2, (y0 + y1 + min_span) / 2
    usable_w = max(width_px - 2 * FIT_PAD_X_PX, 50)
    usable_h = max(height_px - 2 * FIT_PAD_Y_PX - SCALE_STRIP_PX, 50)
    zoom = math.log2(min(usable_w / ((x1 - x0) * WORLD_PX), usable_h / ((y1 - y0) * WORLD_PX)))
    zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
    world = WORLD_PX * 2.0 ** zoom
    # The data's middle sits in the middle of the area above the scale strip.
    data_middle_px = FIT_PAD_Y_PX + usable_h / 2
    centre_y = (y0 + y1) / 2 + (height_px / 2 - data_middle_px) / world
    return Frame(float(_lon_of((x0 + x1) / 2)), float(_lat_of(centre_y)), zoom,
                 width_px, height_px)


# ---- scale bar ---------------------------------------------------------------------------


def scale_length_m(view_width_m: float) -> int:
    """The longest round length (100/200/500 m, 1/2/5 km …) not over a fifth of
    the view's width; the shortest when even that is longer."""
    fitting = [length for length in SCALE_LENGTHS_M if length <= view_width_m * SCALE_SHARE]
    return fitting[-1] if fitting else SCALE_LENGTHS_M[0]


def scale_text(length_m: int) -> str:
    if length_m >= 1000:
        return t("map.scale.km", n=f"{length_m / 1000:g}")
    return t("map.scale.metres", n=f"{length_m:,}")


def scale_bar(frame: Frame, left_px: float, bottom_px: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(path, label) rows of a scale bar whose left end is at (left_px, bottom_px)
    on the canvas: a bar of a round length with end ticks, its length above it.
    The bar is drawn in map coordinates, so it stays true as the map is zoomed."""
    length_m = scale_length_m(frame.width_px * frame.metres_per_px())
    lon0, lat = (float(v) for v in frame.to_lonlat(left_px, bottom_px))
    # Exact along the bar's own parallel (1° of longitude is 111,195 m × cos φ).
    lon1 = lon0 + length_m / (EARTH_M_PER_DEG * math.cos(math.radians(lat)))
    tick = float(frame.to_lonlat(left_px, bottom_px - 7)[1])
    path = pd.DataFrame({
        "path": [[[lon0, tick], [lon0, lat], [lon1, lat], [lon1, tick]]],
        "length_m": [length_m],
    })
    label = pd.DataFrame({
        "lon": [(lon0 + lon1) / 2], "lat": [lat], "text": [scale_text(length_m)],
    })
    return path, label


def scale_box_px(frame: Frame, path: pd.DataFrame) -> tuple[float, float, float, float]:
    """The canvas box (left, top, right, bottom) the scale bar and its text take."""
    (lon0, _), _, (lon1, lat), _ = path["path"].iloc[0]
    x, y = frame.to_px(np.array([lon0, lon1]), np.array([lat, lat]))
    return float(x[0]) - 4, float(y[0]) - 32, float(x[1]) + 4, float(y[0]) + 4


def _scale_layers(path: pd.DataFrame, label: pd.DataFrame) -> list[pdk.Layer]:
    # No colour accessors: Streamlit fades the colour accessors of layers it
    # does not select after a click; these stay black.
    return [
        pdk.Layer("PathLayer", path, id="scale_bar", get_path="path", get_width=3,
                  width_units="'pixels'", cap_rounded=False, pickable=False),
        pdk.Layer("TextLayer", label, id="scale_label", get_position=["lon", "lat"],
                  get_text="text", get_size=15, size_units="'pixels'",
                  get_pixel_offset=[0, -10], get_text_anchor="'middle'",
                  get_alignment_baseline="'bottom'", character_set="'auto'",
                  font_family=f"'{LABEL_FONT_FAMILY}'", pickable=False),
    ]


# ---- labels --------------------------------------------------------------------------------


def _text_width_px(text: str, font_px: float = LABEL_FONT_PX) -> float:
    """Estimated drawn width: a CJK character is about 1 em, others about 0.6 em."""
    return sum(font_px if unicodedata.east_asian_width(ch) in "WF" else 0.6 * font_px
               for ch in text)


def ring_centres(rings: list) -> pd.DataFrame:
    """Per closed ring: its area centroid (the mean of its vertices when it has
    no area), its area (square degrees) and its bounding box (west, east, south,
    north). All rings at once: a district may have 10,000 communities."""
    arrays = [np.asarray(ring, dtype=float).reshape(-1, 2) for ring in rings]
    lengths = np.array([len(a) for a in arrays])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    points = np.concatenate(arrays)
    x, y = points[:, 0], points[:, 1]
    # Edge i runs from point i to point i + 1; the "edge" from a ring's last
    # point to the next ring's first is no edge.
    cross = np.append(x[:-1] * y[1:] - x[1:] * y[:-1], 0.0)
    cross[starts[1:] - 1] = 0.0
    sum_x = np.append(x[:-1] + x[1:], 0.0)
    sum_y = np.append(y[:-1] + y[1:], 0.0)
    area = np.add.reduceat(cross, starts) / 2
    flat = np.abs(area) < 1e-14
    safe = np.where(flat, 1.0, area)
    cx = np.where(flat, np.add.reduceat(x, starts) / lengths,
                  np.add.reduceat(sum_x * cross, starts) / (6 * safe))
    cy = np.where(flat, np.add.reduceat(y, starts) / lengths,
                  np.add.reduceat(sum_y * cross, starts) / (6 * safe))
    return pd.DataFrame({
        "lon": cx, "lat": cy, "area": np.abs(area),
        "west": np.minimum.reduceat(x, starts), "east": np.maximum.reduceat(x, starts),
        "south": np.minimum.reduceat(y, starts), "north": np.maximum.reduceat(y, starts),
    })


def community_anchors(shapes: pd.DataFrame) -> pd.DataFrame:
    """One row per community: the centre of its largest outer ring, that ring's
    area (square degrees, for ranking) and its bounding box (west, east, south,
    north), so a label can sit beside a shape too small to hold it."""
    columns = ["community_id", "lon", "lat", "area", "west", "east", "south", "north"]
    if shapes.empty:
        return pd.DataFrame(columns=columns)
    rings = ring_centres([rings[0] for rings in shapes["rings"]])
    rings.insert(0, "community_id", shapes["community_id"].to_numpy())
    largest = rings.sort_values("area", ascending=False, kind="stable")
    return largest.drop_duplicates("community_id")[columns].reset_index(drop=True)


def place_labels(
    anchors: pd.DataFrame, frame: Frame, max_labels: int = MAX_LABELS,
    obstacles: tuple[tuple[float, float, float, float], ...] = (),
) -> pd.DataFrame:
    """The labels drawn: anchors (lon, lat, text; optionally the shape's west,
    east, south, north) in their order of priority. A label goes on its shape
    when the shape holds it, else just above, below, right or left of the shape
    (on it as a last resort), and is kept when its box stays on the canvas and
    clear of the obstacles' boxes (left, top, right, bottom) and of every label
    kept before it, until `max_labels` (or MAX_LABEL_TRIES anchors were tried).
    Returns lon, lat, text, offset (pixels) of the kept labels."""
    if anchors.empty:
        return pd.DataFrame(columns=["lon", "lat", "text", "offset"])
    xs, ys = frame.to_px(anchors["lon"].to_numpy(), anchors["lat"].to_numpy())
    if {"west", "east", "south", "north"} <= set(anchors.columns):
        left, top = frame.to_px(anchors["west"].to_numpy(), anchors["north"].to_numpy())
        right, bottom = frame.to_px(anchors["east"].to_numpy(), anchors["south"].to_numpy())
    else:
        left, top, right, bottom = xs, ys, xs, ys
    height = LABEL_FONT_PX * 1.25 + 2 * LABEL_PAD_PX[1]
    kept: list[tuple[float, float, float, float]] = list(obstacles)
    rows = []
    for i, (lon, lat, text) in enumerate(
        anchors[["lon", "lat", "text"]].itertuples(index=False, name=None)
    ):
        if len(rows) >= max_labels or i >= MAX_LABEL_TRIES:
            break
        x, y = xs[i], ys[i]
        width = _text_width_px(text) + 2 * LABEL_PAD_PX[0]
        beside = [
            (0.0, top[i] - y - LABEL_GAP_PX - height / 2),
            (0.0, bottom[i] - y + LABEL_GAP_PX + height / 2),
            (right[i] - x + LABEL_GAP_PX + width / 2, 0.0),
            (left[i] - x - LABEL_GAP_PX - width / 2, 0.0),
        ]
        holds = right[i] - left[i] >= width and bottom[i] - top[i] >= 2 * height
        candidates = [(0.0, 0.0), *beside] if holds else [*beside, (0.0, 0.0)]
        for dx, dy in candidates:
            box = (x + dx - width / 2, y + dy - height / 2, x + dx + width / 2, y + dy + height / 2)
            inside = box[0] >= 0 and box[2] <= frame.width_px and box[1] >= 0 \
                and box[3] <= frame.height_px
            clear = all(
                box[2] + LABEL_GAP_PX <= k[0] or k[2] + LABEL_GAP_PX <= box[0]
                or box[3] + LABEL_GAP_PX <= k[1] or k[3] + LABEL_GAP_PX <= box[1]
                for k in kept
            )
            if inside and clear:
                kept.append(box)
                rows.append({"lon": round(float(lon), 6), "lat": round(float(lat), 6),
                             "text": _plain(text), "offset": [round(dx, 1), round(dy, 1)]})
                break
    return pd.DataFrame(rows, columns=["lon", "lat", "text", "offset"])


def _label_layer(labels: pd.DataFrame) -> pdk.Layer:
    # No colour accessor (see _scale_layers): black text on a white box.
    return pdk.Layer(
        "TextLayer", labels, id="community_labels", get_position=["lon", "lat"],
        get_text="text", get_pixel_offset="offset", get_size=LABEL_FONT_PX,
        size_units="'pixels'", get_text_anchor="'middle'", get_alignment_baseline="'center'",
        character_set="'auto'", font_family=f"'{LABEL_FONT_FAMILY}'", font_weight=600,
        background=True, get_background_color=[255, 255, 255, 225],
        background_padding=[LABEL_PAD_PX[0], LABEL_PAD_PX[1], LABEL_PAD_PX[0], LABEL_PAD_PX[1]],
        get_border_color=[97, 97, 97, 255], get_border_width=1, pickable=False,
    )


# ---- legend ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendItem:
    """One swatch and its words. shape: "area" (a filled square), "dot"
    (a small filled circle), "focus" (a larger one, dark outline) or "ring"
    (a hollow circle)."""

    label: str
    colour: tuple[int, ...]
    shape: str = "area"
    line: tuple[int, ...] | None = None


@dataclass(frozen=True)
class LegendGroup:
    title: str
    items: tuple[LegendItem, ...] = ()
    note: str = ""


def _css(colour) -> str:
    red, green, blue, *alpha = colour
    return f"rgba({red},{green},{blue},{(alpha[0] if alpha else 255) / 255:.2f})"


def _swatch(item: LegendItem) -> str:
    size = 16
    line = _css(item.line or [97, 97, 97, 255])
    if item.shape == "ring":
        style = (f"width:{size}px;height:{size}px;border-radius:50%;background:{_css(item.colour)};"
                 f"border:3px solid {line};box-sizing:border-box")
    elif item.shape == "dot":
        style = (f"width:{size - 4}px;height:{size - 4}px;border-radius:50%;"
                 f"background:{_css(item.colour)};border:1px solid {line}")
    elif item.shape == "focus":
        style = (f"width:{size}px;height:{size}px;border-radius:50%;box-sizing:border-box;"
                 f"background:{_css(item.colour)};border:2px solid {line}")
    else:
        style = (f"width:{size + 6}px;height:{size}px;background:{_css(item.colour)};"
                 f"border:2px solid {line};box-sizing:border-box")
    return f'<span style="display:inline-block;vertical-align:middle;{style}"></span>'


def legend_html(groups: tuple[LegendGroup, ...]) -> str:
    """The legend as HTML for st.markdown(unsafe_allow_html=True): per group its
    title, its swatches (wrapping to the width they are given) and its note;
    every text escaped."""
    blocks = []
    for group in groups:
        items = "".join(
            f'<span style="white-space:nowrap">{_swatch(item)}'
            f'<span style="vertical-align:middle;margin-left:6px">{html.escape(item.label)}'
            "</span></span>"
            for item in group.items
        )
        note = (f'<div style="color:#555;font-size:14px;line-height:1.5">'
                f"{html.escape(group.note)}</div>" if group.note else "")
        blocks.append(
            '<div style="margin:0 0 10px">'
            f'<div style="font-weight:700">{html.escape(group.title)}</div>'
            + (f'<div style="display:flex;flex-wrap:wrap;align-items:center;gap:0 16px">'
               f"{items}</div>" if items else "")
            + note + "</div>"
        )
    return ('<div class="map-legend" style="font-size:15px;line-height:1.8">'
            + "".join(blocks) + "</div>")


def legend_texts(groups: tuple[LegendGroup, ...]) -> list[str]:
    """Every text of a legend, in order (titles, labels, notes)."""
    texts = []
    for group in groups:
        texts.append(group.title)
        texts += [item.label for item in group.items]
        if group.note:
            texts.append(group.note)
    return texts


@dataclass
class MapFigure:
    """A deck and what the page shows with it."""

    deck: pdk.Deck
    legend: tuple[LegendGroup, ...]
    frame: Frame
    labels_shown: int
    labels_total: int

    @property
    def legend_html(self) -> str:
        return legend_html(self.legend)


def _labels_group(shown: int, total: int) -> tuple[LegendGroup, ...]:
    if shown >= total:
        return ()
    return (LegendGroup(t("map.legend.labels"), note=t("map.legend.labels.some",
                                                       shown=shown, total=total)),)


# ---- the coverage map ----------------------------------------------------------------------


def coverage_class(coverage_pct: float | None) -> int | None:
    """Index into COVERAGE_CLASSES, or None for no data."""
    if coverage_pct is None or coverage_pct != coverage_pct:
        return None
    for index, (lowest, _) in enumerate(COVERAGE_CLASSES):
        if coverage_pct >= lowest:
            return index
    return len(COVERAGE_CLASSES) - 1


def coverage_fill(coverage_pct: float | None) -> list[int]:
    """The colour of a community's coverage class, translucent so points show."""
    index = coverage_class(coverage_pct)
    return NO_DATA_FILL if index is None else COVERAGE_CLASSES[index][1]


def coverage_line(coverage_pct: float | None) -> list[int]:
    """The outline: the class colour, darker and opaque, so that a community too
    small on screen for its fill to show still shows its class."""
    if coverage_class(coverage_pct) is None:
        return SHAPE_LINE
    red, green, blue, _ = coverage_fill(coverage_pct)
    return [int(red * 0.75), int(green * 0.75), int(blue * 0.75), 255]


def coverage_class_label(index: int) -> str:
    lowest = COVERAGE_CLASSES[index][0]
    if index == 0:
        return t("map.legend.coverage.full")
    upper = COVERAGE_CLASSES[index - 1][0]
    if index == len(COVERAGE_CLASSES) - 1:
        return t("map.legend.coverage.below", high=f"{upper:g}")
    return t("map.legend.coverage.range", low=f"{lowest:g}", high=f"{upper:g}")


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


def cell_keys(lons: np.ndarray, lats: np.ndarray, max_cells: int,
              start_m: float = 50.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Square cells (x, y keys per point) grown by half each time until at most
    `max_cells` hold a point; with the cell's side in metres."""
    lat0 = float(np.nanmean(lats)) if len(lats) else 0.0
    cell_m = start_m
    while True:
        cell_lat = cell_m / EARTH_M_PER_DEG
        cell_lon = cell_m / (EARTH_M_PER_DEG * max(math.cos(math.radians(lat0)), 0.01))
        cx = np.floor(lons / cell_lon).astype(np.int64)
        cy = np.floor(lats / cell_lat).astype(np.int64)
        if len(np.unique(cx * 4_000_003 + cy)) <= max_cells:
            return cx, cy, cell_m
        cell_m *= 1.5


def community_cells(shapes: pd.DataFrame, coverage: pd.DataFrame | None = None,
                    max_cells: int = MAX_SHAPES) -> pd.DataFrame:
    """Communities summed into cells (by the centre of their outline): lon,
    lat (mean centre), communities, cell_m and, with `coverage`
    (community_id, households, covered_households), the cell's households,
    covered households and coverage_pct."""
    centres = community_anchors(shapes)[["community_id", "lon", "lat"]]
    if coverage is not None:
        centres = centres.merge(
            coverage[["community_id", "households", "covered_households"]],
            on="community_id", how="left")
    cx, cy, cell_m = cell_keys(centres["lon"].to_numpy(float), centres["lat"].to_numpy(float),
                               max_cells)
    frame = centres.assign(cx=cx, cy=cy, communities=1)
    sums = {"lon": "mean", "lat": "mean", "communities": "sum"}
    if coverage is not None:
        sums |= {"households": lambda v: v.sum(min_count=1),
                 "covered_households": lambda v: v.sum(min_count=1)}
    cells = frame.groupby(["cx", "cy"], sort=False).agg(sums).reset_index(drop=True)
    if coverage is not None:
        households = cells["households"].astype(float)
        cells["coverage_pct"] = (cells["covered_households"].astype(float)
                                 / households.where(households > 0) * 100)
    return cells.assign(cell_m=cell_m)


def community_cells_layer_data(shapes: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """The coverage map's communities when there are more than MAX_SHAPES:
    one dot per cell, coloured by the cell's coverage, with a tooltip."""
    cells = community_cells(shapes, coverage)
    pcts = [None if p != p else float(p) for p in cells["coverage_pct"]]
    return pd.DataFrame({
        "lon": cells["lon"].round(6), "lat": cells["lat"].round(6),
        "fill": [coverage_fill(p) for p in pcts], "line": [coverage_line(p) for p in pcts],
        "radius": (cells["cell_m"] * 0.45).round(1),
        "tooltip": [t("map.tooltip.community_cell", communities=f"{int(n):,}",
                      households=_count(h), covered=_count(c),
                      pct="—" if p is None else f"{p:.1f}%")
                    for n, h, c, p in zip(cells["communities"], cells["households"],
                                          cells["covered_households"], pcts, strict=True)],
    })


def _community_cells_layer(data: pd.DataFrame, fill="fill", line="line") -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer", data, id="communities", get_position=["lon", "lat"],
        get_fill_color=fill, get_line_color=line, get_radius="radius",
        radius_units="'meters'", radius_min_pixels=2, stroked=True,
        line_width_min_pixels=1, pickable=True,
    )


def _cells_group(communities: int) -> tuple[LegendGroup, ...]:
    if communities <= MAX_SHAPES:
        return ()
    return (LegendGroup(t("map.legend.cells"), note=t(
        "map.legend.cells.note", communities=f"{communities:,}")),)


def _basis(points: pd.DataFrame) -> pd.Series:
    return points["basis"] if "basis" in points else pd.Series("residences", index=points.index)


def community_basis(points: pd.DataFrame) -> dict[str, str]:
    """community_id → the basis of its points ('residences' or 'centroids')."""
    if points.empty or "community_id" not in points:
        return {}
    frame = pd.DataFrame({"community_id": points["community_id"], "basis": _basis(points)})
    return dict(frame.drop_duplicates("community_id")[["community_id", "basis"]].itertuples(
        index=False, name=None))


def shapes_layer_data(
    shapes: pd.DataFrame, coverage: pd.DataFrame, basis: dict[str, str] | None = None
) -> pd.DataFrame:
    """One polygon row per community ring, coloured by coverage class, with a
    tooltip. `coverage` has community_id, community_name, street, households,
    covered_households and coverage_pct."""
    merged = shapes.merge(coverage, on="community_id", how="left")
    basis = basis or {}
    basis_lines = {b: t("map.tooltip.basis", basis=t(f"map.basis.{b}"))
                   for b in ("residences", "centroids")}
    derived_line = t("map.tooltip.derived")
    rows = []
    for row in merged.itertuples(index=False):
        pct = row.coverage_pct if row.coverage_pct == row.coverage_pct else None
        lines = [t(
            "map.tooltip.community",
            name=_plain(row.community_name), street=_plain(row.street),
            households=_count(row.households), covered=_count(row.covered_households),
            pct="—" if pct is None else f"{pct:.1f}%",
        )]
        if basis.get(row.community_id) in basis_lines:
            lines.append(basis_lines[basis[row.community_id]])
        if row.derived:
            lines.append(derived_line)
        rows.append({"polygon": row.rings[0], "fill": coverage_fill(pct),
                     "line": coverage_line(pct), "tooltip": _plain("\n".join(lines))})
    return pd.DataFrame(rows, columns=["polygon", "fill", "line", "tooltip"])


def facilities_layer_data(facilities: pd.DataFrame, focus_type: str | None = None) -> pd.DataFrame:
    """One row per located facility; the focus type last (drawn on top) and larger.
    More than MAX_FACILITY_MARKS: the focus type's only, one mark per cell."""
    located = facilities.dropna(subset=["lon", "lat"])
    if len(located) > MAX_FACILITY_MARKS:
        return facility_cells_layer_data(located, focus_type)
    if focus_type is not None:
        located = located.assign(_focus=located["facility_type"] == focus_type)
        located = located.sort_values("_focus", kind="stable")
    colours, tooltips, radii, lines, widths = [], [], [], [], []
    # Columns as Python lists: itertuples over Arrow-backed text columns cost
    # more than the loop's own work.
    for facility_type, status, name in zip(located["facility_type"].tolist(),
                                           located["status"].tolist(),
                                           located["facility_name"].tolist(), strict=True):
        base = FACILITY_COLOURS.get(facility_type, FACILITY_COLOURS["other"])
        colours.append(base + [IN_USE_ALPHA if status == "in_use" else NOT_IN_USE_ALPHA])
        focus = focus_type is None or facility_type == focus_type
        radii.append(FOCUS_RADIUS_PX if focus else OTHER_RADIUS_PX)
        lines.append(FOCUS_LINE if focus else OTHER_LINE)
        widths.append(2 if focus else 1)
        tooltips.append(_plain(t(
            "map.tooltip.facility", name=_plain(name),
            type=FACILITY_TYPE.label_of(facility_type),
            status=FACILITY_STATUS.label_of(status),
        )))
    return pd.DataFrame({"lon": located["lon"].round(6), "lat": located["lat"].round(6),
                         "fill": colours, "radius": radii, "line": lines, "line_width": widths,
                         "tooltip": tooltips})


def facility_cells_layer_data(located: pd.DataFrame, focus_type: str | None) -> pd.DataFrame:
    """Facilities of the focus type (all types when there is none) counted per
    cell, in the focus type's colour, larger where there are more."""
    shown = located if focus_type is None else located[located["facility_type"] == focus_type]
    columns = ["lon", "lat", "fill", "radius", "line", "line_width", "tooltip"]
    if shown.empty:
        return pd.DataFrame(columns=columns)
    cx, cy, _ = cell_keys(shown["lon"].to_numpy(float), shown["lat"].to_numpy(float),
                          MAX_FACILITY_MARKS)
    in_use = (shown["status"] == "in_use").astype(int)
    cells = pd.DataFrame({"cx": cx, "cy": cy, "lon": shown["lon"].to_numpy(float),
                          "lat": shown["lat"].to_numpy(float), "n": 1,
                          "in_use": in_use.to_numpy()}).groupby(["cx", "cy"], sort=False).agg(
        lon=("lon", "mean"), lat=("lat", "mean"), n=("n", "sum"), in_use=("in_use", "sum"))
    base = FACILITY_COLOURS.get(focus_type or "other", FACILITY_COLOURS["other"])
    label = FACILITY_TYPE.label_of(focus_type) if focus_type else t("map.legend.facilities")
    return pd.DataFrame({
        "lon": cells["lon"].round(6).to_numpy(), "lat": cells["lat"].round(6).to_numpy(),
        "fill": [base + [IN_USE_ALPHA]] * len(cells),
        "radius": (FOCUS_RADIUS_PX + np.sqrt(cells["n"].to_numpy()) - 1).round(1),
        "line": [FOCUS_LINE] * len(cells), "line_width": [2] * len(cells),
        "tooltip": [t("map.tooltip.facility_cell", n=f"{int(n):,}", type=_plain(label),
                      in_use=f"{int(u):,}") for n, u in zip(cells["n"], cells["in_use"],
                                                           strict=True)],
    })


_TOOLTIP_COLUMNS = ("point_id", "community_name", "households", "covered", "facility_type",
                    "nearest_walking_m", "search_limit_m", "nearest_facility_name",
                    "nearest_facility_id")


def _point_tooltips(points: pd.DataFrame, key: str) -> list[str]:
    """Per point: where it is, its households, whether covered, the nearest facility."""
    states = {True: t("map.state.covered"), False: t("map.state.uncovered")}
    nearest = {"nearest_walking_m", "facility_type", "search_limit_m"} <= set(points.columns)
    # Only the columns the text reads, as Python lists: to_dict("records") over
    # every column was two thirds of the coverage map's tooltip time.
    read = [c for c in _TOOLTIP_COLUMNS if c in points.columns]
    tooltips = []
    for values in zip(*(points[c].tolist() for c in read), strict=True):
        row = dict(zip(read, values, strict=True))
        lines = [t(key, point=_plain(row.get("point_id")),
                   community=_plain(row.get("community_name")),
                   households=_count(row.get("households")), state=states[bool(row["covered"])])]
        if nearest:
            lines.append(nearest_text(row))
        tooltips.append(_plain("\n".join(lines)))
    return tooltips


def points_layer_data(points: pd.DataFrame) -> pd.DataFrame:
    """Residence points (or cells of them), red where not covered; the radius in
    metres grows with households."""
    cells = aggregate_points(points)
    if "uncovered_households" in cells:
        tooltips = [
            t("map.tooltip.points", points=f"{int(n):,}", households=f"{int(h):,}",
              uncovered=f"{int(u):,}")
            for n, h, u in zip(cells["points_in_cell"], cells["households"],
                               cells["uncovered_households"], strict=True)
        ]
    else:
        tooltips = _point_tooltips(cells, "map.tooltip.residence")
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


def centroids_layer_data(points: pd.DataFrame) -> pd.DataFrame:
    """Community centres standing in for buildings: hollow rings, red outline
    where not covered."""
    return pd.DataFrame({
        "lon": points["lon"].round(6), "lat": points["lat"].round(6),
        "line": [CENTROID_UNCOVERED_LINE if not c else CENTROID_COVERED_LINE
                 for c in points["covered"]],
        "tooltip": _point_tooltips(points, "map.tooltip.centroid"),
    })


def coverage_legend(
    coverage: pd.DataFrame,
    facilities: pd.DataFrame,
    points: pd.DataFrame,
    focus_type: str | None = None,
    proposals: bool = False,
) -> tuple[LegendGroup, ...]:
    """What the coverage map's colours and marks mean, for what it draws."""
    classes = [LegendItem(coverage_class_label(i), tuple(colour), "area",
                          tuple(coverage_line(lowest)))
               for i, (lowest, colour) in enumerate(COVERAGE_CLASSES)]
    if coverage["coverage_pct"].isna().any():
        classes.append(LegendItem(t("map.legend.no_data"), tuple(NO_DATA_FILL)))
    groups = [LegendGroup(t("map.legend.coverage"), tuple(classes))]

    bases = set(_basis(points)) if len(points) else set()
    marks = []
    if "residences" in bases:
        marks += [LegendItem(t("map.legend.residence.uncovered"), tuple(UNCOVERED), "dot"),
                  LegendItem(t("map.legend.residence.covered"), tuple(COVERED), "dot")]
    if "centroids" in bases:
        marks += [
            LegendItem(t("map.legend.centroid.uncovered"), tuple(CENTROID_FILL), "ring",
                       tuple(CENTROID_UNCOVERED_LINE)),
            LegendItem(t("map.legend.centroid.covered"), tuple(CENTROID_FILL), "ring",
                       tuple(CENTROID_COVERED_LINE)),
        ]
    if marks:
        note = t("map.legend.basis.mixed") if len(bases) > 1 else ""
        groups.append(LegendGroup(t("map.legend.basis"), tuple(marks), note))

    located = facilities.dropna(subset=["lon", "lat"])
    present = set(located["facility_type"])
    items = []
    if focus_type is not None and focus_type in present:
        items.append(LegendItem(
            t("map.legend.facility.focus", type=FACILITY_TYPE.label_of(focus_type)),
            tuple(FACILITY_COLOURS.get(focus_type, FACILITY_COLOURS["other"]) + [IN_USE_ALPHA]),
            "focus", tuple(FOCUS_LINE)))
    items += [
        LegendItem(code.label, tuple(FACILITY_COLOURS.get(code.code, FACILITY_COLOURS["other"])
                                     + [IN_USE_ALPHA]), "dot", (255, 255, 255, 255))
        for code in FACILITY_TYPE.codes if code.code in present and code.code != focus_type
    ]
    if proposals:
        items.append(LegendItem(t("map.legend.proposed"), tuple(PROPOSED), "dot",
                                tuple(PROPOSED_LINE)))
    if items:
        note = t("map.legend.facility.faded") if (located["status"] != "in_use").any() else ""
        groups.append(LegendGroup(t("map.legend.facilities"), tuple(items), note))
    return tuple(groups)


def _label_anchors(shapes: pd.DataFrame, names: pd.DataFrame, priority: str) -> pd.DataFrame:
    """Label anchors (lon, lat, text) for the shapes' communities, highest
    `priority` first (ties: larger shape first, then by name)."""
    anchors = community_anchors(shapes).merge(names, on="community_id", how="inner")
    anchors = anchors[anchors["text"].notna() & (anchors["text"].astype(str) != "")]
    anchors = anchors.assign(text=anchors["text"].astype(str))
    return anchors.sort_values([priority, "area", "text"], ascending=[False, False, True],
                               kind="stable")


def _frame_for(shapes: pd.DataFrame, extra: list[tuple[pd.Series, pd.Series]],
               height_px: int) -> Frame:
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    for rings in shapes["rings"]:
        outline = np.asarray(rings[0], dtype=float)
        lons.append(outline[:, 0])
        lats.append(outline[:, 1])
    for lon, lat in extra:
        lons.append(np.asarray(lon, dtype=float))
        lats.append(np.asarray(lat, dtype=float))
    if not lons:
        return fit_frame([], [], height_px=height_px)
    return fit_frame(np.concatenate(lons), np.concatenate(lats), height_px=height_px)


def _data_box_px(frame: Frame, shapes: pd.DataFrame, extra) -> tuple[float, float]:
    """(left, bottom) pixel of what is drawn, for the scale bar."""
    lons = [np.asarray(r[0], float)[:, 0] for r in shapes["rings"]] + [np.asarray(x, float)
                                                                        for x, _ in extra]
    lats = [np.asarray(r[0], float)[:, 1] for r in shapes["rings"]] + [np.asarray(y, float)
                                                                        for _, y in extra]
    lons = np.concatenate(lons) if lons else np.array([])
    lats = np.concatenate(lats) if lats else np.array([])
    keep = np.isfinite(lons) & np.isfinite(lats)
    if not keep.any():
        return FIT_PAD_X_PX, frame.height_px - FIT_PAD_Y_PX - SCALE_STRIP_PX / 2
    x, y = frame.to_px(lons[keep], lats[keep])
    left = max(float(x.min()), FIT_PAD_X_PX / 2)
    bottom = min(float(y.max()) + SCALE_STRIP_PX * 0.7, frame.height_px - FIT_PAD_Y_PX / 2)
    return left, bottom


def coverage_figure(
    shapes: pd.DataFrame,
    coverage: pd.DataFrame,
    facilities: pd.DataFrame,
    points: pd.DataFrame,
    proposals: pd.DataFrame | None = None,
    focus_type: str | None = None,
    height_px: int = MAP_HEIGHT_PX,
) -> MapFigure:
    """The coverage map: shapes by coverage class with their names, residences
    (uncovered in red) and community centres standing in for them (rings),
    facilities by type (the focus type larger, faded unless in use), proposed
    sites in black, a scale bar; and its legend."""
    basis = _basis(points)
    residences = points[basis != "centroids"]
    centroids = points[basis == "centroids"]
    by_basis = community_basis(points)
    if len(shapes) > MAX_SHAPES:
        community_layer = _community_cells_layer(community_cells_layer_data(shapes, coverage))
    else:
        community_layer = pdk.Layer(
            "PolygonLayer", shapes_layer_data(shapes, coverage, by_basis), id="communities",
            get_polygon="polygon", get_fill_color="fill", get_line_color="line",
            line_width_min_pixels=2, stroked=True, filled=True, pickable=True,
        )
    layers = [
        community_layer,
        pdk.Layer(
            "ScatterplotLayer", points_layer_data(residences), id="residences",
            get_position=["lon", "lat"], get_fill_color="fill", get_radius="radius",
            radius_units="'meters'", radius_min_pixels=3, pickable=True,
        ),
    ]
    if len(centroids):
        layers.append(pdk.Layer(
            "ScatterplotLayer", centroids_layer_data(centroids), id="centroids",
            get_position=["lon", "lat"], get_fill_color=CENTROID_FILL, get_line_color="line",
            get_radius=9, radius_units="'pixels'", stroked=True, line_width_units="'pixels'",
            get_line_width=3, pickable=True,
        ))
    layers.append(pdk.Layer(
        "ScatterplotLayer", facilities_layer_data(facilities, focus_type), id="facilities",
        get_position=["lon", "lat"], get_fill_color="fill", get_radius="radius",
        radius_units="'pixels'", stroked=True, get_line_color="line",
        get_line_width="line_width", line_width_units="'pixels'", pickable=True,
    ))
    has_proposals = proposals is not None and not proposals.empty
    extra = [(points["lon"], points["lat"])]
    if has_proposals:
        extra.append((proposals["lon"], proposals["lat"]))
        layers.append(pdk.Layer(
            "ScatterplotLayer", proposals.assign(tooltip=t("map.tooltip.proposed")),
            id="proposed", get_position=["lon", "lat"], get_fill_color=PROPOSED,
            get_radius=9, radius_units="'pixels'", stroked=True,
            get_line_color=PROPOSED_LINE, line_width_min_pixels=3, pickable=True,
        ))
    frame = _frame_for(shapes, extra, height_px)

    figures = coverage.assign(
        uncovered=(coverage["households"] - coverage["covered_households"]).fillna(-1),
        text=coverage["community_name"],
    )[["community_id", "text", "uncovered"]]
    anchors = _label_anchors(shapes, figures, "uncovered")
    path, label = scale_bar(frame, *_data_box_px(frame, shapes, extra))
    labels = place_labels(anchors, frame, obstacles=(scale_box_px(frame, path),))
    layers.append(_label_layer(labels))
    layers += _scale_layers(path, label)

    legend = coverage_legend(coverage, facilities, points, focus_type, has_proposals)
    legend += _cells_group(len(shapes)) + _labels_group(len(labels), len(anchors))
    if facilities[["lon", "lat"]].notna().all(axis=1).sum() > MAX_FACILITY_MARKS:
        legend += (LegendGroup(t("map.legend.facilities"), note=t(
            "map.legend.facility_cells", max=f"{MAX_FACILITY_MARKS:,}")),)
    return MapFigure(_deck(layers, frame), legend, frame, len(labels), len(anchors))


def coverage_deck(*args, **kwargs) -> pdk.Deck:
    """The deck of `coverage_figure`."""
    return coverage_figure(*args, **kwargs).deck


class SerializedOnceDeck(pdk.Deck):
    """A deck that encodes its JSON once. A cached map is drawn again on every
    rerun of every session, and pydeck's encoding was a quarter of the coverage
    page's time. Build a new deck rather than changing one."""

    def to_json(self) -> str:
        encoded = getattr(self, "_encoded", None)
        if encoded is None:
            # pydeck's own encoding (json_tools.serialize) indents, which makes
            # json use its pure-Python encoder: compact, the C encoder does it
            # ~3× faster, and the text is a third smaller.
            encoded = self._encoded = json.dumps(
                self, sort_keys=True, default=json_tools.default_serialize,
                separators=(",", ":"))
        return encoded


def _deck(layers: list, frame: Frame) -> pdk.Deck:
    return SerializedOnceDeck(
        layers=layers,
        initial_view_state=frame.view_state(),
        # No basemap. map_style stays pydeck's default sentinel on purpose:
        # Streamlit replaces an explicit None with a Carto style from the internet.
        map_provider=None,
        # A text tooltip is set as innerText: names stay text, whatever they hold.
        tooltip={"text": "{tooltip}", "style": TOOLTIP_STYLE},
    )


# ---- the grid-event map -------------------------------------------------------------------

OPEN_HEAVY = [198, 40, 40, 210]
MOSTLY_RESOLVED = [21, 101, 192, 170]
INCIDENT_SHAPE_FILL = [236, 239, 241, 160]


def _open_share_colour(share: float) -> list[int]:
    return [int(a + (b - a) * share) for a, b in zip(MOSTLY_RESOLVED, OPEN_HEAVY, strict=True)]


def incident_cells_layer_data(cells: pd.DataFrame, cell_m: float) -> pd.DataFrame:
    """One square per map cell: size by incidents, red where many are still open."""
    if cells.empty:
        return pd.DataFrame(columns=["lon", "lat", "fill", "radius", "tooltip"])
    open_share = cells["open_incidents"] / cells["incidents"].where(cells["incidents"] > 0)
    largest = float(cells["incidents"].max())
    radius = cell_m / 2 * np.sqrt(cells["incidents"] / largest).clip(lower=0.25)
    # Whole columns at once (_open_share_colour's arithmetic, truncated as int()
    # does): a city's map has 8,000 cells.
    share = open_share.fillna(0).clip(0, 1).to_numpy(float)[:, None]
    low, high = np.array(MOSTLY_RESOLVED, float), np.array(OPEN_HEAVY, float)
    fills = np.trunc(low + (high - low) * share).astype(int).tolist()
    labels = {c.code: c.label for c in INCIDENT_CATEGORY.codes}
    tooltips = [
        t("map.tooltip.incidents", incidents=f"{n:,}", open=f"{o:,}", major=f"{m:,}",
          category=labels.get(c, c))
        for n, o, m, c in zip(cells["incidents"].astype(int).tolist(),
                              cells["open_incidents"].astype(int).tolist(),
                              cells["major_incidents"].astype(int).tolist(),
                              cells["top_category"].tolist(), strict=True)
    ]
    return pd.DataFrame({
        "lon": cells["cell_lon"].round(6), "lat": cells["cell_lat"].round(6),
        "fill": fills, "radius": radius.round(1), "tooltip": tooltips,
    })


def coarser_incident_cells(cells: pd.DataFrame, cell_m: float,
                           max_cells: int = MAX_POINTS) -> tuple[pd.DataFrame, float]:
    """The map cells as they are, or merged into cells a whole number of times
    larger until at most `max_cells` remain (a province at 100 m): counts
    summed, each merged cell at its incident-weighted centre, its top category
    that of its busiest cell."""
    if len(cells) <= max_cells:
        return cells, cell_m
    lons = cells["cell_lon"].to_numpy(float)
    lats = cells["cell_lat"].to_numpy(float)
    factor = 2
    while True:
        cx, cy, size_m = cell_keys(lons, lats, 10**12, start_m=cell_m * factor)
        if len(np.unique(cx * 4_000_003 + cy)) <= max_cells:
            break
        factor *= 2
    weight = cells["incidents"].to_numpy(float)
    frame = cells.assign(_cx=cx, _cy=cy, _wlon=lons * weight, _wlat=lats * weight, _w=weight)
    busiest = frame.sort_values("incidents", ascending=False, kind="stable").drop_duplicates(
        ["_cx", "_cy"])[["_cx", "_cy", "top_category"]]
    merged = frame.groupby(["_cx", "_cy"], sort=False).agg(
        incidents=("incidents", "sum"), open_incidents=("open_incidents", "sum"),
        major_incidents=("major_incidents", "sum"), _wlon=("_wlon", "sum"),
        _wlat=("_wlat", "sum"), _w=("_w", "sum")).reset_index()
    merged = merged.merge(busiest, on=["_cx", "_cy"], how="left")
    weight = merged["_w"].where(merged["_w"] > 0)
    merged["cell_lon"] = (merged["_wlon"] / weight).fillna(0.0)
    merged["cell_lat"] = (merged["_wlat"] / weight).fillna(0.0)
    return merged.drop(columns=["_cx", "_cy", "_wlon", "_wlat", "_w"]), size_m


def incident_legend(cells: pd.DataFrame, shapes: pd.DataFrame) -> tuple[LegendGroup, ...]:
    items = (
        LegendItem(t("map.legend.incidents.resolved"), tuple(_open_share_colour(0.0)), "dot"),
        LegendItem(t("map.legend.incidents.half"), tuple(_open_share_colour(0.5)), "dot"),
        LegendItem(t("map.legend.incidents.open"), tuple(_open_share_colour(1.0)), "dot"),
    )
    note = (t("map.legend.incidents.size", max=f"{int(cells['incidents'].max()):,}")
            if len(cells) else "")
    area = LegendItem(
        t("map.legend.community_area.derived" if len(shapes) and shapes["derived"].any()
          else "map.legend.community_area"),
        tuple(INCIDENT_SHAPE_FILL),
    )
    return (LegendGroup(t("map.legend.incidents"), items, note),
            LegendGroup(t("map.legend.communities"), (area,)))


def incident_figure(
    shapes: pd.DataFrame, cells: pd.DataFrame, cell_m: float, height_px: int = MAP_HEIGHT_PX
) -> MapFigure:
    """Grid events per cell over the community shapes (no basemap), with the
    communities' names, a scale bar and a legend. `shapes` may carry
    community_name for the labels and shape tooltips."""
    names = shapes["community_name"] if "community_name" in shapes else shapes["community_id"]
    if len(shapes) > MAX_SHAPES:
        areas = community_cells(shapes)
        community_layer = _community_cells_layer(pd.DataFrame({
            "lon": areas["lon"].round(6), "lat": areas["lat"].round(6),
            "radius": (areas["cell_m"] * 0.45).round(1),
            "tooltip": [t("map.tooltip.community_count", communities=f"{int(n):,}")
                        for n in areas["communities"]],
        }), fill=INCIDENT_SHAPE_FILL, line=SHAPE_LINE)
    else:
        community_layer = pdk.Layer(
            "PolygonLayer", pd.DataFrame({
                "polygon": [rings[0] for rings in shapes["rings"]],
                "tooltip": [_plain(name) for name in names],
            }), id="communities", get_polygon="polygon",
            get_fill_color=INCIDENT_SHAPE_FILL, get_line_color=SHAPE_LINE,
            line_width_min_pixels=1.5, stroked=True, filled=True, pickable=True,
        )
    cells, cell_m = coarser_incident_cells(cells, cell_m)
    layers = [
        community_layer,
        pdk.Layer(
            "ScatterplotLayer", incident_cells_layer_data(cells, cell_m), id="incident_cells",
            get_position=["lon", "lat"], get_fill_color="fill", get_radius="radius",
            radius_units="'meters'", radius_min_pixels=3, pickable=True,
        ),
    ]
    # Every cell's square (its circle fits in it), not only its centre.
    half_lat = cell_m / 2 / EARTH_M_PER_DEG
    half_lon = half_lat / np.cos(np.radians(cells["cell_lat"].astype(float)))
    extra = [(cells["cell_lon"] + sign * half_lon, cells["cell_lat"] + sign * half_lat)
             for sign in (-1, 1)] if len(cells) else []
    frame = _frame_for(shapes, extra, height_px)
    named = pd.DataFrame({"community_id": shapes["community_id"], "text": names})
    named = named.drop_duplicates("community_id").assign(rank=0)
    anchors = _label_anchors(shapes, named, "rank")
    path, label = scale_bar(frame, *_data_box_px(frame, shapes, extra))
    labels = place_labels(anchors, frame, obstacles=(scale_box_px(frame, path),))
    layers.append(_label_layer(labels))
    layers += _scale_layers(path, label)
    legend = (incident_legend(cells, shapes) + _cells_group(len(shapes))
              + _labels_group(len(labels), len(anchors)))
    return MapFigure(_deck(layers, frame), legend, frame, len(labels), len(anchors))


def incident_deck(shapes: pd.DataFrame, cells: pd.DataFrame, cell_m: float) -> pdk.Deck:
    """The deck of `incident_figure`."""
    return incident_figure(shapes, cells, cell_m).deck
