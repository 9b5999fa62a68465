"""A whole cluster started by the tests: PostgreSQL in a temp folder (the state
store), `python -m governance cluster` with three app processes and nginx on
loopback ports, all stopped at the end. No system service is used."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from governance import auth, state_store
from tests.cluster.postgres import running_postgres
from tests.conftest import PROJECT_DIR

PASSWORD = "correct-horse-battery"
PROCESSES = 3
STARTUP_TIMEOUT_S = 300
AFFINITY_COOKIE = "governance_node"


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int) -> list[int]:
    """`count` consecutive free loopback ports (the cluster numbers its apps so)."""
    for _ in range(200):
        first = random.randint(20000, 50000)
        ports = list(range(first, first + count))
        if all(_free(p) for p in ports):
            return ports
    raise RuntimeError("no free ports")


@dataclass
class RunningCluster:
    url: str
    db_path: Path
    run_dir: Path
    state_url: str
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path

    def state(self) -> dict:
        return json.loads((self.run_dir / "processes.json").read_text())

    def app_pid(self, port: int) -> int:
        return next(a["pid"] for a in self.state()["apps"] if a["port"] == port)

    def upstream_of(self, affinity: str) -> str:
        """Which process nginx sends a browser with this affinity cookie to."""
        request = urllib.request.Request(self.url + "/_stcore/health",
                                         headers={"Cookie": f"{AFFINITY_COOKIE}={affinity}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["X-Governance-Upstream"]

    def affinities(self, count: int) -> dict[str, str]:
        """Affinity cookie values that land on `count` different processes:
        upstream address → cookie value."""
        found: dict[str, str] = {}
        for n in range(500):
            value = f"{n:032x}"
            found.setdefault(self.upstream_of(value), value)
            if len(found) >= count:
                return found
        raise AssertionError(f"the hash reached only {sorted(found)}")

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "governance", *args], cwd=PROJECT_DIR,
                              env=self.env, capture_output=True, text=True, timeout=timeout)


def _healthy(url: str) -> bool:
    with contextlib.suppress(OSError), \
            urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
        return response.status == 200
    return False


@pytest.fixture(scope="module")
def postgres():
    with running_postgres() as server:
        try:
            yield server
        finally:  # while the server still answers: the pools close cleanly
            state_store.PostgresStore.close_pools()


@pytest.fixture(scope="module")
def cluster(postgres, tmp_path_factory):
    work = tmp_path_factory.mktemp("cluster")
    state_url = postgres.new_database()
    db_path = work / "district.duckdb"
    run_dir = work / "run"
    auth.Accounts(state_store.PostgresStore(state_url)).add_user("admin", PASSWORD, "admin")
    port, *app_ports = _free_ports(PROCESSES + 1)
    env = {**os.environ, state_store.STATE_URL_ENV_VAR: state_url,
           "GOVERNANCE_DB": str(db_path)}
    log_path = work / "cluster.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "governance", "cluster", "--db", str(db_path),
             "--processes", str(PROCESSES), "--port", str(port),
             "--first-app-port", str(app_ports[0]), "--run-dir", str(run_dir),
             "--show-upstream"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    running = RunningCluster(url, db_path, run_dir, state_url, env, process, log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ((run_dir / "processes.json").exists() and running.state()["nginx"]
                   and _healthy(url)):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the cluster did not start:\n" + log_path.read_text())
            time.sleep(0.5)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)  # the cluster command stops its children
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            # Each child runs in a session of its own (start_new_session):
            # killing the supervisor does not reach them.
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                state = running.state()
                for pid in [state["nginx"], *(a["pid"] for a in state["apps"])]:
                    if pid:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(pid, signal.SIGKILL)
