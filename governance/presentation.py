"""Charts and table styling shared by the pages and the exported brief.

Plotly figures carry no outside references: Streamlit renders them with its
bundled plotly.js, and an exported brief embeds the library itself.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from governance.catalogue import Standards, load_catalogue
from governance.contract import (
    COMMUNITY_TYPE,
    FUNDING_CATEGORY,
    FUNDING_SOURCE,
    INCIDENT_CATEGORY,
    TABLES,
)
from governance.indicators import Period
from governance.text import t

# How `with_labels` turns one column's codes into words.
Labeller = Callable[[Any], Any] | Mapping[Any, Any]

STATUS_COLOURS = {
    "met": "#2e7d32",
    "partly_met": "#f9a825",
    "not_met": "#c62828",
    "no_data": "#9e9e9e",
    "not_rated": "#cfd8dc",
}
# Lighter fills for table cells, so the numbers stay readable.
STATUS_FILLS = {
    "met": "#c8e6c9",
    "partly_met": "#fff0b3",
    "not_met": "#f6c1bd",
    "no_data": "#e6e6e6",
    "not_rated": "#ffffff",
}
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def status_css(status: str | None) -> str:
    fill = STATUS_FILLS.get(status or "", "#ffffff")
    return f"background-color: {fill}; color: #1b1b1b"


def matrix_cell_styles(matrix: pd.DataFrame, indicator_ids: list[str]) -> pd.DataFrame:
    """CSS for each cell of the matrix: an indicator's value cell takes its status colour.

    `matrix` has a value column `<id>` and a status column `<id>_status` per
    indicator; the returned frame has the same index and columns as `matrix`.
    """
    # Through a lookup of the few distinct statuses, built as one frame: a
    # per-cell function and a column insert each cost ~1 ms per column.
    css = {status: status_css(status) for status in STATUS_FILLS}
    unknown = status_css(None)
    columns = {}
    for column in matrix.columns:
        status_column = f"{column}_status"
        if column in indicator_ids and status_column in matrix.columns:
            statuses = matrix[status_column].to_numpy(dtype=object, na_value=None)
            columns[column] = [css.get(status, unknown) for status in statuses]
        else:
            columns[column] = [""] * len(matrix)
    return pd.DataFrame(columns, index=matrix.index, columns=matrix.columns, dtype=object)


def _figure(traces: list, title: str, height: int, **more) -> go.Figure:
    """A chart of `traces` with the charts' common layout and `more` (barmode,
    axes, reference lines), validated once: updating a built figure's layout
    goes through plotly's relayout path, ~5–15 ms a chart, paid for every
    chart drawn for a new filter."""
    return go.Figure(traces, layout=_layout_spec(title, height, **more))


def _layout_spec(title: str, height: int, **more) -> dict:
    return dict(
        title={"text": title, "x": 0, "font": {"size": 15}},
        height=height,
        # Room on the right for the last tick label (100 %), which plotly
        # hides when it would overflow; the legend sits in the figure's own
        # bottom margin, so it never covers the axis title of a short chart.
        margin={"l": 10, "r": 30, "t": 40, "b": 10},
        font={"family": FONT_FAMILY},
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
        plot_bgcolor="#ffffff",
        **more,
    )


# An axis of counts (communities, cases, events) ticks whole numbers only.
COUNT_TICKS = 6
HISTOGRAM_BINS = 30


def _nice_step(rough: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least `rough` (> 0)."""
    magnitude = 10.0 ** math.floor(math.log10(rough))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough * (1 - 1e-9))


def count_step(top: float) -> int:
    """A whole tick step for counts up to `top`: about COUNT_TICKS ticks, never
    less than 1 (so 0..3 ticks 0, 1, 2, 3 and never 0.5)."""
    if not math.isfinite(top) or top <= COUNT_TICKS:
        return 1
    return int(_nice_step(top / COUNT_TICKS))


def count_axis(top: float) -> dict:
    """Axis settings for counts up to `top`: whole ticks from 0, grouped thousands."""
    return {"tickformat": ",d", "tick0": 0, "dtick": count_step(top), "rangemode": "tozero"}


def _largest(*values) -> float:
    """The largest finite number among scalars and series (0 when none)."""
    found = []
    for value in values:
        many = isinstance(value, pd.Series | pd.Index | np.ndarray | list)
        found += [float(v) for v in (np.ravel(np.asarray(value, dtype=object)) if many
                                     else [value]) if not pd.isna(v)]
    return max((v for v in found if math.isfinite(v)), default=0.0)


