"""Shared by the indicator query tests: bound parameters, row lookup, checks."""

from __future__ import annotations

from datetime import date

import pytest

from governance import db
from governance.catalogue import Standards

STREETS = ["东湖街道", "西山镇"]
TYPES = ["urban", "rural", "resettlement", "old_town", "urban_village"]


def params(standards: Standards | None = None, **overrides):
    standards = standards or Standards.default()
    bound = {
        key: list(value) if isinstance(value, (list, tuple)) else value
        for key, value in standards.settings.items()
    }
    bound.update(
        scope_streets=STREETS,
        community_types=TYPES,
        thresholds=standards.thresholds_param(),
        year=2024,
        month_from=date(2024, 1, 1),
        month_to=date(2024, 3, 1),
    )
    bound.update(overrides)
    return bound


def rows_by_key(conn, query: str, bound):
    table = db.run_query(conn, query, bound)
    return {(r["community_id"], r["indicator_id"]): r for r in table.to_pylist()}


def check(rows, expected):
    """expected: (community, indicator, value, floor, target, status) tuples."""
    for community_id, indicator_id, value, floor, target, status in expected:
        row = rows[(community_id, indicator_id)]
        where = f"{community_id} {indicator_id}"
        assert row["status"] == status, where
        if value is None:
            assert row["value"] is None, where
        else:
            assert row["value"] == pytest.approx(value), where
        assert row["floor_value"] == (None if floor is None else pytest.approx(floor)), where
        assert row["target_value"] == (None if target is None else pytest.approx(target)), where
