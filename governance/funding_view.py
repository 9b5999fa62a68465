"""What the 经费保障 page shows, computed in one call per set of inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from governance import funding, indicators, presentation
from governance.catalogue import Standards, load_catalogue
from governance.contract import COMMUNITY_TYPE, FUNDING_CATEGORY, FUNDING_SOURCE
from governance.facility_view import coverage_column_label
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.scenarios import BASELINE, Scenario
from governance.text import has_text, t

FUNDING_INDICATORS = ("M01", "M02", "M03", "M04", "M05", "M06", "M07")


@dataclass(frozen=True)
class FundingRequest:
    """Hashable: results are cached per request and data version."""

    period: Period
    on_time_days: int = int(load_catalogue().setting("on_time_days").value)
    local_wage_yuan: float = float(load_catalogue().setting("local_avg_monthly_wage_yuan").value)
    allowance_level_yuan: int = funding.DEFAULT_ALLOWANCE_LEVEL_YUAN
    base_yuan: float = 25_000.0
    per_household_yuan: float = 0.0
    per_elderly_yuan: float = 0.0
    per_low_income_yuan: float = 0.0
    # The formula is compared with this year's funds of one category.
    formula_category: str = "office"
    # The thresholds and settings the page's own inputs start from.
    scenario: Scenario = BASELINE

    @property
    def standards(self) -> Standards:
        return self.scenario.standards().with_overrides(
            settings={
                "on_time_days": self.on_time_days,
                "local_avg_monthly_wage_yuan": self.local_wage_yuan,
            }
        )


@dataclass
class FundingView:
    standards_matrix: pd.DataFrame
    by_street_category: pd.DataFrame
    by_source: pd.DataFrame
    per_household: pd.DataFrame
    spread: dict
    lines: pd.DataFrame
    delays: pd.Series
    problem_lines: pd.DataFrame
    allowance: pd.DataFrame
    allocation: pd.DataFrame
    formula: pd.Series
    public_welfare: pd.DataFrame
    # The per-community rows the rest is computed from, kept so a street or
    # type filter can narrow them (funding_view_within) instead of querying again.
    categories: pd.DataFrame
    inputs: pd.DataFrame


def _spread(per_household: pd.Series) -> dict:
    values = per_household.dropna()
    if values.empty:
        return {"min": None, "median": None, "max": None, "ratio": None}
    low, high = float(values.min()), float(values.max())
    return {
        "min": low, "median": float(values.median()), "max": high,
        "ratio": high / low if low > 0 else None,
    }


def funding_view(
    conn: duckdb.DuckDBPyConnection,
    request: FundingRequest,
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
    as_of: date | None = None,
) -> FundingView:
    standards = request.standards
    period = request.period
    return _assembled(
        request,
        matrix=indicators.dimension_matrix(
            conn, period, FUNDING_INDICATORS, view_filter, standards, scope),
        categories=funding.category_source(conn, period, view_filter, standards, scope),
        this_year=_this_year(funding.community_years(conn, view_filter, standards, scope),
                             period),
        lines=funding.disbursement_lines(conn, period, view_filter, standards, scope,
                                         as_of=as_of),
        inputs=funding.formula_inputs(conn, view_filter, standards, scope),
        public_welfare=funding.district_public_welfare(conn, view_filter, standards, scope),
    )


def funding_view_within(
    conn: duckdb.DuckDBPyConnection,
    whole: FundingView,
    community_ids: pd.Series,
    request: FundingRequest,
    view_filter: ViewFilter,
    scope: Scope = ALL_STREETS,
) -> FundingView:
    """`whole` (funding_view of the scope, same request and day) narrowed to the
    filter's communities: what funding_view(conn, request, view_filter, scope)
    returns. Every row underneath is one community's (or one of its lines),
    so the totals, the formula and the allowance bill are recomputed from the
    narrowed rows; the 公益创投 table, one per district, is the filter's own query."""
    chosen = set(community_ids)

    def narrowed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["community_id"].isin(chosen)].reset_index(drop=True)

    return _assembled(
        request,
        matrix=narrowed(whole.standards_matrix),
        categories=narrowed(whole.categories),
        this_year=narrowed(whole.per_household),
        lines=narrowed(whole.lines),
        inputs=narrowed(whole.inputs),
        public_welfare=funding.district_public_welfare(
            conn, view_filter, request.standards, scope),
    )


