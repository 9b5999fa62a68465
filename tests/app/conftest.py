"""AppTest fixtures: a fresh copy of a sample-loaded database per test."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from governance import auth, db, presentation, sample_loader
from pages import _context, _session, _warm
from tests.conftest import PROJECT_DIR

# The first run imports nothing (the copy is pre-loaded) but still builds every
# cache; 3 s, AppTest's default, is too short on a 2-core machine.
TIMEOUT_S = 90

_STYLED_CELL = re.compile(r"#T_[0-9a-z]+_row(\d+)_col(\d+)")
_FILL = re.compile(r"background-color:\s*(#[0-9a-fA-F]{6})")


def shown_statuses(element) -> pd.DataFrame:
    """The status each cell of a drawn st.dataframe shows by its fill colour, as
    the Styler's CSS sent to the browser says (presentation.STATUS_FILLS): what
    a reader sees. Same shape as element.value; "" for a cell without a fill.
    A status table sends its value columns only, never the status codes."""
    frame = element.value
    statuses = pd.DataFrame("", index=frame.index, columns=frame.columns, dtype=object)
    status_of_fill = {fill: status for status, fill in presentation.STATUS_FILLS.items()}
    for block in element.proto.arrow_data.styler.styles.split("}"):
        selectors, _, declarations = block.partition("{")
        fill = _FILL.search(declarations)
        if fill is None:
            continue
        for row, column in _STYLED_CELL.findall(selectors):
            statuses.iat[int(row), int(column)] = status_of_fill[fill.group(1).lower()]
    return statuses


@pytest.fixture(scope="session")
def sample_db_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "sample.duckdb"
    conn = db.connect(path)
    sample_loader.ensure_sample_loaded(conn)
    conn.close()
    return path


@pytest.fixture
def app_db(sample_db_file, tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    shutil.copy(sample_db_file, path)
    monkeypatch.setenv(db.DB_ENV_VAR, str(path))
    # Accounts beside this test's database: none, unless a test adds some.
    monkeypatch.setenv(auth.ACCOUNTS_ENV_VAR, str(tmp_path / "accounts.sqlite"))
    st.cache_data.clear()
    st.cache_resource.clear()
    # AppTest sessions share one session id: no sign-in may outlive its test.
    _session._SIGNED_IN.clear()
    yield path
    _session._SIGNED_IN.clear()
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def no_background_warming(monkeypatch):
    """The post-import cache warming (pages/_warm.py) would run a thread per
    test that outlives its temporary database; tests see pages computed cold."""
    monkeypatch.setattr(_warm, "ENABLED", False)


@pytest.fixture(autouse=True)
def page_failures_surface(request, monkeypatch):
    """A failing page shows the Chinese message with a log number, not an
    exception element (pages/_context.py run_guarded). In tests the failure is
    raised on instead, so `assert not app.exception` still catches a page that
    fails; tests of the message itself ask for `failures_expected`."""
    if "failures_expected" in request.fixturenames:
        return

    def raise_on(exc: Exception) -> None:
        raise exc

    monkeypatch.setattr(_context, "_page_failure", raise_on)


@pytest.fixture
def app(app_db) -> AppTest:
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at
