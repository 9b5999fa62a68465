"""Chromium through nginx in front of three app processes sharing one
PostgreSQL state store and one published dataset; and an import killed
mid-way in that cluster.

Two browser contexts are pinned (by nginx's affinity cookie) to two different
processes. The first signs in, imports the district's communities and saves a
scenario; the second, served by another process, sees the new data, the
scenario and the same accounts and audit log on its next action. Then the
second one's process is killed mid-session: the others keep serving, the
browser's reconnect lands on another process and stays signed in, and nothing
is half-written."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import duckdb
import psycopg
import pytest
from playwright.sync_api import expect

from governance import publish, sample, state_store
from tests import district_files
from tests.browser.conftest import RUN_TIMEOUT_MS, wait_for_app
from tests.cluster.conftest import AFFINITY_COOKIE, PASSWORD
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.browser

BANNER = re.compile("示例数据：")
SCENARIO = "集群情景"
# Grid events enough that reading and checking them takes seconds.
INCIDENTS = 200_000


def _pinned_tab(browser, cluster, affinity: str):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    context.add_cookies([{"name": AFFINITY_COOKIE, "value": affinity, "url": cluster.url}])
    tab = context.new_page()
    tab.set_default_timeout(RUN_TIMEOUT_MS)
    return tab


def _sign_in(tab, url: str) -> None:
    tab.goto(url)
    tab.get_by_label("账号").fill("admin")
    tab.get_by_label("密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录", exact=True).click()
    wait_for_app(tab)


def _go(tab, page_name: str) -> None:
    tab.locator('[data-testid="stSidebarNavLink"]', has_text=page_name).click()
    wait_for_app(tab)


def _body(tab) -> str:
    return tab.locator('[data-testid="stMain"]').inner_text()


def _communities_metric(tab):
    return tab.locator('[data-testid="stMetricValue"]').first


def _scenario_names(tab) -> list[str]:
    sidebar = tab.locator('[data-testid="stSidebarUserContent"]')
    picker = sidebar.locator('[data-testid="stSelectbox"]', has_text="情景").locator("input")
    picker.scroll_into_view_if_needed()
    picker.click()
    options = tab.get_by_role("option").all_inner_texts()
    tab.keyboard.press("Escape")
    return options


def _no_partials(cluster) -> None:
    leftovers = [p.name for p in (cluster.db_path.parent / "published").iterdir()
                 if ".partial" in p.name]
    assert leftovers == []


def test_two_processes_one_dataset_one_state(browser, cluster, tmp_path):
    pinned = cluster.affinities(2)
    (upstream_a, affinity_a), (upstream_b, affinity_b) = sorted(pinned.items())
    assert upstream_a != upstream_b
    tab_a = _pinned_tab(browser, cluster, affinity_a)
    tab_b = _pinned_tab(browser, cluster, affinity_b)

    # Accounts are shared: the one account signs in through either process.
    _sign_in(tab_a, cluster.url)
    _sign_in(tab_b, cluster.url)
    expect(tab_b.get_by_text(BANNER).first).to_be_visible()
    sample_count = _communities_metric(tab_b).inner_text()
    assert sample_count != "5"
    before = publish.newest(cluster.db_path)

    # An import through process A publishes a new snapshot.
    _go(tab_a, "数据管理")
    path = tmp_path / "社区基本信息.csv"
    path.write_bytes(district_files.communities_gbk())
    tab_a.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]').set_input_files(
        files=[{"name": path.name, "mimeType": "text/csv", "buffer": path.read_bytes()}])
    wait_for_app(tab_a)
    tab_a.get_by_text(re.compile("校验通过：5 行可导入")).first.wait_for()
    tab_a.get_by_role("button", name="导入", exact=True).click()
    tab_a.get_by_text(re.compile("已导入社区基本信息：5 行")).wait_for()
    wait_for_app(tab_a)
    after = publish.newest(cluster.db_path)
    assert after.number == before.number + 1
    snapshot = duckdb.connect(str(after.path), read_only=True)
    try:
        assert snapshot.execute("select count(*) from communities").fetchone()[0] == 5
    finally:
        snapshot.close()

    # Process B moves to it at its next action.
    _go(tab_b, "总览")
    expect(_communities_metric(tab_b)).to_have_text("5")
    assert not BANNER.search(_body(tab_b))

    # A scenario saved through A is listed by B.
    _go(tab_a, "情景推演")
    floor = tab_a.get_by_role("spinbutton", name=re.compile("F01 .* · 基本值"))
    floor.fill("30")
    floor.press("Enter")
    wait_for_app(tab_a)
    tab_a.get_by_label("情景名称").fill(SCENARIO)
    tab_a.get_by_label("情景名称").press("Enter")
    wait_for_app(tab_a)
    tab_a.get_by_role("button", name="保存情景").click()
    tab_a.get_by_text(re.compile(f"已保存为情景“{SCENARIO}”")).wait_for()
    wait_for_app(tab_a)
    _go(tab_b, "总览")
    assert SCENARIO in _scenario_names(tab_b)

    # One audit log: A's import and scenario, both sign-ins.
    audit = cluster.cli("audit", "--db", str(cluster.db_path), "--limit", "50")
    assert audit.returncode == 0, audit.stderr
    actions = [row["action"] for row in csv.DictReader(io.StringIO(audit.stdout))]
    assert {"import", "scenario_save"} <= set(actions), actions
    assert actions.count("sign_in") == 2, actions

    # Kill B's process mid-session (SIGKILL: no clean-up runs).
    port_b = int(upstream_b.rsplit(":", 1)[1])
    os.kill(cluster.app_pid(port_b), signal.SIGKILL)
    # A's process was never touched and keeps serving.
    _go(tab_a, "总览")
    expect(_communities_metric(tab_a)).to_have_text("5")
    # B's browser reconnects through nginx to a live process, still signed in.
    wait_for_app(tab_b)
    _go(tab_b, "设施覆盖")
    _go(tab_b, "总览")
    expect(_communities_metric(tab_b)).to_have_text("5")
    assert "已登录：admin" in tab_b.locator('[data-testid="stSidebarUserContent"]').inner_text()
    # Nothing half-written: the newest snapshot is whole and nothing partial is left.
    _no_partials(cluster)
    assert publish.newest(cluster.db_path) == after
    tab_a.context.close()
    tab_b.context.close()


def _import_lock_held(state_url: str) -> bool:
    with psycopg.connect(state_url, autocommit=True) as conn:
        return conn.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and granted"
            " and objid = %s", (state_store.IMPORT_LOCK_KEY & 0xFFFFFFFF,)).fetchone()[0] > 0


def test_an_import_killed_mid_way_leaves_the_published_data_and_frees_the_lock(
        cluster, tmp_path):
    """`python -m governance import` in cluster mode, killed (SIGKILL) while it
    holds the import lock: the lock is free again, the newest snapshot is the
    one before, nothing partial is left, the processes keep serving; the
    next import publishes."""
    written = sample.write_sample(tmp_path / "big", sample.SampleSize(incidents=INCIDENTS), seed=7)
    # The events' communities, whatever an earlier test imported.
    communities = cluster.cli("import", "--db", str(cluster.db_path), "--table", "communities",
                              str(written["communities"]))
    assert communities.returncode == 0, communities.stderr
    before = publish.newest(cluster.db_path)
    command = [sys.executable, "-m", "governance", "import", "--db", str(cluster.db_path),
               "--table", "incidents", str(written["incidents"])]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=cluster.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _import_lock_held(cluster.state_url):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # reading and checking 200,000 rows takes longer than this
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()

    with state_store.PostgresStore(cluster.state_url).import_lock(timeout_s=10):
        pass
    assert publish.newest(cluster.db_path) == before
    _no_partials(cluster)
    with urllib.request.urlopen(cluster.url + "/_stcore/health", timeout=10) as response:
        assert response.status == 200

    finished = cluster.cli("import", "--db", str(cluster.db_path), "--table", "incidents",
                           str(written["incidents"]))
    assert finished.returncode == 0, finished.stderr
    after = publish.newest(cluster.db_path)
    assert after.number == before.number + 1
    snapshot = duckdb.connect(str(after.path), read_only=True)
    try:
        assert snapshot.execute("select count(*) from incidents").fetchone()[0] >= INCIDENTS
    finally:
        snapshot.close()


# An import whose publish stops once the snapshot's temporary file is written
# and synced, just before its rename: it is killed there.
_STALLED_PUBLISH = """
import sys, time
from governance import backup, cli

