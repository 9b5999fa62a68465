"""governance/brief.py on tests/fixtures/indicators_small.sql (2024; 2024-01 .. 2024-03).

Hand-computed from the fixture (see tests/queries/test_facility_indicators.py):
F01 每百户用房 is C01 30.0, C02 20.0, C03 24.0, C04 no data (0 households),
C05 8.0. Under the policy default (floor 20, target 30) C02 and C03 are
partly met; with the floor raised to 30 both become not met.
"""

from __future__ import annotations

import html
import io
import math
import re
from datetime import date, datetime

import jinja2
import openpyxl
import plotly.offline
import pytest

from governance import brief, brief_workbook, exporting, indicators, scenarios
from governance.indicators import Period, ViewFilter
from governance.text import t
from tests.conftest import load_fixture_sql

PERIOD = Period(2024, date(2024, 1, 1), date(2024, 3, 1))
GENERATED = datetime(2025, 3, 14, 9, 30)
ALL = ViewFilter()
F01_30 = scenarios.from_values("测试情景", {"F01": (30.0, 30.0)}, {})
SCRIPT_NAME = '<script>alert("brief")</script>老街社区'
TAG_STREET = "东湖<b onmouseover=alert(1)>街道"
FORMULA_NAME = "=1+2"


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    return memory_conn


def _build(conn, scenario=scenarios.BASELINE, view_filter=ALL):
    return brief.build_brief(conn, PERIOD, view_filter, scenario, data_version=7,
                             generated_at=GENERATED)


def _independent_shares(conn, scenario) -> dict[str, float]:
    """(met + partly met) / rated per dimension, counted row by row."""
    values = indicators.indicator_values(conn, PERIOD, ViewFilter(), scenario.standards())
    good: dict[str, int] = {}
    rated: dict[str, int] = {}
    for row in values.to_pylist():
        if row["status"] in ("met", "partly_met", "not_met"):
            rated[row["dimension"]] = rated.get(row["dimension"], 0) + 1
            if row["status"] != "not_met":
                good[row["dimension"]] = good.get(row["dimension"], 0) + 1
    return {d: good.get(d, 0) * 100 / n for d, n in rated.items()}


# --- What the brief computes ----------------------------------------------------


@pytest.mark.parametrize("scenario", [scenarios.BASELINE, F01_30], ids=["baseline", "f01_30"])
def test_headline_figures_equal_independent_counts(conn, scenario):
    b = _build(conn, scenario)
    # 1,600 + 1,600 + 500 + 0 + 3,500 households; 4,000 + 3,200 + 1,500 + 0 + 9,000 people.
    assert (b.totals["communities"], b.totals["households"], b.totals["population"]) == (
        5, 7200, 17700)
    expected = _independent_shares(conn, scenario)
    assert [s.dimension for s in b.sections] == ["facilities", "funding", "safety",
                                                 "organisation"]
    for section in b.sections:
        assert section.summary["met_share_pct"] == pytest.approx(expected[section.dimension])
    shares = b.dimensions.set_index("dimension")["met_share_pct"]
    assert shares.to_dict() == pytest.approx(expected)


def test_raising_the_f01_floor_lowers_the_facilities_share_by_two_pairs(conn):
    baseline, raised = _build(conn), _build(conn, F01_30)
    facilities = [b.sections[0].summary["met_share_pct"] for b in (baseline, raised)]
    # 17 rated facility pairs: 10 good under the default, 8 once C02 and C03 fail F01.
    assert facilities == pytest.approx([10 * 100 / 17, 8 * 100 / 17])
    assert raised.sections[0].summary["not_met"] == baseline.sections[0].summary["not_met"] + 2
    f01 = raised.sections[0].indicators.set_index("indicator_id").loc["F01"]
    assert (f01["met"], f01["partly_met"], f01["not_met"], f01["no_data"]) == (1, 0, 3, 1)
    assert "30" in f01["standard"]


