"""What the 平安建设 page shows, computed in one call per filter and data version:
for the scope once (safety_view), then narrowed to each street or type filter
(safety_view_within; tests/unit/test_safety_narrowing.py holds the two equal).

The grid-event sections come from the raw incidents or, when an imported
Spark run is newer (`choose_source`), from the incident_agg_* tables through
queries/agg_*.sql, which give the raw queries' rows for any street, type and
months inside the run (tests/unit/test_safety_aggregates.py compares them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd
import pyarrow as pa

from governance import boundaries, clock, db, indicators, presentation, safety
from governance.catalogue import Standards
from governance.contract import INCIDENT_CATEGORY, INCIDENT_SEVERITY, INCIDENT_STATUS, SAFETY
from governance.facility_view import coverage_column_label
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter, query_params
from governance.spark import aggregates
from governance.spark.aggregates import ImportedRun
from governance.text import has_text, t

RAW = safety.RAW
AGGREGATES = safety.AGGREGATES
AUTO = "auto"
choose_source = safety.choose_source


@dataclass(frozen=True)
class IncidentSource:
    """Where the page's grid-event sections come from.

    kind RAW: the incidents table of this database. kind AGGREGATES: the
    imported run (`run`); `period` is the selected months clipped to the run's
    (`clipped` when that dropped any), `whole_run` whether the view is the
    run's whole scope and month range, the only view its medians, 90th
    percentiles and map cells describe.
    """
    kind: str
    run: ImportedRun | None = None
    period: Period | None = None
    clipped: bool = False
    whole_run: bool = False


def _clip(period: Period, run: ImportedRun) -> tuple[Period | None, bool]:
    start = max(period.month_from or run.period.month_from, run.period.month_from)
    end = min(period.month_to or run.period.month_to, run.period.month_to)
    clipped = (start, end) != (period.month_from, period.month_to)
    if start > end:
        return None, True
    return Period(year=period.year, month_from=start, month_to=end), clipped


@dataclass
class IncidentView:
    summary: dict
    as_of: datetime
    counts: pd.DataFrame
    resolution: pd.DataFrame
    open_cases: pd.DataFrame
    differences: pd.DataFrame
    reconciliation: dict
    source: IncidentSource = field(default_factory=lambda: IncidentSource(RAW))
    # `differences` as the query returned them, for safety_view_within.
    difference_rows: pa.Table | None = field(default=None, repr=False, compare=False)

    @property
    def total(self) -> pd.Series | None:
        rows = self.resolution[self.resolution["is_total"]]
        return None if rows.empty else rows.iloc[0]

    @property
    def open_total(self) -> int:
        return int(self.open_cases["open_total"].iloc[0]) if len(self.open_cases) else 0


@dataclass
class SafetyView:
    standards_matrix: pd.DataFrame
    red_flags: pd.DataFrame
    monthly: pd.DataFrame
    incidents: IncidentView | None
    # `red_flags` as the query returned them, for safety_view_within.
    red_flag_rows: pa.Table | None = field(default=None, repr=False, compare=False)

    @property
    def red_flag_communities(self) -> int:
        return self.red_flags["community_id"].nunique()


def safety_view(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
    standards: Standards | None = None,
) -> SafetyView:
    matrix = indicators.dimension_matrix(
        conn, period, safety.SAFETY_INDICATORS, view_filter, standards, scope)
    shared = query_params(conn, period, view_filter, scope=scope)
    red_flags = safety.red_flag_rows(conn, period, view_filter, scope, shared)
    return SafetyView(
        standards_matrix=safety.flag_first(matrix),
        red_flags=red_flags.to_pandas(),
        monthly=safety.monthly_indicators(conn, period, view_filter, scope, shared),
        incidents=incident_view(conn, period, view_filter, scope, shared=shared),
        red_flag_rows=red_flags,
    )


def _rows_of(frame: pd.DataFrame, chosen: frozenset[str]) -> pd.DataFrame:
    """The rows of these communities, in the frame's order, numbered from 0."""
    return frame[frame["community_id"].isin(chosen)].reset_index(drop=True)


