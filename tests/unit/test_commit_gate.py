"""The commit gate: no read starts while a commit is in progress, and a commit
waits for the reads already running (DuckDB 2.0 shows a large commit in steps;
tests/fault/test_snapshot_reads.py is the end-to-end check)."""

from __future__ import annotations

import threading

from governance import db


def test_a_commit_waits_for_the_running_read_and_holds_new_ones():
    gate = db._CommitGate()
    order: list[str] = []
    reading = threading.Event()
    release_reader = threading.Event()
    committing = threading.Event()
    release_commit = threading.Event()

    def reader():
        with gate.reading():
            reading.set()
            release_reader.wait(5)
            order.append("first read done")

    def committer():
        with gate.committing():
            order.append("commit")
            committing.set()
            release_commit.wait(5)

    def late_reader():
        with gate.reading():
            order.append("late read")

    first = threading.Thread(target=reader)
    first.start()
    reading.wait(5)
    commit = threading.Thread(target=committer)
    commit.start()
    commit.join(0.2)
    assert order == []  # the commit waits for the read in progress
    release_reader.set()
    committing.wait(5)
    late = threading.Thread(target=late_reader)
    late.start()
    late.join(0.2)
    assert order == ["first read done", "commit"]  # the late read waits for the commit
    release_commit.set()
    for thread in (first, commit, late):
        thread.join(5)
    assert order == ["first read done", "commit", "late read"]


def test_every_commit_of_data_goes_through_the_gate():
    from tests.conftest import PROJECT_DIR

    for path in (PROJECT_DIR / "governance").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name == "db.py":
            continue
        assert 'execute("commit")' not in text, f"{path.name} commits past the gate"
