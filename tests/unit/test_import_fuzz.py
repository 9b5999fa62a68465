"""Random messy input (CSV bytes, .xlsx workbooks) never raises and never half-writes."""

from __future__ import annotations

import io
import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from governance import db, importer
from governance.contract import TABLES

TOKENS = [
    "", " ", "C001", "C002", "1,234", "1,23", "１２３", "12.5", "-1", "95%", "0.95", "2.5万",
    "5千元", "2023-05", "2023年5月", "2023-05-01", "2023-02-30", "202305", "城市社区", "村",
    "火星", "合计", "小计", "1.23E+11", '"a,b"', '"多\n行"', "\t", "社区编码", "abc", "—",
]
HEADERS = {
    name: [c.label for c in table.columns] + [c.name for c in table.columns[:2]]
    for name, table in TABLES.items()
}

cell = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))


@st.composite
def messy_csv(draw) -> tuple[str, bytes]:
    table = draw(st.sampled_from(sorted(TABLES)))
    header = draw(st.lists(st.sampled_from(HEADERS[table]), min_size=1, max_size=10))
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 1), max_size=12))
    lines = []
    if draw(st.booleans()):
        lines.append("XX区统计表")
    lines.append(",".join(header))
    lines += [",".join(r) for r in rows]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if draw(st.booleans()):
        junk = draw(st.binary(max_size=8))
        position = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:position] + junk + data[position:]
    return table, data


def _snapshot(conn) -> dict[str, list]:
    return {
        name: conn.execute("select * from " + name + " order by all").fetchall()
        for name in [*TABLES, "import_history", "meta"]
    }


BASE = "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\nC001,甲,东,村,1,1,1\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_csv())
def test_messy_bytes_only_ever_produce_reports(case):
    table, data = case
    with tempfile.TemporaryDirectory() as tmp:
        conn = db.connect_memory()
        try:
            base = Path(tmp) / "base.csv"
            base.write_text(BASE, encoding="utf-8")
            importer.import_file(conn, importer.SourceFile(base, "communities"), applied_by="t")
            before = _snapshot(conn)
            path = Path(tmp) / "fuzz.csv"
            path.write_bytes(data)
            result = _check_import(conn, path, table, before)
            event("applied" if result.applied else "refused")
        finally:
            conn.close()


def _check_import(conn, path: Path, table: str, before: dict[str, list]) -> importer.ImportResult:
    """Validate and import one file: reports only, and all of it or nothing."""
    report = importer.validate_file(importer.SourceFile(path, table), conn=conn)
    assert all(isinstance(m, str) for m in report.messages())
    result = importer.import_file(conn, importer.SourceFile(path, table), applied_by="t")
    assert result.report.ok == report.ok
    assert all(isinstance(m, str) for m in result.report.messages() + result.report.notes)
    if result.applied:
        stored = conn.execute(
            "select count(*) from " + table + " where import_id = $id",
            {"id": result.import_id},
        ).fetchone()[0]
        assert stored == result.report.rows
        total = conn.execute("select count(*) from " + table).fetchone()[0]
        assert total == len(before[table]) - result.rows_replaced + result.report.rows
        assert db.data_version(conn) == 2
        history = conn.execute("select count(*) from import_history").fetchone()[0]
        assert history == len(before["import_history"]) + 1
    else:
        assert _snapshot(conn) == before
        assert result.report.problem_count >= 1 or result.unchanged
    return result


# -- .xlsx workbooks ------------------------------------------------------------------

SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=6
)  # openpyxl refuses control characters in cells
XLSX_VALUE = st.one_of(
    st.sampled_from(TOKENS[:25]),  # the CSV tokens without control characters
    SAFE_TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**7), max_value=10**13),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.sampled_from([0.95, 95, 1.5, 0.0, 12.5, 2808.0, 1e-7]),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.times(),
    st.sampled_from(["=1+1", "=SUM(A1:A3)", "=#REF!", "#N/A", "#DIV/0!"]),
)
NUMBER_FORMATS = ["General", "0%", "0.00%", "#,##0", "yyyy-mm-dd", "yyyy\\年m\\月", "@"]

# Cells that make a plausible communities row, typed as Excel keeps them.
COMMUNITY_COLUMNS = ("community_id", "community_name", "street", "community_type",
                     "households", "population", "office_area_m2")
