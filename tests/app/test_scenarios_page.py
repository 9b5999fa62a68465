"""情景推演与会议简报 through AppTest: editing, comparing, saving, loading,
deleting scenarios, and applying one to every page. Expected figures are
computed here from the shipped sample CSVs, not by the page's code."""

from __future__ import annotations

import csv
import io
from datetime import date

import duckdb
import openpyxl

from governance import auth, scenarios
from governance.catalogue import load_catalogue
from governance.text import t
from pages import _exports
from tests.app.conftest import shown_statuses
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


def test_reporting_share_is_a_setting_a_what_if_can_lower(app):
    """min_reported_months_pct sits in the settings tab with its policy default;
    at 75 % the communities that missed one of the 12 months are rated again."""
    page = _open(app)
    setting = page.number_input(key="scn_setting_min_reported_months_pct")
    assert setting.value == 100.0
    assert "002" in setting.help
    with open(SAMPLE_DIR / "safety.csv", encoding="utf-8", newline="") as handle:
        reports = list(csv.DictReader(handle))
    months = sorted({r["month"] for r in reports})[-12:]
    reported = {}
    for row in reports:
        if row["month"] in months:
            reported[row["community_id"]] = reported.get(row["community_id"], 0) + 1
    partial = {c for c, count in reported.items() if 9 <= count < 12}
    assert partial, "the sample has communities that missed a month"
    setting.set_value(75.0).run()
    assert not page.exception
    assert _metric(page, t("scenario.kpi.communities_changed")) == str(len(partial))
    changes = next(d.value for d in page.dataframe
                   if t("scenario.column.scenario_status") in d.value.columns)
    assert set(changes[t("scenario.column.baseline_status")]) == {t("status.no_data")}


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
    # Load it as the starting point: it is applied to every page (the sidebar's
    # picker holds it, not a second one here) and the editor shows its values.
    page.selectbox(key="scenario_start").set_value("十五分钟圈").run()
    assert not page.exception
    assert page.selectbox(key="filter_scenario").value == "十五分钟圈"
    assert page.selectbox(key="scenario_start@十五分钟圈").value == "十五分钟圈"
    assert any("十五分钟圈" in i.value for i in page.info)
    assert page.number_input(key="scn_floor_F01@十五分钟圈").value == 30.0
    assert page.number_input(key="scn_setting_service_circle_radius_m@十五分钟圈").value == 1000.0
    assert page.number_input(key="scn_floor_F02@十五分钟圈").value == 300.0
    page.button(key="scenario_delete").click().run()
    assert not page.exception
    assert "十五分钟圈" not in page.selectbox(key="filter_scenario").options
    # Deleting the applied scenario goes back to the baseline everywhere.
    assert page.selectbox(key="filter_scenario").value == ""
    assert page.number_input(key="scn_floor_F01").value == 20.0
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
    shown = shown_statuses(next(d for d in page.dataframe if "M01" in d.value.columns))
    # No community gets a million yuan of office funds: every rated M01 is unmet.
    rated = shown["M01"].isin(["met", "partly_met", "not_met"])
    assert rated.any() and (shown.loc[rated, "M01"] == "not_met").all()
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


def _recorded_downloads(monkeypatch) -> dict:
    """key → (the callable a download button runs on click, its file name)."""
    downloads: dict = {}
    original = _exports.export_button

    def recording(ctx, label, *, data, file_name, key, **kwargs):
        downloads[key] = (data, file_name)
        original(ctx, label, data=data, file_name=file_name, key=key, **kwargs)

    monkeypatch.setattr(_exports, "export_button", recording)
    return downloads


def test_the_scenario_applied_in_the_sidebar_is_the_briefs(app, app_db, monkeypatch):
    """A saved scenario applied in the sidebar is the one the editor starts
    from, so the brief and its Excel (built as the download builds them) are
    under it, not under the baseline."""
    conn = duckdb.connect(str(app_db))
    scenarios.save_scenario(conn, scenarios.from_values(None, {"F01": (30.0, 30.0)}, {}),
                            "用房提标", auth.User("测试", "测试", "leader"))
    conn.close()
    downloads = _recorded_downloads(monkeypatch)
    app.run()  # the sidebar lists the new scenario
    app.selectbox(key="filter_scenario").set_value("用房提标").run()
    page = _open(app)
    assert page.selectbox(key="scenario_start@用房提标").value == "用房提标"
    assert page.number_input(key="scn_floor_F01@用房提标").value == 30.0
    assert any(s.value == t("scenario.saved.applied", name="用房提标") for s in page.success)

    brief_html, html_name = downloads["brief_html"]
    page_text = brief_html().decode("utf-8")
    assert t("brief.scenario.named", name="用房提标") in page_text
    assert t("brief.baseline.note") not in page_text
    assert '<section id="scenario">' in page_text
    assert "F01 每百户办公和活动用房面积：基本值 20 → 30（平方米/百户）" in page_text
    today = f"{date.today():%Y-%m-%d}"
    assert html_name == f"会议简报_{today}.html"

    brief_xlsx, xlsx_name = downloads["brief_xlsx"]
    assert xlsx_name == f"会议简报_{today}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(brief_xlsx()))
    summary = {r[0].value: r[1].value for r in book["概况"].iter_rows(min_row=2)}
    assert summary[t("brief.meta.scenario")] == t("brief.scenario.named", name="用房提标")
    assert [r[0].value for r in book["标准差异"].iter_rows(min_row=2)] == [
        "F01 每百户办公和活动用房面积：基本值 20 → 30（平方米/百户）"]
    # The communities that move: those between the old floor (20) and the new (30).
    moved = {r[0].value for r in book["状态变化"].iter_rows(min_row=2)}
    assert moved == _f01_between(20, 30)
    assert downloads["scenario_export"][1] == f"情景对比_{today}.xlsx"


def test_edits_on_the_page_reach_the_brief_but_not_the_other_pages(app, monkeypatch):
    downloads = _recorded_downloads(monkeypatch)
    page = _open(app)
    page.number_input(key="scn_floor_F01").set_value(30.0).run()
    assert any(i.value == t("scenario.edited", applied=t("scenario.baseline"))
               for i in page.info)
    page_text = downloads["brief_html"][0]().decode("utf-8")
    assert t("brief.scenario.named", name=t("brief.scenario.unnamed")) in page_text
    assert page.selectbox(key="filter_scenario").value == ""
