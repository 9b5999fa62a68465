"""Download templates for every contract table, generated from the contract.

CSV: UTF-8 with BOM (Excel on Chinese Windows opens it without mojibake), one
header row of the canonical Chinese labels, no data rows.
Excel: sheet 1 is that header row (bold, sized, text format for text columns,
drop-downs for enumerations); sheet 2 「填写说明」 lists every column with its
English name, type, whether required, rules, aliases and accepted codes.
"""

from __future__ import annotations

import csv
import io

import xlsxwriter

from governance.contract import TABLES, Column, Table
from governance.exporting import WORKBOOK_OPTIONS, display_width, safe_sheet_name
from governance.text import has_text, t

BOM = "\ufeff"
_TEMPLATE_ROWS = 1000  # rows that get text format / drop-downs in sheet 1
_INSTRUCTION_COLUMNS = ("label", "name", "kind", "required", "rules", "aliases", "choices")


def _table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        choices = t("template.alias.separator").join(TABLES)
        raise ValueError(t("import.unknown_table", table=name, choices=choices)) from None


def header_labels(table: str) -> list[str]:
    """The template header: each column's canonical Chinese label, contract order."""
    return [column.label for column in _table(table).columns]


def template_csv_bytes(table: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(header_labels(table))
    return (BOM + buffer.getvalue()).encode("utf-8")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def column_rules(table: Table, column: Column) -> str:
    """Human rules for one column: bounds, same-row rules, uniqueness, unit, default."""
    rules: list[str] = []
    if column.minimum is not None:
        rules.append(t("template.rule.minimum", value=_number(column.minimum)))
    if column.maximum is not None:
        rules.append(t("template.rule.maximum", value=_number(column.maximum)))
    if column.not_above:
        rules.append(t("template.rule.not_above",
                       other=table.column_by_name[column.not_above].label))
    if column.not_before:
        rules.append(t("template.rule.not_before",
                       other=table.column_by_name[column.not_before].label))
    if column.only_when:
        other_name, code = column.only_when
        other = table.column_by_name[other_name]
        value = other.enum.label_of(code) if other.enum else code
        rules.append(t("template.rule.only_when", other=other.label, value=value))
    if table.key == (column.name,):
        rules.append(t("template.rule.unique"))
    elif column.name in table.key:
        others = t("template.alias.separator").join(
            table.column_by_name[k].label for k in table.key if k != column.name
        )
        rules.append(t("template.rule.unique_together", others=others))
    if column.name == "community_id" and table.references_communities:
        rules.append(t("template.rule.references"))
    if column.unit and column.unit != "%":
        rules.append(t("template.rule.unit", unit=column.unit))
    if column.default is not None:
        value = column.enum.label_of(column.default) if column.enum else column.default
        shown = f"{column.default} {value}" if column.enum else value
        rules.append(t("template.rule.default", value=shown))
    if column.help:
        rules.append(column.help)
    return t("template.rule.separator").join(rules)


def column_choices(column: Column) -> str:
    """Enumeration codes, one per line: `code 标签（也可写：别名）`."""
    if column.enum is None:
        return ""
    lines = []
    for item in column.enum.codes:
        if item.aliases:
            lines.append(t("template.choice.aliases", code=item.code, label=item.label,
                           aliases=t("template.alias.separator").join(item.aliases)))
        else:
            lines.append(t("template.choice", code=item.code, label=item.label))
    return "\n".join(lines)


def instruction_rows(table: str) -> list[list[str]]:
    """Sheet 2's table: a heading row, then one row per column."""
    spec = _table(table)
    rows = [[t(f"template.column.{key}") for key in _INSTRUCTION_COLUMNS]]
    for column in spec.columns:
        rows.append([
            column.label,
            column.name,
            t(f"template.kind.{column.kind}"),
            t("template.required.yes" if column.required else "template.required.no"),
            column_rules(spec, column),
            t("template.alias.separator").join(column.aliases),
            column_choices(column),
        ])
    return rows


def instruction_notes(table: str) -> list[str]:
    spec = _table(table)
    notes = [
        t("template.note.rows"),
        t("template.note.headers"),
        t("template.note.replaces", replaces=t(f"replaces.{spec.replaces}")),
    ]
    if spec.optional:
        specific = f"template.note.optional_table.{spec.name}"
        notes.append(t(specific if has_text(specific) else "template.note.optional_table"))
    if spec.help:
        notes.append(spec.help)
    return notes


def template_xlsx_bytes(table: str) -> bytes:
    spec = _table(table)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    header = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    required_header = workbook.add_format(
        {"bold": True, "bg_color": "#FFF2CC", "border": 1}
    )
    text_cells = workbook.add_format({"num_format": "@"})
    # A date and time typed into a datetime column stays visible as both.
    datetime_cells = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    plain = workbook.add_format({"text_wrap": False})
    used: set[str] = set()

    data = workbook.add_worksheet(safe_sheet_name(spec.label, used))
    for col, column in enumerate(spec.columns):
        data.write_string(0, col, column.label, required_header if column.required else header)
        width = max(10, display_width(column.label) + 4)
        # Text columns (codes above all) stay text, so Excel never turns
        # 340403001001 into 3.40403E+11.
        cell_format = {"text": text_cells, "datetime": datetime_cells}.get(column.kind)
        if column.kind == "datetime":
            width = max(width, 18)
        data.set_column(col, col, width, cell_format)
        if column.enum is not None:
            data.data_validation(1, col, _TEMPLATE_ROWS, col, {
                "validate": "list",
                "source": [item.label for item in column.enum.codes],
                "ignore_blank": True,
                "show_error": False,
            })
        rules = column_rules(spec, column)
        if rules:
            data.write_comment(0, col, rules)
    data.freeze_panes(1, 0)

    notes = workbook.add_worksheet(safe_sheet_name(t("template.sheet.instructions"), used))
    rows = instruction_rows(table)
    widths = [12, 24, 18, 8, 40, 30, 44]
    for col, width in enumerate(widths):
        notes.set_column(col, col, width, wrap)
    for r, row in enumerate(rows):
        for col, value in enumerate(row):
            notes.write_string(r, col, value, header if r == 0 else wrap)
    notes.freeze_panes(1, 0)
    start = len(rows) + 1
    notes.write_string(start, 0, t("template.note.header"), header)
    for offset, note in enumerate(instruction_notes(table), start=1):
        notes.write_string(start + offset, 0, note, plain)

    workbook.close()
    return buffer.getvalue()
