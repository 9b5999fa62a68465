"""Cached reads for the pages, each keyed on a DataKey (database, data
version, account scope) so an import or another scope never gets a stale or
foreign result. Every computation is a call into `governance`."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import streamlit as st

from governance import (
    boundaries,
    coverage,
    facility_view,
    funding_view,
    indicators,
    presentation,
    safety,
    safety_view,
    sample_rows,
    scenarios,
)
from governance.indicators import Period, ViewFilter
from governance.scenarios import BASELINE, Scenario
from pages._context import CACHE_ENTRIES, DataKey, PageContext, connection_for


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def available_periods(data: DataKey) -> tuple[list[int], list[date]]:
    conn = connection_for(data.db_path)
    return (indicators.available_years(conn, data.scope),
            indicators.available_months(conn, data.scope))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def streets_in_scope(data: DataKey) -> list[str]:
    return indicators.list_streets(connection_for(data.db_path), data.scope)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def sample_tables_at(db_path: str, version: int) -> list[str]:
    return sample_rows.tables_present(connection_for(db_path))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def scenario_list(db_path: str, scenario_version: int) -> pd.DataFrame:
    return scenarios.list_scenarios(connection_for(db_path))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def saved_scenario_named(db_path: str, scenario_version: int, name: str) -> Scenario | None:
    return scenarios.load_scenario(connection_for(db_path), name)


def sample_tables(ctx: PageContext, version: int | None = None) -> list[str]:
    """Tables still holding sample rows at `version` (default: the page's)."""
    return sample_tables_at(ctx.db_path, ctx.version if version is None else version)


# The large results (a province's indicator values, coverage points, safety
# view) are kept as objects, not pickles: st.cache_data unpickles a copy on
# every hit, which took seconds per run at a province's scale. Nothing
# modifies a result it reads (governance works on copies), and a pyarrow
# Table cannot be modified at all.
SHARED_ENTRIES = 16

# Indicator values and the community list are computed once per scope and
# narrowed to each street/type filter: a filter change then costs a row filter,
# not every indicator query again (indicators.within_filter says when that holds).
# A province's scope-wide values are ~72 MB of Arrow (460,000 rows): every
# page and the scenario editor narrow them, so they are kept, but few.
SCOPE_VALUE_ENTRIES = 8


@st.cache_resource(max_entries=SCOPE_VALUE_ENTRIES, show_spinner=False)
def _scope_indicator_values(data: DataKey, period: Period, scenario: Scenario) -> pa.Table:
    return indicators.indicator_values(
        connection_for(data.db_path), period, ViewFilter(), scenario.standards(), data.scope)


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def indicator_values(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    return indicators.within_filter(
        _scope_indicator_values(data, period, scenario), view_filter).to_pandas()


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def _scope_communities(data: DataKey) -> pa.Table:
    return indicators.communities_in_scope(connection_for(data.db_path), ViewFilter(), data.scope)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def district_totals(data: DataKey, view_filter: ViewFilter) -> dict:
    return indicators.totals_of(indicators.within_filter(_scope_communities(data), view_filter))


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def communities(data: DataKey, view_filter: ViewFilter) -> pd.DataFrame:
    return indicators.within_filter(_scope_communities(data), view_filter).to_pandas()


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def _scope_status_matrix(data: DataKey, period: Period, scenario: Scenario) -> pd.DataFrame:
    return indicators.status_matrix(_scope_indicator_values(data, period, scenario),
                                    _scope_communities(data))


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def status_matrix(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    """The matrix's rows are built once per scope and narrowed here: pivoting a
    filter's values again cost a fixed ~0.2 s per filter change."""
    matrix = indicators.rows_within_filter(_scope_status_matrix(data, period, scenario),
                                           view_filter)
    return presentation.with_type_labels(matrix)


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def _scope_space_standards(data: DataKey, period: Period, scenario: Scenario) -> pd.DataFrame:
    return facility_view.space_standards(_scope_indicator_values(data, period, scenario),
                                         _scope_communities(data))


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def space_standards(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    """F01–F05 per community, with the community type in words (设施覆盖's table);
    built once per scope and narrowed, as status_matrix."""
    return presentation.with_type_labels(indicators.rows_within_filter(
        _scope_space_standards(data, period, scenario), view_filter))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def dimension_summary(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    return indicators.dimension_summary(indicator_values(data, period, view_filter, scenario))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def street_status_counts(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> pd.DataFrame:
    return indicators.street_status_counts(indicator_values(data, period, view_filter, scenario),
                                           communities(data, view_filter))


# A city's facilities and located points (100,000 rows) are read once per
# scope; a street or type filter keeps its communities' rows (~10 ms less a
# query each, on 设施覆盖 and 平安建设).
@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def _scope_facilities(data: DataKey) -> pa.Table:
    return facility_view.facilities_table(connection_for(data.db_path), ViewFilter(), data.scope)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def facilities_in_scope(data: DataKey, view_filter: ViewFilter) -> pd.DataFrame:
    if view_filter == ViewFilter():
        return _scope_facilities(data).to_pandas()
    return facility_view.facilities_within(_scope_facilities(data),
                                           communities(data, view_filter)["community_id"])


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def _scope_shape_sources(data: DataKey) -> boundaries.ShapeSources:
    return facility_view.shape_sources(connection_for(data.db_path), ViewFilter(), data.scope)


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def community_shapes(data: DataKey, view_filter: ViewFilter) -> pd.DataFrame:
    """The filter's community outlines (facility_view.community_shapes)."""
    sources = _scope_shape_sources(data)
    if view_filter != ViewFilter():
        sources = sources.within(communities(data, view_filter)["community_id"])
    return facility_view.shapes_of(sources)


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def named_community_shapes(data: DataKey, view_filter: ViewFilter) -> pd.DataFrame:
    return safety_view.named_shapes(community_shapes(data, view_filter),
                                    communities(data, view_filter))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def closable_facilities(data: DataKey, view_filter: ViewFilter, facility_type: str
                        ) -> dict[str, str]:
    """The closure picker's choices (a city has thousands: built once, not per run)."""
    return facility_view.closable_facilities(facilities_in_scope(data, view_filter),
                                             facility_type)


# Each what-if combination holds a full points frame: keep few.
@st.cache_resource(max_entries=8, show_spinner=False)
def coverage_view(
    data: DataKey, request: facility_view.CoverageRequest, view_filter: ViewFilter
) -> facility_view.CoverageView:
    """Coverage is computed once per request for the whole scope; a street or
    type filter narrows it (facility_view.coverage_view_within)."""
    conn = connection_for(data.db_path)
    shapes = community_shapes(data, view_filter)
    if view_filter == ViewFilter():
        return facility_view.coverage_view(conn, request, view_filter, data.scope, shapes=shapes)
    return facility_view.coverage_view_within(
        coverage_view(data, request, ViewFilter()), communities(data, view_filter)["community_id"],
        basis=coverage_basis(data, view_filter), shapes=shapes)


@st.cache_resource(max_entries=SHARED_ENTRIES, show_spinner=False)
def _scope_coverage_basis(data: DataKey) -> pa.Table:
    conn = connection_for(data.db_path)
    return coverage.community_basis(
        conn, indicators.query_params(conn, Period(), ViewFilter(), scope=data.scope))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def coverage_basis(data: DataKey, view_filter: ViewFilter) -> dict:
    """The filter's own coverage.coverage_basis, from the scope's rows."""
    rows = _scope_coverage_basis(data)
    if view_filter != ViewFilter():
        rows = indicators.rows_of_communities(rows, communities(data, view_filter)["community_id"])
    return coverage.basis_summary(rows)


@st.cache_resource(max_entries=16, show_spinner=False)
def funding_data(
    data: DataKey, request: funding_view.FundingRequest, view_filter: ViewFilter
) -> funding_view.FundingView:
    """Computed once per request for the whole scope; a street or type filter
    narrows it (funding_view.funding_view_within)."""
    conn = connection_for(data.db_path)
    if view_filter == ViewFilter():
        return funding_view.funding_view(conn, request, view_filter, data.scope)
    return funding_view.funding_view_within(
        conn, funding_data(data, request, ViewFilter()),
        communities(data, view_filter)["community_id"], request, view_filter, data.scope)


@st.cache_resource(max_entries=16, show_spinner=False)
def safety_data(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario = BASELINE,
) -> safety_view.SafetyView:
    """Computed once per period and scenario for the whole scope; a street or
    type filter narrows it (safety_view.safety_view_within)."""
    conn = connection_for(data.db_path)
    if view_filter == ViewFilter():
        return safety_view.safety_view(conn, period, view_filter, data.scope,
                                       scenario.standards())
    return safety_view.safety_view_within(
        conn, safety_data(data, period, ViewFilter(), scenario),
        communities(data, view_filter)["community_id"], period, view_filter, data.scope,
        scenario.standards())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def safety_drill_choices(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario, street: str,
) -> dict[str, str]:
    return safety.drill_choices(
        safety_data(data, period, view_filter, scenario).standards_matrix, street)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def safety_community_months(
    data: DataKey, period: Period, view_filter: ViewFilter, community_id: str
) -> pd.DataFrame:
    return safety_view.community_months(
        connection_for(data.db_path), period, community_id, view_filter, data.scope)


def saved_scenario(ctx: PageContext, name: str) -> Scenario:
    """A saved scenario by name (the baseline if it has just been deleted)."""
    found = saved_scenario_named(ctx.db_path, scenarios.scenario_version(ctx.conn), name)
    return found or BASELINE


# Each comparison computes every indicator twice: keep few.
@st.cache_data(max_entries=8, show_spinner=False)
def scenario_comparison(
    data: DataKey, period: Period, view_filter: ViewFilter, scenario: Scenario
) -> scenarios.Comparison:
    """From the cached scope-wide indicator values (baseline and scenario),
    narrowed to the filter: a filter change does not run the queries again."""
    return scenarios.compare_values(
        scenario, indicator_values(data, period, view_filter, BASELINE),
        indicator_values(data, period, view_filter, scenario), communities(data, view_filter))


def street_names(ctx: PageContext) -> list[str]:
    """The streets the account may see (for pickers)."""
    return streets_in_scope(ctx.data)
