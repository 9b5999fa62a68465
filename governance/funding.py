"""The funding page's data engine (经费保障): query wrappers and pure what-if maths.

Query wrappers run `queries/funding_*.sql` and `queries/district_public_welfare.sql`
with the one shared parameter dict from `indicators.query_params`, and return
pandas frames. Everything else is pure (pandas in, pandas out, no database, no
Streamlit):

* `formula_allocation` / `formula_summary` — 001's "结合社区规模、所辖居民户数,
  建立办公经费标准增长机制" as a what-if: base + per-household (+ per-elderly,
  + per-low-income) yuan, rounded to the yuan per community. The district total is
  *defined* as the sum of the rounded community rows, so the two always reconcile
  to the yuan (no rounding drift between a table and its total row).
* `delay_summary` — 001's "资金的拨付较为滞后" in numbers.
* `allowance_bill` — 000's 社会工作师 professional allowance (100/200/300 元/月)
  implied by certified_social_workers. The data has no certificate level, so every
  certified worker is costed at `default_level_yuan` (200 元/月 unless told
  otherwise), with an all-lowest / all-highest range beside it.

Rounding is half-up to the yuan, done with `decimal.Decimal` on the decimal text of
each input so that 0.5 yuan always rounds up, whatever binary floats would say.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from governance import db
from governance.catalogue import Standards, load_catalogue
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter, query_params

# Seed 000: 分别给予100元/月、200元/月、300元/月的专业技术津贴 (paid by 市财政).
# The seed lists three amounts by 社会工作师职称 level without naming the levels;
# the keys are therefore neutral (lowest → highest).
SOCIAL_WORKER_ALLOWANCE_BY_LEVEL: Mapping[str, int] = {
    "level_1": 100,
    "level_2": 200,
    "level_3": 300,
}

# Assumed allowance per certified worker per month (the data has no level):
# the catalogue setting, which scenarios may change.
DEFAULT_ALLOWANCE_LEVEL_YUAN = int(
    load_catalogue().setting("social_worker_allowance_level_yuan").value)

NO_FILTER = ViewFilter()
"""The default view: everything in scope."""

DELAY_STATUSES = ("on_time", "late", "not_disbursed", "undated")

FORMULA_INPUTS = {
    "households": "per_household_yuan",
    "elderly_population": "per_elderly_yuan",
    "low_income_households": "per_low_income_yuan",
}

_ONE_YUAN = Decimal(1)


# ---------------------------------------------------------------------------
# Query wrappers


def _frame(conn: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any]) -> pd.DataFrame:
    return db.run_query(conn, name, params).to_pandas()


def category_source(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """queries/funding_by_category_source.sql for period.year."""
    params = query_params(conn, period, view_filter, standards, scope)
    return _frame(conn, "funding_by_category_source", params)


def community_years(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """queries/funding_by_community_year.sql (every year; no period needed)."""
    params = query_params(conn, Period(), view_filter, standards, scope)
    return _frame(conn, "funding_by_community_year", params)


def disbursement_lines(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
    as_of: date | None = None,
) -> pd.DataFrame:
    """queries/funding_disbursement_lines.sql; `as_of` (default today) dates
    days_outstanding; $on_time_days comes from the standards' settings."""
    params = query_params(conn, period, view_filter, standards, scope)
    params["as_of_date"] = as_of or date.today()
    return _frame(conn, "funding_disbursement_lines", params)


def district_public_welfare(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
    budget_yuan: float | None = None,
) -> pd.DataFrame:
    """queries/district_public_welfare.sql: one row per year vs the 公益创投 budget
    (seed 000's 100万元/年 unless the standards' setting or `budget_yuan` says otherwise)."""
    params = query_params(conn, Period(), view_filter, standards, scope)
    if budget_yuan is not None:
        params["public_welfare_budget_yuan"] = float(budget_yuan)
    return _frame(conn, "district_public_welfare", params)


def formula_inputs(
    conn: duckdb.DuckDBPyConnection,
    view_filter: ViewFilter = NO_FILTER,
    standards: Standards | None = None,
    scope: Scope = ALL_STREETS,
) -> pd.DataFrame:
    """The visible communities (queries/communities_in_scope.sql), the input of
    `formula_allocation` and `allowance_bill`."""
    params = query_params(conn, Period(), view_filter, standards, scope)
    return _frame(conn, "communities_in_scope", params)


