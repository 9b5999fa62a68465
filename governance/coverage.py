"""Walking-distance coverage: the ten-minute community service circle (F03).

十分钟社区管理服务圈 (seed 000). GB 50180-2018 sets the 5/10/15-minute life
circles at 300 / 500 / 800–1000 m walking. Walking distance here is the
great-circle (haversine) distance on a sphere of radius 6,371,008.8 m times the
catalogue's `walking_detour_factor` (1.25 by default); a household is covered by
a facility type when the nearest in-use facility of that type (status
`in_use`, with coordinates) is at most `radius_m` away on foot, i.e. at most
`radius_m / walking_detour_factor` in a straight line.

All arithmetic is SQL, in three query files that include the one walking grid,
``queries/fragments/walking_grid.sql`` (composed at load time, see
docs/decisions/0001-sql-fragments.md):

* ``queries/coverage_points.sql`` — per point × facility type: nearest facility,
  walking distance, covered flags (the map layer);
* ``queries/community_facility_coverage.sql`` — per community × facility type:
  households total / covered / coverage_pct, and the what-if deltas;
* ``queries/community_coverage_indicators.sql`` — F03 in the long indicator
  format, joined into ``indicators.indicator_values``.

The search (no spatial extension: plain SQL). Cell height in degrees latitude is
the straight radius / 111,195 m; the cell width of latitude row k is
asin(sin δ / cos φ) in degrees, φ the row's poleward edge and δ the radius in
radians, which bounds the longitude difference of any pair within the radius
one of whose points is in row k. Every facility is keyed into the 3 rows around
its own, each with that target row's width, and the 3 columns around its
column there; each point looks up only its own (row, column), so one hash
equi-join returns exactly its 3 × 3 neighbourhood, and an exact haversine test
keeps the pairs within the radius. No pair within the radius is ever missed
(the property test compares with brute force), and no `between` or all-pairs
join is involved. Valid for |lat| < 85° (`MAX_ABS_LAT`, checked for proposed
facilities; the grid itself stays exact up to the poles by widening a row to
all 360°); longitudes do not wrap at ±180°.

Nearest facility beyond the circle: a second pass of the same grid, for the
points left uncovered only, at `nearest_search_m` (default 3,000 m walking);
it is exact within that limit, and a point with nothing that near reports
NULL nearest columns and `search_limit_m`, so a page says "no service centre
within 3,000 m" rather than inventing a number.

Basis, per community: its residences (楼栋/网格) when it has any; otherwise its
centroid (communities.lon/lat) weighted by communities.households, so a
district whose first import has no buildings still gets coverage figures, and
one community without buildings does not lose its figure because others have
them. A community with neither has no points: no data. Facilities are never scope-filtered
(residents walk across street boundaries); points are, through their community.
When no facility in the table has coordinates, coverage is no data everywhere.

What-if: proposed facilities and closures are bound list parameters
(`$added_facilities`, `$closed_facility_ids`), never written to the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from governance import db
from governance.catalogue import Standards
from governance.contract import FACILITY_TYPE
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter, query_params
from governance.text import t

Basis = Literal["residences", "centroids", "mixed"]

NO_FILTER = ViewFilter()

F03_FACILITY_TYPE = "service_center"
DEFAULT_NEAREST_SEARCH_M = 3000.0
"""How far (walking) the nearest facility is searched for uncovered points."""

MAX_ABS_LAT = 85.0
EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = 111_195.0

CIRCLE_PRESETS_M: Mapping[str, float] = {
    # GB 50180-2018 life circles: 5 / 10 / 15 minutes on foot.
    "5min": 300.0,
    "10min": 500.0,
    "15min": 1000.0,
}


def circle_for(radius_m: float) -> str:
    """The preset circle with this radius, or "custom"."""
    for name, preset in CIRCLE_PRESETS_M.items():
        if abs(preset - radius_m) < 1e-6:
            return name
    return "custom"

BASIS_QUERY = "community_coverage_basis"
POINTS_QUERY = "coverage_points"
COMMUNITY_QUERY = "community_facility_coverage"
F03_QUERY = "community_coverage_indicators"

PROPOSED_ID_PREFIX = "proposed-"


class CoverageInputError(ValueError):
    """A radius, detour factor or proposed facility the engine cannot use."""


@dataclass(frozen=True)
class ProposedFacility:
    """A facility the user is considering building (what-if only, never stored)."""

    lon: float
    lat: float
    facility_type: str = F03_FACILITY_TYPE
    facility_name: str | None = None


ProposalLike = ProposedFacility | Mapping[str, Any]


# ---------------------------------------------------------------------------
# Parameters


def _positive(value: Any, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise CoverageInputError(t(f"coverage.error.{key}", value=value))
    return number


def _facility_types(facility_types: str | Iterable[str]) -> list[str]:
    if isinstance(facility_types, str):
        facility_types = [facility_types]
    types = list(dict.fromkeys(facility_types))
    known = {code.code for code in FACILITY_TYPE.codes}
    for code in types:
        if code not in known:
            raise CoverageInputError(t("coverage.error.facility_type", code=code))
    return types


def _proposal(item: ProposalLike) -> ProposedFacility:
    if isinstance(item, ProposedFacility):
        return item
    return ProposedFacility(
        lon=item["lon"],
        lat=item["lat"],
        facility_type=item.get("facility_type", F03_FACILITY_TYPE),
        facility_name=item.get("facility_name"),
    )


def proposals_param(added: Iterable[ProposalLike] = ()) -> list[dict[str, Any]]:
    """The `$added_facilities` parameter: validated structs with generated ids.

    Ids are `proposed-1`, `proposed-2`, … in the given order; an unnamed
    proposal is called `拟建设施1` etc. (text key coverage.proposed.name).
    """
    rows = []
    known = {code.code for code in FACILITY_TYPE.codes}
    for n, item in enumerate(added, start=1):
        proposal = _proposal(item)
        try:
            lon, lat = float(proposal.lon), float(proposal.lat)
        except (TypeError, ValueError):
            lon = lat = math.nan
        if not (math.isfinite(lon) and math.isfinite(lat)
                and -180.0 <= lon <= 180.0 and abs(lat) < MAX_ABS_LAT):
            raise CoverageInputError(t("coverage.error.proposal_coordinates", n=n,
                                       lon=proposal.lon, lat=proposal.lat))
        if proposal.facility_type not in known:
            raise CoverageInputError(t("coverage.error.facility_type",
                                       code=proposal.facility_type))
        rows.append({
            "facility_id": f"{PROPOSED_ID_PREFIX}{n}",
            "facility_name": proposal.facility_name or t("coverage.proposed.name", n=n),
            "facility_type": proposal.facility_type,
            "lon": lon,
            "lat": lat,
        })
    return rows


def coverage_params(
    conn: duckdb.DuckDBPyConnection,
    facility_types: str | Iterable[str] = F03_FACILITY_TYPE,
    radius_m: float | None = None,
    *,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
    added: Iterable[ProposalLike] = (),
    closed: Iterable[str] = (),
    nearest_search_m: float = DEFAULT_NEAREST_SEARCH_M,
) -> dict[str, Any]:
    """The shared indicator parameters plus the coverage ones.

    radius_m defaults to the `service_circle_radius_m` setting; the detour
    factor is always the `walking_detour_factor` setting of `standards`.
    """
    standards = standards or Standards.default()
    params = query_params(conn, Period(), view_filter, standards, scope)
    radius = standards.settings["service_circle_radius_m"] if radius_m is None else radius_m
    params.update(
        facility_types=_facility_types(facility_types),
        radius_m=_positive(radius, "radius"),
        walking_detour_factor=_positive(standards.settings["walking_detour_factor"], "detour"),
        nearest_search_m=_positive(nearest_search_m, "search"),
        added_facilities=proposals_param(added),
        closed_facility_ids=[str(i) for i in dict.fromkeys(closed)],
    )
    _positive(params["service_circle_radius_m"], "radius")
    return params


# ---------------------------------------------------------------------------
# Queries


def coverage_points(
    conn: duckdb.DuckDBPyConnection,
    facility_types: str | Iterable[str] = F03_FACILITY_TYPE,
    radius_m: float | None = None,
    *,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
    added: Iterable[ProposalLike] = (),
    closed: Iterable[str] = (),
    nearest_search_m: float = DEFAULT_NEAREST_SEARCH_M,
) -> pa.Table:
    """One row per visible point × facility type (queries/coverage_points.sql).

    Columns: point_id, basis, community_id, community_name, street,
    community_type, households, lon, lat, facility_type, nearest_facility_id,
    nearest_facility_name, nearest_walking_m (NULL: nothing within
    search_limit_m), is_covered (after `added`/`closed`), was_covered (stored
    facilities only), search_limit_m.
    """
    params = coverage_params(
        conn, facility_types, radius_m, view_filter=view_filter, standards=standards,
        scope=scope, added=added, closed=closed, nearest_search_m=nearest_search_m,
    )
    return db.run_query(conn, POINTS_QUERY, params)


def community_coverage(
    conn: duckdb.DuckDBPyConnection,
    facility_types: str | Iterable[str] = F03_FACILITY_TYPE,
    radius_m: float | None = None,
    *,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
    added: Iterable[ProposalLike] = (),
    closed: Iterable[str] = (),
) -> pa.Table:
    """One row per visible community × facility type
    (queries/community_facility_coverage.sql).

    Columns: community_id, community_name, street, community_type,
    facility_type, basis, points, households_total, households_covered,
    coverage_pct (NULL = no data), households_covered_baseline,
    coverage_baseline_pct, households_newly_covered, households_lost.
    Without `added`/`closed` the baseline columns equal the plain ones.
    """
    params = coverage_params(
        conn, facility_types, radius_m, view_filter=view_filter, standards=standards,
        scope=scope, added=added, closed=closed,
    )
    return db.run_query(conn, COMMUNITY_QUERY, params)


def f03_values(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pa.Table:
    """F03 rows as queries/community_coverage_indicators.sql returns them."""
    params = query_params(conn, Period(), view_filter, standards, scope)
    return db.run_query(conn, F03_QUERY, params)


def coverage_basis(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
) -> dict[str, Any]:
    """What the figures of the visible communities rest on (basis_summary)."""
    params = query_params(conn, Period(), view_filter, scope=scope)
    return basis_summary(community_basis(conn, params))


def community_basis(conn: duckdb.DuckDBPyConnection, params: dict) -> pa.Table:
    """queries/community_coverage_basis.sql: one row per visible community.
    `params` is query_params(...)."""
    return db.run_query(conn, BASIS_QUERY, params)


def basis_summary(communities: pa.Table) -> dict[str, Any]:
    """{"basis", "communities", "communities_on_residences",
    "communities_on_centroids", "communities_without_points", "points"} from
    community_basis rows (a scope's narrowed to a
    filter's communities with indicators.rows_of_communities gives the
    filter's own). basis: 'residences' when every community with a point rests
    on residences, 'centroids' when every one rests on its centre (or none has
    a point), else 'mixed'; points: residences plus the centres used."""
    bases = communities.column("basis").to_pylist()
    on_residences, on_centroids = bases.count("residences"), bases.count("centroids")
    if on_centroids == 0 and on_residences > 0:
        basis = "residences"
    elif on_residences == 0:
        basis = "centroids"
    else:
        basis = "mixed"
    return {
        "basis": basis,
        "communities": len(bases),
        "communities_on_residences": on_residences,
        "communities_on_centroids": on_centroids,
        "communities_without_points": bases.count(None),
        "points": int(pc.sum(communities.column("residences")).as_py() or 0) + on_centroids,
    }


# ---------------------------------------------------------------------------
# Shaping


SUMMARY_COLUMNS = (
    "communities", "communities_with_data", "points", "households_total",
    "households_covered", "coverage_pct", "households_newly_covered", "households_lost",
)


def coverage_summary(
    communities: pa.Table | pd.DataFrame, by: Literal["district", "street"] = "district"
) -> pd.DataFrame:
    """District or per-street totals from `community_coverage` rows.

    One row per facility type (by="district") or street × facility type
    (by="street"). Communities without data (coverage_pct NULL) count in
    `communities` but add nothing to the households columns, so coverage_pct
    = households_covered / households_total over the communities with data ×
    100 (NaN when none has data).
    """
    frame = communities.to_pandas() if isinstance(communities, pa.Table) else communities
    keys = ["facility_type"] if by == "district" else ["street", "facility_type"]
    if by not in ("district", "street"):
        raise ValueError(f"by must be 'district' or 'street', not {by!r}")
    columns = keys + list(SUMMARY_COLUMNS)
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    rated = frame["coverage_pct"].notna()
    work = frame.assign(
        _with_data=rated.astype("int64"),
        _total=frame["households_total"].where(rated, 0).astype("int64"),
        _covered=frame["households_covered"].where(rated, 0).fillna(0).astype("int64"),
        _new=frame["households_newly_covered"].where(rated, 0).fillna(0).astype("int64"),
        _lost=frame["households_lost"].where(rated, 0).fillna(0).astype("int64"),
    )
    grouped = work.groupby(keys, sort=True)
    out = pd.DataFrame({
        "communities": grouped.size(),
        "communities_with_data": grouped["_with_data"].sum(),
        "points": grouped["points"].sum(),
        "households_total": grouped["_total"].sum(),
        "households_covered": grouped["_covered"].sum(),
        "households_newly_covered": grouped["_new"].sum(),
        "households_lost": grouped["_lost"].sum(),
    })
    total = out["households_total"].astype("float64")
    out["coverage_pct"] = out["households_covered"] / total.where(total > 0) * 100
    return out.reset_index()[columns]


WHAT_IF_COLUMNS = (
    "community_id", "community_name", "street", "community_type", "facility_type", "basis",
    "households_total", "households_covered_before", "households_covered_after",
    "households_newly_covered", "households_lost", "coverage_before_pct",
    "coverage_after_pct", "coverage_change_pct",
)


def what_if(
    conn: duckdb.DuckDBPyConnection,
    added: Iterable[ProposalLike] = (),
    closed: Iterable[str] = (),
    facility_types: str | Iterable[str] = F03_FACILITY_TYPE,
    radius_m: float | None = None,
    *,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """Coverage with `added` proposals and `closed` facility ids, against today.

    One row per visible community × facility type, ordered by community_id,
    facility_type (WHAT_IF_COLUMNS). households_newly_covered / households_lost
    count the households whose point changes state (a proposal can cover some
    while a closure uncovers others in the same community);
    coverage_change_pct = after − before in percentage points. Nothing is
    written to the database.
    """
    table = community_coverage(
        conn, facility_types, radius_m, view_filter=view_filter, standards=standards,
        scope=scope, added=added, closed=closed,
    )
    frame = table.to_pandas().rename(columns={
        "households_covered": "households_covered_after",
        "households_covered_baseline": "households_covered_before",
        "coverage_pct": "coverage_after_pct",
        "coverage_baseline_pct": "coverage_before_pct",
    })
    frame["coverage_change_pct"] = frame["coverage_after_pct"] - frame["coverage_before_pct"]
    return frame[list(WHAT_IF_COLUMNS)].reset_index(drop=True)


def nearest_text(row: Mapping[str, Any], facility_label: str | None = None) -> str:
    """The page's sentence for one point row of `coverage_points`."""
    label = facility_label or FACILITY_TYPE.label_of(row["facility_type"])
    distance = row.get("nearest_walking_m")
    if distance is None or distance != distance:  # NULL arrives as None or, via pandas, NaN
        return t("coverage.nearest.beyond", type=label, limit=f"{row['search_limit_m']:,.0f}")
    name = row.get("nearest_facility_name")
    if name is None or name != name or name == "":  # a facility without a name: its id
        name = row.get("nearest_facility_id")
    return t(
        "coverage.nearest.distance", type=label, name=name,
        distance=f"{row['nearest_walking_m']:,.0f}",
    )


def basis_text(basis: Mapping[str, Any]) -> str:
    """What the page says about the basis of the figures (a coverage_basis row):
    how many communities rest on buildings, how many on centres."""
    text = t(f"coverage.basis.{basis['basis']}",
             residences=f"{basis['communities_on_residences']:,}",
             centroids=f"{basis['communities_on_centroids']:,}")
    if basis["communities_without_points"]:
        text += t("coverage.basis.without_points",
                  count=f"{basis['communities_without_points']:,}")
    return text
