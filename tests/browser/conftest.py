"""A real app server on loopback and Debian's headless Chromium driven by Playwright.

These tests never skip: without /usr/bin/chromium they fail with the command
that installs it (`make test` does so where the machine allows).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page

from tests.conftest import PROJECT_DIR

ARTIFACTS = PROJECT_DIR / "test-artifacts"
LOCAL_HOSTS = {"localhost", "127.0.0.1"}

STARTUP_TIMEOUT_S = 120
# A meeting room's projector: every page is tried (and the README's
# screenshots are taken) at this size.
PROJECTOR = {"width": 1920, "height": 1080}
RUN_TIMEOUT_MS = 120_000
# Every server's log, so that a failed test's report can carry what the server said.
SERVER_LOGS: list[Path] = []
LOG_TAIL_LINES = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("streamlit exited:\n" + log_path.read_text(errors="replace"))
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("streamlit did not become healthy:\n" + log_path.read_text(errors="replace"))


@contextlib.contextmanager
def running_app(workdir: Path, launcher: Path = PROJECT_DIR / "serve.py",
                extra_env: dict[str, str] | None = None):
    """`streamlit run app.py` on a fresh, empty database in workdir; yields its URL.
    The first start loads the sample district. `launcher` stands in for serve.py
    (benchmarks/timed_serve.py times every run)."""
    db_path = workdir / "browser.duckdb"
    port = _free_port()
    log_path = workdir / "streamlit.log"
    SERVER_LOGS.append(log_path)
    env = {**os.environ, "GOVERNANCE_DB": str(db_path), **(extra_env or {})}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable, str(launcher),
                "--server.port", str(port), "--server.headless", "true",
            ],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("server")) as url:
        yield url


class OutsideRequests(list):
    """Every request the page makes that does not stay on this machine."""


@pytest.fixture
def page(browser, app_server):
    context = browser.new_context(viewport=PROJECTOR, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(RUN_TIMEOUT_MS)
    outside = OutsideRequests()

    def record(request):
        parsed = urlparse(request.url)
        if parsed.scheme in ("data", "blob"):
            return
        if parsed.hostname not in LOCAL_HOSTS:
            outside.append(request.url)

    tab.on("request", record)
    tab.outside_requests = outside
    yield tab
    context.close()


def wait_for_app(page: Page) -> None:
    """Until the script has run to the end and the connection is up."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]')
    page.wait_for_selector('[data-testid="stMain"] h1')
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


# Streamlit draws a lazily loaded element (table, chart, map) as a grey
# skeleton until its code arrives; a screenshot before that shows empty boxes.
_EVERYTHING_DRAWN = """() => {
    const shown = (selector) =>
        [...document.querySelectorAll(selector)].filter(e => e.checkVisibility());
    return document.querySelectorAll('[data-testid="stSkeleton"]').length === 0
        && shown('[data-testid="stDataFrame"]')
            .every(e => e.querySelector('[data-testid="data-grid-canvas"]'))
        && shown('[data-testid="stPlotlyChart"]').every(e => e.querySelector('.main-svg'))
        && shown('[data-testid="stDeckGlJsonChart"]').every(e => e.querySelector('canvas'));
}"""


def wait_until_drawn(page: Page) -> None:
    """Until every table, chart and map shown on the page has been drawn
    (one in a closed expander or another tab is drawn when opened)."""
    page.wait_for_function(_EVERYTHING_DRAWN)
    # A canvas mounted is painted by the next frames.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def screenshot(page: Page, name: str, drawn: bool = True) -> Path:
    """test-artifacts/<name>.png of the page, once drawn (unless drawn=False:
    a failed test's page is taken as it is)."""
    if drawn:
        wait_until_drawn(page)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails: keep a screenshot of the page, and put the
    page's text and the tail of each server log in the report (CI prints the
    report, not the artifacts)."""
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    tab = funcargs.get("page") or funcargs.get("tab")  # the modules name it either way
    if report.when == "call" and report.failed and tab is not None:
        with contextlib.suppress(Exception):
            screenshot(tab, f"failed-{item.name}", drawn=False)
        with contextlib.suppress(Exception):
            report.sections.append(("page text", tab.locator("body").inner_text(timeout=5_000)))
        for log_path in SERVER_LOGS:
            with contextlib.suppress(OSError):
                tail = log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                report.sections.append((f"server log {log_path.parent.name}", "\n".join(tail)))
