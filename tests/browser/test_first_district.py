"""Day one of a real district, in Chromium, as a bureau meets it: the app starts
as `make run` starts it (an empty database, the sample loaded), a clerk uploads
the district's own messy exports on 数据管理 and imports them, and then every
page shows the district and only the district.

Expected figures are hand-computed in tests/district_files.py."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests import district_files
from tests.browser.conftest import (
    LOCAL_HOSTS,
    PROJECTOR,
    RUN_TIMEOUT_MS,
    running_app,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser

PAGES = {"总览": "", "设施覆盖": "facilities", "经费保障": "funding", "平安建设": "safety",
         "情景推演": "scenarios", "数据管理": "data"}
SCENARIO = "用房标准30"
BANNER = re.compile("示例数据：")
MIME = {".csv": "text/csv",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class _Rows(HTMLParser):
    """Table rows of an HTML document as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _table_rows(html: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


@pytest.fixture(scope="module")
def district_server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("first_district")) as url:
        yield url


@pytest.fixture(scope="module")
def tab(browser, district_server):
    context = browser.new_context(viewport=PROJECTOR, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    page.outside_requests = []
    page.on("request", lambda request: (
        request.url.split(":", 1)[0] not in ("data", "blob")
        and not any(f"//{host}" in request.url for host in LOCAL_HOSTS)
        and page.outside_requests.append(request.url)))
    yield page
    context.close()


def _open(tab, url: str, path: str) -> None:
    tab.goto(f"{url}/{path}")
    wait_for_app(tab)


def _body(tab) -> str:
    return tab.locator('[data-testid="stMain"]').inner_text()


def _download(tab, button: str) -> bytes:
    with tab.expect_download() as info:
        tab.get_by_role("button", name=button).click()
    data = Path(info.value.path()).read_bytes()
    wait_for_app(tab)  # the click is audited, which reruns the page
    return data


def test_1_import_the_districts_own_exports_through_the_page(tab, district_server, tmp_path):
    _open(tab, district_server, "data")
    expect(tab.get_by_text(BANNER).first).to_be_visible()
    files = district_files.write_district(tmp_path)
    tab.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]').set_input_files(
        files=[{"name": path.name, "mimeType": MIME[path.suffix],
                "buffer": path.read_bytes()} for path in files.values()])
    wait_for_app(tab)
    for rows in ("5", "5", "10", "51"):
        tab.get_by_text(re.compile(f"校验通过：{rows} 行可导入")).first.wait_for()
    body = _body(tab)
    assert "全角数字 1 格、千位分隔符 3 格" in body or "处理说明" in body
    tab.get_by_role("button", name="导入", exact=True).click()
    tab.get_by_text(re.compile("已导入社区基本信息：5 行")).wait_for()
    wait_for_app(tab)
    body = _body(tab)
    assert "示例数据已全部移除" in body and "网格事件 35,738 行" in body
    # the banner is gone in the very run that imported
    assert not BANNER.search(body)
    screenshot(tab, "district_data")


@pytest.mark.parametrize("name", list(PAGES))
def test_2_no_page_shows_the_sample(tab, district_server, name):
    _open(tab, district_server, PAGES[name])
    body = _body(tab)
    assert not BANNER.search(body), name
    assert "Traceback" not in body and "出现错误，操作未完成" not in body
    errors = tab.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()
    screenshot(tab, f"district_{PAGES[name] or 'overview'}")
    assert tab.outside_requests == [], tab.outside_requests


def test_3_coverage_rests_on_centres(tab, district_server):
    _open(tab, district_server, "facilities")
    metrics = tab.locator('[data-testid="stMetricValue"]')
    expect(metrics.first).to_have_text("36.0%")
    expect(metrics.nth(1)).to_have_text("3,200")
    assert "5 个社区均按社区中心点和社区户数估算" in _body(tab)


def test_4_f03_in_the_excel_matrix_equals_the_page(tab, district_server):
    _open(tab, district_server, "")
    book = openpyxl.load_workbook(io.BytesIO(_download(tab, "导出达标矩阵（Excel）")))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(cell or "") for cell in rows[0]]
    f03 = next(i for i, h in enumerate(header) if h.startswith("F03"))
    name = next(i for i, h in enumerate(header) if "社区" in h and "编码" not in h
                and "类型" not in h)
    values = {row[name]: row[f03] for row in rows[1:] if row[name]}
    expected = dict(zip(district_files.NAMES, district_files.F03_BY_COMMUNITY.values(),
                        strict=True))
    assert {k: float(v) for k, v in values.items()} == pytest.approx(expected)


def test_5_the_brief_carries_the_scenario_applied_in_the_sidebar(tab, district_server):
    _open(tab, district_server, "scenarios")
    floor = tab.get_by_role("spinbutton", name=re.compile("F01 .* · 基本值"))
    floor.fill("30")
    floor.press("Enter")
    wait_for_app(tab)
    tab.get_by_label("情景名称").fill(SCENARIO)
    tab.get_by_label("情景名称").press("Enter")
    wait_for_app(tab)
    tab.get_by_role("button", name="保存情景").click()
    tab.get_by_text(re.compile(f"已保存为情景“{SCENARIO}”")).wait_for()
    wait_for_app(tab)
    # Applied where a leader applies it: the sidebar, then another page first.
    sidebar = tab.locator('[data-testid="stSidebarUserContent"]')
    picker = sidebar.locator('[data-testid="stSelectbox"]', has_text="情景").locator("input")
    picker.scroll_into_view_if_needed()
    picker.click()
    picker.fill(SCENARIO)
    tab.get_by_role("option", name=SCENARIO).click()
    wait_for_app(tab)
    tab.locator('[data-testid="stSidebarNavLink"]', has_text="总览").click()
    wait_for_app(tab)
    tab.get_by_text(re.compile(f"正在应用情景“{SCENARIO}”")).wait_for()
    tab.locator('[data-testid="stSidebarNavLink"]', has_text="情景推演").click()
    wait_for_app(tab)
    html = _download(tab, "下载会议简报（HTML，可打印）").decode("utf-8")
    assert f"情景“{SCENARIO}”" in html and "未作情景推演" not in html
    assert "基本值 20 → 30" in html
    # F03 in the brief: 2 communities met (北湖, 南湖), 3 not met
    row = next(r for r in _table_rows(html) if r and r[0].startswith("F03"))
    header = next(r for r in _table_rows(html) if r and r[0] == "指标" and "达标" in r)
    cells = dict(zip(header, row, strict=False))
    assert (cells["达标"], cells["未达标"]) == ("2", "3")
    workbook = openpyxl.load_workbook(io.BytesIO(_download(tab, "下载简报表格（Excel）")))
    text = " ".join(str(c) for ws in workbook.worksheets
                    for r in ws.iter_rows(values_only=True) for c in r if c is not None)
    assert SCENARIO in text
    screenshot(tab, "district_scenarios")
    assert tab.outside_requests == [], tab.outside_requests
