"""The storage schema, the contract and the SQL allowlist agree."""

from __future__ import annotations

import pytest

from governance import db
from governance.contract import (
    COMMUNITY_TYPE,
    FUNDING,
    TABLES,
    detect_table,
    match_header,
    normalize_text,
    split_header,
)

KIND_TO_TYPES = {
    "text": {"VARCHAR"},
    "enum": {"VARCHAR"},
    "int": {"INTEGER"},
    "year": {"INTEGER"},
    "number": {"DOUBLE"},
    "percent": {"DOUBLE"},
    "money": {"DECIMAL(12,2)", "DECIMAL(18,2)"},
    "date": {"DATE"},
    "datetime": {"TIMESTAMP"},
    "year_month": {"DATE"},
}


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_schema_has_every_contract_column_with_its_type(memory_conn, table):
    rows = memory_conn.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_name = $table order by ordinal_position",
        {"table": table.name},
    ).fetchall()
    stored = {name: (data_type, nullable) for name, data_type, nullable in rows}
    storage_only = {"import_id"} | set(db.STORAGE_KEYS[table.name]) - set(table.column_names)
    assert set(stored) == set(table.column_names) | storage_only
    for column in table.columns:
        data_type, nullable = stored[column.name]
        assert data_type in KIND_TO_TYPES[column.kind], (column.name, data_type)
        # A required column or one with a default can never be NULL in storage.
        assert (nullable == "NO") == (column.required or column.default is not None), column.name


def test_aliases_are_unambiguous_within_each_table():
    for table in TABLES.values():
        seen: dict[str, str] = {}
        for column in table.columns:
            for spelling in (column.name, column.label, *column.aliases):
                key = normalize_text(spelling).lower()
                assert seen.setdefault(key, column.name) == column.name, (table.name, spelling)


def test_header_units_and_full_width_forms_are_understood():
    assert split_header("面积（平方米）") == ("面积", "平方米")
    assert split_header(" 户数　") == ("户数", "")
    match = match_header(FUNDING, ["社区编码", "年度", "经费类别", "金额（万元）", "备注"])
    assert match.positions == {0: "community_id", 1: "year", 2: "category", 3: "amount_yuan"}
    assert match.units == {"amount_yuan": "万元"}
    assert match.unknown == ("备注",)
    assert match.missing_required == ()


def test_detect_table_prefers_the_table_that_fits():
    assert detect_table(["楼栋编码", "社区编码", "户数", "经度", "纬度"]) == TABLES["residences"]
    assert detect_table(["社区编码", "月份", "调解数"]) == TABLES["safety"]
    assert detect_table(["姓名", "电话"]) is None
    assert detect_table(["工单号", "所属社区编码", "上报时间", "事件类型", "处置状态"]) == (
        TABLES["incidents"]
    )


def test_same_row_rules_name_real_columns_and_codes():
    for table in TABLES.values():
        for column in table.columns:
            for other in (column.not_above, column.not_before):
                if other is not None:
                    assert other in table.column_by_name, (table.name, column.name)
            if column.only_when is not None:
                other, code = column.only_when
                enum = table.column_by_name[other].enum
                assert enum is not None and code in {c.code for c in enum.codes}, column.name
    resolved_at = TABLES["incidents"].column_by_name["resolved_at"]
    assert resolved_at.only_when == ("status", "resolved")
    assert resolved_at.not_before == "occurred_at"


def test_every_replace_mode_has_its_wording_and_keys_tables_have_keys():
    from governance.text import has_text

    for table in TABLES.values():
        assert has_text("replaces." + table.replaces), table.name
        if table.replaces == "keys":
            assert table.key and all(table.column_by_name[k].required for k in table.key)


def test_enum_lookup_accepts_code_label_and_alias():
    lookup = COMMUNITY_TYPE.lookup()
    assert lookup["rural"] == lookup["村"] == lookup["农村社区"] == "rural"
    assert lookup["urban_village"] == lookup["城中村"] == "urban_village"


def test_quote_identifier_only_admits_the_allowlist():
    assert db.quote_identifier("communities") == '"communities"'
    assert db.quote_identifier("amount_yuan") == '"amount_yuan"'
    for hostile in ("communities; drop table meta", "information_schema", 'x"y', ""):
        with pytest.raises(db.QueryError):
            db.quote_identifier(hostile)


def test_run_query_refuses_unknown_names_and_missing_parameters(memory_conn):
    with pytest.raises(db.QueryError):
        db.run_query(memory_conn, "../governance/sql/schema")
    with pytest.raises(db.QueryError, match="limit_rows"):
        db.run_query(memory_conn, "import_history", {})
    assert db.run_query(memory_conn, "import_history", {"limit_rows": 5}).num_rows == 0