def _histogram(values: pd.Series, **trace) -> tuple[go.Histogram, int]:
    """A histogram of about HISTOGRAM_BINS bins of a round width, the bins fixed
    here rather than by plotly.js, and the count of its tallest bin (so the
    count axis can tick whole numbers)."""
    data = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    data = data[np.isfinite(data)]
    if not data.size:
        return go.Histogram(x=data, **trace), 0
    low, high = float(data.min()), float(data.max())
    size = _nice_step((high - low) / HISTOGRAM_BINS) if high > low else 1.0
    start = math.floor(low / size) * size
    index = np.clip(np.floor((data - start) / size).astype("int64"), 0, None)
    end = start + size * (int(index.max()) + 1)
    bins = {"start": start, "end": end, "size": size}
    return go.Histogram(x=data, xbins=bins, autobinx=False, **trace), int(
        np.bincount(index).max())


# Columns that carry text a user typed into an upload: names of communities,
# streets and facilities, and the trend's series (street names).
USER_TEXT_COLUMNS = ("community_name", "street", "facility_name", "series")


def plot_text(value):
    """User text as plotly text: `<`, `>` and `&` as entities, so an uploaded
    name shows as typed and never becomes plotly's pseudo-HTML (a live link,
    bold, a line break) in a label, hover, legend or title."""
    return html.escape(value, quote=False) if isinstance(value, str) else value


def plot_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every user-text column made plot-safe."""
    columns = [c for c in USER_TEXT_COLUMNS if c in frame.columns]
    if not columns:
        return frame
    safe = frame.copy()
    for column in columns:
        safe[column] = safe[column].map(plot_text)
    return safe


def ranking_bar(matrix: pd.DataFrame, top_n: int = 15) -> go.Figure:
    """The communities with most unmet indicators, worst at the top."""
    worst = matrix.sort_values(
        ["not_met_count", "met_share_pct"], ascending=[False, True], na_position="last"
    ).head(top_n)
    worst = plot_safe(worst.iloc[::-1])
    labels = worst["community_name"] + "（" + worst["street"] + "）"
    bar = go.Bar(
        x=worst["not_met_count"],
        y=labels,
        orientation="h",
        marker_color=STATUS_COLOURS["not_met"],
        text=worst["not_met_count"],
        textposition="outside",
        customdata=worst["met_share_pct"].round(1),
        hovertemplate="%{y}<br>"
        + t("overview.column.not_met") + "：%{x}<br>"
        + t("overview.column.met_share") + "：%{customdata}<extra></extra>",
    )
    return _figure([bar], t("overview.ranking.title"), height=max(260, 24 * len(worst) + 80),
                   xaxis={"title": t("overview.column.not_met"),
                          **count_axis(_largest(worst["not_met_count"]))})


STREET_CHART_STATUSES = ("met", "partly_met", "not_met", "no_data")


def street_status_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Per street, each status's share (%) of the community × indicator pairs that
    have a standard: streets differ in size, so shares compare them fairly."""
    rated = counts[counts["status"].isin(STREET_CHART_STATUSES)]
    totals = rated.groupby("street")["count"].transform("sum")
    shares = rated.assign(share_pct=(rated["count"] * 100 / totals.where(totals > 0)).fillna(0))
    return shares


def street_status_bar(counts: pd.DataFrame) -> go.Figure:
    """Horizontal 100 % bars: the status mix of each street, worst streets on top."""
    shares = street_status_shares(plot_safe(counts))
    not_met = shares[shares["status"] == "not_met"].set_index("street")["share_pct"]
    order = not_met.sort_values().index.tolist()
    traces = []
    for status in STREET_CHART_STATUSES:
        part = shares[shares["status"] == status].set_index("street").reindex(order)
        traces.append(
            go.Bar(
                y=order,
                x=part["share_pct"],
                orientation="h",
                name=t(f"status.{status}"),
                marker_color=STATUS_COLOURS[status],
                customdata=part["count"],
                hovertemplate="%{y}<br>" + t(f"status.{status}")
                + "：%{x:.1f}%（%{customdata}）<extra></extra>",
            )
        )
    return _figure(traces, t("overview.by_street.title"),
                   height=max(300, 28 * len(order) + 120), barmode="stack",
                   xaxis={"title": t("overview.by_street.axis"), "range": [0, 100],
                          "ticksuffix": "%"})


