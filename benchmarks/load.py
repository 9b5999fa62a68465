"""Many people at once: N browser sessions against one app on loopback, plus an import.

    .venv/bin/python benchmarks/load.py [--sessions N] [--duration D]
        [--think MIN MAX] [--import-at F] [--seed S] [--browser-nice N]
        [--wire-sessions N] [--json PATH] [--processes N [N ...] [--runs R]]

The scene: a district runs one instance; before a meeting many people open the
dashboard at the same time while a street official imports data.

Set-up. The app is started as the browser tests start it (tests/browser/
conftest.py: running_app on 127.0.0.1 with a fresh temporary database, which
loads the sample district on the first run), through benchmarks/timed_serve.py,
which is serve.py with every script run timed inside the server. One
warm-up visit loads the sample; then ONE headless Chromium (/usr/bin/chromium)
gets N browser contexts, each its own Streamlit session, driven concurrently
from one process with Playwright's async API.

Each session opens the dashboard (all N at once: `open`), then until D seconds
have passed (and at least once, however long opening took) repeats, after a
think time drawn uniformly from [MIN, MAX] s (default 0.5–2 s):

* nav:<title>  click another page in the sidebar navigation (总览, 设施覆盖,
  经费保障, 平安建设, 情景推演与会议简报, 数据管理; titles from governance.text);
* streets      add a street to the sidebar street multiselect (filter_streets)
  or remove one (at most two selected);
* types        the same with the community-type multiselect;
* months       move one thumb of the 平安统计月份 slider one month (arrow key).

Rerun time (the figure reported): from the page's own input event for the
action to the app's script state being `notRunning` again. An init script in
every page keeps (a) a log of every change of `data-test-script-state` on
`[data-testid="stApp"]`, stamped by a MutationObserver in the page with
performance.now() as it happens, and (b) the time of every pointerdown,
keydown and change event (capture phase). Before an action the harness waits
until the state is notRunning and notes how long both logs are; after it,
the action's rerun is the first state entry after that point that is not
`notRunning` and the first `notRunning` after that. So a rerun that has not
yet started is never mistaken for one that finished, a rerun that starts and
ends between two polls is still seen, and the harness's own latency (Playwright
round trips, actionability checks) is not counted: the clock starts at the
input event Chromium delivers to the page. `queue` (input → running) and `run`
(running → notRunning) are kept as well. When the page is starved of CPU,
React may handle the run's start and end messages in one go and never draw
`running`; for those runs (reported as "timed by message") the end is the
moment the page handled the run's `script_finished` websocket message (the
init script listens on Streamlit's WebSocket and reads that one protobuf
field), once the state reads notRunning. An action after which no run starts
within START_TIMEOUT_S is counted under "no rerun". What happens after
notRunning (Plotly and deck.gl drawing in the browser) is not included.

Wire (second column group): the same action seen by Chromium's network
service, from the rerun request leaving to the server's script_finished
arriving (see Wire). That service is starved along with the pages, so this is
not the server's own time either.

Inside the server (the goal's figure): benchmarks/timed_serve.py writes, for
every whole-app run, the time from the rerun request reaching the session to
`script_finished` being queued for the browser; `reruns` are the runs after a
session's first one during the load. In a deployment the browsers run on the
users' own PCs; here twenty Chromium tabs share the server's two cores and
take most of them (the CPU seconds line), so the in-page time is mostly the
tabs waiting for CPU to draw, not the server. The browser side runs at
niceness 19 by default (--browser-nice) so that the server is served first,
as it would be on a machine of its own.

One more session imports a file through the data page's CSV uploader at
F × D seconds: the sample communities as a GBK Excel export with every
community's households + 1 (tests.conftest.messy_communities_csv), validated
(`validate`: upload → "校验通过") then imported (`import`: 导入 → "已导入"),
and checks on 总览 that the district's households grew by the row count.

Errors: any `[data-testid="stException"]`; any error alert
(`stAlertContentError`) other than the safety page's red-flag notice, which
is content; a timeout, page crash or lost websocket; any request or websocket
from a page to a host other than localhost / 127.0.0.1. Uncaught page
JavaScript errors and ERROR / Traceback lines in the server log are listed too.

Server memory: VmRSS summed over the server's process tree
(/proc/<pid>/status), sampled every 0.25 s: `idle` (healthy, before any
page), `start` (after the warm-up), `peak` (largest sample during the load;
VmHWM is the kernel's own peak), `end` (when the sessions stop) and `closed`
(5 s after every session has disconnected). CPU seconds used by the server
and by the browser side (Chromium + Playwright driver) during the load are
reported beside the CPU count and load averages, because on one machine the
browsers compete with the server for the same cores.

The product's goal: p95 rerun time under 2 s inside the server, and no errors,
on a 2-core machine under twenty sessions and an import; the in-page figures
are reported beside it.

Several processes (`--processes 1 2 --runs 3`): in one invocation the same
load runs against each process count in turn, R times each, interleaved
(1 2, 2 1, 1 2: a change in the machine's load falls on both). Each time a
fresh cluster starts in a temporary folder (running_cluster: what `python -m
governance cluster --processes N` does, on loopback ports: the sample
published as a snapshot, nginx with the affinity cookie, N app processes,
each benchmarks/timed_serve.py); 1 is a cluster of one behind the same nginx,
so the comparison is of the process count alone. Every process is warmed up
first (a browser pinned to it by its affinity cookie); every session comes
signed in (a proxy in front means accounts, pages/_shell.py). The browsers
keep nginx's cookie themselves, the wire sessions load the page first and
send its cookies with the websocket (wire_sessions.py). The server figure
is of all the processes' runs pooled (server_runs); each process's own
figures and session count are printed beside it, and at the end, per
process count, the server rerun and first-run p95 as median (min–max) over
the runs and their ratio to the first count's (goal: 2 processes ≤ 0.6× one
process's rerun p95, no errors). Server CPU and memory are summed over the
processes and nginx.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import pwd
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import Page, async_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from benchmarks.wire_sessions import UPSTREAM_HEADER, WireSession  # noqa: E402
from governance import auth, cluster, private_files, publish  # noqa: E402
from governance.text import t  # noqa: E402
from tests.browser.conftest import LOCAL_HOSTS, running_app  # noqa: E402
from tests.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    messy_communities_csv,  # noqa: E402
)

GOAL_P95_MS = 2000
TIMED_SERVER = Path(__file__).resolve().with_name("timed_serve.py")
PAGE_TITLES = [
    t("nav.overview"), t("nav.facilities"), t("nav.funding"), t("nav.safety"),
    t("nav.scenarios"), t("nav.data"),
]
ACTION_WEIGHTS = {"nav": 0.4, "streets": 0.2, "types": 0.2, "months": 0.2}
# The safety page's red-flag notice is an st.error by design: content, not a failure.
EXPECTED_ERROR_ALERTS = ("红线：",)
START_TIMEOUT_S = 60
ACTION_TIMEOUT_S = 90
OPEN_TIMEOUT_S = 180
SAMPLE_EVERY_S = 0.25
SETTLE_S = 0.1
WIRE_WAIT_S = 3
# A ForwardMsg that says a run finished is a few dozen bytes: bigger frames are
# not decoded.
WIRE_SMALL_B64 = 1000
VIEWPORT = {"width": 1440, "height": 1000}

APP = '[data-testid="stApp"]'
NOT_RUNNING = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SIDEBAR = '[data-testid="stSidebarUserContent"]'
CSV_INPUT = '[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]'

# Runs in every page before Streamlit's own scripts: the run-state log and the
# input-event log described in the module docstring.
INIT_SCRIPT = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__runStates = [];
  window.__inputs = [];
  let last = null;
  let watched = null;
  const check = () => {
    const el = document.querySelector('[data-testid="stApp"]');
    if (!el) return;
    const s = el.getAttribute('data-test-script-state');
    if (s !== last) { last = s; window.__runStates.push({s, t: now()}); }
    if (el !== watched) {
      watched = el;
      new MutationObserver(check).observe(
        el, {attributes: true, attributeFilter: ['data-test-script-state']});
    }
  };
  // Until stApp exists, watch the document for it; then only its attribute.
  const finder = new MutationObserver(() => {
    check();
    if (watched) finder.disconnect();
  });
  finder.observe(document, {subtree: true, childList: true});
  for (const type of ['pointerdown', 'keydown', 'change']) {
    window.addEventListener(type, () => window.__inputs.push(now()), true);
  }
  // ForwardMsg.script_finished (field 6, an enum) in a binary frame, or -1.
  const finishedStatus = (bytes) => {
    let i = 0;
    const varint = () => {
      let value = 0, shift = 0, byte;
      do { byte = bytes[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; }
      while (byte & 0x80 && i < bytes.length);
      return value;
    };
    while (i < bytes.length) {
      const tag = varint(), type = tag & 7;
      if (type === 0) { const value = varint(); if (tag >>> 3 === 6) return value; }
      else if (type === 2) { const length = varint(); i += length; }
      else if (type === 1) i += 8;
      else if (type === 5) i += 4;
      else return -1;
    }
    return -1;
  };
  window.__finished = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (!(event.data instanceof ArrayBuffer)) return;
        const status = finishedStatus(new Uint8Array(event.data));
        if (status >= 0) window.__finished.push({status, t: now()});
      });
    }
  };
})();
"""

