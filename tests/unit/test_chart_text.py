"""User text is text in every chart: a street or community named with plotly's
pseudo-HTML (`<a href>`, `<b>`, `<br>`) shows as typed, in labels, hovers,
legends and titles, never as a live link or markup."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from governance import presentation

LINK = '<a href="http://127.0.0.1:8629/x">点我</a>'
BOLD = "<b>粗</b>体街道"
ESCAPED_LINK = json.dumps('&lt;a href="http://127.0.0.1:8629/x"&gt;点我&lt;/a&gt;',
                          ensure_ascii=False)[1:-1]


def _text(figure) -> str:
    return json.dumps(figure.to_plotly_json(), ensure_ascii=False, default=str)


def _matrix() -> pd.DataFrame:
    return pd.DataFrame({
        "community_id": ["C1", "C2"], "community_name": [LINK, "乙社区"],
        "street": [BOLD, "东街道"], "not_met_count": [3, 1], "met_share_pct": [40.0, 80.0],
    })


CHARTS = {
    "ranking": lambda: presentation.ranking_bar(_matrix()),
    "street_status": lambda: presentation.street_status_bar(pd.DataFrame({
        "street": [LINK] * 4, "status": ["met", "partly_met", "not_met", "no_data"],
        "count": [1, 0, 2, 0]})),
    "coverage_by_street": lambda: presentation.coverage_by_street_bar(pd.DataFrame({
        "street": [LINK, BOLD], "households_covered": [10, 5], "households_total": [20, 5],
        "coverage_pct": [50.0, 100.0]})),
    "funding_by_street": lambda: presentation.funding_by_street_bar(pd.DataFrame({
        "street": [LINK, BOLD], "category": ["office", "office"],
        "amount_yuan": [25000.0, 30000.0]})),
    "safety_trend": lambda: presentation.safety_trend_chart(pd.DataFrame({
        "series": [None, LINK], "month": [date(2025, 1, 1)] * 2, "value": [98.0, 97.0],
        "communities_reporting": [2, 1], "communities_compared": [2, 1],
        "communities": [2, 1]}), "S01"),
    "heatmap": lambda: presentation.street_month_heatmap(pd.DataFrame(
        {pd.Timestamp("2025-01-01"): [98.0, 99.0]}, index=[LINK, BOLD]), "S01"),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_names_reach_the_chart_as_text(name):
    text = _text(CHARTS[name]())
    assert "<a href" not in text and "<b>粗" not in text
    assert ESCAPED_LINK in text or "&lt;b&gt;粗&lt;/b&gt;体街道" in text


def test_plot_safe_leaves_other_columns_and_missing_names_alone():
    frame = pd.DataFrame({"street": [BOLD, None], "value": ["<b>", "x"]})
    safe = presentation.plot_safe(frame)
    assert safe["street"][0] == "&lt;b&gt;粗&lt;/b&gt;体街道" and pd.isna(safe["street"][1])
    assert safe["value"].tolist() == ["<b>", "x"]
    assert frame["street"][0] == BOLD  # the caller's frame is untouched
