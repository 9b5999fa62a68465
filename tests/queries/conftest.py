"""Every indicator query test runs on the small hand-computed fixture."""

from __future__ import annotations

import pytest

from tests.conftest import load_fixture_sql


@pytest.fixture
def conn(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    return memory_conn
