"""Hostile and odd files: refused early, cheaply, with a reason that says what to do.

The zip bomb is refused from the archive's directory alone: the tests make
any attempt to inflate a member, or to open the workbook, fail loudly.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from governance import decoding, importer, tabular, xlsx_archive
from governance.contract import COMMUNITIES
from governance.text import t
from tests.hostile_files import (
    CONTENT_TYPES,
    ROOT_RELS,
    SHEET_HEAD,
    SHEET_TAIL,
    WORKBOOK,
    WORKBOOK_RELS,
    MiB,
    shared_string_bomb,
    write_workbook,
)

COMMUNITY_HEADER = ["社区编码", "社区名称", "街道", "社区类型", "户数", "常住人口", "办公和活动用房面积"]


def _never(*args, **kwargs):
    raise AssertionError("the bomb must be refused before anything is inflated")


@pytest.fixture
def nothing_inflates(monkeypatch):
    """Call it once the file is built: from then on, opening the workbook or
    reading any member of an archive fails the test."""

    def arm() -> None:
        monkeypatch.setattr(openpyxl, "load_workbook", _never)
        monkeypatch.setattr(zipfile.ZipFile, "open", _never)
        monkeypatch.setattr(zipfile.ZipFile, "read", _never)

    return arm


def test_shared_string_bomb_is_refused_by_its_declared_size(tmp_path, nothing_inflates):
    bomb = shared_string_bomb(tmp_path / "炸弹.xlsx", megabytes=300)
    assert bomb.stat().st_size < 1 * MiB  # the street account's ~300 KB file
    nothing_inflates()
    reason = xlsx_archive.check(bomb)
    assert reason == t("import.xlsx.part_too_large", part=t("import.xlsx.part.shared_strings"),
                       size="300", limit="256")
    with pytest.raises(tabular.TabularError) as refused:
        tabular.open_table(bomb, COMMUNITIES)
    assert refused.value.reason == reason
    report = importer.validate_file(importer.SourceFile(bomb, "communities", "炸弹.xlsx"))
    assert not report.ok
    assert report.problems[0].message() == t("import.error.file", file="炸弹.xlsx", reason=reason)


def test_a_bomb_under_the_size_limit_is_refused_by_its_ratio(tmp_path, nothing_inflates):
    bomb = shared_string_bomb(tmp_path / "b.xlsx", megabytes=100)
    nothing_inflates()
    reason = xlsx_archive.check(bomb)
    assert reason is not None
    assert reason.startswith(t("import.xlsx.ratio", part=t("import.xlsx.part.shared_strings"),
                               size="100", ratio="", limit=100).split("是压缩后的")[0])
    ratio = int(reason.split("是压缩后的 ")[1].split(" 倍")[0].replace(",", ""))
    assert ratio > 10 * xlsx_archive.MAX_RATIO  # repeated bytes: ~1000:1


def test_a_real_shaped_export_passes_with_room_to_spare(tmp_path):
    """20,000 rows written the way Excel writes (shared strings, dates,
    numbers, a free-text column): each large part is far below the ratio
    limit, and the file reads through."""
    path = tmp_path / "events.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("网格事件")
    sheet.write_row(0, 0, ["事件编号", "社区编码", "发生时间", "事件类别", "经度", "纬度", "事件描述"])
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    from datetime import datetime, timedelta
    for i in range(1, 20_001):
        sheet.write_string(i, 0, f"SJ{i:08d}")
        sheet.write_string(i, 1, f"C{i % 300:04d}")
        sheet.write_datetime(i, 2, datetime(2024, 1, 1) + timedelta(minutes=37 * i), stamp)
        sheet.write_string(i, 3, ["治安", "火灾", "矛盾纠纷"][i % 3])
        sheet.write_number(i, 4, 117 + (i * 7919 % 10_000) / 10_000)
        sheet.write_number(i, 5, 32 + (i * 104_729 % 10_000) / 10_000)
        sheet.write_string(i, 6, f"居民反映{i % 97}号楼{i % 13}单元附近情况，网格员{i % 89}已核实")
    book.close()
    assert xlsx_archive.check(path) is None
    with zipfile.ZipFile(path) as archive:
        ratios = [i.file_size / i.compress_size for i in archive.infolist() if i.file_size > MiB]
    assert ratios and max(ratios) < xlsx_archive.MAX_RATIO / 5
    head = tabular.scan(path)
    assert head[0][:2] == ["事件编号", "社区编码"]


def test_too_many_parts_is_refused_from_the_end_record(tmp_path, nothing_inflates):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(xlsx_archive.MAX_ENTRIES + 1):
            archive.writestr(f"x/{i}", b"")
    nothing_inflates()
    assert xlsx_archive.check(path) == t(
        "import.xlsx.too_many_parts", count=f"{xlsx_archive.MAX_ENTRIES + 1:,}",
        limit=f"{xlsx_archive.MAX_ENTRIES:,}")


def test_nested_archives_are_counted_not_opened(tmp_path, nothing_inflates):
    extra = {f"xl/embeddings/inner{i}.xlsx": b"PK" for i in range(xlsx_archive.MAX_NESTED_ARCHIVES)}
    within = write_workbook(tmp_path / "within.xlsx", "", extra=extra)
    extra["xl/embeddings/one_more.zip"] = b"PK"
    beyond = write_workbook(tmp_path / "beyond.xlsx", "", extra=extra)
    nothing_inflates()
    assert xlsx_archive.check(within) is None
    assert xlsx_archive.check(beyond) == t("import.xlsx.nested",
                                           count=xlsx_archive.MAX_NESTED_ARCHIVES + 1,
                                           limit=xlsx_archive.MAX_NESTED_ARCHIVES)


def _central_entry(data: bytes, name: bytes) -> int:
    """Offset of the central-directory header of member `name`."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_length] == name:
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def test_an_under_declared_member_is_cut_off_at_its_declared_size(tmp_path):
    """Why the declared sizes can be trusted: zipfile never inflates a member
    beyond the size its directory declares; the rest fails the CRC check."""
    strings = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               + "".join(f"<si><t>{i}</t></si>" for i in range(400_000)) + "</sst>").encode()
    path = tmp_path / "lies.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/workbook.xml", WORKBOOK),
                           ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                           ("xl/worksheets/sheet1.xml", SHEET_HEAD + SHEET_TAIL),
                           ("xl/sharedStrings.xml", strings)):
            archive.writestr(name, part)
    declared = 64 * 1024
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, _central_entry(bytes(data), b"xl/sharedStrings.xml") + 24,
                     declared)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/sharedStrings.xml")
        assert info.file_size == declared < len(strings)
        assert xlsx_archive.check(path) is None  # small as declared
        inflated = 0
        with archive.open(info) as member, pytest.raises(zipfile.BadZipFile):
            while block := member.read(1024):
                inflated += len(block)
        assert 0 < inflated <= declared  # never a byte more; then the CRC fails
    with pytest.raises(tabular.TabularError) as refused:
        tabular.scan(path)
    assert refused.value.reason == t("import.bad_xlsx")


