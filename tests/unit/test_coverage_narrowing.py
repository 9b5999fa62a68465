"""设施覆盖 computes coverage once per request for the whole scope and narrows
it per street/type filter (facility_view.coverage_view_within): on the sample
district, with and without a what-if, the narrowed view must be what the
filter's own coverage_view returns. The outlines come from the scope's shape
sources narrowed to the filter's communities, as the page takes them; so do
the basis counts and the facilities on the map."""

from __future__ import annotations

import pandas as pd
import pytest

from governance import boundaries, coverage, db, facility_view, indicators, sample_loader
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
    scope_basis = coverage.community_basis(
        conn, indicators.query_params(conn, indicators.Period(), ViewFilter()))
    for request in _requests(conn):
        whole = facility_view.coverage_view(conn, request)
        assert (len(whole.changes) > 0) == request.is_what_if  # the closures lose households
        for view_filter in _filters(conn):
            own = facility_view.coverage_view(conn, request, view_filter)
            ids = indicators.communities_in_scope(conn, view_filter).column("community_id")
            shapes = facility_view.shapes_of(
                facility_view.shape_sources(conn, ViewFilter()).within(ids.to_pylist()))
            narrowed = facility_view.coverage_view_within(
                whole, pd.Series(ids.to_pylist()),
                basis=coverage.basis_summary(indicators.rows_of_communities(
                    scope_basis, ids.to_pylist())), shapes=shapes)
            assert len(own.communities) > 0
            assert narrowed.district == own.district
            assert narrowed.basis == own.basis
            for name in ("communities", "streets", "left_out", "uncovered_points", "points",
                         "shapes", "changes"):
                _frames_equal(getattr(narrowed, name), getattr(own, name))
            checked += 1
    assert checked == 6


def test_the_narrowed_facilities_are_the_filters_own(conn):
    whole = facility_view.facilities_table(conn, ViewFilter())
    for view_filter in _filters(conn):
        own = facility_view.facilities_in_scope(conn, view_filter)
        ids = indicators.communities_in_scope(conn, view_filter).column("community_id")
        narrowed = facility_view.facilities_within(whole, pd.Series(ids.to_pylist()))
        assert 0 < len(own) < whole.num_rows
        pd.testing.assert_frame_equal(narrowed, own)


def test_a_few_communities_get_hulls_from_the_narrowed_sources(conn, monkeypatch):
    """The choice between hulls and boxes is made for the communities drawn,
    not for the scope whose sources were read."""
    monkeypatch.setattr(boundaries, "DERIVE_HULLS_UP_TO", 3)
    sources = facility_view.shape_sources(conn, ViewFilter())
    uploaded = set(sources.boundaries.column("community_id").to_pylist())
    one = next(c for c in sources.points.column("community_id").to_pylist() if c not in uploaded)
    whole = facility_view.shapes_of(sources)
    narrowed = facility_view.shapes_of(sources.within([one]))
    points = sources.points.to_pandas()
    points = points[points["community_id"] == one]
    hull = boundaries.derive_shape(points["lon"].to_numpy(float), points["lat"].to_numpy(float))
    assert narrowed["community_id"].tolist() == [one]
    assert narrowed["rings"].iloc[0] == [hull]
    boxed = whole[whole["community_id"] == one]["rings"].iloc[0]
    assert len(boxed[0]) == 5 and boxed != [hull]  # the scope's many are boxes
