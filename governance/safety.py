"""The safety page's data engine (平安建设): query wrappers and pure reshaping.

Query wrappers run `queries/safety_*.sql` and `queries/incident_*.sql` with the
one shared parameter dict from `indicators.query_params` and return pandas
frames via Arrow. The reshaping functions are pure (pandas in, pandas out):
a trend series per indicator, a street × month matrix for the heat map, and a
summary of how far the grid events agree with the monthly reports.

Seed 002 is where every threshold comes from: 社区民事调解率达98%以上, 调解成功率在90%
以上, 重新违法犯罪(低于2%), 社区无重大刑事案件, 无群体性闹事事件, 居民满意率在95%以上,
民警深入社区每月不少于30小时, 普法教育率达到100%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from governance import db
from governance.catalogue import load_catalogue
from governance.contract import INCIDENT_CATEGORY
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter, query_params

SAFETY_INDICATORS = ("S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09")
# The two flags of 002's 平安社区 that outweigh every rate.
RED_FLAG_INDICATORS = ("S04", "S05")
OPEN_ROWS_SHOWN = 500
OPEN_AGE_ALERT_DAYS = 30
DEFAULT_CELL_M = 250
M_PER_DEG_LAT = 111_195.0

NO_FILTER = ViewFilter()


def _frame(conn: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
    return db.run_query(conn, name, params).to_pandas()


def _params(
    conn: duckdb.DuckDBPyConnection, period: Period, view_filter: ViewFilter, scope: Scope,
    shared: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The bound parameters; `shared` (query_params for the same period, filter
    and scope) saves their lookups: at a province each costs ~30 ms, and the
    page runs nine of these wrappers per filter change."""
    if shared is not None:
        return dict(shared)
    return query_params(conn, period, view_filter, scope=scope)


