"""Every page's server time at district, city and province scale.

    .venv/bin/python benchmarks/pages.py [--data DIR] [--scales district city province]
        [--runs K] [--pages overview facilities ...] [--warm-wait S]

Data: DIR/<scale>/db.duckdb, built when missing the way a bureau would, with
the CLI: `python -m governance sample --out DIR/<scale>/csv --communities N
--residences R --incidents I` and then `python -m governance import` of each
table (communities, facilities, residences, funding, safety, incidents):

    district    117 communities, 12 buildings each, incidents as the reports imply
    city      5,000 communities, 20 buildings each (100,000), 1,000,000 grid events
    province 20,000 communities, 50 buildings each (1,000,000), 10,000,000 grid events

Measured in-process with Streamlit's AppTest (the server's own script run:
session state, every cached read, every table/chart/map turned into page
elements; not the websocket or the browser). For each run and each page:

* first: the page opened in a new session just after an import. An import
  only changes the data version every cache is keyed on, so the caches are
  emptied here (cached reads and drawn elements; the database connection is
  kept, as after a real import). The first page of the first run also pays
  for importing the app's modules in this process. When the app warms its caches after an
  import (pages/_warm.py), `--warm-wait S` lets that warming run for up to S
  seconds first, as the import's own page does while its result is read;
  0 measures the cold page.
* warm: the same page rerun unchanged (another person opening it too).
* street: a street filter no run has used yet (a new street each run).
* type: then a community type added to that filter.

Each run picks other streets, so the filter figures are never cache hits.
Printed twice: wall-clock time, and the CPU time of the whole process over
the same step (every thread, DuckDB's included) — on a shared machine the
wall clock includes waiting for a core, the CPU time does not.
After every page has been visited at a scale, the process's RSS (current and
peak) is printed: AppTest, pytest-free, one process, as the server would hold
it. Figures: median and min–max over the runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This script's own folder would make `import pages` find this file.
sys.path[:] = [str(ROOT)] + [p for p in sys.path
                             if Path(p or ".").resolve() != Path(__file__).resolve().parent]

SCALES = {
    # name: (communities, buildings per community, incidents or None for the default)
    "district": (117, 12, None),
    "city": (5_000, 20, 1_000_000),
    "province": (20_000, 50, 10_000_000),
}
TABLES = ("communities", "facilities", "residences", "funding", "safety", "incidents")
PAGES = ("overview", "facilities", "funding", "safety", "scenarios", "data", "admin")
TIMEOUT_S = 600


def build(folder: Path, scale: str) -> Path:
    """DIR/<scale>/db.duckdb from the sample generator and the CLI import."""
    db_path = folder / "db.duckdb"
    if db_path.exists():
        return db_path
    communities, residences, incidents = SCALES[scale]
    csv_dir = folder / "csv"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    python = sys.executable
    command = [python, "-m", "governance", "sample", "--out", str(csv_dir),
               "--communities", str(communities), "--residences", str(residences)]
    if incidents is not None:
        command += ["--incidents", str(incidents)]
    subprocess.run(command, cwd=ROOT, check=True)
    partial = folder / "building.duckdb"
    for table in TABLES:
        started = time.monotonic()
        subprocess.run([python, "-m", "governance", "import", "--db", str(partial),
                        "--table", table, str(csv_dir / f"{table}.csv")], cwd=ROOT, check=True)
        print(f"  imported {table} in {time.monotonic() - started:.1f} s", flush=True)
    partial.rename(db_path)
    return db_path


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process in MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_avg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/tmp/pages_bench")
    parser.add_argument("--scales", nargs="+", default=list(SCALES), choices=list(SCALES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--warm-wait", type=float, default=600.0,
                        help="seconds the post-import warming may run before the first view")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; load average before: {load_avg()}")
    print("server time per script run, in-process (AppTest); ms: median (min–max) "
          f"over {args.runs} runs")
    for scale in args.scales:
        db_path = build(Path(args.data) / scale, scale)
        # One process per scale: its RSS is that scale's alone.
        result = subprocess.run(
            [sys.executable, __file__, "--one", str(db_path), str(args.runs),
             str(args.warm_wait), *args.pages],
            cwd=ROOT, text=True, capture_output=True)
        print(f"\n== {scale} ({db_path}) ==")
        print(result.stdout.rstrip())
        if result.returncode:
            print(result.stderr[-4000:])
        print(f"load average after: {load_avg()}", flush=True)


def _fmt(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):7.0f} ({min(values):.0f}–{max(values):.0f})"


def measure(db_path: str, runs: int, warm_wait: float, pages: list[str]) -> None:
    """One scale, in this process (called as `--one`)."""
    import logging

    logging.disable(logging.WARNING)  # the folder-mode warning, per run
    accounts = Path(tempfile.mkdtemp()) / "accounts.sqlite"
    os.environ["GOVERNANCE_DB"] = db_path
    os.environ["GOVERNANCE_ACCOUNTS"] = str(accounts)

    import duckdb
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from governance import indicators
    from governance.text import t
    from pages import _drawing, _reads

    # Every cached read and drawer of the pages; not the database connection.
    cached = [o for module in (_reads, _drawing) for o in vars(module).values()
              if type(o).__name__ == "CachedFunc"]
    try:
        from pages import _warm
    except ImportError:
        _warm = None

    conn = duckdb.connect(db_path, read_only=True)
    streets = indicators.list_streets(conn, None)
    conn.close()
    generic_error = t("error.generic", ref="@").split("@")[0]
    print(f"{len(streets)} streets")

    def after_import() -> None:
        """What an import leaves: no cached result for the new data version."""
        st.cache_data.clear()
        for function in cached:
            function.clear()

    times: dict[str, dict[str, list[float]]] = {p: {} for p in pages}
    cpu_times: dict[str, dict[str, list[float]]] = {p: {} for p in pages}
    failures: list[str] = []
    for run in range(runs):
        after_import()
        if _warm is not None and warm_wait > 0:
            started = time.monotonic()
            _warm.warm_now(db_path, timeout_s=warm_wait)
            times.setdefault("_warming", {}).setdefault("s", []).append(
                (time.monotonic() - started) * 1000)
        for page_index, page in enumerate(pages):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
            at.switch_page(f"pages/{page}.py")
            steps = [("first", lambda at=at: at.run()), ("warm", lambda at=at: at.run())]
            street = streets[(run * len(pages) + page_index) % len(streets)]
            steps.append(("street", lambda at=at, street=street:
                          at.sidebar.multiselect(key="filter_streets").set_value([street]).run()))
            steps.append(("type", lambda at=at:
                          at.sidebar.multiselect(key="filter_types").set_value(["urban"]).run()))
            for step, action in steps:
                started, cpu = time.monotonic(), time.process_time()
                action()
                elapsed = (time.monotonic() - started) * 1000
                times[page].setdefault(step, []).append(elapsed)
                cpu_times[page].setdefault(step, []).append((time.process_time() - cpu) * 1000)
                shown = [e.value for e in at.error if e.value.startswith(generic_error)]
                shown += [str(e.value) for e in at.exception]
                if shown:
                    failures.append(f"run {run + 1} {page} {step}: {shown[0][:300]}")
    for title, table in (("wall-clock ms", times), ("CPU ms of the process (every thread)",
                                                    cpu_times)):
        print(f"{title}:")
        print(f"{'page':<12}{'first':>22}{'warm':>22}{'new street':>22}{'+ type':>22}")
        for page in pages:
            row = table[page]
            print(f"{page:<12}" + "".join(f"{_fmt(row.get(s, [])):>22}"
                                         for s in ("first", "warm", "street", "type")))
    if "_warming" in times:
        print(f"post-import warming (before the first views): {_fmt(times['_warming']['s'])} ms")
    current, peak = rss_mb()
    print(f"RSS after every page: {current:.0f} MB (peak {peak:.0f} MB)")
    print("errors shown: " + ("none" if not failures else "\n  " + "\n  ".join(failures)))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        measure(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:])
    else:
        main()
