"""平安建设 computes its view once per period for the whole scope and narrows it
per street/type filter (safety_view.safety_view_within): on the sample
district, for several filters and month ranges, from the raw events and from
an imported aggregate run, the narrowed view must be what the filter's own
safety_view returns."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from governance import db, facility_view, indicators, safety_view, sample_loader
from governance.catalogue import Standards
from governance.indicators import Period, ViewFilter
from governance.spark import aggregates

YEAR = Period(month_from=date(2025, 1, 1), month_to=date(2025, 12, 1))
SPRING = Period(month_from=date(2025, 3, 1), month_to=date(2025, 5, 1))
RUN = Period(month_from=date(2025, 2, 1), month_to=date(2025, 10, 1))


def _filters(conn) -> list[ViewFilter]:
    streets = indicators.list_streets(conn)
    return [
        # One street: its monthly lines are the scope's lines of that street.
        ViewFilter(streets=(streets[0],)),
        ViewFilter(streets=("柳湾镇",)),
        ViewFilter(streets=tuple(streets[3:5])),
        ViewFilter(community_types=("rural",)),
        ViewFilter(streets=tuple(streets[:3]), community_types=("urban", "old_town")),
        # 东关街道 has no rural community: the filter's own (empty) view.
        ViewFilter(streets=("东关街道",), community_types=("rural",)),
    ]


@pytest.fixture(scope="module")
def sample():
    connection = db.connect_memory()
    sample_loader.ensure_sample_loaded(connection)
    yield connection
    connection.close()


@pytest.fixture
def with_run(tmp_path):
    """The sample with an imported run over RUN (as of the events' end)."""
    connection = db.connect_memory()
    sample_loader.ensure_sample_loaded(connection)
    run = aggregates.compute(connection, RUN)
    aggregates.write(run, tmp_path, "parquet", "spark", "test")
    aggregates.import_aggregates(connection, tmp_path)
    yield connection
    connection.close()


def _same_frames(mine, theirs, name: str) -> None:
    """Equal frames (or Arrow tables, as frames): values to pandas' tolerance,
    as DuckDB may add doubles in another order from one run to the next."""
    if isinstance(theirs, pa.Table):
        mine, theirs = mine.to_pandas(), theirs.to_pandas()
    pd.testing.assert_frame_equal(mine, theirs, obj=name)


def _same_view(mine: safety_view.SafetyView | None, theirs: safety_view.SafetyView | None):
    for field in fields(safety_view.SafetyView):
        left, right = getattr(mine, field.name), getattr(theirs, field.name)
        if isinstance(right, (pd.DataFrame, pa.Table)):
            _same_frames(left, right, field.name)
        elif field.name == "incidents":
            assert (left is None) == (right is None)
            if right is None:
                continue
            for part in fields(safety_view.IncidentView):
                a, b = getattr(left, part.name), getattr(right, part.name)
                if isinstance(b, (pd.DataFrame, pa.Table)):
                    _same_frames(a, b, f"incidents.{part.name}")
                else:
                    assert a == b, part.name
        else:
            assert left == right, field.name


def _check(conn, period: Period, standards: Standards | None = None) -> list:
    """Every filter's narrowed view against its own; the narrowed views."""
    whole = safety_view.safety_view(conn, period, standards=standards)
    narrowed_views = []
    for view_filter in _filters(conn):
        own = safety_view.safety_view(conn, period, view_filter, standards=standards)
        ids = indicators.communities_in_scope(conn, view_filter).column("community_id")
        narrowed = safety_view.safety_view_within(
            conn, whole, pd.Series(ids.to_pylist(), dtype=object), period, view_filter,
            standards=standards)
        _same_view(narrowed, own)
        if len(view_filter.streets) == 1 and len(ids):
            district = narrowed.monthly[narrowed.monthly["is_district"]]
            assert district["value"].notna().any()
        assert len(narrowed.standards_matrix) == len(ids) < len(whole.standards_matrix)
        narrowed_views.append(narrowed)
    return [whole, *narrowed_views]


@pytest.mark.parametrize("period", [YEAR, SPRING], ids=["year", "spring"])
def test_narrowed_from_the_raw_events_is_the_filters_own(sample, period):
    whole, *narrowed = _check(sample, period)
    assert whole.incidents.source.kind == safety_view.RAW
    # Rows to narrow, and filters that keep some and drop some of them.
    assert len(whole.red_flags) > 0 and len(whole.incidents.differences) > 0
    kept = [len(view.incidents.differences) for view in narrowed if view.incidents]
    assert any(0 < n < len(whole.incidents.differences) for n in kept)
    assert any(view.incidents.reconciliation["checked"]
               < whole.incidents.reconciliation["checked"] > 0 for view in narrowed
               if view.incidents and len(view.incidents.differences))


def test_narrowed_under_other_standards_is_the_filters_own(sample):
    stricter = Standards.default().with_overrides(
        thresholds={"S07": {"floor": 45.0, "target": 60.0}},
        settings={"min_reported_months_pct": 100})
    whole, *_ = _check(sample, YEAR, stricter)
    baseline = safety_view.safety_view(sample, YEAR)
    assert not whole.standards_matrix.equals(baseline.standards_matrix)


@pytest.mark.parametrize("period", [RUN, YEAR, SPRING], ids=["run", "clipped", "inside"])
def test_narrowed_from_an_imported_run_is_the_filters_own(with_run, period):
    with_run.execute("delete from incidents")
    whole, *narrowed = _check(with_run, period)
    assert whole.incidents.source.kind == safety_view.AGGREGATES
    assert len(whole.incidents.differences) > 0
    assert all(view.incidents.source.kind == safety_view.AGGREGATES
               for view in narrowed if view.incidents)


def test_a_filter_on_another_source_than_the_scope_runs_its_own(with_run):
    """Raw events gone from one street only: the scope reads them, that street
    reads the run, and its reconciliation is not narrowed from the scope's."""
    street = indicators.list_streets(with_run)[0]
    with_run.execute(
        "delete from incidents where community_id in "
        "(select community_id from communities where street = ?)", [street])
    whole, first, *_ = _check(with_run, RUN)
    assert whole.incidents.source.kind == safety_view.RAW
    assert first.incidents.source.kind == safety_view.AGGREGATES


def test_the_map_from_the_scopes_narrowed_shapes_is_the_filters_own(sample, with_run):
    """The page hands incident_map the scope's outlines narrowed to the filter
    and named from the filter's communities (pages/_reads.named_community_shapes):
    shapes and cells must be what the filter's own queries give, from the raw
    events and from an imported run."""
    checked = 0
    for conn in (sample, with_run):
        sources = facility_view.shape_sources(conn, ViewFilter())
        for view_filter in [ViewFilter(), *_filters(conn)]:
            communities = indicators.communities_in_scope(conn, view_filter).to_pandas()
            shapes = safety_view.named_shapes(
                facility_view.shapes_of(sources.within(communities["community_id"])),
                communities)
            own = safety_view.incident_map(conn, RUN, 250, 32.0, view_filter=view_filter)
            given = safety_view.incident_map(conn, RUN, 250, 32.0, view_filter=view_filter,
                                             shapes=shapes)
            _same_frames(given[0], own[0], "shapes")
            _same_frames(given[1], own[1], "cells")
            checked += len(own[0]) > 0 and len(own[1]) > 0
    assert checked >= 10  # most filters draw shapes and cells from both sources
