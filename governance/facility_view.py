"""What the 设施覆盖 page shows, computed in one call per set of inputs.

The page reads its widgets into a `CoverageRequest` and renders the
`CoverageView` this module returns; every figure is computed here or in SQL.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from governance import boundaries, coords, coverage, db, indicators, presentation
from governance.catalogue import Standards, load_catalogue
from governance.contract import COMMUNITY_TYPE, FACILITY_TYPE
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.scenarios import BASELINE, Scenario
from governance.text import has_text, t

SPACE_INDICATORS = ("F01", "F02", "F03", "F04", "F05")
LEFT_OUT_POINTS_SHOWN = 500


@dataclass(frozen=True)
class Proposal:
    lon: float
    lat: float


@dataclass(frozen=True)
class CoverageRequest:
    """Hashable, so results can be cached per request and data version."""

    facility_type: str = coverage.F03_FACILITY_TYPE
    radius_m: float = coverage.CIRCLE_PRESETS_M["10min"]
    detour_factor: float = 1.25
    added: tuple[Proposal, ...] = ()
    closed: tuple[str, ...] = ()
    scenario: Scenario = BASELINE

    @property
    def standards(self) -> Standards:
        return self.scenario.standards().with_overrides(
            settings={"walking_detour_factor": self.detour_factor}
        )

    @property
    def proposals(self) -> list[dict]:
        return [
            {"lon": p.lon, "lat": p.lat, "facility_type": self.facility_type} for p in self.added
        ]

    @property
    def is_what_if(self) -> bool:
        return bool(self.added or self.closed)


@dataclass
class CoverageView:
    basis: dict
    district: dict
    communities: pd.DataFrame
    streets: pd.DataFrame
    left_out: pd.DataFrame
    uncovered_points: pd.DataFrame
    points: pd.DataFrame
    shapes: pd.DataFrame
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)


def facilities_in_scope(
    conn: duckdb.DuckDBPyConnection, view_filter: ViewFilter, scope: Scope = ALL_STREETS
) -> pd.DataFrame:
    return facilities_table(conn, view_filter, scope).to_pandas()


def facilities_table(
    conn: duckdb.DuckDBPyConnection, view_filter: ViewFilter, scope: Scope = ALL_STREETS
) -> pa.Table:
    """facilities_in_scope as Arrow: a scope's is read once and narrowed per
    filter (facilities_within)."""
    params = indicators.query_params(conn, Period(), view_filter, scope=scope)
    return db.run_query(conn, "facilities_in_scope", params)


def facilities_within(facilities: pa.Table, community_ids: pd.Series) -> pd.DataFrame:
    """facilities_in_scope of the filter whose communities these are, from the
    scope's facilities_table: a facility's row depends on its community alone."""
    return indicators.rows_of_communities(facilities, community_ids).to_pandas()


def closable_facilities(facilities: pd.DataFrame, facility_type: str) -> dict[str, str]:
    """In-use facilities of a type, id → '名称（社区）', for the closure picker."""
    chosen = facilities[
        (facilities["facility_type"] == facility_type) & (facilities["status"] == "in_use")
    ]
    return {
        row.facility_id: t("facilities.closable", name=row.facility_name or row.facility_id,
                           community=row.community_name)
        for row in chosen.itertuples(index=False)
    }


def _district(frame: pd.DataFrame) -> dict:
    rated = frame[frame["coverage_after_pct"].notna()]
    total = int(rated["households_total"].sum())
    after = int(rated["households_covered_after"].sum())
    before = int(rated["households_covered_before"].sum())
    return {
        "communities": len(frame),
        "communities_full": int((rated["coverage_after_pct"] >= 100).sum()),
        "communities_no_data": int(frame["coverage_after_pct"].isna().sum()),
        "households_total": total,
        "households_covered": after,
        "households_uncovered": total - after,
        "coverage_pct": after * 100 / total if total else None,
        "coverage_before_pct": before * 100 / total if total else None,
        "households_newly_covered": int(frame["households_newly_covered"].sum()),
        "households_lost": int(frame["households_lost"].sum()),
    }


def _streets(frame: pd.DataFrame) -> pd.DataFrame:
    rated = frame[frame["coverage_after_pct"].notna()]
    streets = presentation.street_coverage(rated, covered="households_covered_after",
                                           total="households_total")
    return streets.sort_values("coverage_pct").reset_index(drop=True)


def _left_out(frame: pd.DataFrame) -> pd.DataFrame:
    """Communities not fully covered, most uncovered households first."""
    rated = frame[frame["coverage_after_pct"].notna()].copy()
    rated["households_uncovered"] = rated["households_total"] - rated["households_covered_after"]
    left = rated[rated["households_uncovered"] > 0]
    columns = ["community_id", "community_name", "street", "households_total",
               "households_uncovered", "coverage_after_pct"]
    return left.sort_values("households_uncovered", ascending=False)[columns].reset_index(drop=True)


def _uncovered_points(points: pd.DataFrame) -> pd.DataFrame:
    uncovered = points[~points["covered"]].sort_values("households", ascending=False)
    shown = uncovered.head(LEFT_OUT_POINTS_SHOWN).copy()
    shown["nearest"] = [coverage.nearest_text(row) for row in shown.to_dict("records")]
    return shown[["point_id", "community_name", "street", "households", "nearest"]].reset_index(
        drop=True
    )


def community_shapes(conn, view_filter: ViewFilter, scope: Scope = ALL_STREETS) -> pd.DataFrame:
    """Every visible community's shape (uploaded boundary or derived), for maps."""
    return shapes_of(shape_sources(conn, view_filter, scope))


