"""Import throughput: a large synthetic safety CSV into a temporary DuckDB.

    .venv/bin/python benchmarks/import_throughput.py [TARGET_MB] [--gbk] [--runs N]
        [--incidents CSV --communities CSV]

Generates a safety (平安建设月报) CSV of about TARGET_MB megabytes (default 26,
about 480,000 rows) with the messy forms real exports carry (Chinese header, a
title line, `2023年5月` months, `95%` rates, a 合计 row). Each run, in turn:
DuckDB's own `read_csv` of the same file into a table of a fresh database file
(the engine's speed, the yardstick), then the import of the file into a fresh
database with its communities. Prints min / median / max of both over --runs
runs and the ratio (DuckDB seconds / import seconds; 1.0 = engine speed), plus
rows/s and the peak RSS of each import (each runs in its own child process, so
the figure is that import's own; backups off).

--row-by-row reads the file with the csv module and parses it chunk by chunk
(the path files the engine cannot number take, and every CSV took before), for
comparison.

--baseline DIR also imports the same file with another copy of the project
(e.g. the code before a change, copied to DIR) in each run, right after this
copy's import: on a shared machine the two are compared in the same minutes,
not an hour apart.

--incidents imports a grid-events CSV (e.g. from `python -m governance sample
--incidents 10000000`) after its communities CSV the same way (each in a
child process, through importer.import_file as the CLI's import calls it),
and prints the time and peak RSS of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import db, importer  # noqa: E402

HEADER = (
    "社区编码,月份,刑事案件数,重大刑事案件数,治安案件数,火灾起数,矛盾纠纷受理数,调解数,"
    "调解成功数,群体性事件数,信访件数,社区矫正对象数,矫正对象再犯人数,民警下沉社区时长,"
    "居民满意率,普法教育覆盖率"
)


def generate(path: Path, target_mb: float, encoding: str, seed: int = 7) -> tuple[int, list[str]]:
    """Write the CSV; returns (data rows, community ids used)."""
    rng = random.Random(seed)
    target = int(target_mb * 1024 * 1024)
    months = [(y, m) for y in range(2015, 2025) for m in range(1, 13)]
    ids: list[str] = []
    rows = 0
    written = 0
    with open(path, "w", encoding=encoding, newline="") as out:
        out.write("XX区平安建设月报汇总表\r\n" + HEADER + "\r\n")
        while written < target:
            community = f"C{len(ids):07d}"
            ids.append(community)
            lines = []
            for year, month in months:
                criminal = rng.randint(0, 9)
                received = rng.randint(0, 40)
                mediated = rng.randint(0, received)
                lines.append(
                    f"{community},{year}年{month}月,{criminal},{rng.randint(0, criminal)},"
                    f"{rng.randint(0, 20)},{rng.randint(0, 2)},{received},{mediated},"
                    f"{rng.randint(0, mediated)},{rng.randint(0, 1)},{rng.randint(0, 5)},"
                    f"{rng.randint(0, 8)},0,{rng.randint(0, 400) / 4},"
                    f"{rng.randint(60, 100)}%,{rng.randint(50, 100)}%\r\n"
                )
            block = "".join(lines)
            out.write(block)
            rows += len(months)
            written += len(block.encode(encoding))
        out.write("合计,,,,,,,,,,,,,,,\r\n")
    return rows, ids


def _child(args: list[str], tree: str | None = None) -> dict:
    """Run this script's --child mode (or that of the copy of the project in
    `tree`) in a fresh process; its JSON line and peak RSS."""
    env = {**os.environ, "GOVERNANCE_KEEP_BACKUPS": "0"}
    script = __file__ if tree is None else str(Path(tree) / "benchmarks" / Path(__file__).name)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, script, "--child", *args], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest child so far: each run is reported
    # by the child itself (RUSAGE_SELF), this is only a cross-check.
    result["children_peak_mb"] = max(before, resource.getrusage(
        resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return result


def _run_child(argv: list[str]) -> int:
    """--child MODE ...: one measured step, printed as a JSON line."""
    mode = argv[0]
    if mode == "duckdb":
        import duckdb

        csv_path, db_path = argv[1], argv[2]
        started, cpu = time.perf_counter(), _cpu()
        con = duckdb.connect(db_path)
        con.execute("create table t as select * from read_csv($p)", {"p": csv_path})
        rows = con.execute("select count(*) from t").fetchone()[0]
        con.close()
        seconds = time.perf_counter() - started
        out = {"seconds": seconds, "cpu": _cpu() - cpu, "rows": rows}
    elif mode == "import":
        table, csv_path, db_path, communities = argv[1], argv[2], argv[3], argv[4]
        if "--row-by-row" in argv:
            from governance import tabular

            tabular.read_raw = lambda *args, **kwargs: False
        conn = db.connect(db_path)
        if communities.endswith(".csv"):
            first = importer.import_file(conn, importer.SourceFile(Path(communities),
                                                                   "communities"),
                                         applied_by="benchmark")
            assert first.applied, first.report.messages()[:5]
        else:
            _insert_communities(conn, json.loads(Path(communities).read_text()))
        started, cpu = time.perf_counter(), _cpu()
        result = importer.import_file(conn, importer.SourceFile(Path(csv_path), table),
                                      applied_by="benchmark")
        seconds = time.perf_counter() - started
        cpu = _cpu() - cpu
        stored = conn.execute("select count(*) from " + table).fetchone()[0]
        conn.close()
        out = {"seconds": seconds, "cpu": cpu, "rows": result.report.rows, "stored": stored,
               "applied": result.applied, "problems": result.report.messages()[:10]}
    else:
        raise SystemExit("unknown child mode " + mode)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _cpu() -> float:
    """CPU seconds of this process, every thread: on a shared machine wall time
    depends on the neighbours' load, CPU time much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _insert_communities(conn, ids: list[str]) -> None:
    cur = conn.cursor()
    cur.execute("begin transaction")
    cur.execute(
        "insert into communities (community_id, community_name, street, community_type,"
        " households, population, office_area_m2, import_id)"
        " select id, id, '街道', 'urban', 1, 1, 1, 0 from unnest($ids) as t(id)",
        {"ids": ids},
    )
    cur.execute("commit")
    cur.close()