def test_an_old_xls_or_a_password_protected_workbook_says_so(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504)
    assert xlsx_archive.check(path) == t("import.xlsx.legacy")
    report = importer.validate_file(importer.SourceFile(path, "communities"))
    assert report.problems[0].reason == t("import.xlsx.legacy")


def test_not_a_zip_at_all_is_a_damaged_workbook(tmp_path):
    path = tmp_path / "text.xlsx"
    path.write_text("社区编码,社区名称\n", encoding="utf-8")
    assert xlsx_archive.check(path) == t("import.bad_xlsx")


# -- formulas -------------------------------------------------------------------


def _communities_book(path: Path, households) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "社区"
    sheet.append(COMMUNITY_HEADER + ["备注"])
    sheet.append(["C001", "甲社区", "东街道", "城市社区", households, 2000, 300, "=1+1"])
    book.save(path)
    return path


def test_formula_without_a_computed_value_says_to_save_it_in_excel(tmp_path):
    """openpyxl (like other programs) writes formulas without the value Excel
    would compute and keep: read with data_only they are empty, and were
    reported as 必填."""
    path = _communities_book(tmp_path / "f.xlsx", "=600+400")
    report = importer.validate_file(importer.SourceFile(path, "communities", "f.xlsx"))
    assert not report.ok
    assert [p.reason for p in report.problems] == [
        t("import.formula_no_value", sheet="社区", cell="E2")]
    assert "必填" not in report.problems[0].message()


def test_formula_only_in_a_column_the_contract_ignores_is_no_problem(tmp_path):
    path = _communities_book(tmp_path / "ok.xlsx", 1000)  # 备注 holds =1+1, unread
    report = importer.validate_file(importer.SourceFile(path, "communities", "ok.xlsx"))
    assert report.ok, report.messages()
    assert int(report.preview.iloc[0]["households"]) == 1000


def test_formulas_with_kept_values_read_as_their_values(tmp_path):
    """What Excel writes: the formula and its last value (a text result with
    t="str"; an empty text result is an empty cell, not a missing value)."""
    header = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for col, name in zip("ABCDEFG", COMMUNITY_HEADER, strict=True))
    row = ('<c r="A2" t="inlineStr"><is><t>C001</t></is></c>'
           '<c r="B2" t="str"><f>"甲"&amp;"社区"</f><v>甲社区</v></c>'
           '<c r="C2" t="inlineStr"><is><t>东街道</t></is></c>'
           '<c r="D2" t="inlineStr"><is><t>城市社区</t></is></c>'
           '<c r="E2"><f>600+400</f><v>1000</v></c>'
           '<c r="F2"><v>2000</v></c><c r="G2"><v>300</v></c>'
           '<c r="H2" t="str"><f>""</f><v></v></c>')
    path = write_workbook(tmp_path / "excel.xlsx", f'<row r="1">{header}</row><row r="2">{row}</row>')
    with tabular.open_table(path, COMMUNITIES) as reader:
        columns = {}
        for chunk in reader.chunks():
            columns.update({k: list(v) for k, v in chunk.columns.items()})
    assert columns["community_name"] == ["甲社区"]
    assert columns["households"] == ["1000"]


