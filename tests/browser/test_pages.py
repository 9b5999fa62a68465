"""What only a browser shows: pages render in Chromium, offline, in Chinese, and
an upload goes through the real file input."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import running_app, screenshot, wait_for_app
from tests.conftest import bad_communities_csv, messy_communities_csv

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "", "facilities": "facilities", "funding": "funding", "safety": "safety",
    "scenarios": "scenarios", "data": "data",
}


def _open(page, app_server, path: str) -> None:
    page.goto(f"{app_server}/{path}")
    wait_for_app(page)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_offline_in_chinese_without_exception(page, app_server, name):
    _open(page, app_server, PAGES[name])
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.locator("body").inner_text()
    assert "示例数据" in body
    assert "Traceback" not in body
    # A page that fails shows the guard's Chinese message, not an exception element.
    assert "出现错误，操作未完成" not in body
    # A CJK font is really available to the page, so Chinese is not drawn as boxes.
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
    screenshot(page, name)
    assert page.outside_requests == [], page.outside_requests


def test_overview_draws_matrix_and_charts(page, app_server):
    _open(page, app_server, "")
    page.wait_for_selector('[data-testid="stDataFrame"]')
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert page.locator(".js-plotly-plot").count() >= 2
    # The ranking chart has one bar per listed community.
    bars = page.locator(".js-plotly-plot").first.locator("g.point")
    assert bars.count() >= 5
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert "117" in metrics
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "overview_charts")


def test_street_filter_holds_when_navigating(page, app_server):
    _open(page, app_server, "")
    sidebar = page.locator('[data-testid="stSidebarUserContent"]')
    sidebar.locator('[data-testid="stMultiSelect"] input').first.click()
    # The first option is Streamlit's "Select all"; take the first real street.
    option = page.get_by_role("option").filter(has_text="街道").first
    street = option.inner_text().strip()
    option.click()
    page.keyboard.press("Escape")
    communities_metric = page.locator('[data-testid="stMetricValue"]').first
    expect(communities_metric).not_to_have_text("117")
    wait_for_app(page)
    filtered = communities_metric.inner_text()
    assert 0 < int(filtered) < 117
    page.locator('[data-testid="stSidebarNavLink"]', has_text="数据管理").click()
    page.wait_for_url("**/data")
    wait_for_app(page)
    assert street in sidebar.inner_text()
    page.locator('[data-testid="stSidebarNavLink"]', has_text="总览").click()
    wait_for_app(page)
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text(filtered)


def test_deep_link_on_a_fresh_server_gets_the_full_app(browser, tmp_path):
    """The first request after a restart may name a page: it must still get the
    navigation and filters, not the bare page script."""
    with running_app(tmp_path) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(120_000)
        tab.goto(f"{url}/facilities")
        wait_for_app(tab)
        tab.get_by_text("设施覆盖与十分钟服务圈").wait_for()
        nav = tab.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "总览" in nav and "数据管理" in nav and "common" not in nav
        assert "筛选" in tab.locator('[data-testid="stSidebarUserContent"]').inner_text()
        context.close()


def test_facilities_map_is_drawn_without_tiles(page, app_server):
    _open(page, app_server, "facilities")
    chart = page.locator('[data-testid="stDeckGlJsonChart"]')
    chart.scroll_into_view_if_needed()
    canvas = chart.locator("canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box["width"] > 400 and box["height"] > 300
    page.wait_for_timeout(1500)  # let deck.gl draw its first frame
    # The legend beside the map is on screen with it.
    legend = page.locator(".map-legend").first
    expect(legend).to_be_visible()
    assert "社区覆盖率" in legend.inner_text() and "户数计算依据" in legend.inner_text()
    legend_box = legend.bounding_box()
    assert legend_box["x"] > box["x"] + box["width"] - 1 and legend_box["y"] < box["y"] + box["height"]
    _assert_map_tooltip_is_formatted_text(page, box)
    screenshot(page, "facilities_map")
    assert page.outside_requests == [], page.outside_requests


def _assert_map_tooltip_is_formatted_text(page, box) -> None:
    """Hover from the map's middle outwards until deck.gl shows a tooltip: lines
    of text, no markup shown as text and none parsed from the data."""
    tooltip = page.locator(".deck-tooltip")
    middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    spots = sorted(((dx, dy) for dx in range(-300, 301, 20) for dy in range(-200, 201, 20)),
                   key=lambda d: abs(d[0]) + abs(d[1]))
    for dx, dy in spots:
        page.mouse.move(middle_x + dx, middle_y + dy)
        page.wait_for_timeout(30)
        if tooltip.count() and tooltip.first.is_visible() and tooltip.first.inner_text().strip():
            break
    else:
        raise AssertionError("no tooltip anywhere near the map's middle")
    text = tooltip.first.inner_text()
    inner = tooltip.first.evaluate("e => e.innerHTML")
    assert "<" not in text and "&lt;" not in text and "&gt;" not in text, text
    # Only line breaks as elements (innerText of "a\nb"), never <b>, <a>, <img> …
    assert re.sub(r"<br\s*/?>", "", inner).count("<") == 0, inner
    page.mouse.move(0, 0)


def test_safety_page_draws_red_flags_charts_map_and_exports(page, app_server):
    _open(page, app_server, "safety")
    page.get_by_text(re.compile("红线：")).wait_for()
    page.wait_for_selector(".js-plotly-plot .main-svg")
    # Trend, heat map, incidents by month and resolution times.
    expect(page.locator(".js-plotly-plot")).to_have_count(4)
    heatmap = page.locator(".js-plotly-plot .heatmaplayer")
    expect(heatmap).to_have_count(1)
    trend = page.locator(".js-plotly-plot").first
    assert "民事纠纷调解率" in trend.inner_text()
    # The threshold line of S01 (98 %) is drawn and labelled.
    assert "98" in trend.locator(".annotation-text").first.text_content()
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    screenshot(page, "safety_trends")
    chart = page.locator('[data-testid="stDeckGlJsonChart"]')
    chart.scroll_into_view_if_needed()
    chart.locator("canvas").first.wait_for()
    page.wait_for_timeout(1500)  # let deck.gl draw its first frame
    legend = page.locator(".map-legend").first
    expect(legend).to_be_visible()
    assert "网格事件" in legend.inner_text() and "多数未办结" in legend.inner_text()
    screenshot(page, "safety_map")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="导出本页表格（Excel）").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert book.sheetnames[:3] == ["平安指标", "红线事项", "月度指标"]
    assert "月报核对差异" in book.sheetnames
    assert page.outside_requests == [], page.outside_requests


def _assert_brief_labels_inside_charts(context, html: str) -> None:
    """Every axis label of the brief as downloaded from the app lies inside its
    chart: built in the app, plotly's default template once cut street names off."""
    tab = context.new_page()
    try:
        tab.set_content(html)
        tab.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 4")
        outside = tab.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
            .flatMap(plot => {
                const box = plot.getBoundingClientRect();
                return [...plot.querySelectorAll('.xtick text, .ytick text')]
                    .filter(label => {
                        const r = label.getBoundingClientRect();
                        return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1);
                    })
                    .map(label => plot.id + ': ' + label.textContent);
            })""")
    finally:
        tab.close()
    assert outside == []


def test_scenario_saved_and_applied_to_every_page(page, app_server):
    _open(page, app_server, "scenarios")
    changed = page.locator('[data-testid="stMetric"]', has_text="变化的社区 × 指标")
    expect(changed.locator('[data-testid="stMetricValue"]')).to_have_text("0")
    floor = page.get_by_role("spinbutton", name="F01 每百户办公和活动用房面积（平方米/百户） · 基本值")
    floor.fill("30")
    floor.press("Enter")
    expect(changed.locator('[data-testid="stMetricValue"]')).not_to_have_text("0")
    page.get_by_label("情景名称").fill("浏览器情景")
    page.get_by_label("情景名称").press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="保存情景").click()
    page.get_by_text(re.compile("当前设定已保存为情景“浏览器情景”")).wait_for()
    screenshot(page, "scenarios")
    # The meeting brief for this view and scenario, built when the button is clicked.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="下载会议简报（HTML，可打印）").click()
    html = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert re.fullmatch(r"会议简报_\d{4}-\d{2}-\d{2}\.html", download_info.value.suggested_filename)
    assert "情景与基线" in html and "基本值 20 → 30" in html
    assert html.count("Plotly.newPlot") >= 5
    # Titled by the name it was just saved under.
    assert "情景“浏览器情景”" in html and "未命名情景" not in html
    _assert_brief_labels_inside_charts(page.context, html)
    wait_for_app(page)  # the click is audited, which reruns the page
    sidebar = page.locator('[data-testid="stSidebarUserContent"]')
    picker = sidebar.locator('[data-testid="stSelectbox"]', has_text="情景").locator("input")
    picker.scroll_into_view_if_needed()
    picker.click()
    picker.fill("浏览器情景")
    page.get_by_role("option", name="浏览器情景").click()
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNavLink"]', has_text="总览").click()
    wait_for_app(page)
    page.get_by_text(re.compile("正在应用情景“浏览器情景”")).wait_for()
    assert page.outside_requests == [], page.outside_requests


def _upload(page, name: str, data: bytes) -> None:
    # By what it accepts: during a rerun `.first` can resolve to the GeoJSON uploader.
    page.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    wait_for_app(page)


def test_bad_file_refused_then_gbk_export_imported(page, app_server):
    _open(page, app_server, "data")
    _upload(page, "bad.csv", bad_communities_csv())
    page.get_by_text(re.compile("校验未通过")).wait_for()
    # The problem table names row, column, value and reason for each bad cell.
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    grid.locator('[data-testid^="glide-cell-"]').first.wait_for(state="attached")
    problems = grid.text_content()
    assert "户数" in problems and "-5" in problems and "不能小于 0" in problems
    assert "火星社区" in problems
    assert page.get_by_role("button", name="导入", exact=True).is_disabled()
    screenshot(page, "data_refused")
    # Replace the bad file with a real-looking GBK export.
    page.locator('[data-testid="stFileChipDeleteBtn"] button').first.click()
    wait_for_app(page)
    _upload(page, "社区基本情况.csv", messy_communities_csv(households_bump=1))
    page.get_by_text(re.compile("校验通过：117 行可导入")).wait_for()
    page.get_by_role("button", name="导入", exact=True).click()
    page.get_by_text(re.compile("已导入社区基本信息：117 行")).wait_for()
    screenshot(page, "data_imported")
    assert page.outside_requests == [], page.outside_requests
