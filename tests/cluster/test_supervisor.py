"""The cluster supervisor's own logic, without nginx or app processes: the
startup wait ends on a stop request, and a crash loop backs off."""

from __future__ import annotations

import io

import pytest

from governance import cluster, upload_guard


class _Exited:
    """A stand-in for a Popen whose process has exited."""

    pid = 4242
    returncode = 1

    def poll(self) -> int:
        return self.returncode


def _cluster(tmp_path, monkeypatch):
    """A one-app cluster on a fake clock; the list of restart times."""
    app = cluster.AppProcess(1, tmp_path / "app.log")
    supervisor = cluster.Cluster(tmp_path / "d.duckdb", tmp_path, 2, [app], out=io.StringIO())
    started = []

    def start_app(app):  # what the real start_app records, without a process
        started.append(clock[0])
        app.process = _Exited()
        app.down_since = None
        app.started_at = clock[0]

    clock = [0.0]
    monkeypatch.setattr(supervisor, "start_app", start_app)
    monkeypatch.setattr(cluster.time, "monotonic", lambda: clock[0])
    return supervisor, app, started, clock


def test_wait_healthy_stops_when_asked(tmp_path):
    app = cluster.AppProcess(1, tmp_path / "app.log")  # port 1: never healthy
    supervisor = cluster.Cluster(tmp_path / "d.duckdb", tmp_path, 2, [app])
    asked = []
    with pytest.raises(cluster.ClusterError):
        supervisor.wait_healthy(timeout_s=3600, stop_requested=lambda: asked.append(1) or True)
    assert asked == [1]  # the first look ended the wait, not the hour


def test_crash_loop_backs_off_and_resets(tmp_path, monkeypatch):
    supervisor, app, started, clock = _cluster(tmp_path, monkeypatch)
    supervisor.start_app(app)
    # Exits at once, every time: the pauses before each restart double, capped.
    for _ in range(600):
        clock[0] += 0.5
        supervisor.supervise_once()
    pauses = [later - earlier for earlier, later in zip(started, started[1:], strict=False)]
    assert pauses[:6] == [2.5, 4.5, 8.5, 16.5, 32.5, 60.5]
    assert set(pauses[6:]) == {60.5}
    # One that stayed up a minute restarts after the first pause again.
    app.process = None
    clock[0] += 1
    supervisor.start_app(app)
    app.process = type("Running", (), {"poll": lambda self: None})()
    clock[0] += cluster.STABLE_AFTER_S
    app.process = _Exited()
    exited_at, before = clock[0], len(started)
    for _ in range(6):
        clock[0] += 0.5
        supervisor.supervise_once()
    assert len(started) == before + 1
    assert started[-1] - exited_at == 2.5


def test_every_app_process_shares_the_cluster_upload_check_slots(tmp_path, monkeypatch):
    """The upload checks' machine-wide limit (upload_guard.check_slot) holds
    across the cluster: each app gets the same slot folder in the run folder."""
    started = []

    def popen(command, **kwargs):
        started.append(kwargs["env"])
        return type("Running", (), {"pid": 4242, "poll": lambda self: None})()

    monkeypatch.setattr(cluster.subprocess, "Popen", popen)
    apps = [cluster.AppProcess(port, tmp_path / f"app-{port}.log") for port in (1, 2)]
    supervisor = cluster.Cluster(tmp_path / "d.duckdb", tmp_path, 3, apps, out=io.StringIO())
    for app in apps:
        supervisor.start_app(app)
    slots = {env[upload_guard.SLOTS_ENV_VAR] for env in started}
    assert slots == {str(tmp_path / cluster.UPLOAD_CHECK_SLOTS_DIR)}
