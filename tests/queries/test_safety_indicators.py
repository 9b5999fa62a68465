"""queries/community_safety_indicators.sql against tests/fixtures/indicators_small.sql.

The formula tests rate every community whatever its months reported
(min_reported_months_pct = 0), so each formula is checked on partial months
too; the reporting-completeness tests at the end use the policy default (100 %:
every month of the range)."""

from __future__ import annotations

from datetime import date

import pytest

from governance import db
from governance.catalogue import Standards
from tests.queries.helpers import check, params, rows_by_key

QUERY = "community_safety_indicators"


def run(conn, bound):
    return rows_by_key(conn, QUERY, bound)


def formula_params(standards: Standards | None = None, **overrides):
    """params() with every community rated however few months it reported."""
    standards = (standards or Standards.default()).with_overrides(
        settings={"min_reported_months_pct": 0.0})
    return params(standards, **overrides)


NO_REPORT = ["C04", "C05"]  # C04: reports only before the range; C05: a report with no measure

EXPECTED = [
    # Range 2024-01 .. 2024-03. C01's 2023-12 and 2024-04 rows must be ignored.
    # S01 = Σ mediated / Σ received × 100 over months with both; floor 98
    ("C01", "S01", 98.0, 98, None, "met"),  # (20 + 29 + 49) / (20 + 30 + 50) = 98 / 100
    ("C02", "S01", 90.0, 98, None, "not_met"),  # 9 / 10 (Feb has no received → skipped)
    ("C03", "S01", None, 98, None, "no_data"),  # 0 / 0
    # S02 = Σ resolved / Σ mediated × 100 over months with both; floor 90
    ("C01", "S02", 90 / 98 * 100, 90, None, "met"),  # (18 + 27 + 45) / 98 = 91.84
    ("C02", "S02", 12 / 14 * 100, 90, None, "not_met"),  # (7 + 5) / (9 + 5) = 85.71
    ("C03", "S02", None, 90, None, "no_data"),  # 0 / 0
    # S03 = Σ reoffenders / mean(correction_subjects) × 100; below 2
    ("C01", "S03", 2.0, None, 2, "not_met"),  # (1 + 0 + 0) / 50 × 100 = 2.0, not < 2
    ("C02", "S03", None, None, 2, "no_data"),  # reoffenders never reported
    ("C03", "S03", None, None, 2, "no_data"),  # mean correction_subjects 0
    # S04 = Σ major_criminal_cases; at most 0
    ("C01", "S04", 0.0, None, 0, "met"),  # 0 + 0 + 0 (Dec's 5 and Apr's 9 outside)
    ("C02", "S04", 1.0, None, 0, "not_met"),  # 1 + 0
    ("C03", "S04", 0.0, None, 0, "met"),
    # S05 = Σ mass_incidents; at most 0
    ("C01", "S05", 0.0, None, 0, "met"),  # Apr's 3 outside
    ("C02", "S05", 1.0, None, 0, "not_met"),
    ("C03", "S05", 0.0, None, 0, "met"),
    # S06 = mean(satisfaction_rate); floor 95
    ("C01", "S06", 96.0, 95, None, "met"),  # (96 + 94 + 98) / 3
    ("C02", "S06", 90.0, 95, None, "not_met"),  # Feb missing → mean of Jan only
    ("C03", "S06", 95.0, 95, None, "met"),
    # S07 = Σ police_hours / months with a value; floor 30
    ("C01", "S07", 30.0, 30, None, "met"),  # (32 + 28) / 2 (Mar missing)
    ("C02", "S07", 15.0, 30, None, "not_met"),  # (20 + 10) / 2
    ("C03", "S07", 30.0, 30, None, "met"),
    # S08 = latest legal_education_rate in range; target 100
    ("C01", "S08", 100.0, None, 100, "met"),  # Feb's 100 (Mar missing, Apr outside)
    ("C02", "S08", 80.0, None, 100, "not_met"),  # Jan's 80 (Feb missing)
    ("C03", "S08", 100.0, None, 100, "met"),
    # S09 = Σ (criminal + public order) / population × 1000; no standard
    ("C01", "S09", 3.0, None, None, "not_rated"),  # (2+1+0 + 3+2+4) / 4,000 × 1,000
    ("C02", "S09", 0.9375, None, None, "not_rated"),  # (3 + 0 public order) / 3,200 × 1,000
    ("C03", "S09", 0.0, None, None, "not_rated"),  # 0 / 1,500
] + [
    (community_id, indicator_id, None, floor, target, "no_data")
    for community_id in NO_REPORT
    for indicator_id, floor, target in [
        ("S01", 98, None), ("S02", 90, None), ("S03", None, 2), ("S04", None, 0),
        ("S05", None, 0), ("S06", 95, None), ("S07", 30, None), ("S08", None, 100),
        ("S09", None, None),
    ]
]