COMMUNITY_CELLS = [
    st.sampled_from(["甲社区", "乙", "新社区"]),
    st.sampled_from(["东街道", "西街道"]),
    st.sampled_from(["城市社区", "村", "urban", "安置社区"]),
    st.one_of(st.integers(min_value=0, max_value=5000), st.sampled_from(["1,200", "１２３"])),
    st.one_of(st.integers(min_value=0, max_value=20000), st.sampled_from([1500.0, "3,000"])),
    st.one_of(st.floats(min_value=0, max_value=2000), st.sampled_from(["320", " 12.5 "])),
]
MESSY_CELL = st.one_of(XLSX_VALUE, st.sampled_from(["火星", "-1", "2.5万", "", "1,23"]))
# Community ids as an export writes them: text, a number, padded with a space.
COMMUNITY_IDS = ["C" + str(n) for n in range(100, 110)] + [340403001001, 340403001002, "C100 "]


def _put(ws, row: int, column: int, value, number_format: str | None) -> None:
    cell = ws.cell(row=row, column=column, value=value)
    if number_format is not None:
        cell.number_format = number_format


@st.composite
def messy_xlsx(draw) -> tuple[str, bytes]:
    plausible = draw(st.booleans())
    if plausible:
        table = "communities"
        header = [TABLES[table].column_by_name[n].label for n in COMMUNITY_COLUMNS]
        ids = draw(st.lists(st.sampled_from(COMMUNITY_IDS), min_size=1, max_size=8, unique=True))
        rows = [[key, *draw(st.tuples(*COMMUNITY_CELLS))] for key in ids]
        # now and then a messy cell in a random place
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            row = rows[draw(st.integers(min_value=0, max_value=len(rows) - 1))]
            row[draw(st.integers(min_value=0, max_value=6))] = draw(MESSY_CELL)
    else:
        table = draw(st.sampled_from(sorted(TABLES)))
        header = draw(st.lists(st.sampled_from(HEADERS[table]), min_size=1, max_size=10))
        rows = draw(st.lists(st.lists(XLSX_VALUE, max_size=len(header) + 1), max_size=10))

    workbook = openpyxl.Workbook()
    ws = workbook.active
    if draw(st.booleans()):  # an instructions sheet before the data
        ws.title = "填写说明"
        ws["A1"] = draw(st.sampled_from(["说明", "社区编码", "", "合计"]))
        ws = workbook.create_sheet("数据")
    offset = draw(st.integers(min_value=0, max_value=2))  # columns left empty
    first = 1
    for _ in range(draw(st.integers(min_value=0, max_value=3))):  # merged title rows
        ws.cell(row=first, column=1 + offset, value=draw(st.sampled_from(["XX区统计表", "", 2023])))
        if len(header) > 1 and draw(st.booleans()):
            ws.merge_cells(start_row=first, start_column=1 + offset,
                           end_row=first, end_column=len(header) + offset)
        first += 1 + draw(st.integers(min_value=0, max_value=1))  # maybe a blank row
    for column, label in enumerate(header, start=1 + offset):
        ws.cell(row=first, column=column, value=label)
    for number, values in enumerate(rows, start=first + 1):
        for column, value in enumerate(values, start=1 + offset):
            odd_format = draw(st.sampled_from([False] * (7 if plausible else 1) + [True]))
            fmt = draw(st.sampled_from(NUMBER_FORMATS)) if odd_format else None
            _put(ws, number, column, value, fmt)
    last = first + len(rows)
    if rows and draw(st.sampled_from([False, False, False, True])):  # merged data cells
        row = draw(st.integers(min_value=first + 1, max_value=last))
        ws.merge_cells(start_row=row, start_column=1 + offset,
                       end_row=min(row + 1, last), end_column=1 + offset)
    if draw(st.booleans()):  # a total row, sometimes with a formula
        ws.cell(row=last + 1, column=1 + offset, value="合计")
        ws.cell(row=last + 1, column=5 + offset,
                value="=SUM(" + get_column_letter(5 + offset) + "2:"
                + get_column_letter(5 + offset) + str(last) + ")")
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    damage = draw(st.sampled_from(["none"] * 8 + ["truncated", "junk"]))
    if damage == "truncated":  # a download cut short
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    elif damage == "junk":  # junk written into the zip
        position = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:]
    return table, data


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_xlsx())
def test_messy_workbooks_only_ever_produce_reports(case):
    table, data = case
    with tempfile.TemporaryDirectory() as tmp:
        conn = db.connect_memory()
        try:
            base = Path(tmp) / "base.csv"
            base.write_text(BASE, encoding="utf-8")
            importer.import_file(conn, importer.SourceFile(base, "communities"), applied_by="t")
            before = _snapshot(conn)
            path = Path(tmp) / "fuzz.xlsx"
            path.write_bytes(data)
            result = _check_import(conn, path, table, before)
            event("applied" if result.applied else "refused")
        finally:
            conn.close()


