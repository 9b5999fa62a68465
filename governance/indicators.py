"""The indicator engine: run queries/*.sql for a period, view filter and scope,
and shape the results for the pages and the CLI.

Every number comes from a query file; this module only builds the one shared
set of bound parameters (`query_params`) and reshapes Arrow results with pandas.
Status always comes from the SQL macro `indicator_status` (governance/sql/schema.sql),
never from Python.

Scope and filter. `scope` is which streets the viewer may see: `ALL_STREETS`
(single-user mode) or an explicit tuple from access control, where an empty
tuple means nothing is visible (default deny). `ViewFilter` narrows within the
scope: empty streets = every street in scope, empty types = every type. Both
are resolved here to explicit lists for `$scope_streets` and `$community_types`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from governance import db
from governance.catalogue import DIMENSIONS, STATUSES, Dimension, Standards, load_catalogue
from governance.contract import COMMUNITY_TYPE
from governance.text import DEFAULT_LANGUAGE, STRINGS, t

ALL_STREETS = None
"""Scope value meaning every street in the data (single-user mode)."""

Scope = tuple[str, ...] | None

def indicator_queries() -> tuple[tuple[Dimension, str], ...]:
    """(dimension, query file) for every file the catalogue names as computing
    an indicator, in catalogue order: the catalogue is the index."""
    seen: dict[tuple[Dimension, str], None] = {}
    for item in load_catalogue().indicators:
        seen.setdefault((item.dimension, item.query), None)
    return tuple(seen)

RATED_STATUSES = ("met", "partly_met", "not_met")
COMMUNITY_COLUMNS = ("community_id", "community_name", "street", "community_type")
LONG_COLUMNS = ("community_id", "indicator_id", "value", "status")
DEFAULT_MONTHS = 12

VALUES_SCHEMA = pa.schema(
    [
        ("community_id", pa.string()),
        ("community_name", pa.string()),
        ("street", pa.string()),
        ("community_type", pa.string()),
        ("dimension", pa.string()),
        ("indicator_id", pa.string()),
        ("value", pa.float64()),
        ("floor_value", pa.float64()),
        ("target_value", pa.float64()),
        ("status", pa.string()),
        ("numerator", pa.float64()),
        ("denominator", pa.float64()),
        # Whole months, typed like numerator so pandas reads one dtype whether
        # or not the table holds rows without them.
        ("months_reported", pa.float64()),
        ("months_in_period", pa.float64()),
        ("months_required", pa.float64()),
    ]
)
# Reporting completeness of the indicators computed from monthly reports over
# the month range (S01–S09): months with a report, calendar months in the range,
# and the fewest reported months that let the period be rated (the
# min_reported_months_pct setting; below it the query gives no_data). NULL on the
# rows of every other indicator.
REPORTING_COLUMNS = ("months_reported", "months_in_period", "months_required")

# Parameter names the engine sets itself; a setting may not reuse one.
_CORE_PARAMS = frozenset(
    {"scope_streets", "community_types", "thresholds", "year", "month_from", "month_to"}
)


@dataclass(frozen=True)
class Period:
    """Funding year and safety month range (months are first-of-month dates).

    A missing year or month bound selects nothing: those indicators are no_data.
    """

    year: int | None = None
    month_from: date | None = None
    month_to: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "month_from", _first_of_month(self.month_from))
        object.__setattr__(self, "month_to", _first_of_month(self.month_to))
        if self.month_from and self.month_to and self.month_from > self.month_to:
            raise ValueError(f"month_from {self.month_from} is after month_to {self.month_to}")


@dataclass(frozen=True)
class ViewFilter:
    """What the viewer chose to look at, within their scope."""

    streets: tuple[str, ...] = ()  # empty = all streets in scope
    community_types: tuple[str, ...] = ()  # empty = all types

    def __post_init__(self) -> None:
        # Lists from widgets become tuples, so the filter stays hashable (cache keys).
        for name in ("streets", "community_types"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"ViewFilter.{name} must be a sequence of strings, not a str")
            object.__setattr__(self, name, tuple(value))


def within_filter(table: pa.Table, view_filter: ViewFilter) -> pa.Table:
    """The rows of a per-community table (with `street` and `community_type`) that
    the filter keeps: the communities the queries' $scope_streets and
    $community_types select, so one scope-wide result can serve every filter.
    Only for results where a community's row does not depend on which other
    communities are in view (indicator values do not: facilities are never
    filtered). Filtered as Arrow, so pandas sees the same types as from SQL."""
    for column, chosen in (("street", view_filter.streets),
                           ("community_type", view_filter.community_types)):
        if chosen:
            table = table.filter(pc.is_in(table.column(column),
                                          value_set=pa.array(chosen, pa.string())))
    return table


def rows_of_communities(table: pa.Table, community_ids) -> pa.Table:
    """The rows of these communities (by `community_id`), in the same order:
    narrows a scope-wide result whose rows depend on their community alone to
    a filter's communities. Narrowed as Arrow: an integer column with a NULL
    only in other communities' rows then turns into integers in pandas, as
    from the query of these communities."""
    column = table.column("community_id")
    chosen = pa.array(list(community_ids), pa.string()).cast(column.type)
    return table.filter(pc.is_in(column, value_set=chosen))


def rows_within_filter(frame: pd.DataFrame, view_filter: ViewFilter) -> pd.DataFrame:
    """within_filter for a per-community pandas frame (community_type still a
    code), renumbered from 0; the same rows in the same order."""
    keep = pd.Series(True, index=frame.index)
    for column, chosen in (("street", view_filter.streets),
                           ("community_type", view_filter.community_types)):
        if chosen:
            keep &= frame[column].isin(chosen)
    return frame[keep].reset_index(drop=True)


def _first_of_month(value: date | None) -> date | None:
    if value is None:
        return None
    return date(value.year, value.month, 1)


# ---------------------------------------------------------------------------
# Parameters


def _scope_streets(conn: duckdb.DuckDBPyConnection, scope: Scope) -> list[str]:
    """The streets the viewer may see, as an explicit sorted list."""
    if scope is ALL_STREETS:
        return db.run_query(conn, "all_street_names").column("street").to_pylist()
    return sorted(set(scope))


# Every query's parameters start from the scope's streets and the community
# types present in them: two queries, 12–40 ms per query_params call at city
# and province scale, several calls per page run. They are kept per data
# content and scope (few distinct: all streets, and each street account's).
SCOPE_NAMES_ENTRIES = 64
_scope_names_kept: OrderedDict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = OrderedDict()
_scope_names_lock = threading.Lock()


def _scope_names(
    conn: duckdb.DuckDBPyConnection, scope: Scope
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the streets the viewer may see, sorted; the community_type codes present
    in them), read once per data content (db.content_id) and scope."""
    if isinstance(scope, str):
        raise TypeError("scope must be ALL_STREETS or a tuple of street names, not a str")
    content = db.content_id(conn)
    key = None if content is None else (
        content, scope if scope is ALL_STREETS else tuple(sorted(set(scope))))
    if key is not None:
        with _scope_names_lock:
            kept = _scope_names_kept.get(key)
            if kept is not None:
                _scope_names_kept.move_to_end(key)
                return kept
    visible = _scope_streets(conn, scope)
    present = db.run_query(conn, "community_types_present", {"scope_streets": visible})
    names = (tuple(visible), tuple(present.column("community_type").to_pylist()))
    # An import committed meanwhile would file the new data's names under the old key.
    if key is not None and db.content_id(conn) == content:
        with _scope_names_lock:
            _scope_names_kept[key] = names
            while len(_scope_names_kept) > SCOPE_NAMES_ENTRIES:
                _scope_names_kept.popitem(last=False)
    return names


