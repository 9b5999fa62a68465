"""平安建设 page through AppTest, its figures checked against the shipped sample
CSVs read with the csv module (an independent count, not the page's SQL)."""

from __future__ import annotations

import csv
import json
from collections import Counter

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from governance.text import t
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR, SAMPLE_DIR


def _open(app):
    app.switch_page("pages/safety.py").run()
    assert not app.exception, app.exception
    return app


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _rows(name: str) -> list[dict]:
    with open(SAMPLE_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _latest_months(count: int = 12) -> list[str]:
    months = sorted({r["month"] for r in _rows("safety")})
    return months[-count:]


def _red_flag_communities(months: list[str]) -> set[str]:
    return {
        r["community_id"] for r in _rows("safety")
        if r["month"] in months
        and ((r["major_criminal_cases"] or "0") != "0" or (r["mass_incidents"] or "0") != "0")
    }


def _incidents_in(months: list[str]) -> list[dict]:
    return [r for r in _rows("incidents") if r["occurred_at"][:7] in months]


def test_red_flags_first_and_headline_figures(app):
    page = _open(app)
    months = _latest_months()
    flagged = _red_flag_communities(months)
    assert flagged, "the sample is meant to carry a few red flags"
    assert _metric(page, t("safety.kpi.communities")) == str(len(_rows("communities")))
    assert _metric(page, t("safety.kpi.red_flag")) == str(len(flagged))
    assert f"{len(flagged)} 个社区" in page.error[0].value
    matrix = _table(page, "S04")
    assert len(matrix) == len(_rows("communities"))
    # Red-flag communities lead the standards table.
    assert set(matrix["community_id"].head(len(flagged))) == flagged
    assert {f"S0{i}" for i in range(1, 10)} <= set(matrix.columns)


def test_trend_draws_the_threshold_and_chosen_streets(app):
    page = _open(app)
    page.selectbox(key="safety_trend_indicator").set_value("S07").run()
    street = sorted({r["street"] for r in _rows("communities")})[0]
    page.multiselect(key="safety_trend_streets").set_value([street]).run()
    assert not page.exception
    specs = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    spec = next(s for s in specs if "S07" in s["layout"]["title"]["text"])
    names = [trace["name"] for trace in spec["data"]]
    assert names == [t("safety.district"), street]
    assert len(spec["data"][0]["x"]) == 12
    assert any(shape.get("y0") == 30 for shape in spec["layout"]["shapes"])  # 002: 30 小时


def test_heat_map_is_streets_by_months(app):
    page = _open(app)
    page.selectbox(key="safety_heat_indicator").set_value("S06").run()
    specs = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    spec = next(s["data"][0] for s in specs if s["data"] and s["data"][0]["type"] == "heatmap")
    streets = {r["street"] for r in _rows("communities")}
    assert sorted(spec["y"]) == sorted(streets)
    assert spec["x"] == [m for m in _latest_months()]
    layout = next(s["layout"] for s in specs if s["data"] and s["data"][0]["type"] == "heatmap")
    # Each month a column labelled 2025-01, not a date axis ticking fortnights.
    assert layout["xaxis"]["type"] == "category"
    # The colour turns yellow exactly at the floor: 居民满意率在95%以上.
    position = (95 - spec["zmin"]) / (spec["zmax"] - spec["zmin"])
    assert spec["colorscale"][1][0] == pytest.approx(position)
    assert spec["zmax"] <= 100


def test_drill_down_shows_a_communitys_months_and_events(app):
    page = _open(app)
    community = _rows("communities")[5]
    page.selectbox(key="safety_drill_street").set_value(community["street"]).run()
    page.selectbox(key="safety_drill_community").set_value(community["community_id"]).run()
    assert not page.exception
    months = _latest_months()
    table = _table(page, t("safety.column.has_report"))
    assert list(table[t("safety.column.month")]) == months
    events = Counter(r["occurred_at"][:7] for r in _incidents_in(months)
                     if r["community_id"] == community["community_id"])
    assert list(table[t("safety.column.incidents")]) == [events.get(m, 0) for m in months]
    reported = {r["month"]: r for r in _rows("safety")
                if r["community_id"] == community["community_id"]}
    police = [float(reported[m]["police_hours"]) if m in reported and reported[m]["police_hours"]
              else None for m in months]
    shown = [None if v != v else v for v in table["民警下沉社区时长"]]
    assert shown == police


def test_incident_figures_match_the_sample(app):
    page = _open(app)
    months = _latest_months()
    events = _incidents_in(months)
    assert _metric(page, t("safety.kpi.incidents")) == f"{len(events):,}"
    resolved = sum(r["status"] == "resolved" for r in events)
    assert _metric(page, t("safety.kpi.resolved_pct")) == f"{resolved * 100 / len(events):.1f}%"
    end = months[-1]
    open_cases = [r for r in _rows("incidents") if r["status"] != "resolved"
                  and r["occurred_at"][:7] <= end]
    assert _metric(page, t("safety.kpi.open")) == f"{len(open_cases):,}"
    table = _table(page, t("safety.column.age_days"))
    assert len(table) == min(len(open_cases), 500)
    oldest = min(open_cases, key=lambda r: (r["occurred_at"], r["incident_id"]))
    assert table[t("safety.column.incident_id")].iloc[0] == oldest["incident_id"]


def test_reconciliation_lists_differences_that_add_up(app):
    page = _open(app)
    assert page.warning, "the sample seeds a few disagreements between events and reports"
    table = _table(page, t("safety.column.difference_count"))
    both = table[table[t("safety.column.reported_count")].notna()]
    assert len(both) > 0
    assert (both[t("safety.column.difference_count")]
            == both[t("safety.column.incident_count")]
            - both[t("safety.column.reported_count")]).all()


def test_street_filter_narrows_everything(app):
    page = _open(app)
    street = sorted({r["street"] for r in _rows("communities")})[-1]
    page.multiselect(key="filter_streets").set_value([street]).run()
    assert not page.exception
    in_street = {r["community_id"] for r in _rows("communities") if r["street"] == street}
    assert _metric(page, t("safety.kpi.communities")) == str(len(in_street))
    events = [r for r in _incidents_in(_latest_months()) if r["community_id"] in in_street]
    assert _metric(page, t("safety.kpi.incidents")) == f"{len(events):,}"


def test_without_incidents_the_page_says_how_to_add_them(app_db):
    conn = duckdb.connect(str(app_db))
    conn.execute("delete from incidents")
    conn.close()
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("pages/safety.py").run()
    assert not at.exception
    assert any(t("safety.incidents.none") == i.value for i in at.info)
    assert _metric(at, t("safety.kpi.red_flag")) == str(len(_red_flag_communities(
        _latest_months())))


def test_without_monthly_reports_the_page_says_so(app_db):
    conn = duckdb.connect(str(app_db))
    conn.execute("delete from safety")
    conn.close()
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("pages/safety.py").run()
    assert not at.exception
    assert [i.value for i in at.info] == [t("safety.no_months")]
