"""The meeting brief for the shipped sample district in Debian's Chromium:
opened from a file with every network request refused, every chart drawn, in
Chinese, and printed to A4 pages checked one by one with pypdf."""

from __future__ import annotations

import io
import re
import shutil
import unicodedata
from datetime import datetime
from urllib.parse import urlparse

import pytest
from pypdf import PdfReader

from governance import brief, db, indicators, sample_loader, scenarios
from governance.indicators import ViewFilter
from governance.text import t
from tests.browser.conftest import ARTIFACTS, RUN_TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

GENERATED = datetime(2025, 3, 14, 9, 30)
ALL = ViewFilter()
RAISED_F01 = scenarios.from_values("用房标准提高", {"F01": (30.0, 30.0)}, {})
SCENARIOS = {"baseline": scenarios.BASELINE, "scenario": RAISED_F01}
A4_PT = (595.28, 841.89)
LOCAL_SCHEMES = ("file", "data", "blob")
PLANTED_STREET = '<a href="https://example.org/x">东关</a>街道'
PLANTED_NAME = '<img src="x" onerror="window.__planted = 1">德塘社区'


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("brief") / "sample.duckdb"
    conn = db.connect(path)
    sample_loader.ensure_sample_loaded(conn)
    conn.close()
    return path


def _build(path, scenario, view_filter=ALL):
    conn = db.connect(path, read_only=True)
    try:
        return brief.build_brief(
            conn, indicators.default_period(conn), view_filter, scenario,
            data_version=db.data_version(conn), generated_at=GENERATED)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def written(sample_db, tmp_path_factory):
    """name → (brief, HTML file) for the baseline and a raised F01 floor."""
    folder = tmp_path_factory.mktemp("brief_html")
    out = {}
    for name, scenario in SCENARIOS.items():
        b = _build(sample_db, scenario)
        path = folder / f"brief_{name}.html"
        path.write_text(brief.render_html(b), encoding="utf-8")
        out[name] = (b, path)
    return out


def _open_offline(browser, path):
    """A page on `path` in a context that refuses every request off this machine;
    returns (page, context, refused, requested)."""
    context = browser.new_context(viewport={"width": 900, "height": 1200}, locale="zh-CN")
    refused: list[str] = []
    requested: list[str] = []

    def guard(route):
        if urlparse(route.request.url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path.as_uri())
    return page, context, refused, requested


DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(plot => plot.querySelector('.main-svg')).length"""


def _wait_for_charts(page, count: int) -> None:
    page.wait_for_function(f"n => ({DRAWN})() === n", arg=count)
    assert page.locator(".js-plotly-plot").count() == count


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_brief_opens_offline_and_draws_every_chart(browser, written, name):
    b, path = written[name]
    page, context, refused, requested = _open_offline(browser, path)
    try:
        _wait_for_charts(page, len(b.charts))
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
        # Chinese is drawn inside the charts (street names on the axes).
        assert re.search(r"[\u4e00-\u9fff]", page.locator("#overview svg").first.text_content())
        body = page.locator("body").inner_text()
        assert b.title in body and f"{b.totals['communities']:,}" in body
        assert (t("brief.scenario.title") in body) is (name == "scenario")
        screenshot(page, f"brief_{name}")
        page.emulate_media(media="print")
        screenshot(page, f"brief_{name}_print")
    finally:
        context.close()
    assert refused == []
    assert [u for u in requested if urlparse(u).scheme not in LOCAL_SCHEMES] == []


# Text extracted from Chromium's PDF maps some Noto CJK glyphs to radicals
# (⽰ for 示, ⼾ for 户, ⻅ for 见): a CJK character of the expected text also
# matches a radical. Everything else is compared after NFKC (full-width
# punctuation) with white space removed.
_RADICALS = ("\u2e80", "\u2fdf")
_RADICAL = "[\u2e80-\u2fdf]"


def _squash(text: str) -> str:
    kept = "".join(ch if _RADICALS[0] <= ch <= _RADICALS[1] else unicodedata.normalize("NFKC", ch)
                   for ch in text)
    return re.sub(r"\s+", "", kept)


def _printed(expected: str):
    parts = [f"(?:{re.escape(ch)}|{_RADICAL})" if "\u4e00" <= ch <= "\u9fff" else re.escape(ch)
             for ch in _squash(expected)]
    return re.compile("".join(parts))


def _on(page_text: str, expected: str) -> bool:
    return _printed(expected).search(page_text) is not None


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_brief_prints_on_a4_pages(browser, written, name):
    b, path = written[name]
    page, context, refused, _ = _open_offline(browser, path)
    try:
        _wait_for_charts(page, len(b.charts))
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        context.close()
    assert refused == []
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"brief_{name}.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [_squash(p.extract_text() or "") for p in reader.pages]
    for number, pdf_page in enumerate(reader.pages, start=1):
        size = (float(pdf_page.mediabox.width), float(pdf_page.mediabox.height))
        assert size == pytest.approx(A4_PT, abs=1), number
        assert pages[number - 1], f"page {number} is blank"
    # Page 1: the title, the view and the headline figures.
    first = pages[0]
    for text in (b.title, t("brief.headline.title"), f"{b.totals['communities']:,}",
                 f"{b.totals['households']:,}", b.scenario_name):
        assert _on(first, text), text
    # Every dimension's section heading, and the scenario section only for a scenario.
    # Sections: 一 overview, 二 communities in need, 三–六 the dimensions, 七 the scenario.
    for index, section in enumerate(b.sections, start=2):
        heading = t("brief.section.numbered", n=t("brief.numerals")[index], title=section.label)
        assert any(_on(p, heading) and _on(p, section.indicators["name"].iloc[0])
                   for p in pages), section.dimension
    scenario_heading = t("brief.section.numbered", n=t("brief.numerals")[6],
                         title=t("brief.scenario.title"))
    assert any(_on(p, scenario_heading) for p in pages) is (name == "scenario")
    # No chart is cut across pages: its heading (above the plot) and its note
    # (below the plot) are printed on the same page.
    for number, chart in enumerate(b.charts, start=1):
        label = t("brief.chart.label", n=number)
        heading = t("brief.chart.heading", label=label, heading=chart.heading)
        note = t("brief.chart.note", label=label, note=chart.note)
        on = [i for i, p in enumerate(pages) if _on(p, heading)]
        assert len(on) == 1, (heading, on)
        assert _on(pages[on[0]], note), (number, chart.heading)
    # Plausible length: the charts need at least half a page each on average,
    # and the brief is a handout, not a report.
    assert len(b.charts) // 2 <= len(pages) <= 16, len(pages)
    # Every page is numbered in its footer, out of the total: 第 2 页，共 9 页.
    for number, text in enumerate(pages, start=1):
        assert _on(text, t("brief.page_number", page=number, pages=len(pages))), number
        others = [n for n in range(1, len(pages) + 1) if n != number]
        assert not any(_on(text, t("brief.page_number", page=n, pages=len(pages)))
                       for n in others), number


def test_planted_names_stay_text_in_the_browser(browser, sample_db, tmp_path):
    """Names from an upload cannot run script or become links, in tables or charts."""
    path = tmp_path / "planted.duckdb"
    shutil.copy(sample_db, path)
    worst = _build(path, scenarios.BASELINE).in_need["community_id"].iloc[0]
    conn = db.connect(path)
    try:
        conn.execute("update communities set community_name = ? where community_id = ?",
                     [PLANTED_NAME, worst])
        conn.execute("update communities set street = ? where street = '东关街道'",
                     [PLANTED_STREET])
        db.bump_data_version(conn)  # as the import that planted them would
    finally:
        conn.close()
    b = _build(path, scenarios.BASELINE)
    html_path = tmp_path / "planted.html"
    html_path.write_text(brief.render_html(b), encoding="utf-8")
    page, context, refused, _ = _open_offline(browser, html_path)
    try:
        _wait_for_charts(page, len(b.charts))
        assert page.evaluate("window.__planted") is None
        assert page.locator("img").count() == 0
        assert page.locator("#in-need td", has_text=PLANTED_NAME).count() == 1
        # plotly shows the street as typed, with no link in the chart.
        assert page.locator(".main-svg a").count() == 0
        labels = page.locator("#overview .main-svg").first.text_content()
        assert PLANTED_STREET in labels
    finally:
        context.close()
    assert refused == []
