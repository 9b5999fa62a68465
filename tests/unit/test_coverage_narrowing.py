"""设施覆盖 computes coverage once per request for the whole scope and narrows
it per street/type filter (facility_view.coverage_view_within): on the sample
district, with and without a what-if, the narrowed view must be what the
filter's own coverage_view returns."""

from __future__ import annotations

import pandas as pd
import pytest

from governance import db, facility_view, indicators, sample_loader
from governance.indicators import ViewFilter


@pytest.fixture(scope="module")
def conn():
    connection = db.connect_memory()
    sample_loader.ensure_sample_loaded(connection)
    yield connection
    connection.close()


def _requests(conn) -> list[facility_view.CoverageRequest]:
    facilities = facility_view.facilities_in_scope(conn, ViewFilter())
    in_use = facilities[(facilities["facility_type"] == "service_center")
                        & (facilities["status"] == "in_use")]["facility_id"].tolist()
    return [
        facility_view.CoverageRequest(),
        facility_view.CoverageRequest(radius_m=500.0, closed=tuple(in_use[:2]),
                                      added=(facility_view.Proposal(117.03, 30.62),)),
    ]


def _filters(conn) -> list[ViewFilter]:
    streets = indicators.list_streets(conn)
    return [ViewFilter(streets=(streets[0],)), ViewFilter(community_types=("rural",)),
            ViewFilter(streets=tuple(streets[:2]), community_types=("urban", "old_town"))]


def _frames_equal(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True),
                                  check_dtype=False)


def test_the_narrowed_view_is_the_filters_own(conn):
    checked = 0
    for request in _requests(conn):
        whole = facility_view.coverage_view(conn, request)
        assert (len(whole.changes) > 0) == request.is_what_if  # the closures lose households
        for view_filter in _filters(conn):
            own = facility_view.coverage_view(conn, request, view_filter)
            ids = indicators.communities_in_scope(conn, view_filter).column("community_id")
            narrowed = facility_view.coverage_view_within(
                conn, whole, pd.Series(ids.to_pylist()), view_filter)
            assert len(own.communities) > 0
            assert narrowed.district == own.district
            assert narrowed.basis == own.basis
            for name in ("communities", "streets", "left_out", "uncovered_points", "points",
                         "shapes", "changes"):
                _frames_equal(getattr(narrowed, name), getattr(own, name))
            checked += 1
    assert checked == 6
