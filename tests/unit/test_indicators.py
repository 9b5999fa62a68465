"""governance/indicators.py over tests/fixtures/indicators_small.sql.

Expected counts are worked out from the per-query expectations in
tests/queries/test_*_indicators.py (period: 2024; 2024-01 .. 2024-03).
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from governance import db
from governance import indicators as ind
from governance.catalogue import Standards
from governance.indicators import ALL_STREETS, Period, ViewFilter
from tests.conftest import PROJECT_DIR, load_fixture_sql

PERIOD = Period(2024, date(2024, 1, 1), date(2024, 3, 1))
COMPUTED_IDS = [
    "F01", "F02", "F03", "F04", "F05",
    "M01", "M02", "M03", "M04", "M05", "M06", "M07",
    "S01", "S02", "S03", "S04", "S05", "S06", "S07", "S08", "S09",
    "O01", "O02",
]


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    return memory_conn


# --- Period and ViewFilter ------------------------------------------------------


def test_period_months_become_first_of_month():
    period = Period(2024, date(2024, 1, 15), date(2024, 3, 31))
    assert (period.month_from, period.month_to) == (date(2024, 1, 1), date(2024, 3, 1))


def test_period_rejects_reversed_range():
    with pytest.raises(ValueError):
        Period(2024, date(2024, 5, 1), date(2024, 3, 1))


def test_view_filter_is_hashable_with_lists():
    view_filter = ViewFilter(streets=["西山镇"], community_types=["rural"])
    assert view_filter.streets == ("西山镇",)
    assert hash(view_filter) == hash(ViewFilter(("西山镇",), ("rural",)))
    with pytest.raises(TypeError):
        ViewFilter(streets="西山镇")


# --- Periods --------------------------------------------------------------------


def test_available_years_and_months(conn):
    assert ind.available_years(conn) == [2024, 2023]
    assert ind.available_months(conn) == [
        date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1),
        date(2024, 4, 1),
    ]
    assert ind.available_years(conn, scope=()) == []
    assert ind.available_months(conn, scope=("西山镇",)) == [
        date(2023, 12, 1), date(2024, 1, 1), date(2024, 3, 1),
    ]


def test_default_period_with_fewer_than_twelve_months(conn):
    # 5 months present: all of them
    assert ind.default_period(conn) == Period(2024, date(2023, 12, 1), date(2024, 4, 1))


def test_default_period_takes_the_latest_twelve_months_present(conn):
    for month in range(5, 13):  # 2024-05 .. 2024-12 → 13 months in all
        conn.execute(
            "insert into safety (community_id, month, import_id) values ('C01', $m, 5)",
            {"m": date(2024, month, 1)},
        )
    period = ind.default_period(conn)
    assert (period.month_from, period.month_to) == (date(2024, 1, 1), date(2024, 12, 1))


def test_default_period_of_an_empty_database(memory_conn):
    assert ind.default_period(memory_conn) == Period(None, None, None)


# --- Parameters -----------------------------------------------------------------


def test_query_params_resolves_all_streets_and_types(conn):
    params = ind.query_params(conn, PERIOD)
    assert params["scope_streets"] == ["东湖街道", "西山镇"]
    assert set(params["community_types"]) >= {
        "urban", "rural", "resettlement", "old_town", "urban_village",
    }
    assert (params["year"], params["month_from"], params["month_to"]) == (
        2024, date(2024, 1, 1), date(2024, 3, 1),
    )
    assert params["thresholds"] == Standards.default().thresholds_param()
    for key, value in Standards.default().settings.items():
        assert params[key] == (list(value) if isinstance(value, list) else value)


def test_query_params_intersects_filter_with_scope(conn):
    both = ind.query_params(conn, PERIOD, ViewFilter(streets=("西山镇", "北湖街道")))
    assert both["scope_streets"] == ["西山镇"]
    scoped = ind.query_params(
        conn, PERIOD, ViewFilter(streets=("西山镇",)), scope=("东湖街道",)
    )
    assert scoped["scope_streets"] == []  # a filter never widens the scope
    assert ind.query_params(conn, PERIOD, scope=())["scope_streets"] == []
    assert ind.query_params(conn, PERIOD, scope=("东湖街道",))["scope_streets"] == ["东湖街道"]


def test_query_params_types_and_bad_scope(conn):
    params = ind.query_params(conn, PERIOD, ViewFilter(community_types=("rural",)))
    assert params["community_types"] == ["rural"]
    with pytest.raises(TypeError):
        ind.query_params(conn, PERIOD, scope="东湖街道")


def test_query_params_types_include_codes_outside_the_contract(conn):
    conn.execute(
        "insert into communities (community_id, community_name, street, community_type,"
        " households, population, office_area_m2, import_id)"
        " values ('C09', '试点', '西山镇', 'pilot', 10, 20, 1.0, 1)"
    )
    assert "pilot" in ind.query_params(conn, PERIOD)["community_types"]


def _add_community(conn, community_id: str, street: str, community_type: str) -> None:
    conn.execute(
        "insert into communities (community_id, community_name, street, community_type,"
        " households, population, office_area_m2, import_id)"
        " values ($id, '新社区', $street, $type, 10, 20, 1.0, 1)",
        {"id": community_id, "street": street, "type": community_type})


def test_query_params_scope_names_follow_every_data_version(conn):
    """The scope's streets and types are kept per data content: an import (a
    version bump) is seen at once; without a bump (a fixture) nothing is kept."""
    _add_community(conn, "C10", "南山街道", "pilot")  # no bump: read afresh
    params = ind.query_params(conn, PERIOD)
    assert "南山街道" in params["scope_streets"] and "pilot" in params["community_types"]

    db.bump_data_version(conn)
    assert ind.query_params(conn, PERIOD)["scope_streets"] == params["scope_streets"]
    # Every write that changes communities bumps the version (imports,
    # boundaries, clearing the sample); until it does, the names are kept.
    _add_community(conn, "C11", "中山街道", "trial")
    assert "中山街道" not in ind.query_params(conn, PERIOD)["scope_streets"]
    db.bump_data_version(conn)
    params = ind.query_params(conn, PERIOD)
    assert "中山街道" in params["scope_streets"] and "trial" in params["community_types"]
    scoped = ind.query_params(conn, PERIOD, scope=("中山街道", "无此街道"))
    assert scoped["scope_streets"] == ["中山街道", "无此街道"]


def test_query_params_scope_names_kept_are_bounded(conn):
    db.bump_data_version(conn)
    for n in range(ind.SCOPE_NAMES_ENTRIES + 5):
        ind.query_params(conn, PERIOD, scope=(f"街道{n}",))
    assert len(ind._scope_names_kept) == ind.SCOPE_NAMES_ENTRIES


# --- indicator_values -----------------------------------------------------------


def test_indicator_values_shape_and_order(conn):
    values = ind.indicator_values(conn, PERIOD)
    assert values.schema == ind.VALUES_SCHEMA
    assert values.num_rows == 5 * 23  # F03 included
    assert values.column("indicator_id").to_pylist()[:23] == COMPUTED_IDS
    assert values.column("community_id").to_pylist() == sorted(
        values.column("community_id").to_pylist()
    )
    frame = values.to_pandas()
    assert frame.groupby("dimension").size().to_dict() == {
        "facilities": 25, "funding": 35, "safety": 45, "organisation": 10,
    }


def test_indicator_values_of_some_dimensions_match_the_full_table(conn):
    full = ind.indicator_values(conn, PERIOD).to_pandas()
    safety = ind.indicator_values(conn, PERIOD, dimensions=["safety"]).to_pandas()
    assert set(safety["dimension"]) == {"safety"} and len(safety) == 45
    expected = full[full["dimension"] == "safety"].reset_index(drop=True)
    pd.testing.assert_frame_equal(safety, expected)
    matrix = ind.dimension_matrix(conn, PERIOD, ["S01", "S06"])
    assert [c for c in matrix.columns if c in COMPUTED_IDS] == ["S01", "S06"]
    assert len(matrix) == 5


@pytest.mark.parametrize("view_filter", [
    ind.ViewFilter(streets=["东湖街道"]),
    ind.ViewFilter(community_types=["rural"]),
    ind.ViewFilter(streets=["东湖街道", "不存在的街道"], community_types=["urban", "rural"]),
    ind.ViewFilter(streets=["不存在的街道"]),
])
def test_narrowing_scope_wide_results_equals_filtering_in_sql(conn, view_filter):
    full = ind.indicator_values(conn, PERIOD)
    filtered = ind.indicator_values(conn, PERIOD, view_filter)
    assert ind.within_filter(full, view_filter).equals(filtered)
    communities = ind.communities_in_scope(conn)
    assert ind.within_filter(communities, view_filter).equals(
        ind.communities_in_scope(conn, view_filter))
    assert ind.within_filter(full, ind.ViewFilter()).equals(full)


def test_indicator_values_spot_checks(conn):
    frame = ind.indicator_values(conn, PERIOD).to_pandas().set_index(
        ["community_id", "indicator_id"]
    )
    assert frame.loc[("C02", "F01"), "status"] == "partly_met"  # 320 / 1,600 × 100 = 20
    assert frame.loc[("C01", "M05"), "value"] == pytest.approx(200 / 3)  # 2 of 3 on time
    assert frame.loc[("C01", "S01"), "value"] == pytest.approx(98.0)  # 98 / 100
    assert frame.loc[("C05", "O01"), "floor_value"] == 9  # 3,500 households
    assert frame.loc[("C03", "F02"), "floor_value"] == 100  # rural
    assert frame.loc[("C01", "F01"), "street"] == "东湖街道"


def test_indicator_values_with_overridden_standards(conn):
    standards = Standards.default().with_overrides({"F01": {"floor": 30.0}})
    frame = ind.indicator_values(conn, PERIOD, standards=standards).to_pandas().set_index(
        ["community_id", "indicator_id"]
    )
    assert frame.loc[("C02", "F01"), "status"] == "not_met"  # 20 < floor 30


def test_indicator_values_scope_and_filter(conn):
    def communities(**kwargs):
        values = ind.indicator_values(conn, PERIOD, **kwargs)
        return sorted(set(values.column("community_id").to_pylist()))

    assert communities(scope=("东湖街道",)) == ["C01", "C02"]
    assert communities(scope=()) == []
    assert communities(view_filter=ViewFilter(community_types=("urban",))) == ["C01", "C05"]
    assert communities(
        view_filter=ViewFilter(streets=("西山镇",), community_types=("urban",))
    ) == ["C05"]
    assert communities(scope=ALL_STREETS) == ["C01", "C02", "C03", "C04", "C05"]


def test_indicator_values_of_an_empty_database(memory_conn):
    values = ind.indicator_values(memory_conn, ind.default_period(memory_conn))
    assert values.num_rows == 0
    assert values.schema == ind.VALUES_SCHEMA


def test_indicators_long(conn):
    frame = ind.indicators_long(conn, PERIOD)
    assert list(frame.columns) == ["community_id", "indicator_id", "value", "status"]
    assert len(frame) == 115
    assert frame["indicator_id"].tolist()[:23] == COMPUTED_IDS
    c04 = frame[(frame.community_id == "C04") & (frame.indicator_id == "F01")].iloc[0]
    assert c04["status"] == "no_data" and math.isnan(c04["value"])
    # full precision, not rounded
    c05 = frame[(frame.community_id == "C05") & (frame.indicator_id == "M03")].iloc[0]
    assert c05["value"] == pytest.approx(200000 / 3500, abs=1e-12)


# --- Shaping --------------------------------------------------------------------


def test_status_matrix(conn):
    matrix = ind.status_matrix(ind.indicator_values(conn, PERIOD)).set_index("community_id")
    assert list(matrix.index) == ["C01", "C02", "C03", "C04", "C05"]  # by street, id
    assert list(matrix.columns[:3]) == ["community_name", "street", "community_type"]
    assert "F01" in matrix.columns and "O02_status" in matrix.columns
    assert matrix.loc["C02", "F01"] == pytest.approx(20.0)
    assert matrix.loc["C02", "F01_status"] == "partly_met"
    # C01: 15 met, 0 partly, 2 not_met (M05, S03), 0 no_data, 5 not_rated
    #      → rated 17, share 15 / 17 × 100
    # C02: 2 met (F02, M05), 2 partly (F01, F05), 7 not_met (5 + S04, S05: the cases
    #      its two reported months hold), 8 no_data (F03; S01–S03, S06–S09: 2 of
    #      3 months reported) → rated 11, share (2 + 2) / 11 × 100
    # C04: 1 met (F02), 3 not_met (F04, M01, M02), 18 no_data → share 1 / 4 × 100 = 25
    counts = ["met_count", "partly_met_count", "not_met_count", "no_data_count", "rated_count"]
    # F03 is no_data everywhere: the fixture's facilities have no coordinates.
    assert matrix.loc["C01", counts].tolist() == [15, 0, 2, 1, 17]
    assert matrix.loc["C02", counts].tolist() == [2, 2, 7, 8, 11]
    assert matrix.loc["C04", counts].tolist() == [1, 0, 3, 19, 4]
    assert matrix.loc["C01", "met_share_pct"] == pytest.approx(1500 / 17)
    assert matrix.loc["C02", "met_share_pct"] == pytest.approx(400 / 11)
    # Monthly reports: 3/3 for C01, 2/3 for C02 (too few → its safety no_data).
    assert matrix.loc["C01", "reported_months"] == "3/3"
    assert matrix.loc["C02", "reported_months"] == "2/3"
    assert matrix.loc["C02", "reporting_note"] == "报送不足：3 个月中仅 2 个月报送"
    assert matrix.loc["C04", "reporting_note"] == "报送不足：3 个月均未报送"
    assert matrix.loc["C01", "reporting_note"] == "齐全"
    assert matrix.loc["C02", ["months_reported", "months_in_period", "months_required"]
                      ].tolist() == [2, 3, 3]
    assert matrix.loc["C04", "met_share_pct"] == pytest.approx(25.0)


def _hand_values(rows):
    return pd.DataFrame(
        rows,
        columns=["community_id", "community_name", "street", "community_type", "dimension",
                 "indicator_id", "value", "status"],
    )


def test_status_matrix_share_is_missing_when_nothing_is_rated():
    values = _hand_values([
        ("A", "甲", "s1", "urban", "funding", "M03", 10.0, "not_rated"),
        ("A", "甲", "s1", "urban", "facilities", "F01", None, "no_data"),
        ("B", "乙", "s0", "urban", "funding", "M03", None, "no_data"),
        ("B", "乙", "s0", "urban", "facilities", "F01", 25.0, "partly_met"),
    ])
    matrix = ind.status_matrix(values)
    assert matrix["community_id"].tolist() == ["B", "A"]  # street s0 first
    assert list(matrix.columns[4:8]) == ["F01", "F01_status", "M03", "M03_status"]
    a = matrix.set_index("community_id").loc["A"]
    assert a["rated_count"] == 0 and math.isnan(a["met_share_pct"])
    b = matrix.set_index("community_id").loc["B"]
    assert b["met_share_pct"] == pytest.approx(100.0)


def test_status_matrix_of_nothing():
    values = ind.VALUES_SCHEMA.empty_table()
    matrix = ind.status_matrix(values)
    assert matrix.empty
    assert {"community_id", "not_met_count", "met_share_pct"} <= set(matrix.columns)


def test_dimension_summary(conn):
    summary = ind.dimension_summary(ind.indicator_values(conn, PERIOD)).set_index("dimension")
    assert list(summary.index) == ["facilities", "funding", "safety", "organisation"]
    columns = ["rated", "met", "partly_met", "not_met", "no_data", "not_rated"]
    # facilities: F01 1/2/1/1, F02 4/0/1/0, F04 1/0/4/0, F05 1/1/1/2 (met/partly/not/no data)
    assert summary.loc["facilities", columns].tolist() == [17, 7, 3, 7, 8, 0]  # +5 F03 no_data
    # funding: met M01 ×2, M02 ×2, M05 ×1, M06 ×1; not_met M01 ×2, M02 ×2, M05, M06
    assert summary.loc["funding", columns].tolist() == [12, 6, 0, 6, 15, 8]
    # safety: only C01 reported all 3 months: 7 met + 1 not_met (S03), S09 not_rated;
    # C02 (2 of 3 months) keeps its reported cases unmet (S04, S05); every other
    # safety value is no_data (7 of C02's, 9 each of C03–C05)
    assert summary.loc["safety", columns].tolist() == [10, 7, 0, 3, 34, 1]
    # organisation: O01 met C01, C03; not_met C02, C05; no_data C04; O02 4 not_rated
    assert summary.loc["organisation", columns].tolist() == [4, 2, 0, 2, 2, 4]
    assert summary.loc["facilities", "met_share_pct"] == pytest.approx(1000 / 17)  # (7+3)/17
    assert summary.loc["funding", "met_share_pct"] == pytest.approx(50.0)
    assert summary.loc["safety", "met_share_pct"] == pytest.approx(70.0)


def test_dimension_summary_of_nothing():
    summary = ind.dimension_summary(ind.VALUES_SCHEMA.empty_table())
    assert summary["rated"].tolist() == [0, 0, 0, 0]
    assert summary["met_share_pct"].isna().all()


def test_street_status_counts(conn):
    values = ind.indicator_values(conn, PERIOD)
    counts = ind.street_status_counts(values, ind.communities_in_scope(conn))
    table = counts.pivot(index="street", columns="status", values="count")
    # 东湖街道 = C01 (15 met, 2 not_met, 1 no_data [F03], 5 not_rated)
    #          + C02 (2, 2 partly, 7, 8 no_data [F03 + 7 safety: 2 of 3 months], 4)
    assert table.loc["东湖街道"].to_dict() == {
        "met": 17, "partly_met": 2, "not_met": 9, "no_data": 9, "not_rated": 9,
    }
    # 西山镇 = C03 (2, 1, 2, 17, 1) + C04 (1, 0, 3, 19, 0) + C05 (2, 0, 4, 14, 3), F03's
    # no_data included; C03's safety is all no_data (1 of 3 months reported)
    assert table.loc["西山镇"].to_dict() == {
        "met": 5, "partly_met": 1, "not_met": 9, "no_data": 50, "not_rated": 4,
    }
    assert counts["status"].tolist()[:5] == ["met", "partly_met", "not_met", "no_data",
                                             "not_rated"]


def test_street_status_counts_keeps_streets_without_values():
    values = _hand_values([("A", "甲", "s1", "urban", "funding", "M01", 1.0, "not_met")])
    communities = pa.table({"community_id": ["A", "B"], "street": ["s1", "s2"]})
    counts = ind.street_status_counts(values, communities)
    assert len(counts) == 2 * 5
    assert counts[counts.street == "s2"]["count"].sum() == 0
    assert counts.set_index(["street", "status"]).loc[("s1", "not_met"), "count"] == 1
    assert len(ind.street_status_counts(values)) == 5  # streets from the values


# --- Totals and pickers ---------------------------------------------------------


def test_district_totals(conn):
    assert ind.district_totals(conn) == {
        "communities": 5, "households": 7200, "population": 17700, "streets": 2,
    }
    assert ind.district_totals(conn, ViewFilter(community_types=("rural",))) == {
        "communities": 1, "households": 500, "population": 1500, "streets": 1,
    }
    assert ind.district_totals(conn, scope=()) == {
        "communities": 0, "households": 0, "population": 0, "streets": 0,
    }


@pytest.mark.parametrize("view_filter, scope", [
    (ViewFilter(), ind.ALL_STREETS),
    (ViewFilter(community_types=("rural",)), ind.ALL_STREETS),
    (ViewFilter(streets=("东湖街道",)), ind.ALL_STREETS),
    (ViewFilter(streets=("东湖街道",)), ("北湖街道",)),
    (ViewFilter(streets=("无此街道",)), ind.ALL_STREETS),
    (ViewFilter(), ()),
])
def test_totals_of_narrowed_communities_equal_the_query(conn, view_filter, scope):
    """The pages narrow the scope's communities per filter instead of querying."""
    scope_rows = ind.communities_in_scope(conn, ViewFilter(), scope)
    narrowed = ind.totals_of(ind.within_filter(scope_rows, view_filter))
    assert narrowed == ind.district_totals(conn, view_filter, scope)


