"""Safety page (平安建设) at scale: grid-event import, page queries versus pandas.

    .venv/bin/python benchmarks/safety.py [--rows N [N ...]] [--repeat K]
        [--direct-above N]

For each N (default 100,000, 1,000,000 and 10,000,000) the sample generator
writes a district of max(117, N / 1,200) communities — about 100 grid events
per community-month over the 12 months the grid system has been live — with
exactly N incidents (SampleSize(incidents=N)), and then:

(a) import: communities.csv and safety.csv are imported untimed, then
    incidents.csv is imported through governance.importer.import_files into a
    fresh DuckDB file (full validation, one transaction), in a child process so
    that `peak RSS` is that import's own (the process's ru_maxrss: Python,
    libraries and the two small tables included). Sizes above --direct-above
    skip the importer: DuckDB's read_csv inserts them unvalidated (said in
    the output).
(b) page queries: every query the safety page runs, through
    governance.db.run_query with the page's own parameters
    (indicators.query_params for indicators.default_period: the latest 12
    report months, every street and community type), best of K after one
    warm-up, against pandas doing the same aggregation on DataFrames already
    in memory (read from the same DuckDB file; that load is timed separately
    and not included). Each pandas twin's result is compared with the query's
    (rows and a total) and `agree` says whether they match. Then the whole
    page's computation, governance.safety_view.safety_view (indicator matrix,
    red flags, monthly indicators, every incident table), and the map cells.

The product's goal: every page query under 300 ms at 1M incidents; the page
usable at 10M on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import db, importer, indicators, safety, sample  # noqa: E402
from governance.contract import INCIDENT_CATEGORY, INCIDENT_REPORT_COLUMNS  # noqa: E402

DEFAULT_ROWS = (100_000, 1_000_000, 10_000_000)
EVENTS_PER_COMMUNITY = 1_200  # ~100 per community-month over 12 live months
GOAL_MS_AT_1M = 300
CELL_M = safety.DEFAULT_CELL_M
ALL_CATEGORIES = [c.code for c in INCIDENT_CATEGORY.codes]
MEASURES = [*INCIDENT_REPORT_COLUMNS.values(), "major_criminal_cases"]


# ----------------------------------------------------------------------------
# data


def communities_for(rows: int) -> int:
    return max(sample.SampleSize().communities, round(rows / EVENTS_PER_COMMUNITY))


def write_csvs(out: Path, rows: int) -> tuple[int, float]:
    """The sample district's CSVs with exactly `rows` incidents; (communities, seconds)."""
    communities = communities_for(rows)
    started = time.perf_counter()
    sample.write_sample(out, sample.SampleSize(communities=communities, incidents=rows))
    return communities, time.perf_counter() - started