def test_values_and_statuses(conn):
    rows = run(conn, formula_params())
    check(rows, EXPECTED)
    assert len(rows) == len(EXPECTED) == 45


def test_numerators_and_denominators(conn):
    rows = run(conn, formula_params())
    assert (rows["C01", "S01"]["numerator"], rows["C01", "S01"]["denominator"]) == (98, 100)
    assert (rows["C01", "S07"]["numerator"], rows["C01", "S07"]["denominator"]) == (60, 2)
    assert (rows["C01", "S09"]["numerator"], rows["C01", "S09"]["denominator"]) == (12, 4000)


def test_single_month_range_is_inclusive(conn):
    rows = run(conn, formula_params(month_from=date(2024, 1, 1), month_to=date(2024, 1, 1)))
    check(rows, [
        ("C01", "S01", 100.0, 98, None, "met"),  # 20 / 20
        ("C01", "S07", 32.0, 30, None, "met"),
        ("C01", "S08", 90.0, None, 100, "not_met"),
        ("C05", "S04", None, None, 0, "no_data"),  # C05 reports only in March
    ])


def test_range_end_is_inclusive(conn):
    rows = run(conn, formula_params(month_from=date(2024, 2, 1), month_to=date(2024, 3, 1)))
    check(rows, [
        ("C01", "S07", 28.0, 30, None, "not_met"),  # Feb 28 only; Mar missing
        ("C01", "S06", 96.0, 95, None, "met"),  # (94 + 98) / 2
        ("C01", "S01", 78 / 80 * 100, 98, None, "not_met"),  # (29 + 49) / (30 + 50)
    ])


def test_wider_range_takes_in_boundary_months(conn):
    rows = run(conn, formula_params(month_from=date(2023, 12, 1), month_to=date(2024, 4, 1)))
    check(rows, [
        ("C01", "S04", 14.0, None, 0, "not_met"),  # 5 + 0 + 0 + 0 + 9
        ("C01", "S05", 5.0, None, 0, "not_met"),  # 2 + 0 + 0 + 0 + 3
        ("C01", "S08", 50.0, None, 100, "not_met"),  # April is now the latest
        ("C04", "S01", 100.0, 98, None, "met"),  # 5 / 5
        ("C04", "S09", None, None, None, "no_data"),  # population 0
    ])


def test_range_without_reports_or_unset(conn):
    for month_from, month_to in [(date(2025, 1, 1), date(2025, 12, 1)), (None, None)]:
        rows = run(conn, params(month_from=month_from, month_to=month_to))
        assert len(rows) == 45
        assert {row["status"] for row in rows.values()} == {"no_data"}


def test_threshold_overrides(conn):
    standards = Standards.default().with_overrides(
        {"S01": {"floor": 99.0}, "S03": {"target": 3.0}}
    )
    rows = run(conn, formula_params(standards))
    check(rows, [
        ("C01", "S01", 98.0, 99, None, "not_met"),  # 98 < 99
        ("C01", "S03", 2.0, None, 3, "met"),  # 2 < 3
    ])


