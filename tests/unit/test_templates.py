"""Download templates are generated from the contract and open cleanly in Excel."""

from __future__ import annotations

import io

import openpyxl
import pytest

from governance.contract import TABLES, detect_table, match_header
from governance.templates import (
    BOM,
    header_labels,
    instruction_notes,
    instruction_rows,
    template_csv_bytes,
    template_xlsx_bytes,
)
from governance.text import t


@pytest.mark.parametrize("name", list(TABLES))
def test_csv_template_is_bom_utf8_with_the_contract_labels(name):
    raw = template_csv_bytes(name)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    assert text.startswith(BOM)
    lines = text[len(BOM):].splitlines()
    assert len(lines) == 1  # header only, no data rows
    assert lines[0].split(",") == [c.label for c in TABLES[name].columns]
    assert header_labels(name) == [c.label for c in TABLES[name].columns]


@pytest.mark.parametrize("name", list(TABLES))
def test_template_header_is_recognised_by_the_importer_rules(name):
    labels = header_labels(name)
    match = match_header(TABLES[name], labels)
    assert match.missing_required == ()
    assert match.unknown == ()
    assert sorted(match.positions.values()) == sorted(TABLES[name].column_names)
    assert detect_table(labels) is TABLES[name]


@pytest.mark.parametrize("name", list(TABLES))
def test_xlsx_template_has_header_sheet_and_instructions(name):
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx_bytes(name)))
    assert len(book.worksheets) == 2
    data, notes = book.worksheets
    assert notes.title == t("template.sheet.instructions") == "填写说明"
    header = [cell.value for cell in data[1]]
    assert header == [c.label for c in TABLES[name].columns]
    assert all(cell.font.b for cell in data[1])
    assert data.max_row == 1  # no data rows
    assert data.column_dimensions["A"].width >= 10

    rows = [list(r) for r in notes.iter_rows(values_only=True)]
    assert rows[0] == [
        "中文列名", "英文列名", "类型", "是否必填", "规则", "可用别名", "可选取值",
    ]
    body = rows[1: 1 + len(TABLES[name].columns)]
    assert [r[0] for r in body] == [c.label for c in TABLES[name].columns]
    assert [r[1] for r in body] == list(TABLES[name].column_names)
    for row, column in zip(body, TABLES[name].columns, strict=True):
        assert row[3] == ("必填" if column.required else "选填")
        if column.enum is not None:
            for item in column.enum.codes:
                assert f"{item.code} {item.label}" in row[6]


def test_instructions_spell_out_rules_aliases_and_codes():
    rows = {r[1]: r for r in instruction_rows("communities")[1:]}
    assert "不大于同行的「常住人口」" in rows["elderly_population"][4]
    assert "不小于 0" in rows["households"][4]
    assert "在文件中不能重复" in rows["community_id"][4]
    assert "居民户数" in rows["households"][5]
    assert "rural 农村社区（也可写：村、农村、行政村）" in rows["community_type"][6]
    assert "urban_village 城中村" in rows["community_type"][6]
    funding = {r[1]: r for r in instruction_rows("funding")[1:]}
    assert "不早于同行的「下达日期」" in funding["disbursed_date"][4]
    assert "fiscal 财政拨款" in funding["source"][4]  # the default is stated
    assert "须在社区基本信息中存在" in funding["community_id"][4]
    safety = {r[1]: r for r in instruction_rows("safety")[1:]}
    assert "不大于 100" in safety["satisfaction_rate"][4]
    assert "「月份」" in safety["community_id"][4]  # unique together with the month


def test_sheet_names_are_valid_for_every_table():
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx_bytes("residences")))
    assert "/" not in book.worksheets[0].title


def test_unknown_table_is_refused():
    with pytest.raises(ValueError):
        template_csv_bytes("nope")
    with pytest.raises(ValueError):
        template_xlsx_bytes("nope")


def test_incident_instructions_state_datetime_forms_the_status_rule_and_the_keys_replace():
    rows = {r[1]: r for r in instruction_rows("incidents")[1:]}
    assert rows["occurred_at"][2] == t("template.kind.datetime")
    assert "2023-05-01 14:30" in rows["occurred_at"][2]
    assert "仅当同行的「办理状态」为“已办结”时填写" in rows["resolved_at"][4]
    assert "不早于同行的「发生时间」" in rows["resolved_at"][4]
    assert "在文件中不能重复" in rows["incident_id"][4]
    assert "resolved 已办结" in rows["status"][6]
    notes = instruction_notes("incidents")
    assert t("template.note.replaces", replaces=t("replaces.keys")) in notes
    assert "编号" in t("replaces.keys")


def test_optional_table_note_is_specific_to_the_table():
    residences = instruction_notes("residences")
    incidents = instruction_notes("incidents")
    assert t("template.note.optional_table.residences") in residences
    assert t("template.note.optional_table.incidents") in incidents
    assert t("template.note.optional_table.residences") not in incidents
    assert "十分钟服务圈" not in "".join(incidents)
    assert not any("选填" in note for note in instruction_notes("communities"))


def test_xlsx_template_notes_and_datetime_column_format():
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx_bytes("incidents")))
    data, notes = book.worksheets
    texts = [r[0] for r in notes.iter_rows(values_only=True) if r[0]]
    assert t("template.note.replaces", replaces=t("replaces.keys")) in texts
    assert t("template.note.optional_table.incidents") in texts
    occurred = [c.label for c in TABLES["incidents"].columns].index("发生时间")
    letter = openpyxl.utils.get_column_letter(occurred + 1)
    assert data.column_dimensions[letter].width >= 18
