"""A throw-away PostgreSQL server for the tests: Debian's binaries, a cluster
made by initdb in a temporary folder, listening on a loopback port only, never
the system service.

initdb and postgres refuse to run as root; CI runs as root. Then the server
runs as `nobody` (subprocess's user=/group=: setuid in the child just before
exec, no su or sudo), in a folder handed to it. Without Debian's postgresql
package the tests fail with the command that installs it, never skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

STARTUP_TIMEOUT_S = 60
SUPERUSER = "governance"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        pytest.fail("PostgreSQL is missing: run `apt-get install -y postgresql` "
                    "(make test does so through scripts/install_system_deps.sh)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    port: int
    base: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute("create database " + name)  # name: letters and hex digits only
        return self.url(name)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="governance-pg-"))
    as_user: dict = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    data = base / "data"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
         "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        cwd=base, env=env, check=True, capture_output=True, **as_user)
    port = _free_port()
    log = open(base / "server.log", "wb")  # noqa: SIM115 — open for the server's life
    process = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(base),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
         "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, **as_user)
    server = PostgresServer(port, base)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError("postgres exited:\n"
                                   + (base / "server.log").read_text(errors="replace"))
            try:
                psycopg.connect(server.url(), connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # fast shutdown: clients disconnected
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)
