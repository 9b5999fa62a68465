"""What the 平安建设 page shows, computed in one call per filter and data version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from governance import facility_view, indicators, presentation, safety
from governance.catalogue import Standards
from governance.contract import INCIDENT_CATEGORY, INCIDENT_SEVERITY, INCIDENT_STATUS, SAFETY
from governance.facility_view import coverage_column_label
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.text import has_text, t


@dataclass
class IncidentView:
    summary: dict
    as_of: datetime
    counts: pd.DataFrame
    resolution: pd.DataFrame
    open_cases: pd.DataFrame
    differences: pd.DataFrame
    reconciliation: dict

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
    return SafetyView(
        standards_matrix=safety.flag_first(matrix),
        red_flags=safety.red_flags(conn, period, view_filter, scope),
        monthly=safety.monthly_indicators(conn, period, view_filter, scope),
        incidents=incident_view(conn, period, view_filter, scope),
    )


def incident_view(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
) -> IncidentView | None:
    """The grid-event part of the page; None when no visible incident exists."""
    summary = safety.incident_summary(conn, view_filter, scope)
    if not summary["incidents"]:
        return None
    as_of = safety.as_of_for(period, summary)
    differences = safety.reconciliation(conn, period, view_filter, scope)
    return IncidentView(
        summary=summary,
        as_of=as_of,
        counts=safety.incident_counts(conn, period, view_filter, scope),
        resolution=safety.resolution_by_category(conn, period, as_of, view_filter, scope),
        open_cases=safety.open_incidents(conn, period, as_of, view_filter, scope),
        differences=differences,
        reconciliation=safety.reconciliation_summary(differences),
    )


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


def incident_map(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    cell_m: float,
    mean_lat: float | None,
    categories: tuple[str, ...] = (),
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(community shapes with names, incident cells) for `maps.incident_deck`."""
    shapes = facility_view.community_shapes(conn, view_filter, scope)
    names = indicators.communities_in_scope(conn, view_filter, scope).to_pandas()
    shapes = shapes.merge(names[["community_id", "community_name"]], on="community_id",
                          how="left")
    cells = safety.incident_cells(conn, period, cell_m, mean_lat, categories, view_filter, scope)
    return shapes, cells