@dataclass(frozen=True)
class _Within:
    """What safety_view_within passes to incident_view: the scope's event view,
    the filter's communities and how many communities the scope has."""
    whole: IncidentView | None
    community_ids: frozenset[str]
    scope_communities: int

    def difference_rows(self, source: IncidentSource) -> pa.Table | None:
        """The reconciliation of the filter's communities from the scope's, when
        the scope's read the same source over the same months; None otherwise
        (the filter's own query then runs). Each row is one community's; the
        months compared are those the events (or the run) logged anywhere, the
        same for every filter, so the count of compared community-months is
        the scope's per community times the filter's communities."""
        whole = self.whole
        if (whole is None or whole.difference_rows is None or whole.source.kind != source.kind
                or whole.source.period != source.period):
            return None
        rows = indicators.rows_of_communities(whole.difference_rows, self.community_ids)
        if not rows.num_rows:
            return rows
        name = "checked_community_months"
        months = whole.difference_rows.column(name)[0].as_py() // self.scope_communities
        column = pa.array([months * len(self.community_ids)] * rows.num_rows,
                          rows.schema.field(name).type)
        return rows.set_column(rows.schema.get_field_index(name), name, column)


def _one_street_monthly(monthly: pd.DataFrame, street: str) -> pd.DataFrame:
    """The monthly rows of a filter of one whole street, from the scope's: its
    street rows, led by the same rows as the district's (the filter's
    communities are that street's, so its district line is the street's).
    Narrowed in pandas: no column's type depends on which rows hold a NULL
    (the values are doubles, the counts never NULL)."""
    rows = monthly[(monthly["street"] == street) & ~monthly["is_district"]]
    district = rows.assign(street=rows["street"].where(pd.Series(False, index=rows.index)),
                           is_district=True)
    return pd.concat([district, rows], ignore_index=True)


def safety_view_within(
    conn: duckdb.DuckDBPyConnection,
    whole: SafetyView,
    community_ids: Iterable[str],
    period: Period,
    view_filter: ViewFilter,
    scope: Scope = ALL_STREETS,
    standards: Standards | None = None,
) -> SafetyView:
    """`whole` (safety_view of the scope, same period and standards) narrowed to
    the filter's communities (`community_ids`: communities_in_scope of the
    filter): what safety_view(conn, period, view_filter, scope, standards)
    returns, without reading the scope's reports again. The standards matrix,
    the red flags and the reconciliation are rows of one community each, kept
    in the whole's order; the monthly lines of a filter of one street are that
    street's; for other filters (a district line over the filter's
    communities), and the event counts, medians and the oldest open cases,
    the filter's own queries run."""
    chosen = frozenset(community_ids)
    if not chosen:
        # The matrix of no communities has no indicator columns: the filter's own.
        return safety_view(conn, period, view_filter, scope, standards)
    shared = query_params(conn, period, view_filter, scope=scope)
    within = _Within(whole.incidents, chosen, len(whole.standards_matrix))
    red_flags = (safety.red_flag_rows(conn, period, view_filter, scope, shared)
                 if whole.red_flag_rows is None
                 else indicators.rows_of_communities(whole.red_flag_rows, chosen))
    if len(view_filter.streets) == 1 and not view_filter.community_types:
        monthly = _one_street_monthly(whole.monthly, view_filter.streets[0])
    else:
        monthly = safety.monthly_indicators(conn, period, view_filter, scope, shared)
    return SafetyView(
        standards_matrix=_rows_of(whole.standards_matrix, chosen),
        red_flags=red_flags.to_pandas(),
        monthly=monthly,
        incidents=incident_view(conn, period, view_filter, scope, shared=shared, within=within),
        red_flag_rows=red_flags,
    )


