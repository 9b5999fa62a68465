"""Community boundaries: uploaded GeoJSON, or schematic shapes derived from data.

There is no internet basemap on a government intranet, so community shapes are
the base layer of every map. An uploaded FeatureCollection (features carrying
`community_id`) is validated whole and stored in one transaction; without one,
each community is drawn as the convex hull of its residences, facilities and
centroid, widened by a margin, and the page says the shapes are schematic.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from governance import coords, db, indicators, permissions
from governance.auth import User
from governance.contract import COMMUNITIES
from governance.importer import CellProblem, ImportReport, ImportResult, back_up_after
from governance.text import t

TABLE_NAME = "boundaries"
# Feature properties holding the community id: the contract's names for it.
_ID_COLUMN = COMMUNITIES.column_by_name["community_id"]
ID_PROPERTIES = (_ID_COLUMN.name, _ID_COLUMN.label, *_ID_COLUMN.aliases)
EARTH_M_PER_DEG = 111_195.0
DERIVED_MARGIN_M = 80.0
DERIVED_MIN_RADIUS_M = 250.0
# Past this many communities to outline (a city), hulls (a Python loop each)
# give way to boxes computed at once: maps then draw cells, not outlines.
DERIVE_HULLS_UP_TO = 1_500
MAX_LISTED_PROBLEMS = 1000

Ring = list[list[float]]


@dataclass(frozen=True)
class CommunityShape:
    community_id: str
    rings: list[Ring]  # outer ring first, then holes; [lon, lat] pairs
    derived: bool


def _problem(file_name: str, index: int, field: str, value: object, reason: str) -> CellProblem:
    text = t("boundaries.error.feature", index=index, field=field, value=value, reason=reason)
    return CellProblem(file_name, None, None, None, text)


def _valid_ring(ring: object) -> bool:
    if not isinstance(ring, list) or len(ring) < 4:
        return False
    for position in ring:
        if not (isinstance(position, list) and len(position) >= 2):
            return False
        lon, lat = position[0], position[1]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
            return False
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return False
    return True


def _polygons(geometry: object) -> list[list[Ring]] | None:
    """Polygon / MultiPolygon → list of polygons (each a list of rings), else None."""
    if not isinstance(geometry, dict):
        return None
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list):
        polygons = coordinates
    else:
        return None
    if not polygons or not all(
        isinstance(p, list) and p and all(_valid_ring(r) for r in p) for p in polygons
    ):
        return None
    return polygons


def _convert(polygons: list[list[Ring]], system: str) -> list[list[Ring]]:
    if system == "wgs84":
        return polygons
    converted = []
    for polygon in polygons:
        rings = []
        for ring in polygon:
            array = np.asarray([p[:2] for p in ring], dtype=float)
            lon, lat = coords.to_wgs84(array[:, 0], array[:, 1], system)
            rings.append([[float(x), float(y)] for x, y in zip(lon, lat, strict=True)])
        converted.append(rings)
    return converted


def read_boundaries(
    path: Path,
    known_ids: set[str],
    *,
    file_name: str | None = None,
    coordinate_system: str = "wgs84",
) -> tuple[ImportReport, pa.Table]:
    """Validate a GeoJSON file whole. Returns the report and the rows to store."""
    name = file_name or path.name
    data = path.read_bytes()
    report = ImportReport(
        file_name=name, table=TABLE_NAME, sha256=hashlib.sha256(data).hexdigest(), rows=0,
        problems=[], problem_count=0, notes=[], preview=None,
    )
    rows: list[tuple[str, str]] = []

    def refuse(reason: str) -> tuple[ImportReport, pa.Table]:
        report.problems.append(CellProblem(name, None, None, None, reason))
        report.problem_count = len(report.problems)
        return report, _rows_table([])

    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return refuse(t("boundaries.not_json"))
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        return refuse(t("boundaries.not_collection"))
    features = document.get("features")
    if not isinstance(features, list) or not features:
        return refuse(t("boundaries.no_features"))

    problems: list[CellProblem] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        raw_id = next(
            (properties[k] for k in ID_PROPERTIES if properties.get(k) not in (None, "")), None
        )
        community_id = None if raw_id is None else str(raw_id).strip()
        if not community_id:
            problems.append(_problem(name, index, "community_id", "", t("reason.required")))
            continue
        if community_id not in known_ids:
            problems.append(
                _problem(name, index, "community_id", community_id, t("reason.unknown_community"))
            )
        if community_id in seen:
            problems.append(
                _problem(name, index, "community_id", community_id,
                         t("boundaries.duplicate", other=seen[community_id]))
            )
            continue
        seen[community_id] = index
        polygons = _polygons(feature.get("geometry") if isinstance(feature, dict) else None)
        if polygons is None:
            problems.append(_problem(name, index, "geometry", "", t("boundaries.bad_geometry")))
            continue
        polygons = _convert(polygons, coordinate_system)
        geometry = {"type": "MultiPolygon", "coordinates": polygons}
        rows.append((community_id, json.dumps(geometry, separators=(",", ":"))))

    report.problem_count = len(problems)
    report.problems = problems[:MAX_LISTED_PROBLEMS]
    report.rows = len(rows)
    if coordinate_system != "wgs84":
        report.notes.append(t("import.note.coordinates", system=coordinate_system))
    return report, _rows_table(rows if not problems else [])


def _rows_table(rows: list[tuple[str, str]]) -> pa.Table:
    return pa.table(
        {
            "community_id": pa.array([r[0] for r in rows], pa.string()),
            "geometry_json": pa.array([r[1] for r in rows], pa.string()),
        }
    )


def known_community_ids(cur: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in cur.execute(db.read_sql("import_community_ids")).fetchall()}


def import_boundaries(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    user: User,
    file_name: str | None = None,
    coordinate_system: str = "wgs84",
) -> ImportResult:
    """Validate the whole file, then replace every stored boundary in one
    transaction; only an administrator may (permissions.may_import_boundaries)."""
    if not permissions.may_import_boundaries(user):
        name = file_name or Path(path).name
        report = ImportReport(file_name=name, table=TABLE_NAME, sha256="", rows=0,
                              problems=[CellProblem(name, None, None, None,
                                                    t("boundaries.not_permitted"))],
                              problem_count=1, notes=[], preview=None)
        return ImportResult(report, False, False, None, 0)
    applied_by = user.record_name
    cur = conn.cursor()
    try:
        report, rows = read_boundaries(
            path, known_community_ids(cur), file_name=file_name, coordinate_system=coordinate_system
        )
        if not report.ok:
            return ImportResult(report, False, False, None, 0)
        latest = cur.execute(db.read_sql("import_latest"), {"table_name": TABLE_NAME}).fetchone()
        if latest is not None and latest[1] == report.sha256 and latest[2] == coordinate_system:
            return ImportResult(report, False, True, int(latest[0]), 0)
        cur.execute("begin transaction")
        try:
            import_id = int(cur.execute(db.read_sql("import_next_id")).fetchone()[0])
            replaced = cur.execute("select count(*) from community_boundaries").fetchone()[0]
            cur.execute(db.read_sql("boundaries_replace")).fetchall()
            cur.register("incoming_boundaries", rows)
            cur.execute(db.read_sql("boundaries_insert"), {"import_id": import_id}).fetchall()
            cur.unregister("incoming_boundaries")
            cur.execute(
                db.read_sql("import_history_insert"),
                {
                    "import_id": import_id, "table_name": TABLE_NAME,
                    "file_name": report.file_name, "sha256": report.sha256,
                    "rows_in_file": report.rows, "rows_replaced": replaced,
                    "applied_at": datetime.now(UTC).replace(tzinfo=None),
                    "applied_by": applied_by, "is_sample": False,
                    "notes": "\n".join(report.notes) or None,
                    "coordinate_system": coordinate_system,
                },
            ).fetchall()
            db.bump_data_version(cur)
            db.commit(cur)
        except BaseException:
            cur.execute("rollback")
            raise
        result = ImportResult(report, True, False, import_id, replaced)
        back_up_after(conn, [result])  # never raises; a failure becomes a note
        return result
    finally:
        cur.close()


def _hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain on (x, y) rows; counter-clockwise, not closed."""
    ordered = np.unique(points, axis=0)
    if len(ordered) < 3:
        return ordered

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[np.ndarray] = []
    for p in ordered:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[np.ndarray] = []
    for p in ordered[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def _circle(lon: float, lat: float, radius_m: float, sides: int = 16) -> Ring:
    angles = np.linspace(0, 2 * math.pi, sides, endpoint=False)
    dlat = radius_m / EARTH_M_PER_DEG * np.sin(angles)
    dlon = radius_m / (EARTH_M_PER_DEG * math.cos(math.radians(lat))) * np.cos(angles)
    ring = [[float(lon + x), float(lat + y)] for x, y in zip(dlon, dlat, strict=True)]
    return ring + [ring[0]]


def derive_shape(lons: np.ndarray, lats: np.ndarray) -> Ring:
    """A schematic outline around a community's points: hull plus a margin.

    Work in local metres (longitude scaled by cos φ) so the margin is the same
    on every side; fewer than three distinct points give a circle.
    """
    lat0 = float(np.mean(lats))
    lon0 = float(np.mean(lons))
    scale_x = EARTH_M_PER_DEG * math.cos(math.radians(lat0))
    xy = np.column_stack(((lons - lon0) * scale_x, (lats - lat0) * EARTH_M_PER_DEG))
    hull = _hull(xy)
    if len(hull) < 3 or np.ptp(hull[:, 0]) * np.ptp(hull[:, 1]) < 1.0:
        return _circle(lon0, lat0, DERIVED_MIN_RADIUS_M)
    centre = hull.mean(axis=0)
    offsets = hull - centre
    lengths = np.hypot(offsets[:, 0], offsets[:, 1])
    widened = centre + offsets * ((lengths + DERIVED_MARGIN_M) / np.maximum(lengths, 1e-9))[:, None]
    ring = [[float(lon0 + x / scale_x), float(lat0 + y / EARTH_M_PER_DEG)] for x, y in widened]
    return ring + [ring[0]]


@dataclass(frozen=True)
class ShapeSources:
    """What the outlines of a set of communities are made of: their uploaded
    boundaries (queries/community_boundaries.sql) and every located point
    (queries/community_map_points.sql). A community's rows do not depend on
    which others are in view, so a scope's sources are read once and narrowed
    to each filter's communities (`within`); only the choice between hulls and
    boxes depends on how many are drawn, and shapes_from makes it afresh."""

    boundaries: pa.Table  # community_id, geometry_json
    points: pa.Table  # community_id, lon, lat; ordered by them

    def within(self, community_ids) -> ShapeSources:
        """The rows of these communities only, in the same order."""
        return ShapeSources(indicators.rows_of_communities(self.boundaries, community_ids),
                            indicators.rows_of_communities(self.points, community_ids))


def shape_sources(conn: duckdb.DuckDBPyConnection, params: dict) -> ShapeSources:
    """`params` is indicators.query_params(...)."""
    return ShapeSources(db.run_query(conn, "community_boundaries", params),
                        db.run_query(conn, "community_map_points", params))


def community_shapes(conn: duckdb.DuckDBPyConnection, params: dict) -> list[CommunityShape]:
    """Uploaded boundaries where present, derived outlines for every other
    located community. `params` is indicators.query_params(...)."""
    return shapes_from(shape_sources(conn, params))


def shapes_from(sources: ShapeSources) -> list[CommunityShape]:
    """community_shapes of the communities whose sources these are."""
    uploaded = sources.boundaries.to_pylist()
    shapes = []
    for row in uploaded:
        geometry = json.loads(row["geometry_json"])
        for polygon in geometry["coordinates"]:
            shapes.append(CommunityShape(row["community_id"], polygon, derived=False))
    have = {row["community_id"] for row in uploaded}
    points = sources.points.to_pandas()
    points = points[~points["community_id"].isin(have)]
    if points["community_id"].nunique() > DERIVE_HULLS_UP_TO:
        return shapes + derived_boxes(points)
    for community_id, group in points.groupby("community_id", sort=True):
        ring = derive_shape(group["lon"].to_numpy(float), group["lat"].to_numpy(float))
        shapes.append(CommunityShape(str(community_id), [ring], derived=True))
    return shapes


def derived_boxes(points: pd.DataFrame) -> list[CommunityShape]:
    """Per community, the box around its points widened by the derived margin
    (at least DERIVED_MIN_RADIUS_M from its centre): all at once, for a city
    or a province, whose maps draw communities as cells, not outlines."""
    box = points.groupby("community_id", sort=True).agg(
        west=("lon", "min"), east=("lon", "max"), south=("lat", "min"), north=("lat", "max"))
    mid_lat = (box["south"] + box["north"]) / 2
    mid_lon = (box["west"] + box["east"]) / 2
    m_lat = 1 / EARTH_M_PER_DEG
    m_lon = m_lat / np.cos(np.radians(mid_lat)).clip(lower=0.01)
    half_lon = np.maximum((box["east"] - box["west"]) / 2 + DERIVED_MARGIN_M * m_lon,
                          DERIVED_MIN_RADIUS_M * m_lon)
    half_lat = np.maximum((box["north"] - box["south"]) / 2 + DERIVED_MARGIN_M * m_lat,
                          DERIVED_MIN_RADIUS_M * m_lat)
    west, east = (mid_lon - half_lon).round(6), (mid_lon + half_lon).round(6)
    south, north = (mid_lat - half_lat).round(6), (mid_lat + half_lat).round(6)
    return [
        CommunityShape(str(community_id), [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
                       derived=True)
        for community_id, w, e, s, n in zip(box.index, west.tolist(), east.tolist(),
                                             south.tolist(), north.tolist(), strict=True)
    ]


def shapes_frame(shapes: list[CommunityShape]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            # Typed, so a filter without communities still merges on community_id.
            "community_id": pd.Series([s.community_id for s in shapes], dtype="str"),
            "rings": pd.Series([s.rings for s in shapes], dtype="object"),
            "derived": pd.Series([s.derived for s in shapes], dtype="bool"),
        }
    )
