"""Sign-in and each role's view in a real browser, on a server with accounts."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

from governance import auth
from tests.browser.conftest import running_app, screenshot, wait_for_app
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"


def _street_counts() -> tuple[str, int]:
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    street = sorted({r["street"] for r in rows})[0]
    return street, sum(r["street"] == street for r in rows)


def _sign_in(tab, url: str, username: str) -> None:
    tab.goto(url)
    tab.get_by_label("账号").fill(username)
    tab.get_by_label("密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录").click()
    wait_for_app(tab)


def test_roles_in_the_browser(browser, tmp_path):
    street, count = _street_counts()
    store = auth.Accounts(tmp_path / "accounts.sqlite")
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("jie", PASSWORD, "street", (street,))
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(120_000)
        tab.goto(url)
        tab.get_by_role("button", name="登录").wait_for()
        assert tab.locator('[data-testid="stMetric"]').count() == 0
        screenshot(tab, "sign_in")

        _sign_in(tab, url, "jie")
        first_metric = tab.locator('[data-testid="stMetricValue"]').first
        expect(first_metric).to_have_text(str(count))
        nav = tab.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "数据管理" in nav and "账号与审计" not in nav
        assert "已登录：jie" in tab.locator('[data-testid="stSidebarUserContent"]').inner_text()
        screenshot(tab, "street_account")
        tab.get_by_role("button", name="退出登录").click()
        tab.get_by_role("button", name="登录").wait_for()

        _sign_in(tab, url, "admin")
        tab.locator('[data-testid="stSidebarNavLink"]', has_text="账号与审计").click()
        wait_for_app(tab)
        tab.get_by_text("审计日志（最近 500 条）").wait_for()
        audit = tab.locator('[data-testid="stDataFrame"]').nth(1)
        audit.locator('[data-testid^="glide-cell-"]').first.wait_for(state="attached")
        assert "jie" in audit.text_content() and "登录" in audit.text_content()
        screenshot(tab, "admin_page")
        context.close()
