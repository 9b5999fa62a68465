"""AppTest fixtures: a fresh copy of a sample-loaded database per test."""

from __future__ import annotations

import shutil

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from governance import auth, db, sample_loader
from pages import _context, _session, _warm
from tests.conftest import PROJECT_DIR

# The first run imports nothing (the copy is pre-loaded) but still builds every
# cache; 3 s, AppTest's default, is too short on a 2-core machine.
TIMEOUT_S = 90


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
