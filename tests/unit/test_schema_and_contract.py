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
    assert set(stored) == set(table.column_names) | {"import_id"}
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
    for hostile in ("communities; drop table meta", "meta", 'x"y', ""):
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
