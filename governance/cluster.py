"""Cluster mode on one host: N app processes behind nginx, with session affinity.

    python -m governance cluster --db PATH --processes 3 --port 8501

(`make cluster N=3`). What it does, in order:

1. Publishing is turned on for the database and the working database is
   published once (publish.ensure_published; the first start loads the sample
   district as `make run` does). From here on no app process opens the
   working database except to import, under the import lock.
2. nginx's configuration is written into the run folder from
   governance/cluster_templates/nginx.conf.j2: an upstream of the N processes
   chosen by a consistent hash of an affinity cookie nginx sets itself,
   websocket upgrade headers, client_max_body_size from Streamlit's upload
   limit, pid, logs and temporary folders in the run folder. `nginx -t`
   checks it before anything starts.
3. N app processes (serve.py on 127.0.0.1, consecutive ports) start with
   $GOVERNANCE_CLUSTER=1: each reads the newest published snapshot read-only.
   Then nginx (Debian's package, in the foreground, as the current user, no
   system service).
4. It supervises: an app process that exits is started again (its browsers'
   reconnects meanwhile reach the others through nginx); nginx exiting, or
   Ctrl-C / SIGTERM, stops everything.

The shared state (accounts, sessions, audit, scenarios, import lock) is the
state store: the SQLite file beside the database, or PostgreSQL when
$GOVERNANCE_STATE_URL is set, which every process inherits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import duckdb
import jinja2

from governance import (
    backup,
    db,
    private_files,
    publish,
    sample_loader,
    state_store,
    upload_guard,
)
from governance.text import t

TEMPLATE_DIR = Path(__file__).resolve().parent / "cluster_templates"
SERVE = db.PROJECT_DIR / "serve.py"
STREAMLIT_CONFIG = db.PROJECT_DIR / ".streamlit" / "config.toml"
NGINX = "/usr/sbin/nginx"
AFFINITY_COOKIE = "governance_node"
# Streamlit's own default when config.toml does not say.
DEFAULT_UPLOAD_MB = 200
RUN_DIR_NAME = "cluster-run"
# nginx skips a process that refused a connection for this long.
FAIL_TIMEOUT_S = 5
# A process that exits is started again after this pause, doubled at each
# exit in a row up to the cap (a crash loop does not spin), and back to the
# start once a process stayed up STABLE_AFTER_S.
RESTART_DELAY_S = 2
MAX_RESTART_DELAY_S = 60
STABLE_AFTER_S = 60
STARTUP_TIMEOUT_S = 180
STOP_TIMEOUT_S = 20
EXIT_OK, EXIT_USAGE, EXIT_FAULT = 0, 2, 3
# What may stand in nginx's configuration unquoted: a path without spaces,
# quotes, semicolons or braces.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./@+-]+$")
_SAFE_ADDRESS = re.compile(r"^[0-9A-Za-z.:\[\]-]+$")
TEMP_DIRS = ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp")
# The upload checks' slot files, shared by this cluster's processes.
UPLOAD_CHECK_SLOTS_DIR = "upload-check-slots"


class ClusterError(Exception):
    """A message for the operator (exit code 2)."""


def upload_limit_mb(config_path: Path = STREAMLIT_CONFIG) -> int:
    """server.maxUploadSize from .streamlit/config.toml (Streamlit's default otherwise)."""
    try:
        with open(config_path, "rb") as handle:
            settings = tomllib.load(handle)
    except FileNotFoundError:
        return DEFAULT_UPLOAD_MB
    return int(settings.get("server", {}).get("maxUploadSize", DEFAULT_UPLOAD_MB))


def _safe(value: str, pattern: re.Pattern, what: str) -> str:
    if not pattern.match(value):
        raise ClusterError(t("cluster.error.unsafe", what=what, value=value))
    return value


def nginx_config(
    run_dir: Path, app_ports: list[int], port: int, address: str = "127.0.0.1", *,
    upload_mb: int | None = None, show_upstream: bool = False,
    worker_user: str | None = None,
) -> str:
    """nginx.conf for the cluster, from the template; every value checked to
    be a plain number, address or path first (nothing reaches the file that
    could end a directive)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.get_template("nginx.conf.j2").render(
        run_dir=_safe(str(run_dir), _SAFE_PATH, "run_dir"),
        app_ports=[int(p) for p in app_ports],
        port=int(port),
        address=_safe(address, _SAFE_ADDRESS, "address"),
        upload_mb=int(upload_limit_mb() if upload_mb is None else upload_mb),
        show_upstream=bool(show_upstream),
        worker_user=_safe(worker_user, _SAFE_ADDRESS, "user") if worker_user else None,
        affinity_cookie=AFFINITY_COOKIE,
        fail_timeout_s=FAIL_TIMEOUT_S,
    )


def write_nginx_config(run_dir: Path, text: str, nginx: str = NGINX) -> Path:
    """The configuration and nginx's folders in the run folder, checked by `nginx -t`."""
    for name in TEMP_DIRS:
        private_files.private_dir(run_dir / name)
    path = run_dir / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    checked = subprocess.run([nginx, "-t", "-q", "-p", str(run_dir), "-c", str(path)],
                             capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise ClusterError(t("cluster.error.nginx_config", path=str(path),
                             detail=(checked.stderr or checked.stdout).strip()))
    return path


def _port_free(port: int, address: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def first_start(conn: duckdb.DuckDBPyConnection) -> None:
    """What `make run` does on opening the database: the sample district on a
    brand-new database, and recovery from a killed backup."""
    sample_loader.ensure_sample_loaded(conn)
    backup.recover(conn)


def prepare_data(db_path: Path) -> publish.Snapshot:
    """Publishing on, and the newest snapshot the working database's content."""
    try:
        return publish.ensure_published(db_path, prepare=first_start)
    except duckdb.IOException as exc:
        if db.is_lock_error(exc):
            raise ClusterError(t("error.db_locked", path=str(db_path))) from exc
        raise
    except state_store.LockTimeout as exc:
        raise ClusterError(t("cli.import_lock_busy")) from exc


def app_command(port: int, db_path: Path, serve: Path = SERVE) -> list[str]:
    """`serve` stands in for serve.py (benchmarks/timed_serve.py times every run)."""
    return [
        sys.executable, str(serve),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--", "--db", str(db_path),
    ]


def app_environment(db_path: Path, run_dir: Path | None = None) -> dict[str, str]:
    """What an app process inherits; with `run_dir`, the upload checks'
    slot folder shared by every process of this cluster (upload_guard)."""
    env = {**os.environ, publish.CLUSTER_ENV_VAR: "1", db.DB_ENV_VAR: str(db_path)}
    if run_dir is not None:
        env[upload_guard.SLOTS_ENV_VAR] = str(run_dir / UPLOAD_CHECK_SLOTS_DIR)
    return env


_PR_SET_PDEATHSIG = 1


def _stop_with_supervisor() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, even by
    SIGKILL, so no app or nginx outlives it in its own session."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class AppProcess:
    port: int
    log_path: Path
    process: subprocess.Popen | None = None
    restarts: int = 0
    down_since: float | None = None
    started_at: float | None = None
    restart_delay_s: float = RESTART_DELAY_S


@dataclass
class Cluster:
    db_path: Path
    run_dir: Path
    port: int
    apps: list[AppProcess]
    nginx: str = NGINX
    nginx_process: subprocess.Popen | None = None
    out: TextIO = field(default=sys.stdout)
    # What stands in for serve.py, and more environment for the apps
    # (benchmarks/load.py: timed_serve.py and where it writes its timings).
    serve: Path = SERVE
    extra_env: dict[str, str] = field(default_factory=dict)

    def start_app(self, app: AppProcess) -> None:
        with open(app.log_path, "ab") as log:
            app.process = subprocess.Popen(
                app_command(app.port, self.db_path, self.serve), cwd=db.PROJECT_DIR,
                env={**app_environment(self.db_path, self.run_dir), **self.extra_env},
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches the supervisor only
                preexec_fn=_stop_with_supervisor)
        app.down_since = None
        app.started_at = time.monotonic()
        self.write_state()

    def start_nginx(self) -> None:
        with open(self.run_dir / "nginx-stderr.log", "ab") as log:
            self.nginx_process = subprocess.Popen(
                [self.nginx, "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_stop_with_supervisor)
        self.write_state()

    def write_state(self) -> None:
        """processes.json in the run folder: who is running where (for
        operators and the cluster tests)."""
        state = {
            "port": self.port,
            "nginx": self.nginx_process.pid if self.nginx_process else None,
            "apps": [{"port": a.port, "pid": a.process.pid if a.process else None,
                      "restarts": a.restarts} for a in self.apps],
        }
        partial = self.run_dir / "processes.json.partial"
        partial.write_text(json.dumps(state), encoding="utf-8")
        os.replace(partial, self.run_dir / "processes.json")

    def wait_healthy(self, timeout_s: float = STARTUP_TIMEOUT_S,
                     stop_requested: Callable[[], bool] = lambda: False) -> None:
        """Until every app answers its health check; a stop asked for meanwhile
        (Ctrl-C, SIGTERM) ends the wait at once instead of after timeout_s."""
        import urllib.request

        deadline = time.monotonic() + timeout_s
        waiting = list(self.apps)
        while waiting:
            if stop_requested():
                raise ClusterError(t("cluster.stopping"))
            if time.monotonic() > deadline:
                raise ClusterError(t("cluster.error.not_healthy",
                                     ports=", ".join(str(a.port) for a in waiting)))
            for app in list(waiting):
                if app.process is not None and app.process.poll() is not None:
                    raise ClusterError(t("cluster.error.app_exited", port=app.port,
                                         log=str(app.log_path)))
                with contextlib.suppress(OSError):
                    url = "http://127.0.0.1:" + str(app.port) + "/_stcore/health"
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            waiting.remove(app)
            time.sleep(0.3)

    def supervise_once(self) -> bool:
        """Restart app processes that exited; False when nginx has stopped."""
        now = time.monotonic()
        for app in self.apps:
            if app.process is None or app.process.poll() is None:
                continue
            if app.down_since is None:
                app.down_since = now
                if app.started_at is not None and now - app.started_at >= STABLE_AFTER_S:
                    app.restart_delay_s = RESTART_DELAY_S
                print(t("cluster.app_down", port=app.port, code=app.process.returncode),
                      file=self.out, flush=True)
            elif now - app.down_since >= app.restart_delay_s:
                app.restarts += 1
                self.start_app(app)
                app.restart_delay_s = min(app.restart_delay_s * 2, MAX_RESTART_DELAY_S)
                print(t("cluster.app_restarted", port=app.port, pid=app.process.pid),
                      file=self.out, flush=True)
        return self.nginx_process is not None and self.nginx_process.poll() is None

    def stop(self) -> None:
        if self.nginx_process is not None and self.nginx_process.poll() is None:
            self.nginx_process.send_signal(signal.SIGQUIT)  # graceful: open requests finish
        for app in self.apps:
            if app.process is not None and app.process.poll() is None:
                app.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in [a.process for a in self.apps] + [self.nginx_process]:
            if process is None:
                continue
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    db_path = db.resolve_db_path(args.db).expanduser().resolve()
    nginx = args.nginx or shutil.which("nginx") or NGINX
    if not Path(nginx).exists():
        raise ClusterError(t("cluster.error.no_nginx", path=nginx))
    if args.processes < 1:
        raise ClusterError(t("cluster.error.processes"))
    first = args.first_app_port or args.port + 100
    app_ports = list(range(first, first + args.processes))
    for port in [args.port, *app_ports]:
        address = args.address if port == args.port else "127.0.0.1"
        if not _port_free(port, address):
            raise ClusterError(t("cluster.error.port_busy", port=port))
    run_dir = private_files.private_dir(
        Path(args.run_dir).expanduser().resolve() if args.run_dir
        else db_path.parent / RUN_DIR_NAME)
    if publish.imports_here():
        snapshot = prepare_data(db_path)
    else:  # a reading host: only what was copied from the data host
        snapshot = publish.newest(db_path)
        if snapshot is None:
            raise ClusterError(t("cluster.error.nothing_published",
                                 folder=str(publish.published_dir(db_path))))
    print(t("cluster.published", snapshot=str(snapshot.path)), file=out, flush=True)
    # The effective user's name, not $USER/$LOGNAME (getpass), which sudo or an
    # environment can make name someone else.
    worker_user = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else None
    write_nginx_config(run_dir, nginx_config(
        run_dir, app_ports, args.port, args.address, show_upstream=args.show_upstream,
        worker_user=worker_user), nginx)
    cluster = Cluster(db_path, run_dir, args.port,
                      [AppProcess(p, run_dir / ("app-" + str(p) + ".log")) for p in app_ports],
                      nginx=nginx, out=out)
    stopping = []

    def request_stop(signum, frame) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for app in cluster.apps:
            cluster.start_app(app)
        cluster.wait_healthy(stop_requested=lambda: bool(stopping))
        cluster.start_nginx()
        print(t("cluster.started", address=args.address, port=args.port,
                processes=args.processes, ports=", ".join(str(p) for p in app_ports),
                run_dir=str(run_dir), state=publish.store_for(db_path).describe()),
              file=out, flush=True)
        while not stopping:
            if not cluster.supervise_once():
                print(t("cluster.error.nginx_exited", log=str(run_dir / "nginx-error.log")),
                      file=err, flush=True)
                return EXIT_FAULT
            time.sleep(0.5)
        print(t("cluster.stopping"), file=out, flush=True)
        return EXIT_OK
    finally:
        cluster.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def add_command(commands) -> None:
    """`cluster` under the CLI's subcommands (governance/cli.py)."""
    cmd = commands.add_parser("cluster", help=t("cluster.help"))
    cmd.add_argument("--db", help=t("cli.help.db"))
    cmd.add_argument("--processes", type=int, default=3, help=t("cluster.help.processes"))
    cmd.add_argument("--port", type=int, default=8501, help=t("cluster.help.port"))
    cmd.add_argument("--address", default="127.0.0.1", help=t("cluster.help.address"))
    cmd.add_argument("--first-app-port", type=int, default=None,
                     help=t("cluster.help.first_app_port"))
    cmd.add_argument("--run-dir", help=t("cluster.help.run_dir"))
    cmd.add_argument("--nginx", help=t("cluster.help.nginx"))
    cmd.add_argument("--show-upstream", action="store_true",
                     help=t("cluster.help.show_upstream"))
    cmd.set_defaults(handler=_cmd_cluster)


def _cmd_cluster(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        return run(args, out, err)
    except ClusterError as exc:
        print(str(exc), file=err)
        return EXIT_USAGE