def _spread(values: list[float]) -> str:
    return (f"min {min(values):.2f}  median {statistics.median(values):.2f}"
            f"  max {max(values):.2f}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return _run_child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target_mb", nargs="?", type=float, default=26.0)
    parser.add_argument("--gbk", action="store_true", help="write the CSV in GB18030")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--incidents", help="a grid-events CSV to import after --communities")
    parser.add_argument("--communities", help="the communities CSV for --incidents")
    parser.add_argument("--baseline", metavar="DIR",
                        help="another copy of the project to import with in each run, alternately")
    parser.add_argument("--row-by-row", action="store_true",
                        help="read with the csv module, parse chunk by chunk (for comparison)")
    args = parser.parse_args(argv)

    extra = ["--row-by-row"] if args.row_by_row else []
    with tempfile.TemporaryDirectory(prefix="governance-bench-") as tmp:
        tmpdir = Path(tmp)
        if args.incidents:
            imports, baseline = [], []
            for run in range(args.runs):
                for tree, outs in ((None, imports), (args.baseline, baseline)):
                    if outs is baseline and not args.baseline:
                        continue
                    db_path = tmpdir / f"incidents{run}.duckdb"
                    out = _child(["import", "incidents", args.incidents, str(db_path),
                                  args.communities, *extra], tree=tree)
                    db_path.unlink()
                    outs.append(out)
                    print(f"run {run + 1}{' baseline' if tree else ''}: {out['seconds']:.1f} s"
                          f" (CPU {out['cpu']:.1f} s), peak RSS {out['peak_mb']:,.0f} MB,"
                          f" applied {out['applied']}, stored {out['stored']:,}", flush=True)
            print(f"incidents     {imports[0]['rows']:,} rows")
            print(f"seconds       {_spread([o['seconds'] for o in imports])}")
            print(f"CPU seconds   {_spread([o['cpu'] for o in imports])}")
            print(f"peak RSS MB   {_spread([o['peak_mb'] for o in imports])}")
            if baseline:
                print(f"baseline s    {_spread([o['seconds'] for o in baseline])}")
                print(f"baseline CPU  {_spread([o['cpu'] for o in baseline])}")
                print(f"baseline MB   {_spread([o['peak_mb'] for o in baseline])}")
            return 0 if all(o["applied"] for o in imports) else 1

        csv_path = tmpdir / "safety.csv"
        started = time.perf_counter()
        rows, ids = generate(csv_path, args.target_mb, "gb18030" if args.gbk else "utf-8")
        generated = time.perf_counter() - started
        size_mb = csv_path.stat().st_size / 1024 / 1024
        ids_path = tmpdir / "ids.json"
        ids_path.write_text(json.dumps(ids))
        engine, imports, cpu_ratios, baseline = [], [], [], []
        for run in range(args.runs):
            duck = _child(["duckdb", str(csv_path), str(tmpdir / f"duck{run}.duckdb")])
            (tmpdir / f"duck{run}.duckdb").unlink()
            out = _child(["import", "safety", str(csv_path), str(tmpdir / f"bench{run}.duckdb"),
                          str(ids_path), *extra])
            (tmpdir / f"bench{run}.duckdb").unlink()
            engine.append(duck["seconds"])
            imports.append(out)
            print(f"run {run + 1}: DuckDB read_csv {duck['seconds']:.2f} s (CPU {duck['cpu']:.2f}),"
                  f" import {out['seconds']:.2f} s (CPU {out['cpu']:.2f}),"
                  f" ratio {duck['seconds'] / out['seconds']:.2f}"
                  f" (CPU {duck['cpu'] / out['cpu']:.2f}),"
                  f" peak RSS {out['peak_mb']:,.0f} MB", flush=True)
            cpu_ratios.append(duck["cpu"] / out["cpu"])
            if args.baseline:
                base = _child(["import", "safety", str(csv_path),
                               str(tmpdir / f"base{run}.duckdb"), str(ids_path), *extra],
                              tree=args.baseline)
                (tmpdir / f"base{run}.duckdb").unlink()
                baseline.append(base)
                print(f"       baseline import {base['seconds']:.2f} s (CPU {base['cpu']:.2f}),"
                      f" peak RSS {base['peak_mb']:,.0f} MB", flush=True)
        seconds = [o["seconds"] for o in imports]
        ratios = [d / o for d, o in zip(engine, seconds, strict=True)]
        report = imports[0]
        print(f"generated     {rows:,} rows in {generated:.1f} s")
        print(f"applied       {report['applied']} (stored {report['stored']:,})")
        print(f"file MB       {size_mb:.1f} ({'gb18030' if args.gbk else 'utf-8'})")
        print(f"DuckDB s      {_spread(engine)}")
        print(f"import s      {_spread(seconds)}")
        print(f"ratio         {_spread(ratios)}  (DuckDB read_csv / import; goal >= 0.5)")
        print(f"CPU ratio     {_spread(cpu_ratios)}  (the same in CPU seconds)")
        print(f"rows/s        {rows / statistics.median(seconds):,.0f} (median)")
        print(f"peak RSS MB   {_spread([o['peak_mb'] for o in imports])}")
        if baseline:
            print(f"baseline s    {_spread([o['seconds'] for o in baseline])}")
            print(f"baseline CPU  {_spread([o['cpu'] for o in baseline])}"
                  f"  (this copy: {_spread([o['cpu'] for o in imports])})")
            print(f"baseline MB   {_spread([o['peak_mb'] for o in baseline])}")
        if not all(o["applied"] for o in imports):
            for message in report["problems"]:
                print(message)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