def test_partly_met_with_a_target_override(conn):
    standards = Standards.default().with_overrides({"S06": {"target": 97.0}})
    rows = run(conn, formula_params(standards))
    check(rows, [
        ("C01", "S06", 96.0, 95, 97, "partly_met"),  # 95 ≤ 96 < 97
        ("C03", "S06", 95.0, 95, 97, "partly_met"),
        ("C02", "S06", 90.0, 95, 97, "not_met"),
    ])


def test_scope_and_type_filter(conn):
    assert {c for c, _ in run(conn, params(scope_streets=["东湖街道"]))} == {"C01", "C02"}
    assert db.run_query(conn, QUERY, params(scope_streets=[])).num_rows == 0
    assert db.run_query(conn, QUERY, params(scope_streets=["北湖街道"])).num_rows == 0
    assert {c for c, _ in run(conn, params(community_types=["resettlement"]))} == {"C04"}


# --- reporting completeness (policy default: every month of the range) ---------


def test_months_reported_stand_beside_every_row(conn):
    rows = run(conn, params())
    # Jan..Mar: C01 reports all three; C02 Jan, Feb; C03 Jan; C04 none (Dec only);
    # C05 March (a report whose every measure is missing is still a report).
    reported = {"C01": 3, "C02": 2, "C03": 1, "C04": 0, "C05": 1}
    for (community_id, _), row in rows.items():
        assert row["months_reported"] == reported[community_id], community_id
        assert (row["months_in_period"], row["months_required"]) == (3, 3)


def test_too_few_months_reported_is_no_data_never_met(conn):
    rows = run(conn, params())
    # C01 reported every month: rated exactly as by the formulas.
    check(rows, [e for e in EXPECTED if e[0] == "C01"])
    check(rows, [
        # C02 (2 of 3): its 90 % mediation and 90 % satisfaction are not rated ...
        ("C02", "S01", None, 98, None, "no_data"),
        ("C02", "S06", None, 95, None, "no_data"),
        ("C02", "S09", None, None, None, "no_data"),
        # ... but the major case and mass incident it did report stay unmet: the
        # missing month can only add to those sums.
        ("C02", "S04", 1.0, None, 0, "not_met"),
        ("C02", "S05", 1.0, None, 0, "not_met"),
        # C03 (1 of 3): no case in its one month proves nothing for the other two.
        ("C03", "S04", None, None, 0, "no_data"),
        ("C03", "S06", None, 95, None, "no_data"),
        ("C03", "S07", None, 30, None, "no_data"),
        ("C03", "S08", None, None, 100, "no_data"),
    ])
    assert rows["C02", "S07"]["numerator"] is None and rows["C02", "S07"]["denominator"] is None
    statuses = {(c, i): r["status"] for (c, i), r in rows.items()}
    assert {s for (c, _), s in statuses.items() if c in ("C03", "C04", "C05")} == {"no_data"}
    assert "met" not in {s for (c, _), s in statuses.items() if c != "C01"}


@pytest.mark.parametrize(("pct", "required"), [
    (0.0, 0), (100 / 3, 1), (50.0, 2), (66.0, 2), (66.7, 3), (100.0, 3),
    (150.0, 3), (-5.0, 0),  # out of range: clamped to 0–100
])
def test_required_months_round_up_from_the_share(conn, pct, required):
    standards = Standards.default().with_overrides(settings={"min_reported_months_pct": pct})
    rows = run(conn, params(standards))
    assert {r["months_required"] for r in rows.values()} == {required}
    # C02 has 2 months: rated exactly when 2 months are enough.
    assert (rows["C02", "S01"]["status"] == "not_met") == (required <= 2)
    assert (rows["C02", "S01"]["value"] == pytest.approx(90.0)) == (required <= 2)


def test_a_lower_share_in_a_scenario_rates_partial_reporters(conn):
    standards = Standards.default().with_overrides(settings={"min_reported_months_pct": 60.0})
    rows = run(conn, params(standards))  # 60 % of 3 months → 2 months
    check(rows, [
        ("C02", "S01", 90.0, 98, None, "not_met"),
        ("C02", "S06", 90.0, 95, None, "not_met"),
        ("C03", "S06", None, 95, None, "no_data"),  # 1 month still too few
    ])
