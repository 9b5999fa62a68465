"""governance/funding.py: formula allocation, summaries, delays, allowance bill."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance import funding
from governance.indicators import Period, ViewFilter
from tests.conftest import load_fixture_sql


def _communities(**columns):
    return pd.DataFrame(columns)


# ---------------------------------------------------------------------------
# formula_allocation


def test_formula_by_hand():
    communities = _communities(
        community_id=["A", "B", "C"],
        households=[1000, 1600, 0],
        elderly_population=[200, None, 10],
        low_income_households=[5, 0, 1],
    )
    current = pd.DataFrame({"community_id": ["A", "C"], "current_yuan": [40000.0, 25000.49]})
    out = funding.formula_allocation(
        communities, base_yuan=25000, per_household_yuan=10.25, per_elderly_yuan=2.5,
        per_low_income_yuan=100, current=current,
    )
    # A: 25,000 + 10.25×1,000 + 2.5×200 + 100×5 = 25,000 + 10,250 + 500 + 500 = 36,250
    # B: 25,000 + 10.25×1,600 + elderly missing (0) + 0 = 25,000 + 16,400 = 41,400
    # C: 25,000 + 0 + 2.5×10 + 100×1 = 25,125
    assert out["formula_yuan"].tolist() == [36250, 41400, 25125]
    # current: A 40,000; B absent → 0; C 25,000.49 → 25,000
    assert out["current_yuan"].tolist() == [40000, 0, 25000]
    assert out["has_current"].tolist() == [True, False, True]
    assert out["change_yuan"].tolist() == [-3750, 41400, 125]
    assert out["gains"].tolist() == [False, True, True]
    assert out["missing_inputs"].tolist() == ["", "elderly_population", ""]
    assert out["has_missing_inputs"].tolist() == [False, True, False]
    assert out["elderly_population"].tolist() == [200, 0, 10]


def test_formula_rounds_half_up_to_the_yuan():
    communities = _communities(community_id=["A", "B", "C"], households=[1, 3, 5])
    out = funding.formula_allocation(communities, base_yuan=0, per_household_yuan=0.5)
    # 0.5 → 1, 1.5 → 2, 2.5 → 3 (half-up, not banker's rounding)
    assert out["formula_yuan"].tolist() == [1, 2, 3]
    out = funding.formula_allocation(communities, base_yuan=0.1, per_household_yuan=0.1)
    # 0.1 + 0.1 = 0.2 → 0; 0.1 + 0.3 = 0.4 → 0; 0.1 + 0.5 = 0.6 → 1 (exact decimals)
    assert out["formula_yuan"].tolist() == [0, 0, 1]


def test_missing_count_with_zero_rate_is_not_flagged_and_absent_column_is():
    communities = _communities(community_id=["A"], households=[100])
    out = funding.formula_allocation(communities, 0, 1)
    assert out["missing_inputs"].tolist() == [""]
    out = funding.formula_allocation(communities, 0, 1, per_low_income_yuan=50)
    assert out["missing_inputs"].tolist() == ["low_income_households"]
    assert out["formula_yuan"].tolist() == [100]


def test_formula_without_current_has_no_comparison():
    out = funding.formula_allocation(_communities(community_id=["A"], households=[10]), 100, 1)
    assert out["current_yuan"].isna().all() and out["change_yuan"].isna().all()
    assert out["gains"].isna().all()
    summary = funding.formula_summary(out, 200)
    assert summary["formula_total_yuan"] == 110
    assert summary["budget_difference_yuan"] == -90
    assert summary["gainers"] is pd.NA and summary["current_total_yuan"] is pd.NA


def test_formula_refuses_duplicate_communities():
    with pytest.raises(ValueError, match="duplicate"):
        funding.formula_allocation(_communities(community_id=["A", "A"], households=[1, 2]), 0, 1)


def test_formula_current_sums_several_rows_per_community():
    current = pd.DataFrame({"community_id": ["A", "A"], "total_yuan": [0.5, 0.25]})
    out = funding.formula_allocation(
        _communities(community_id=["A"], households=[0]), 0, 1, current=current
    )
    # 0.5 + 0.25 = 0.75 → 1 (summed before rounding)
    assert out["current_yuan"].tolist() == [1]


@settings(max_examples=200, deadline=None)
@given(
    households=st.lists(st.one_of(st.none(), st.integers(0, 20000)), min_size=1, max_size=40),
    base=st.decimals(0, 100000, places=2),
    rate=st.decimals(0, 100, places=2),
)
def test_district_total_reconciles_to_the_yuan(households, base, rate):
    communities = _communities(
        community_id=[f"C{i:02d}" for i in range(len(households))], households=households
    )
    out = funding.formula_allocation(communities, float(base), float(rate))
    summary = funding.formula_summary(out, 0)
    # Each row is the exact decimal formula rounded half-up...
    expected = [
        int((base + rate * (h or 0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for h in households
    ]
    assert out["formula_yuan"].tolist() == expected
    # ...and the district total is exactly the sum of the rows, an integer.
    assert summary["formula_total_yuan"] == sum(expected)
    assert isinstance(summary["formula_total_yuan"], int)
    assert out["has_missing_inputs"].tolist() == [h is None and rate != 0 for h in households]


# ---------------------------------------------------------------------------
# formula_summary


def test_summary_gainers_losers_unchanged():
    communities = _communities(community_id=["A", "B", "C", "D"], households=[100, 200, 300, None])
    current = pd.DataFrame({"community_id": ["A", "B", "C"], "current_yuan": [2000, 2000, 2000]})
    out = funding.formula_allocation(communities, 1000, 10, current=current)
    # formula: A 2,000 (=), B 3,000 (+1,000), C 4,000 (+2,000), D 1,000 (+1,000, no lines)
    assert out["change_yuan"].tolist() == [0, 1000, 2000, 1000]
    summary = funding.formula_summary(out, current_budget_yuan=6000)
    assert summary["communities"] == 4
    assert summary["formula_total_yuan"] == 10000  # 2,000 + 3,000 + 4,000 + 1,000
    assert summary["current_total_yuan"] == 6000
    assert summary["budget_difference_yuan"] == 4000
    assert (summary["gainers"], summary["losers"], summary["unchanged"]) == (3, 0, 1)
    assert summary["communities_with_missing_inputs"] == 1

    out = funding.formula_allocation(communities, 0, 1, current=current)
    # formula 100, 200, 300, 0 against 2,000 / 2,000 / 2,000 / 0
    summary = funding.formula_summary(out, 6000)
    assert (summary["gainers"], summary["losers"], summary["unchanged"]) == (0, 3, 1)


# ---------------------------------------------------------------------------
# delay_summary


def _delay_lines(rows):
    return pd.DataFrame(
        rows, columns=["status", "delay_days", "amount_yuan", "days_outstanding"]
    )


def test_delay_summary_by_hand():
    lines = _delay_lines(
        [
            ("on_time", 5, 100.0, None),
            ("on_time", 10, 100.0, None),
            ("on_time", 30, 100.0, None),
            ("late", 31, 100.0, None),
            ("late", 100, 100.0, None),
            ("not_disbursed", None, 60000.0, 213),
            ("not_disbursed", None, 1500.5, 20),
            ("undated", None, 35000.0, None),
        ]
    )
    s = funding.delay_summary(lines)
    assert s["lines"] == 8
    assert (s["on_time"], s["late"], s["not_disbursed"], s["undated"]) == (3, 2, 2, 1)
    assert s["on_time_pct"] == pytest.approx(60.0)  # 3 / (3 + 2)
    assert s["median_delay_days"] == 30.0  # 5, 10, 30, 31, 100
    # p90 (linear): position 0.9 × 4 = 3.6 → 31 + 0.6 × (100 − 31) = 72.4
    assert s["p90_delay_days"] == pytest.approx(72.4)
    assert s["outstanding_yuan"] == pytest.approx(61500.5)
    assert s["max_days_outstanding"] == 213


def test_delay_summary_empty_and_undated_only():
    s = funding.delay_summary(_delay_lines([]))
    assert s["lines"] == 0 and s["on_time"] == 0 and s["outstanding_yuan"] == 0.0
    assert s["on_time_pct"] is pd.NA and s["median_delay_days"] is pd.NA
    assert s["max_days_outstanding"] is pd.NA
    s = funding.delay_summary(_delay_lines([("undated", None, 1.0, None)]))
    assert s["undated"] == 1 and s["on_time_pct"] is pd.NA and s["p90_delay_days"] is pd.NA


def test_delay_summary_refuses_unknown_status():
    with pytest.raises(ValueError, match="status"):
        funding.delay_summary(_delay_lines([("lost", None, 1.0, None)]))


# ---------------------------------------------------------------------------
# allowance_bill


def test_allowance_bill_default_level():
    communities = _communities(community_id=["A", "B", "C"], certified_social_workers=[3, 0, None])
    out = funding.allowance_bill(communities)
    # A: 3 × 200 = 600 元/月, × 12 = 7,200 元/年; range 3 × 100 .. 3 × 300
    assert out["monthly_yuan"].tolist() == [600.0, 0.0, 0.0]
    assert out["annual_yuan"].tolist() == [7200.0, 0.0, 0.0]
    assert out["monthly_min_yuan"].tolist() == [300.0, 0.0, 0.0]
    assert out["monthly_max_yuan"].tolist() == [900.0, 0.0, 0.0]
    assert out["has_missing_count"].tolist() == [False, False, True]
    assert (out["level_yuan_assumed"] == 200).all()


def test_allowance_bill_other_level_and_bounds():
    communities = _communities(community_id=["A"], certified_social_workers=[2])
    out = funding.allowance_bill(communities, default_level_yuan=300)
    assert out["annual_yuan"].tolist() == [7200.0]  # 2 × 300 × 12
    with pytest.raises(ValueError, match="outside"):
        funding.allowance_bill(communities, default_level_yuan=500)


# ---------------------------------------------------------------------------
# Wrappers on the small fixture (parameters come from indicators.query_params)


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    return memory_conn


def test_wrappers_run_with_shared_params(conn):
    period = Period(year=2024)
    assert len(funding.category_source(conn, period)) == 10
    years = funding.community_years(conn)
    assert len(years) == 6
    current = funding.current_totals(years, 2024)
    assert dict(zip(current["community_id"], current["current_yuan"], strict=True)) == {
        "C01": 200000.0, "C02": 80000.0, "C04": 0.0, "C05": 200000.0,
    }
    lines = funding.disbursement_lines(conn, period, as_of=date(2024, 12, 31))
    summary = funding.delay_summary(lines)
    # on_time: C01 office (30), C01 activity (10), C02 office (5); late: C01 party (31)
    assert (summary["on_time"], summary["late"], summary["not_disbursed"], summary["undated"]) == (
        3, 1, 1, 5,
    )
    assert summary["outstanding_yuan"] == 60000.0 and summary["max_days_outstanding"] == 213
    welfare = funding.district_public_welfare(conn)
    assert welfare["public_welfare_yuan"].tolist() == [0.0, 35000.0]
    assert welfare["budget_yuan"].tolist() == [1_000_000.0, 1_000_000.0]

    inputs = funding.formula_inputs(conn, ViewFilter(streets=("东湖街道",)))
    allocation = funding.formula_allocation(inputs, 25000, 10, current=current)
    # C01, C02: 25,000 + 10 × 1,600 = 41,000 each; current 200,000 and 80,000
    assert allocation["formula_yuan"].tolist() == [41000, 41000]
    assert allocation["change_yuan"].tolist() == [-159000, -39000]
    bill = funding.allowance_bill(inputs)
    assert bill["monthly_yuan"].sum() == 600.0  # C01's 3 certified × 200


def test_wrappers_respect_scope(conn):
    lines = funding.disbursement_lines(conn, Period(year=2024), scope=("西山镇",))
    assert set(lines["community_id"]) == {"C04", "C05"}
    assert funding.category_source(conn, Period(year=2024), scope=()).empty


def test_count_text_shows_a_dash_for_no_comparison():
    import pandas as pd

    from governance import funding_view

    assert funding_view.count_text(pd.NA) == "—" and funding_view.count_text(3) == "3"