def test_in_need_lists_most_unmet_first_then_lowest_share(conn):
    baseline, raised = _build(conn), _build(conn, F01_30)
    # C04 and C03 tie on unmet count under the scenario: C04 (25 %) before C03 (40 %).
    # (C02's and C03's safety values are no_data: they reported 2 and 1 of the 3 months.)
    assert baseline.in_need["community_id"].tolist() == ["C02", "C05", "C04", "C03", "C01"]
    assert baseline.in_need["not_met_count"].tolist() == [7, 4, 3, 2, 2]
    assert raised.in_need["community_id"].tolist() == ["C02", "C05", "C04", "C03", "C01"]
    assert raised.in_need["not_met_count"].tolist() == [8, 4, 3, 3, 2]
    c03 = raised.in_need.set_index("community_id").loc["C03"]
    assert c03["met_share_pct"] == pytest.approx(40.0)
    assert "每百户办公和活动用房面积" in c03["unmet"].split(t("brief.list_separator"))
    assert "每百户办公和活动用房面积" not in baseline.in_need.set_index(
        "community_id").loc["C03", "unmet"]
    assert raised.in_need.set_index("community_id").loc["C02", "community_type"] == "老城区社区"
    # The same counts, worked out from the long values without status_matrix.
    values = indicators.indicator_values(conn, PERIOD, ViewFilter(), F01_30.standards())
    frame = values.to_pandas()
    unmet = frame[frame["status"] == "not_met"].groupby("community_id").size()
    assert raised.in_need.set_index("community_id")["not_met_count"].to_dict() == unmet.to_dict()


def test_in_need_stops_at_fifteen():
    assert brief.IN_NEED_SHOWN == 15


def test_comparison_only_for_a_scenario(conn):
    baseline = _build(conn)
    assert baseline.is_baseline and baseline.comparison is None
    assert baseline.standard_changes == [] and baseline.scenario_charts == []
    page = brief.render_html(baseline)
    assert t("brief.baseline.note") in page
    assert t("brief.scenario.title") not in page
    assert set(brief_workbook.brief_sheets(baseline)) == {
        t("brief.sheet.summary"), t("brief.sheet.dimensions"), t("brief.sheet.indicators"),
        t("brief.sheet.in_need")}

    raised = _build(conn, F01_30)
    comparison = raised.comparison
    assert comparison is not None and not raised.is_baseline
    changes = comparison.status_changes
    assert list(zip(changes["community_id"], changes["indicator_id"],
                    changes["baseline_status"], changes["scenario_status"], strict=True)) == [
        ("C02", "F01", "partly_met", "not_met"), ("C03", "F01", "partly_met", "not_met")]
    f01 = comparison.totals.set_index("indicator_id").loc["F01"]
    assert (f01["met_baseline"], f01["met_scenario"], f01["change"]) == (3, 1, -2)
    page = brief.render_html(raised)
    assert t("brief.baseline.note") not in page
    assert "七、" + t("brief.scenario.title") in page
    assert "F01 每百户办公和活动用房面积：基本值 20 → 30（平方米/百户）" in page
    assert raised.scenario_name in page and "测试情景" in raised.scenario_name
    # The moved-indicators chart shows F01 only: baseline 3 communities, scenario 1.
    (chart,) = raised.scenario_charts
    assert [list(trace.x) for trace in chart.figure.data] == [[3], [1]]


def test_metadata_describes_the_view(conn):
    view = ViewFilter(streets=("西山镇",), community_types=("urban",))
    b = _build(conn, F01_30, view)
    assert b.totals["communities"] == 1 and b.totals["households"] == 3500
    assert b.in_need["community_id"].tolist() == ["C05"]
    assert "西山镇" in b.filter_text and "城市社区" in b.filter_text
    page = brief.render_html(b)
    for text in (b.filter_text, "2024-01 至 2024-03", "经费年度 2024", "第 7 版",
                 "2025-03-14 09:30", "测试情景"):
        assert html.escape(text) in page, text
    assert _build(conn).filter_text == t("brief.filter.all")


# --- The HTML file --------------------------------------------------------------


BUNDLE = plotly.offline.get_plotlyjs()


def _without_bundle(page: str) -> str:
    assert page.count(BUNDLE) == 1
    return page.replace(BUNDLE, "")