def current_totals(community_years_frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """community_id, current_yuan for one year from `community_years` (the
    `current` argument of `formula_allocation`)."""
    rows = community_years_frame[community_years_frame["year"] == year]
    return rows[["community_id", "total_yuan"]].rename(columns={"total_yuan": "current_yuan"})


# ---------------------------------------------------------------------------
# Pure maths


def _decimal(value: Any) -> Decimal:
    """A finite number as an exact Decimal of its shortest decimal text."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _round_yuan(value: Decimal) -> int:
    return int(value.quantize(_ONE_YUAN, rounding=ROUND_HALF_UP))


def _counts(communities: pd.DataFrame, column: str) -> pd.Series:
    """A count column as nullable numbers (absent column = all missing)."""
    if column not in communities.columns:
        return pd.Series(pd.NA, index=communities.index, dtype="Float64")
    return pd.to_numeric(communities[column], errors="coerce").astype("Float64")


def formula_allocation(
    communities: pd.DataFrame,
    base_yuan: float,
    per_household_yuan: float,
    per_elderly_yuan: float = 0,
    per_low_income_yuan: float = 0,
    current: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What each community would get under a size-linked formula.

    formula_yuan = round_half_up(base + per_household × households
                                 + per_elderly × elderly_population
                                 + per_low_income × low_income_households)

    One row per input community, in input order. Columns: community_id (plus
    community_name/street when given), households, elderly_population,
    low_income_households (as used: missing → 0), formula_yuan (int),
    current_yuan (int yuan, half-up; Int64), change_yuan (= formula − current;
    Int64), gains (change > 0; boolean), has_current, missing_inputs (comma-joined
    names of counts that were missing and counted as 0; only counts with a
    non-zero rate are checked), has_missing_inputs.

    `current`: community_id plus current_yuan (or total_yuan). A community absent
    from it had no funding lines: current_yuan 0, has_current False. With
    current=None, current_yuan, change_yuan and gains are all NA.
    """
    if "community_id" not in communities.columns:
        raise ValueError("communities needs a community_id column")
    if communities["community_id"].duplicated().any():
        raise ValueError("communities has duplicate community_id values")
    rates = {
        "households": _decimal(per_household_yuan),
        "elderly_population": _decimal(per_elderly_yuan),
        "low_income_households": _decimal(per_low_income_yuan),
    }
    base = _decimal(base_yuan)

    keep = [c for c in ("community_id", "community_name", "street") if c in communities.columns]
    out = communities[keep].copy()
    missing: list[list[str]] = [[] for _ in range(len(communities))]
    totals = [base] * len(communities)
    for column, rate in rates.items():
        values = _counts(communities, column)
        used = []
        for i, value in enumerate(values):
            if pd.isna(value):
                if rate != 0:
                    missing[i].append(column)
                used.append(0)
                continue
            count = _decimal(value)
            used.append(int(count) if count == count.to_integral_value() else float(count))
            totals[i] += rate * count
        out[column] = used
    out["formula_yuan"] = np.array([_round_yuan(v) for v in totals], dtype="int64")

    if current is None:
        out["current_yuan"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["has_current"] = pd.array([pd.NA] * len(out), dtype="boolean")
    else:
        column = "current_yuan" if "current_yuan" in current.columns else "total_yuan"
        amounts: dict[Any, Decimal] = {}
        for community_id, amount in zip(current["community_id"], current[column], strict=True):
            if pd.isna(amount):
                continue
            amounts[community_id] = amounts.get(community_id, Decimal(0)) + _decimal(amount)
        out["current_yuan"] = pd.array(
            [_round_yuan(amounts.get(cid, Decimal(0))) for cid in out["community_id"]],
            dtype="Int64",
        )
        out["has_current"] = pd.array(
            [cid in amounts for cid in out["community_id"]], dtype="boolean"
        )
    out["change_yuan"] = (out["formula_yuan"].astype("Int64") - out["current_yuan"]).astype(
        "Int64"
    )
    out["gains"] = (out["change_yuan"] > 0).astype("boolean")
    out["missing_inputs"] = [",".join(m) for m in missing]
    out["has_missing_inputs"] = [bool(m) for m in missing]
    return out.reset_index(drop=True)


def formula_summary(allocation: pd.DataFrame, current_budget_yuan: float) -> pd.Series:
    """District figures for a `formula_allocation` result.

    formula_total_yuan is the exact sum of the community rows (int);
    budget_difference_yuan = formula_total − current_budget (positive: the formula
    needs more money than budgeted). gainers / losers / unchanged count
    change_yuan > 0 / < 0 / = 0 (NA when there is no current funding to compare);
    current_total_yuan is the sum of current_yuan (NA when current was not given).
    """
    formula_total = int(sum(int(v) for v in allocation["formula_yuan"]))
    budget = _round_yuan(_decimal(current_budget_yuan))
    change = allocation["change_yuan"]
    compared = change.notna().any() if len(allocation) else False
    current_total: Any = (
        int(allocation["current_yuan"].dropna().astype("int64").sum()) if compared else pd.NA
    )
    return pd.Series(
        {
            "communities": len(allocation),
            "formula_total_yuan": formula_total,
            "current_budget_yuan": budget,
            "budget_difference_yuan": formula_total - budget,
            "current_total_yuan": current_total,
            "gainers": int((change > 0).sum()) if compared else pd.NA,
            "losers": int((change < 0).sum()) if compared else pd.NA,
            "unchanged": int((change == 0).sum()) if compared else pd.NA,
            "communities_with_missing_inputs": int(allocation["has_missing_inputs"].sum()),
        },
        dtype="object",
    )


def delay_summary(lines: pd.DataFrame) -> pd.Series:
    """Disbursement timing for a `disbursement_lines` frame.

    Counts per status (every status present, 0 when none); on_time_pct = on_time /
    (on_time + late) × 100, as M05 (NA when no line has both dates); median and
    p90 of delay_days over lines with both dates (p90 by linear interpolation,
    numpy's default); outstanding_yuan = Σ amount_yuan of not_disbursed lines;
    max_days_outstanding over those lines (NA when none).
    """
    status = lines["status"] if len(lines) else pd.Series([], dtype="object")
    counts = {s: int((status == s).sum()) for s in DELAY_STATUSES}
    unknown = set(status.dropna()) - set(DELAY_STATUSES)
    if unknown:
        raise ValueError(f"unknown disbursement status: {sorted(unknown)}")
    dated = counts["on_time"] + counts["late"]
    delays = pd.to_numeric(lines.get("delay_days", pd.Series(dtype="float64")), errors="coerce")
    delays = delays.dropna().to_numpy(dtype="float64")
    outstanding = lines[status == "not_disbursed"] if len(lines) else lines
    outstanding_days = (
        pd.to_numeric(outstanding["days_outstanding"], errors="coerce").dropna()
        if len(outstanding)
        else pd.Series(dtype="float64")
    )
    return pd.Series(
        {
            "lines": len(lines),
            **counts,
            "on_time_pct": counts["on_time"] * 100 / dated if dated else pd.NA,
            "median_delay_days": float(np.median(delays)) if delays.size else pd.NA,
            "p90_delay_days": float(np.percentile(delays, 90)) if delays.size else pd.NA,
            "outstanding_yuan": float(
                pd.to_numeric(outstanding["amount_yuan"], errors="coerce").sum()
            )
            if len(outstanding)
            else 0.0,
            "max_days_outstanding": int(outstanding_days.max())
            if len(outstanding_days)
            else pd.NA,
        },
        dtype="object",
    )


def allowance_bill(
    communities: pd.DataFrame,
    allowance_by_level: Mapping[str, float] = SOCIAL_WORKER_ALLOWANCE_BY_LEVEL,
    default_level_yuan: float = DEFAULT_ALLOWANCE_LEVEL_YUAN,
) -> pd.DataFrame:
    """The 社会工作师 allowance bill implied by certified_social_workers.

    The data records how many staff are certified, not at which level, so every
    certified worker is costed at `default_level_yuan` per month (an assumption the
    page must state; by default 200 元/月, the middle of 000's 100/200/300).
    Beside it, the range if all were at the lowest / highest level.

    One row per community (input order) plus nothing else: community_id (plus
    community_name/street when given), certified_social_workers (missing → 0,
    flagged in has_missing_count), monthly_yuan, annual_yuan (× 12),
    monthly_min_yuan, monthly_max_yuan, level_yuan_assumed. Sum the columns for
    the district bill.
    """
    if not allowance_by_level:
        raise ValueError("allowance_by_level is empty")
    levels = sorted(_decimal(v) for v in allowance_by_level.values())
    assumed = _decimal(default_level_yuan)
    if assumed < levels[0] or assumed > levels[-1]:
        raise ValueError(
            f"default_level_yuan {default_level_yuan} is outside the levels "
            f"{levels[0]}–{levels[-1]}"
        )
    keep = [c for c in ("community_id", "community_name", "street") if c in communities.columns]
    out = communities[keep].copy()
    counts = _counts(communities, "certified_social_workers")
    out["has_missing_count"] = counts.isna().to_numpy(dtype=bool)
    workers = counts.fillna(0).astype("float64").to_numpy().astype("int64")
    out["certified_social_workers"] = workers
    out["level_yuan_assumed"] = float(assumed)
    out["monthly_yuan"] = workers * float(assumed)
    out["annual_yuan"] = out["monthly_yuan"] * 12
    out["monthly_min_yuan"] = workers * float(levels[0])
    out["monthly_max_yuan"] = workers * float(levels[-1])
    return out.reset_index(drop=True)
