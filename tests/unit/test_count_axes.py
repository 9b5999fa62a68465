"""Axes that count (communities, cases, events) tick whole numbers only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance import presentation
from governance.catalogue import load_catalogue


def _ticks(axis, top: float) -> list[float]:
    """The ticks plotly draws from tick0 by dtick up to `top`."""
    start, step = float(axis.tick0), float(axis.dtick)
    return list(np.arange(start, top + step, step))


def _whole_ticks(axis, top: float) -> None:
    assert axis.tickformat == ",d"
    ticks = _ticks(axis, top)
    assert all(float(tick).is_integer() for tick in ticks), ticks
    assert 2 <= len(ticks) <= 2 + presentation.COUNT_TICKS


@pytest.mark.parametrize("top, step", [(0, 1), (1, 1), (3, 1), (6, 1), (7, 2), (12, 2),
                                       (20, 5), (36, 10), (117, 20), (11_700, 2_000)])
def test_count_steps_are_whole_and_round(top, step):
    assert presentation.count_step(top) == step


def test_ranking_of_few_unmet_indicators_ticks_0_1_2_3():
    matrix = pd.DataFrame({"community_name": ["甲", "乙"], "street": ["东", "西"],
                           "not_met_count": [3, 1], "met_share_pct": [50.0, 80.0]})
    axis = presentation.ranking_bar(matrix).layout.xaxis
    _whole_ticks(axis, 3)
    assert _ticks(axis, 3) == [0, 1, 2, 3]


def test_histogram_count_axis_follows_its_tallest_bin():
    values = pd.DataFrame({"indicator_id": "F01", "value": [20.0, 20.2, 20.4, 35.0, 8.0]})
    figure = presentation.indicator_histogram(values, "F01", "")
    bins = figure.data[0].xbins
    # Three values share the tallest bin, so the axis ticks 0, 1, 2, 3.
    edges = np.arange(bins.start, bins.end + bins.size / 2, bins.size)
    counts, _ = np.histogram(values["value"], bins=edges)
    assert counts.max() == 3 and len(edges) - 1 <= presentation.HISTOGRAM_BINS
    _whole_ticks(figure.layout.yaxis, 3)
    assert figure.layout.yaxis.dtick == 1


def test_value_histogram_of_many_rows_ticks_round_whole_steps():
    rng = np.random.default_rng(1)
    values = pd.Series(rng.normal(60, 10, 100_000))
    figure = presentation.value_histogram(values, "", "元")
    edges = np.arange(figure.data[0].xbins.start,
                      figure.data[0].xbins.end + figure.data[0].xbins.size / 2,
                      figure.data[0].xbins.size)
    tallest = np.histogram(values, bins=edges)[0].max()
    _whole_ticks(figure.layout.yaxis, tallest)
    assert figure.layout.yaxis.dtick >= 1_000


def test_incident_bars_count_whole_events():
    counts = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01"]),
                           "category": ["fire", "dispute", "fire"], "incidents": [1, 1, 1]})
    axis = presentation.incident_month_bar(counts).layout.yaxis
    _whole_ticks(axis, 2)
    assert _ticks(axis, 2) == [0, 1, 2]


def test_scenario_bars_count_whole_communities():
    totals = pd.DataFrame({"indicator_id": ["F01"], "met_baseline": [3], "met_scenario": [1]})
    axis = presentation.scenario_met_bar(totals).layout.xaxis
    assert _ticks(axis, 3) == [0, 1, 2, 3]


def test_a_count_indicators_trend_and_heatmap_tick_whole_cases():
    assert load_catalogue().indicator("S04").decimals == 0
    months = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"])
    series = pd.DataFrame({"series": [None] * 3, "month": months, "value": [0.0, 2.0, 1.0],
                           "communities_reporting": [3, 3, 3], "communities_compared": [3, 3, 3],
                           "communities": [3, 3, 3]})
    trend = presentation.safety_trend_chart(series, "S04")
    assert _ticks(trend.layout.yaxis, 2) == [0, 1, 2]
    heat = presentation.street_month_heatmap(
        pd.DataFrame([[0.0, 2.0, 1.0]], index=["东湖街道"], columns=months), "S04")
    colorbar = heat.data[0].colorbar
    assert (colorbar.tickformat, colorbar.dtick) == (",d", 1)
    assert list(heat.data[0].text[0]) == ["0", "2", "1"]
    # A rate keeps its decimals and plotly's own ticks.
    rate = presentation.safety_trend_chart(series.assign(value=[95.5, 96.0, 94.2]), "S06")
    assert rate.layout.yaxis.dtick is None
