"""Readers during an import see the data before it or after it, never in between.

One thread imports (grid events replaced by key, or a range of months of the
safety reports with changed figures) into a database file while other threads,
each on its own cursor as the app's sessions are, keep reading the row count
and a checksum of the affected table: in one statement, or in two statements
inside one transaction. Every observed pair must be the before-state or the
after-state.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import pytest

from governance import db, importer, sample, sample_loader

pytestmark = pytest.mark.fault

READERS = 3
INCIDENTS = 150_000
SAFETY_MONTHS = ("2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12")


def _pair_sql(table: str) -> str:
    return "select count(*), sum(hash(x)::hugeint) from " + table + " x"


def _safety_update(tmp_path: Path) -> Path:
    """Half a year of the sample's safety reports with every police-hours figure changed."""
    source = sample_loader.SAMPLE_DIR / "safety.csv"
    target = tmp_path / "safety-h2.csv"
    with open(source, encoding="utf-8", newline="") as reader, \
            open(target, "w", encoding="utf-8", newline="") as writer:
        rows = csv.DictReader(reader)
        out = csv.DictWriter(writer, rows.fieldnames)
        out.writeheader()
        for row in rows:
            if row["month"] in SAFETY_MONTHS:
                if row["police_hours"]:
                    row["police_hours"] = format(float(row["police_hours"]) + 1.5, ".1f")
                out.writerow(row)
    return target


@pytest.mark.parametrize("table", ["incidents", "safety"])
def test_readers_see_before_or_after(tmp_path, table, monkeypatch):
    if table == "incidents":
        written = sample.write_sample(
            tmp_path / "big", sample.SampleSize(incidents=INCIDENTS), seed=11
        )
        path = written["incidents"]
    else:
        path = _safety_update(tmp_path)
    conn = db.connect(tmp_path / "district.duckdb")
    try:
        sample_loader.ensure_sample_loaded(conn)
        sql = _pair_sql(table)
        before = tuple(conn.execute(sql).fetchone())

        window: dict[str, float] = {}
        from governance.importer import apply as importer_apply

        real_apply = importer_apply._apply

        def timed_apply(*args, **kwargs):
            window["apply"] = time.monotonic()
            try:
                return real_apply(*args, **kwargs)
            finally:
                window["committed"] = time.monotonic()

        monkeypatch.setattr(importer_apply, "_apply", timed_apply)

        stop = threading.Event()
        seen: list[tuple[float, float, tuple]] = []
        errors: list[BaseException] = []

        def read(two_statements: bool) -> None:
            # As every read of the app does (db.run_query, db.data_version):
            # through the commit gate, which DuckDB 2.0 needs (see db._CommitGate).
            cur = conn.cursor()
            try:
                while not stop.is_set():
                    started = time.monotonic()
                    with db.COMMIT_GATE.reading():
                        if two_statements:
                            cur.execute("begin transaction")
                            count = cur.execute("select count(*) from " + table).fetchone()[0]
                            total = cur.execute(
                                "select sum(hash(x)::hugeint) from " + table + " x"
                            ).fetchone()[0]
                            cur.execute("commit")
                            pair = (count, total)
                        else:
                            pair = tuple(cur.execute(sql).fetchone())
                    seen.append((started, time.monotonic(), pair))
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                cur.close()

        threads = [threading.Thread(target=read, args=(i % 2 == 1,)) for i in range(READERS)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        started = time.monotonic()
        result = importer.import_file(
            conn, importer.SourceFile(path, table), applied_by="fault-test"
        )
        finished = time.monotonic()
        time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert result.applied, result.report.messages()
        after = tuple(conn.execute(sql).fetchone())
    finally:
        conn.close()

    assert before != after
    strange = [pair for _, _, pair in seen if pair not in (before, after)]
    assert strange == []
    during = [s for s in seen if s[0] >= started and s[1] <= finished]
    in_apply = [s for s in seen if s[1] >= window["apply"] and s[0] <= window["committed"]]
    span = window["committed"] - window["apply"]
    print(f"\n{table}: {len(seen)} reads, {len(during)} during the import,"
          f" {len(in_apply)} overlapping the apply ({span:.3f} s)")
    assert during and in_apply
    assert {pair for *_, pair in seen} >= {before, after}
