"""An import killed (SIGKILL) at random moments leaves the old data or the new, never a mix.

A grid-events file large enough that `python -m governance import` takes a few
seconds is imported into copies of the sample database. Each trial kills the
process after a delay drawn from a seeded generator:

- half of the trials spread over the measured duration of a whole run
  (start-up, reading and validating the file: most of the time);
- the other half over the short tail from the moment the database file starts
  to grow (the apply writing its rows) to the end of the run: the insert,
  the commit, the checkpoint, the backup and the close.

The reopened database must equal, table by table, either the state before the
import or the state a complete import leaves, and the app's own start path
(db.connect, ensure_sample_loaded, indicator_values) must work on it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from governance import backup, db, indicators, sample, sample_loader
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.fault

INCIDENTS = 200_000  # above one DuckDB row group (122,880): the apply writes to the file before its commit
TRIALS_OVER_RUN = 4
TRIALS_OVER_APPLY = 4
SEED = 20251122
POLL_S = 0.001


def state(conn) -> tuple:
    """What an import of grid events can change: the table, the history, the version."""
    incidents = conn.execute(
        "select count(*), sum(hash(i)::hugeint) from incidents i"
    ).fetchone()
    history = conn.execute("select count(*), max(import_id) from import_history").fetchone()
    return (tuple(incidents), tuple(history), db.data_version(conn))


def open_like_the_app(path: Path) -> tuple:
    """governance.db.connect + the sample check + indicators, as the app starts."""
    conn = db.connect(path)
    try:
        observed = state(conn)
        assert sample_loader.ensure_sample_loaded(conn) is False  # never reloads over data
        values = indicators.indicator_values(conn, indicators.default_period(conn))
        assert values.num_rows > 0
        return observed
    finally:
        conn.close()


def _wal_size(path: Path) -> int:
    try:
        return path.with_name(path.name + ".wal").stat().st_size
    except FileNotFoundError:
        return -1


def run_import(path: Path, csv: Path, kill_after: float | None = None,
               from_growth: bool = False) -> tuple[bool, float | None, float | None, float]:
    """Run `python -m governance import`; kill it `kill_after` seconds after its
    start (or after the database file first grows: the apply writing rows).
    Returns (finished, seconds to the first growth, seconds to the commit, i.e.
    the write-ahead log changing after that, seconds to the end)."""
    size = path.stat().st_size
    committed: float | None = None
    wal_at_growth = -1
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "governance", "import", "--db", str(path),
         "--table", "incidents", "--by", "fault-test", str(csv)],
        cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    grew: float | None = None
    deadline = None if kill_after is None or from_growth else started + kill_after
    finished = True
    while process.poll() is None:
        now = time.monotonic()
        if grew is None and path.stat().st_size != size:
            grew = now - started
            wal_at_growth = _wal_size(path)
            if from_growth and kill_after is not None:
                deadline = now + kill_after
        elif grew is not None and committed is None and _wal_size(path) != wal_at_growth:
            committed = now - started
        if deadline is not None and now >= deadline:
            os.kill(process.pid, signal.SIGKILL)
            finished = False
            break
        time.sleep(POLL_S)
    _, errors = process.communicate(timeout=120)
    if finished:
        assert process.returncode == 0, errors
    return finished, grew, committed, time.monotonic() - started


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    root = tmp_path_factory.mktemp("kill")
    written = sample.write_sample(root / "big", sample.SampleSize(incidents=INCIDENTS), seed=7)
    template = root / "template" / "before.duckdb"
    template.parent.mkdir()
    conn = db.connect(template)
    try:
        sample_loader.ensure_sample_loaded(conn)
        conn.execute("checkpoint")
        before = state(conn)
    finally:
        conn.close()
    # One complete run, timed; its result is the "new" state.
    clean = root / "clean" / "after.duckdb"
    clean.parent.mkdir()
    shutil.copyfile(template, clean)
    _, grew, committed, duration = run_import(clean, written["incidents"])
    assert grew is not None and committed is not None
    after = open_like_the_app(clean)
    assert after != before and after[0][0] >= INCIDENTS  # replaced by incident id
    return root, template, written["incidents"], before, after, duration, grew, committed


def test_a_killed_import_leaves_old_or_new_data(setting):
    root, template, csv, before, after, duration, grew, committed = setting
    rng = random.Random(SEED)
    apply_s, tail_s = committed - grew, duration - grew
    # One delay per slice (stratified), so every phase is hit: slices of the
    # whole run; slices of the apply up to a little past its commit; one slice
    # of what follows (checkpoint, backup, close) to a little past the end.
    plan = [(duration * (0.03 + 1.0 * (i + rng.random()) / TRIALS_OVER_RUN), False)
            for i in range(TRIALS_OVER_RUN)]
    plan += [(apply_s * 1.3 * (i + rng.random()) / (TRIALS_OVER_APPLY - 1), True)
             for i in range(TRIALS_OVER_APPLY - 1)]
    plan.append((apply_s * 1.3 + (tail_s * 1.1 - apply_s * 1.3) * rng.random(), True))
    outcomes = []
    for index, (delay, from_growth) in enumerate(plan):
        folder = root / ("trial-" + str(index))
        folder.mkdir()
        path = folder / "district.duckdb"
        shutil.copyfile(template, path)
        finished = run_import(path, csv, delay, from_growth)[0]
        observed = open_like_the_app(path)
        outcome = "old" if observed == before else "new" if observed == after else "MIXED"
        outcomes.append(
            (("apply+" if from_growth else "start+") + format(delay, ".3f") + "s",
             "finished" if finished else "killed", outcome)
        )
        assert outcome != "MIXED", (delay, from_growth, observed, before, after)
        # Whatever backups a killed run left are whole databases.
        for item in backup.list_backups(path):
            backup.check_backup(item.path)
    print(f"\nrun {duration:.2f} s, apply {grew:.2f}-{committed:.2f} s; trials: {outcomes}")
    assert any(o[2] == "old" for o in outcomes)

    # Nothing is lost: importing the file again into a killed run's database
    # gives the new state.
    first_old = next(i for i, o in enumerate(outcomes) if o[2] == "old")
    again = root / ("trial-" + str(first_old)) / "district.duckdb"
    assert run_import(again, csv)[0]
    observed = open_like_the_app(again)
    assert observed[0] == after[0] and observed[2] == after[2]
