"""经费保障 page through AppTest: the formula what-if and the standards table."""

from __future__ import annotations

import csv

from governance.text import t
from tests.conftest import SAMPLE_DIR


def _open(app):
    app.switch_page("pages/funding.py").run()
    assert not app.exception, app.exception
    return app


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _communities():
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _office_funds_2025() -> float:
    with open(SAMPLE_DIR / "funding.csv", encoding="utf-8", newline="") as handle:
        return sum(
            float(r["amount_yuan"]) for r in csv.DictReader(handle)
            if r["year"] == "2025" and r["category"] == "office"
        )


def test_formula_total_follows_the_inputs(app):
    page = _open(app)
    communities = _communities()
    # Default formula: 25,000 per community.
    assert _metric(page, t("funding.summary.formula_total_yuan")) == f"{25_000 * len(communities):,}"
    assert _metric(page, t("funding.summary.current_budget_yuan")) == f"{int(_office_funds_2025()):,}"
    page.number_input(key="formula_base").set_value(10_000.0).run()
    page.number_input(key="formula_per_household").set_value(10.0).run()
    assert not page.exception
    households = sum(int(c["households"]) for c in communities)
    expected = 10_000 * len(communities) + 10 * households  # integers: no rounding
    assert _metric(page, t("funding.summary.formula_total_yuan")) == f"{expected:,}"
    table = next(d.value for d in page.dataframe
                 if t("funding.column.formula_yuan") in d.value.columns)
    assert int(table[t("funding.column.formula_yuan")].sum()) == expected  # reconciles to the yuan
    gainers = int(_metric(page, t("funding.summary.gainers")))
    losers = int(_metric(page, t("funding.summary.losers")))
    assert gainers + losers <= len(communities) and gainers > 0


def test_standards_table_and_on_time_setting(app):
    page = _open(app)
    matrix = next(d.value for d in page.dataframe if "M01" in d.value.columns)
    assert {"M01", "M02", "M05", "M06"} <= set(matrix.columns)
    assert len(matrix) == 117
    before = _metric(page, t("funding.delay.on_time_pct"))
    page.number_input(key="funding_on_time_days").set_value(365).run()
    after = _metric(page, t("funding.delay.on_time_pct"))
    assert float(after.rstrip("%")) > float(before.rstrip("%"))


def test_filters_matching_no_community_do_not_break_the_page(app):
    page = _open(app)
    street = sorted({c["street"] for c in _communities() if c["community_type"] != "resettlement"
                     and not any(o["street"] == c["street"] and o["community_type"] == "resettlement"
                                 for o in _communities())})[0]
    page.multiselect(key="filter_streets").set_value([street]).run()
    page.multiselect(key="filter_types").set_value(["resettlement"]).run()
    assert not page.exception, page.exception
    assert [i.value for i in page.info][-1] == t("overview.empty")


def test_delay_histogram_counts_disbursements_and_marks_the_on_time_days(app):
    import base64
    import json

    import numpy as np

    page = _open(app)
    charts = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
              for c in page.get("plotly_chart")}
    delays = charts[t("funding.chart.delay")]
    assert delays["layout"]["yaxis"]["title"]["text"] == t("funding.axis.lines")
    assert [s["x0"] for s in delays["layout"]["shapes"]] == [30]
    with open(SAMPLE_DIR / "funding.csv", encoding="utf-8", newline="") as handle:
        paid_2025 = [r for r in csv.DictReader(handle)
                     if r["year"] == "2025" and r["disbursed_date"] and r["allocated_date"]]
    values = delays["data"][0]["x"]  # plotly writes arrays as base64 typed arrays
    count = (len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
             if isinstance(values, dict) else len(values))
    assert count == len(paid_2025)
    per_household = charts[t("funding.chart.per_household")]
    assert per_household["layout"]["yaxis"]["title"]["text"] == t("facilities.chart.communities")


def _plotted(values) -> list:
    """A plotly array as the spec carries it: a list, or a base64 typed array."""
    import base64

    import numpy as np

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_street_funding_bars_read_across_in_wan_yuan_most_funded_first(app):
    import json

    page = _open(app)
    spec = next(json.loads(c.proto.spec) for c in page.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"]
                == t("funding.chart.by_street"))
    street_of = {r["community_id"]: r["street"] for r in _communities()}
    expected: dict[str, float] = {}
    with open(SAMPLE_DIR / "funding.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["year"] == "2025":
                street = street_of[row["community_id"]]
                expected[street] = expected.get(street, 0) + float(row["amount_yuan"]) / 10_000
    plotted: dict[str, float] = {}
    for trace in spec["data"]:
        assert trace["orientation"] == "h"
        for street, wan in zip(_plotted(trace["y"]), _plotted(trace["x"]), strict=True):
            plotted[street] = plotted.get(street, 0) + wan
    assert plotted.keys() == expected.keys()
    for street, wan in expected.items():
        assert abs(plotted[street] - wan) < 1e-6, street
    assert spec["layout"]["xaxis"]["title"]["text"] == t("funding.chart.wan_yuan")
    # Listed most funded first, and drawn top down.
    assert spec["layout"]["yaxis"]["categoryarray"] == sorted(expected, key=lambda s: -expected[s])
    assert spec["layout"]["yaxis"]["autorange"] == "reversed"
