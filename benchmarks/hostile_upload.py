"""A hostile upload against a running app: refusal time and server memory.

    .venv/bin/python benchmarks/hostile_upload.py [--runs N] [--megabytes M] [--real ROWS]

The street account's file: a ~300 KB .xlsx whose one shared string inflates
to M MB (default 300) of the same letter (tests/hostile_files.py builds it from
a generator of chunks). The app is started as the browser tests start it
(tests/browser/conftest.py running_app: 127.0.0.1, a fresh database loaded with
the sample district). To measure older code, copy this script and
tests/hostile_files.py into a checkout of it (`git archive REV | tar -x -C DIR`)
and run it there: the server is started from the checkout the script is in.

Each run, in a new browser context (a new Streamlit session): open 数据管理,
wait until the run is finished, read the server's RSS; upload the bomb through
the page's file input and time until the page shows 校验未通过 (refusal) or
an error box (Chinese, or Streamlit's English one, counted) and the run has
finished; read the RSS right away and again 3 s later. Meanwhile
a thread asks `/_stcore/health` every 100 ms and keeps the slowest answer:
what every other session's connection felt. Figures: per run, then mean ±
standard deviation and min–max over the runs.

`--real ROWS` first builds a real-shaped province export (ROWS rows × 12
columns, shared strings, a free-text column, as Excel writes; ~150 s for
500,000 rows), prints what its zip directory declares — the basis of the
limits in governance/xlsx_archive.py — then times the sandboxed read-through
(governance/upload_guard.py) of it, which the upload page runs.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import running_app  # noqa: E402
from tests.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PROJECT_DIR,  # noqa: E402
)
from tests.hostile_files import rss_mb, server_pid, shared_string_bomb  # noqa: E402

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFUSAL = re.compile("校验未通过")
# What ends a run's wait: the refusal, or any error box.
OUTCOME = '[data-testid="stAlertContentError"], [data-testid="stException"]'
SETTLE_S = 3.0
HEALTH_EVERY_S = 0.1


class HealthProbe(threading.Thread):
    """Asks /_stcore/health every HEALTH_EVERY_S; keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url + "/_stcore/health"
        self.slowest = 0.0
        self.failures = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    response.read()
            except OSError:
                self.failures += 1
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self._stop_event.wait(HEALTH_EVERY_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _wait_finished(page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]')
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


def one_run(browser, url: str, pid: int, bomb: Path) -> dict:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(600_000)
    try:
        page.goto(url + "/data")
        _wait_finished(page)
        page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached")
        before = rss_mb(pid)
        probe = HealthProbe(url)
        probe.start()
        started = time.perf_counter()
        page.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]').set_input_files(
            files=[{"name": bomb.name, "mimeType": XLSX, "buffer": bomb.read_bytes()}])
        page.locator(OUTCOME).first.wait_for(state="attached")
        _wait_finished(page)
        refused_s = time.perf_counter() - started
        refused = page.get_by_text(REFUSAL).count()
        english = (page.locator('[data-testid="stException"]').count()
                   + page.get_by_text("This app has encountered an error").count())
        after = rss_mb(pid)
        time.sleep(SETTLE_S)
        settled = rss_mb(pid)
        probe.stop()
        return {"refused_s": refused_s, "rss_before": before, "rss_after": after,
                "rss_settled": settled, "health_max_s": probe.slowest,
                "health_failures": probe.failures, "refused": refused,
                "english_error": english}
    finally:
        context.close()


def _spread(values: list[float], unit: str, digits: int = 2) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (f"{mean:.{digits}f} ± {sd:.{digits}f} {unit} "
            f"(min {min(values):.{digits}f}, max {max(values):.{digits}f})")


def bench_upload(runs: int, megabytes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        workdir = Path(tmp)
        bomb = shared_string_bomb(workdir / "街道报表.xlsx", megabytes=megabytes)
        print(f"bomb: {bomb.stat().st_size / 1024:,.0f} KB on disk, "
              f"{megabytes} MB shared string")
        with running_app(workdir) as url, sync_playwright() as playwright:
            pid = server_pid(urlparse(url).port)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=CHROMIUM_ARGS)
            # Warm-up: the first visit loads the sample district and fills caches.
            warm = browser.new_context(locale="zh-CN").new_page()
            warm.set_default_timeout(600_000)
            warm.goto(url + "/data")
            _wait_finished(warm)
            warm.context.close()
            print(f"server pid {pid}, RSS after warm-up {rss_mb(pid):,.0f} MB")
            results = []
            for index in range(runs):
                result = one_run(browser, url, pid, bomb)
                results.append(result)
                outcome = "refused" if result["refused"] else "ended without a refusal"
                print(f"run {index + 1}: {outcome} in {result['refused_s']:.2f} s; "
                      f"RSS {result['rss_before']:,.0f} → {result['rss_after']:,.0f} MB "
                      f"(+{SETTLE_S:.0f} s: {result['rss_settled']:,.0f} MB); "
                      f"slowest health {result['health_max_s'] * 1000:,.0f} ms; "
                      f"English error boxes {result['english_error']}; "
                      f"health failures {result['health_failures']}", flush=True)
            browser.close()
        print(f"\n{runs} runs, {megabytes} MB bomb, code in {PROJECT_DIR}")
        print("refusals         ", sum(1 for r in results if r["refused"]), "of", runs,
              "; English error boxes", sum(r["english_error"] for r in results))
        print("time to outcome  ", _spread([r["refused_s"] for r in results], "s"))
        print("RSS growth       ", _spread(
            [r["rss_after"] - r["rss_before"] for r in results], "MB", 0))
        print("RSS growth, +3 s ", _spread(
            [r["rss_settled"] - r["rss_before"] for r in results], "MB", 0))
        print("slowest health   ", _spread(
            [r["health_max_s"] * 1000 for r in results], "ms", 0))


