"""governance.safety and governance.safety_view: reshaping, headline figures,
display and export of the 平安建设 page."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from governance import exporting, maps, safety, safety_view
from governance.indicators import Period, ViewFilter
from tests.conftest import load_fixture_sql

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
PERIOD = Period(2024, JAN, MAR)


def monthly_frame() -> pd.DataFrame:
    rows = []
    for street, is_district in (("东湖街道", False), ("西山镇", False), (None, True)):
        for month, value in ((JAN, 1.0), (FEB, 2.0)):
            counts = {"communities_reporting": 2 if month == JAN else 3,
                      "communities_compared": 2, "communities": 4 if is_district else 2}
            rows.append({"street": street, "is_district": is_district, "month": month,
                         "indicator_id": "S01", "value": value * (3 if is_district else 1),
                         **counts})
            rows.append({"street": street, "is_district": is_district, "month": month,
                         "indicator_id": "S06", "value": None, **counts})
    return pd.DataFrame(rows)


def test_trend_puts_the_district_first_then_the_chosen_streets():
    series = safety.trend(monthly_frame(), "S01", ("西山镇",))
    assert list(series["series"]) == [None, None, "西山镇", "西山镇"]
    assert list(series["value"]) == [3.0, 6.0, 1.0, 2.0]


def test_trend_without_streets_is_the_district_only():
    series = safety.trend(monthly_frame(), "S01")
    assert series["series"].isna().all() and len(series) == 2
    assert list(series.columns) == list(safety.TREND_COLUMNS)
    assert list(series["communities_reporting"]) == [2, 3]


def test_trend_basis_is_the_districts_comparable_communities():
    assert safety.trend_basis(monthly_frame()) == {
        "months": 2, "compared": 2, "communities": 4, "fewest_reporting": 2}
    empty = monthly_frame().iloc[0:0]
    assert safety.trend_basis(empty)["compared"] == 0


def test_street_month_matrix_pivots_streets_by_month():
    matrix = safety.street_month_matrix(monthly_frame(), "S01")
    assert list(matrix.index) == ["东湖街道", "西山镇"]
    assert list(matrix.columns) == [JAN, FEB]
    assert matrix.loc["西山镇", FEB] == 2.0


def test_street_month_matrix_keeps_empty_cells_as_nan():
    matrix = safety.street_month_matrix(monthly_frame(), "S06")
    assert matrix.isna().all().all() and matrix.shape == (2, 2)
    assert safety.street_month_matrix(monthly_frame(), "S09").empty


def test_reconciliation_summary_counts_community_months_once():
    differences = pd.DataFrame({
        "community_id": ["A", "A", "B", "C"],
        "month": [JAN, JAN, JAN, FEB],
        "reported_count": [1.0, 2.0, None, 3.0],
        "checked_community_months": [12] * 4,
    })
    assert safety.reconciliation_summary(differences) == {
        "checked": 12, "differing": 2, "unreported": 1, "measures_differing": 3,
    }
    empty = safety.reconciliation_summary(differences.iloc[0:0])
    assert empty["checked"] == 0 and empty["differing"] == 0


def matrix_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "community_id": ["A", "B", "C", "D", "E"],
        "community_name": ["甲", "乙", "丙", "丁", "戊"],
        "street": ["东", "东", "西", "西", "西"],
        "S04_status": ["met", "met", "not_met", "met", "met"],
        # E: a blank S05 — nothing unmet, but not every standard met either.
        "S05_status": ["met", "met", "met", "no_data", "no_data"],
        "not_met_count": [0, 3, 1, 0, 0],
        "rated_count": [9, 9, 9, 0, 8],
        "months_reported": pd.array([12, 12, 3, 0, 12], dtype="Int64"),
        "months_required": pd.array([12, 12, 12, 12, 12], dtype="Int64"),
        "months_in_period": pd.array([12] * 5, dtype="Int64"),
    })


def test_flag_first_orders_red_flags_then_unmet_count():
    ordered = safety.flag_first(matrix_frame())
    assert list(ordered["community_id"]) == ["C", "B", "A", "D", "E"]
    assert list(ordered["red_flag"]) == [True, False, False, False, False]


def test_headline_counts():
    # all_met: A only (E has a no_data, D nothing rated); short: C (3 of 12), D (0).
    assert safety.headline(safety.flag_first(matrix_frame())) == {
        "communities": 5, "all_met": 1, "red_flag": 1, "any_not_met": 2, "short_reporting": 2,
    }


def test_headline_never_counts_no_data_as_met():
    matrix = matrix_frame()
    matrix["S05_status"] = "no_data"  # A's only blank now: A drops out as well
    assert safety.headline(matrix)["all_met"] == 0
    without_months = matrix_frame().drop(columns=["months_reported", "months_required"])
    assert safety.headline(without_months)["short_reporting"] == 0


def test_reporting_requirement_reads_the_matrix():
    assert safety.reporting_requirement(matrix_frame()) == {"months": 12, "required": 12}
    assert safety.reporting_requirement(matrix_frame().drop(columns=["months_in_period"])) is None
    none = matrix_frame().assign(months_in_period=pd.array([pd.NA] * 5, dtype="Int64"))
    assert safety.reporting_requirement(none) is None


def test_drill_choices_follow_the_matrix_order_and_street():
    ordered = safety.flag_first(matrix_frame())
    assert list(safety.drill_choices(ordered, None)) == ["C", "B", "A", "D", "E"]
    assert safety.drill_choices(ordered, "东") == {"B": "乙（东）", "A": "甲（东）"}


def test_cell_degrees_shrink_longitude_with_latitude():
    lon_deg, lat_deg = safety.cell_degrees(250, 60.0)
    assert lat_deg == pytest.approx(250 / 111_195)
    assert lon_deg == pytest.approx(2 * lat_deg)  # cos 60° = 0.5
    assert safety.cell_degrees(250, None) == pytest.approx((lat_deg, lat_deg))


def test_month_after_rolls_the_year():
    assert safety.month_after(date(2024, 12, 1)) == date(2025, 1, 1)
    assert safety.month_after(date(2024, 2, 1)) == date(2024, 3, 1)


def test_as_of_prefers_the_data_time_over_the_range_end():
    stamp = datetime(2024, 3, 20, 8, 30)
    assert safety.as_of_for(PERIOD, {"data_as_of": stamp}) == stamp
    assert safety.as_of_for(PERIOD, {"data_as_of": None}) == datetime(2024, 3, 31, 23, 59, 59)


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "safety_small")
    return memory_conn


def test_safety_view_on_the_fixture(conn):
    view = safety_view.safety_view(conn, PERIOD, ViewFilter(streets=("东湖街道", "西山镇")))
    # Z9 (北岭街道) is filtered out; A1 has the red flags and comes first.
    matrix = view.standards_matrix
    assert set(matrix["community_id"]) == {"A1", "A2", "A3", "B1", "B2"}
    assert matrix["community_id"].iloc[0] == "A1"
    assert view.red_flag_communities == 1 and len(view.red_flags) == 2
    # Only A3 reported all 3 months and met every standard; B2 reported all three
    # but had no disputes (S01–S03 no_data); A1, A2 and B1 skipped months.
    assert safety.headline(matrix) == {
        "communities": 5, "all_met": 1, "red_flag": 1, "any_not_met": 1, "short_reporting": 3,
    }
    rows = matrix.set_index("community_id")
    assert rows.loc["B1", "reported_months"] == "1/3"
    assert rows.loc["B1", "reporting_note"] == "报送不足：3 个月中仅 1 个月报送"
    assert rows.loc["B1", "S06_status"] == "no_data" and pd.isna(rows.loc["B1", "S06"])
    assert rows.loc["A1", "S04_status"] == "not_met"  # a red flag stays red
    assert safety.reporting_requirement(matrix) == {"months": 3, "required": 3}
    incidents = view.incidents
    assert incidents is not None
    assert incidents.as_of == datetime(2024, 4, 1)
    assert incidents.open_total == 3
    assert incidents.reconciliation == {
        "checked": 15, "differing": 7, "unreported": 5, "measures_differing": 11,
    }
    assert safety_view.incident_kpis(incidents) == {
        "incidents": "10", "resolved_pct": "80.0%", "median_hours": "6.0", "open": "3",
    }


def test_safety_view_without_incidents(conn):
    conn.execute("delete from incidents")
    view = safety_view.safety_view(conn, PERIOD)
    assert view.incidents is None
    assert len(view.monthly) == (3 + 1) * 3 * 9  # 3 streets + district, all in scope


def test_for_display_labels_codes_and_formats_times():
    frame = pd.DataFrame({
        "category": ["criminal", None], "severity": ["major", "general"],
        "status": ["in_progress", "resolved"], "measure": ["petitions", "criminal_cases"],
        "month": [JAN, FEB], "occurred_at": [datetime(2024, 1, 5, 10, 7, 9)] * 2,
        "in_range": [True, False], "open_total": [2, 2],
    })
    shown = safety_view.for_display(frame)
    assert list(shown["category"]) == ["刑事案件", "合计"]
    assert list(shown["severity"]) == ["重大", "一般"]
    assert list(shown["status"]) == ["处置中", "已办结"]
    assert list(shown["measure"]) == ["信访件数", "刑事案件数"]
    assert list(shown["month"]) == ["2024-01", "2024-02"]
    assert shown["occurred_at"].iloc[0] == "2024-01-05 10:07"
    assert list(shown["in_range"]) == ["是", "否"]
    assert "open_total" not in shown


def test_column_labels_come_from_text_then_contract():
    assert safety_view.column_label("difference_count") == "差异"
    assert safety_view.column_label("police_hours") == "民警下沉社区时长"
    assert safety_view.column_label("community_name") == "社区"


def test_export_has_every_table_with_chinese_headers_and_no_live_formula(conn):
    conn.execute("update communities set community_name = '=HYPERLINK(\"http://x\")' "
                 "where community_id = 'A1'")
    view = safety_view.safety_view(conn, PERIOD)
    months = safety.community_months(conn, PERIOD, "A1")
    data = exporting.to_excel_bytes(safety_view.export_sheets(view, months))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["平安指标", "红线事项", "月度指标", "社区逐月", "事件按月按类",
                               "办结用时", "未办结事件", "月报核对差异"]
    red = book["红线事项"]
    headers = [c.value for c in red[1]]
    assert "社区" in headers and "月份" in headers
    cells = [row[headers.index("社区")] for row in red.iter_rows(min_row=2)]
    # Written as text, never as a live formula (Z9's own red flag is in the list too).
    assert [c.value for c in cells] == ['=HYPERLINK("http://x")'] * 2 + ["北岭社区"]
    assert {c.data_type for c in cells} == {"s"}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
    monthly = book["月度指标"]
    streets = {row[0].value for row in monthly.iter_rows(min_row=2)}
    assert "全区" in streets
    monthly_headers = [c.value for c in monthly[1]]
    assert {"报送社区数", "可比社区数（每月都报送）", "社区总数"} <= set(monthly_headers)
    standards = book["平安指标"]
    headers = [c.value for c in standards[1]]
    first_s01 = next(n for n, h in enumerate(headers) if h.startswith("S01 "))
    assert headers.index("平安月报已报送") < headers.index("平安月报报送情况") < first_s01
    notes = {row[headers.index("社区编码")].value: row[headers.index("平安月报报送情况")].value
             for row in standards.iter_rows(min_row=2)}
    assert notes["B1"] == "报送不足：3 个月中仅 1 个月报送" and notes["A3"] == "齐全"


def test_incident_cells_layer_colours_by_open_share():
    cells = pd.DataFrame({
        "cell_lon": [117.0, 117.01], "cell_lat": [32.0, 32.0], "incidents": [100, 4],
        "open_incidents": [0, 4], "major_incidents": [1, 0],
        "top_category": ["dispute", "fire"],
    })
    layer = maps.incident_cells_layer_data(cells, 250)
    assert layer["fill"].iloc[0] == maps.MOSTLY_RESOLVED
    assert layer["fill"].iloc[1] == maps.OPEN_HEAVY
    assert layer["radius"].iloc[0] == pytest.approx(125.0)
    assert layer["radius"].iloc[1] == pytest.approx(125 * 0.25, abs=0.1)  # floor at a quarter
    assert "矛盾纠纷" in layer["tooltip"].iloc[0]


def test_incident_cell_colours_are_the_open_share_colour_of_every_cell():
    """The layer colours all cells at once: each is _open_share_colour of its share."""
    incidents = list(range(1, 200))
    cells = pd.DataFrame({
        "cell_lon": [117.0] * len(incidents), "cell_lat": [32.0] * len(incidents),
        "incidents": incidents, "open_incidents": [n * 37 // 101 for n in incidents],
        "major_incidents": [0] * len(incidents), "top_category": ["other"] * len(incidents),
    })
    layer = maps.incident_cells_layer_data(cells, 250)
    shares = cells["open_incidents"] / cells["incidents"]
    assert layer["fill"].tolist() == [maps._open_share_colour(s) for s in shares]
    assert len({tuple(f) for f in layer["fill"]}) > 10


def test_heat_scale_turns_at_the_standard_and_flips_for_lower_is_better():
    import numpy as np

    from governance import presentation

    values = np.array([[90.0, 100.0], [np.nan, 96.0]])
    scale = presentation._turning_scale(values, 98.0, lower_is_better=False)
    assert (scale["zmin"], scale["zmax"]) == (90.0, 100.0)
    assert scale["colorscale"][1][0] == pytest.approx(0.8)
    assert scale["colorscale"][0][1] == presentation.HEAT_BAD
    flipped = presentation._turning_scale(values, 98.0, lower_is_better=True)
    assert flipped["colorscale"][0][1] == presentation.HEAT_GOOD
    # No standard (S09): turns at the middle of the data.
    assert presentation._turning_scale(values, None, False)["colorscale"][1][0] == 0.5