def incident_view(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
    source: str = AUTO,
    shared: dict | None = None,
    within: _Within | None = None,
) -> IncidentView | None:
    """The grid-event part of the page; None when there is nothing to show.
    `source` AUTO applies `choose_source`; RAW or AGGREGATES force one (tests
    compare the two on the same data). `shared`: query_params for the same
    period, filter and scope, when the caller has them. `within`: from
    safety_view_within, the scope's view the reconciliation is narrowed from."""
    if shared is None:
        shared = query_params(conn, period, view_filter, scope=scope)
    summary = safety.incident_summary(conn, view_filter, scope, shared)
    run = aggregates.imported_run(conn)
    kind = (choose_source(summary["incidents"], safety.data_as_of(summary), run)
            if source == AUTO else source)
    if kind == AGGREGATES and run is not None:
        return _aggregate_incident_view(conn, period, view_filter, scope, run, within)
    if kind is None or not summary["incidents"]:
        return None
    as_of = safety.as_of_for(period, summary)
    described = IncidentSource(RAW, run)
    rows = within.difference_rows(described) if within is not None else None
    if rows is None:
        rows = safety.reconciliation_rows(conn, period, view_filter, scope, shared)
    differences = rows.to_pandas()
    return IncidentView(
        summary=summary,
        as_of=as_of,
        counts=safety.incident_counts(conn, period, view_filter, scope, shared),
        resolution=safety.resolution_by_category(conn, period, as_of, view_filter, scope,
                                                 shared),
        open_cases=safety.open_incidents(conn, period, as_of, view_filter, scope,
                                         shared=shared),
        differences=differences,
        reconciliation=safety.reconciliation_summary(differences),
        source=described,
        difference_rows=rows,
    )


def aggregate_source(
    conn: duckdb.DuckDBPyConnection, period: Period, view_filter: ViewFilter, scope: Scope,
    run: ImportedRun,
) -> tuple[IncidentSource, dict]:
    """The source description and the bound parameters for queries/agg_*.sql."""
    clipped_period, clipped = _clip(period, run)
    params = query_params(conn, clipped_period or run.period, view_filter, scope=scope)
    whole_run = (
        clipped_period is not None and not clipped
        and clipped_period.month_from == run.period.month_from
        and clipped_period.month_to == run.period.month_to
        and not view_filter.community_types
        and set(params["scope_streets"]) == set(run.scope_streets)
    )
    params.update(as_of=run.as_of, row_limit=safety.OPEN_ROWS_SHOWN, run_quantiles=whole_run)
    return IncidentSource(AGGREGATES, run, clipped_period, clipped, whole_run), params


def _aggregate_incident_view(
    conn: duckdb.DuckDBPyConnection, period: Period, view_filter: ViewFilter, scope: Scope,
    run: ImportedRun, within: _Within | None = None,
) -> IncidentView:
    described, params = aggregate_source(conn, period, view_filter, scope, run)

    def frame(name: str, table: pa.Table | None = None) -> pd.DataFrame:
        table = (db.run_query(conn, name, params) if table is None else table).to_pandas()
        # Selected months wholly outside the run: its columns, no rows.
        return table if described.period is not None else table.iloc[0:0]

    rows = within.difference_rows(described) if within is not None else None
    if rows is None:
        rows = db.run_query(conn, "agg_incident_report_reconciliation", params)
    differences = frame("agg_incident_report_reconciliation", rows)
    return IncidentView(
        summary={"incidents": run.incidents, "first_occurred_at": None,
                 "mean_lat": run.mean_lat, "data_as_of": run.as_of},
        as_of=run.as_of,
        counts=frame("agg_incident_counts_by_month"),
        resolution=frame("agg_incident_resolution_by_category"),
        open_cases=frame("agg_open_incidents"),
        differences=differences,
        reconciliation=safety.reconciliation_summary(differences),
        source=described,
        difference_rows=rows,
    )