def test_totals_of_counts_a_street_once_and_missing_households_as_zero():
    rows = pa.table({"street": ["甲街道", "甲街道", "乙街道"], "households": [100, None, 50],
                     "population": [300, 200, None], "community_type": ["urban"] * 3})
    assert ind.totals_of(rows) == {
        "communities": 3, "households": 150, "population": 500, "streets": 2}


def test_list_streets_and_types(conn):
    assert ind.list_streets(conn) == ["东湖街道", "西山镇"]
    assert ind.list_streets(conn, scope=("西山镇", "北湖街道")) == ["西山镇"]
    assert ind.list_streets(conn, scope=()) == []
    assert ind.street_community_counts(conn) == {"东湖街道": 2, "西山镇": 3}
    assert ind.available_community_types(conn, scope=("东湖街道",)) == ["old_town", "urban"]


def test_communities_in_scope(conn):
    table = ind.communities_in_scope(conn, ViewFilter(streets=("西山镇",)))
    assert table.column("community_id").to_pylist() == ["C03", "C04", "C05"]


def test_governance_does_not_import_streamlit():
    code = "import sys, governance.indicators; sys.exit('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, check=False)
    assert result.returncode == 0


def test_column_label():
    from governance.text import t

    assert ind.column_label("F01") == "F01"
    assert ind.column_label("F01_status") == "F01 " + t("indicators.column.status")
    assert ind.column_label("partly_met") == t("status.partly_met")
    assert ind.column_label("met_share_pct") == t("indicators.column.met_share_pct")
    assert ind.column_label("unknown_thing") == "unknown_thing"
    for name in ind.VALUES_SCHEMA.names:
        assert ind.column_label(name) != name


