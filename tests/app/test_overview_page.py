"""总览 page through Streamlit's AppTest, with values checked against the sample CSVs."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal

from streamlit.testing.v1 import AppTest

from governance.text import t
from tests.app.conftest import TIMEOUT_S, shown_statuses
from tests.app.test_safety_page import reports_only_from_october
from tests.conftest import PROJECT_DIR, SAMPLE_DIR, messy_communities_csv


def _sample_communities() -> list[dict[str, str]]:
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _metric(at, label: str) -> str:
    matches = [m for m in at.metric if m.label == label]
    assert matches, f"no metric labelled {label!r}"
    return matches[0].value


def test_overview_shows_sample_banner_and_district_totals(app):
    communities = _sample_communities()
    assert any("示例数据" in w.value for w in app.warning)
    assert _metric(app, t("overview.kpi.communities")) == f"{len(communities):,}"
    households = sum(int(c["households"]) for c in communities)
    assert _metric(app, t("overview.kpi.households")) == f"{households:,}"


def test_street_filter_narrows_kpis_and_matrix(app):
    communities = _sample_communities()
    street = sorted({c["street"] for c in communities})[0]
    expected = [c for c in communities if c["street"] == street]
    app.sidebar.multiselect(key="filter_streets").set_value([street]).run()
    assert not app.exception
    assert _metric(app, t("overview.kpi.communities")) == str(len(expected))
    matrix = app.dataframe[0].value
    assert sorted(matrix["community_name"]) == sorted(c["community_name"] for c in expected)


def _as_shown(value: float) -> float:
    """The matrix shows (and sends) one decimal, rounded half up; exports keep all."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def test_matrix_f01_is_office_area_per_hundred_households(app):
    matrix = app.dataframe[0].value
    statuses = shown_statuses(app.dataframe[0])
    for community in _sample_communities()[:10]:
        at = matrix.index[matrix["community_name"] == community["community_name"]][0]
        expected = float(community["office_area_m2"]) / int(community["households"]) * 100
        assert abs(matrix.loc[at, "F01"] - _as_shown(expected)) < 1e-9
        status = "met" if expected >= 30 else "partly_met" if expected >= 20 else "not_met"
        assert statuses.loc[at, "F01"] == status


def test_dimension_kpis_are_percentages(app):
    for dimension in ("facilities", "funding", "safety", "organisation"):
        value = _metric(app, t("overview.kpi.dimension", dimension=t(f"dimension.{dimension}")))
        assert value.endswith("%")
        assert 0 <= float(value.rstrip("%")) <= 100



def test_tables_and_charts_drawn_from_cache_follow_an_import(app):
    """The matrix and charts are replayed from a cache on later runs; an import
    (a new data version) must draw them afresh, and an unchanged rerun must
    replay exactly what was drawn."""
    community = _sample_communities()[0]
    before = app.dataframe[0].value
    app.run()
    replayed = app.dataframe[0].value
    assert replayed.equals(before)
    charts_before = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert len(charts_before) == 2

    app.switch_page("pages/data.py").run()
    app.file_uploader(key="upload_files").set_value(
        ("社区基本情况.csv", messy_communities_csv(households_bump=1000), "text/csv")
    ).run()
    app.button(key="apply_import").click().run()
    assert any("已导入" in s.value for s in app.success)
    app.switch_page("pages/overview.py").run()
    assert not app.exception, app.exception

    after = app.dataframe[0].value
    row = after[after["community_name"] == community["community_name"]].iloc[0]
    expected = float(community["office_area_m2"]) / (int(community["households"]) + 1000) * 100
    assert abs(row["F01"] - _as_shown(expected)) < 1e-9
    assert [chart.proto.spec for chart in app.get("plotly_chart")] != charts_before


def test_a_community_reporting_3_of_12_months_is_no_data_with_the_reason(app_db):
    cut = reports_only_from_october(app_db)
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    matrix = at.dataframe[0].value
    shown = shown_statuses(at.dataframe[0])
    safety_ids = [f"S0{i}" for i in range(1, 10)]
    row = matrix[matrix["community_name"] == cut["community_name"]].iloc[0]
    assert row["reported_months"] == "3/12"
    assert row["reporting_note"] == "报送不足：12 个月中仅 3 个月报送"
    assert shown.loc[row.name, safety_ids].tolist() == ["no_data"] * 9
    # Its three perfect months count toward neither the met nor the rated pairs.
    help_text = next(m.help for m in at.metric
                     if m.label == t("overview.kpi.dimension", dimension=t("dimension.safety")))
    no_data = int((shown[safety_ids] == "no_data").sum().sum())
    assert f"无数据 {no_data} 项" in help_text and no_data >= 9
