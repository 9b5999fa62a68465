"""The 平安建设 page's event sections read from imported aggregates
(governance/safety_view.py, queries/agg_*.sql): on the same data they equal
the sections computed from the raw events, for every street, type and month
range inside the run, and the figures below are worked out by hand from
tests/fixtures/safety_small.sql."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from governance import db, safety_view
from governance.indicators import Period, ViewFilter
from governance.spark import aggregates
from governance.text import t
from tests.conftest import load_fixture_sql

RUN = Period(month_from=date(2024, 1, 1), month_to=date(2024, 3, 1))
QUANTILES = ["median_resolution_hours", "p90_resolution_hours"]


def _with_run(conn, tmp_path, period=RUN):
    run = aggregates.compute(conn, period)
    aggregates.write(run, tmp_path, "parquet", "spark", "test")
    aggregates.import_aggregates(conn, tmp_path)


@pytest.fixture
def conn(tmp_path):
    connection = db.connect_memory()
    load_fixture_sql(connection, "safety_small")
    _with_run(connection, tmp_path)
    yield connection
    connection.close()


def _both(conn, period, view_filter):
    raw = safety_view.incident_view(conn, period, view_filter, source=safety_view.RAW)
    agg = safety_view.incident_view(conn, period, view_filter, source=safety_view.AGGREGATES)
    assert raw.source.kind == safety_view.RAW
    assert agg.source.kind == safety_view.AGGREGATES
    return raw, agg


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True),
                                  check_dtype=False)


DULL = ViewFilter()
EAST = ViewFilter(streets=("东湖街道",))
WEST = ViewFilter(streets=("西山镇",))
RURAL = ViewFilter(community_types=("rural",))
EAST_URBAN = ViewFilter(streets=("东湖街道",), community_types=("urban",))
FEB_MAR = Period(month_from=date(2024, 2, 1), month_to=date(2024, 3, 1))
JAN = Period(month_from=date(2024, 1, 1), month_to=date(2024, 1, 1))


@pytest.mark.parametrize("period", [RUN, FEB_MAR, JAN], ids=["run", "feb-mar", "jan"])
@pytest.mark.parametrize("view_filter", [DULL, EAST, WEST, RURAL, EAST_URBAN],
                         ids=["all", "east", "west", "rural", "east-urban"])
def test_aggregate_view_equals_the_raw_view(conn, period, view_filter):
    raw, agg = _both(conn, period, view_filter)
    assert agg.as_of == raw.as_of
    _same(raw.counts, agg.counts)
    _same(raw.open_cases, agg.open_cases)
    _same(raw.differences, agg.differences)
    assert agg.reconciliation == raw.reconciliation
    whole = period == RUN and view_filter == DULL
    assert agg.source.whole_run is whole
    if whole:
        _same(raw.resolution, agg.resolution)
    else:
        # A median does not add up: only the run's own, never a wrong one.
        _same(raw.resolution.drop(columns=QUANTILES), agg.resolution.drop(columns=QUANTILES))
        assert agg.resolution[QUANTILES].isna().all().all()


def test_hand_computed_rows_for_one_street(conn):
    """东湖街道 (A1, A2, A3), 2024-01..03: I01–I09; the data run to I12's
    2024-04-01 00:00."""
    view = safety_view.incident_view(conn, RUN, EAST, source=safety_view.AGGREGATES)
    assert view.as_of == datetime(2024, 4, 1)
    counts = view.counts.set_index(["month", "category"])["incidents"]
    assert len(counts) == 3 * 6  # months × categories seen in range
    assert counts[(date(2024, 1, 1), "criminal")] == 2       # I01, I02
    assert counts[(date(2024, 1, 1), "hazard")] == 1         # I05
    assert counts[(date(2024, 2, 1), "mass_incident")] == 1  # I07
    assert counts[(date(2024, 3, 1), "dispute")] == 2        # I08, I09
    assert counts[(date(2024, 3, 1), "criminal")] == 0
    total = view.total
    assert (total["incidents"], total["resolved_incidents"], total["timed_resolutions"],
            total["open_incidents"], total["open_over_30_days"]) == (9, 7, 6, 2, 2)
    assert total["resolved_pct"] == pytest.approx(700 / 9)
    open_rows = view.open_cases[["incident_id", "age_days", "in_range", "open_total"]]
    assert open_rows.values.tolist() == [["I04", 72, True, 2], ["I07", 51, True, 2]]


def test_the_backlog_before_the_run_is_kept(conn):
    """西山镇's only open case, I11, occurred in 2023-12, before the run's months."""
    view = safety_view.incident_view(conn, RUN, WEST, source=safety_view.AGGREGATES)
    assert view.open_cases[["incident_id", "in_range", "open_total"]].values.tolist() == [
        ["I11", False, 1]]


def test_reconciliation_uses_this_dashboards_reports(conn):
    """A report corrected after the run is reconciled against: A1 reported 2
    criminal cases in January and the events say 2 — change the report to 5."""
    view = safety_view.incident_view(conn, RUN, EAST, source=safety_view.AGGREGATES)
    before = view.differences
    assert not ((before["community_id"] == "A1") & (before["measure"] == "criminal_cases")
                & (before["month"] == date(2024, 1, 1))).any()
    conn.execute("update safety set criminal_cases = 5 "
                 "where community_id = 'A1' and month = date '2024-01-01'")
    after = safety_view.incident_view(conn, RUN, EAST, source=safety_view.AGGREGATES)
    rows = after.differences
    row = rows[(rows["community_id"] == "A1") & (rows["measure"] == "criminal_cases")
               & (rows["month"] == date(2024, 1, 1))]
    assert row[["reported_count", "incident_count", "difference_count"]].values.tolist() == [
        [5, 2, -3]]


def test_months_outside_the_run_are_clipped_and_said(conn):
    wider = Period(month_from=date(2023, 11, 1), month_to=date(2024, 2, 1))
    view = safety_view.incident_view(conn, wider, DULL, source=safety_view.AGGREGATES)
    assert view.source.clipped
    assert view.source.period == Period(month_from=date(2024, 1, 1), month_to=date(2024, 2, 1))
    assert sorted(set(view.counts["month"])) == [date(2024, 1, 1), date(2024, 2, 1)]
    notes = safety_view.source_notes(view)
    assert t("safety.incidents.source.clipped", month_from="2024-01", month_to="2024-02") in notes
    outside = Period(month_from=date(2023, 1, 1), month_to=date(2023, 6, 1))
    none = safety_view.incident_view(conn, outside, DULL, source=safety_view.AGGREGATES)
    assert none.source.period is None
    assert none.counts.empty and none.open_cases.empty and none.differences.empty
    assert t("safety.incidents.source.outside") in safety_view.source_notes(none)


def test_the_page_names_its_source_in_chinese(conn):
    agg = safety_view.incident_view(conn, RUN, EAST, source=safety_view.AGGREGATES)
    notes = safety_view.source_notes(agg)
    assert notes[0].startswith("事件统计来自省级平台汇总（Spark，导入于 ")
    assert "汇总月份 2024-01 至 2024-03" in notes[0]
    assert t("safety.incidents.source.no_quantiles") in notes
    raw = safety_view.incident_view(conn, RUN, EAST, source=safety_view.RAW)
    assert safety_view.source_notes(raw)[0].startswith("事件统计来自本看板数据库中的原始网格事件")


def test_the_source_rule():
    """Aggregates when a run exists and raw events are absent or end earlier."""
    run = aggregates.ImportedRun(RUN, datetime(2024, 4, 1), ("东湖街道",), "spark", "x",
                                 datetime(2024, 4, 2), datetime(2024, 4, 3), 9, 32.0)
    assert safety_view.choose_source(0, None, None) is None
    assert safety_view.choose_source(5, datetime(2024, 4, 1), None) == safety_view.RAW
    assert safety_view.choose_source(0, None, run) == safety_view.AGGREGATES
    assert safety_view.choose_source(5, datetime(2024, 3, 31), run) == safety_view.AGGREGATES
    assert safety_view.choose_source(5, datetime(2024, 4, 1), run) == safety_view.RAW
    assert safety_view.choose_source(5, datetime(2024, 5, 1), run) == safety_view.RAW


def test_auto_reads_aggregates_once_the_raw_events_are_gone(conn):
    assert safety_view.incident_view(conn, RUN).source.kind == safety_view.RAW
    conn.execute("delete from incidents")
    view = safety_view.incident_view(conn, RUN)
    assert view.source.kind == safety_view.AGGREGATES
    assert int(view.total["incidents"]) == 11  # I01–I10 and I13 (Z9); I11, I12 out of range


def test_map_cells_only_for_the_whole_run(conn):
    conn.execute("delete from incidents")
    shapes, cells = safety_view.incident_map(conn, RUN, 250, 32.0)
    stored = conn.table("incident_agg_map_cells").to_df()
    assert len(cells) == len(stored) > 0
    assert int(cells["incidents"].sum()) == int(stored["incidents"].sum())
    _, filtered = safety_view.incident_map(conn, RUN, 250, 32.0, view_filter=EAST)
    assert filtered.empty
    _, other_size = safety_view.incident_map(conn, RUN, 500, 32.0)
    assert other_size.empty


def test_drill_down_event_columns_follow_the_source(conn):
    """A1's months from the aggregates equal those from the raw events; a month
    outside the run is unknown, not 0."""
    raw = safety_view.community_months(conn, RUN, "A1")
    assert raw["incidents"].tolist() == [5, 2, 0]  # I01–I05; I06, I07; none in March
    conn.execute("delete from incidents")
    agg = safety_view.community_months(conn, RUN, "A1")
    assert agg["incidents"].tolist() == [5, 2, 0]
    assert agg["open_incidents"].tolist() == raw["open_incidents"].tolist() == [1, 1, 0]
    wider = safety_view.community_months(
        conn, Period(month_from=date(2023, 12, 1), month_to=date(2024, 1, 1)), "A1")
    assert wider["incidents"].isna().tolist() == [True, False]