def test_every_query_header_states_grain_and_parameters():
    for name in db.query_names():
        query = db.load_query(name)
        assert "one row per" in query.header.lower(), name
        declared: set[str] = set()
        in_parameters = False
        for line in query.header.splitlines():
            if line.lower().startswith("parameters:"):
                in_parameters = True
                line = line.split(":", 1)[1]
                if line.strip().lower() == "none":
                    continue
            elif not line.startswith("$"):
                in_parameters = False
            if in_parameters:
                declared |= {p.strip().lstrip("$") for p in line.split(",") if p.strip()}
        assert declared == set(query.parameters), (name, declared, query.parameters)


def test_data_version_bumps_inside_a_transaction(memory_conn):
    assert db.data_version(memory_conn) == 0
    cur = memory_conn.cursor()
    cur.execute("begin transaction")
    db.bump_data_version(cur)
    cur.execute("rollback")
    assert db.data_version(memory_conn) == 0
    cur.execute("begin transaction")
    db.bump_data_version(cur)
    cur.execute("commit")
    assert db.data_version(memory_conn) == 1


# --- keys the database enforces ---------------------------------------------------


def test_every_table_declares_its_key(memory_conn):
    assert db.declared_keys(memory_conn) == db.STORAGE_KEYS


@pytest.mark.parametrize("table", list(TABLES.values()), ids=list(TABLES))
def test_the_contract_key_is_the_stored_key(table):
    # funding lines have no key of their own: they are known by import and row
    assert db.STORAGE_KEYS[table.name] == (table.key or ("import_id", "line_no"))


def _old_layout(path) -> None:
    """A database as the first releases made it: the same tables, no keys,
    funding without line_no (schema.sql with its keys and line_no taken out)."""
    import re

    import duckdb

    text = db.read_sql("schema")
    text = re.sub(r",\s*primary key \([^)]*\)", "", text)
    text = re.sub(r"\s*-- The line's row in its file.*?line_no [^\n]*\n", "\n", text, flags=re.S)
    conn = duckdb.connect(str(path))
    conn.execute(text)
    conn.execute(
        "insert into funding (community_id, year, category, source, amount_yuan, import_id)"
        " values ('C1', 2025, 'office', 'fiscal', 100, 7), ('C1', 2025, 'office', 'fiscal', 100, 7),"
        " ('C2', 2025, 'office', 'fiscal', 50, 8)")
    conn.execute(
        "insert into communities (community_id, community_name, street, community_type,"
        " households, population, office_area_m2, import_id) values"
        " ('C1', '甲', '东街道', 'urban', 10, 30, 5, 1), ('C2', '乙', '东街道', 'urban', 10, 30, 5, 1)")
    assert db.declared_keys(conn) == {}
    conn.close()


def test_an_older_database_gets_every_key_on_connect(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_layout(path)
    conn = db.connect(path)
    try:
        assert db.declared_keys(conn) == db.STORAGE_KEYS
        # two identical lines of one import stay two lines, numbered in stored order
        assert conn.execute(
            "select import_id, line_no from funding order by import_id, line_no").fetchall() == [
            (7, 1), (7, 2), (8, 1)]
    finally:
        conn.close()


def test_an_older_database_with_duplicates_keeps_them_and_says_so(tmp_path, caplog):
    import duckdb

    path = tmp_path / "old.duckdb"
    _old_layout(path)
    raw = duckdb.connect(str(path))
    raw.execute(
        "insert into communities (community_id, community_name, street, community_type,"
        " households, population, office_area_m2, import_id)"
        " values ('C1', '甲', '西街道', 'urban', 10, 30, 5, 2)")
    raw.close()
    with caplog.at_level("ERROR", logger="governance.db"):
        conn = db.connect(path)
    try:
        keys = db.declared_keys(conn)
        assert "communities" not in keys
        assert keys["facilities"] == ("facility_id",)  # the others are declared
        assert "communities holds duplicate keys" in caplog.text
    finally:
        conn.close()


@pytest.mark.parametrize(("table", "row"), [
    ("communities", "('C1', '甲', '东街道', 'urban', 10, 30, 5, 1)"),
    ("safety", "('C1', date '2025-01-01', 1)"),
])
def test_the_database_refuses_a_duplicate_key(memory_conn, table, row):
    import duckdb

    columns = {
        "communities": "(community_id, community_name, street, community_type, households,"
                       " population, office_area_m2, import_id)",
        "safety": "(community_id, month, import_id)",
    }[table]
    statement = "insert into " + db.quote_identifier(table) + " " + columns + " values " + row
    memory_conn.execute(statement)
    with pytest.raises(duckdb.ConstraintException):
        memory_conn.execute(statement)