# -- a street account's batches ------------------------------------------------------

TWO_STREETS = (
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    "E1,东一,东街道,村,10,30,5\nE2,东二,东街道,村,10,30,5\n"
    "W1,西一,西街道,村,10,30,5\nW2,西二,西街道,村,10,30,5\n"
)
TWO_STREETS_FACILITIES = "设施编码,社区编码,设施类型\nFE,E1,警务室\nFW,W1,警务室\n"
TWO_STREETS_INCIDENTS = (
    "事件编号,社区编码,发生时间,事件类别,办理状态\nIE,E1,2024-01-02,治安案件,已上报\n"
    "IW,W1,2024-01-03,治安案件,已上报\n"
)
ROW_COMMUNITY = st.sampled_from(["E1", "E2", "E3", "W1", "W2"])
STREET = st.sampled_from(["东街道", "西街道"])


@st.composite
def street_batch(draw) -> list[tuple[str, str]]:
    """One to three files of a batch 东街道 sends: its own rows, new ones, and
    now and then another street's community, facility or event id."""
    files = []
    for table in draw(st.lists(st.sampled_from(
            ["communities", "safety", "facilities", "incidents"]), min_size=1, max_size=3,
            unique=True)):
        ids = draw(st.lists(ROW_COMMUNITY, min_size=1, max_size=4, unique=True))
        if table == "communities":
            lines = ["社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积"]
            lines += [f"{c},名{c},{draw(STREET)},村,10,30,5" for c in ids]
        elif table == "safety":
            lines = ["社区编码,月份,刑事案件数"] + [f"{c},2024-01,{n}" for n, c in enumerate(ids)]
        elif table == "facilities":
            keys = draw(st.permutations(["FE", "FW", "FN", "FM"]))
            lines = ["设施编码,社区编码,设施类型"] + [
                f"{k},{c},警务室" for k, c in zip(keys, ids, strict=False)]
        else:
            keys = draw(st.permutations(["IE", "IW", "IN", "IM"]))
            lines = ["事件编号,社区编码,发生时间,事件类别,办理状态"] + [
                f"{k},{c},2024-01-05,治安案件,已上报" for k, c in zip(keys, ids, strict=False)]
        files.append((table, "\n".join(lines) + "\n"))
    return files


def _west(conn) -> dict[str, list]:
    """Everything of 西街道's: its communities and every row citing them."""
    out = {"communities": conn.execute(
        "select * from communities where street = '西街道' order by all").fetchall()}
    for name in ("facilities", "safety", "incidents"):
        out[name] = conn.execute(
            "select * from " + name + " where community_id in ('W1', 'W2')"
            " or " + ("facility_id = 'FW'" if name == "facilities" else
                      "incident_id = 'IW'" if name == "incidents" else "false")
            + " order by all").fetchall()
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(street_batch())
def test_a_street_batch_never_touches_another_streets_rows(files):
    with tempfile.TemporaryDirectory() as tmp:
        conn = db.connect_memory()
        try:
            setup = []
            for table, text in (("communities", TWO_STREETS),
                                ("facilities", TWO_STREETS_FACILITIES),
                                ("incidents", TWO_STREETS_INCIDENTS)):
                path = Path(tmp) / f"setup_{table}.csv"
                path.write_text(text, encoding="utf-8")
                setup.append(importer.SourceFile(path, table))
            assert all(r.applied for r in importer.import_files(conn, setup, applied_by="admin"))
            west = _west(conn)
            sources = []
            for number, (table, text) in enumerate(files):
                path = Path(tmp) / f"{number}_{table}.csv"
                path.write_text(text, encoding="utf-8")
                sources.append(importer.SourceFile(path, table))
            results = importer.import_files(conn, sources, applied_by="jie", scope=("东街道",))
            # all or nothing, and 西街道's rows exactly as they were
            assert len({r.applied or r.unchanged for r in results}) == 1
            assert _west(conn) == west
            # every key the database holds is unique (the declared keys hold)
            assert conn.execute("select count(*) = count(distinct community_id)"
                                " from communities").fetchone()[0]
            event("applied" if results[0].applied else "refused")
        finally:
            conn.close()