def monthly_indicators(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """queries/safety_monthly_indicators.sql: street and district rows per month."""
    params = _params(conn, period, view_filter, scope, shared)
    return _frame(conn, "safety_monthly_indicators", params)


def red_flag_rows(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pa.Table:
    """queries/safety_red_flags.sql: community-months with a major case or mass
    incident, as Arrow (a subset of its rows converts to the same pandas types
    as the query of that subset)."""
    return db.run_query(conn, "safety_red_flags", _params(conn, period, view_filter, scope, shared))


def community_months(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    community_id: str,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """queries/safety_community_months.sql: one community's months in the range,
    its event columns from the raw events (safety_view.community_months reads
    them from an imported run when the page does)."""
    params = _params(conn, period, view_filter, scope, shared)
    params["community_id"] = community_id
    return _frame(conn, "safety_community_months", params)


RAW = "raw"
AGGREGATES = "aggregates"


def choose_source(raw_incidents: int, raw_as_of: datetime | None, run: Any) -> str | None:
    """Where the page's grid-event figures come from (README, Spark section):
    the imported aggregates (`run`, an aggregates.ImportedRun) when a run was
    imported and the raw events are absent from the view or end earlier than
    the run's data (run.as_of later than the raw events' latest time); the raw
    events otherwise, because they answer every filter exactly. None: neither."""
    if run is not None and (not raw_incidents or raw_as_of is None or run.as_of > raw_as_of):
        return AGGREGATES
    return RAW if raw_incidents else None


def data_as_of(summary: Mapping[str, Any]) -> datetime | None:
    value = summary.get("data_as_of")
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def incident_summary(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """queries/incident_summary.sql as a dict: incidents, first_occurred_at,
    mean_lat, data_as_of. It reads only the scope and type parameters, so
    `shared` may be for any period."""
    params = _params(conn, Period(), view_filter, scope, shared)
    return db.run_query(conn, "incident_summary", params).to_pylist()[0]


def incident_counts(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """queries/incident_counts_by_month.sql: month × category counts."""
    params = _params(conn, period, view_filter, scope, shared)
    return _frame(conn, "incident_counts_by_month", params)


def resolution_by_category(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    as_of: datetime,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """queries/incident_resolution_by_category.sql: per category plus a total row."""
    params = _params(conn, period, view_filter, scope, shared)
    params["as_of"] = as_of
    return _frame(conn, "incident_resolution_by_category", params)


def open_incidents(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    as_of: datetime,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    row_limit: int = OPEN_ROWS_SHOWN,
    shared: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """queries/open_incidents.sql: the oldest open incidents up to the range's end."""
    params = _params(conn, period, view_filter, scope, shared)
    params.update(as_of=as_of, row_limit=int(row_limit))
    return _frame(conn, "open_incidents", params)


def cell_degrees(cell_m: float, mean_lat: float | None) -> tuple[float, float]:
    """(lon, lat) degrees of a square cell of `cell_m` metres at a latitude."""
    lat_deg = cell_m / M_PER_DEG_LAT
    cos_lat = math.cos(math.radians(mean_lat if mean_lat is not None else 0.0))
    return cell_m / (M_PER_DEG_LAT * max(cos_lat, 0.01)), lat_deg


def incident_cells(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    cell_m: float,
    mean_lat: float | None,
    categories: tuple[str, ...] = (),
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """queries/incident_map_cells.sql: events per map cell (all categories when
    `categories` is empty)."""
    params = _params(conn, period, view_filter, scope, shared)
    cell_lon, cell_lat = cell_degrees(cell_m, mean_lat)
    params.update(
        cell_deg_lon=cell_lon,
        cell_deg_lat=cell_lat,
        incident_categories=list(categories) or [c.code for c in INCIDENT_CATEGORY.codes],
    )
    return _frame(conn, "incident_map_cells", params)


def reconciliation_rows(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = NO_FILTER,
    scope: Scope = ALL_STREETS,
    shared: Mapping[str, Any] | None = None,
) -> pa.Table:
    """queries/incident_report_reconciliation.sql: the disagreeing counts, as
    Arrow (as red_flag_rows)."""
    return db.run_query(
        conn, "incident_report_reconciliation", _params(conn, period, view_filter, scope, shared)
    )


# ---------------------------------------------------------------------------
# Pure reshaping


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def as_of_for(period: Period, summary: Mapping[str, Any]) -> datetime:
    """The moment open cases are aged at: the time the event data runs to, or
    the end of the month range when there is none."""
    recorded = data_as_of(summary)
    if recorded is not None:
        return recorded
    end = month_after(period.month_to) if period.month_to else date.today()
    return datetime.combine(end, datetime.min.time()) - timedelta(seconds=1)


TREND_COLUMNS = ("series", "month", "value", "communities_reporting", "communities_compared",
                 "communities")


def trend(monthly: pd.DataFrame, indicator_id: str, streets: tuple[str, ...] = ()) -> pd.DataFrame:
    """One indicator's monthly series: the district, then the chosen streets.

    Columns (TREND_COLUMNS): series (the street name, or None for the district),
    month, value (over the communities that reported in every month of the
    range), communities_reporting (that month), communities_compared (the
    communities the value is over), communities (of the area).
    """
    rows = monthly[monthly["indicator_id"] == indicator_id]
    keep = rows["is_district"] | rows["street"].isin(list(streets))
    chosen = rows[keep].copy()
    order = {street: i for i, street in enumerate(streets)}
    chosen["_order"] = [
        -1 if district else order[street]
        for district, street in zip(chosen["is_district"], chosen["street"], strict=True)
    ]
    chosen["series"] = chosen["street"].astype(object).where(~chosen["is_district"], None)
    chosen = chosen.sort_values(["_order", "month"], kind="stable")
    return chosen[list(TREND_COLUMNS)].reset_index(drop=True)


def trend_basis(monthly: pd.DataFrame) -> dict[str, int]:
    """What the district trend lines are computed over: months in the range,
    communities that reported in every one of them (compared), all communities,
    and the fewest communities that reported in any month."""
    district = monthly[monthly["is_district"]]
    if district.empty:
        return {"months": 0, "compared": 0, "communities": 0, "fewest_reporting": 0}
    per_month = district.drop_duplicates("month")
    return {
        "months": len(per_month),
        "compared": int(per_month["communities_compared"].iloc[0]),
        "communities": int(per_month["communities"].iloc[0]),
        "fewest_reporting": int(per_month["communities_reporting"].min()),
    }


def street_month_matrix(monthly: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    """Streets (rows, by name) × months (columns, oldest first) of one
    indicator's values (over each street's communities that reported in every
    month); NaN where there is none or no value."""
    rows = monthly[(monthly["indicator_id"] == indicator_id) & ~monthly["is_district"]]
    if rows.empty:
        return pd.DataFrame()
    matrix = rows.pivot(index="street", columns="month", values="value")
    return matrix.sort_index().sort_index(axis=1)


def reconciliation_summary(differences: pd.DataFrame) -> dict[str, int]:
    """How many community-months were compared, and how many disagree or lack
    a report (a community-month counts once however many measures differ)."""
    if differences.empty:
        return {"checked": 0, "differing": 0, "unreported": 0, "measures_differing": 0}
    keys = ["community_id", "month"]
    differing = differences[differences["reported_count"].notna()]
    unreported = differences[differences["reported_count"].isna()]
    return {
        "checked": int(differences["checked_community_months"].iloc[0]),
        "differing": int(differing[keys].drop_duplicates().shape[0]),
        "unreported": int(unreported[keys].drop_duplicates().shape[0]),
        "measures_differing": len(differing),
    }


def flag_first(matrix: pd.DataFrame) -> pd.DataFrame:
    """The standards matrix with red-flag communities first (S04 or S05 not
    met), then by the number of unmet indicators, then street and id."""
    ordered = matrix.copy()
    flags = [f"{i}_status" for i in RED_FLAG_INDICATORS if f"{i}_status" in ordered]
    ordered["red_flag"] = (ordered[flags] == "not_met").any(axis=1) if flags else False
    ordered = ordered.sort_values(
        ["red_flag", "not_met_count", "street", "community_id"],
        ascending=[False, False, True, True], kind="stable",
    )
    return ordered.reset_index(drop=True)


def headline(matrix: pd.DataFrame) -> dict[str, int]:
    """Counts for the page's headline: communities; all_met, those whose every
    safety indicator with a standard is met (or partly met) — no_data on any of
    them (a missing input, or too few months reported) is never met; those
    with a red flag; those with any unmet standard; short_reporting, those
    with fewer months reported than rating needs."""
    standard_ids = [i.id for i in load_catalogue().by_dimension("safety") if i.has_standard]
    status_columns = [f"{i}_status" for i in standard_ids if f"{i}_status" in matrix]
    every_standard_met = (matrix[status_columns].isin(["met", "partly_met"]).all(axis=1)
                          if status_columns else pd.Series(False, index=matrix.index))
    all_met = every_standard_met & (matrix["not_met_count"] == 0) & (matrix["rated_count"] > 0)
    short = ((matrix["months_reported"] < matrix["months_required"]).fillna(False)
             if "months_required" in matrix else pd.Series(False, index=matrix.index))
    return {
        "communities": len(matrix),
        "all_met": int(all_met.sum()),
        "red_flag": int(matrix["red_flag"].sum()) if "red_flag" in matrix else 0,
        "any_not_met": int((matrix["not_met_count"] > 0).sum()),
        "short_reporting": int(short.sum()),
    }


def reporting_requirement(matrix: pd.DataFrame) -> dict[str, int] | None:
    """{"months", "required"}: the month range's length and the fewest reported
    months that let a community be rated; None without a month range or rows."""
    if "months_in_period" not in matrix:
        return None
    known = matrix.dropna(subset=["months_in_period", "months_required"])
    if known.empty or not known["months_in_period"].iloc[0]:
        return None
    return {"months": int(known["months_in_period"].iloc[0]),
            "required": int(known["months_required"].iloc[0])}


def drill_choices(matrix: pd.DataFrame, street: str | None) -> dict[str, str]:
    """community_id → '名称（街道）' for the drill-down picker, in the matrix's
    order (red flags and most unmet first), narrowed to one street if given."""
    rows = matrix if not street else matrix[matrix["street"] == street]
    # Whole columns at once: a province's picker has 20,000 choices.
    labels = rows["community_name"].astype(str) + "（" + rows["street"].astype(str) + "）"
    return dict(zip(rows["community_id"].tolist(), labels.tolist(), strict=True))