def _this_year(years: pd.DataFrame, period: Period) -> pd.DataFrame:
    return years[years["year"] == period.year].reset_index(drop=True)


def _assembled(
    request: FundingRequest, *, matrix: pd.DataFrame, categories: pd.DataFrame,
    this_year: pd.DataFrame, lines: pd.DataFrame, inputs: pd.DataFrame,
    public_welfare: pd.DataFrame,
) -> FundingView:
    by_street_category = (
        categories.groupby(["street", "category"], as_index=False)["amount_yuan"].sum()
    )
    by_source = categories.groupby("source", as_index=False)["amount_yuan"].sum()
    problem_lines = lines[lines["status"].isin(["late", "not_disbursed"])]
    current = (
        categories[categories["category"] == request.formula_category]
        .groupby("community_id", as_index=False)["amount_yuan"].sum()
        .rename(columns={"amount_yuan": "current_yuan"})
    )
    allocation = funding.formula_allocation(
        inputs, request.base_yuan, request.per_household_yuan,
        request.per_elderly_yuan, request.per_low_income_yuan, current=current,
    )
    current_budget = float(current["current_yuan"].sum())
    return FundingView(
        standards_matrix=matrix,
        by_street_category=by_street_category,
        by_source=by_source,
        per_household=this_year,
        spread=_spread(this_year["per_household_yuan"]),
        lines=lines,
        delays=funding.delay_summary(lines),
        problem_lines=problem_lines.sort_values(
            ["status", "days_outstanding", "delay_days"], ascending=[True, False, False]
        ),
        allowance=funding.allowance_bill(
            inputs, default_level_yuan=request.allowance_level_yuan
        ),
        allocation=allocation,
        formula=funding.formula_summary(allocation, current_budget),
        public_welfare=public_welfare,
        categories=categories,
        inputs=inputs,
    )


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes shown as words: community types, categories, sources, disbursement statuses."""
    return presentation.with_labels(frame, {
        "community_type": COMMUNITY_TYPE.label_of,
        "category": FUNDING_CATEGORY.label_of,
        "source": FUNDING_SOURCE.label_of,
        "status": lambda s: t(f"funding.status.{s}"),
    })


def column_label(name: str) -> str:
    key = f"funding.column.{name}"
    return t(key) if has_text(key) else coverage_column_label(name)


def formula_column_label(name: str) -> str:
    """The formula table's headers: its change_yuan is formula − current, not
    a change on last year (which column_label's 同比增减 names)."""
    return t("funding.column.formula_change_yuan") if name == "change_yuan" else column_label(name)


def export_sheets(view: FundingView) -> dict[str, pd.DataFrame]:
    """The page's tables with Chinese headers, one sheet each."""

    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        return for_display(frame).rename(columns=column_label)

    return {
        t("funding.sheet.standards"): presentation.matrix_for_export(
            presentation.with_type_labels(view.standards_matrix)
        ),
        t("funding.sheet.formula"): for_display(view.allocation).rename(
            columns=formula_column_label),
        t("funding.sheet.per_household"): shown(view.per_household),
        t("funding.sheet.lines"): shown(view.lines),
        t("funding.sheet.allowance"): shown(view.allowance),
        t("funding.sheet.public_welfare"): shown(view.public_welfare),
    }


def count_text(value) -> str:
    """A count for a metric; "—" when there is nothing to compare (NA)."""
    return "—" if value is None or pd.isna(value) else str(int(value))