@pytest.mark.parametrize("scenario", [scenarios.BASELINE, F01_30], ids=["baseline", "f01_30"])
def test_html_is_one_offline_file_with_plotly_once(conn, scenario):
    b = _build(conn, scenario)
    page = brief.render_html(b)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    rest = _without_bundle(page)
    # No outside reference anywhere outside plotly.js itself (whose code names
    # map-tile hosts it never loads here).
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", rest, re.I)
    assert not re.search(r"https?://", rest)
    for banned in ("<link", "@import", "@font-face", "url(", "<img", "<iframe"):
        assert banned not in rest.lower(), banned
    assert not re.search(r"<script[^>]*\bsrc=", page, re.I)
    # The bundle once; then one script per figure, a div per figure.
    n = len(b.charts)
    assert n >= 6
    assert page.count("<script") == 2 + n
    assert rest.count('class="plotly-graph-div"') == n
    for number in range(1, n + 1):
        assert f'<div id="brief-chart-{number}" class="plotly-graph-div"' in rest
    assert '"staticPlot": true' in rest
    # Printing: A4 pages, figures and rows unbroken, headings kept with what follows.
    assert re.search(r"@page\s*\{\s*size:\s*A4;\s*margin:", rest)
    assert re.search(r"thead\s*\{\s*display:\s*table-header-group;", rest)
    assert re.search(r"figure\.chart\s*\{[^}]*page-break-inside:\s*avoid", rest)
    assert re.search(r"tr, th, td\s*\{[^}]*page-break-inside:\s*avoid", rest)
    assert re.search(r"h1, h2, h3, figcaption[^{]*\{[^}]*page-break-after:\s*avoid", rest)
    assert re.search(r"\.keep\s*\{[^}]*page-break-inside:\s*avoid", rest)
    assert "Noto Sans CJK SC" in rest
    for chart in b.charts:
        assert chart.figure.layout.width == brief.CHART_WIDTH_PX
        assert chart.figure.layout.height <= brief.CHART_MAX_HEIGHT_PX


def test_charts_keep_room_for_labels_whatever_plotlys_default_template(conn, monkeypatch):
    """In the app Streamlit makes its own template plotly's default; that one has
    no automargin, and the brief's street names were cut off at the left edge."""
    import plotly.io as pio
    from streamlit.elements.lib.streamlit_plotly_theme import configure_streamlit_plotly_theme

    monkeypatch.setattr(pio.templates, "default", pio.templates.default)
    configure_streamlit_plotly_theme()
    assert pio.templates.default == "streamlit"
    b = _build(conn)
    for chart in b.charts:
        template = chart.figure.layout.template
        assert template.layout.yaxis.automargin is True, chart.heading
        assert template.layout.xaxis.automargin is True, chart.heading


def _cell_texts(page: str) -> list[str]:
    """Every table cell's text as a browser reads it (entities decoded); a cell
    holding a tag is left out, so a planted tag printed raw is not found."""
    return [html.unescape(text) for text in re.findall(r"<td[^>]*>([^<]*)</td>", page)]


def test_uploaded_names_are_escaped_everywhere(conn):
    conn.execute("update communities set community_name = ? where community_id = 'C02'",
                 [SCRIPT_NAME])
    conn.execute("update communities set street = ? where street = '东湖街道'", [TAG_STREET])
    b = _build(conn, F01_30)
    page = brief.render_html(b)
    n = len(b.charts)
    assert "<script>alert" not in page and "<b onmouseover" not in page
    assert page.count("<script") == 2 + n  # no script was added by a name
    # Shown in the tables, as text: each an escaped cell that reads as typed.
    cells = _cell_texts(page)
    assert SCRIPT_NAME in cells and TAG_STREET in cells
    # In the charts the street is an entity-escaped label, which plotly shows as typed.
    overview = b.overview_charts[0].figure
    assert html.escape(TAG_STREET, quote=False) in set(overview.data[0].y)
    # The dataclass keeps the real names (for Excel).
    assert SCRIPT_NAME in set(b.in_need_all["community_name"])


def test_templates_autoescape_a_planted_script_in_a_community_name(conn):
    """The page's templates escape every value: the worst community's planted
    <script> is printed as text in its table cell, and no chart's JSON can end
    its script (plotly writes `<` and `>` as \\u escapes; `script_json` keeps it so)."""
    planted = '</td></tr></table><script>window.__planted = 1</script><!--老街社区'
    conn.execute("update communities set community_name = ? where community_id = 'C02'",
                 [planted])
    conn.execute("update communities set street = ? where street = '东湖街道'",
                 ['</script><script>window.__street = 1</script>'])
    b = _build(conn)
    assert b.in_need["community_name"].iloc[0] == planted
    page = brief.render_html(b)
    escaped = ("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;window.__planted = 1"
               "&lt;/script&gt;&lt;!--老街社区")
    assert f'<tr><td class="name">{escaped}</td>' in page
    assert "window.__planted" not in _without_bundle(page).replace(escaped, "")
    assert "<!--" not in _without_bundle(page)
    # Two scripts in <head>, then one per chart, each closed by its own tag.
    bodies = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    assert len(bodies) == 2 + len(b.charts)
    for body in bodies[2:]:
        assert "<" not in body and "Plotly.newPlot(" in body
    assert "window.__street" not in "".join(bodies[:2])
    # The filter itself, for any JSON a chart might carry.
    script_json = brief.environment().filters["script_json"]
    assert "<" not in script_json('{"name": "</script><!--"}')


