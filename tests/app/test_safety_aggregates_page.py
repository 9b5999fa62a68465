"""平安建设 page through AppTest when only imported aggregates are present: the
sample district's events are aggregated (governance/spark/aggregates.py on
DuckDB; tests/spark/test_aggregates.py shows Spark gives the same rows),
imported, and the raw events deleted. The figures are checked against the
shipped sample CSVs read with the csv module, not against the page's SQL."""

from __future__ import annotations

import csv
import json
from datetime import date

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from governance import db, indicators
from governance.spark import aggregates
from governance.text import t
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR, SAMPLE_DIR


def _rows(name: str) -> list[dict]:
    with open(SAMPLE_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _latest_months(count: int = 12) -> list[str]:
    return sorted({r["month"] for r in _rows("safety")})[-count:]


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture
def only_aggregates(app_db, tmp_path):
    conn = db.connect(app_db)
    run = aggregates.compute(conn, indicators.default_period(conn))
    aggregates.write(run, tmp_path / "run", "parquet", "spark", "hive:governance")
    aggregates.import_aggregates(conn, tmp_path / "run")
    conn.close()
    conn = duckdb.connect(str(app_db))
    conn.execute("delete from incidents")
    conn.close()
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    at.switch_page("pages/safety.py").run()
    assert not at.exception, at.exception
    return at


def _events(months, communities=None):
    return [r for r in _rows("incidents") if r["occurred_at"][:7] in months
            and (communities is None or r["community_id"] in communities)]


def test_the_page_reads_the_aggregates_and_says_so(only_aggregates):
    page = only_aggregates
    months = _latest_months()
    assert any(i.value.startswith("事件统计来自省级平台汇总（Spark，导入于 ") for i in page.info)
    assert any(f"汇总月份 {months[0]} 至 {months[-1]}" in i.value for i in page.info)
    events = _events(months)
    assert events, "the sample carries grid events"
    assert _metric(page, t("safety.kpi.incidents")) == f"{len(events):,}"
    resolved = sum(r["status"] == "resolved" for r in events)
    assert _metric(page, t("safety.kpi.resolved_pct")) == f"{resolved * 100 / len(events):.1f}%"
    # The whole run: its median is the view's median (linear interpolation,
    # as quantile_cont), over events with a resolution time.
    hours = [(np.datetime64(r["resolved_at"]) - np.datetime64(r["occurred_at"]))
             / np.timedelta64(1, "s") / 3600 for r in events if r["resolved_at"]]
    assert _metric(page, t("safety.kpi.median_hours")) == f"{np.median(hours):.1f}"
    open_cases = [r for r in _rows("incidents") if r["status"] != "resolved"
                  and r["occurred_at"][:7] <= months[-1]]
    assert _metric(page, t("safety.kpi.open")) == f"{len(open_cases):,}"
    table = _table(page, t("safety.column.age_days"))
    oldest = min(open_cases, key=lambda r: (r["occurred_at"], r["incident_id"]))
    assert table[t("safety.column.incident_id")].iloc[0] == oldest["incident_id"]
    assert any(t("safety.map.from_run", metres=250) == c.value for c in page.caption)
    assert page.get("deck_gl_json_chart"), "the run's map cells are drawn"


def test_reconciliation_from_aggregates_adds_up(only_aggregates):
    page = only_aggregates
    table = _table(page, t("safety.column.difference_count"))
    both = table[table[t("safety.column.reported_count")].notna()]
    assert len(both) > 0
    assert (both[t("safety.column.difference_count")]
            == both[t("safety.column.incident_count")]
            - both[t("safety.column.reported_count")]).all()


def test_a_street_filter_narrows_the_counts_and_says_what_cannot(only_aggregates):
    page = only_aggregates
    street = sorted({r["street"] for r in _rows("communities")})[-1]
    page.multiselect(key="filter_streets").set_value([street]).run()
    assert not page.exception
    in_street = {r["community_id"] for r in _rows("communities") if r["street"] == street}
    months = _latest_months()
    assert _metric(page, t("safety.kpi.incidents")) == f"{len(_events(months, in_street)):,}"
    open_cases = [r for r in _rows("incidents") if r["status"] != "resolved"
                  and r["occurred_at"][:7] <= months[-1] and r["community_id"] in in_street]
    assert _metric(page, t("safety.kpi.open")) == f"{len(open_cases):,}"
    # A median does not add up: shown as missing, with the reason.
    assert _metric(page, t("safety.kpi.median_hours")) == "—"
    assert any(w.value == t("safety.incidents.source.no_quantiles") for w in page.warning)
    assert any(i.value == t("safety.map.run_unavailable", metres=250) for i in page.info)
    assert not page.get("deck_gl_json_chart")


def test_months_before_the_run_are_not_shown_as_zero(only_aggregates):
    page = only_aggregates
    months = _latest_months()
    start = date.fromisoformat(months[0] + "-01")
    before = date(start.year - 1, start.month, 1)
    page.select_slider(key="filter_months").set_value(
        (before, date.fromisoformat(months[-1] + "-01"))).run()
    assert not page.exception
    assert any(w.value.startswith("所选月份超出汇总的月份范围") for w in page.warning)
    # The bars cover only the run's months: a month before it is not a 0-bar.
    specs = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    bars = next(s for s in specs if s["layout"].get("barmode") == "stack")
    shown = {str(x)[:7] for trace in bars["data"] for x in trace["x"]}
    assert shown == set(months)
    assert _metric(page, t("safety.kpi.incidents")) == f"{len(_events(months)):,}"
