"""Import throughput: a large synthetic safety CSV into a temporary DuckDB.

    .venv/bin/python benchmarks/import_throughput.py [TARGET_MB] [--gbk] [--keep]

Generates a safety (平安建设月报) CSV of about TARGET_MB megabytes (default 200)
with the messy forms real exports carry (Chinese header, a title line,
`2023年5月` months, `95%` rates, a 合计 row), imports it into a fresh database
file, and prints rows, MB, seconds, rows/s and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target_mb", nargs="?", type=float, default=200.0)
    parser.add_argument("--gbk", action="store_true", help="write the CSV in GB18030")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="governance-bench-") as tmp:
        tmpdir = Path(tmp)
        csv_path = tmpdir / "safety.csv"
        started = time.perf_counter()
        rows, ids = generate(csv_path, args.target_mb, "gb18030" if args.gbk else "utf-8")
        generated = time.perf_counter() - started
        size_mb = csv_path.stat().st_size / 1024 / 1024

        conn = db.connect(tmpdir / "bench.duckdb")
        cur = conn.cursor()
        cur.execute("begin transaction")
        for community in ids:  # the communities the safety rows refer to
            cur.execute(
                "insert into communities (community_id, community_name, street, community_type,"
                " households, population, office_area_m2, import_id)"
                " values ($id, $id, '街道', 'urban', 1, 1, 1, 0)",
                {"id": community},
            )
        cur.execute("commit")
        cur.close()

        last = [0.0]

        def progress(name: str, done: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 5:
                print(f"  … {done:,} rows", flush=True)
                last[0] = now

        started = time.perf_counter()
        result = importer.import_file(
            conn,
            importer.SourceFile(csv_path, "safety"),
            applied_by="benchmark",
            progress=progress,
        )
        seconds = time.perf_counter() - started
        stored = conn.execute("select count(*) from safety").fetchone()[0]
        conn.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = result.report
    print(f"generated     {rows:,} rows in {generated:.1f} s")
    print(f"applied       {result.applied} (problems {report.problem_count}, stored {stored:,})")
    print(f"rows          {report.rows:,}")
    print(f"file MB       {size_mb:.1f} ({'gb18030' if args.gbk else 'utf-8'})")
    print(f"seconds       {seconds:.1f}")
    print(f"rows/s        {report.rows / seconds:,.0f}")
    print(f"MB/s          {size_mb / seconds:.1f}")
    print(f"peak RSS MB   {peak_mb:,.0f}")
    if not result.applied:
        for message in report.messages()[:10]:
            print(message)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
