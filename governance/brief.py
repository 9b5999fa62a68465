"""The meeting brief (会议简报): the current view summarised for a printed page.

`build_brief` computes everything once for a view (filter, period, scope) and a
scenario (the standards in force); `render_html` turns it into ONE
self-contained HTML file that opens offline and prints on A4 (plotly.js is
embedded inline exactly once; no outside addresses, fonts or images);
`brief_sheets` gives the same tables, Chinese headers, for
`exporting.to_excel_bytes`.

Every value that came from an upload (community and street names) is escaped
with `html.escape` where it enters the HTML, and made inert for plotly's
pseudo-HTML labels (plotly shows `&lt;` as `<`) where it enters a chart.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from governance import exporting, funding, indicators, presentation, safety, scenarios
from governance.catalogue import DIMENSIONS, STATUSES, Standards
from governance.contract import COMMUNITY_TYPE
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.scenarios import Comparison, Scenario
from governance.text import t

IN_NEED_SHOWN = 15
STATUS_CHANGES_SHOWN = 30
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
    `brief_sheets`.

    totals: communities, households, population, streets (district_totals).
    dimensions: indicators.dimension_summary of the values under the scenario.
    in_need_all: every community with an unmet indicator, worst first —
      community_id, community_name, street, community_type (label),
      not_met_count, met_share_pct, unmet (indicator names, joined);
      `in_need` is its first IN_NEED_SHOWN rows.
    comparison: scenarios.compare against the baseline; None for the baseline.
    standard_changes: one line per threshold or setting the scenario changes.
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


def describe_period(period: Period) -> str:
    missing = t("filter.no_data")

    def month(value: date | None) -> str:
        return value.strftime("%Y-%m") if value else missing

    return t("brief.period", year=period.year or missing, month_from=month(period.month_from),
             month_to=month(period.month_to))


def scenario_label(scenario: Scenario) -> str:
    if scenario.is_baseline:
        return t("brief.scenario.baseline")
    return t("brief.scenario.named", name=scenario.name or t("brief.scenario.unnamed"))


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
    needy["community_type"] = needy["community_type"].map(
        lambda c: COMMUNITY_TYPE.label_of(c) if isinstance(c, str) else c)
    return needy[columns].reset_index(drop=True)


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
    streets = rows.groupby("street", as_index=False).agg(
        households_covered=("numerator", "sum"), households_total=("denominator", "sum"))
    streets["coverage_pct"] = streets["households_covered"] * 100 / streets["households_total"]
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
) -> Brief:
    """The brief for one view under one scenario (the baseline shows the policy defaults)."""
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
        period_text=describe_period(period),
        scenario_name=scenario_label(scenario),
        totals=totals,
        dimensions=summary,
        in_need_all=_in_need(matrix, standards),
        overview_charts=overview_charts,
        sections=sections,
        standard_changes=scenarios.describe(scenario),
        comparison=comparison,
        scenario_charts=scenario_charts,
    )


def _moved_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """Indicators whose met or not-met community count differs under the scenario."""
    if totals.empty:
        return totals
    moved = (totals["change"] != 0) | (totals["not_met_scenario"] != totals["not_met_baseline"])
    return totals[moved].reset_index(drop=True)


# ---------------------------------------------------------------------------
# Formatting


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


def _status(value: Any) -> str:
    return t(f"status.{value}") if isinstance(value, str) else ""


def _indicator_label(indicator_id: str) -> str:
    return presentation.indicator_column_label(indicator_id)


# ---------------------------------------------------------------------------
# HTML


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class _Cell:
    text: str
    css: str = ""


def _cell(value: Any, css: str = "") -> _Cell:
    return value if isinstance(value, _Cell) else _Cell(str(value), css)


def _table(headers: list[tuple[str, bool]], rows: list[list[Any]], css: str = "") -> str:
    """A table with a repeating header row; (label, numeric) per column."""
    head = "".join(
        f'<th class="{"num" if numeric else ""}">{_e(label)}</th>' for label, numeric in headers)
    body = []
    for row in rows:
        cells = []
        for (_, numeric), value in zip(headers, row, strict=True):
            cell = _cell(value)
            classes = " ".join(c for c in ("num" if numeric else "", cell.css) if c)
            cells.append(f'<td class="{classes}">{_e(cell.text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{css}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _paragraph(text: str, css: str = "") -> str:
    return f'<p class="{css}">{_e(text)}</p>' if css else f"<p>{_e(text)}</p>"


def _section_title(number: int, title: str) -> str:
    numerals = t("brief.numerals")
    n = numerals[number - 1] if number <= len(numerals) else str(number)
    return t("brief.section.numbered", n=n, title=title)


def _chart_html(chart: BriefChart, number: int) -> str:
    plot = pio.to_html(
        chart.figure, full_html=False, include_plotlyjs=False, config=PLOT_CONFIG,
        div_id=f"brief-chart-{number}", default_width=f"{CHART_WIDTH_PX}px",
    )
    label = t("brief.chart.label", n=number)
    return (
        f'<figure class="chart" id="figure-{number}">'
        f'<figcaption class="chart-heading">'
        f'{_e(t("brief.chart.heading", label=label, heading=chart.heading))}</figcaption>'
        f'<div class="plot">{plot}</div>'
        f'<p class="note chart-note">{_e(t("brief.chart.note", label=label, note=chart.note))}</p>'
        "</figure>"
    )


def _status_css(status: Any) -> str:
    return f"s-{status}" if isinstance(status, str) else ""


def _headline_html(brief: Brief) -> str:
    cards = [
        (t("overview.kpi.communities"), _int(brief.totals.get("communities")), ""),
        (t("overview.kpi.households"), _int(brief.totals.get("households")), ""),
        (t("overview.kpi.population"), _int(brief.totals.get("population")), ""),
    ]
    for section in brief.sections:
        cards.append((
            t("brief.headline.dimension", dimension=section.label),
            _pct(section.summary["met_share_pct"]),
            t("brief.headline.dimension.detail", rated=_int(section.summary["rated"]),
              not_met=_int(section.summary["not_met"])),
        ))
    items = [
        f'<div class="kpi"><div class="kpi-label">{_e(label)}</div>'
        f'<div class="kpi-value">{_e(value)}</div>'
        + (f'<div class="kpi-detail">{_e(detail)}</div>' if detail else "")
        + "</div>"
        for label, value, detail in cards
    ]
    # Totals on one row, the four dimensions on the next.
    rows = "".join(f'<div class="kpis">{"".join(part)}</div>'
                   for part in (items[:3], items[3:]) if part)
    return (f'<section id="headline"><h2>{_e(t("brief.headline.title"))}</h2>{rows}'
            f'{_paragraph(t("brief.headline.caption"), "note")}</section>')


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


def _in_need_html(brief: Brief, number: int) -> str:
    parts = [f'<section id="in-need"><h2>{_e(_section_title(number, t("brief.in_need.title")))}'
             "</h2>"]
    if brief.in_need_all.empty:
        parts.append(_paragraph(t("brief.in_need.none")))
    else:
        parts.append(_paragraph(t("brief.in_need.caption", n=IN_NEED_SHOWN), "note lead"))
        headers = [(t("overview.column.community"), False), (t("overview.column.street"), False),
                   (t("overview.column.type"), False), (t("overview.column.not_met"), True),
                   (t("overview.column.met_share"), True), (t("brief.column.unmet"), False)]
        rows = [
            [_cell(row["community_name"], "name"), _cell(row["street"], "name"),
             _cell(row["community_type"], "name"),
             _cell(_int(row["not_met_count"]), "s-not_met"), _one_decimal(row["met_share_pct"]),
             row["unmet"]]
            for row in brief.in_need.to_dict("records")
        ]
        parts.append(_table(headers, rows, "in-need"))
        more = len(brief.in_need_all) - len(brief.in_need)
        if more > 0:
            parts.append(_paragraph(t("brief.in_need.more", count=_int(more)), "note"))
    parts.append("</section>")
    return "".join(parts)


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


def _section_html(section: DimensionSection, number: int, numbers: dict[int, int]) -> str:
    # The heading, the summary and the (short) indicator table print together.
    parts = [f'<section class="dimension" id="dimension-{_e(section.dimension)}">',
             f'<div class="keep"><h2>{_e(_section_title(number, section.label))}</h2>']
    summary = section.summary
    if summary["rated"]:
        parts.append(_paragraph(t(
            "brief.dimension.summary", dimension=section.label,
            share=_pct(summary["met_share_pct"]), rated=_int(summary["rated"]),
            met=_int(summary["met"]), partly_met=_int(summary["partly_met"]),
            not_met=_int(summary["not_met"]), no_data=_int(summary["no_data"]))))
    else:
        parts.append(_paragraph(t("brief.dimension.no_data", dimension=section.label)))
    if len(section.indicators):
        parts.append(_table(_indicator_headers(), _indicator_rows(section.indicators),
                            "indicators"))
    parts.append("</div>")
    parts += [_chart_html(chart, numbers[id(chart)]) for chart in section.charts]
    parts.append("</section>")
    return "".join(parts)


def _totals_rows(totals: pd.DataFrame) -> list[list[Any]]:
    return [
        [_indicator_label(row["indicator_id"]), _int(row["met_baseline"]),
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
    return [
        [_cell(row["community_name"], "name"), _cell(row["street"], "name"),
         _indicator_label(row["indicator_id"]),
         _value(row["baseline_value"], row["indicator_id"]),
         _cell(_status(row["baseline_status"]), _status_css(row["baseline_status"])),
         _value(row["scenario_value"], row["indicator_id"]),
         _cell(_status(row["scenario_status"]), _status_css(row["scenario_status"]))]
        for row in changes.to_dict("records")
    ]


def _change_headers() -> list[tuple[str, bool]]:
    return [(t("overview.column.community"), False), (t("overview.column.street"), False),
            (t("brief.column.indicator"), False), (t("brief.column.baseline_value"), True),
            (t("brief.column.baseline_status"), False),
            (t("brief.column.scenario_value"), True),
            (t("brief.column.scenario_status"), False)]


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


def _scenario_html(brief: Brief, number: int, numbers: dict[int, int]) -> str:
    comparison = brief.comparison
    assert comparison is not None
    summary = comparison.summary
    title = _section_title(number, t("brief.scenario.title"))
    parts = [f'<section id="scenario"><h2>{_e(title)}</h2>',
             f'<h3>{_e(t("brief.scenario.changes"))}</h3>',
             "<ul>" + "".join(f"<li>{_e(line)}</li>" for line in brief.standard_changes)
             + "</ul>",
             _paragraph(t("brief.scenario.summary", communities=_int(summary["communities"]),
                          status_changes=_int(summary["status_changes"]),
                          communities_changed=_int(summary["communities_changed"]))),
             _paragraph(t("brief.scenario.costs", **{
                 key: _int(summary[key]) for key in (
                     "space_gap_m2", "space_cost_yuan", "funding_gap_yuan", "total_cost_yuan",
                     "baseline_total_cost_yuan")}))]

    parts.append(f'<h3>{_e(t("brief.scenario.totals"))}</h3>')
    moved = _moved_totals(comparison.totals)
    if moved.empty:
        parts.append(_paragraph(t("brief.scenario.totals.none")))
    else:
        parts.append(_table(_totals_headers(), _totals_rows(moved), "totals"))
    parts += [_chart_html(chart, numbers[id(chart)]) for chart in brief.scenario_charts]

    parts.append(f'<h3>{_e(t("brief.scenario.status_changes"))}</h3>')
    changes = comparison.status_changes
    if changes.empty:
        parts.append(_paragraph(t("brief.scenario.status_changes.none")))
    else:
        shown = changes.head(STATUS_CHANGES_SHOWN)
        parts.append(_table(_change_headers(), _change_rows(shown), "changes"))
        if len(changes) > len(shown):
            parts.append(_paragraph(t("brief.scenario.status_changes.more",
                                      total=_int(len(changes)), shown=len(shown)), "note"))

    parts.append(f'<h3>{_e(t("brief.scenario.gaps"))}</h3>')
    gaps = comparison.gaps
    if gaps.empty:
        parts.append(_paragraph(t("brief.scenario.gaps.none")))
    else:
        shown = gaps.head(GAPS_SHOWN)
        parts.append(_table(_gap_headers(), _gap_rows(shown), "gaps"))
        if len(gaps) > len(shown):
            parts.append(_paragraph(t("brief.scenario.gaps.more", total=_int(len(gaps)),
                                      shown=len(shown)), "note"))
    parts.append("</section>")
    return "".join(parts)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_number_content() -> str:
    """The CSS `content` of the printed footer, from the string table:
    "第 " counter(page) " 页，共 " counter(pages) " 页"."""
    marker = "\0"
    pattern = t("brief.page_number", page=f"{marker}page{marker}",
                pages=f"{marker}pages{marker}")
    parts = [f"counter({piece})" if odd else _css_string(piece)
             for odd, piece in ((n % 2 == 1, piece)
                                for n, piece in enumerate(pattern.split(marker))) if piece]
    return " ".join(parts)


def _css() -> str:
    top, right, bottom, left = PAGE_MARGIN_MM
    fills = "".join(f".s-{status} {{ background: {fill}; }}\n"
                    for status, fill in presentation.STATUS_FILLS.items())
    return f"""
