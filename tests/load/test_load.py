"""Twenty people open the dashboard at once while a street official imports data.

A bounded run of benchmarks/load.py (20 browser sessions for 30 s against one
app on loopback, one import through the data page). It asserts what must hold
under load — no errors, every session acted, the import went through — and
prints the timings (to the terminal, past pytest's capture, so every CI log
has them), also written to test-artifacts/load.json.
Speed is reported, not asserted: the p95 goal is judged by the benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import CHROMIUM, PROJECT_DIR

pytestmark = pytest.mark.load

SESSIONS = 20
DURATION_S = 30
# Opening 20 sessions at once on two cores takes about a minute; the harness
# itself gives up on one action after 90 s.
TIMEOUT_S = 900


def test_twenty_sessions_and_an_import_without_errors(capsys):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install -y chromium fonts-noto-cjk`")
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "load.json"
    out.unlink(missing_ok=True)
    run = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "benchmarks" / "load.py"),
         "--sessions", str(SESSIONS), "--duration", str(DURATION_S), "--json", str(out)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    with capsys.disabled():
        print("\n" + run.stdout)
    assert run.returncode == 0, run.stderr[-5000:]
    result = json.loads(out.read_text())

    assert result["errors"] == [], result["errors"]
    assert result["outside_requests"] == []
    assert result["server_log_problems"] == [], result["server_log_problems"]
    assert result["no_rerun"] == [], result["no_rerun"]
    assert len(result["sessions"]) == SESSIONS
    idle = [s["session"] for s in result["sessions"] if s["actions"] == 0]
    assert not idle, f"sessions without a completed action: {idle}"
    assert result["import"]["ok"], result["import"]
    assert result["import"]["households_after"] == (
        result["import"]["households_before"] + result["import"]["rows"])
    # The server timed every run, the sessions' included.
    assert result["server_runs"]["reruns"]["n"] >= sum(s["actions"] for s in result["sessions"])
    # Reported, not asserted (see the module docstring).
    goal = result["goal"]
    with capsys.disabled():
        print(f"reruns inside the server p95 {goal['p95_ms']} ms, in the page p95 "
              f"{goal['in_page_p95_ms']} ms; goal met: {goal['met']}")
