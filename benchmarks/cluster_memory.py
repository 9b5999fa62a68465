"""Memory of a cluster: each app process's resident memory (RSS) and the sum,
at a given data scale.

    .venv/bin/python benchmarks/cluster_memory.py --communities 117 --processes 3 --runs 2
    .venv/bin/python benchmarks/cluster_memory.py --db /tmp/pages_bench/province/db.duckdb

Each run: the sample generator at that scale (`python -m governance sample`
data), imported through the real importer into a fresh working database, or
a copy of an existing database (`--db`, e.g. the province benchmarks/pages.py
builds: 20,000 communities, 10,000,000 grid events);
`python -m governance cluster` with N processes and nginx on loopback ports
(SQLite state store); then one Chromium session per process (pinned by the
affinity cookie) signs in and opens every dashboard page. RSS (VmRSS) of
every app process and of nginx is read idle after start and again after the
pages, and printed per run with mean ± spread over runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from governance import auth, db, importer, sample  # noqa: E402
from governance.contract import TABLES  # noqa: E402
from tests.browser.conftest import wait_for_app  # noqa: E402
from tests.cluster import conftest as harness  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PAGES = ("总览", "设施覆盖", "经费保障", "平安建设", "情景推演")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_database(folder: Path, communities: int) -> Path:
    written = sample.write_sample(folder / "csv", sample.SampleSize(communities=communities))
    db_path = folder / "district.duckdb"
    conn = db.connect(db_path)
    try:
        sources = [importer.SourceFile(written[name], name) for name in TABLES]
        results = importer.import_files(conn, sources, applied_by="benchmark", is_sample=False)
        assert all(r.applied for r in results), [m for r in results for m in r.report.messages()]
    finally:
        conn.close()
    return db_path


def one_run(communities: int, processes: int, source_db: Path | None = None) -> dict:
    import os
    import shutil
    import signal
    import subprocess

    with tempfile.TemporaryDirectory(prefix="cluster-memory-") as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        if source_db is None:
            db_path = build_database(folder, communities)
        else:
            db_path = folder / "district.duckdb"
            shutil.copyfile(source_db, db_path)
        built = time.monotonic() - started
        auth.Accounts(folder / "accounts.sqlite").add_user("admin", harness.PASSWORD, "admin")
        port, *ports = harness._free_ports(processes + 1)
        env = {**os.environ, "GOVERNANCE_DB": str(db_path)}
        env.pop("GOVERNANCE_STATE_URL", None)
        run_dir = folder / "run"
        log = open(folder / "cluster.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "governance", "cluster", "--db", str(db_path),
             "--processes", str(processes), "--port", str(port),
             "--first-app-port", str(ports[0]), "--run-dir", str(run_dir), "--show-upstream"],
            cwd=harness.PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        cluster = harness.RunningCluster(f"http://127.0.0.1:{port}", db_path, run_dir, "",
                                         env, process, folder / "cluster.log")
        try:
            deadline = time.monotonic() + 900
            while not ((run_dir / "processes.json").exists() and cluster.state()["nginx"]
                       and harness._healthy(cluster.url)):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "cluster.log").read_text())
                time.sleep(0.5)
            pids = {a["port"]: a["pid"] for a in cluster.state()["apps"]}
            idle = {p: rss_mb(pid) for p, pid in pids.items()}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=CHROMIUM_ARGS)
                for affinity in cluster.affinities(processes).values():
                    context = browser.new_context(viewport={"width": 1440, "height": 1000})
                    context.add_cookies([{"name": harness.AFFINITY_COOKIE, "value": affinity,
                                          "url": cluster.url}])
                    tab = context.new_page()
                    tab.set_default_timeout(600_000)
                    tab.goto(cluster.url)
                    tab.get_by_label("账号").fill("admin")
                    tab.get_by_label("密码").fill(harness.PASSWORD)
                    tab.get_by_role("button", name="登录", exact=True).click()
                    wait_for_app(tab)
                    for name in PAGES:
                        tab.locator('[data-testid="stSidebarNavLink"]', has_text=name).click()
                        wait_for_app(tab)
                    context.close()
                browser.close()
            used = {p: rss_mb(pid) for p, pid in pids.items()}
            nginx = rss_mb(cluster.state()["nginx"])
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
            log.close()
        return {"build_s": built, "db_mb": db_path.stat().st_size / 2**20,
                "idle": idle, "used": used, "nginx": nginx}


def _spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:,.0f}"
    return f"{statistics.mean(values):,.0f} ± {statistics.stdev(values):,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--communities", type=int, default=117)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", type=Path,
                        help="copy this database instead of generating --communities")
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        result = one_run(args.communities, args.processes, args.db)
        runs.append(result)
        print(f"run {n + 1}: database {result['db_mb']:,.0f} MB (built in "
              f"{result['build_s']:.0f} s); RSS MB idle "
              + ", ".join(f"{v:,.0f}" for v in result["idle"].values())
              + "; after every page " + ", ".join(f"{v:,.0f}" for v in result["used"].values())
              + f" (sum {sum(result['used'].values()):,.0f}); nginx {result['nginx']:,.1f}",
              flush=True)
    per_process = [v for r in runs for v in r["used"].values()]
    sums = [sum(r["used"].values()) for r in runs]
    idle = [v for r in runs for v in r["idle"].values()]
    scale = str(args.db) if args.db else f"{args.communities} communities"
    print(f"{scale}, {args.processes} processes, {args.runs} runs: "
          f"per process idle {_spread(idle)} MB, after every page {_spread(per_process)} MB "
          f"(min {min(per_process):,.0f}, max {max(per_process):,.0f}); "
          f"sum {_spread(sums)} MB")


if __name__ == "__main__":
    main()