def test_the_template_environment_autoescapes_and_refuses_unknown_names():
    env = brief.environment()
    assert env.autoescape is True
    assert env.undefined is jinja2.StrictUndefined
    assert env.from_string("{{ v }}").render(v='<b a="1">&') == "&lt;b a=&#34;1&#34;&gt;&amp;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):  # the page, given nothing
        env.get_template("brief.html.j2").render()
    # What is printed unescaped cannot end its <script> or <style>.
    bundle = env.filters["script_js"]('t = "</SCRIPT><!--";')
    assert "</script" not in bundle.lower() and "<!--" not in bundle
    assert env.filters["css_string"]('"</style>') == '"\\"\\3c /style>"'
    # Every template of the brief parses.
    assert set(env.list_templates()) == {"brief.html.j2", "brief.css.j2", "macros.html.j2"}
    for name in env.list_templates():
        env.get_template(name)


def test_an_empty_view_still_renders(conn):
    b = _build(conn, scenarios.BASELINE, ViewFilter(streets=("没有这个街道",)))
    assert b.totals["communities"] == 0 and b.charts == [] and b.in_need.empty
    assert all(math.isnan(s.summary["met_share_pct"]) for s in b.sections)
    page = brief.render_html(b)
    assert BUNDLE not in page and "<script" not in page
    assert t("brief.in_need.none") in page


# --- The Excel sheets -----------------------------------------------------------


def test_sheets_open_in_excel_without_formula_cells(conn):
    conn.execute("update communities set community_name = ? where community_id = 'C03'",
                 [FORMULA_NAME])
    b = _build(conn, F01_30)
    book = openpyxl.load_workbook(io.BytesIO(exporting.to_excel_bytes(brief_workbook.brief_sheets(b))))
    assert book.sheetnames == ["概况", "维度达标", "指标达标", "重点关注社区", "标准差异",
                               "情景对比", "状态变化", "补齐成本"]
    formulas = [f"{ws.title}!{cell.coordinate}" for ws in book for row in ws.iter_rows()
                for cell in row if cell.data_type == "f"]
    assert formulas == []
    need = book["重点关注社区"]
    assert [c.value for c in need[1]] == ["社区编码", "社区", "街道", "类型", "未达标项",
                                          "达标率(%)", "未达标指标"]
    planted = [c for row in need.iter_rows(min_row=2) for c in row if c.value == FORMULA_NAME]
    assert len(planted) == 1 and planted[0].data_type == "s"
    assert [r[0].value for r in need.iter_rows(min_row=2)] == b.in_need_all[
        "community_id"].tolist()
    changes = book["状态变化"]
    assert [(r[0].value, r[3].value, r[5].value, r[7].value)
            for r in changes.iter_rows(min_row=2)] == [
        ("C02", "F01 每百户办公和活动用房面积", "基本达标", "未达标"),
        ("C03", "F01 每百户办公和活动用房面积", "基本达标", "未达标")]
    summary = {r[0].value: r[1].value for r in book["概况"].iter_rows(min_row=2)}
    assert summary["社区（村）数"] == 5 and summary["居民户数"] == 7200
    assert summary["数据版本"] == 7


def test_scope_limits_every_part_of_the_brief(conn):
    """A viewer limited to 东湖街道 sees only C01 and C02, in figures, lists and the comparison."""
    b = brief.build_brief(conn, PERIOD, ALL, F01_30, data_version=7, generated_at=GENERATED,
                          scope=("东湖街道",))
    assert (b.totals["communities"], b.totals["households"]) == (2, 3200)
    assert set(b.in_need_all["community_id"]) == {"C01", "C02"}
    assert b.comparison is not None and b.comparison.summary["communities"] == 2
    assert b.comparison.status_changes["community_id"].tolist() == ["C02"]
    page = brief.render_html(b)
    assert "西山镇" not in page and "山前村" not in page
    assert b.filter_text == "街道：东湖街道；社区类型：全部社区类型"


# --- Numbers as people read them ------------------------------------------------


YUAN_SCENARIO = scenarios.from_values(
    "经费提标", {"M01": (30000.0, None)}, {"space_cost_yuan_per_m2": 4500.0})