@page {{ size: A4; margin: {top}mm {right}mm {bottom}mm {left}mm;
         @bottom-center {{ content: {page_number_content()};
                          font-family: {presentation.FONT_FAMILY}; font-size: 8.5pt;
                          color: #555; }} }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ font-family: {presentation.FONT_FAMILY}; color: #1b1b1b; font-size: 10.5pt;
       line-height: 1.5; margin: 0 auto; padding: 8mm 6mm; max-width: {210 - left - right}mm; }}
@media print {{ body {{ padding: 0; max-width: none; }} }}
h1 {{ font-size: 20pt; margin: 0 0 2pt; }}
h2 {{ font-size: 14pt; margin: 14pt 0 6pt; padding-bottom: 2pt; border-bottom: 2px solid #1b1b1b; }}
h3 {{ font-size: 11.5pt; margin: 10pt 0 4pt; }}
h1, h2, h3, figcaption, p.lead {{ break-after: avoid; page-break-after: avoid; }}
.keep {{ break-inside: avoid; page-break-inside: avoid; }}
p {{ margin: 3pt 0 6pt; }}
ul {{ margin: 3pt 0 6pt; padding-left: 18pt; }}
.subtitle {{ font-size: 12pt; color: #444; margin: 0 0 6pt; }}
.note {{ color: #555; font-size: 9pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; margin: 4pt 0 8pt; }}
thead {{ display: table-header-group; }}
tr, th, td {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border: 1px solid #b0b0b0; padding: 2pt 4pt; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
.num {{ text-align: right; white-space: nowrap; }}
.name {{ white-space: nowrap; }}
table.meta td {{ border: none; padding: 1pt 8pt 1pt 0; }}
table.meta td:first-child {{ color: #555; white-space: nowrap; width: 5em; }}
.kpis {{ display: flex; gap: 6pt; margin-bottom: 6pt; break-inside: avoid;
         page-break-inside: avoid; }}
.kpi {{ flex: 1 1 0; border: 1px solid #c0c0c0; border-radius: 3pt; padding: 4pt 6pt; }}
.kpi-label {{ font-size: 9pt; color: #444; }}
.kpi-value {{ font-size: 16pt; font-weight: bold; }}
.kpi-detail {{ font-size: 8pt; color: #555; }}
.scenario-note {{ border-left: 4px solid #5c6bc0; padding: 3pt 8pt; background: #f3f4fb; }}
figure.chart {{ margin: 8pt 0 12pt; break-inside: avoid; page-break-inside: avoid; }}
figure.chart .plot {{ width: {CHART_WIDTH_PX}px; max-width: 100%; }}
.chart-heading {{ font-weight: bold; font-size: 10.5pt; margin-bottom: 2pt; }}
.chart-note {{ margin-top: 2pt; }}
{fills}"""


def render_html(brief: Brief) -> str:
    """One self-contained HTML file: plotly.js inline once, static charts, A4 print CSS."""
    charts = brief.charts
    numbers = {id(chart): n for n, chart in enumerate(charts, start=1)}
    meta_rows = [
        [t("brief.meta.scope"), brief.filter_text],
        [t("brief.meta.period"), brief.period_text],
        [t("brief.meta.scenario"), brief.scenario_name],
        [t("brief.meta.data_version"),
         t("brief.meta.data_version.value", version=brief.data_version)],
        [t("brief.meta.generated_at"), f"{brief.generated_at:%Y-%m-%d %H:%M}"],
    ]
    meta = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in meta_rows)
    number = 1
    body = [
        f'<header><h1>{_e(brief.title)}</h1>'
        f'<p class="subtitle">{_e(t("brief.subtitle"))}</p>'
        f'<table class="meta"><tbody>{meta}</tbody></table></header>',
        _headline_html(brief),
    ]
    scenario_number = 3 + len(brief.sections)
    if brief.is_baseline:
        body.append(_paragraph(t("brief.baseline.note"), "scenario-note"))
    else:
        body.append(_paragraph(t("brief.scenario.note", scenario=brief.scenario_name,
                                 section=_section_title(scenario_number,
                                                        t("brief.scenario.title"))),
                               "scenario-note"))

    overview = [f'<section id="overview"><h2>'
                f'{_e(_section_title(number, t("brief.overview.title")))}</h2>',
                _table(_dimension_headers(), _dimension_rows(brief.dimensions), "dimensions")]
    overview += [_chart_html(chart, numbers[id(chart)]) for chart in brief.overview_charts]
    overview.append("</section>")
    body.append("".join(overview))
    number += 1
    body.append(_in_need_html(brief, number))
    for section in brief.sections:
        number += 1
        body.append(_section_html(section, number, numbers))
    if not brief.is_baseline:
        number += 1
        body.append(_scenario_html(brief, number, numbers))
    body.append(
        f'<footer><h2>{_e(t("brief.notes.title"))}</h2>'
        f'{_paragraph(t("brief.notes.statuses"), "note")}'
        f'{_paragraph(t("brief.notes.source", version=brief.data_version), "note")}</footer>')

    head = (
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(brief.title)}</title>"
        f"<style>{_css()}</style>"
    )
    if charts:
        head += ('<script type="text/javascript">window.PlotlyConfig = '
                 "{MathJaxConfig: 'local'};</script>"
                 f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>')
    return ('<!DOCTYPE html>\n<html lang="zh-CN">\n<head>' + head + "</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# ---------------------------------------------------------------------------
# Excel


COUNT_FORMAT = "#,##0"


def _count_cell(value: Any) -> exporting.Formatted | None:
    return None if _missing(value) else exporting.Formatted(int(value), COUNT_FORMAT)


def brief_sheets(brief: Brief) -> dict[str, pd.DataFrame]:
    """The brief's tables, Chinese headers, one sheet each (for exporting.to_excel_bytes).

    Numbers stay numbers: the summary's counts and rates carry their own
    format (25,000; 95.7%); the other sheets' are formatted, and rounded as
    the pages show them, by the unit in their header."""
    item, content = t("brief.column.item"), t("brief.column.content")
    overview = [
        (t("brief.meta.scope"), brief.filter_text),
        (t("brief.meta.period"), brief.period_text),
        (t("brief.meta.scenario"), brief.scenario_name),
        (t("brief.meta.data_version"), brief.data_version),
        (t("brief.meta.generated_at"), f"{brief.generated_at:%Y-%m-%d %H:%M}"),
        (t("overview.kpi.communities"), _count_cell(brief.totals.get("communities"))),
        (t("overview.kpi.households"), _count_cell(brief.totals.get("households"))),
        (t("overview.kpi.population"), _count_cell(brief.totals.get("population"))),
    ]
    overview += [(t("brief.headline.dimension", dimension=s.label),
                  None if _missing(s.summary["met_share_pct"]) else exporting.Formatted(
                      s.summary["met_share_pct"], exporting.PERCENT_FORMAT))
                 for s in brief.sections]
    sheets = {
        t("brief.sheet.summary"): pd.DataFrame(overview, columns=[item, content]),
        t("brief.sheet.dimensions"): pd.DataFrame(
            [[t(f"dimension.{row['dimension']}"), row["rated"], row["met"], row["partly_met"],
              row["not_met"], row["no_data"], row["not_rated"], row["met_share_pct"]]
             for row in brief.dimensions.to_dict("records")],
            columns=[t("brief.column.dimension"), t("indicators.column.rated"),
                     t("status.met"), t("status.partly_met"), t("status.not_met"),
                     t("status.no_data"), t("status.not_rated"),
                     t("indicators.column.met_share_pct")]),
    }
    indicator_rows = [
        [section.label, row["indicator_id"], row["name"], row["unit"], row["standard"],
         row["met"], row["partly_met"], row["not_met"], row["no_data"], row["not_rated"],
         row["met_share_pct"]]
        for section in brief.sections for row in section.indicators.to_dict("records")
    ]
    sheets[t("brief.sheet.indicators")] = pd.DataFrame(indicator_rows, columns=[
        t("brief.column.dimension"), t("indicators.column.indicator_id"),
        t("brief.column.indicator"), t("brief.column.unit"), t("brief.column.standard"),
        t("status.met"), t("status.partly_met"), t("status.not_met"), t("status.no_data"),
        t("status.not_rated"), t("indicators.column.met_share_pct")])
    need = brief.in_need_all.copy()
    sheets[t("brief.sheet.in_need")] = need.rename(columns={
        "community_id": t("overview.column.community_id"),
        "community_name": t("overview.column.community"),
        "street": t("overview.column.street"), "community_type": t("overview.column.type"),
        "not_met_count": t("overview.column.not_met"),
        "met_share_pct": t("overview.column.met_share"), "unmet": t("brief.column.unmet"),
    })
    comparison = brief.comparison
    if comparison is not None:
        sheets[t("brief.sheet.changes")] = pd.DataFrame(
            {t("brief.scenario.changes"): brief.standard_changes})
        totals = comparison.totals.copy()
        totals.insert(1, "indicator", totals["indicator_id"].map(_indicator_label))
        sheets[t("brief.sheet.totals")] = totals.drop(columns=["indicator_id"]).rename(columns={
            "indicator": t("brief.column.indicator"),
            "met_baseline": t("brief.column.met_baseline"),
            "met_scenario": t("brief.column.met_scenario"),
            "not_met_baseline": t("brief.column.not_met_baseline"),
            "not_met_scenario": t("brief.column.not_met_scenario"),
            "change": t("brief.column.change"),
        })
        changes = comparison.status_changes.copy()
        for column in ("baseline_value", "scenario_value"):
            changes[column] = presentation.round_to_indicator(changes[column],
                                                              changes["indicator_id"])
        changes["indicator_id"] = changes["indicator_id"].map(_indicator_label)
        for column in ("baseline_status", "scenario_status"):
            changes[column] = changes[column].map(_status)
        sheets[t("brief.sheet.status_changes")] = changes.rename(columns={
            "community_id": t("overview.column.community_id"),
            "community_name": t("overview.column.community"),
            "street": t("overview.column.street"), "indicator_id": t("brief.column.indicator"),
            "baseline_value": t("brief.column.baseline_value"),
            "baseline_status": t("brief.column.baseline_status"),
            "scenario_value": t("brief.column.scenario_value"),
            "scenario_status": t("brief.column.scenario_status"),
        })
        gap_labels = {
            "community_id": t("overview.column.community_id"),
            "community_name": t("overview.column.community"),
            "street": t("overview.column.street"),
        }
        gap_labels.update({c: t(f"brief.column.{c}") for c in (
            *GAP_COLUMNS, "office_fund_gap_yuan", "party_fund_gap_yuan")})
        sheets[t("brief.sheet.gaps")] = comparison.gaps.rename(columns=gap_labels)
    return sheets

