"""平安建设 page through AppTest, its figures checked against the shipped sample
CSVs read with the csv module (an independent count, not the page's SQL)."""

from __future__ import annotations

import base64
import csv
import json
from collections import Counter

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from governance import presentation
from governance.text import t
from tests.app.conftest import TIMEOUT_S, shown_statuses
from tests.conftest import PROJECT_DIR, SAMPLE_DIR


def _open(app):
    app.switch_page("pages/safety.py").run()
    assert not app.exception, app.exception
    return app


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _element(at, column: str):
    return next(d for d in at.dataframe if column in d.value.columns)


def _table(at, column: str):
    return _element(at, column).value


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
    name_of = {c["community_id"]: (c["community_name"], c["street"]) for c in _rows("communities")}
    leading = matrix.head(len(flagged))
    assert set(zip(leading["community_name"], leading["street"], strict=True)) == {
        name_of[c] for c in flagged}
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
    listed = min(len(open_cases), 500)
    # Listed a page at a time (pages/_drawing.py: paged): the first page, and
    # the caption counts every listed case.
    assert listed > presentation.PAGE_ROWS
    assert len(table) == presentation.PAGE_ROWS
    assert any(f"共 {listed:,} 行" in c.value for c in page.caption)
    oldest = min(open_cases, key=lambda r: (r["occurred_at"], r["incident_id"]))
    assert table[t("safety.column.incident_id")].iloc[0] == oldest["incident_id"]
    pages = -(-listed // presentation.PAGE_ROWS)
    page.number_input(key=f"safety_open__page__{pages}__").set_value(pages).run()
    last = _table(page, t("safety.column.age_days"))
    assert len(last) == listed - (pages - 1) * presentation.PAGE_ROWS


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


# --- reporting completeness -------------------------------------------------------


def reports_only_from_october(db_path) -> dict:
    """The user's case in the shipped sample: a community that reported every
    month cut back to the last 3 of the 12 months, those 3 made perfect (each
    standard would be met if 3 months were enough). Returns that community's
    CSV row plus the months kept and the range."""
    months = _latest_months()
    by_community: dict[str, set[str]] = {}
    for row in _rows("safety"):
        if row["month"] in months:
            by_community.setdefault(row["community_id"], set()).add(row["month"])
    community = next(c for c in _rows("communities")
                     if by_community.get(c["community_id"]) == set(months))
    kept = months[-3:]
    conn = duckdb.connect(str(db_path))
    conn.execute(
        "delete from safety where community_id = $id and strftime(month, '%Y-%m') in"
        " (select unnest($months))", {"id": community["community_id"], "months": months[:-3]})
    conn.execute(
        "update safety set disputes_received = 10, disputes_mediated = 10,"
        " disputes_resolved = 10, correction_subjects = 5, reoffenders = 0,"
        " major_criminal_cases = 0, mass_incidents = 0, satisfaction_rate = 100,"
        " police_hours = 40, legal_education_rate = 100 where community_id = $id",
        {"id": community["community_id"]})
    conn.close()
    complete = {c for c, reported in by_community.items() if reported == set(months)}
    return {**community, "kept": kept, "months": months,
            "complete": complete - {community["community_id"]}}


STANDARD_IDS = [f"S0{i}" for i in range(1, 9)]  # S09 has no standard


def _array(value) -> list:
    """A plotly JSON array: a plain list, or a typed array ({dtype, bdata, shape})."""
    if not isinstance(value, dict):
        return list(value)
    array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    if "shape" in value:
        array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
    return array.tolist()


def _fresh_safety_page():
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    return _open(at)


def test_three_of_twelve_months_is_no_data_with_the_reason_never_all_met(app_db):
    cut = reports_only_from_october(app_db)
    page = _fresh_safety_page()
    element = _element(page, "S04")
    matrix, shown = element.value, shown_statuses(element)
    is_cut = matrix["community_name"] == cut["community_name"]
    row = matrix[is_cut].iloc[0]
    assert row["reported_months"] == "3/12"
    assert row["reporting_note"] == "报送不足：12 个月中仅 3 个月报送"
    assert shown.loc[row.name, STANDARD_IDS].tolist() == ["no_data"] * 8
    # The headline counts only communities whose every standard shows met.
    met_rows = shown[STANDARD_IDS].isin(["met", "partly_met"]).all(axis=1)
    assert _metric(page, t("safety.kpi.all_met")) == str(int(met_rows.sum()))
    assert not met_rows[is_cut].any()
    # Short of months: every community that missed a month in the CSVs, and this one.
    short = len(_rows("communities")) - len(cut["complete"])
    assert _metric(page, t("safety.kpi.short_reporting")) == str(short)
    assert any("至少报送 12 个月" in c.value for c in page.caption)


def test_district_trend_counts_only_communities_reporting_every_month(app_db):
    cut = reports_only_from_october(app_db)
    page = _fresh_safety_page()
    page.selectbox(key="safety_trend_indicator").set_value("S06").run()
    specs = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    district = next(s for s in specs if "S06" in s["layout"]["title"]["text"])["data"][0]
    reporting = Counter(r["month"] for r in _rows("safety") if r["month"] in cut["months"]
                        and (r["community_id"] != cut["community_id"]
                             or r["month"] in cut["kept"]))
    total = len(_rows("communities"))
    assert _array(district["customdata"]) == [
        [reporting[m], len(cut["complete"]), total] for m in cut["months"]]
    # The line is the mean over the same communities every month: October's
    # point (the cut community now reporting a perfect 100) equals the mean of
    # the complete communities' October rates, read from the CSV.
    october = cut["kept"][0]
    rates = [float(r["satisfaction_rate"]) for r in _rows("safety")
             if r["month"] == october and r["community_id"] in cut["complete"]
             and r["satisfaction_rate"]]
    assert _array(district["y"])[cut["months"].index(october)] == pytest.approx(
        sum(rates) / len(rates))
    assert any(f"全区 {len(cut['complete'])} / {total} 个" in c.value for c in page.caption)
