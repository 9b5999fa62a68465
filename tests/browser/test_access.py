"""Sign-in and each role's view in a real browser, on a server with accounts."""

from __future__ import annotations

import csv
import time

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
    tab.get_by_role("button", name="登录", exact=True).click()
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
        tab.get_by_role("button", name="登录", exact=True).wait_for()
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
        tab.get_by_role("button", name="登录", exact=True).wait_for()

        _sign_in(tab, url, "admin")
        tab.locator('[data-testid="stSidebarNavLink"]', has_text="账号与审计").click()
        wait_for_app(tab)
        tab.get_by_text("审计日志（最近 500 条）").wait_for()
        audit = tab.locator('[data-testid="stDataFrame"]').nth(1)
        audit.locator('[data-testid^="glide-cell-"]').first.wait_for(state="attached")
        assert "jie" in audit.text_content() and "登录" in audit.text_content()
        screenshot(tab, "admin_page")
        context.close()


def _takeover_files(street: str) -> tuple[str, str, bytes, bytes]:
    """A street account's communities file holding its own communities plus one
    of another street's with the street rewritten to its own, and a safety file
    reporting that community's January with serious cases."""
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = ["community_id", "community_name", "street", "community_type", "households",
               "population", "office_area_m2"]
    own = [r for r in rows if r["street"] == street]
    victim = next(r for r in rows if r["street"] != street)
    lines = [",".join(columns)]
    lines += [",".join(r[c] for c in columns) for r in own]
    lines.append(",".join(street if c == "street" else victim[c] for c in columns))
    safety = ("community_id,month,criminal_cases,major_criminal_cases,mass_incidents\n"
              f"{victim['community_id']},2025-01,3,3,2\n")
    return (victim["community_id"], victim["street"], ("\n".join(lines) + "\n").encode(),
            safety.encode())


def test_a_street_account_cannot_take_over_another_streets_community(browser, tmp_path):
    import duckdb

    street, count = _street_counts()
    victim_id, victim_street, communities, safety = _takeover_files(street)
    store = auth.Accounts(tmp_path / "accounts.sqlite")
    store.add_user("jie", PASSWORD, "street", (street,))
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        tab = context.new_page()
        tab.set_default_timeout(120_000)
        _sign_in(tab, url, "jie")
        tab.locator('[data-testid="stSidebarNavLink"]', has_text="数据管理").click()
        wait_for_app(tab)
        tab.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]').set_input_files(
            files=[{"name": "社区.csv", "mimeType": "text/csv", "buffer": communities},
                   {"name": "平安.csv", "mimeType": "text/csv", "buffer": safety}])
        wait_for_app(tab)
        body = tab.locator('[data-testid="stMain"]')
        expect(body.get_by_text("校验未通过").first).to_be_visible()
        assert body.get_by_text("校验未通过").count() == 2  # both files of the batch
        # The problem tables name the row, the community and whose it is.
        grids = tab.locator('[data-testid="stDataFrame"]')
        grids.first.locator('[data-testid^="glide-cell-"]').first.wait_for(state="attached")
        problems = " ".join(grids.nth(i).text_content() for i in range(grids.count()))
        assert victim_id in problems and victim_street in problems
        assert tab.get_by_role("button", name="导入", exact=True).is_disabled()
        grids.first.scroll_into_view_if_needed()
        screenshot(tab, "street_takeover_refused")
        context.close()
    conn = duckdb.connect(str(tmp_path / "browser.duckdb"), read_only=True)
    try:
        streets = conn.execute(
            "select street, count(*) from communities where community_id = $id group by street",
            {"id": victim_id}).fetchall()
        assert streets == [(victim_street, 1)]
        assert conn.execute("select count(*) from communities").fetchone()[0] == 117
        january = conn.execute(
            "select major_criminal_cases, mass_incidents from safety"
            " where community_id = $id and month = date '2025-01-01'", {"id": victim_id}
        ).fetchall()
        assert january != [(3, 2)]
        assert conn.execute(
            "select count(*) from import_history where applied_by = 'jie'").fetchone()[0] == 0
    finally:
        conn.close()
    assert count > 0


def _signed_in_as(tab) -> str:
    return tab.locator('[data-testid="stSidebarUserContent"]').inner_text()


def test_a_sign_in_survives_a_reload_until_sign_out(browser, tmp_path):
    store = auth.Accounts(tmp_path / "accounts.sqlite")
    store.add_user("leader", PASSWORD, "leader")
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(120_000)
        tab.goto(url)
        tab.get_by_label("账号").fill("leader")
        tab.get_by_label("密码").fill(PASSWORD)
        with tab.expect_response(lambda r: r.url.endswith("/governance/session")) as handed:
            tab.get_by_role("button", name="登录", exact=True).click()
        assert handed.value.status == 204 and handed.value.request.method == "POST"
        wait_for_app(tab)
        (cookie,) = [c for c in context.cookies() if c["name"] == auth.SESSION_COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert auth.SESSION_COOKIE not in tab.evaluate("document.cookie")  # no script sees it
        # At most the session's 8 hours.
        assert 7 * 3600 < cookie["expires"] - time.time() <= 8 * 3600 + 5

        tab.reload()
        wait_for_app(tab)
        expect(tab.locator('[data-testid="stMetricValue"]').first).to_be_visible()
        assert "已登录：leader" in _signed_in_as(tab)
        second = context.new_page()  # another tab of the same browser
        second.set_default_timeout(120_000)
        second.goto(url)
        wait_for_app(second)
        assert "已登录：leader" in _signed_in_as(second)

        with tab.expect_response(lambda r: r.url.endswith("/governance/session")) as dropped:
            tab.get_by_role("button", name="退出登录").click()
        assert dropped.value.status == 204 and dropped.value.request.method == "DELETE"
        tab.get_by_role("button", name="登录", exact=True).wait_for()
        assert not [c for c in context.cookies() if c["name"] == auth.SESSION_COOKIE]
        tab.reload()
        tab.get_by_role("button", name="登录", exact=True).wait_for()
        assert tab.locator('[data-testid="stMetric"]').count() == 0
        # The other tab's next reload asks too: the session ended on the server.
        second.reload()
        second.get_by_role("button", name="登录", exact=True).wait_for()
        screenshot(second, "signed_out_after_reload")
        context.close()

        # A copy of the old cookie, replayed from another browser, is worth nothing.
        replay = browser.new_context()
        replay.add_cookies([cookie])
        other = replay.new_page()
        other.set_default_timeout(120_000)
        other.goto(url)
        other.get_by_role("button", name="登录", exact=True).wait_for()
        assert other.locator('[data-testid="stMetric"]').count() == 0
        replay.close()
    log = store.audit_log()
    assert list(log["action"])[:3] == ["sign_out", "session_resume", "session_resume"]