def with_labels(frame: pd.DataFrame, labellers: Mapping[str, Labeller]) -> pd.DataFrame:
    """A copy of `frame` with each column named in `labellers` that it has
    mapped through its labeller (a function, or a dict of code → word): codes
    shown as words, for the pages, the exports and the brief."""
    shown = frame.copy()
    for column, labeller in labellers.items():
        if column in shown:
            shown[column] = shown[column].map(labeller)
    return shown


def with_type_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """community_type codes replaced by their Chinese labels, for display."""
    return with_labels(frame, {"community_type": COMMUNITY_TYPE.label_of})


def describe_period(period: Period) -> str:
    """The funding year and safety months a view reads, in words (brief, meetings)."""
    missing = t("filter.no_data")

    def month(value: date | None) -> str:
        return value.strftime("%Y-%m") if value else missing

    return t("brief.period", year=period.year or missing, month_from=month(period.month_from),
             month_to=month(period.month_to))


def status_word(status: object) -> str:
    """A status code in words (基本达标); "" where there is none."""
    return t(f"status.{status}") if isinstance(status, str) else ""


def _indicator(indicator_id: str, standards: Standards | None):
    return (standards or Standards.default()).indicator(indicator_id)


def bound_text(value: float) -> str:
    """A standard's value as a person reads it: thousands grouped, no trailing
    zeros (25,000, 20, 0.5)."""
    return f"{float(value):,.10g}"


def threshold_bounds(indicator_id: str, standards: Standards | None = None) -> str:
    """`不低于 基本 20 平方米/百户 / 目标 30 平方米/百户`, or the no-standard wording."""
    item = _indicator(indicator_id, standards)
    if item.direction == "none":
        return t("direction.none")
    bounds = [
        t(key, value=bound_text(value), unit=item.unit)
        for key, value in (("threshold.floor", item.floor), ("threshold.target", item.target))
        if value is not None
    ]
    return t(f"direction.{item.direction}") + " " + " / ".join(bounds)


_NAME = re.compile(r"[a-z][a-z0-9_]*")
_FORMULA_WORDS = {"mean": "formula.mean"}


@cache
def _formula_vocabulary() -> dict[str, str]:
    """Contract column names and enum codes → their Chinese labels."""
    words = {code.code: code.label for enum in (FUNDING_CATEGORY, FUNDING_SOURCE)
             for code in enum.codes}
    for table in TABLES.values():
        for column in table.columns:
            words.setdefault(column.name, column.label)
    return words


def readable_formula(formula: str) -> str:
    """A catalogue formula with its column names and codes in Chinese
    (office_area_m2 / households × 100 → 办公和活动用房面积 / 户数 × 100)."""
    vocabulary = _formula_vocabulary()

    def word(match: re.Match) -> str:
        name = match.group(0)
        if name in _FORMULA_WORDS:
            return t(_FORMULA_WORDS[name])
        return vocabulary.get(name, name)

    return _NAME.sub(word, formula)


def threshold_help(indicator_id: str, standards: Standards | None = None) -> str:
    """Standard in force and verbatim policy source, for a column header tooltip."""
    catalogue = load_catalogue()
    item = _indicator(indicator_id, standards)
    return "\n\n".join([
        f"{item.id} {item.name}（{item.unit}）",
        readable_formula(item.formula),
        threshold_bounds(indicator_id, standards),
        t("threshold.source", source=catalogue.source_text(item)),
    ])


def indicator_column_label(indicator_id: str) -> str:
    item = load_catalogue().indicator(indicator_id)
    return f"{item.id} {item.name}"


def indicator_header(indicator_id: str) -> str:
    """A value column's header with the catalogue's unit:
    `F01 每百户办公和活动用房面积（平方米/百户）`."""
    unit = load_catalogue().indicator(indicator_id).unit
    label = indicator_column_label(indicator_id)
    return f"{label}（{unit}）" if unit else label


MATRIX_LEAD_COLUMNS = [
    "community_name", "street", "community_type", "not_met_count", "met_share_pct",
]


# Monthly-report completeness of the month-range indicators (S01–S09, from
# indicators.status_matrix): shown just before the first of them when present.
REPORTING_DISPLAY_COLUMNS = ["reported_months", "reporting_note"]


def matrix_indicator_ids(matrix: pd.DataFrame) -> list[str]:
    """Indicator value columns present in the matrix, in catalogue order."""
    return [i.id for i in load_catalogue().indicators if i.id in matrix.columns]


