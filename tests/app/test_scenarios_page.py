"""情景推演与会议简报 through AppTest: editing, comparing, saving, loading,
deleting scenarios, and applying one to every page. Expected figures are
computed here from the shipped sample CSVs, not by the page's code."""

from __future__ import annotations

import csv

import duckdb

from governance import scenarios
from governance.catalogue import load_catalogue
from governance.text import t
from tests.conftest import SAMPLE_DIR


def _open(app):
    app.switch_page("pages/scenarios.py").run()
    assert not app.exception, app.exception
    return app


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _communities() -> list[dict]:
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _f01_between(low: float, high: float) -> set[str]:
    """Communities whose office space per 100 households is in [low, high)."""
    found = set()
    for row in _communities():
        households = int(row["households"])
        if households > 0:
            per_100 = float(row["office_area_m2"]) / households * 100
            if low <= per_100 < high:
                found.add(row["community_id"])
    return found


def _space_gap_m2(floor_per_100: float) -> float:
    total = 0.0
    for row in _communities():
        minimum = 100.0 if row["community_type"] == "rural" else 300.0
        required = max(int(row["households"]) * floor_per_100 / 100, minimum)
        total += max(required - float(row["office_area_m2"]), 0.0)
    return total


def test_baseline_shows_no_change(app):
    page = _open(app)
    assert _metric(page, t("scenario.kpi.status_changes")) == "0"
    assert any(c.value == t("scenario.compare.baseline") for c in page.caption)


def test_raising_the_space_floor_to_30_changes_exactly_the_communities_between(app):
    page = _open(app)
    page.number_input(key="scn_floor_F01").set_value(30.0).run()
    assert not page.exception
    between = _f01_between(20, 30)
    assert between, "the sample has communities between 20 and 30 m² per 100 households"
    assert _metric(page, t("scenario.kpi.status_changes")) == str(len(between))
    assert _metric(page, t("scenario.kpi.communities_changed")) == str(len(between))
    changes = next(d.value for d in page.dataframe
                   if t("scenario.column.scenario_status") in d.value.columns)
    assert set(changes[t("scenario.column.scenario_status")]) == {t("status.not_met")}
    totals = next(d.value for d in page.dataframe
                  if t("scenario.column.met_baseline") in d.value.columns)
    f01 = totals[totals[t("scenario.column.indicator_id")].str.startswith("F01")].iloc[0]
    assert int(f01[t("scenario.column.change")]) == -len(between)
    gap = next(c.value for c in page.caption if c.value.startswith("用房缺口 ="))
    assert f"用房缺口 {_space_gap_m2(30):,.0f} 平方米" in gap


def test_space_cost_setting_scales_the_space_cost(app):
    page = _open(app)
    page.number_input(key="scn_setting_space_cost_yuan_per_m2").set_value(6000.0).run()
    gap_m2 = _space_gap_m2(20)
    caption = next(c.value for c in page.caption if c.value.startswith("用房缺口 ="))
    assert f"（{round(gap_m2 * 6000):,} 元）" in caption or f"（{gap_m2 * 6000:,.0f} 元）" in caption


def test_save_load_and_delete_a_scenario(app, app_db):
    page = _open(app)
    page.number_input(key="scn_floor_F01").set_value(30.0).run()
    page.number_input(key="scn_setting_service_circle_radius_m").set_value(1000.0).run()
    page.text_input(key="scenario_name").input("十五分钟圈").run()
    page.button(key="scenario_save").click().run()
    assert not page.exception
    # Saving reruns the whole app so the sidebar lists the new scenario; a widget
    # whose options changed is addressed after one more run, as in a browser.
    page.run()
    assert "十五分钟圈" in page.selectbox(key="filter_scenario").options
    conn = duckdb.connect(str(app_db))
    stored = scenarios.load_scenario(conn, "十五分钟圈")
    conn.close()
    assert stored.thresholds == (("F01", 30.0, 30.0),)
    assert stored.settings == (("service_circle_radius_m", 1000.0),)
    # Load it as the starting point: the editor shows the saved values.
    page.selectbox(key="scenario_start").set_value("十五分钟圈").run()
    assert page.number_input(key="scn_floor_F01@十五分钟圈").value == 30.0
    assert page.number_input(key="scn_setting_service_circle_radius_m@十五分钟圈").value == 1000.0
    assert page.number_input(key="scn_floor_F02@十五分钟圈").value == 300.0
    page.button(key="scenario_delete").click().run()
    assert not page.exception
    assert "十五分钟圈" not in page.selectbox(key="filter_scenario").options
    conn = duckdb.connect(str(app_db))
    assert scenarios.load_scenario(conn, "十五分钟圈") is None
    conn.close()


def test_the_baseline_cannot_be_overwritten(app, app_db):
    page = _open(app)
    page.number_input(key="scn_floor_F01").set_value(25.0).run()
    page.text_input(key="scenario_name").input(t("scenario.baseline")).run()
    page.button(key="scenario_save").click().run()
    assert [e.value for e in page.error] == [t("scenario.error.baseline_name")]
    page.number_input(key="scn_floor_F01").set_value(20.0).run()
    page.text_input(key="scenario_name").input("原样").run()
    page.button(key="scenario_save").click().run()
    assert [e.value for e in page.error] == [t("scenario.error.no_changes")]
    conn = duckdb.connect(str(app_db))
    assert scenarios.list_scenarios(conn).empty
    conn.close()


def test_an_applied_scenario_reaches_every_page(app):
    page = _open(app)
    page.number_input(key="scn_floor_M01").set_value(1_000_000.0).run()
    page.number_input(key="scn_setting_service_circle_radius_m").set_value(1000.0).run()
    page.text_input(key="scenario_name").input("高标准").run()
    page.button(key="scenario_save").click().run()
    page.run()
    page.selectbox(key="filter_scenario").set_value("高标准").run()
    page.switch_page("pages/funding.py").run()
    assert not page.exception
    assert any("高标准" in i.value for i in page.info)
    matrix = next(d.value for d in page.dataframe if "M01" in d.value.columns)
    # No community gets a million yuan of office funds: every rated M01 is unmet.
    rated = matrix["M01_status"].isin(["met", "partly_met", "not_met"])
    assert rated.any() and (matrix.loc[rated, "M01_status"] == "not_met").all()
    page.switch_page("pages/facilities.py").run()
    assert not page.exception
    assert page.selectbox(key="coverage_circle@高标准").value == "15min"
    page.switch_page("pages/overview.py").run()
    assert any("高标准" in i.value for i in page.info)
    page.selectbox(key="filter_scenario").set_value("").run()
    assert not any("高标准" in i.value for i in page.info)


def test_a_standard_made_of_settings_points_to_the_settings_tab(app):
    page = _open(app)
    # O01's members-by-household-band rule has no floor to type in: say where it is set.
    note = next(c.value for c in page.caption if c.value.startswith("O01 "))
    assert t("scenario.settings") in note
    catalogue = load_catalogue()
    for key in catalogue.indicator("O01").settings:
        assert catalogue.setting(key).label in note