def test_status_matrix_rows_come_from_communities_when_given(conn):
    values = ind.indicator_values(conn, PERIOD, ViewFilter(streets=("东湖街道",)))
    communities = ind.communities_in_scope(conn)  # all five
    matrix = ind.status_matrix(values, communities).set_index("community_id")
    assert list(matrix.index) == ["C01", "C02", "C03", "C04", "C05"]
    assert matrix.loc["C03", "community_name"] == "山前村"
    assert matrix.loc["C03", "rated_count"] == 0 and math.isnan(matrix.loc["C03", "F01"])
    assert matrix.loc["C01", "met_count"] == 15
    same = ind.status_matrix(ind.indicator_values(conn, PERIOD), communities.to_pandas())
    assert same.equals(ind.status_matrix(ind.indicator_values(conn, PERIOD)))
    empty = ind.status_matrix(ind.VALUES_SCHEMA.empty_table(), communities)
    assert len(empty) == 5 and empty["rated_count"].tolist() == [0] * 5


def test_dimension_matrix_of_no_known_indicator_is_the_communities_alone(conn):
    for ids in ([], ["X99"]):
        matrix = ind.dimension_matrix(conn, PERIOD, ids)
        assert len(matrix) == 5
        assert not [c for c in matrix.columns if c in COMPUTED_IDS]