def _visible_text(page: str) -> str:
    """What a reader sees: no plotly bundle, scripts, styles or tags."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", _without_bundle(page), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


@pytest.mark.parametrize("scenario", [scenarios.BASELINE, YUAN_SCENARIO],
                         ids=["baseline", "yuan"])
def test_yuan_amounts_and_counts_are_grouped_by_thousands(conn, scenario):
    text = _visible_text(brief.render_html(_build(conn, scenario)))
    # M01's floor (25,000 元, or the scenario's 30,000) and M02's 100,000 元.
    floor = "30,000" if scenario is YUAN_SCENARIO else "25,000"
    assert f"不低于 基本 {floor} 元" in text
    assert "不低于 基本 100,000 元" in text
    # No number of four or more digits is left ungrouped, but for the years
    # (the period and the generation time).
    ungrouped = set(re.findall(r"(?<![\d,.])\d{4,}(?![\d,.])", text))
    assert ungrouped <= {"2024", "2025"}, ungrouped
    if scenario is YUAN_SCENARIO:
        assert "基本值 25,000 → 30,000" in text and "→ 4,500" in text


def test_printed_pages_are_numbered_in_the_footer(conn):
    page = brief.render_html(_build(conn))
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    rule = re.search(r"@page\s*\{(.*?)\}\s*\}", css, re.S).group(1)
    assert re.search(r"size:\s*A4;", rule)
    footer = re.search(r"@bottom-center\s*\{\s*content:\s*([^;]+);", rule).group(1)
    assert footer == '"第 " counter(page) " 页，共 " counter(pages) " 页"'
    # The wording is the string table's, so a translation numbers pages too.
    assert footer.replace('" counter(page) "', "{page}").replace(
        '" counter(pages) "', "{pages}").strip('"') == t("brief.page_number")


def test_html_and_excel_round_the_same_way(conn):
    """A changed status whose value has many decimals (C01's S02 is 45/49 =
    91.836…) reads 91.8 in the brief, and the Excel cell holds 91.8."""
    raised = scenarios.from_values("调解提标", {"S02": (92.0, None)}, {})
    b = _build(conn, raised)
    changes = b.comparison.status_changes
    row = changes[changes["indicator_id"] == "S02"].iloc[0]
    assert row["baseline_value"] == pytest.approx(4500 / 49)  # not rounded in the data
    text = _visible_text(brief.render_html(b))
    assert "91.8" in text and "91.84" not in text
    book = openpyxl.load_workbook(io.BytesIO(exporting.to_excel_bytes(brief_workbook.brief_sheets(b))))
    sheet = book["状态变化"]
    s02 = [r for r in sheet.iter_rows(min_row=2) if r[3].value.startswith("S02")]
    assert [(r[4].value, r[6].value) for r in s02] == [(91.8, 91.8)]


def _number_cells(book):
    for sheet in book:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.data_type == "n" and cell.value is not None:
                    yield sheet.title, cell


def test_excel_cells_hold_numbers_rounded_as_their_format_shows(conn):
    b = _build(conn, F01_30)
    book = openpyxl.load_workbook(io.BytesIO(exporting.to_excel_bytes(brief_workbook.brief_sheets(b))))
    summary = {r[0].value: r[1] for r in book["概况"].iter_rows(min_row=2)}
    # Counts are numbers shown grouped; the rates are numbers shown as 58.8%.
    households = summary[t("overview.kpi.households")]
    assert (households.value, households.number_format) == (7200, "#,##0")
    for section in b.sections:
        cell = summary[t("brief.headline.dimension", dimension=section.label)]
        assert cell.data_type == "n" and cell.number_format == exporting.PERCENT_FORMAT
        share = section.summary["met_share_pct"]
        assert cell.value == pytest.approx(math.floor(share * 10 + 0.5) / 10, abs=1e-9)
    # 8 of 17 rated facility pairs once F01's floor is 30: 47.05… % → 47.1.
    facilities = summary[t("brief.headline.dimension", dimension=t("dimension.facilities"))]
    assert facilities.value == 47.1
    dimensions = book["维度达标"]
    assert dimensions["H1"].value == "达标率(%)"
    assert (dimensions["H2"].value, dimensions["H2"].number_format) == (47.1, "0.0")
    # Every number holds no more decimals than its cell shows (General: at
    # most one, the catalogue's most).
    for title, cell in _number_cells(book):
        shown = exporting.format_decimals(cell.number_format) \
            if cell.number_format != "General" else 1
        assert cell.value == pytest.approx(round(cell.value, shown), abs=1e-9), (
            title, cell.coordinate, cell.value, cell.number_format)
