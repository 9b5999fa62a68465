"""Every query file documents itself: what one row is, and exactly its $parameters."""

from __future__ import annotations

import re

import pytest

from governance import db

_HEADER_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _header_block(name: str) -> str:
    """The comment block that opens the file (up to the first non-comment line)."""
    lines = []
    for line in (db.QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return "\n".join(lines)


def test_there_are_query_files():
    assert "community_facility_indicators" in db.query_names()


@pytest.mark.parametrize("name", db.query_names())
def test_header_has_one_row_per_line(name):
    assert "One row per" in _header_block(name)


@pytest.mark.parametrize("name", db.query_names())
def test_header_lists_exactly_the_parameters_used(name):
    header = _header_block(name)
    match = re.search(r"^Parameters:(.*?)(?=^\S[^\n]*:|\Z)", header, re.S | re.M)
    assert match, f"{name}: no 'Parameters:' line in the header"
    listed = set(_HEADER_PARAMETER.findall(match.group(1)))
    used = set(db.load_query(name).parameters)
    assert listed == used
    if not used:
        assert match.group(1).strip() == "none"


@pytest.mark.parametrize("name", db.query_names())
def test_header_mentions_no_parameter_the_body_does_not_use(name):
    header = _header_block(name)
    assert set(_HEADER_PARAMETER.findall(header)) <= set(db.load_query(name).parameters)


INDICATOR_QUERIES = [
    "community_facility_indicators",
    "community_funding_indicators",
    "community_safety_indicators",
    "community_organisation_indicators",
]


@pytest.mark.parametrize("name", INDICATOR_QUERIES)
def test_indicator_queries_take_scope_filter_and_thresholds(name):
    parameters = db.load_query(name).parameters
    assert {"scope_streets", "community_types", "thresholds"} <= parameters


@pytest.mark.parametrize("name", INDICATOR_QUERIES)
def test_indicator_queries_use_the_status_macro_and_end_in_final(name):
    sql = db.load_query(name).sql
    assert "indicator_status(" in sql
    assert re.search(r"select \* from final\s*(order by [a-z_, ]+)?\s*$", sql)
    # No status string is produced outside the macro.
    assert "'partly_met'" not in sql and "'not_met'" not in sql


def test_every_query_but_the_scope_expander_is_scoped():
    # Saved scenarios are thresholds and settings, not any street's data.
    for name in db.query_names():
        if name in {"all_street_names", "import_history", "saved_scenarios"}:
            continue
        assert "scope_streets" in db.load_query(name).parameters, name