MARK_JS = "() => [window.__runStates.length, window.__inputs.length, window.__finished.length]"
# A whole-app run ends with script_finished FINISHED_SUCCESSFULLY (0) or
# FINISHED_WITH_COMPILE_ERROR (1); 2 is a run cut short by a newer one, 3 a fragment.
STARTED_JS = """([runs, finished]) =>
  window.__runStates.slice(runs).some(e => e.s !== 'notRunning')
  || window.__finished.slice(finished).some(e => e.status <= 1)"""
FINISHED_JS = """([runs, inputs, finished]) => {
  const log = window.__runStates;
  const input = inputs === null ? null : (window.__inputs[inputs] ?? null);
  let i = runs;
  while (i < log.length && log[i].s === 'notRunning') i++;
  if (i < log.length) {
    for (let j = i + 1; j < log.length; j++) {
      if (log[j].s === 'notRunning') return {input, start: log[i].t, end: log[j].t, via: 'state'};
    }
    return null;
  }
  // The state never showed the run: when the page is busy, React can draw
  // `running` and `notRunning` in one go. Then the end is the moment the page
  // handled the run's script_finished message, once the state reads notRunning.
  const done = window.__finished.slice(finished).find(e => e.status <= 1);
  const state = document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state');
  return done && state === 'notRunning' ? {input, start: null, end: done.t, via: 'message'} : null;
}"""
PROBLEMS_JS = """() => ({
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
  alerts: [...document.querySelectorAll('[data-testid="stAlertContentError"]')]
    .map(e => e.innerText.trim()),
  connection: document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-connection-state') ?? null,
})"""


class NoRerun(Exception):
    """The action did not start a script run."""


# ---------------------------------------------------------------- processes


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    # state, ppid, ... utime (12th), stime (13th): fewer means an unreadable line.
    return fields if len(fields) >= 13 else None


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat_fields(int(name))
            if fields:
                children[int(fields[1])].append(int(name))
    return children


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def parse_autogroup(text: str) -> str | None:
    """The group in /proc/<pid>/autogroup ("/autogroup-131 nice 0"), or None.

    The kernel prints nothing there when the task belongs to no autogroup
    (autogroups off, as on CI's machine): then there is no group to lower,
    and the per-thread niceness is all that applies."""
    fields = text.split()
    return fields[0] if fields and fields[0].startswith("/autogroup-") else None