def import_child(directory: Path) -> int:
    """Run in a child process: import the CSVs into directory/bench.duckdb."""
    conn = db.connect(directory / "bench.duckdb")
    try:
        first = [importer.SourceFile(directory / f"{name}.csv", name)
                 for name in ("communities", "safety")]
        results = importer.import_files(conn, first, applied_by="benchmark")
        if not all(r.applied for r in results):
            print(json.dumps({"error": [m for r in results for m in r.report.messages()][:5]}))
            return 1
        source = importer.SourceFile(directory / "incidents.csv", "incidents")
        started = time.perf_counter()
        results = importer.import_files(conn, [source], applied_by="benchmark")
        seconds = time.perf_counter() - started
        stored = conn.execute("select count(*) from incidents").fetchone()[0]
    finally:
        conn.close()
    print(json.dumps({
        "applied": all(r.applied for r in results),
        "messages": [m for r in results for m in r.report.messages()][:5],
        "seconds": seconds,
        "stored": stored,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    return 0


def import_in_child(directory: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--import-child", str(directory)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"import child failed: {done.stderr[-2000:]}{done.stdout[-500:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result.get("applied"):
        raise RuntimeError(f"incidents refused: {result}")
    return result


def direct_load(directory: Path) -> dict:
    """Communities and safety through the importer, incidents by DuckDB's own
    CSV reader (no validation): for sizes the importer would take too long on."""
    conn = db.connect(directory / "bench.duckdb")
    try:
        first = [importer.SourceFile(directory / f"{name}.csv", name)
                 for name in ("communities", "safety")]
        results = importer.import_files(conn, first, applied_by="benchmark")
        assert all(r.applied for r in results)
        started = time.perf_counter()
        conn.execute("""
            insert into incidents
            select incident_id, community_id, cast(occurred_at as timestamp), category,
                   severity, status, cast(resolved_at as timestamp), lon, lat, 0
            from read_csv($path, header = true, all_varchar = true)
        """, {"path": str(directory / "incidents.csv")})
        seconds = time.perf_counter() - started
        stored = conn.execute("select count(*) from incidents").fetchone()[0]
    finally:
        conn.close()
    return {"seconds": seconds, "stored": stored, "peak_mb": float("nan")}


def load_frames(conn) -> dict[str, pd.DataFrame]:
    return {
        name: conn.sql("select * exclude (import_id) from " + db.quote_identifier(name))
        .arrow().read_all()
        .to_pandas(date_as_object=False)
        for name in ("communities", "safety", "incidents")
    }


# ----------------------------------------------------------------------------
# pandas twins of the incident queries (same rules as the SQL file headers)


def _scoped(f: dict[str, pd.DataFrame], p: dict) -> pd.DataFrame:
    c = f["communities"]
    keep = c["street"].isin(p["scope_streets"]) & c["community_type"].isin(p["community_types"])
    return c.loc[keep, ["community_id", "community_name", "street"]]


def _bounds(p: dict) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(p["month_from"]), pd.Timestamp(p["month_to"]) + pd.DateOffset(months=1)


def _events(f: dict[str, pd.DataFrame], p: dict, scoped_only: bool = True) -> pd.DataFrame:
    inc = f["incidents"]
    low, high = _bounds(p)
    keep = (inc["occurred_at"] >= low) & (inc["occurred_at"] < high)
    if scoped_only:
        keep &= inc["community_id"].isin(_scoped(f, p)["community_id"])
    return inc.loc[keep]


def _month(occurred: pd.Series) -> np.ndarray:
    return occurred.to_numpy().astype("datetime64[M]")


def pd_counts_by_month(f: dict[str, pd.DataFrame], p: dict) -> pd.DataFrame:
    ev = _events(f, p)
    if ev.empty:
        return pd.DataFrame()
    grouped = pd.DataFrame({
        "month": _month(ev["occurred_at"]),
        "category": ev["category"].to_numpy(),
        "incidents": 1,
        "resolved_incidents": (ev["status"] == "resolved").to_numpy(),
        "major_incidents": (ev["severity"] == "major").to_numpy(),
    }).groupby(["month", "category"]).sum()
    grouped["open_incidents"] = grouped["incidents"] - grouped["resolved_incidents"]
    months = pd.date_range(pd.Timestamp(p["month_from"]), pd.Timestamp(p["month_to"]), freq="MS")
    categories = sorted(grouped.index.get_level_values("category").unique())
    full = pd.MultiIndex.from_product([months, categories], names=["month", "category"])
    return grouped.reindex(full, fill_value=0).reset_index()


def pd_resolution_by_category(f: dict[str, pd.DataFrame], p: dict) -> pd.DataFrame:
    ev = _events(f, p)
    resolved = ev["status"] == "resolved"
    frame = pd.DataFrame({
        "category": ev["category"],
        "incidents": 1,
        "resolved_incidents": resolved,
        "hours": (ev["resolved_at"] - ev["occurred_at"]).dt.total_seconds() / 3600,
        "open_incidents": ~resolved,
        "open_over_30_days": ~resolved & (ev["occurred_at"]
                                          < pd.Timestamp(p["as_of"]) - pd.Timedelta(days=30)),
    })

    def summarise(groups) -> pd.DataFrame:
        out = groups[["incidents", "resolved_incidents", "open_incidents",
                      "open_over_30_days"]].sum()
        out["timed_resolutions"] = groups["hours"].count()
        out["median_resolution_hours"] = groups["hours"].median()
        out["p90_resolution_hours"] = groups["hours"].quantile(0.9)
        out["resolved_pct"] = out["resolved_incidents"] * 100.0 / out["incidents"]
        return out

    per = summarise(frame.groupby("category")).reset_index()
    per["is_total"] = False
    total = summarise(frame.assign(category="").groupby("category")).reset_index()
    total["category"], total["is_total"] = None, True
    return pd.concat([total, per], ignore_index=True)


def pd_open_incidents(f: dict[str, pd.DataFrame], p: dict) -> pd.DataFrame:
    inc = f["incidents"]
    low, high = _bounds(p)
    scoped = _scoped(f, p)
    ev = inc.loc[(inc["status"] != "resolved") & (inc["occurred_at"] < high)
                 & inc["community_id"].isin(scoped["community_id"])]
    total = len(ev)
    ev = ev.sort_values(["occurred_at", "incident_id"]).head(p["row_limit"])
    ev = ev.merge(scoped, on="community_id", how="left")
    as_of = pd.Timestamp(p["as_of"]).normalize()
    ev["in_range"] = ev["occurred_at"] >= low
    ev["age_days"] = (as_of - ev["occurred_at"].dt.normalize()).dt.days
    ev["open_total"] = total
    return ev


def pd_map_cells(f: dict[str, pd.DataFrame], p: dict) -> pd.DataFrame:
    ev = _events(f, p)
    ev = ev.loc[ev["lon"].notna() & ev["lat"].notna()
                & ev["category"].isin(p["incident_categories"])]
    frame = pd.DataFrame({
        "cell_x": np.floor(ev["lon"].to_numpy() / p["cell_deg_lon"]).astype(np.int64),
        "cell_y": np.floor(ev["lat"].to_numpy() / p["cell_deg_lat"]).astype(np.int64),
        "category": ev["category"].to_numpy(),
        "incidents": 1,
        "open_incidents": (ev["status"] != "resolved").to_numpy(),
        "major_incidents": (ev["severity"] == "major").to_numpy(),
    })
    cells = frame.groupby(["cell_x", "cell_y"])[
        ["incidents", "open_incidents", "major_incidents"]].sum()
    per_category = frame.groupby(["cell_x", "cell_y", "category"]).size().rename("n").reset_index()
    top = (per_category.sort_values(["n", "category"], ascending=[False, True])
           .drop_duplicates(["cell_x", "cell_y"]).set_index(["cell_x", "cell_y"])["category"])
    cells["top_category"] = top
    cells = cells.reset_index()
    cells["cell_lon"] = (cells["cell_x"] + 0.5) * p["cell_deg_lon"]
    cells["cell_lat"] = (cells["cell_y"] + 0.5) * p["cell_deg_lat"]
    return cells.sort_values(["incidents", "cell_lon", "cell_lat"],
                             ascending=[False, True, True])


def pd_reconciliation(f: dict[str, pd.DataFrame], p: dict) -> pd.DataFrame:
    all_events = _events(f, p, scoped_only=False)
    months = np.unique(_month(all_events["occurred_at"]))  # logged district-wide
    scoped = _scoped(f, p)
    ev = all_events.loc[all_events["community_id"].isin(scoped["community_id"])
                        & all_events["category"].isin(list(INCIDENT_REPORT_COLUMNS))]
    frame = pd.DataFrame({
        "community_id": ev["community_id"].to_numpy(),
        "month": _month(ev["occurred_at"]),
        "measure": ev["category"].map(INCIDENT_REPORT_COLUMNS).to_numpy(),
    })
    major = ((ev["category"] == "criminal") & (ev["severity"] == "major")).to_numpy()
    counts = pd.concat([
        frame.groupby(["community_id", "month", "measure"]).size(),
        frame.loc[major].assign(measure="major_criminal_cases")
        .groupby(["community_id", "month", "measure"]).size(),
    ]).unstack(fill_value=0)
    checked = pd.MultiIndex.from_product([scoped["community_id"], months],
                                         names=["community_id", "month"])
    counted = counts.reindex(index=checked, columns=MEASURES, fill_value=0).to_numpy()
    s = f["safety"]
    s = s.loc[(s["month"] >= pd.Timestamp(p["month_from"]))
              & (s["month"] <= pd.Timestamp(p["month_to"]))]
    reports = s.set_index([s["community_id"].to_numpy(),
                           s["month"].to_numpy().astype("datetime64[M]")])[MEASURES]
    reported = reports.reindex(checked).to_numpy(dtype=np.float64, na_value=np.nan)
    differs = np.isnan(reported) | (reported != counted)
    where, which = np.nonzero(differs)
    return pd.DataFrame({
        "community_id": checked.get_level_values(0)[where],
        "month": checked.get_level_values(1)[where],
        "measure": np.array(MEASURES)[which],
        "reported_count": reported[where, which],
        "incident_count": counted[where, which],
        "difference_count": counted[where, which] - reported[where, which],
    })


# ----------------------------------------------------------------------------
# timing


def best_of(repeat: int, run: Callable[[], object]) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _agree(sql: pd.DataFrame, twin: pd.DataFrame, column: str | None) -> bool:
    if len(sql) != len(twin):
        return False
    if column is None or not len(sql):
        return True
    return float(pd.to_numeric(sql[column]).sum()) == float(pd.to_numeric(twin[column]).sum())


def measure_queries(conn, frames: dict[str, pd.DataFrame], repeat: int) -> list[tuple]:
    """(query, duckdb s, pandas s or None, result rows, agree or None) per query."""
    period = indicators.default_period(conn)
    params = indicators.query_params(conn, period)
    summary = safety.incident_summary(conn)
    as_of = safety.as_of_for(period, summary)
    cell_lon, cell_lat = safety.cell_degrees(CELL_M, sample.CENTRE_LAT)
    first_community = frames["communities"]["community_id"].iloc[0]
    params.update(
        as_of=as_of, row_limit=safety.OPEN_ROWS_SHOWN, cell_deg_lon=cell_lon,
        cell_deg_lat=cell_lat, incident_categories=ALL_CATEGORIES,
        community_id=first_community,
    )
    twins: dict[str, tuple[Callable, str | None]] = {
        "incident_counts_by_month": (pd_counts_by_month, "incidents"),
        "incident_resolution_by_category": (pd_resolution_by_category, "open_over_30_days"),
        "open_incidents": (pd_open_incidents, "age_days"),
        "incident_map_cells": (pd_map_cells, "incidents"),
        "incident_report_reconciliation": (pd_reconciliation, "incident_count"),
    }
    names = [*twins, "incident_summary", "safety_monthly_indicators",
             "safety_community_months", "safety_red_flags"]
    rows = []
    for name in names:
        result = db.run_query(conn, name, params).to_pandas()
        seconds = best_of(repeat, lambda name=name: db.run_query(conn, name, params))
        if name in twins:
            twin, column = twins[name]
            agree = _agree(result, twin(frames, params), column)
            pandas_s = best_of(repeat, lambda twin=twin: twin(frames, params))
        else:
            agree, pandas_s = None, None
        rows.append((name, seconds, pandas_s, len(result), agree))
        print(f"    {name:<34}{seconds * 1000:>9.0f} ms"
              + (f"{pandas_s * 1000:>9.0f} ms pandas" if pandas_s is not None else ""),
              flush=True)
    try:
        from governance import safety_view
    except ImportError:  # the page's module is not there yet
        return rows
    seconds = best_of(repeat, lambda: safety_view.safety_view(conn, period))
    rows.append(("safety_view() — whole page", seconds, None, None, None))
    print(f"    {'safety_view() — whole page':<34}{seconds * 1000:>9.0f} ms", flush=True)
    seconds = best_of(repeat, lambda: safety_view.incident_map(
        conn, period, CELL_M, sample.CENTRE_LAT))
    rows.append(("incident_map() — map layer", seconds, None, None, None))
    print(f"    {'incident_map() — map layer':<34}{seconds * 1000:>9.0f} ms", flush=True)
    return rows


def run_size(rows: int, repeat: int, direct: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="governance-bench-safety-") as tmp:
        directory = Path(tmp)
        communities, generated_s = write_csvs(directory, rows)
        file_mb = (directory / "incidents.csv").stat().st_size / 2**20
        print(f"  generated {rows:,} incidents, {communities:,} communities in "
              f"{generated_s:.1f} s ({file_mb:,.0f} MB CSV)", flush=True)
        loaded = direct_load(directory) if direct else import_in_child(directory)
        if loaded["stored"] != rows:
            raise RuntimeError(f"stored {loaded['stored']:,} of {rows:,} incidents")
        print(f"  {'read_csv insert' if direct else 'imported'} in {loaded['seconds']:.1f} s",
              flush=True)
        conn = db.connect(directory / "bench.duckdb")
        try:
            started = time.perf_counter()
            frames = load_frames(conn)
            load_s = time.perf_counter() - started
            frame_mb = sum(f.memory_usage(deep=True).sum() for f in frames.values()) / 2**20
            queries = measure_queries(conn, frames, repeat)
        finally:
            conn.close()
    return {
        "rows": rows, "communities": communities, "file_mb": file_mb, "direct": direct,
        "import_s": loaded["seconds"], "peak_mb": loaded["peak_mb"], "load_s": load_s,
        "frame_mb": frame_mb, "queries": queries,
    }


# ----------------------------------------------------------------------------
# report


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    import duckdb
    import pyarrow
    return (f"{os.cpu_count()} cores ({model}), {mem_kb / 2**20:.1f} GB RAM; "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
            f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}, numpy {np.__version__}")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_report(results: list[dict], repeat: int, started_load: str) -> None:
    print()
    print(f"machine: {machine()}")
    print(f"load average (1/5/15 min): {started_load} at start, {load_average()} at end")
    print()
    print("(a) incidents.csv import (communities and safety imported first, untimed)")
    header = (f"{'incidents':>12}{'communities':>13}{'CSV MB':>9}{'seconds':>10}{'rows/s':>11}"
              f"{'peak RSS MB':>13}  method")
    print(header)
    print("-" * (len(header) + 14))
    for r in results:
        method = "DuckDB read_csv insert (importer skipped)" if r["direct"] else "importer"
        peak = "—" if r["direct"] else f"{r['peak_mb']:,.0f}"
        print(f"{r['rows']:>12,}{r['communities']:>13,}{r['file_mb']:>9,.0f}"
              f"{r['import_s']:>10.1f}{r['rows'] / r['import_s']:>11,.0f}{peak:>13}  {method}")
    print()
    print(f"(b) page queries, best of {repeat} after a warm-up, ms "
          f"(pandas: same result from DataFrames already in memory)")
    sizes = [r["rows"] for r in results]
    header = f"{'query':<36}" + "".join(f"{f'{n:,} duckdb':>19}{'pandas':>9}{'agree':>7}"
                                       for n in sizes)
    print(header)
    print("-" * len(header))
    names = [q[0] for q in results[0]["queries"]]
    for i, name in enumerate(names):
        line = f"{name:<36}"
        for r in results:
            _, duck, pandas_s, _, agree = r["queries"][i]
            line += f"{duck * 1000:>19,.0f}"
            line += f"{pandas_s * 1000:>9,.0f}" if pandas_s is not None else f"{'—':>9}"
            line += f"{'yes' if agree else 'NO':>7}" if agree is not None else f"{'':>7}"
        print(line)
    line = f"{'pandas load from DuckDB (s; MB)':<36}"
    for r in results:
        line += f"{'':>19}{r['load_s']:>9.2f}{r['frame_mb']:>7,.0f}"
    print(line)
    for r in results:
        if r["rows"] == 1_000_000:
            slow = [q[0] for q in r["queries"][:9] if q[1] * 1000 > GOAL_MS_AT_1M]
            print(f"\nat 1M: queries over {GOAL_MS_AT_1M} ms: {', '.join(slow) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_ROWS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--direct-above", type=int, default=None,
                        help="above N rows, insert incidents with DuckDB's read_csv "
                             "instead of the importer")
    parser.add_argument("--import-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_child:
        return import_child(args.import_child)

    started_load = load_average()
    results = []
    for rows in args.rows:
        print(f"{rows:,} incidents (load average {load_average()})", flush=True)
        direct = args.direct_above is not None and rows > args.direct_above
        results.append(run_size(rows, args.repeat, direct))
    print_report(results, args.repeat, started_load)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