def matrix_column_order(matrix: pd.DataFrame, indicator_ids: list[str]) -> list[str]:
    """The lead columns, then the indicators' value columns, with the reporting
    columns (when the matrix has them) just before the first safety indicator."""
    ids = list(indicator_ids)
    reporting = [c for c in REPORTING_DISPLAY_COLUMNS if c in matrix.columns]
    periodic = {i.id for i in load_catalogue().by_dimension("safety")}
    at = next((n for n, i in enumerate(ids) if i in periodic), len(ids))
    return [*MATRIX_LEAD_COLUMNS, *ids[:at], *reporting, *ids[at:]]


def lead_column_labels() -> dict[str, str]:
    return {
        "community_id": t("overview.column.community_id"),
        "community_name": t("overview.column.community"),
        "street": t("overview.column.street"),
        "community_type": t("overview.column.type"),
        "not_met_count": t("overview.column.not_met"),
        "met_share_pct": t("overview.column.met_share"),
        "reported_months": t("indicators.column.reported_months"),
        "reporting_note": t("indicators.column.reporting_note"),
    }


def matrix_for_export(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix with Chinese headers: each indicator's value, then its status
    in words; the monthly-report columns before the safety indicators."""
    ids = matrix_indicator_ids(matrix)
    labels = lead_column_labels()
    columns = ["community_id", *MATRIX_LEAD_COLUMNS]
    frame = matrix[columns].rename(columns=labels)
    for indicator_id in matrix_column_order(matrix, ids)[len(MATRIX_LEAD_COLUMNS):]:
        if indicator_id not in ids:
            frame[labels[indicator_id]] = matrix[indicator_id]
            continue
        label = indicator_column_label(indicator_id)
        # As the table shows it: to the catalogue's decimals, half up.
        frame[indicator_header(indicator_id)] = round_half_up(
            matrix[indicator_id].astype("float64"),
            indicator_number_format(indicator_id).decimals)
        frame[label + t("overview.column.status_suffix")] = matrix[f"{indicator_id}_status"].map(
            status_word)
    return frame


@dataclass(frozen=True)
class NumberFormat:
    """How a table shows a number column: `format` as st.column_config takes it
    ("localized" groups thousands in the reader's locale), and the decimals the
    value is rounded to (half up, as 四舍五入) before it is sent."""

    format: str
    decimals: int | None = None

    @property
    def step(self) -> float | None:
        # Streamlit truncates a value to its step's precision, so the value is
        # rounded first (rounded_for_display) and the step only sets the digits.
        return None if self.decimals is None else 10.0 ** -self.decimals


WHOLE = NumberFormat("localized", 0)
TENTHS = NumberFormat("localized", 1)
PERCENT = NumberFormat("%.1f")
# Column names carry their unit (the project's convention): the unit decides
# how the number reads. An indicator value mixes units, so it gets tenths.
_UNIT_FORMATS = (
    ("_yuan", WHOLE), ("_m2", TENTHS), ("_m", WHOLE), ("_pct", PERCENT),
    ("_hours", TENTHS), ("_per_1000", TENTHS), ("_rate", TENTHS), ("value", TENTHS),
)
# Integers that are labels, not quantities: no thousands separator.
_PLAIN_INTEGERS = ("year",)
# Counts of people and households, whatever dtype a sum left them in.
_COUNTED = ("households", "population")


def number_formats(frame: pd.DataFrame) -> dict[str, NumberFormat]:
    """A NumberFormat for each numeric column of `frame` whose name or type says
    how it reads (money in whole yuan, areas in tenths, counts grouped)."""
    formats = {}
    for name, dtype in frame.dtypes.items():
        if not isinstance(name, str) or not pd.api.types.is_numeric_dtype(dtype) \
                or pd.api.types.is_bool_dtype(dtype):
            continue
        by_unit = next((fmt for suffix, fmt in _UNIT_FORMATS if name.endswith(suffix)), None)
        if by_unit is not None:
            formats[name] = by_unit
        elif any(word in name for word in _COUNTED) or (
                pd.api.types.is_integer_dtype(dtype) and name not in _PLAIN_INTEGERS
                and not name.endswith("_id")):
            formats[name] = WHOLE
    return formats


def indicator_number_format(indicator_id: str) -> NumberFormat:
    """How an indicator's values read: to its catalogue decimals
    (25,000 元, 2 起, 24.5 平方米/百户)."""
    return NumberFormat("localized", _indicator(indicator_id, None).decimals)


def round_half_up(values: pd.Series, decimals: int) -> pd.Series:
    """values rounded half away from zero (四舍五入) as their decimal digits read
    (1.005 → 1.01, 0.15 → 0.2), where pandas rounds half to even."""
    scale = 10.0 ** decimals
    # On the numbers themselves: pandas operations cost ~0.1 ms each per call,
    # paid for every column of every table drawn.
    raw = values.to_numpy(dtype="float64", na_value=np.nan)
    scaled = np.abs(raw) * scale
    # A relative epsilon (as Streamlit's own truncation uses) absorbs the binary
    # error that puts 1.005 × 100 just under 100.5.
    magnitude = np.floor(scaled + 0.5 + scaled * 2.0 ** -52 * 10) / scale
    # + 0.0 turns −0.0 (from −0.04) into 0.0, which would read "-0.0".
    rounded = pd.Series(np.where(raw >= 0, magnitude, -magnitude) + 0.0,
                        index=values.index, name=values.name)
    return rounded if values.dtype == "float64" else rounded.astype(values.dtype)


def round_to_indicator(values: pd.Series, indicator_ids: pd.Series) -> pd.Series:
    """Each value rounded half up to its row's indicator's catalogue decimals
    (long tables mixing indicators: 25,000 元 beside 24.5 平方米/百户)."""
    decimals = indicator_ids.map(lambda i: indicator_number_format(i).decimals
                                 if isinstance(i, str) else None)
    rounded = values.astype("float64")
    for places in decimals.dropna().unique():
        rows = decimals == places
        rounded[rows] = round_half_up(rounded[rows], int(places))
    return rounded


def rounded_for_display(frame: pd.DataFrame, formats: dict[str, NumberFormat]) -> pd.DataFrame:
    """frame with each float column of `formats` rounded to its decimals (a
    copy; `frame` itself when there is nothing to round, as on most reruns)."""
    rounded = {name: round_half_up(frame[name], fmt.decimals) for name, fmt in formats.items()
               if fmt.decimals is not None and pd.api.types.is_float_dtype(frame[name].dtype)}
    return frame.assign(**rounded) if rounded else frame


LABEL_BACKING = "rgba(255,255,255,0.85)"


def _reference_marks(lines, vertical: bool = True) -> dict:
    """Dashed lines across the plot at data values, each with an optional label,
    as layout `shapes` and `annotations`: what fig.add_vline / add_hline draw.
    Those helpers validate every shape and label on their own, about 5 ms a
    line, paid on every chart drawn for a new filter.

    `lines`: (value, colour, label or None, side); a vertical line's label sits
    at the top, left or right of it; a horizontal one's at the left, above it.
    """
    shapes, annotations = [], []
    for value, colour, label, side in lines:
        line = {"type": "line", "line": {"color": colour, "dash": "dash"}}
        if vertical:
            line.update(x0=value, x1=value, xref="x", y0=0, y1=1, yref="y domain")
            mark = {"x": value, "xref": "x", "y": 1, "yref": "y domain", "yanchor": "top",
                    "xanchor": "right" if side == "left" else "left"}
        else:
            line.update(x0=0, x1=1, xref="x domain", y0=value, y1=value, yref="y")
            mark = {"x": 0, "xref": "x domain", "y": value, "yref": "y", "xanchor": "left",
                    "yanchor": "bottom"}
        shapes.append(line)
        if label is not None:
            # A light backing keeps the label readable where it crosses a tall bar.
            annotations.append({"text": label, "showarrow": False, "bgcolor": LABEL_BACKING,
                                **mark})
    return {"shapes": shapes, "annotations": annotations}


def street_coverage(communities: pd.DataFrame, covered: str, total: str) -> pd.DataFrame:
    """Households within reach, rolled up per street over the communities given
    (their `covered` and `total` household columns, summed): one row per
    street, in street order — street, communities, households_total,
    households_covered, coverage_pct (covered × 100 / total). The facilities
    page and the brief both draw `coverage_by_street_bar` from it."""
    # Three plain reductions: pandas' named aggregation costs ~9 ms even for
    # the handful of rows of one street.
    grouped = communities.groupby("street", sort=True)
    streets = pd.DataFrame({
        "communities": grouped["community_id"].count(),
        "households_total": grouped[total].sum(),
        "households_covered": grouped[covered].sum(),
    }).reset_index()
    streets["coverage_pct"] = streets["households_covered"] * 100 / streets["households_total"]
    return streets


def coverage_by_street_bar(streets: pd.DataFrame) -> go.Figure:
    """Households coverage per street, lowest first, against the 100 % target."""
    ordered = plot_safe(streets).sort_values("coverage_pct", ascending=False)
    bar = go.Bar(
        x=ordered["coverage_pct"],
        y=ordered["street"],
        orientation="h",
        marker_color=[
            STATUS_COLOURS["met"] if v >= 100 else STATUS_COLOURS["not_met"]
            for v in ordered["coverage_pct"]
        ],
        text=[f"{v:.1f}%" for v in ordered["coverage_pct"]],
        textposition="outside",
        customdata=ordered[["households_covered", "households_total"]],
        hovertemplate=t("facilities.chart.streets.hover"),
    )
    return _figure(
        [bar], t("facilities.chart.streets"), height=max(260, 26 * len(ordered) + 90),
        xaxis={"range": [0, 110], "ticksuffix": "%"},
        **_reference_marks([(100, "#555", None, "right")]),
    )


def indicator_histogram(
    values: pd.DataFrame, indicator_id: str, title: str, standards: Standards | None = None
) -> go.Figure:
    """Distribution of one indicator over communities, with its floor and target drawn."""
    item = _indicator(indicator_id, standards)
    series = values.loc[values["indicator_id"] == indicator_id, "value"].dropna()
    histogram, tallest = _histogram(series, marker_color="#5c6bc0", name=item.name)
    # Floor label left of its line, target right: equal bounds stay readable.
    marks = _reference_marks([
        (bound, STATUS_COLOURS["not_met"], t(key, value=bound_text(bound), unit=item.unit), side)
        for key, bound, side in (("threshold.floor", item.floor, "left"),
                                 ("threshold.target", item.target, "right"))
        if bound is not None
    ])
    return _figure([histogram], title, height=320, xaxis={"title": item.unit},
                   yaxis={"title": t("facilities.chart.communities"), **count_axis(tallest)},
                   **marks)


YUAN_PER_WAN = 10_000


def funding_by_street_bar(by_street_category: pd.DataFrame) -> go.Figure:
    """Stacked bars, one row per street (most funded on top), of its funds by
    category in 万元: street names read across, as in the other street charts."""
    by_street_category = plot_safe(by_street_category)
    totals = by_street_category.groupby("street", sort=False)["amount_yuan"].sum()
    streets = totals.sort_values(ascending=False, kind="stable").index.tolist()
    traces = []
    for item in FUNDING_CATEGORY.codes:
        part = by_street_category[by_street_category["category"] == item.code]
        if part.empty:
            continue
        traces.append(go.Bar(
            y=part["street"], x=part["amount_yuan"] / YUAN_PER_WAN, orientation="h",
            name=item.label, hovertemplate=t("funding.chart.by_street.hover"),
        ))
    return _figure(
        traces, t("funding.chart.by_street"),
        height=max(320, 26 * len(streets) + 150), barmode="stack",
        xaxis={"title": t("funding.chart.wan_yuan"), "tickformat": ",.0f"},
        yaxis={"categoryorder": "array", "categoryarray": streets, "autorange": "reversed"})


def value_histogram(values: pd.Series, title: str, axis: str, marks=(),
                    counted: str | None = None) -> go.Figure:
    """A distribution with optional vertical reference lines [(x, label), …];
    the y axis counts `counted` (default: communities)."""
    histogram, tallest = _histogram(values, marker_color="#5c6bc0")
    return _figure(
        [histogram], title, height=320, xaxis={"title": axis},
        yaxis={"title": counted or t("facilities.chart.communities"), **count_axis(tallest)},
        **_reference_marks([(x, STATUS_COLOURS["not_met"], label, "right") for x, label in marks]))


def _threshold_marks(indicator_id: str, standards: Standards | None) -> dict:
    """The floor and target in force as dashed horizontal lines, labelled."""
    item = _indicator(indicator_id, standards)
    return _reference_marks([
        (bound, STATUS_COLOURS["not_met"], t(key, value=bound_text(bound), unit=item.unit), "left")
        for key, bound in (("threshold.floor", item.floor), ("threshold.target", item.target))
        if bound is not None
    ], vertical=False)


def safety_trend_chart(
    series: pd.DataFrame, indicator_id: str, standards: Standards | None = None
) -> go.Figure:
    """One indicator month by month: the district line, then each chosen street,
    with its threshold drawn. `series` comes from `safety.trend`."""
    item = load_catalogue().indicator(indicator_id)
    series = plot_safe(series)
    traces = []
    for name, part in series.groupby(series["series"].fillna(""), sort=False):
        label = name or t("safety.district")
        traces.append(go.Scatter(
            x=part["month"], y=part["value"], mode="lines+markers", name=label,
            line={"width": 3 if not name else 1.5},
            customdata=part[["communities_reporting", "communities_compared", "communities"]],
            hovertemplate=t("safety.chart.trend.hover", unit=item.unit),
        ))
    yaxis = {"title": item.unit}
    if item.decimals == 0:  # a count (cases, events): whole ticks
        bounds = _indicator(indicator_id, standards)
        yaxis.update(count_axis(_largest(series["value"], bounds.floor, bounds.target)))
    return _figure(traces, f"{indicator_column_label(indicator_id)}：{t('safety.chart.trend')}",
                   height=360, xaxis={"tickformat": "%Y-%m", "dtick": "M1"}, yaxis=yaxis,
                   **_threshold_marks(indicator_id, standards))


def _lower_is_better(indicator_id: str) -> bool:
    item = load_catalogue().indicator(indicator_id)
    return item.direction in ("below", "at_most") or indicator_id == "S09"


HEAT_BAD, HEAT_TURN, HEAT_GOOD = "#c62828", "#fff59d", "#2e7d32"


def _turning_scale(values, turn: float | None, lower_is_better: bool) -> dict:
    """zmin, zmax and a red → yellow → green scale that turns yellow exactly at
    the standard (or at the middle when there is none), never beyond the data."""
    finite = values[values == values]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 1.0
    if turn is None:
        turn = (low + high) / 2
    low, high = min(low, turn), max(high, turn)
    position = 0.5 if high == low else (turn - low) / (high - low)
    position = min(max(position, 0.001), 0.999)
    bad, good = (HEAT_GOOD, HEAT_BAD) if lower_is_better else (HEAT_BAD, HEAT_GOOD)
    return {
        "zmin": low, "zmax": high,
        "colorscale": [[0.0, bad], [position, HEAT_TURN], [1.0, good]],
    }


def street_month_heatmap(
    matrix: pd.DataFrame, indicator_id: str, standards: Standards | None = None
) -> go.Figure:
    """Streets × months of one indicator; green is good whichever way the
    standard points, and the colour scale turns at the floor or limit."""
    item = _indicator(indicator_id, standards)
    months = [pd.Timestamp(m).strftime("%Y-%m") for m in matrix.columns]
    values = matrix.to_numpy(dtype="float64")
    decimals = indicator_number_format(indicator_id).decimals
    text = [["—" if v != v else f"{v:,.{decimals}f}" for v in row] for row in values]
    colorbar = {"title": {"text": item.unit}}
    if decimals == 0:  # a count (cases, events): whole ticks
        colorbar.update(count_axis(_largest(values.ravel())))
        colorbar.pop("rangemode")
    heatmap = go.Heatmap(
        z=values, x=months, y=[plot_text(street) for street in matrix.index],
        **_turning_scale(values, item.floor if item.floor is not None else item.target,
                         _lower_is_better(indicator_id)),
        text=text, texttemplate="%{text}", hoverongaps=False,
        colorbar=colorbar,
        hovertemplate=t("safety.chart.heatmap.hover", unit=item.unit),
    )
    # One column per month, labelled as the data is: left to itself plotly
    # reads "2025-09" as a date and ticks fortnights, or hours for one month.
    return _figure(
        [heatmap], f"{indicator_column_label(indicator_id)}：{t('safety.chart.heatmap')}",
        height=max(300, 28 * len(matrix) + 110),
        xaxis={"type": "category"}, yaxis={"autorange": "reversed"},
    )


INCIDENT_CATEGORY_COLOURS = {
    "criminal": "#b71c1c", "public_order": "#e65100", "fire": "#ff6f00",
    "dispute": "#6a1b9a", "mass_incident": "#000000", "petition": "#1565c0",
    "hazard": "#f9a825", "environment": "#2e7d32", "public_facility": "#546e7a",
    "other": "#9e9e9e",
}


def incident_month_bar(counts: pd.DataFrame) -> go.Figure:
    """Stacked monthly bars of grid events by category."""
    traces = []
    for item in INCIDENT_CATEGORY.codes:
        part = counts[counts["category"] == item.code]
        if part.empty:
            continue
        traces.append(go.Bar(
            x=part["month"], y=part["incidents"], name=item.label,
            marker_color=INCIDENT_CATEGORY_COLOURS.get(item.code),
        ))
    monthly = counts.groupby("month")["incidents"].sum() if len(counts) else []
    return _figure(
        traces, t("safety.chart.incidents"), height=360, barmode="stack",
        xaxis={"tickformat": "%Y-%m", "dtick": "M1"},
        yaxis={"title": t("safety.chart.incidents.axis"), **count_axis(_largest(monthly))})


def resolution_bar(resolution: pd.DataFrame) -> go.Figure:
    """Median and 90th-percentile hours to resolve, per category."""
    rows = resolution[~resolution["is_total"]].sort_values("median_resolution_hours")
    labels = [INCIDENT_CATEGORY.label_of(c) for c in rows["category"]]
    traces = [
        go.Bar(y=labels, x=rows["median_resolution_hours"], orientation="h",
               name=t("safety.column.median_resolution_hours"), marker_color="#5c6bc0"),
        go.Bar(y=labels, x=rows["p90_resolution_hours"], orientation="h",
               name=t("safety.column.p90_resolution_hours"), marker_color="#c5cae9"),
    ]
    return _figure(traces, t("safety.chart.resolution"), height=max(280, 40 * len(rows) + 100),
                   barmode="group", xaxis={"title": t("safety.chart.hours")})


def scenario_met_bar(totals: pd.DataFrame) -> go.Figure:
    """Communities meeting each indicator (met + partly met), baseline beside
    scenario; `totals` has indicator_id, met_baseline, met_scenario
    (scenarios.Comparison.totals, usually only the rows that moved)."""
    rows = totals.iloc[::-1]
    labels = [indicator_column_label(i) for i in rows["indicator_id"]]
    traces = [
        go.Bar(y=labels, x=rows["met_baseline"], orientation="h", name=t("brief.column.baseline"),
               marker_color="#9fa8da", text=rows["met_baseline"], textposition="outside"),
        go.Bar(y=labels, x=rows["met_scenario"], orientation="h", name=t("brief.column.scenario"),
               marker_color="#3949ab", text=rows["met_scenario"], textposition="outside"),
    ]
    return _figure(traces, t("brief.chart.scenario"), height=max(240, 56 * len(rows) + 100),
                   barmode="group",
                   xaxis=count_axis(_largest(rows["met_baseline"], rows["met_scenario"])))


# ---------------------------------------------------------------------------
# Long tables: the rows a person can read, the download carries the rest.

# Rows drawn at once. A page of the community × indicator matrix is then at
# most ~200 × 60 cells: its status colours (a pandas Styler, which refuses
# more than 262,144 cells and slows long before) and the grid stay small at a
# city (5,000 communities) or a province (20,000).
PAGE_ROWS = 200


def worst_first(matrix: pd.DataFrame) -> pd.DataFrame:
    """A community matrix with the communities failing the most standards
    first (then fewest met, then by street and code), for paging a long one."""
    keys = [c for c in ("not_met_count", "met_share_pct", "street", "community_id")
            if c in matrix.columns]
    ascending = [c not in ("not_met_count",) for c in keys]
    return matrix.sort_values(keys, ascending=ascending, kind="stable",
                              na_position="last").reset_index(drop=True)


def search_rows(frame: pd.DataFrame, query: str, columns: list[str] | None = None,
                ) -> pd.DataFrame:
    """The rows of `frame` where any text column (or `columns`) contains
    `query` (case-insensitive, literal); all rows for a blank query."""
    query = (query or "").strip()
    if not query or frame.empty:
        return frame
    names = columns if columns is not None else [
        name for name, dtype in frame.dtypes.items()
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)]
    hits = pd.Series(False, index=frame.index)
    for name in names:
        if name in frame.columns:
            hits |= frame[name].astype("string").str.contains(
                query, case=False, regex=False, na=False)
    return frame[hits]


def page_count(rows: int, page_rows: int = PAGE_ROWS) -> int:
    return max(1, math.ceil(rows / page_rows))


def page_of(frame: pd.DataFrame, page: int, page_rows: int = PAGE_ROWS) -> pd.DataFrame:
    """Rows of page `page` (1-based, clamped to the pages there are)."""
    page = min(max(1, int(page)), page_count(len(frame), page_rows))
    return frame.iloc[(page - 1) * page_rows: page * page_rows]
