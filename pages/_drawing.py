"""Tables, charts and maps drawn the way every page draws them (Chinese
headers, "—" for missing values, status colours), cached on their inputs."""

from __future__ import annotations

import hashlib
import pickle
import types

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from governance import (
    facility_view,
    maps,
    presentation,
    safety_view,
)
from governance.catalogue import Standards
from governance.indicators import Period, ViewFilter
from governance.scenarios import Scenario
from governance.text import t
from pages._context import DataKey, connection_for
from pages._reads import coverage_view, facilities_in_scope, named_community_shapes


def status_label(status: str) -> str:
    return t(f"status.{status}")


def dimension_label(dimension: str) -> str:
    return t(f"dimension.{dimension}")


MATRIX_LEAD_COLUMNS = presentation.MATRIX_LEAD_COLUMNS


matrix_indicator_ids = presentation.matrix_indicator_ids


matrix_export = presentation.matrix_for_export


def matrix_column_config(indicator_ids: list[str], standards=None) -> dict:
    labels = presentation.lead_column_labels()
    config = {
        "community_name": st.column_config.TextColumn(labels["community_name"], pinned=True),
        "street": st.column_config.TextColumn(labels["street"]),
        "community_type": st.column_config.TextColumn(labels["community_type"]),
        "not_met_count": st.column_config.NumberColumn(labels["not_met_count"], format="%d"),
        "met_share_pct": st.column_config.NumberColumn(labels["met_share_pct"], format="%.0f"),
        "reported_months": st.column_config.TextColumn(
            labels["reported_months"], help=t("indicators.column.reported_months.help")),
        "reporting_note": st.column_config.TextColumn(labels["reporting_note"]),
    }
    for indicator_id in indicator_ids:
        number = presentation.indicator_number_format(indicator_id)
        config[indicator_id] = st.column_config.NumberColumn(
            presentation.indicator_header(indicator_id),
            help=presentation.threshold_help(indicator_id, standards),
            format=number.format, step=number.step,
        )
    return config


@st.cache_resource(max_entries=8, show_spinner=False)
def coverage_map(
    data: DataKey, request: facility_view.CoverageRequest, view_filter: ViewFilter
) -> maps.MapFigure:
    """The coverage map of coverage_view and its legend (it takes clicks, so it is
    drawn on every run: the deck and its JSON are what is kept)."""
    view = coverage_view(data, request, view_filter)
    proposals = pd.DataFrame([{"lon": p.lon, "lat": p.lat} for p in request.added])
    return maps.coverage_figure(
        view.shapes, facility_view.map_coverage(view), facilities_in_scope(data, view_filter),
        view.points, proposals, focus_type=request.facility_type,
        height_px=maps.COVERAGE_MAP_HEIGHT_PX,
    )


# Turning a table or a figure into page elements costs more than reading its
# data (Styler marshalling, Plotly validation, JSON): a page of them took
# 150–300 ms of the one interpreter every session shares. The drawers below are
# cached on their inputs, so on a hit Streamlit replays the recorded elements,
# for any session. Their inputs come from reads keyed on the data version, so
# an import draws afresh. They draw on the container they are called in
# (`with column:`): replay cannot target a container passed in.
DRAWN_ENTRIES = 128


def _function_name(function: types.FunctionType) -> str:
    """Builders and label functions key the drawers' caches by name, so only
    module-level ones will do: two lambdas of one module would share a name."""
    if "<" in function.__qualname__:
        raise TypeError(f"a drawer takes module-level functions, not {function.__qualname__}")
    return f"{function.__module__}.{function.__qualname__}"


def _content_digest(frame: pd.DataFrame | pd.Series) -> bytes:
    """Every row of a frame: Streamlit hashes a 10,000-row sample of a large one,
    and a drawer must not replay a table whose other rows changed. The pickle
    holds every value, index and dtype, and is ~10× cheaper than pandas' own
    row hashing, which costs ~0.15 ms per column even for a few rows. Two
    equal frames laid out differently may digest differently: a redraw, never
    a wrong replay."""
    return hashlib.blake2b(pickle.dumps(frame, protocol=5), digest_size=16).digest()


# Thresholds key the caches by value (their settings are a read-only mapping).
_DRAWER_KEYS = {
    types.FunctionType: _function_name,
    Standards: lambda s: repr((s.indicators, sorted(s.settings.items()))),
    pd.DataFrame: _content_digest,
    pd.Series: _content_digest,
}


def table(data, *, empty: str | None = None, **options) -> None:
    """st.dataframe as every table here draws it: no index, the page's width, a
    missing value read "—" (Streamlit's own placeholder is the English "None"),
    and for a table without rows a caption (`empty`, default 无记录) in place of
    the grid, which would say "empty".

    `data`: a DataFrame or a pandas Styler of one; `options` go to st.dataframe."""
    frame = data.data if isinstance(data, Styler) else data
    if len(frame) == 0:
        st.caption(empty or t("table.empty"))
        return
    st.dataframe(data, hide_index=True, width="stretch", placeholder=t("table.missing"),
                 **options)


