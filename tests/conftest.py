"""Fixtures shared by every test layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance import db

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
SAMPLE_DIR = PROJECT_DIR / "data" / "sample"


@pytest.fixture
def memory_conn():
    """An empty in-memory database with the schema applied."""
    conn = db.connect_memory()
    yield conn
    conn.close()


def load_fixture_sql(conn, name: str) -> None:
    """Run tests/fixtures/<name>.sql (plain SQL inserts) into conn."""
    conn.execute((FIXTURES_DIR / f"{name}.sql").read_text(encoding="utf-8"))