def shape_sources(conn, view_filter: ViewFilter,
                  scope: Scope = ALL_STREETS) -> boundaries.ShapeSources:
    """What community_shapes draws from: a scope's, narrowed per filter with
    `ShapeSources.within`, gives each filter's shapes without a query."""
    params = indicators.query_params(conn, Period(), view_filter, scope=scope)
    return boundaries.shape_sources(conn, params)


def shapes_of(sources: boundaries.ShapeSources) -> pd.DataFrame:
    return boundaries.shapes_frame(boundaries.shapes_from(sources))


def coverage_view(
    conn: duckdb.DuckDBPyConnection,
    request: CoverageRequest,
    view_filter: ViewFilter = coverage.NO_FILTER,
    scope: Scope = ALL_STREETS,
    shapes: pd.DataFrame | None = None,
) -> CoverageView:
    """`shapes` (community_shapes of the same filter) when the caller holds them."""
    kwargs = {"view_filter": view_filter, "standards": request.standards, "scope": scope}
    per_community = coverage.what_if(
        conn, request.proposals, request.closed, request.facility_type, request.radius_m, **kwargs
    )
    points = coverage.coverage_points(
        conn, request.facility_type, request.radius_m,
        added=request.proposals, closed=request.closed, **kwargs,
    ).to_pandas()
    return _shaped(per_community, points.rename(columns={"is_covered": "covered"}),
                   basis=coverage.coverage_basis(conn, view_filter, scope),
                   shapes=community_shapes(conn, view_filter, scope) if shapes is None
                   else shapes)


def _shaped(per_community: pd.DataFrame, points: pd.DataFrame, *, basis: dict,
            shapes: pd.DataFrame) -> CoverageView:
    changes = per_community[
        (per_community["households_newly_covered"] > 0) | (per_community["households_lost"] > 0)
    ].reset_index(drop=True)
    return CoverageView(
        basis=basis,
        district=_district(per_community),
        communities=per_community,
        streets=_streets(per_community),
        left_out=_left_out(per_community),
        uncovered_points=_uncovered_points(points),
        points=points,
        shapes=shapes,
        changes=changes,
    )


def coverage_view_within(
    whole: CoverageView, community_ids: pd.Series, *, basis: dict, shapes: pd.DataFrame,
) -> CoverageView:
    """`whole` (coverage_view of the scope, same request) narrowed to the
    filter's communities: what coverage_view(conn, request, view_filter, scope)
    returns, without computing coverage again. A residence's coverage depends
    on the facilities alone, which no filter narrows. The basis counts
    (coverage.coverage_basis) and the outlines (community_shapes: hulls for a
    few communities, boxes for many) are the filter's own, given."""
    chosen = set(community_ids)
    per_community = whole.communities[
        whole.communities["community_id"].isin(chosen)].reset_index(drop=True)
    points = whole.points[whole.points["community_id"].isin(chosen)].reset_index(drop=True)
    return _shaped(per_community, points, basis=basis, shapes=shapes)


