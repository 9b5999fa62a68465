"""Meetings in Chromium, on a server of its own (it changes the data): save a
meeting from the brief, import a corrected December through the data page,
open 上次会议以来, download the next brief and read its first section in the
printed PDF. The correction is the one tests/app/test_meetings_page.py works
out by hand: 340403001007's police hours reach 30.0 a month (met), and
340403001001 gets a major criminal case (S04 newly not met)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from governance.text import t
from tests.browser.conftest import (
    ARTIFACTS,
    RUN_TIMEOUT_MS,
    running_app,
    screenshot,
    wait_for_app,
)
from tests.browser.test_brief import _on, _printed, _squash
from tests.conftest import SAMPLE_DIR

pytestmark = pytest.mark.browser

FIXED = "340403001007"
BROKEN = "340403001001"


@pytest.fixture(scope="module")
def meetings_server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("meetings")) as url:
        yield url


def _names() -> dict[str, str]:
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        return {r["community_id"]: r["community_name"] for r in csv.DictReader(handle)}


def _corrected_december() -> bytes:
    with open(SAMPLE_DIR / "safety.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = sum(float(r["police_hours"]) for r in rows
                if r["community_id"] == FIXED and r["month"] >= "2025-01")
    december = [r for r in rows if r["month"] == "2025-12"]
    for row in december:
        if row["community_id"] == FIXED:
            row["police_hours"] = str(float(row["police_hours"]) + 360.0 - total)
        if row["community_id"] == BROKEN:
            row["major_criminal_cases"] = "1"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(december[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(december)
    return out.getvalue().encode("utf-8")


def _open(tab, url: str, path: str) -> None:
    tab.goto(f"{url}/{path}")
    wait_for_app(tab)


def _body(tab) -> str:
    return tab.locator('[data-testid="stMain"]').inner_text()


def test_save_import_follow_up_and_the_next_brief(page, meetings_server, browser):
    tab = page
    names = _names()
    # 1. Save a meeting where the brief is generated.
    _open(tab, meetings_server, "scenarios")
    name_box = tab.get_by_label(t("meeting.save.name"))
    name_box.scroll_into_view_if_needed()
    name_box.fill("浏览器督办会")
    name_box.press("Enter")
    wait_for_app(tab)
    tab.get_by_role("button", name=t("meeting.save.button")).click()
    tab.get_by_text(re.compile("已保存会议记录“浏览器督办会”")).wait_for()
    wait_for_app(tab)

    # 2. Import the corrected December through the data page.
    _open(tab, meetings_server, "data")
    tab.locator('[data-testid="stFileUploaderDropzoneInput"][accept*=".csv"]').set_input_files(
        files=[{"name": "平安月报_2025-12_更正.csv", "mimeType": "text/csv",
                "buffer": _corrected_december()}])
    wait_for_app(tab)
    tab.get_by_text(re.compile("校验通过")).first.wait_for()
    tab.get_by_role("button", name="导入", exact=True).click()
    tab.get_by_text(re.compile("已导入平安建设月报")).wait_for()
    wait_for_app(tab)

    # 3. 上次会议以来.
    _open(tab, meetings_server, "meetings")
    expect(tab.get_by_role("heading", name=t("meeting.title"))).to_be_visible()
    now_met = tab.get_by_test_id("stMetricLabel").filter(has_text=t("meeting.kpi.now_met"))
    expect(now_met).to_be_visible(timeout=RUN_TIMEOUT_MS)
    body = _body(tab)
    assert "浏览器督办会" in body
    metrics = {
        label: value for label, value in zip(
            tab.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
            tab.locator('[data-testid="stMetricValue"]').all_inner_texts(), strict=True)}
    assert metrics[t("meeting.kpi.now_met")] == "1"
    assert metrics[t("meeting.kpi.newly_short")] == "1"
    screenshot(tab, "meetings_follow_up")
    assert "Traceback" not in body
    assert tab.locator('[data-testid="stException"]').count() == 0

    # 4. The next brief, downloaded from the brief's page, printed.
    _open(tab, meetings_server, "scenarios")
    button = tab.get_by_role("button", name=t("brief.download.html"))
    button.scroll_into_view_if_needed()
    with tab.expect_download() as info:
        button.click()
    html = Path(info.value.path()).read_text(encoding="utf-8")
    wait_for_app(tab)
    context = browser.new_context(viewport={"width": 900, "height": 1200}, locale="zh-CN")
    try:
        printer = context.new_page()
        printer.set_content(html)
        printer.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot')]"
            ".every(p => p.querySelector('.main-svg'))")
        pdf = printer.pdf(format="A4", print_background=True)
    finally:
        context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "brief_after_meeting.pdf").write_bytes(pdf)
    first = _squash(PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or "")
    # The first section is 上次会议以来, before the usual 主要数字.
    assert _on(first, "一、" + t("brief.since.title"))
    assert _on(first, "浏览器督办会")
    heading = _printed("一、" + t("brief.since.title")).search(first)
    headline = _printed(t("brief.headline.title")).search(first)
    assert heading is not None and (headline is None or heading.start() < headline.start())
    # Its table leads with what moved: the fixed community, now met.
    assert _on(first, names[FIXED])
    assert _on(first, t("meeting.outcome.now_met"))
    assert tab.outside_requests == [], tab.outside_requests
