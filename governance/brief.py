"""The meeting brief (会议简报): the current view summarised for a printed page.

`build_brief` computes everything once for a view (filter, period, scope) and a
scenario (the standards in force); `render_html` turns it into ONE
self-contained HTML file that opens offline and prints on A4 (plotly.js is
embedded inline exactly once; no outside addresses, fonts or images);
`brief_sheets` (governance/brief_workbook.py) gives the same tables, Chinese
headers, for `exporting.to_excel_bytes`.

The page is laid out by the Jinja templates in governance/page_templates/brief/
(the page, its print CSS, macros for tables and charts), rendered with
autoescape: every value, and every name that came from an upload, is escaped
by Jinja as it is printed. Only plotly's serialised figures and plotly.js are
printed as they are, inside <script>, with nothing in them able to end the
script. In the charts the names are made inert for plotly's pseudo-HTML
labels (`presentation.plot_safe`; plotly shows `&lt;` as `<`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline
from markupsafe import Markup

from governance import funding, indicators, meetings, presentation, safety, scenarios
from governance.catalogue import DIMENSIONS, STATUSES, Standards
from governance.contract import COMMUNITY_TYPE
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.scenarios import Comparison, Scenario
from governance.text import t

IN_NEED_SHOWN = 15
STATUS_CHANGES_SHOWN = 30
# Rows of each follow-up table printed (all of them are in the Excel).
FOLLOW_UP_SHOWN = 40
GAPS_SHOWN = 15
SAFETY_TREND_INDICATOR = "S06"
# A4 is 210 mm wide; with 14 mm side margins 182 mm (≈ 688 CSS px) are printable.
PAGE_MARGIN_MM = (14, 14, 16, 14)  # top, right, bottom, left
CHART_WIDTH_PX = 660
# 297 mm − margins ≈ 267 mm ≈ 1,009 px: a chart plus its heading and note must fit.
CHART_MAX_HEIGHT_PX = 820
PLOT_CONFIG = {"staticPlot": True, "displayModeBar": False, "responsive": False}
# The look the brief was proofread in (its axes make room for long labels).
BRIEF_TEMPLATE = "plotly"


@dataclass
class BriefChart:
    """One figure with the heading printed above it and a note below it."""

    heading: str
    figure: go.Figure
    note: str = ""


@dataclass
class DimensionSection:
    """One dimension (设施/经费/平安/队伍) under the standards in force.

    summary: rated, met, partly_met, not_met, no_data, not_rated, met_share_pct.
    indicators: one row per indicator of the dimension with values — indicator_id,
      name, unit, standard (wording of the threshold in force), one count column
      per status, rated, met_share_pct.
    """

    dimension: str
    label: str
    summary: dict
    indicators: pd.DataFrame
    charts: list[BriefChart] = field(default_factory=list)


@dataclass
class Brief:
    """Everything the brief shows; render with `render_html`, export with
    `brief_workbook.brief_sheets`.

    totals: communities, households, population, streets (district_totals).
    dimensions: indicators.dimension_summary of the values under the scenario.
    in_need_all: every community with an unmet indicator, worst first —
      community_id, community_name, street, community_type (label),
      not_met_count, met_share_pct, unmet (indicator names, joined);
      `in_need` is its first IN_NEED_SHOWN rows.
    comparison: scenarios.compare against the baseline; None for the baseline.
    standard_changes: one line per threshold or setting the scenario changes.
    follow_up: the last meeting on record against this data (meetings.follow_up),
      printed first as 上次会议以来; None when no meeting is on record.
    """

    title: str
    generated_at: datetime
    data_version: int
    period: Period
    view_filter: ViewFilter
    scenario: Scenario
    filter_text: str
    period_text: str
    scenario_name: str
    totals: dict
    dimensions: pd.DataFrame
    in_need_all: pd.DataFrame
    overview_charts: list[BriefChart]
    sections: list[DimensionSection]
    standard_changes: list[str]
    comparison: Comparison | None
    scenario_charts: list[BriefChart] = field(default_factory=list)
    follow_up: meetings.FollowUp | None = None

    @property
    def is_baseline(self) -> bool:
        return self.comparison is None

    @property
    def in_need(self) -> pd.DataFrame:
        return self.in_need_all.head(IN_NEED_SHOWN)

    @property
    def charts(self) -> list[BriefChart]:
        """Every chart in the order the brief prints them."""
        out = list(self.overview_charts)
        for section in self.sections:
            out += section.charts
        return out + list(self.scenario_charts)


# ---------------------------------------------------------------------------
# Building


def describe_filter(view_filter: ViewFilter, scope: Scope = ALL_STREETS) -> str:
    """`全区（…）`, or the streets (chosen, within the viewer's scope) and types in words."""
    chosen = list(view_filter.streets)
    if scope is not ALL_STREETS:
        visible = set(scope)
        chosen = [s for s in chosen if s in visible] if chosen else sorted(visible)
    if not chosen and scope is ALL_STREETS and not view_filter.community_types:
        return t("brief.filter.all")
    separator = t("brief.list_separator")
    if chosen:
        streets = separator.join(chosen)
    else:  # every street, or none visible to a viewer whose scope is empty
        streets = t("brief.filter.all_streets") if scope is ALL_STREETS else t("filter.no_data")
    types = (separator.join(COMMUNITY_TYPE.label_of(c) for c in view_filter.community_types)
             if view_filter.community_types else t("brief.filter.all_types"))
    return t("brief.clause_separator").join([
        t("brief.filter.streets", streets=streets), t("brief.filter.types", types=types),
    ])


def _title(communities: pd.DataFrame) -> str:
    districts = communities["district"].dropna().unique() if "district" in communities else []
    if len(districts) == 1 and str(districts[0]).strip():
        return t("brief.title.district", district=str(districts[0]).strip())
    return t("brief.title")


def _fit(figure: go.Figure) -> go.Figure:
    """A copy sized for the printable width, its title left to the HTML heading.

    The template is named, not left to plotly's process default: inside the
    app Streamlit makes its own template the default, and that one has no
    automargin, so long street names were cut off at the left edge."""
    fitted = go.Figure(figure)
    height = fitted.layout.height or 360
    fitted.update_layout(
        template=BRIEF_TEMPLATE, title_text="", width=CHART_WIDTH_PX,
        height=min(height, CHART_MAX_HEIGHT_PX), autosize=False, margin={"t": 16},
    )
    return fitted


def _apart(figure: go.Figure) -> go.Figure:
    """The floor's label left of its line, the target's right of its own, so
    close (or equal) bounds do not print their labels over each other."""
    annotations = list(figure.layout.annotations)
    if len(annotations) >= 2:
        annotations[0].update(xanchor="right")
        for annotation in annotations[1:]:
            annotation.update(xanchor="left")
        figure.layout.annotations = annotations
    return figure


def _share(good: int, rated: int) -> float:
    return good * 100 / rated if rated else math.nan


def _in_need(matrix: pd.DataFrame, standards: Standards) -> pd.DataFrame:
    """Communities with an unmet indicator: most unmet first, then lowest met share."""
    columns = ["community_id", "community_name", "street", "community_type",
               "not_met_count", "met_share_pct", "unmet"]
    if matrix.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    ids = [item.id for item in standards.indicators if f"{item.id}_status" in matrix]
    names = {item.id: item.name for item in standards.indicators}
    needy = matrix[matrix["not_met_count"] > 0].sort_values(
        ["not_met_count", "met_share_pct", "street", "community_id"],
        ascending=[False, True, True, True], na_position="last", kind="stable",
    ).copy()
    separator = t("brief.list_separator")
    needy["unmet"] = [
        separator.join(names[i] for i in ids if row[f"{i}_status"] == "not_met")
        for row in needy.to_dict("records")
    ]
    return presentation.with_type_labels(needy)[columns].reset_index(drop=True)


def _indicator_table(values: pd.DataFrame, standards: Standards, dimension: str) -> pd.DataFrame:
    counts = (values.groupby(["indicator_id", "status"]).size() if len(values)
              else pd.Series(dtype="int64"))
    present = set(values["indicator_id"]) if len(values) else set()
    rows = []
    for item in standards.indicators:
        if item.dimension != dimension or item.id not in present:
            continue
        row: dict[str, Any] = {
            "indicator_id": item.id, "name": item.name, "unit": item.unit,
            "standard": _standard_text(item.id, standards),
        }
        for status in STATUSES:
            row[status] = int(counts.get((item.id, status), 0))
        row["rated"] = row["met"] + row["partly_met"] + row["not_met"]
        row["met_share_pct"] = _share(row["met"] + row["partly_met"], row["rated"])
        rows.append(row)
    columns = ["indicator_id", "name", "unit", "standard", *STATUSES, "rated", "met_share_pct"]
    return pd.DataFrame(rows, columns=columns)


def _standard_text(indicator_id: str, standards: Standards) -> str:
    """The standard in force in words, with the settings that shape it (F02's
    rural minimum, O01's staffing by households); an indicator whose standard
    has neither floor nor target otherwise shows its formula."""
    item = standards.indicator(indicator_id)
    settings = standards.settings
    if indicator_id == "O01":
        return t("brief.standard.o01",
                 small_max=f"{float(settings['committee_small_max_households']):,.0f}",
                 small=f"{float(settings['committee_members_small']):g}",
                 medium_max=f"{float(settings['committee_medium_max_households']):,.0f}",
                 medium=f"{float(settings['committee_members_medium']):g}",
                 large=f"{float(settings['committee_members_large']):g}")
    bounds = presentation.threshold_bounds(indicator_id, standards)
    if indicator_id == "F02":
        return t("brief.standard.rural", bounds=bounds,
                 value=presentation.bound_text(settings["rural_office_area_floor_m2"]),
                 unit=item.unit)
    if item.has_standard and item.floor is None and item.target is None:
        return presentation.readable_formula(item.formula)
    return bounds


def _coverage_streets(values: pd.DataFrame) -> pd.DataFrame:
    """F03 households covered / counted, summed per street (communities with data)."""
    rows = values[(values["indicator_id"] == "F03") & (values["status"] != "no_data")
                  & (values["denominator"] > 0)]
    streets = presentation.street_coverage(rows, covered="numerator", total="denominator")
    for column in ("households_covered", "households_total"):
        streets[column] = streets[column].round().astype("int64")
    return streets


def _dimension_charts(
    conn: duckdb.DuckDBPyConnection, dimension: str, label: str, values: pd.DataFrame,
    communities: pd.DataFrame, period: Period, view_filter: ViewFilter,
    standards: Standards, scope: Scope,
) -> list[BriefChart]:
    own = values[values["dimension"] == dimension]
    if own.empty or not own["status"].isin(indicators.RATED_STATUSES).any():
        return []
    charts = [BriefChart(
        t("brief.dimension.by_street", dimension=label),
        presentation.street_status_bar(indicators.street_status_counts(own, communities)),
        t("brief.dimension.by_street.note", dimension=label),
    )]
    if dimension == "facilities":
        streets = _coverage_streets(own)
        if len(streets):
            charts.append(BriefChart(t("brief.chart.coverage"),
                                     presentation.coverage_by_street_bar(streets),
                                     t("brief.chart.coverage.note")))
        if own.loc[own["indicator_id"] == "F01", "value"].notna().any():
            histogram = presentation.indicator_histogram(own, "F01", "", standards=standards)
            charts.append(BriefChart(t("brief.chart.f01"), _apart(histogram),
                                     t("brief.chart.f01.note")))
    elif dimension == "funding" and period.year is not None:
        lines = funding.category_source(conn, period, view_filter, standards, scope)
        by_street = lines.groupby(["street", "category"], as_index=False)["amount_yuan"].sum()
        if len(by_street):
            charts.append(BriefChart(t("brief.chart.funding", year=period.year),
                                     presentation.funding_by_street_bar(by_street),
                                     t("brief.chart.funding.note")))
    elif dimension == "safety" and period.month_from and period.month_to:
        monthly = safety.monthly_indicators(conn, period, view_filter, scope)
        series = safety.trend(monthly, SAFETY_TREND_INDICATOR)
        if series["value"].notna().any():
            indicator = presentation.indicator_column_label(SAFETY_TREND_INDICATOR)
            charts.append(BriefChart(
                t("brief.chart.safety_trend", indicator=indicator),
                presentation.safety_trend_chart(series, SAFETY_TREND_INDICATOR,
                                                standards=standards),
                t("brief.chart.safety_trend.note")))
    return [BriefChart(c.heading, _fit(c.figure), c.note) for c in charts]


def _dimension_section(
    conn: duckdb.DuckDBPyConnection, dimension: str, summary: pd.DataFrame,
    values: pd.DataFrame, communities: pd.DataFrame,
    period: Period, view_filter: ViewFilter, standards: Standards, scope: Scope,
) -> DimensionSection:
    label = t(f"dimension.{dimension}")
    row = summary.set_index("dimension").loc[dimension]
    figures = {key: row[key] for key in ("rated", "met", "partly_met", "not_met", "no_data",
                                         "not_rated")}
    figures = {key: int(value) for key, value in figures.items()}
    figures["met_share_pct"] = float(row["met_share_pct"])
    return DimensionSection(
        dimension=dimension,
        label=label,
        summary=figures,
        indicators=_indicator_table(values[values["dimension"] == dimension], standards,
                                    dimension),
        charts=_dimension_charts(conn, dimension, label, values, communities,
                                 period, view_filter, standards, scope),
    )


def build_brief(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    view_filter: ViewFilter,
    scenario: Scenario,
    *,
    data_version: int,
    generated_at: datetime,
    scope: Scope = ALL_STREETS,
    since_last_meeting: bool = True,
) -> Brief:
    """The brief for one view under one scenario (the baseline shows the policy defaults).

    When a meeting is on record (and `since_last_meeting`), the brief opens
    with the last one's follow-up against this data, period and scenario."""
    standards = scenario.standards()
    values = indicators.indicator_values(conn, period, view_filter, standards, scope).to_pandas()
    communities = indicators.communities_in_scope(conn, view_filter, scope).to_pandas()
    totals = indicators.district_totals(conn, view_filter, scope)
    summary = indicators.dimension_summary(values)
    matrix = indicators.status_matrix(values, communities)

    overview_charts = []
    if len(communities) and values["status"].isin(indicators.RATED_STATUSES).any():
        counts = indicators.street_status_counts(values, communities)
        overview_charts.append(BriefChart(
            t("brief.overview.by_street"), _fit(presentation.street_status_bar(counts)),
            t("brief.overview.by_street.note")))
    sections = [
        _dimension_section(conn, dimension, summary, values, communities,
                           period, view_filter, standards, scope)
        for dimension in DIMENSIONS
    ]

    comparison = None
    scenario_charts = []
    if not scenario.is_baseline:
        comparison = scenarios.compare(conn, period, scenario, view_filter, scope)
        moved = _moved_totals(comparison.totals)
        if len(moved):
            scenario_charts.append(BriefChart(
                t("brief.chart.scenario"), _fit(presentation.scenario_met_bar(moved)),
                t("brief.chart.scenario.note")))

    return Brief(
        title=_title(communities),
        generated_at=generated_at,
        data_version=int(data_version),
        period=period,
        view_filter=view_filter,
        scenario=scenario,
        filter_text=describe_filter(view_filter, scope),
        period_text=presentation.describe_period(period),
        scenario_name=scenarios.scenario_label(scenario),
        totals=totals,
        dimensions=summary,
        in_need_all=_in_need(matrix, standards),
        overview_charts=overview_charts,
        sections=sections,
        standard_changes=scenarios.describe(scenario),
        comparison=comparison,
        scenario_charts=scenario_charts,
        follow_up=(meetings.latest_follow_up(conn, period, scenario, scope)
                   if since_last_meeting else None),
    )


def _moved_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """Indicators whose met or not-met community count differs under the scenario."""
    if totals.empty:
        return totals
    moved = (totals["change"] != 0) | (totals["not_met_scenario"] != totals["not_met_baseline"])
    return totals[moved].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Formatting (the page's numbers; the workbook keeps numbers as numbers)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _half_up(value: Any, decimals: int) -> float:
    """Rounded as the tables and the Excel sheets round (四舍五入)."""
    return float(presentation.round_half_up(pd.Series([float(value)]), decimals).iloc[0])


def _grouped(value: Any, decimals: int = 0) -> str:
    """Thousands grouped (25,000), half up to `decimals`; "—" when missing."""
    return "—" if _missing(value) else f"{_half_up(value, decimals):,.{decimals}f}"


def _int(value: Any) -> str:
    return _grouped(value)


def _pct(value: Any) -> str:
    return "—" if _missing(value) else _grouped(value, 1) + "%"


def _value(value: Any, indicator_id: str) -> str:
    """An indicator value to its catalogue decimals, thousands grouped."""
    return _grouped(value, presentation.indicator_number_format(indicator_id).decimals)


def _one_decimal(value: Any) -> str:
    return _grouped(value, 1)


# ---------------------------------------------------------------------------
# HTML: page_templates/brief/*.j2 lay the page out; here the values it shows.

TEMPLATES = Path(__file__).parent / "page_templates" / "brief"


def _script_json(serialised: str) -> Markup:
    """Already-serialised JSON (plotly's figure, our chart config) for inside a
    <script>: every `<` and `>` as a \\u escape (as plotly writes them already),
    so no `</script>` or `<!--` in a value can end or bend the script. JSON has
    these characters only inside strings, where the escape reads the same."""
    return Markup(serialised.replace("<", "\\u003c").replace(">", "\\u003e"))


def _script_js(code: str) -> Markup:
    """A trusted script (plotly.js) inline: `</script` and `<!--` — none in
    today's bundle — written `<\\/script` and `<\\!--`, as the same text inside
    the script's strings, so the script cannot end early."""
    return Markup(re.sub(r"<(?=/script)|<(?=!--)", "<\\\\", code, flags=re.IGNORECASE))


def _css_string(text: str) -> Markup:
    """Text as a quoted CSS string: `\\` and `"` escaped, `<` as `\\3c ` (no
    `</style>`), line breaks as `\\a `."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
               .replace("\n", "\\a "))
    return Markup(f'"{escaped}"')


@cache
def environment() -> jinja2.Environment:
    """The brief's templates: every printed value autoescaped, an unknown name
    an error (StrictUndefined) rather than a silent blank."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(count=_int, pct=_pct, script_json=_script_json, script_js=_script_js,
                       css_string=_css_string)
    env.globals.update(t=t, section_title=_section_title)
    return env


def _section_title(number: int, title: str) -> str:
    numerals = t("brief.numerals")
    n = numerals[number - 1] if number <= len(numerals) else str(number)
    return t("brief.section.numbered", n=n, title=title)


@dataclass(frozen=True)
class _Cell:
    """A cell's text and its CSS classes (a status colour, `name`, `num`)."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class _Table:
    """What page_templates/brief/macros.html.j2 `table` prints: (label, numeric) per
    column, then rows of cells."""

    css: str
    headers: list[tuple[str, bool]]
    rows: list[list[_Cell]]


def _cell(value: Any, css: str = "") -> _Cell:
    return value if isinstance(value, _Cell) else _Cell(str(value), css)


def _table(headers: list[tuple[str, bool]], rows: list[list[Any]], css: str = "") -> _Table:
    """A table of `rows` (values or `_Cell`s); numeric columns align right."""
    printed = []
    for row in rows:
        cells = []
        for (_, numeric), value in zip(headers, row, strict=True):
            cell = _cell(value)
            classes = " ".join(c for c in ("num" if numeric else "", cell.css) if c)
            cells.append(_Cell(cell.text, classes))
        printed.append(cells)
    return _Table(css, headers, printed)


@dataclass(frozen=True)
class _Figure:
    """What the `chart` macro prints: a numbered heading and note around the
    plot, drawn by plotly.js from the figure's JSON."""

    number: int
    heading: str
    note: str
    div_id: str
    width: str
    height: str
    data: str
    layout: str
    config: str


def _css_size(value: Any, default: str) -> str:
    return f"{value}px" if isinstance(value, int | float) else default


def _figure(chart: BriefChart, number: int) -> _Figure:
    """The figure serialised by plotly as `plotly.io.to_html` would (its JSON
    escapes `<`, `>` and `/`), sized by its layout."""
    spec = chart.figure.to_dict()
    layout = spec.get("layout", {})
    label = t("brief.chart.label", n=number)
    return _Figure(
        number=number,
        heading=t("brief.chart.heading", label=label, heading=chart.heading),
        note=t("brief.chart.note", label=label, note=chart.note),
        div_id=f"brief-chart-{number}",
        width=_css_size(layout.get("width"), f"{CHART_WIDTH_PX}px"),
        height=_css_size(layout.get("height"), "100%"),
        data=pio.json.to_json_plotly(spec.get("data", [])),
        layout=pio.json.to_json_plotly(layout),
        config=json.dumps(PLOT_CONFIG),
    )


def _status_css(status: Any) -> str:
    return f"s-{status}" if isinstance(status, str) else ""


def _dimension_rows(dimensions: pd.DataFrame) -> list[list[Any]]:
    return [
        [t(f"dimension.{row['dimension']}"), _int(row["rated"]), _int(row["met"]),
         _int(row["partly_met"]), _int(row["not_met"]), _int(row["no_data"]),
         _pct(row["met_share_pct"])]
        for row in dimensions.to_dict("records")
    ]


def _dimension_headers() -> list[tuple[str, bool]]:
    return [(t("brief.column.dimension"), False), (t("indicators.column.rated"), True),
            (t("status.met"), True), (t("status.partly_met"), True),
            (t("status.not_met"), True), (t("status.no_data"), True),
            (t("indicators.column.met_share_pct"), True)]


def _in_need_table(in_need: pd.DataFrame) -> _Table:
    headers = [(t("overview.column.community"), False), (t("overview.column.street"), False),
               (t("overview.column.type"), False), (t("overview.column.not_met"), True),
               (t("overview.column.met_share"), True), (t("brief.column.unmet"), False)]
    rows = [
        [_cell(row["community_name"], "name"), _cell(row["street"], "name"),
         _cell(row["community_type"], "name"),
         _cell(_int(row["not_met_count"]), "s-not_met"), _one_decimal(row["met_share_pct"]),
         row["unmet"]]
        for row in in_need.to_dict("records")
    ]
    return _table(headers, rows, "in-need")


def _indicator_rows(table: pd.DataFrame) -> list[list[Any]]:
    rows = []
    for row in table.to_dict("records"):
        rated = row["rated"] > 0 or row["not_rated"] == 0
        rows.append([
            f"{row['indicator_id']} {row['name']}", row["unit"], row["standard"],
            _int(row["met"]) if rated else "—", _int(row["partly_met"]) if rated else "—",
            _cell(_int(row["not_met"]) if rated else "—",
                  "s-not_met" if row["not_met"] else ""),
            _int(row["no_data"]), _pct(row["met_share_pct"]),
        ])
    return rows


def _indicator_headers() -> list[tuple[str, bool]]:
    return [(t("brief.column.indicator"), False), (t("brief.column.unit"), False),
            (t("brief.column.standard"), False), (t("status.met"), True),
            (t("status.partly_met"), True), (t("status.not_met"), True),
            (t("status.no_data"), True), (t("indicators.column.met_share_pct"), True)]


def _totals_rows(totals: pd.DataFrame) -> list[list[Any]]:
    return [
        [presentation.indicator_column_label(row["indicator_id"]), _int(row["met_baseline"]),
         _int(row["met_scenario"]), f"{int(row['change']):+d}",
         _int(row["not_met_baseline"]), _int(row["not_met_scenario"])]
        for row in totals.to_dict("records")
    ]


def _totals_headers() -> list[tuple[str, bool]]:
    return [(t("brief.column.indicator"), False), (t("brief.column.met_baseline"), True),
            (t("brief.column.met_scenario"), True), (t("brief.column.change"), True),
            (t("brief.column.not_met_baseline"), True),
            (t("brief.column.not_met_scenario"), True)]


def _change_rows(changes: pd.DataFrame) -> list[list[Any]]:
    status = presentation.status_word
    return [
        [_cell(row["community_name"], "name"), _cell(row["street"], "name"),
         presentation.indicator_column_label(row["indicator_id"]),
         _value(row["baseline_value"], row["indicator_id"]),
         _cell(status(row["baseline_status"]), _status_css(row["baseline_status"])),
         _value(row["scenario_value"], row["indicator_id"]),
         _cell(status(row["scenario_status"]), _status_css(row["scenario_status"]))]
        for row in changes.to_dict("records")
    ]


def _change_headers() -> list[tuple[str, bool]]:
    return [(t("overview.column.community"), False), (t("overview.column.street"), False),
            (t("brief.column.indicator"), False), (t("brief.column.baseline_value"), True),
            (t("brief.column.baseline_status"), False),
            (t("brief.column.scenario_value"), True),
            (t("brief.column.scenario_status"), False)]


# A gaps row's figures as the page prints them (the workbook adds the funding
# gap's two parts).
GAP_COLUMNS = ("households", "office_area_m2", "required_area_m2", "space_gap_m2",
               "space_cost_yuan", "funding_gap_yuan", "total_cost_yuan")


def _gap_rows(gaps: pd.DataFrame) -> list[list[Any]]:
    return [
        [_cell(row["community_name"], "name"), _cell(row["street"], "name"),
         *(_int(row[c]) for c in GAP_COLUMNS)]
        for row in gaps.to_dict("records")
    ]


def _gap_headers() -> list[tuple[str, bool]]:
    return ([(t("overview.column.community"), False), (t("overview.column.street"), False)]
            + [(t(f"brief.column.{c}"), True) for c in GAP_COLUMNS])


def _scenario_view(comparison: Comparison, figures: list[_Figure]) -> dict[str, Any]:
    changes, gaps = comparison.status_changes, comparison.gaps
    return {
        "summary": comparison.summary,
        "totals": _table(_totals_headers(), _totals_rows(_moved_totals(comparison.totals)),
                         "totals"),
        "figures": figures,
        "changes": _table(_change_headers(), _change_rows(changes.head(STATUS_CHANGES_SHOWN)),
                          "changes"),
        "changes_total": len(changes),
        "gaps": _table(_gap_headers(), _gap_rows(gaps.head(GAPS_SHOWN)), "gaps"),
        "gaps_total": len(gaps),
    }


def _follow_up_rows(frame: pd.DataFrame) -> list[list[Any]]:
    status = presentation.status_word
    return [
        [_cell(row["community_name"], "name"), _cell(row["street"], "name"),
         presentation.indicator_column_label(row["indicator_id"]),
         _value(row["value_then"], row["indicator_id"]),
         _cell(status(row["status_then"]), _status_css(row["status_then"])),
         _value(row["value_now"], row["indicator_id"]),
         _cell(status(row["status_now"]), _status_css(row["status_now"])),
         _cell(meetings.outcome_word(row["outcome"]), f"o-{row['outcome']}"),
         row["reason"]]
        for row in frame.to_dict("records")
    ]


def _follow_up_headers() -> list[tuple[str, bool]]:
    label = meetings.column_label
    return [(label("community_name"), False), (label("street"), False),
            (label("indicator_id"), False), (label("value_then"), True),
            (label("status_then"), False), (label("value_now"), True),
            (label("status_now"), False), (label("outcome"), False),
            (label("reason"), False)]


def _follow_up_districts(frame: pd.DataFrame) -> _Table:
    label = meetings.column_label
    headers = [(label("dimension"), False), (label("rated_then"), True),
               (label("met_share_then"), True), (label("rated_now"), True),
               (label("met_share_now"), True), (label("change"), True)]
    rows = [
        [t(f"dimension.{row['dimension']}"), _int(row["rated_then"]),
         _pct(row["met_share_then"]), _int(row["rated_now"]), _pct(row["met_share_now"]),
         "—" if _missing(row["change"]) else f"{_half_up(row['change'], 1):+.1f}"]
        for row in frame.to_dict("records")
    ]
    return _table(headers, rows, "since-districts")


def _follow_up_view(result: meetings.FollowUp) -> dict[str, Any]:
    def more(frame: pd.DataFrame) -> str:
        left = len(frame) - FOLLOW_UP_SHOWN
        return t("brief.since.more", more=_int(left)) if left > 0 else ""

    return {
        "lines": meetings.summary_lines(result),
        "flagged": _table(_follow_up_headers(),
                        _follow_up_rows(result.items.head(FOLLOW_UP_SHOWN)), "since-items"),
        "flagged_more": more(result.items),
        "newly": _table(_follow_up_headers(),
                        _follow_up_rows(result.newly_short.head(FOLLOW_UP_SHOWN)),
                        "since-newly"),
        "newly_more": more(result.newly_short),
        "districts": _follow_up_districts(result.districts),
    }


def page_number_parts() -> list[tuple[bool, str]]:
    """The printed footer from the string table, as (is a counter, text) parts:
    "第 ", page, " 页，共 ", pages, " 页"."""
    marker = "\0"
    pattern = t("brief.page_number", page=f"{marker}page{marker}",
                pages=f"{marker}pages{marker}")
    return [(n % 2 == 1, piece) for n, piece in enumerate(pattern.split(marker)) if piece]


def render_html(brief: Brief) -> str:
    """One self-contained HTML file: plotly.js inline once, static charts, A4 print CSS."""
    figures = {id(chart): _figure(chart, number)
               for number, chart in enumerate(brief.charts, start=1)}

    def placed(charts: list[BriefChart]) -> list[_Figure]:
        return [figures[id(chart)] for chart in charts]

    top, right, bottom, left = PAGE_MARGIN_MM
    page = environment().get_template("brief.html.j2")
    return page.render(
        brief=brief,
        meta=[
            (t("brief.meta.scope"), brief.filter_text),
            (t("brief.meta.period"), brief.period_text),
            (t("brief.meta.scenario"), brief.scenario_name),
            (t("brief.meta.data_version"),
             t("brief.meta.data_version.value", version=brief.data_version)),
            (t("brief.meta.generated_at"), f"{brief.generated_at:%Y-%m-%d %H:%M}"),
        ],
        dimensions=_table(_dimension_headers(), _dimension_rows(brief.dimensions),
                          "dimensions"),
        overview_figures=placed(brief.overview_charts),
        in_need=_in_need_table(brief.in_need),
        in_need_shown=IN_NEED_SHOWN,
        in_need_more=len(brief.in_need_all) - len(brief.in_need),
        sections=[{"section": section,
                   "table": _table(_indicator_headers(), _indicator_rows(section.indicators),
                                   "indicators"),
                   "figures": placed(section.charts)}
                  for section in brief.sections],
        # Sections: (一 上次会议以来,) overview, communities in need, the dimensions.
        offset=0 if brief.follow_up is None else 1,
        scenario_number=3 + len(brief.sections) + (0 if brief.follow_up is None else 1),
        since=None if brief.follow_up is None else _follow_up_view(brief.follow_up),
        scenario=(None if brief.comparison is None
                  else _scenario_view(brief.comparison, placed(brief.scenario_charts))),
        plotly_js=plotly.offline.get_plotlyjs() if figures else "",
        margin={"top": top, "right": right, "bottom": bottom, "left": left},
        body_width_mm=210 - left - right,
        chart_width_px=CHART_WIDTH_PX,
        font_family=presentation.FONT_FAMILY,
        status_fills=presentation.STATUS_FILLS,
        page_number_parts=page_number_parts(),
    )