def map_coverage(view: CoverageView) -> pd.DataFrame:
    """Per community figures the map colours and labels shapes with."""
    return view.communities.rename(
        columns={"households_covered_after": "covered_households",
                 "coverage_after_pct": "coverage_pct", "households_total": "households"}
    )[["community_id", "community_name", "street", "households", "covered_households",
       "coverage_pct"]]


def space_standards(values: pa.Table | pd.DataFrame,
                    communities: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """F01–F05 per community (value and status columns), for the standards table."""
    if isinstance(values, pa.Table):  # a scope's values: only F01–F05 become pandas
        values = values.filter(pc.is_in(values.column("indicator_id"),
                                        value_set=pa.array(SPACE_INDICATORS))).to_pandas()
    facility_values = values[values["indicator_id"].isin(SPACE_INDICATORS)]
    matrix = indicators.status_matrix(facility_values, communities)
    return matrix


def standards_caption(
    indicator_ids: tuple[str, ...] = SPACE_INDICATORS, standards: Standards | None = None
) -> list[str]:
    """One line per indicator: the standard in force and the verbatim source."""
    catalogue = load_catalogue()
    lines = []
    for indicator_id in indicator_ids:
        item = catalogue.indicator(indicator_id)
        lines.append(
            t("facilities.standard_line", id=item.id, name=item.name,
              bounds=presentation.threshold_bounds(indicator_id, standards),
              source=catalogue.source_text(item))
        )
    return lines


def export_sheets(view: CoverageView, standards_table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The shown tables with Chinese headers, one sheet each."""
    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        return for_display(frame).rename(columns=coverage_column_label)

    sheets = {
        t("facilities.sheet.communities"): shown(view.communities),
        t("facilities.sheet.streets"): shown(view.streets),
        t("facilities.sheet.left_out"): shown(view.left_out),
        t("facilities.sheet.points"): shown(view.uncovered_points),
        t("facilities.sheet.standards"): presentation.matrix_for_export(standards_table),
    }
    if not view.changes.empty:
        sheets[t("facilities.sheet.changes")] = shown(view.changes)
    return sheets


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes shown as words: community and facility types, the coverage basis."""
    return presentation.with_labels(frame, {
        "community_type": COMMUNITY_TYPE.label_of,
        "facility_type": FACILITY_TYPE.label_of,
        # A community with no point has no basis: left missing, shown as missing.
        "basis": lambda b: t(f"facilities.basis.{b}") if isinstance(b, str) else b,
    })


def coverage_column_label(name: str) -> str:
    """Chinese header for a coverage frame column (falls back to the indicator labels)."""
    key = f"facilities.column.{name}"
    return t(key) if has_text(key) else indicators.column_label(name)


_COORDINATE_PAIR = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$")


def proposals_from_text(
    text: str, coordinate_system: str = "wgs84"
) -> tuple[tuple[Proposal, ...], list[str]]:
    """`经度,纬度` per line (as map pickers copy them) → WGS-84 proposals.

    Blank lines are skipped; a line that is not two numbers in range is
    reported, never guessed at.
    """
    pairs: list[tuple[float, float]] = []
    problems: list[str] = []
    for number, line in enumerate(unicodedata.normalize("NFKC", text or "").splitlines(), 1):
        if not line.strip():
            continue
        match = _COORDINATE_PAIR.match(line)
        lon, lat = (float(match.group(1)), float(match.group(2))) if match else (None, None)
        if lon is None or not (-180 <= lon <= 180 and -85 < lat < 85):
            problems.append(t("facilities.whatif.bad_line", line=number, text=line.strip()))
            continue
        pairs.append((lon, lat))
    if not pairs:
        return (), problems
    lons, lats = coords.to_wgs84(
        np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), coordinate_system
    )
    return tuple(Proposal(float(x), float(y)) for x, y in zip(lons, lats, strict=True)), problems


def proposal_from_selection(selection: dict | None) -> Proposal | None:
    """A map click on a residence cell or a community centre proposes a facility
    at that spot."""
    layers = (selection or {}).get("objects") or {}
    objects = layers.get("residences") or layers.get("centroids") or []
    if not objects:
        return None
    picked = objects[0]
    return Proposal(float(picked["lon"]), float(picked["lat"]))