def community_months(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    community_id: str,
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """safety.community_months (the drill-down), its event columns from the
    same source as the page's event sections: when that is an imported run,
    counted from it inside its months and unknown (not 0) outside them."""
    shared = query_params(conn, period, view_filter, scope=scope)
    months = safety.community_months(conn, period, community_id, view_filter, scope, shared)
    run = aggregates.imported_run(conn)
    summary = safety.incident_summary(conn, view_filter, scope, shared) if run is not None else {}
    if choose_source(summary.get("incidents", 0), safety.data_as_of(summary), run) != AGGREGATES:
        return months
    params = dict(shared, community_id=community_id)
    counts = db.run_query(conn, "agg_community_incident_months", params).to_pandas()
    counts = counts.set_index("month")
    inside = (months["month"] >= run.period.month_from) & (months["month"] <= run.period.month_to)
    for column in ("incidents", "open_incidents"):
        known = months["month"].map(counts[column]).fillna(0)
        months[column] = known.where(inside).astype("Int64")
    return months


def _local_minute(moment: datetime) -> str:
    """A stored naive-UTC time as the server's wall clock, to the minute."""
    return clock.local_time(pd.Series([moment])).iloc[0].strftime("%Y-%m-%d %H:%M")


def source_notes(incidents: IncidentView) -> list[str]:
    """The page's sentences on where the event figures come from and, for an
    aggregate source, what it cannot split."""
    source = incidents.source
    run = source.run
    if source.kind != AGGREGATES or run is None:
        if run is None:
            return [t("safety.incidents.source.raw")]
        return [t("safety.incidents.source.raw_newer",
                  raw_as_of=incidents.as_of.strftime("%Y-%m-%d %H:%M"),
                  run_as_of=run.as_of.strftime("%Y-%m-%d %H:%M"))]
    engine = "spark" if run.engine == "spark" else "duckdb"
    notes = [t("safety.incidents.source.aggregates",
               engine=t(f"safety.incidents.engine.{engine}"),
               imported_at=_local_minute(run.imported_at),
               month_from=run.period.month_from.strftime("%Y-%m"),
               month_to=run.period.month_to.strftime("%Y-%m"))]
    if source.period is None:
        notes.append(t("safety.incidents.source.outside"))
    elif source.clipped:
        notes.append(t("safety.incidents.source.clipped",
                       month_from=source.period.month_from.strftime("%Y-%m"),
                       month_to=source.period.month_to.strftime("%Y-%m")))
    if not source.whole_run:
        notes.append(t("safety.incidents.source.no_quantiles"))
    return notes


def _number(value, pattern: str) -> str:
    return "—" if value is None or value != value else pattern.format(value)


def incident_kpis(incidents: IncidentView) -> dict[str, str]:
    """The grid-event headline figures, formatted ("—" where there is none)."""
    total = incidents.total
    if total is None:
        return {"incidents": "0", "resolved_pct": "—", "median_hours": "—",
                "open": f"{incidents.open_total:,}"}
    return {
        "incidents": f"{int(total['incidents']):,}",
        "resolved_pct": _number(total["resolved_pct"], "{:.1f}%"),
        "median_hours": _number(total["median_resolution_hours"], "{:.1f}"),
        "open": f"{incidents.open_total:,}",
    }


def measure_label(measure: str) -> str:
    column = SAFETY.column_by_name.get(measure)
    return column.label if column else measure


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes shown as words, months as YYYY-MM, timestamps to the minute."""
    shown = presentation.with_labels(frame, {
        "category": lambda c: (t("safety.total") if c is None or c != c
                               else INCIDENT_CATEGORY.label_of(c)),
        "severity": INCIDENT_SEVERITY.label_of,
        "status": INCIDENT_STATUS.label_of,
        "measure": measure_label,
    })
    if "month" in shown:
        shown["month"] = pd.to_datetime(shown["month"]).dt.strftime("%Y-%m")
    for name in ("occurred_at", "resolved_at"):
        if name in shown:
            shown[name] = pd.to_datetime(shown[name]).dt.strftime("%Y-%m-%d %H:%M")
    if "community_type" in shown:
        shown = presentation.with_type_labels(shown)
    for name in ("has_report", "in_range"):
        if name in shown:
            shown[name] = shown[name].map({True: t("common.yes"), False: t("common.no")})
    return shown.drop(columns=[c for c in ("is_total", "open_total", "checked_community_months")
                               if c in shown])


def column_label(name: str) -> str:
    key = f"safety.column.{name}"
    if has_text(key):
        return t(key)
    column = SAFETY.column_by_name.get(name)
    if column is not None:
        return column.label
    return coverage_column_label(name)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    return for_display(frame).rename(columns=column_label)


def export_sheets(
    view: SafetyView, community_months: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The page's tables with Chinese headers, one sheet each."""
    sheets = {
        t("safety.sheet.standards"): presentation.matrix_for_export(
            presentation.with_type_labels(view.standards_matrix)
        ),
        t("safety.sheet.red_flags"): shown(view.red_flags),
        t("safety.sheet.monthly"): shown(monthly_for_export(view.monthly)),
    }
    if community_months is not None and len(community_months):
        sheets[t("safety.sheet.community_months")] = shown(community_months)
    if view.incidents is not None:
        sheets[t("safety.sheet.incident_counts")] = shown(view.incidents.counts)
        sheets[t("safety.sheet.resolution")] = shown(view.incidents.resolution)
        sheets[t("safety.sheet.open")] = shown(view.incidents.open_cases)
        sheets[t("safety.sheet.reconciliation")] = shown(view.incidents.differences)
    return sheets


def monthly_for_export(monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly values with the district named and each indicator's name."""
    frame = monthly.copy()
    frame["street"] = frame["street"].where(~frame["is_district"], t("safety.district"))
    frame["value"] = presentation.round_to_indicator(frame["value"], frame["indicator_id"])
    frame["indicator_id"] = frame["indicator_id"].map(presentation.indicator_column_label)
    return frame.drop(columns=["is_district"])


def named_shapes(shapes: pd.DataFrame, communities: pd.DataFrame) -> pd.DataFrame:
    """Community shapes (facility_view.community_shapes) with each community's
    name from `communities` (communities_in_scope of the same filter)."""
    return shapes.merge(communities[["community_id", "community_name"]], on="community_id",
                        how="left")


def incident_map(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    cell_m: float,
    mean_lat: float | None,
    categories: tuple[str, ...] = (),
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
    shapes: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(community shapes with names, incident cells) for `maps.incident_deck`.
    When the page reads imported aggregates, the cells are the run's: only for
    its whole scope and range at the default cell size and every category
    (`map_from_run`); otherwise none. `shapes`: named_shapes of the same filter
    when the caller holds them."""
    # One parameter lookup for the queries (each lookup is two queries).
    params = query_params(conn, period, view_filter, scope=scope)
    if shapes is None:
        shapes = named_shapes(boundaries.shapes_frame(boundaries.community_shapes(conn, params)),
                              db.run_query(conn, "communities_in_scope", params).to_pandas())
    run = aggregates.imported_run(conn)
    summary = safety.incident_summary(conn, view_filter, scope, params) if run is not None else {}
    if run is not None and choose_source(
            summary["incidents"], safety.data_as_of(summary), run) == AGGREGATES:
        source, _ = aggregate_source(conn, period, view_filter, scope, run)
        if map_from_run(source, cell_m, categories):
            return shapes, aggregates.imported_map_cells(conn).to_pandas()
        return shapes, safety.incident_cells(
            conn, period, cell_m, mean_lat, categories, view_filter, scope, params).iloc[0:0]
    cells = safety.incident_cells(conn, period, cell_m, mean_lat, categories, view_filter, scope,
                                  params)
    return shapes, cells


def map_from_run(source: IncidentSource, cell_m: float, categories: tuple[str, ...]) -> bool:
    """Whether the imported run's map cells are the map asked for."""
    return source.whole_run and cell_m == safety.DEFAULT_CELL_M and not categories