fsync = backup._fsync_file

def stalled(path):
    fsync(path)
    if path.parent.name == "published":
        time.sleep(600)

backup._fsync_file = stalled
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_publish_killed_mid_way_leaves_a_partial_the_next_import_removes(
        cluster, tmp_path):
    written = sample.write_sample(tmp_path / "other", sample.SampleSize(incidents=20_000),
                                  seed=11)
    communities = cluster.cli("import", "--db", str(cluster.db_path), "--table", "communities",
                              str(written["communities"]))
    assert communities.returncode == 0, communities.stderr
    before = publish.newest(cluster.db_path)
    folder = publish.published_dir(cluster.db_path)
    process = subprocess.Popen(
        [sys.executable, "-c", _STALLED_PUBLISH, "import", "--db", str(cluster.db_path),
         "--table", "incidents", str(written["incidents"])],
        cwd=PROJECT_DIR, env=cluster.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not any(p.name.endswith(".partial") for p in folder.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert [p.name for p in folder.iterdir() if p.name.endswith(".partial")] != []
    assert publish.newest(cluster.db_path) == before  # still what every process reads
    with urllib.request.urlopen(cluster.url + "/_stcore/health", timeout=10) as response:
        assert response.status == 200

    # The import itself was committed before the kill: the same file again
    # changes nothing, and publishing it clears the leftover.
    again = cluster.cli("import", "--db", str(cluster.db_path), "--table", "incidents",
                        str(written["incidents"]))
    assert again.returncode == 0, again.stderr
    _no_partials(cluster)
    assert publish.newest(cluster.db_path).number == before.number + 1
