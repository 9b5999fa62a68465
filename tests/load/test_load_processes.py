"""benchmarks/load.py --processes: how the server's own run times of several
app processes become one figure, and how process counts are compared. Pure
functions on made-up timings (the load itself is tests/load/test_load.py)."""

from __future__ import annotations

import json

from benchmarks import load


def _timings(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _run(pid, session, ms, first=False, at=10.0):
    return {"pid": pid, "session": session, "page": "p", "first": first, "requested": at,
            "at": at, "ms": ms}


def test_the_p95_of_several_processes_is_of_their_runs_pooled(tmp_path):
    # Process 1 served 19 quick reruns; process 2 one slow one. Pooled, one run
    # in twenty (the slow one) is at the 95th percentile's edge: p95 is 100 ms,
    # not process 2's own p95 (900) nor the mean of the two (500).
    rows = [_run(1, f"a{i}", 100) for i in range(19)] + [_run(2, "b", 900)]
    rows += [_run(1, "a0", 50, first=True), _run(2, "b", 70, first=True)]
    rows.append(_run(2, "late", 5000, at=99.0))  # after the load: not counted
    path = tmp_path / "runs.jsonl"
    _timings(path, rows)

    runs = load.server_runs(path, 0.0, 50.0, ports={1: 8601, 2: 8602})

    assert runs["reruns"]["n"] == 20
    assert runs["reruns"]["p95_ms"] == 100
    assert runs["reruns"]["max_ms"] == 900
    assert runs["first"]["n"] == 2
    assert runs["by_process"]["8601"]["sessions"] == 19
    assert runs["by_process"]["8602"]["sessions"] == 1
    assert runs["by_process"]["8602"]["reruns"]["p95_ms"] == 900


def _result(processes, run, p95, first_p95, errors=0):
    spread = {"n": 10, "p50_ms": p95 / 2, "p95_ms": p95, "max_ms": p95}
    return {
        "processes": processes, "run": run, "errors": [{}] * errors, "no_rerun": [],
        "cpu_s": {"server": 10.0}, "loadavg_before": [1.0], "loadavg_after": [2.0],
        "server_runs_all": {
            "reruns": spread, "first": {**spread, "p95_ms": first_p95},
            "by_process": {"1": {"sessions": 11}, "2": {"sessions": 10}},
        },
    }


def test_process_counts_are_compared_by_median_and_run_by_run():
    results = [
        _result(1, 0, 1000, 400), _result(2, 0, 500, 300),
        _result(2, 1, 700, 300), _result(1, 1, 2000, 500),
        _result(1, 2, 1500, 600), _result(2, 2, 600, 200),
    ]
    c = load.compare(results)
    assert c["baseline"] == 1
    assert c["per_count"][1]["rerun_p95_ms"] == {"n": 3, "min": 1000, "median": 1500,
                                                 "max": 2000}
    assert c["per_count"][2]["sessions_per_process"] == [[11, 10]] * 3
    ratio = c["ratios"][2]
    assert ratio["rerun_p95_ms"]["of_medians"] == 0.4  # 600 / 1500
    # Run by run: 500/1000, 700/2000, 600/1500.
    assert ratio["rerun_p95_ms"]["pairs"] == {"n": 3, "min": 0.35, "median": 0.4, "max": 0.5}
    assert ratio["first_p95_ms"]["of_medians"] == 0.6  # 300 / 500
    assert ratio["goal"]["met"]
    assert "MET" in load.format_comparison(c)


def test_errors_or_a_ratio_above_the_goal_do_not_meet_it():
    slow = load.compare([_result(1, 0, 1000, 400), _result(2, 0, 700, 300)])
    assert slow["ratios"][2]["rerun_p95_ms"]["of_medians"] == 0.7
    assert not slow["ratios"][2]["goal"]["met"]
    failing = load.compare([_result(1, 0, 1000, 400), _result(2, 0, 500, 300, errors=1)])
    assert not failing["ratios"][2]["goal"]["met"]
    assert "NOT MET" in load.format_comparison(failing)