def build_real_export(path: Path, rows: int) -> None:
    """ROWS rows × 12 columns of grid events, as Excel writes them."""
    import xlsxwriter

    rnd = random.Random(1)
    categories = ["刑事", "治安", "火灾", "矛盾纠纷", "群体性事件", "信访", "环境卫生", "市容秩序"]
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("网格事件")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["事件编号", "社区编码", "社区名称", "发生时间", "事件类别", "严重程度",
                           "办理状态", "办结时间", "经度", "纬度", "事件描述", "上报人"])
    base = datetime(2024, 1, 1)
    for i in range(1, rows + 1):
        community = rnd.randrange(3000)
        occurred = base + timedelta(minutes=rnd.randrange(500_000))
        sheet.write_string(i, 0, f"SJ{2024000000 + i}")
        sheet.write_string(i, 1, f"C{community:05d}")
        sheet.write_string(i, 2, f"第{community}社区居委会")
        sheet.write_datetime(i, 3, occurred, stamp)
        sheet.write_string(i, 4, rnd.choice(categories))
        sheet.write_string(i, 5, rnd.choice(["一般", "较大", "重大"]))
        sheet.write_string(i, 6, rnd.choice(["已办结", "办理中", "已受理"]))
        sheet.write_datetime(i, 7, occurred + timedelta(hours=rnd.randrange(200)), stamp)
        sheet.write_number(i, 8, 117 + rnd.random())
        sheet.write_number(i, 9, 32 + rnd.random())
        sheet.write_string(i, 10, f"{rnd.choice(categories)}：居民反映{community}号楼"
                                  f"{rnd.randrange(30)}单元{rnd.randrange(3000)}室附近情况，"
                                  f"已派网格员{rnd.randrange(900)}前往核实处置")
        sheet.write_string(i, 11, f"网格员{rnd.randrange(900)}")
    book.close()


def bench_real(rows: int) -> None:
    from governance import upload_guard, xlsx_archive

    with tempfile.TemporaryDirectory(prefix="real-export-") as tmp:
        path = Path(tmp) / "province.xlsx"
        started = time.perf_counter()
        build_real_export(path, rows)
        print(f"real-shaped export: {rows:,} rows written in "
              f"{time.perf_counter() - started:.0f} s, "
              f"{path.stat().st_size / 2**20:,.1f} MB on disk")
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        for info in infos:
            if info.file_size > 2**20:
                print(f"  {info.filename:28s} declares {info.file_size / 2**20:8,.1f} MB, "
                      f"ratio {info.file_size / max(info.compress_size, 1):5.1f}:1")
        print(f"  {len(infos)} parts, {sum(i.file_size for i in infos) / 2**20:,.1f} MB in all; "
              f"limits: sheet {xlsx_archive.MAX_SHEET_PART_BYTES / 2**20:,.0f} MB, other part "
              f"{xlsx_archive.MAX_OTHER_PART_BYTES / 2**20:,.0f} MB, total "
              f"{xlsx_archive.MAX_TOTAL_BYTES / 2**20:,.0f} MB, ratio {xlsx_archive.MAX_RATIO}:1")
        started = time.perf_counter()
        precheck = xlsx_archive.check(path)
        print(f"  zip directory check: {precheck or 'passes'} "
              f"({(time.perf_counter() - started) * 1000:.1f} ms)")
        started = time.perf_counter()
        verdict = upload_guard.check_file(path)
        print(f"  sandboxed read-through: {verdict} in {time.perf_counter() - started:.0f} s "
              f"(limits {upload_guard.CHECK_MEMORY_LIMIT_MB:,} MB, "
              f"{upload_guard.CHECK_TIMEOUT_S} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megabytes", type=int, default=300)
    parser.add_argument("--real", type=int, metavar="ROWS", help="also measure a real export")
    args = parser.parse_args()
    if args.real:
        bench_real(args.real)
    if args.runs:
        bench_upload(args.runs, args.megabytes)


if __name__ == "__main__":
    main()
