"""In Chromium: every failure, including those Streamlit catches itself (a
fragment's own rerun, a widget callback), shows the Chinese message with a
log number, never Streamlit's English box with its Ask Google / Ask ChatGPT
buttons. The failures are injected by tests/browser/failing_serve.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from governance.text import t
from tests.browser.conftest import PROJECTOR, RUN_TIMEOUT_MS, running_app, wait_for_app

pytestmark = pytest.mark.browser

LAUNCHER = Path(__file__).with_name("failing_serve.py")
GENERIC = re.compile(re.escape(t("error.generic", ref="@")).replace("@", "[0-9a-f]{8}"))


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("failing")
    with running_app(workdir, launcher=LAUNCHER) as url:
        yield url, workdir / "streamlit.log"


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport=PROJECTOR, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield page
    context.close()


def _no_english_box(tab) -> None:
    assert tab.locator('[data-testid="stException"]').count() == 0
    body = tab.locator('[data-testid="stApp"]').inner_text()
    assert "This app has encountered an error" not in body and "Ask Google" not in body


def test_a_fragment_failing_on_its_own_rerun_says_so_in_chinese(tab, failing_server):
    url, log = failing_server
    tab.goto(f"{url}/facilities")
    wait_for_app(tab)
    editor = tab.get_by_role("textbox", name=t("facilities.whatif.editor"))
    editor.fill("FAIL")
    editor.press("Control+Enter")  # commits the text: the fragment reruns alone
    message = tab.get_by_text(GENERIC)
    expect(message).to_be_visible()
    _no_english_box(tab)
    ref = re.search(r"编号 ([0-9a-f]{8})", message.inner_text()).group(1)
    assert f"unexpected error {ref}" in log.read_text(errors="replace")
    assert tab.get_by_role("heading", name=t("facilities.title")).count() == 1  # page stands


def test_a_failing_widget_callback_says_so_in_chinese(tab, failing_server):
    url, log = failing_server
    tab.goto(url)
    wait_for_app(tab)
    with tab.expect_download():
        tab.get_by_role("button", name=t("overview.export")).click()
    message = tab.get_by_text(GENERIC)
    expect(message).to_be_visible()
    _no_english_box(tab)
    ref = re.search(r"编号 ([0-9a-f]{8})", message.inner_text()).group(1)
    assert "injected failure in a widget callback" in log.read_text(errors="replace")
    assert f"unexpected error {ref}" in log.read_text(errors="replace")
