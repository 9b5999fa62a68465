"""Chart data and table styling derived from indicator results."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from governance import presentation


def _counts():
    return pd.DataFrame(
        [
            ("东街道", "met", 6), ("东街道", "not_met", 2), ("东街道", "no_data", 0),
            ("东街道", "partly_met", 0), ("东街道", "not_rated", 5),
            ("西街道", "met", 1), ("西街道", "not_met", 3), ("西街道", "no_data", 0),
            ("西街道", "partly_met", 0), ("西街道", "not_rated", 2),
        ],
        columns=["street", "status", "count"],
    )


def test_street_shares_exclude_unrated_and_sum_to_100():
    shares = presentation.street_status_shares(_counts())
    assert "not_rated" not in set(shares["status"])
    totals = shares.groupby("street")["share_pct"].sum()
    assert totals.to_dict() == pytest.approx({"东街道": 100.0, "西街道": 100.0})
    east = shares[(shares["street"] == "东街道") & (shares["status"] == "not_met")]
    assert east["share_pct"].iloc[0] == pytest.approx(25.0)  # 2 of 8 rated pairs


def test_street_bar_puts_the_worst_street_on_top():
    figure = presentation.street_status_bar(_counts())
    # Plotly draws the last category at the top of a horizontal bar chart.
    assert list(figure.data[0].y)[-1] == "西街道"  # 75 % not met against 25 %


def test_ranking_lists_most_unmet_first():
    matrix = pd.DataFrame(
        {
            "community_name": ["甲", "乙", "丙"],
            "street": ["东", "东", "西"],
            "not_met_count": [1, 4, 4],
            "met_share_pct": [90.0, 40.0, 20.0],
        }
    )
    figure = presentation.ranking_bar(matrix, top_n=2)
    labels = list(figure.data[0].y)
    assert labels[-1].startswith("丙")  # same count as 乙, lower met share
    assert labels[0].startswith("乙") and len(labels) == 2


def test_matrix_styles_colour_value_cells_by_status():
    matrix = pd.DataFrame(
        {"community_name": ["甲", "乙"], "F01": [31.0, 5.0], "F01_status": ["met", "not_met"]}
    )
    styles = presentation.matrix_cell_styles(matrix, ["F01"])
    assert presentation.STATUS_FILLS["met"] in styles.loc[0, "F01"]
    assert presentation.STATUS_FILLS["not_met"] in styles.loc[1, "F01"]
    assert styles.loc[0, "community_name"] == ""


def test_export_matrix_has_chinese_headers_and_status_words():
    matrix = pd.DataFrame(
        {
            "community_id": ["C1"], "community_name": ["甲"], "street": ["东"],
            "community_type": ["城市社区"], "not_met_count": [1], "met_share_pct": [50.0],
            "F01": [12.5], "F01_status": ["not_met"],
        }
    )
    exported = presentation.matrix_for_export(matrix)
    assert "社区编码" in exported.columns
    assert exported["F01 每百户办公和活动用房面积（状态）"].iloc[0] == "未达标"


def test_reference_lines_draw_what_plotlys_line_helpers_draw():
    import plotly.graph_objects as go

    ours = go.Figure(go.Histogram(x=[1, 2, 3]), layout=presentation._reference_marks(
        [(2, "#c00", "底线", "left"), (3, "#c00", "目标", "right"), (1, "#555", None, "right")]))
    theirs = go.Figure(go.Histogram(x=[1, 2, 3]))
    theirs.add_vline(x=2, line_dash="dash", line_color="#c00", annotation_text="底线",
                     annotation_position="top left", annotation_bgcolor=presentation.LABEL_BACKING)
    theirs.add_vline(x=3, line_dash="dash", line_color="#c00", annotation_text="目标",
                     annotation_position="top right", annotation_bgcolor=presentation.LABEL_BACKING)
    theirs.add_vline(x=1, line_dash="dash", line_color="#555")
    assert ours.to_dict()["layout"] == theirs.to_dict()["layout"]

    ours = go.Figure(layout=presentation._reference_marks([(30, "#c00", "30 小时", "left")],
                                                          vertical=False))
    theirs = go.Figure()
    theirs.add_hline(y=30, line_dash="dash", line_color="#c00", annotation_text="30 小时",
                     annotation_position="top left", annotation_bgcolor=presentation.LABEL_BACKING)
    assert ours.to_dict()["layout"] == theirs.to_dict()["layout"]


def test_number_formats_follow_the_unit_in_the_column_name():
    frame = pd.DataFrame({
        "community_id": ["c1"], "year": [2025], "households": [4633],
        "space_cost_yuan": [3253800.0], "space_gap_m2": [1084.56], "coverage_pct": [66.43],
        "nearest_walking_m": [412.7], "baseline_value": [24.4818], "lat": [32.6345],
        "is_covered": [True], "satisfaction_rate": [92.0], "police_hours": [26.5],
        "households_uncovered": [3417.0],
    })
    formats = presentation.number_formats(frame)
    assert formats == {
        "households": presentation.WHOLE,
        "space_cost_yuan": presentation.WHOLE,
        "space_gap_m2": presentation.TENTHS,
        "coverage_pct": presentation.PERCENT,
        "nearest_walking_m": presentation.WHOLE,
        "baseline_value": presentation.TENTHS,
        "satisfaction_rate": presentation.TENTHS,
        "police_hours": presentation.TENTHS,
        "households_uncovered": presentation.WHOLE,  # a float after a sum, still a count
    }
    # A year is a label, a coordinate keeps its digits, a text or a flag is not a number.
    assert not {"year", "lat", "community_id", "is_covered"} & formats.keys()
    assert presentation.NumberFormat("localized", 0) == presentation.WHOLE
    assert (presentation.WHOLE.step, presentation.TENTHS.step, presentation.PERCENT.step) \
        == (1, 0.1, None)


def test_values_are_rounded_half_up_before_streamlit_truncates_them():
    frame = pd.DataFrame({
        "baseline_value": [24.2928, 24.25, -0.25, 0.04, float("nan")],
        "cost_yuan": [57.5, 3253799.6, 0.49, -2.5, 1.0],
        "coverage_pct": [28.8125, 1.0, 2.0, 3.0, 4.0],
    })
    shown = presentation.rounded_for_display(frame, presentation.number_formats(frame))
    assert shown["baseline_value"].tolist()[:4] == [24.3, 24.3, -0.3, 0.0]
    assert math.copysign(1, shown["baseline_value"].iloc[3]) == 1  # 0.0, not -0.0
    assert pd.isna(shown["baseline_value"].iloc[4])
    assert shown["cost_yuan"].tolist() == [58.0, 3253800.0, 0.0, -3.0, 1.0]
    # sprintf rounds a percentage itself: it is sent as it is.
    assert shown["coverage_pct"].tolist() == frame["coverage_pct"].tolist()
    # The frame given is left as it was.
    assert frame["cost_yuan"].iloc[0] == 57.5


def test_rounding_keeps_missing_values_of_nullable_columns():
    frame = pd.DataFrame({"amount_yuan": pd.array([1.5, None, -1.5], dtype="Float64")})
    shown = presentation.rounded_for_display(frame, presentation.number_formats(frame))
    assert shown["amount_yuan"].tolist()[0] == 2.0
    assert pd.isna(shown["amount_yuan"].iloc[1])
    assert shown["amount_yuan"].tolist()[2] == -2.0


def test_indicator_values_read_to_their_catalogue_decimals():
    # Money per community, incident and staff counts are whole; the rest one decimal.
    for whole in ("M01", "M02", "S04", "S05", "O01"):
        assert presentation.indicator_number_format(whole) == presentation.WHOLE, whole
    for tenths in ("F01", "M03", "S01", "S07", "O02"):
        assert presentation.indicator_number_format(tenths) == presentation.TENTHS, tenths


def test_a_one_street_chart_keeps_its_legend_off_the_axis_title():
    counts = pd.DataFrame({"street": ["东关街道"] * 3, "status": ["met", "not_met", "no_data"],
                           "count": [4, 6, 1]})
    layout = presentation.street_status_bar(counts).layout
    # Placed in the figure's margin (not at a fraction of a short plot's height).
    assert (layout.legend.yref, layout.legend.y, layout.legend.yanchor) == ("container", 0, "bottom")
    assert layout.xaxis.range == (0, 100) and layout.margin.r >= 30


def test_every_formula_reads_in_chinese():
    import re

    from governance.catalogue import load_catalogue

    assert presentation.readable_formula("office_area_m2 / households × 100") \
        == "办公和活动用房面积 / 户数 × 100"
    assert presentation.readable_formula("Σ amount_yuan（source ≠ fiscal）") \
        == "Σ 金额（资金来源 ≠ 财政拨款）"
    left = {i.id: re.findall(r"[A-Za-z_]{2,}", presentation.readable_formula(i.formula))
            for i in load_catalogue().indicators}
    assert {k: v for k, v in left.items() if v} == {}
    help_text = presentation.threshold_help("F01")
    assert "office_area_m2" not in help_text and "办公和活动用房面积 / 户数" in help_text


@pytest.mark.parametrize("value", [1.005, 0.15, 2.675, 24.25, 1084.45, 0.05, 99.95, 12.344999])
def test_half_up_rounding_follows_the_decimal_digits(value):
    for decimals in (1, 2):
        expected = float(Decimal(repr(value)).quantize(Decimal(10) ** -decimals, ROUND_HALF_UP))
        got = presentation.round_half_up(pd.Series([value, -value]), decimals).tolist()
        assert got == [expected, -expected], (value, decimals)


def test_street_coverage_rolls_households_up_per_street():
    communities = pd.DataFrame({
        "community_id": ["C1", "C2", "C3"], "street": ["西街道", "东街道", "西街道"],
        "covered": [30.0, 50.0, 10.0], "counted": [40, 100, 60],
    })
    streets = presentation.street_coverage(communities, covered="covered", total="counted")
    # 西街道: (30 + 10) / (40 + 60) = 40 %; 东街道: 50 / 100 = 50 %; in street order.
    assert streets.to_dict("records") == [
        {"street": "东街道", "communities": 1, "households_total": 100,
         "households_covered": 50.0, "coverage_pct": 50.0},
        {"street": "西街道", "communities": 2, "households_total": 100,
         "households_covered": 40.0, "coverage_pct": 40.0},
    ]


def test_labels_replace_codes_in_the_columns_present_only():
    from governance.contract import COMMUNITY_TYPE

    frame = pd.DataFrame({"community_type": ["urban", None], "status": ["met", None]})
    shown = presentation.with_labels(frame, {
        "community_type": COMMUNITY_TYPE.label_of, "status": presentation.status_word,
        "category": str.upper,  # not in the frame: nothing added
    })
    assert list(shown.columns) == ["community_type", "status"]
    assert shown["community_type"].iloc[0] == "城市社区" and shown["community_type"].isna().iloc[1]
    assert shown["status"].tolist() == ["达标", ""]
    assert frame["community_type"].iloc[0] == "urban"  # the input is left as it was
    assert presentation.with_type_labels(frame)["community_type"].iloc[0] == "城市社区"
