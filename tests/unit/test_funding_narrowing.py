"""经费保障 computes its view once per request for the whole scope and narrows
it per street/type filter (funding_view.funding_view_within): on the sample
district, for the default inputs and a household formula, the narrowed view
must be what the filter's own funding_view returns."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pandas as pd
import pytest

from governance import db, funding_view, indicators, sample_loader
from governance.indicators import Period, ViewFilter

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def conn():
    connection = db.connect_memory()
    sample_loader.ensure_sample_loaded(connection)
    yield connection
    connection.close()


def _requests(conn) -> list[funding_view.FundingRequest]:
    period = Period(indicators.available_years(conn)[0])
    return [funding_view.FundingRequest(period),
            funding_view.FundingRequest(period, on_time_days=10, base_yuan=10_000.0,
                                        per_household_yuan=12.0, formula_category="party_building")]


def test_the_narrowed_view_is_the_filters_own(conn):
    streets = indicators.list_streets(conn)
    filters = [ViewFilter(streets=(streets[0],)), ViewFilter(community_types=("rural",)),
               ViewFilter(streets=tuple(streets[:2]), community_types=("urban", "old_town"))]
    checked = 0
    for request in _requests(conn):
        whole = funding_view.funding_view(conn, request, as_of=AS_OF)
        assert len(whole.lines) > 0 and len(whole.problem_lines) > 0
        assert whole.formula.notna().any()
        for view_filter in filters:
            own = funding_view.funding_view(conn, request, view_filter, as_of=AS_OF)
            ids = indicators.communities_in_scope(conn, view_filter).column("community_id")
            narrowed = funding_view.funding_view_within(
                conn, whole, pd.Series(ids.to_pylist()), request, view_filter)
            assert 0 < len(own.inputs) < len(whole.inputs)
            for field in fields(funding_view.FundingView):
                mine, theirs = getattr(narrowed, field.name), getattr(own, field.name)
                if isinstance(theirs, pd.DataFrame):
                    pd.testing.assert_frame_equal(mine.reset_index(drop=True),
                                                  theirs.reset_index(drop=True),
                                                  check_dtype=False)
                elif isinstance(theirs, pd.Series):
                    pd.testing.assert_series_equal(mine, theirs, check_dtype=False)
                else:
                    assert mine == theirs, field.name
            checked += 1
    assert checked == 6