def _autogroup(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/autogroup") as handle:
            return parse_autogroup(handle.read())
    except OSError:
        return None


def _renice_threads(pid: int, nice: int, server_groups: frozenset[str] = frozenset(),
                    own_group: str | None = None) -> None:
    """Linux niceness is per thread: lower every thread of pid to `nice`.

    Niceness only ranks threads within one scheduler autogroup, and Playwright
    starts Chromium in a session (so an autogroup) of its own: against the
    server's group it would still take an equal share. So a process in another
    group than the servers' gets that group's niceness lowered too, except this
    harness's own group (the session it was started from, which other work may
    share; the app of `running_app` is in it, a cluster's apps are not)."""
    try:
        tids = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return
    for tid in tids:
        with suppress(OSError):
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
    group = _autogroup(pid)
    if group is not None and server_groups and group not in server_groups \
            and group != own_group:
        with suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as handle:
            handle.write(str(nice))


@dataclass
class Served:
    """The app the load runs against: one process (running_app) or a cluster."""

    url: str
    server_pids: list[int]  # roots of the server's process trees (apps, nginx)
    logs: list[Path]
    ports: dict[int, int] = field(default_factory=dict)  # app pid -> its port
    # One affinity cookie per app process (None: one process, no nginx), for
    # warming each process up before the load.
    warm_cookies: list[str | None] = field(default_factory=lambda: [None])
    processes: int | None = None  # None: the app without nginx (`make run`)
    exited: Callable[[], list[str]] = lambda: []
    # Cookies that sign a new browser or wire session in (a fresh sign-in
    # session each call); none for one process on loopback (local mode).
    sign_in: Callable[[], dict[str, str]] = lambda: {}


@contextmanager
def _single_app(workdir: Path, extra_env: dict[str, str]):
    with running_app(workdir, launcher=TIMED_SERVER, extra_env=extra_env) as url:
        yield Served(url, [find_server_pid()], [workdir / "streamlit.log"])


def _free_ports(count: int) -> list[int]:
    """`count` consecutive free loopback ports (the cluster numbers its apps so)."""
    for _ in range(200):
        first = random.randint(20000, 50000)
        if all(cluster._port_free(port) for port in range(first, first + count)):
            return list(range(first, first + count))
    raise RuntimeError("no free ports")


def _upstream(url: str, affinity: str) -> str:
    request = urllib.request.Request(
        url + "/_stcore/health", headers={"Cookie": f"{cluster.AFFINITY_COOKIE}={affinity}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers[UPSTREAM_HEADER]


@contextmanager
def running_cluster(workdir: Path, processes: int, extra_env: dict[str, str]):
    """`python -m governance cluster --processes N` on loopback in workdir, as
    tests/cluster starts it, with the state store its default (SQLite beside
    the database) and every app process being benchmarks/timed_serve.py.
    The working database gets the sample district and is published first
    (cluster.prepare_data), so the load's import goes through the import lock
    and publishing as in a deployment. Nobody restarts an app that exits
    during the load: Served.exited names it, and it counts as an error.

    Behind a proxy the app shows nothing without accounts (pages/_shell.py),
    so there is one administrator account, and every session comes signed in
    with a sign-in cookie of its own, as after a person signed in once
    (auth.Accounts.start_session, redeem_ticket): each run then checks its
    sign-in session in the state store, as in a deployment."""
    db_path = workdir / "load.duckdb"
    run_dir = private_files.private_dir(workdir / cluster.RUN_DIR_NAME)
    nginx = shutil.which("nginx") or cluster.NGINX
    if not Path(nginx).exists():
        raise RuntimeError(f"{nginx} is missing: apt-get install -y nginx-light")
    port, *app_ports = _free_ports(processes + 1)
    cluster.prepare_data(db_path)
    accounts = auth.Accounts(publish.store_for(db_path))
    accounts.add_user("load", secrets.token_urlsafe(24), "admin")

    def sign_in() -> dict[str, str]:
        _, ticket = accounts.start_session("load")
        value, _ = accounts.redeem_ticket(ticket)
        return {auth.SESSION_COOKIE: value}
    worker_user = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else None
    cluster.write_nginx_config(run_dir, cluster.nginx_config(
        run_dir, app_ports, port, show_upstream=True, worker_user=worker_user), nginx)
    apps = [cluster.AppProcess(p, run_dir / f"app-{p}.log") for p in app_ports]
    supervisor = cluster.Cluster(db_path, run_dir, port, apps, nginx=nginx, out=io.StringIO(),
                                 serve=TIMED_SERVER, extra_env=extra_env)
    try:
        for app in apps:
            supervisor.start_app(app)
        supervisor.wait_healthy()
        supervisor.start_nginx()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + OPEN_TIMEOUT_S
        cookies: dict[str, str] = {}  # upstream address -> affinity cookie value
        n = 0
        while len(cookies) < processes:
            try:
                value = f"{n:032x}"
                cookies.setdefault(_upstream(url, value), value)
                n += 1
            except OSError:  # nginx not listening yet
                if time.monotonic() > deadline or supervisor.nginx_process.poll() is not None:
                    raise
                time.sleep(0.2)
        by_port = {int(address.rsplit(":", 1)[1]): value for address, value in cookies.items()}

        def exited() -> list[str]:
            return [f"app on port {a.port} exited with {a.process.returncode}"
                    for a in apps if a.process.poll() is not None]

        yield Served(url, [a.process.pid for a in apps] + [supervisor.nginx_process.pid],
                     [a.log_path for a in apps] + [run_dir / "nginx-error.log"],
                     ports={a.process.pid: a.port for a in apps},
                     warm_cookies=[by_port[p] for p in app_ports], processes=processes,
                     exited=exited, sign_in=sign_in)
    finally:
        supervisor.stop()


def find_server_pid() -> int:
    """The serve.py process running_app started (a child of this process)."""
    for pid in _children().get(os.getpid(), []):
        if "serve.py" in _cmdline(pid):
            return pid
    raise RuntimeError("the app server process was not found among this process's children")


class ProcessSampler:
    """Samples the server tree's RSS and the CPU time of every process under this one."""

    def __init__(self, server_pids: list[int], browser_nice: int = 0):
        # The app process (or a cluster's app processes and nginx), each with
        # its children (upload checks).
        self.server_pids = list(server_pids)
        self.browser_nice = browser_nice
        self.server_groups = frozenset(
            g for g in (_autogroup(pid) for pid in self.server_pids) if g is not None)
        self.own_group = _autogroup(os.getpid())
        self._harness_start = 0.0
        self.samples: list[tuple[float, int]] = []  # (monotonic s, server tree RSS kB)
        self._cpu: dict[int, tuple[bool, int]] = {}  # pid -> (is server, last ticks)
        self._baseline: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def server_rss_kb(self) -> int:
        children = _children()
        return sum(_status_kb(pid, "VmRSS") for pid in self._server_tree(children))

    def _server_tree(self, children: dict[int, list[int]]) -> set[int]:
        return {pid for root in self.server_pids for pid in _tree(root, children)}

    def sample(self) -> int:
        children = _children()
        server = self._server_tree(children)
        rss = sum(_status_kb(pid, "VmRSS") for pid in server)
        with self._lock:
            self.samples.append((time.monotonic(), rss))
            for pid in _tree(os.getpid(), children):
                if pid != os.getpid():
                    self._cpu[pid] = (pid in server, _cpu_ticks(pid))
        if self.browser_nice:
            for pid in _tree(os.getpid(), children):
                if pid not in server:
                    _renice_threads(pid, self.browser_nice, self.server_groups,
                                    self.own_group)
        return rss

    def mark_cpu(self) -> None:
        """CPU times are counted from here on."""
        self.sample()
        with self._lock:
            self._baseline = {pid: ticks for pid, (_, ticks) in self._cpu.items()}
        self._harness_start = _own_cpu_s()

    def cpu_seconds(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        server = browser = 0
        with self._lock:
            for pid, (is_server, ticks) in self._cpu.items():
                used = ticks - self._baseline.get(pid, 0)
                if is_server:
                    server += used
                else:
                    browser += used
        return {"server": round(server / tick, 1), "browser": round(browser / tick, 1),
                "harness": round(_own_cpu_s() - self._harness_start, 1)}

    def peak_kb(self, since: float) -> int:
        with self._lock:
            return max((rss for at, rss in self.samples if at >= since), default=0)

    def hwm_kb(self) -> int:
        # Each process's own peak, summed: at most the peak of the sum.
        return sum(_status_kb(pid, "VmHWM") for pid in self.server_pids)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            with suppress(Exception):
                self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- recording


@dataclass
class Recorder:
    started: float = field(default_factory=time.monotonic)
    actions: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    no_rerun: list[dict] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def at(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def error(self, session: int, kind: str, what: str, detail: str) -> None:
        self.errors.append({"session": session, "action": kind, "error": what,
                            "detail": detail[:500], "at_s": self.at()})


class Wire:
    """Streamlit's websocket messages that start and end a run, as Chromium's
    network service saw them (CDP Network.webSocketFrameSent / Received): each
    frame carries the browser's own monotonic timestamp, so the time between a
    rerun request leaving the page and the server's `script_finished` arriving
    is the server's answer time, whatever the renderer or this harness are doing."""

    def __init__(self):
        self.events: list[tuple[float, str]] = []  # (browser monotonic s, kind)

    def frame(self, params: dict, sent: bool) -> None:
        response = params.get("response") or {}
        payload = response.get("payloadData") or ""
        if response.get("opcode") != 2 or (not sent and len(payload) > WIRE_SMALL_B64):
            return
        try:
            raw = base64.b64decode(payload)
            if sent:
                if BackMsg.FromString(raw).WhichOneof("type") == "rerun_script":
                    self.events.append((params["timestamp"], "rerun"))
                return
            message = ForwardMsg.FromString(raw)
        except Exception:  # noqa: BLE001 — not a frame we can read: not ours to time
            return
        if message.WhichOneof("type") == "script_finished":
            status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
            self.events.append((params["timestamp"], status))

    def answer_ms(self, since: int) -> float | None:
        """From the first rerun request after index `since` to the end of the run
        it started (a run cut short by a newer request is not an end)."""
        request = None
        for at, kind in self.events[since:]:
            if kind == "rerun" and request is None:
                request = at
            elif request is not None and kind in ("FINISHED_SUCCESSFULLY",
                                                  "FINISHED_WITH_COMPILE_ERROR"):
                return round((at - request) * 1000)
        return None


async def new_tab(context, session: int, rec: Recorder) -> Page:
    """A page with every outside request, crash and JS error recorded, and its wire."""
    page = await context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_S * 1000)

    def request(req) -> None:
        parsed = urlparse(req.url)
        if parsed.scheme not in ("data", "blob") and parsed.hostname not in LOCAL_HOSTS:
            rec.outside.append(req.url)

    def websocket(ws) -> None:
        if urlparse(ws.url).hostname not in LOCAL_HOSTS:
            rec.outside.append(ws.url)

    page.on("request", request)
    page.on("websocket", websocket)
    page.on("pageerror", lambda exc: rec.page_errors.append(f"session {session}: {exc}"[:300]))
    page.on("crash", lambda _: rec.error(session, "-", "page crashed", ""))
    wire = Wire()
    cdp = await context.new_cdp_session(page)
    cdp.on("Network.webSocketFrameSent", lambda params: wire.frame(params, sent=True))
    cdp.on("Network.webSocketFrameReceived", lambda params: wire.frame(params, sent=False))
    await cdp.send("Network.enable")
    page.wire = wire
    return page


async def _mark(page: Page) -> list[int]:
    await page.wait_for_selector(NOT_RUNNING, timeout=ACTION_TIMEOUT_S * 1000)
    await asyncio.sleep(SETTLE_S)
    await page.wait_for_selector(NOT_RUNNING, timeout=ACTION_TIMEOUT_S * 1000)
    runs, inputs, finished = await page.evaluate(MARK_JS)
    return [runs, inputs, finished, len(page.wire.events)]


async def _finished(page: Page, mark: list[int] | None, inputs: bool = True) -> dict:
    """Timings of the first run after the mark, once it has finished."""
    runs, n_inputs, finished, n_wire = mark if mark else (0, None, 0, 0)
    try:
        await page.wait_for_function(STARTED_JS, arg=[runs, finished], polling=100,
                                     timeout=START_TIMEOUT_S * 1000)
    except PlaywrightError as exc:
        if "Timeout" in str(exc):
            raise NoRerun(runs, n_inputs, n_wire) from exc
        raise
    handle = await page.wait_for_function(
        FINISHED_JS, arg=[runs, n_inputs if inputs else None, finished], polling=100,
        timeout=ACTION_TIMEOUT_S * 1000,
    )
    timing = await handle.json_value()
    begin = timing["input"] if timing["input"] is not None else timing["start"]
    if begin is None:  # neither an input event nor a drawn `running`: cannot time it
        raise NoRerun(runs, n_inputs, n_wire)
    # The CDP events travel to this process on their own: give them a moment.
    wire_ms = page.wire.answer_ms(n_wire)
    waited = 0.0
    while wire_ms is None and waited < WIRE_WAIT_S:
        await asyncio.sleep(0.05)
        waited += 0.05
        wire_ms = page.wire.answer_ms(n_wire)
    return {
        "ms": round(timing["end"] - begin),
        "queue_ms": None if timing["start"] is None else round(timing["start"] - begin),
        "run_ms": None if timing["start"] is None else round(timing["end"] - timing["start"]),
        "via": timing["via"],
        "server_ms": wire_ms,
        "from_input": timing["input"] is not None,
        "end": timing["end"],
    }


async def _no_rerun_details(page: Page, runs: int, inputs: int | None, wire: int) -> dict:
    """What the page looked like when an action started no run (for the report)."""
    details: dict = {"url": page.url, "wire_since": page.wire.events[wire:][:10]}
    with suppress(Exception):
        details.update(await page.evaluate(
            """([runs, inputs]) => ({
                states_since: window.__runStates.slice(runs).map(e => e.s),
                inputs_since: inputs === null ? null : window.__inputs.length - inputs,
                state: document.querySelector('[data-testid="stApp"]')
                    ?.getAttribute('data-test-script-state') ?? null,
            })""", [runs, inputs]))
    return details


async def _problems(page: Page, session: int, kind: str, rec: Recorder) -> None:
    found = await page.evaluate(PROBLEMS_JS)
    if found["exceptions"]:
        rec.error(session, kind, "stException", f"{found['exceptions']} on the page")
    for text in found["alerts"]:
        if not any(expected in text for expected in EXPECTED_ERROR_ALERTS):
            rec.error(session, kind, "error alert", text)
    if found["connection"] != "CONNECTED":
        rec.error(session, kind, "connection", str(found["connection"]))


# ---------------------------------------------------------------- sessions


class Session:
    def __init__(self, index: int, context, url: str, rng: random.Random, rec: Recorder):
        self.index = index
        self.context = context
        self.url = url
        self.rng = rng
        self.rec = rec
        self.page: Page | None = None
        self.current = PAGE_TITLES[0]
        self.actions = 0

    async def open(self) -> None:
        self.page = await new_tab(self.context, self.index, self.rec)
        begin = time.time() * 1000
        await self.page.goto(self.url, timeout=OPEN_TIMEOUT_S * 1000)
        await self.page.wait_for_selector('[data-testid="stMain"] h1',
                                          timeout=OPEN_TIMEOUT_S * 1000)
        timing = await _finished(self.page, None, inputs=False)
        # `open`: from the call to goto (wall clock, shared with the page's) to the
        # end of the first run; `run` here counts from the first state change.
        self.current = PAGE_TITLES[0]
        self._record("open", self.current, {
            "ms": round(timing["end"] - begin), "queue_ms": None, "run_ms": timing["run_ms"],
            "server_ms": timing["server_ms"], "from_input": False,
        })
        await _problems(self.page, self.index, "open", self.rec)

    def _record(self, kind: str, page_title: str, timing: dict) -> None:
        timing = {key: value for key, value in timing.items() if key != "end"}
        self.rec.actions.append({"session": self.index, "action": kind, "page": page_title,
                                 "at_s": self.rec.at(), **timing})

    async def run(self, deadline: float, think: tuple[float, float]) -> None:
        try:
            await self.open()
        except Exception as exc:  # noqa: BLE001 — every failure is a recorded error
            self.rec.error(self.index, "open", type(exc).__name__, str(exc))
            if not await self._recover():
                return
        # At least one action, even when opening took the whole duration.
        attempts = 0
        while attempts == 0 or time.monotonic() < deadline:
            await asyncio.sleep(self.rng.uniform(*think))
            if attempts and time.monotonic() >= deadline:
                break
            attempts += 1
            kind = self.rng.choices(list(ACTION_WEIGHTS), list(ACTION_WEIGHTS.values()))[0]
            label = kind
            try:
                label, timing = await getattr(self, f"_{kind}")()
                self.actions += 1
                self._record(label, self.current, timing)
                await _problems(self.page, self.index, label, self.rec)
            except NoRerun as exc:
                self.rec.no_rerun.append({"session": self.index, "action": label,
                                          "page": self.current, "at_s": self.rec.at(),
                                          **await _no_rerun_details(self.page, *exc.args)})
            except Exception as exc:  # noqa: BLE001
                self.rec.error(self.index, label, type(exc).__name__, str(exc))
                if not await self._recover():
                    return

    async def _recover(self) -> bool:
        """After a failure: a fresh load of the app in this session."""
        try:
            if self.page is None or self.page.is_closed():
                self.page = await new_tab(self.context, self.index, self.rec)
            await self.page.goto(self.url, timeout=OPEN_TIMEOUT_S * 1000)
            await self.page.wait_for_selector(NOT_RUNNING, timeout=OPEN_TIMEOUT_S * 1000)
            self.current = PAGE_TITLES[0]
            return True
        except Exception as exc:  # noqa: BLE001
            self.rec.error(self.index, "recover", type(exc).__name__, str(exc))
            return False

    # Each action returns (label, timing) after its rerun has finished.

    async def _nav(self):
        target = self.rng.choice([title for title in PAGE_TITLES if title != self.current])
        link = self.page.locator('[data-testid="stSidebarNavLink"]', has_text=target)
        mark = await _mark(self.page)
        await link.click()
        timing = await _finished(self.page, mark)
        self.current = target
        return f"nav:{target}", timing

    async def _streets(self):
        return "streets", await self._multiselect(0)

    async def _types(self):
        return "types", await self._multiselect(1)

    async def _multiselect(self, nth: int) -> dict:
        box = self.page.locator(SIDEBAR).locator('[data-testid="stMultiSelect"]').nth(nth)
        chips = box.locator('button[aria-label^="Remove "]')
        await _mark(self.page)
        selected = await chips.count()
        if selected >= 2 or (selected == 1 and self.rng.random() < 0.5):
            mark = await _mark(self.page)
            await chips.nth(self.rng.randrange(selected)).click()
            return await _finished(self.page, mark)
        await box.locator("input").click()
        options = self.page.get_by_role("option")
        await options.first.wait_for()
        texts = [text.strip() for text in await options.all_inner_texts()]
        # The first option is Streamlit's "Select all".
        choices = [i for i, text in enumerate(texts) if text and text != "Select all"]
        mark = await _mark(self.page)
        await options.nth(self.rng.choice(choices)).click()
        timing = await _finished(self.page, mark)
        await self.page.keyboard.press("Escape")
        return timing

    async def _months(self):
        thumbs = self.page.locator(SIDEBAR).locator('[data-testid="stSlider"] input[type="range"]')
        await _mark(self.page)
        if not await thumbs.count():
            # The last run drew no month slider (a page without months, or data
            # without safety reports): waiting for one only stalled the session
            # for 90 s and counted as an error; a street change stands in.
            return await self._streets()
        nth = self.rng.randrange(await thumbs.count())
        thumb = thumbs.nth(nth)
        value, low, high = await thumb.evaluate(
            "e => [Number(e.value), Number(e.min), Number(e.max)]")
        moves = (("ArrowLeft", value > low), ("ArrowRight", value < high))
        steps = [key for key, possible in moves if possible]
        await thumb.focus()
        mark = await _mark(self.page)
        await self.page.keyboard.press(self.rng.choice(steps))
        return "months", await _finished(self.page, mark)


async def import_session(context, url: str, at: float, rec: Recorder) -> dict:
    """Opens 总览 then 数据管理; at `at` (monotonic) uploads and imports the bumped
    communities file, then checks the district's households on 总览."""
    result: dict = {"ok": False, "table": "communities", "households_bump": 1}
    page = await new_tab(context, -1, rec)
    households = page.locator('[data-testid="stMetric"]', has_text="居民户数").locator(
        '[data-testid="stMetricValue"]')
    nav = '[data-testid="stSidebarNavLink"]'
    try:
        await page.goto(url, timeout=OPEN_TIMEOUT_S * 1000)
        await page.wait_for_selector(NOT_RUNNING, timeout=OPEN_TIMEOUT_S * 1000)
        before = int((await households.inner_text()).replace(",", ""))
        mark = await _mark(page)
        await page.locator(nav, has_text=t("nav.data")).click()
        await _finished(page, mark)
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        data = messy_communities_csv(households_bump=1)
        rows = len(data.decode("gbk").splitlines()) - 4  # title, header, blank, 合计
        result.update(at_s=rec.at(), rows=rows, bytes=len(data))
        mark = await _mark(page)
        await page.locator(CSV_INPUT).set_input_files(
            files=[{"name": "社区基本情况.csv", "mimeType": "text/csv", "buffer": data}])
        timing = await _finished(page, mark)
        await page.get_by_text(re.compile(f"校验通过：{rows} 行可导入")).wait_for()
        result["validate_ms"] = timing["ms"]
        apply = page.get_by_role("button", name=t("data.apply"), exact=True)
        mark = await _mark(page)
        await apply.click()
        timing = await _finished(page, mark)
        await page.get_by_text(re.compile(f"已导入社区基本信息：{rows} 行")).wait_for()
        result["import_ms"] = timing["ms"]
        await _problems(page, -1, "import", rec)
        mark = await _mark(page)
        await page.locator(nav, has_text=t("nav.overview")).click()
        await _finished(page, mark)
        after = int((await households.inner_text()).replace(",", ""))
        result.update(households_before=before, households_after=after)
        result["ok"] = after == before + rows
        if not result["ok"]:
            rec.error(-1, "import", "households", f"{before} → {after}, expected +{rows}")
    except Exception as exc:  # noqa: BLE001
        rec.error(-1, "import", type(exc).__name__, str(exc))
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
        with suppress(Exception):  # what the official sees (an error alert names its log id)
            await _problems(page, -1, "import", rec)
    return result


# ---------------------------------------------------------------- the run


def _server_log_problems(log_path: Path) -> list[str]:
    """ERROR lines and whole tracebacks (up to their last line) from the server log."""
    if not log_path.exists():
        return []
    found: list[str] = []
    block: list[str] | None = None
    for line in log_path.read_text(errors="replace").splitlines():
        if block is not None:
            block.append(line)
            if line and not line[0].isspace():  # the exception line ends a traceback
                found.append("\n".join(block[-40:]))
                block = None
        elif "Traceback" in line:
            block = [line]
        elif " ERROR " in line or line.startswith("ERROR"):
            found.append(line[:500])
    if block:
        found.append("\n".join(block[-40:]))
    return found


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # nearest rank
    return ordered[int(rank) - 1]


def _spread(ms: list[float], prefix: str = "") -> dict:
    return {f"{prefix}n": len(ms), f"{prefix}p50_ms": _percentile(ms, 50),
            f"{prefix}p95_ms": _percentile(ms, 95), f"{prefix}max_ms": max(ms, default=None)}


def _summary(rows: list[dict]) -> dict:
    server = [row["server_ms"] for row in rows if row.get("server_ms") is not None]
    return {**_spread([row["ms"] for row in rows]), **_spread(server, "server_")}


async def run_load(
    sessions: int = 20, duration: float = 60.0, think: tuple[float, float] = (0.5, 2.0),
    import_at: float = 0.25, seed: int = 1, workdir: Path | None = None,
    browser_nice: int = 19, wire_sessions: int = 0, processes: int | None = None,
) -> dict:
    """Runs the load and returns every figure (see format_report): against
    one app as `make run` starts it, or with `processes`, against that many
    behind nginx (running_cluster)."""
    with tempfile.TemporaryDirectory(prefix="load-") as scratch:
        workdir = Path(workdir or scratch)
        timings = workdir / "runs.jsonl"
        extra_env = {"GOVERNANCE_RUN_TIMINGS": str(timings)}
        serving = (_single_app(workdir, extra_env) if processes is None
                   else running_cluster(workdir, processes, extra_env))
        with serving as served:
            # After the server started: its processes would inherit the niceness.
            if browser_nice:
                _renice_threads(os.getpid(), browser_nice)
            with ProcessSampler(served.server_pids, browser_nice) as sampler:
                result = await _drive(served, sampler, sessions, duration,
                                      think, import_at, seed, wire_sessions)
            exits = served.exited()
        result["browser_nice"] = browser_nice
        result["processes"] = processes
        for message in exits:
            result["errors"].append({"session": -4, "action": "-", "error": "app exited",
                                     "detail": message, "at_s": None})
        wire_ids = {w["session_id"] for w in result["wire"]["sessions"]}
        result["server_runs"] = server_runs(timings, *result["load_window"], exclude=wire_ids)
        result["server_runs_all"] = server_runs(timings, *result["load_window"],
                                                ports=served.ports)
        p95 = result["server_runs_all"]["reruns"]["p95_ms"]
        errors = len(result["errors"]) + len(result["no_rerun"])
        result["goal"] = {
            "p95_under_ms": GOAL_P95_MS, "p95_ms": p95, "errors": errors,
            "in_page_p95_ms": result["overall"]["p95_ms"],
            "met": p95 is not None and p95 < GOAL_P95_MS and not errors,
        }
        return result


def server_runs(path: Path, start: float, end: float, exclude: set[str] = frozenset(),
                ports: dict[int, int] | None = None) -> dict:
    """The server's own run times (benchmarks/timed_serve.py) during the load:
    `reruns` (every run after a session's first) and `first` (opening the page),
    leaving out the sessions in `exclude`.

    With several app processes the percentiles are of all their runs pooled:
    each run is one person's wait, whichever process served it, so the p95 is
    what one person in twenty waits longer than. (The mean or the larger of
    the processes' own p95s is not that figure: a process that served a third
    of the sessions counts for a third.) `by_process` has each process's own
    figures and how many sessions it served, keyed by its port (or pid)."""
    runs = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    during = [run for run in runs
              if start <= run["at"] <= end and run["session"] not in exclude]
    by_process: dict[str, dict] = {}
    for pid in sorted({run.get("pid") for run in during}, key=str):
        mine = [run for run in during if run.get("pid") == pid]
        key = str((ports or {}).get(pid, pid))
        by_process[key] = {
            "sessions": len({run["session"] for run in mine}),
            "reruns": _spread([run["ms"] for run in mine if not run["first"]]),
            "first": _spread([run["ms"] for run in mine if run["first"]]),
        }
    return {"reruns": _spread([run["ms"] for run in during if not run["first"]]),
            "first": _spread([run["ms"] for run in during if run["first"]]),
            "by_process": by_process, "runs": during}


async def _new_context(browser, served: Served):
    """A browser context (its own cookies: its own person), signed in when needed."""
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    cookies = served.sign_in()
    if cookies:
        await context.add_cookies([{"name": name, "value": value, "url": served.url}
                                   for name, value in cookies.items()])
    return context


async def _drive(served: Served, sampler, n, duration, think, import_at, seed,
                 n_wire=0) -> dict:
    url = served.url
    rec = Recorder()
    result: dict = {
        "sessions_requested": n, "duration_s": duration, "think_s": list(think), "seed": seed,
        "cpu_count": os.cpu_count(), "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "server_pids": served.server_pids, "rss_mb": {},
    }
    mb = lambda kb: round(kb / 1024, 1)  # noqa: E731
    result["rss_mb"]["idle"] = mb(sampler.server_rss_kb())
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # Warm-up: the first run loads the sample district into the new database
        # (a cluster: each process's first run opens the published snapshot;
        # every process is visited, pinned by its affinity cookie).
        begin = time.monotonic()
        for cookie in served.warm_cookies:
            warm = await _new_context(browser, served)
            if cookie is not None:
                await warm.add_cookies([{"name": cluster.AFFINITY_COOKIE, "value": cookie,
                                         "url": url}])
            await warm.add_init_script(INIT_SCRIPT)
            warm_page = await warm.new_page()
            await warm_page.goto(url, timeout=OPEN_TIMEOUT_S * 1000)
            await warm_page.wait_for_selector(NOT_RUNNING, timeout=OPEN_TIMEOUT_S * 1000)
            await warm_page.wait_for_selector('[data-testid="stMain"] h1',
                                              timeout=OPEN_TIMEOUT_S * 1000)
            await warm_page.wait_for_selector(NOT_RUNNING, timeout=OPEN_TIMEOUT_S * 1000)
            await warm.close()
        result["warmup_s"] = round(time.monotonic() - begin, 1)
        await asyncio.sleep(2)
        result["rss_mb"]["start"] = mb(sampler.server_rss_kb())

        contexts = []
        for _ in range(n + 1):
            context = await _new_context(browser, served)
            await context.add_init_script(INIT_SCRIPT)
            contexts.append(context)
        sampler.mark_cpu()
        rec.started = time.monotonic()
        load_started = rec.started
        deadline = rec.started + duration
        workers = [
            Session(i, contexts[i], url, random.Random(seed * 1000 + i), rec) for i in range(n)
        ]
        tasks = [asyncio.create_task(w.run(deadline, think)) for w in workers]
        importing = asyncio.create_task(
            import_session(contexts[n], url, rec.started + import_at * duration, rec))
        wire = [WireSession(i, url, random.Random(seed * 1000 + n + 1 + i), think,
                            cookies=served.sign_in()) for i in range(n_wire)]
        wire_tasks = [asyncio.create_task(w.run(deadline, rec.started)) for w in wire]
        await asyncio.gather(*tasks)
        wire_results = await asyncio.gather(*wire_tasks)
        result["import"] = await importing
        result["load_window"] = [load_started, time.monotonic()]
        result["elapsed_s"] = rec.at()
        result["cpu_s"] = sampler.cpu_seconds()
        result["rss_mb"]["end"] = mb(sampler.server_rss_kb())
        result["rss_mb"]["peak"] = mb(sampler.peak_kb(load_started))
        result["rss_mb"]["vmhwm"] = mb(sampler.hwm_kb())
        result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        for context in contexts:
            await context.close()
        await browser.close()
    await asyncio.sleep(5)
    result["rss_mb"]["closed"] = mb(sampler.server_rss_kb())
    result["rss_mb"]["series"] = [
        [round(at - load_started, 1), mb(rss)] for at, rss in sampler.samples[::8]
    ]

    actions = [row for row in rec.actions if row["action"] != "open"]
    opens = [row for row in rec.actions if row["action"] == "open"]
    by_action: dict[str, list] = defaultdict(list)
    by_page: dict[str, list] = defaultdict(list)
    for row in actions:
        by_action[row["action"]].append(row)
        by_page[row["page"]].append(row)
    result["overall"] = _summary(actions)
    result["open"] = _summary(opens)
    result["by_action"] = {key: _summary(rows) for key, rows in sorted(by_action.items())}
    result["by_page"] = {key: _summary(by_page[key]) for key in PAGE_TITLES if key in by_page}
    result["sessions"] = [
        {"session": w.index, "actions": w.actions} for w in workers
    ]
    result["not_from_input"] = sum(not row["from_input"] for row in actions)
    result["timed_by_message"] = sum(row.get("via") == "message" for row in actions)
    result["no_rerun"] = rec.no_rerun
    result["outside_requests"] = sorted(set(rec.outside))
    for url_ in result["outside_requests"]:
        rec.error(-2, "-", "outside request", url_)
    result["errors"] = rec.errors
    result["page_errors"] = rec.page_errors[:50]
    result["server_log_problems"] = [
        problem for log in served.logs for problem in _server_log_problems(log)][:50]
    result["wire"] = {
        "sessions": [{"session": w.index, "session_id": w.session_id, "answers": len(w.answers),
                      "upstream": w.upstream, "errors": w.errors} for w in wire_results],
        "answers": _spread([a["ms"] for w in wire_results for a in w.answers
                            if a["action"] != "open"]),
    }
    for w in wire_results:
        for message in w.errors:
            rec.error(-3 - w.index, "wire", "wire session", message)
    result["actions"] = rec.actions
    return result


# ---------------------------------------------------------------- the report


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.0f}"


def format_report(r: dict) -> str:
    out = []
    out.append(
        f"Load: {r['sessions_requested']} sessions × {r['duration_s']:g} s "
        f"(think {r['think_s'][0]:g}–{r['think_s'][1]:g} s), 1 import session, one headless "
        f"Chromium; elapsed {r['elapsed_s']:g} s; warm-up (sample load) {r['warmup_s']:g} s")
    if r.get("processes"):
        out.append(f"Server: {r['processes']} app process(es) behind nginx (cookie affinity; "
                   "`python -m governance cluster` on loopback, published snapshot)")
    else:
        out.append("Server: one app process, no nginx (as `make run`)")
    before, after = (" ".join(map(str, r[key])) for key in ("loadavg_before", "loadavg_after"))
    out.append(f"Machine: {r['cpu_count']} CPUs; load average (1/5/15 min) before {before}, "
               f"after {after}")
    counts = [s["actions"] for s in r["sessions"]]
    minutes = r["elapsed_s"] / 60
    out.append(
        f"Actions: {r['overall']['n']} reruns measured ({min(counts)}–{max(counts)} per session, "
        f"{r['overall']['n'] / minutes:.0f} per minute in all), "
        f"{len(r['no_rerun'])} without a rerun, {r['timed_by_message']} timed by the "
        f"script_finished message (running never drawn), {r['not_from_input']} timed from run "
        "start (no input event seen)")
    header = (f"  {'':<20}{'n':>5}{'p50':>8}{'p95':>8}{'max':>8}   |"
              f"{'p50':>8}{'p95':>8}{'max':>8}")

    def line(name: str, s: dict) -> str:
        # CJK titles are two columns wide on a terminal.
        pad = 20 - sum(2 if ord(c) > 0x2E80 else 1 for c in name)
        return (f"  {name}{' ' * max(pad, 1)}{s['n']:>5}{_ms(s['p50_ms']):>8}"
                f"{_ms(s['p95_ms']):>8}{_ms(s['max_ms']):>8}   |{_ms(s['server_p50_ms']):>8}"
                f"{_ms(s['server_p95_ms']):>8}{_ms(s['server_max_ms']):>8}")

    out.append("Rerun time, ms: input event → script notRunning in the page  |  Chromium's "
               "network service (rerun request → script_finished)")
    out.append(header)
    out.append(line("all actions", r["overall"]))
    for name, s in r["by_action"].items():
        out.append(line(name, s))
    out.append(line("open (all at once)", r["open"]))
    out.append("By the page the action ended on:")
    for name, s in r["by_page"].items():
        out.append(line(name, s))
    wire = r["wire"]
    if wire["sessions"]:
        s = wire["answers"]
        out.append(
            f"Wire sessions ({len(wire['sessions'])}, no browser; request sent → script_finished "
            f"received), ms: n {s['n']}, p50 {_ms(s['p50_ms'])}, p95 {_ms(s['p95_ms'])}, "
            f"max {_ms(s['max_ms'])}")
    out.append("Inside the server (benchmarks/timed_serve.py: rerun request → script_finished "
               "queued), ms:")
    groups = [("browser sessions", r["server_runs"])]
    if wire["sessions"]:
        groups.append(("all sessions", r["server_runs_all"]))
    for group, runs in groups:
        for name, s in (("reruns", runs["reruns"]), ("first run of a session", runs["first"])):
            out.append(f"  {group + ': ' + name:<40}{s['n']:>5}{_ms(s['p50_ms']):>8}"
                       f"{_ms(s['p95_ms']):>8}{_ms(s['max_ms']):>8}")
    by_process = r["server_runs_all"].get("by_process", {})
    if r.get("processes"):
        for port, mine in by_process.items():
            s = mine["reruns"]
            name = f"process :{port} ({mine['sessions']} sessions) reruns"
            out.append(f"  {name:<40}"
                       f"{s['n']:>5}{_ms(s['p50_ms']):>8}{_ms(s['p95_ms']):>8}{_ms(s['max_ms']):>8}")
    imp = r["import"]
    if imp.get("ok"):
        out.append(
            f"Import (communities, {imp['rows']} rows, GBK, households +1) at {imp['at_s']:g} s: "
            f"validate {imp['validate_ms'] / 1000:.2f} s, import {imp['import_ms'] / 1000:.2f} s; "
            f"households {imp['households_before']:,} → {imp['households_after']:,}: ok")
    else:
        out.append(f"Import FAILED: {imp}")
    rss = r["rss_mb"]
    out.append(
        f"Server RSS, MB: idle {rss['idle']}, start {rss['start']}, peak {rss['peak']} "
        f"(VmHWM {rss['vmhwm']}), end {rss['end']}, 5 s after sessions closed {rss['closed']}; "
        f"growth end − start {rss['end'] - rss['start']:+.1f}")
    cpu = r["cpu_s"]
    out.append(
        f"CPU seconds during the load: server {cpu['server']}, Chromium + Playwright "
        f"{cpu['browser']}, harness {cpu['harness']} (of {r['cpu_count'] * r['elapsed_s']:.0f} "
        f"available); browser side at niceness {r.get('browser_nice', 0)}")
    kinds = defaultdict(int)
    for error in r["errors"]:
        kinds[error["error"]] += 1
    out.append(f"Errors: {len(r['errors'])}" + (f" {dict(kinds)}" if kinds else "")
               + f"; outside requests {len(r['outside_requests'])}; page JS errors "
               f"{len(r['page_errors'])}; server log ERROR/Traceback lines "
               f"{len(r['server_log_problems'])}")
    for error in r["errors"][:10]:
        out.append(f"  - {error}")
    for message in r["page_errors"][:5]:
        out.append(f"  - JS: {message}")
    for message in r["server_log_problems"][:5]:
        out.append("  - log: " + message.replace("\n", "\n      "))
    goal = r["goal"]
    verdict = "MET" if goal["met"] else "NOT MET"
    out.append(f"Goal (reruns inside the server p95 < {goal['p95_under_ms']} ms, no errors or "
               f"actions without a rerun): {verdict} — p95 {_ms(goal['p95_ms'])} ms, "
               f"{goal['errors']} errors; in the page p95 {_ms(goal['in_page_p95_ms'])} ms")
    return "\n".join(out)


# ---------------------------------------------------------------- 1 vs N processes

GOAL_CLUSTER_RATIO = 0.6


def _min_median_max(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {"n": len(values), "min": min(values), "median": statistics.median(values),
            "max": max(values)}


def compare(results: list[dict]) -> dict:
    """Server figures (all sessions) per process count over the runs, and the
    ratio of each process count's p95 to the first one's (the baseline).

    `pairs`: runs are interleaved, so run i of every process count ran in the
    same stretch of time; the ratio of run i's p95s shares its machine load."""
    counts = sorted({r["processes"] for r in results})
    base = counts[0]
    per: dict[int, dict] = {}
    for count in counts:
        mine = [r for r in results if r["processes"] == count]
        per[count] = {
            "runs": len(mine),
            "rerun_p95_ms": _min_median_max([r["server_runs_all"]["reruns"]["p95_ms"]
                                             for r in mine]),
            "rerun_p50_ms": _min_median_max([r["server_runs_all"]["reruns"]["p50_ms"]
                                             for r in mine]),
            "first_p95_ms": _min_median_max([r["server_runs_all"]["first"]["p95_ms"]
                                             for r in mine]),
            "reruns": _min_median_max([r["server_runs_all"]["reruns"]["n"] for r in mine]),
            "server_cpu_s": _min_median_max([r["cpu_s"]["server"] for r in mine]),
            "errors": sum(len(r["errors"]) + len(r["no_rerun"]) for r in mine),
            "sessions_per_process": [
                sorted((m["sessions"] for m in r["server_runs_all"]["by_process"].values()),
                       reverse=True) for r in mine],
            "loadavg": [r["loadavg_before"][0] for r in mine] + [r["loadavg_after"][0]
                                                                 for r in mine],
        }
    ratios: dict[int, dict] = {}
    for count in counts[1:]:
        entry = {}
        for key in ("rerun_p95_ms", "first_p95_ms"):
            by_run: dict[int, dict[int, float]] = defaultdict(dict)
            for r in results:
                by_run[r["run"]][r["processes"]] = r["server_runs_all"][
                    "reruns" if key == "rerun_p95_ms" else "first"]["p95_ms"]
            pairs = [runs[count] / runs[base] for runs in by_run.values()
                     if runs.get(count) is not None and runs.get(base)]
            medians = per[count][key]["median"], per[base][key]["median"]
            entry[key] = {
                "of_medians": (round(medians[0] / medians[1], 2)
                               if medians[0] is not None and medians[1] else None),
                "pairs": _min_median_max([round(x, 2) for x in pairs]),
            }
        ratio = entry["rerun_p95_ms"]["of_medians"]
        entry["goal"] = {"at_most": GOAL_CLUSTER_RATIO, "met": (
            ratio is not None and ratio <= GOAL_CLUSTER_RATIO
            and per[count]["errors"] == 0 and per[base]["errors"] == 0)}
        ratios[count] = entry
    return {"baseline": base, "per_count": per, "ratios": ratios}


def _spread_text(s: dict, digits: int = 0) -> str:
    if not s["n"]:
        return "—"
    fmt = (lambda v: f"{v:,.{digits}f}")  # noqa: E731
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def format_comparison(c: dict) -> str:
    word = lambda n: f"{n} process" + ("" if n == 1 else "es")  # noqa: E731
    out = ["", "Processes compared (server time, benchmarks/timed_serve.py, all sessions, runs "
           "of every process count pooled over its processes; median (min–max) over the runs):"]
    out.append(f"  {'':<14}{'runs':>5}  {'rerun p95 ms':<24}{'first-run p95 ms':<24}"
               f"{'rerun p50 ms':<20}{'reruns':<18}{'server CPU s':<20}errors")
    for count, s in c["per_count"].items():
        out.append(
            f"  {word(count):<14}{s['runs']:>5}  {_spread_text(s['rerun_p95_ms']):<24}"
            f"{_spread_text(s['first_p95_ms']):<24}{_spread_text(s['rerun_p50_ms']):<20}"
            f"{_spread_text(s['reruns']):<18}{_spread_text(s['server_cpu_s'], 1):<20}"
            f"{s['errors']}")
        if count > 1:
            out.append(f"  {'':<19}sessions per process in each run: "
                       + ", ".join("/".join(map(str, split))
                                   for split in s["sessions_per_process"]))
    loads = [x for s in c["per_count"].values() for x in s["loadavg"]]
    out.append(f"  1-minute load average before/after the runs: {min(loads):g}–{max(loads):g}")
    base = c["baseline"]
    for count, entry in c["ratios"].items():
        rerun, first = entry["rerun_p95_ms"], entry["first_p95_ms"]
        out.append(
            f"Ratio {word(count)} / {word(base)}: rerun p95 {rerun['of_medians']} (of the "
            f"medians; run by run {_spread_text(rerun['pairs'], 2)}), first-run p95 "
            f"{first['of_medians']} (run by run {_spread_text(first['pairs'], 2)})")
        goal = entry["goal"]
        out.append(f"Goal ({word(count)}: rerun p95 ≤ {goal['at_most']}× {word(base)}'s, no "
                   f"errors): {'MET' if goal['met'] else 'NOT MET'}")
    return "\n".join(out)


def run_processes(counts: list[int], runs: int, seed: int, options: list[str]) -> list[dict]:
    """Every process count `runs` times, interleaved and alternating the order
    (1 2, 2 1, 1 2, …), so that a change in the machine's load over the
    minutes falls on both; run i of each count has the same seed.

    Each run is a child process of this one (this script with --one-run),
    because a run lowers its own process's niceness for the browser side and
    everything a process starts inherits it: the next run's app processes
    would start at niceness 19. This process never changes its own."""
    results = []
    with tempfile.TemporaryDirectory(prefix="load-runs-") as scratch:
        for run in range(runs):
            order = counts if run % 2 == 0 else list(reversed(counts))
            for count in order:
                print(f"--- run {run + 1} of {runs}, {count} process(es)", flush=True)
                out = Path(scratch) / f"run{run}-{count}.json"
                child = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), *options,
                     "--processes", str(count), "--one-run", "--seed", str(seed + run),
                     "--json", str(out)], check=False)
                if child.returncode != 0 or not out.exists():
                    raise RuntimeError(f"run {run + 1} with {count} process(es) failed "
                                       f"(exit {child.returncode})")
                result = json.loads(out.read_text())
                result["run"] = run
                results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"))
    parser.add_argument("--import-at", type=float, default=0.25,
                        help="when the import starts, as a fraction of the duration")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--browser-nice", type=int, default=19, metavar="N",
                        help="run Chromium, Playwright and this harness at niceness N so "
                        "that the server has the CPU first, as if the browsers were on "
                        "the users' own PCs (0: compete as equals)")
    parser.add_argument("--wire-sessions", type=int, default=0, metavar="N",
                        help="add N sessions that speak the websocket protocol without a "
                        "browser (benchmarks/wire_sessions.py), to load the server as "
                        "people at their own PCs would")
    parser.add_argument("--processes", type=int, nargs="+", metavar="N",
                        help="run the load against N app processes behind nginx (the "
                        "cluster), for each N given, and compare them (the first N is "
                        "the baseline), e.g. --processes 1 2")
    parser.add_argument("--runs", type=int, default=3,
                        help="with --processes: runs of each process count (interleaved)")
    # One run of one process count, for run_processes (a child process).
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk", file=sys.stderr)
        return 2
    if args.processes and not args.one_run:
        if min(args.processes) < 1 or args.runs < 1:
            parser.error("--processes and --runs are at least 1")
        options = ["--sessions", str(args.sessions), "--duration", str(args.duration),
                   "--think", *map(str, args.think), "--import-at", str(args.import_at),
                   "--browser-nice", str(args.browser_nice),
                   "--wire-sessions", str(args.wire_sessions)]
        results = run_processes(args.processes, args.runs, args.seed, options)
        comparison = compare(results)
        print(format_comparison(comparison))
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"comparison": comparison, "runs": results},
                                            ensure_ascii=False, indent=1, default=str))
        return 0
    result = asyncio.run(run_load(args.sessions, args.duration, tuple(args.think),
                                  args.import_at, args.seed, browser_nice=args.browser_nice,
                                  wire_sessions=args.wire_sessions,
                                  processes=args.processes[0] if args.processes else None))
    print(format_report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