def _setting_param(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def query_params(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = ViewFilter(),
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> dict[str, Any]:
    """The one shared bound-parameter dict every query file draws from.

    $scope_streets = scope ∩ filter streets (a filter street outside the scope is
    dropped, never added); $community_types = the filter's types, or every known
    type (contract codes and any present in scope); $thresholds = the standards'
    floors/targets; every setting by its key; $year, $month_from, $month_to.
    """
    standards = standards or Standards.default()
    visible, present = _scope_names(conn, scope)
    if view_filter.streets:
        chosen = set(view_filter.streets)
        streets = [s for s in visible if s in chosen]
    else:
        streets = list(visible)
    if view_filter.community_types:
        types = list(dict.fromkeys(view_filter.community_types))
    else:
        types = list(dict.fromkeys([c.code for c in COMMUNITY_TYPE.codes] + list(present)))
    params: dict[str, Any] = {}
    for key, value in standards.settings.items():
        if key in _CORE_PARAMS:
            raise ValueError(f"setting {key!r} clashes with an engine parameter")
        params[key] = _setting_param(value)
    params.update(
        scope_streets=streets,
        community_types=types,
        thresholds=standards.thresholds_param(),
        year=period.year,
        month_from=period.month_from,
        month_to=period.month_to,
    )
    return params


def _scope_only_params(conn: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, Any]:
    return query_params(conn, Period(), ViewFilter(), scope=scope)


# ---------------------------------------------------------------------------
# Pickers and periods


def available_years(conn: duckdb.DuckDBPyConnection, scope: Scope = ALL_STREETS) -> list[int]:
    """Years with funding lines for visible communities, newest first."""
    table = db.run_query(conn, "funding_years", _scope_only_params(conn, scope))
    return table.column("year").to_pylist()


def available_months(conn: duckdb.DuckDBPyConnection, scope: Scope = ALL_STREETS) -> list[date]:
    """Months (first of month) with safety reports for visible communities, oldest first."""
    table = db.run_query(conn, "safety_months", _scope_only_params(conn, scope))
    return table.column("month").to_pylist()


def default_month_range(months: list[date]) -> tuple[date, date] | None:
    """The latest DEFAULT_MONTHS reported months (or fewer), as (first, last)."""
    recent = months[-DEFAULT_MONTHS:]
    return (recent[0], recent[-1]) if recent else None


def default_period(conn: duckdb.DuckDBPyConnection, scope: Scope = ALL_STREETS) -> Period:
    """Latest funding year; the latest 12 months present in safety (or fewer).

    "Months present" counts distinct reported months, so a gap in the data
    widens the calendar span rather than shrinking the number of months.
    """
    years = available_years(conn, scope)
    months = available_months(conn, scope)
    month_from, month_to = default_month_range(months) or (None, None)
    return Period(
        year=years[0] if years else None,
        month_from=month_from,
        month_to=month_to,
    )


def list_streets(conn: duckdb.DuckDBPyConnection, scope: Scope = ALL_STREETS) -> list[str]:
    """Streets the viewer may see (the street filter's choices), sorted."""
    table = db.run_query(conn, "streets", _scope_only_params(conn, scope))
    return table.column("street").to_pylist()


def street_community_counts(
    conn: duckdb.DuckDBPyConnection, scope: Scope = ALL_STREETS
) -> dict[str, int]:
    """Street → number of communities, for labels such as `XX街道 (12)`."""
    table = db.run_query(conn, "streets", _scope_only_params(conn, scope))
    return dict(zip(table.column("street").to_pylist(), table.column("communities").to_pylist(),
                    strict=True))


def available_community_types(
    conn: duckdb.DuckDBPyConnection, scope: Scope = ALL_STREETS
) -> list[str]:
    """community_type codes present among visible communities, sorted."""
    table = db.run_query(conn, "community_types_present", _scope_only_params(conn, scope))
    return table.column("community_type").to_pylist()


# ---------------------------------------------------------------------------
# Communities and totals


def communities_in_scope(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = ViewFilter(),
    scope: Scope = ALL_STREETS,
) -> pa.Table:
    """Visible communities with their attributes, ordered by street, community_id."""
    params = query_params(conn, Period(), view_filter, scope=scope)
    return db.run_query(conn, "communities_in_scope", params)


def district_totals(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = ViewFilter(),
    scope: Scope = ALL_STREETS,
) -> dict[str, int]:
    """{"communities", "households", "population", "streets"} over visible communities."""
    params = query_params(conn, Period(), view_filter, scope=scope)
    row = db.run_query(conn, "district_totals", params).to_pylist()[0]
    return {key: int(value or 0) for key, value in row.items()}


def totals_of(communities: pa.Table) -> dict[str, int]:
    """district_totals of a communities_in_scope result (narrowed by within_filter):
    the same four numbers without another query per filter."""
    def total(column: str) -> int:
        return int(pc.sum(communities.column(column)).as_py() or 0)

    return {
        "communities": communities.num_rows,
        "households": total("households"),
        "population": total("population"),
        "streets": pc.count_distinct(communities.column("street")).as_py(),
    }


# ---------------------------------------------------------------------------
# Indicator values


def indicator_order(standards: Standards | None = None) -> list[str]:
    """Indicator ids in catalogue order."""
    standards = standards or Standards.default()
    return [item.id for item in standards.indicators]


def indicator_values(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = ViewFilter(),
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
    dimensions: Iterable[Dimension] | None = None,
) -> pa.Table:
    """Every computed indicator for every visible community, long format.

    Columns (VALUES_SCHEMA): community_id, community_name, street,
    community_type, dimension, indicator_id, value, floor_value, target_value,
    status, numerator, denominator, and REPORTING_COLUMNS (NULL except on the
    month-range indicators). Sorted by community_id, then catalogue order.
    Values keep full precision: round only when displaying.
    `dimensions` limits the work to those dimensions' queries (default: all).
    """
    standards = standards or Standards.default()
    params = query_params(conn, period, view_filter, standards, scope)
    wanted = set(DIMENSIONS if dimensions is None else dimensions)
    tables = []
    for dimension, name in indicator_queries():
        if dimension not in wanted:
            continue
        table = db.run_query(conn, name, params)
        table = table.append_column(
            "dimension", pa.array([dimension] * table.num_rows, pa.string())
        )
        for column in REPORTING_COLUMNS:
            if column not in table.column_names:
                table = table.append_column(column, pa.nulls(table.num_rows, pa.float64()))
        tables.append(table.select(VALUES_SCHEMA.names).cast(VALUES_SCHEMA))
    values = pa.concat_tables(tables) if tables else VALUES_SCHEMA.empty_table()
    order = {indicator_id: i for i, indicator_id in enumerate(indicator_order(standards))}
    rank = pa.array(
        [order.get(i, len(order)) for i in values.column("indicator_id").to_pylist()],
        pa.int32(),
    )
    values = values.append_column("_order", rank).sort_by(
        [("community_id", "ascending"), ("_order", "ascending"), ("indicator_id", "ascending")]
    )
    return values.drop_columns(["_order"])


def indicators_long(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = ViewFilter(),
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """The CLI/export format: exactly community_id, indicator_id, value, status.

    value is NaN (empty in CSV, null in JSON) when status is no_data.
    """
    values = indicator_values(conn, period, view_filter, standards, scope)
    return values.select(list(LONG_COLUMNS)).to_pandas()


def _frame(values: pa.Table | pd.DataFrame) -> pd.DataFrame:
    if isinstance(values, pa.Table):
        return values.to_pandas()
    return values


def _ordered_ids(ids: Iterable[str]) -> list[str]:
    order = {indicator_id: i for i, indicator_id in enumerate(indicator_order())}
    # A column's distinct values first: a province's long table has 460,000 rows.
    distinct = ids.unique() if isinstance(ids, pd.Series) else ids
    return sorted(set(distinct), key=lambda i: (order.get(i, len(order)), i))


def _share_pct(good: pd.Series, rated: pd.Series) -> pd.Series:
    """(met + partly_met) / rated × 100; NaN (null) where nothing is rated."""
    good = good.astype("float64")
    rated = rated.astype("float64")
    return (good / rated.where(rated > 0)) * 100


def _has_reporting(frame: pd.DataFrame) -> bool:
    return "months_in_period" in frame and bool(frame["months_in_period"].notna().any())


def reporting_note(reported: Any, months: Any, required: Any) -> str:
    """Why a community's month-range indicators are (or are not) rated:
    "报送不足：12 个月中仅 3 个月报送" below the required months, "缺报 1 个月"
    when short but still rated, "齐全" when every month is reported; "" when
    there is no month range or no value."""
    if any(value is None or pd.isna(value) for value in (reported, months, required)) \
            or not months:
        return ""
    reported, months, required = int(reported), int(months), int(required)
    if reported < required:
        if not reported:
            return t("reporting.none", months=months)
        return t("reporting.short", months=months, reported=reported)
    if reported < months:
        return t("reporting.missing", missing=months - reported)
    return t("reporting.complete")


def status_matrix(
    values: pa.Table | pd.DataFrame, communities: pa.Table | pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per community for the overview matrix.

    Columns: community_id, community_name, street, community_type; then per
    indicator in catalogue order its value in a column named by the id (`F01`)
    and its status in `<id>_status`; then met_count, partly_met_count,
    not_met_count, no_data_count, rated_count and met_share_pct
    ((met + partly_met) / rated × 100, NaN when rated = 0).
    When the values include month-range indicators (S01–S09), also the
    community's REPORTING_COLUMNS (nullable integers), `reported_months` ("3/12")
    and `reporting_note` (`reporting_note` below).
    `communities` (from `communities_in_scope`), when given, fixes the rows and
    their name/street/type: a community without values still gets a row.
    Ordered by street, community_id.
    """
    frame = _frame(values)
    count_columns = [
        "met_count", "partly_met_count", "not_met_count", "no_data_count", "rated_count",
    ]
    ids = _ordered_ids(frame["indicator_id"]) if len(frame) else []
    columns = list(COMMUNITY_COLUMNS)
    for indicator_id in ids:
        columns += [indicator_id, f"{indicator_id}_status"]
    columns += count_columns + ["met_share_pct"]
    periodic = _has_reporting(frame)
    if periodic:
        columns += [*REPORTING_COLUMNS, "reported_months", "reporting_note"]

    if communities is not None:
        base = _frame(communities)[list(COMMUNITY_COLUMNS)]
    elif len(frame):
        base = frame[list(COMMUNITY_COLUMNS)]
    else:
        base = None
    if base is None or base.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})
    out = base.drop_duplicates("community_id").set_index("community_id")

    if len(frame):
        value_wide = frame.pivot(index="community_id", columns="indicator_id", values="value")
        status_wide = frame.pivot(index="community_id", columns="indicator_id", values="status")
        value_wide = value_wide.reindex(out.index)
        status_wide = status_wide.reindex(out.index)
    else:
        status_wide = pd.DataFrame(index=out.index)
    # Built as one dict and joined once: inserting ~50 columns one by one cost
    # about 0.2 s per call whatever the row count (a street of 8 communities too).
    added: dict[str, pd.Series] = {}
    for indicator_id in ids:
        added[indicator_id] = value_wide[indicator_id].astype("float64")
        added[f"{indicator_id}_status"] = status_wide[indicator_id]
    statuses = status_wide.to_numpy(dtype=object)
    for status in ("met", "partly_met", "not_met", "no_data"):
        added[f"{status}_count"] = pd.Series(
            (statuses == status).sum(axis=1).astype("int64"), index=out.index)
    added["rated_count"] = (added["met_count"] + added["partly_met_count"]
                            + added["not_met_count"])
    added["met_share_pct"] = _share_pct(added["met_count"] + added["partly_met_count"],
                                        added["rated_count"])
    out = pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)
    if periodic:
        reporting = (frame.dropna(subset=["months_in_period"])
                     .groupby("community_id")[list(REPORTING_COLUMNS)].max()
                     .reindex(out.index))
        for column in REPORTING_COLUMNS:
            out[column] = reporting[column].astype("Int64")
        out["reported_months"] = [
            "" if pd.isna(total) else f"{int(reported)}/{int(total)}"
            for reported, total in zip(out["months_reported"], out["months_in_period"],
                                       strict=True)
        ]
        out["reporting_note"] = [
            reporting_note(*row) for row in zip(
                out["months_reported"], out["months_in_period"], out["months_required"],
                strict=True)
        ]
    out = out.reset_index().sort_values(["street", "community_id"], kind="stable")
    return out[columns].reset_index(drop=True)


def dimension_summary(values: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """One row per dimension (all four, in catalogue order).

    Columns: dimension, rated (met + partly_met + not_met), met, partly_met,
    not_met, no_data, not_rated, met_share_pct ((met + partly_met) / rated × 100,
    NaN when rated = 0). Counts are community × indicator pairs.
    """
    frame = _frame(values)
    counts = (
        frame.groupby(["dimension", "status"]).size()
        if len(frame)
        else pd.Series(dtype="int64")
    )
    rows = []
    for dimension in DIMENSIONS:
        row: dict[str, Any] = {"dimension": dimension}
        for status in STATUSES:
            row[status] = int(counts.get((dimension, status), 0))
        row["rated"] = row["met"] + row["partly_met"] + row["not_met"]
        rows.append(row)
    out = pd.DataFrame(rows)
    out["met_share_pct"] = _share_pct(out["met"] + out["partly_met"], out["rated"])
    return out[
        ["dimension", "rated", "met", "partly_met", "not_met", "no_data", "not_rated",
         "met_share_pct"]
    ]


def street_status_counts(
    values: pa.Table | pd.DataFrame, communities: pa.Table | pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per street × status: count of community × indicator pairs.

    `communities` (from `communities_in_scope`) supplies each community's street
    and the list of streets, so a street appears with zero counts even when
    none of its rows carry a status; without it the streets in `values` are used.
    Every status in STATUSES appears for every street. Ordered by street, then
    status in STATUSES order.
    """
    frame = _frame(values)
    if communities is not None:
        lookup = _frame(communities)[["community_id", "street"]]
        frame = frame.drop(columns=["street"], errors="ignore").merge(
            lookup, on="community_id", how="inner"
        )
        streets = sorted(set(lookup["street"]))
    else:
        streets = sorted(set(frame["street"])) if len(frame) else []
    counts = frame.groupby(["street", "status"]).size() if len(frame) else pd.Series(dtype="int64")
    rows = [
        {"street": street, "status": status, "count": int(counts.get((street, status), 0))}
        for street in streets
        for status in STATUSES
    ]
    out = pd.DataFrame(rows, columns=["street", "status", "count"])
    return out.astype({"street": "object", "status": "object", "count": "int64"})


def column_label(name: str) -> str:
    """A display header for a column of the frames above.

    `F01` → `F01`, `F01_status` → `F01 状态`, a status name (dimension_summary)
    → its status label, other columns → their `indicators.column.*` string; an
    unknown name is returned unchanged.
    """
    known = STRINGS[DEFAULT_LANGUAGE]
    prefix, _, suffix = name.partition("_")
    if suffix == "status" and len(prefix) == 3 and prefix[0].isupper():
        return f"{prefix} {t('indicators.column.status')}"
    if f"status.{name}" in known:
        return t(f"status.{name}")
    if f"indicators.column.{name}" in known:
        return t(f"indicators.column.{name}")
    return name


def dimension_matrix(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    indicator_ids: Iterable[str],
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """`status_matrix` of some indicators (one page's), every visible community a row.

    Only the queries of those indicators' dimensions run."""
    indicator_ids = list(indicator_ids)
    by_id = {i.id: i for i in (standards or Standards.default()).indicators}
    dimensions = {by_id[i].dimension for i in indicator_ids if i in by_id}
    values = indicator_values(
        conn, period, view_filter, standards, scope, dimensions).to_pandas()
    communities = communities_in_scope(conn, view_filter, scope).to_pandas()
    return status_matrix(values[values["indicator_id"].isin(indicator_ids)], communities)
