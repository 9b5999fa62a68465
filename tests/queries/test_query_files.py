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


# --- fragments: each rule written once ----------------------------------------------

SCOPE_RULE = re.compile(r"list_contains\(\$scope_streets")


def test_the_scope_rule_is_written_only_in_fragments():
    for name in db.query_names():
        text = (db.QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
        assert not SCOPE_RULE.search(text), f"{name} writes the scope rule itself"
    for name in ("scoped_communities", "visible_communities"):
        assert len(SCOPE_RULE.findall(db.load_fragment(name))) == 1


@pytest.mark.parametrize("name", INDICATOR_QUERIES)
def test_indicator_queries_take_the_standards_from_the_fragment(name):
    query = db.load_query(name)
    assert {"scoped_communities", "standards"} <= set(query.fragments)
    text = (db.QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
    assert "unnest($thresholds)" not in text


@pytest.mark.parametrize("name", db.fragment_names())
def test_fragment_headers_list_their_ctes_and_parameters(name):
    text = (db.FRAGMENTS_DIR / f"{name}.sql").read_text(encoding="utf-8")
    header = "\n".join(line[2:] for line in text.splitlines() if line.startswith("-- "))
    body = db.load_fragment(name)
    ctes = re.findall(r"^(\w+) as (?:materialized )?\(", body, re.M)
    listed = re.search(r"CTEs: (.*?)(?:\n\S|\Z)", header, re.S).group(1)
    assert all(cte in listed for cte in ctes), name
    parameters = re.search(r"Parameters: (.*)", header).group(1)
    assert set(_HEADER_PARAMETER.findall(parameters)) == set(_HEADER_PARAMETER.findall(body))
    assert body.rstrip().endswith("),")  # stands in a with list


def test_composition_refuses_unknown_and_circular_fragments(tmp_path, monkeypatch):
    with pytest.raises(db.QueryError):
        db.compose("with\n-- include: no_such_fragment\nfinal as (select 1)\nselect 1")
    monkeypatch.setattr(db, "FRAGMENTS_DIR", tmp_path)
    (tmp_path / "a.sql").write_text("-- CTEs: a\na as (select 1),\n-- include: b\n",
                                    encoding="utf-8")
    (tmp_path / "b.sql").write_text("-- CTEs: b\nb as (select 2),\n-- include: a\n",
                                    encoding="utf-8")
    with pytest.raises(db.QueryError, match="a → b → a"):
        db.compose("with\n-- include: a\nselect 1")


def test_composed_text_is_what_runs(memory_conn):
    query = db.load_query("district_public_welfare")
    assert "-- include:" not in query.sql
    assert "list_contains($scope_streets, street)" in query.sql


# --- the catalogue is the index -----------------------------------------------------

from governance.catalogue import load_catalogue  # noqa: E402

CATALOGUE = load_catalogue().indicators


def _computed_literals(name: str) -> set[str]:
    """Indicator ids that a query file (as composed) writes as a value literal."""
    return set(re.findall(r"'([FMSO]\d\d)'", db.load_query(name).sql))


@pytest.mark.parametrize("item", CATALOGUE, ids=[i.id for i in CATALOGUE])
def test_each_indicator_is_computed_in_the_file_the_catalogue_names(item):
    assert item.query in db.query_names()
    assert item.id in _computed_literals(item.query)
    elsewhere = [name for name in db.query_names()
                 if name not in (item.query, item.trend_query)
                 and item.id in _computed_literals(name)]
    assert elsewhere == [], f"{item.id} is also computed in {elsewhere}"
    if item.trend_query:
        assert item.id in _computed_literals(item.trend_query)


def test_the_app_runs_exactly_the_files_the_catalogue_names():
    from governance import indicators

    assert {name for _, name in indicators.indicator_queries()} == {i.query for i in CATALOGUE}


def test_the_on_time_rule_of_m05_is_written_once():
    for name in db.query_names():
        text = (db.QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        assert "$on_time_days" not in body, name
    assert "$on_time_days" in db.load_fragment("funding_lines_timed")
    for name in ("community_funding_indicators", "funding_disbursement_lines"):
        assert "funding_lines_timed" in db.load_query(name).fragments