def paged(frame: pd.DataFrame, key: str, *, worst_first: bool = False,
          search_columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of `frame` to draw: all of a short table; of a long one (more
    than presentation.PAGE_ROWS) one page, chosen by a search box and a page
    number drawn here, with a caption saying how many rows there are and that
    the download carries them all. `worst_first` orders a community matrix
    by its not-met count first."""
    rows = presentation.PAGE_ROWS
    if len(frame) <= rows:
        return frame
    if worst_first:
        frame = presentation.worst_first(frame)
    search_column, page_column = st.columns([3, 1])
    query = search_column.text_input(
        t("table.search"), key=f"{key}__search", placeholder=t("table.search.placeholder"),
        help=t("table.search.help"))
    found = presentation.search_rows(frame, query, search_columns)
    pages = presentation.page_count(len(found), rows)
    # A page count of its own per search, so a page past the end is never kept.
    page = page_column.number_input(
        t("table.page"), min_value=1, max_value=pages, value=1, step=1,
        key=f"{key}__page__{pages}__{query.strip()}")
    st.caption(t("table.paged.worst_first" if worst_first else "table.paged",
                 total=f"{len(frame):,}", found=f"{len(found):,}", rows=rows, pages=pages))
    if found.empty:
        st.caption(t("table.search.none", query=query.strip()))
    return presentation.page_of(found, page, rows)


def show_table(
    frame: pd.DataFrame, label, key: str | None = None, display=facility_view.for_display,
    empty: str | None = None,
) -> None:
    """A read-only table with Chinese headers, codes shown as words (by `display`)
    and numbers formatted by their unit; `empty` is said when it has no rows.
    A long table is shown a page at a time (`paged`)."""
    if len(frame) > presentation.PAGE_ROWS:
        page_key = key or "table_" + hashlib.blake2b(
            repr((_function_name(label), list(frame.columns))).encode(),
            digest_size=6).hexdigest()
        shown = paged(frame, page_key)
        if shown.empty:
            return
        frame = shown
    _show_table_drawn(frame, label, key=key, display=display, empty=empty)


@st.cache_resource(max_entries=DRAWN_ENTRIES, show_spinner=False, hash_funcs=_DRAWER_KEYS)
def _show_table_drawn(
    frame: pd.DataFrame, label, key: str | None = None, display=facility_view.for_display,
    empty: str | None = None,
) -> None:
    shown = display(frame)
    formats = presentation.number_formats(shown)
    shown = presentation.rounded_for_display(shown, formats).rename(columns=label)
    column_config = {
        label(name): st.column_config.NumberColumn(format=fmt.format, step=fmt.step)
        for name, fmt in formats.items()
    }
    table(shown, empty=empty, key=key, column_config=column_config)


def status_table(
    matrix: pd.DataFrame, indicator_ids: tuple[str, ...], scenario: Scenario, key: str,
    height: int | None = None, worst_first: bool = True,
) -> None:
    """A community × indicator table, each value cell coloured by its status, with
    the scenario's thresholds in the column tooltips. A long one (a city's or a
    province's communities) is shown a searchable page at a time, worst first
    (or in the matrix's own order: 平安建设 puts red flags first): only that
    page is styled, however many communities there are."""
    shown = paged(matrix, key, worst_first=worst_first,
                  search_columns=["community_name", "community_id", "street"])
    if len(shown) < len(matrix) and shown.empty:
        return
    if height is not None:  # a page (or a search) may hold fewer rows than asked for
        height = min(height, 38 + 35 * len(shown))
    _status_table_drawn(shown.reset_index(drop=True), indicator_ids, scenario, key, height)


@st.cache_resource(max_entries=DRAWN_ENTRIES, show_spinner=False, hash_funcs=_DRAWER_KEYS)
def _status_table_drawn(
    matrix: pd.DataFrame, indicator_ids: tuple[str, ...], scenario: Scenario, key: str,
    height: int | None = None,
) -> None:
    ids = list(indicator_ids)
    # Only the drawn columns go through the Styler, which costs per cell: the
    # status columns colour the values and are not shown themselves.
    drawn = [c for c in presentation.matrix_column_order(matrix, ids) if c in matrix.columns]
    styles = presentation.matrix_cell_styles(matrix, ids)[drawn]
    matrix = presentation.rounded_for_display(
        matrix[drawn], {i: presentation.indicator_number_format(i) for i in ids if i in matrix})
    table(
        matrix.style.apply(lambda _: styles, axis=None),
        height=height or "auto", column_order=drawn,
        column_config=matrix_column_config(ids, scenario.standards()), key=key,
    )


@st.cache_resource(max_entries=DRAWN_ENTRIES, show_spinner=False, hash_funcs=_DRAWER_KEYS)
def chart(build, *args, key: str) -> None:
    """st.plotly_chart of `build(*args)` (a module-level function of presentation)."""
    st.plotly_chart(build(*args), key=key)


# Each entry holds a map's cells and shapes: keep few.
@st.cache_resource(max_entries=8, show_spinner=False)
def incident_map(
    data: DataKey, period: Period, view_filter: ViewFilter, cell_m: int,
    categories: tuple[str, ...], mean_lat: float | None,
) -> tuple[maps.MapFigure, int]:
    """The grid-event map with its legend, and how many cells it draws."""
    shapes, cells = safety_view.incident_map(
        connection_for(data.db_path), period, cell_m, mean_lat, categories, view_filter, data.scope,
        shapes=named_community_shapes(data, view_filter))
    figure = maps.incident_figure(shapes, cells, cell_m, height_px=maps.INCIDENT_MAP_HEIGHT_PX)
    return figure, len(cells)
