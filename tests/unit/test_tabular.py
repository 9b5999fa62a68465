"""Header search, row numbers, skipped rows, and typed Excel cells."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from governance import tabular
from governance.contract import COMMUNITIES, FUNDING, SAFETY

COMMUNITY_HEADER = "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积"


def _csv(tmp_path, text: str, encoding: str = "utf-8", name: str = "f.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _read_all(reader: tabular.TableReader) -> tuple[list[int], dict[str, list]]:
    rows: list[int] = []
    columns: dict[str, list] = {}
    for chunk in reader.chunks(size=2):  # tiny chunks: numbering must survive chunking
        rows += chunk.rows
        for name, values in chunk.columns.items():
            columns.setdefault(name, []).extend(values)
    return rows, columns


def test_title_blank_and_total_rows_keep_file_row_numbers(tmp_path):
    text = (
        "XX区社区基本情况统计表,,,,,,\n"       # 1 title
        "填报单位：民政局\n"                  # 2 note
        "\n"                                  # 3 blank
        + COMMUNITY_HEADER + "\n"             # 4 header
        "C001,甲,东街道,城市社区,1,2,3\n"      # 5
        ",,,,,,\n"                            # 6 blank (commas only)
        "C002,乙,东街道,村,1,2,3\n"            # 7
        "小计,,,,2,4,6\n"                     # 8 subtotal
        "C003,丙,东街道,村,1,2,3\n"            # 9
        "合 计,,,,3,6,9\n"                    # 10 total (space inside)
        "\n\n"                                # trailing blanks: not mentioned
    )
    with tabular.open_table(_csv(tmp_path, text, "gbk"), COMMUNITIES) as reader:
        assert reader.header_row == 4
        assert reader.title_rows == 2
        rows, columns = _read_all(reader)
        assert rows == [5, 7, 9]
        assert columns["community_id"] == ["C001", "C002", "C003"]
        assert reader.total_rows == [8, 10]
        assert reader.blank_rows == 2
        notes = reader.notes()
    assert any("2 行" in n for n in notes)  # title rows
    assert any("8、10" in n for n in notes)  # total rows named
    assert any("2 个空行" in n for n in notes)


def test_quoted_commas_and_line_breaks_count_physical_lines(tmp_path):
    text = (
        COMMUNITY_HEADER + ",区县\n"
        '"C001","甲, 一号","东街道",城市社区,"1,234",2,3,"多行\n备注"\n'   # lines 2-3
        "C002,乙,东街道,村,1,2,3,x\n"                                      # line 4
    )
    with tabular.open_table(_csv(tmp_path, text), COMMUNITIES) as reader:
        rows, columns = _read_all(reader)
    assert rows == [2, 4]
    assert columns["community_name"] == ["甲, 一号", "乙"]
    assert columns["households"] == ["1,234", "1"]
    assert columns["district"] == ["多行\n备注", "x"]


def test_aliases_units_and_full_width_headers(tmp_path):
    text = (
        "社区代码,社区（村）名称,所属街道,类型,户数　,人口数（人）,用房面积（平方米）,备注\n"
        "C001,甲,东街道,村,1,2,3,x\n"
    )
    with tabular.open_table(_csv(tmp_path, text), COMMUNITIES) as reader:
        mapped = sorted(reader.header.positions.values())
        assert mapped == sorted(
            ["community_id", "community_name", "street", "community_type", "households",
             "population", "office_area_m2"]
        )
        assert reader.header.unknown == ("备注",)
        assert any("备注" in n for n in reader.notes())


def test_money_header_unit_is_reported(tmp_path):
    text = "社区编码,年度,经费类别,金额（万元）\nC001,2024,办公经费,2.5\n"
    with tabular.open_table(_csv(tmp_path, text), FUNDING) as reader:
        assert reader.header.units == {"amount_yuan": "万元"}


def test_duplicate_header_is_an_error(tmp_path):
    text = COMMUNITY_HEADER + ",户数\nC001,甲,东街道,村,1,2,3,4\n"
    with pytest.raises(tabular.TabularError, match="户数"):
        tabular.open_table(_csv(tmp_path, text), COMMUNITIES)


def test_missing_required_column_lists_chinese_labels(tmp_path):
    text = "社区编码,社区名称,街道,户数\nC001,甲,东街道,1\n"
    with pytest.raises(tabular.TabularError) as caught:
        tabular.open_table(_csv(tmp_path, text), COMMUNITIES)
    for label in ("社区类型", "常住人口", "办公和活动用房面积"):
        assert label in caught.value.reason
    assert "社区名称" not in caught.value.reason


def test_no_header_in_the_first_rows(tmp_path):
    text = "\n".join(f"说明第{i}行" for i in range(40)) + "\n" + COMMUNITY_HEADER + "\n"
    with pytest.raises(tabular.TabularError, match="30"):
        tabular.open_table(_csv(tmp_path, text), COMMUNITIES)


def test_empty_and_unsupported_files(tmp_path):
    with pytest.raises(tabular.TabularError, match="空"):
        tabular.open_table(_csv(tmp_path, "\n\n,,\n"), COMMUNITIES)
    with pytest.raises(tabular.TabularError, match=".xls"):
        tabular.open_table(_csv(tmp_path, "x", name="old.xls"), COMMUNITIES)
    with pytest.raises(tabular.TabularError, match="Excel"):
        tabular.open_table(_csv(tmp_path, "not a zip", name="bad.xlsx"), COMMUNITIES)


def test_short_and_long_rows_are_padded_and_trimmed(tmp_path):
    text = COMMUNITY_HEADER + "\nC001,甲\nC002,乙,东,村,1,2,3,extra,more\n"
    with tabular.open_table(_csv(tmp_path, text), COMMUNITIES) as reader:
        rows, columns = _read_all(reader)
    assert rows == [2, 3]
    assert columns["street"] == [None, "东"]


def _xlsx(tmp_path, sheets: dict[str, list[list]], formats: dict | None = None):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for (cell_ref, fmt) in (formats or {}).get(title, {}).items():
            sheet[cell_ref].number_format = fmt
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    return path


def test_xlsx_typed_cells_title_row_and_sheet_choice(tmp_path):
    path = _xlsx(
        tmp_path,
        {
            "说明": [["本工作簿说明"], ["无数据"]],
            "月报": [
                ["XX区平安建设月报"],                                   # 1
                [],                                                     # 2 blank
                ["社区编码", "月份", "居民满意率", "普法教育覆盖率", "刑事案件数", "民警下沉社区时长"],  # 3
                [1001.0, datetime(2023, 5, 1), 0.95, 0.9, 3.0, 12.5],   # 4
                [],                                                     # 5 blank
                ["C002", "2023年6月", 95, "90%", 0, None],              # 6
                ["合计", None, None, None, 3, 12.5],                    # 7
            ],
        },
        formats={"月报": {"C4": "0%", "D4": "0.00"}},
    )
    with tabular.open_table(path, SAFETY) as reader:
        assert reader.sheet == "月报"
        assert reader.header_row == 3
        rows, columns = _read_all(reader)
        notes = reader.notes()
    assert rows == [4, 6]
    assert columns["community_id"] == ["1001", "C002"]
    assert columns["month"] == ["2023-05-01", "2023年6月"]
    assert columns["satisfaction_rate"] == ["95%", "95"]  # percent-formatted cell keeps its %
    assert columns["legal_education_rate"] == ["0.9", "90%"]
    assert columns["criminal_cases"] == ["3", "0"]
    assert columns["police_hours"] == ["12.5", None]
    assert any("月报" in n for n in notes)
    assert reader.total_rows == [7]


@pytest.mark.parametrize(
    ("value", "fmt", "kind", "text"),
    [
        (1001.0, "General", "text", "1001"),
        (123456789012.0, "0", "text", "123456789012"),
        (0.5, "General", "number", "0.5"),
        (0.29, "0%", "percent", "29%"),
        (0.29, "0%", "number", "0.29"),
        (datetime(2023, 5, 1, 0, 0), "yyyy-mm-dd", "date", "2023-05-01"),
        (datetime(2023, 5, 1, 13, 30), "yyyy-mm-dd h:mm", "date", "2023-05-01"),
        (date(2023, 5, 1), "yyyy-mm-dd", "year_month", "2023-05-01"),
        (True, "General", "text", "TRUE"),
        (None, "General", "int", None),
        (7, "General", "int", "7"),
    ],
)
def test_excel_text(value, fmt, kind, text):
    assert tabular.excel_text(value, fmt, kind) == text


def test_peek_rows_reads_csv_and_every_sheet(tmp_path):
    csv_path = _csv(tmp_path, "标题\n" + COMMUNITY_HEADER + "\n", "gbk")
    assert tabular.peek_rows(csv_path)[1][0] == "社区编码"
    xlsx_path = _xlsx(tmp_path, {"a": [["x"]], "b": [["社区编码", "月份"]]})
    assert ["社区编码", "月份"] in tabular.peek_rows(xlsx_path)
    assert tabular.peek_rows(_csv(tmp_path, "x", name="f.txt")) == []