@pytest.mark.parametrize("view_filter", [
    ViewFilter(streets=("东湖街道",)),
    ViewFilter(community_types=("rural",)),
    ViewFilter(streets=("东湖街道",), community_types=("urban",)),
    ViewFilter(streets=("无此街道",)),
])
def test_a_scope_matrix_narrowed_equals_the_filters_own_matrix(conn, view_filter):
    """The pages build the matrix once per scope and narrow it per filter
    (rows_within_filter): the rows must be those the filter's own matrix has."""
    scope = ind.status_matrix(ind.indicator_values(conn, PERIOD), ind.communities_in_scope(conn))
    narrowed = ind.rows_within_filter(scope, view_filter)
    own = ind.status_matrix(ind.indicator_values(conn, PERIOD, view_filter),
                            ind.communities_in_scope(conn, view_filter))
    assert list(narrowed["community_id"]) == list(own["community_id"])
    if len(own):
        pd.testing.assert_frame_equal(narrowed[list(own.columns)], own, check_dtype=False)


def test_space_standards_from_a_scopes_arrow_values_narrow_like_the_filters_own(conn):
    from governance import facility_view

    view_filter = ViewFilter(streets=("东湖街道",))
    scope = facility_view.space_standards(ind.indicator_values(conn, PERIOD),
                                          ind.communities_in_scope(conn))
    assert [c for c in scope.columns if c in COMPUTED_IDS] == list(facility_view.SPACE_INDICATORS)
    own = facility_view.space_standards(
        ind.indicator_values(conn, PERIOD, view_filter).to_pandas(),
        ind.communities_in_scope(conn, view_filter).to_pandas())
    narrowed = ind.rows_within_filter(scope, view_filter)
    assert list(narrowed["community_id"]) == ["C01", "C02"]
    pd.testing.assert_frame_equal(narrowed[list(own.columns)], own, check_dtype=False)
