"""The shipped sample loads through the real importer, once, and is recognised as sample."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pytest

from governance import db, sample_loader, sample_rows
from governance.contract import COMMUNITY_TYPE, TABLES
from governance.sample_loader import SAMPLE_APPLIED_BY, SAMPLE_DIR

COUNTS = {
    "communities": "select count(*) from communities",
    "facilities": "select count(*) from facilities",
    "funding": "select count(*) from funding",
    "safety": "select count(*) from safety",
    "residences": "select count(*) from residences",
    "incidents": "select count(*) from incidents",
}


def _csv_rows(name: str) -> int:
    with (SAMPLE_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@pytest.fixture(scope="module")
def loaded():
    conn = db.connect_memory()
    first = sample_loader.ensure_sample_loaded(conn)
    yield conn, first
    conn.close()


def test_first_call_loads_every_table(loaded):
    conn, first = loaded
    assert first is True
    assert conn.execute("select count(*) from communities").fetchone()[0] == 117
    for name in TABLES:
        count = conn.execute(COUNTS[name]).fetchone()[0]
        assert count == _csv_rows(name), name


def test_import_history_marks_the_sample(loaded):
    conn, _ = loaded
    rows = conn.execute(
        "select table_name, applied_by, is_sample from import_history order by import_id"
    ).fetchall()
    assert {r[0] for r in rows} == set(TABLES)
    assert all(r[1] == SAMPLE_APPLIED_BY and r[2] for r in rows)


def test_sample_tables_present_lists_all_tables_in_contract_order(loaded):
    conn, _ = loaded
    assert sample_rows.tables_present(conn) == list(TABLES)


def test_second_call_returns_false_and_changes_nothing(loaded):
    conn, _ = loaded
    before = db.data_version(conn)
    assert sample_loader.ensure_sample_loaded(conn) is False
    assert db.data_version(conn) == before
    assert conn.execute("select count(*) from communities").fetchone()[0] == 117


def test_a_table_without_sample_rows_drops_out_of_the_list():
    conn = db.connect_memory()
    try:
        assert sample_loader.ensure_sample_loaded(conn) is True
        conn.execute("delete from residences")
        assert sample_rows.tables_present(conn) == [n for n in TABLES if n != "residences"]
    finally:
        conn.close()


def test_values_arrive_in_canonical_form(loaded):
    conn, _ = loaded
    row = conn.execute(
        "select community_type, office_area_m2 from communities "
        "where community_id = '340403001001'"
    ).fetchone()
    assert row[0] in ("urban", "old_town")
    assert row[1] > 0
    months = conn.execute("select min(month), max(month) from safety").fetchone()
    assert (months[0].isoformat(), months[1].isoformat()) == ("2024-01-01", "2025-12-01")
    total = conn.execute(
        "select sum(amount_yuan) from funding where category = 'public_welfare' and year = 2025"
    ).fetchone()[0]
    assert float(total) == pytest.approx(1_000_000, rel=0.01)


def test_grid_events_arrive_as_timestamps_and_disagree_only_where_seeded(loaded):
    conn, _ = loaded
    first, last, open_with_end, resolved_without_end = conn.execute(
        "select min(occurred_at), max(occurred_at),"
        " count(*) filter (where status <> 'resolved' and resolved_at is not null),"
        " count(*) filter (where status = 'resolved' and resolved_at is null)"
        " from incidents"
    ).fetchone()
    assert datetime(2025, 1, 1) <= first < datetime(2025, 1, 2)
    assert datetime(2025, 12, 31) <= last < datetime(2026, 1, 1)
    assert open_with_end == 0 and resolved_without_end == 0
    streets = [r[0] for r in conn.execute("select distinct street from communities").fetchall()]
    params = {
        "scope_streets": streets,
        "community_types": [c.code for c in COMMUNITY_TYPE.codes],
        "month_from": date(2025, 1, 1),
        "month_to": date(2025, 12, 1),
    }
    differences = db.run_query(conn, "incident_report_reconciliation", params).to_pandas()
    reported = differences[differences["reported_count"].notna()]
    # what the dashboard's reconciliation view shows besides unreported values
    assert len(reported) == 5
    assert set(reported["difference_count"]) == {1, -1}