# -- CSV ------------------------------------------------------------------------


def test_nul_bytes_say_the_file_is_not_text(tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_bytes("社区编码,社区名称\nC001,甲\n".encode() + b"PK\x03\x04\x00\x00")
    with pytest.raises(decoding.DecodeError) as refused:
        decoding.inspect(path)
    assert refused.value.kind == decoding.NUL_BYTES
    report = importer.validate_file(importer.SourceFile(path, "communities", "renamed.csv"))
    assert [p.reason for p in report.problems] == [t("import.nul_bytes")]
    assert report.problems[0].reason == (
        "文件含空字节，可能不是文本文件（例如把 Excel 文件改了扩展名）：请上传 CSV 或 .xlsx 原文件")
    with pytest.raises(decoding.DecodeError) as in_memory:
        decoding.decode_bytes(b"a,b\x00\n")
    assert in_memory.value.reason == t("import.nul_bytes")


def test_an_undecodable_file_without_nul_keeps_the_encoding_message(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"\x81\x30\xff\xfe,a\n")
    with pytest.raises(decoding.DecodeError) as refused:
        decoding.inspect(path)
    assert refused.value.kind == decoding.UNDECODABLE
    assert refused.value.reason == t("import.decode_failed")


def test_utf16_says_how_to_save_it(tmp_path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("社区编码,社区名称\n".encode("utf-16"))
    report = importer.validate_file(importer.SourceFile(path, "communities"))
    assert [p.reason for p in report.problems] == [t("import.wide_encoding")]


def test_a_line_longer_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_LINE_CHARS", 1000)
    path = tmp_path / "long.csv"
    lines = [",".join(COMMUNITY_HEADER), "C001,甲,东街道,城市社区,1,2,3",
             "C002," + "乙" * 1200 + ",东街道,城市社区,1,2,3", "C003,丙,东街道,城市社区,1,2,3"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(tabular.TabularError) as refused, \
            tabular.open_table(path, COMMUNITIES) as reader:
        list(reader.chunks())
    assert refused.value.reason == t("import.line_too_long", row=3, limit="1,000")
    # A line of exactly the limit (with its line break) is fine.
    exact = "C002," + "乙" * (1000 - len("C002,,东街道,城市社区,1,2,3")) + ",东街道,城市社区,1,2,3"
    assert len(exact) == 1000
    path.write_text("\n".join([lines[0], exact]) + "\n", encoding="utf-8")
    with tabular.open_table(path, COMMUNITIES) as reader:
        assert sum(len(c) for c in reader.chunks()) == 1


def test_a_wide_file_keeps_only_the_contract_columns(tmp_path):
    """A header whose last contract column sits after 3,000 others: rows are
    read right (a chunk keeps the contract's columns of each row only)."""
    filler = [f"列{i}" for i in range(3000)]
    header = COMMUNITY_HEADER[:6] + filler + COMMUNITY_HEADER[6:]
    rows = [header] + [
        [f"C{i:03d}", f"社区{i}", "东街道", "城市社区", str(i), str(2 * i)] + ["x"] * 3000 + [str(i + 0.5)]
        for i in range(1, 6)
    ]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with tabular.open_table(path, COMMUNITIES) as reader:
        chunks = list(reader.chunks(size=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert all(len(c.columns) == 7 for c in chunks)
    office = [v for c in chunks for v in c.columns["office_area_m2"]]
    assert office == ["1.5", "2.5", "3.5", "4.5", "5.5"]


def test_a_sheet_row_beyond_excels_last_row_is_refused(tmp_path):
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>社区编码</t></is></c></row>'
            '<row r="1048577"><c r="A1048577"><v>1</v></c></row>')
    path = write_workbook(tmp_path / "far.xlsx", rows)
    with pytest.raises(tabular.TabularError) as refused:
        tabular.scan(path)
    assert refused.value.reason == t("import.too_many_rows", sheet="Sheet1", limit="1,048,576")


def test_damaged_sheet_xml_is_a_refusal_not_a_crash(tmp_path):
    header = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for col, name in zip("ABCDEFG", COMMUNITY_HEADER, strict=True))
    path = write_workbook(tmp_path / "broken.xlsx",
                          f'<row r="1">{header}</row><row r="2"><c r="A2"><v>1</v></c>' + "<oops>")
    report = importer.validate_file(importer.SourceFile(path, "communities"))
    assert [p.reason for p in report.problems] == [t("import.bad_xlsx")]
