"""The engine path (DuckDB reads the lines, SQL cleans them) says exactly what
the row-by-row path says: same rows, values, refusals, messages and notes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import cells, db, importer, tabular
from governance.contract import TABLES
from tests import district_files
from tests.unit.test_import_fuzz import HEADERS, TOKENS, cell


def _row_by_row(monkeypatch):
    monkeypatch.setattr(tabular, "read_raw", lambda *args, **kwargs: False)


def _engine_used(monkeypatch) -> list[bool]:
    used: list[bool] = []
    real = tabular.read_raw

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        used.append(result)
        return result

    monkeypatch.setattr(tabular, "read_raw", spy)
    return used


def _said(report: importer.ImportReport) -> tuple:
    preview = None
    if report.preview is not None:
        preview = report.preview.astype(object).where(pd.notna(report.preview), None)
        preview = preview.to_dict(orient="split")
    return (report.rows, report.problem_count, report.messages(), report.notes,
            report.encoding, preview)


def _both(path: Path, table: str, conn=None) -> tuple[tuple, tuple, list[bool]]:
    with pytest.MonkeyPatch.context() as patch:
        used = _engine_used(patch)
        engine = _said(importer.validate_file(importer.SourceFile(path, table), conn=conn))
    with pytest.MonkeyPatch.context() as patch:
        _row_by_row(patch)
        rows = _said(importer.validate_file(importer.SourceFile(path, table), conn=conn))
    return engine, rows, used


COMMUNITIES_CSV = (
    "XX区社区统计表\r\n\r\n"
    "社区编码,社区名称,街道,社区类型,户数,常住人口,60岁以上老人,办公和活动用房面积,"
    "工作者月均报酬,经度,纬度,备注\r\n"
    'C001,甲社区,东街道,城市社区,"1,234",１２３４,99,300.5,"2.5万",117.1,32.1,x\r\n'
    "C002, 乙社区 ,东街道,村,0,10,20,abc,300元,200,32.1\r\n"
    "\r\n"
    "C003,丙,西街道,火星,1.5,-1,,12,5千元,117,\r\n"
    "C001,丁,西街道,urban,1,2,3,4,5,6,7,8,9\r\n"
    '"C004","戊""社区","西街道",老城区,"1,23",1e3,0,"",12.345,117.2,32.2\r\n'
    "1.23E+11,己,西街道,安置区,5,5,5,5,,,\r\n"
    "合计,,,,,,,,,,,\r\n"
    "\r\n"
)

SAFETY_CSV = (
    "社区编码,月份,刑事案件数,重大刑事案件数,矛盾纠纷受理数,调解数,调解成功数,"
    "居民满意率,普法教育覆盖率,民警下沉社区时长\n"
    "C001,2023年5月,3,4,10,8,9,95%,0.5,30\n"
    "C001,2023-05,1,0,10,11,12,96,0.7,30.25\n"
    "C002,202306,,,,,,100%,1,１２\n"
    "C002,2023-13,x,0,5,5,5,101,0.95,-1\n"
    "C003,2023/7,0,0,0,0,0,0.5%,50,\n"
    " 小计 ,,,,,,,,,\n"
)

INCIDENTS_CSV = (
    "事件编号,社区编码,发生时间,事件类别,严重程度,办理状态,办结时间,经度,纬度\n"
    "E1,C001,2023-05-01 14:30,刑事案件,,已办结,2023-05-01 13:00,117.1,32.1\n"
    "E2,C001,2023年5月1日14时30分,纠纷,高,处理中,2023-05-02,117.1,32.1\n"
    "E3,C002,2023/5/1 9:05,fire,general,reported,,,\n"
    "E4,C002,2023-02-30 10:00,fire,general,resolved,2023-03-01 10:00:05,117,32\n"
    "E1,C002,2023-05-01,other,major,resolved,2023-05-01 00:00:00,181,32\n"
    "E6,C009,2023-05,other,major,resolved,,117,32\n"
)

FUNDING_CSV = (
    "社区编码,年度,经费类别,资金来源,金额（万元）,下达日期,到账日期\n"
    "C001,2023,办公经费,,1.5,2023-01-05,2023-01-04\n"
    "C001,2023年,党建经费,财政拨款,\"1,000元\",2023年2月1日,2023-03\n"
    "C002,2024,公益创投,社会捐助,2.5万,20230301,2023-03-02\n"
    "C002,1999,其他,其他,-1,2023-02-30,\n"
)


@pytest.fixture
def conn_with_communities(tmp_path):
    conn = db.connect_memory()
    path = tmp_path / "c.csv"
    path.write_text(
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
        "C001,甲,东,村,1,1,1\nC002,乙,东,村,1,1,1\nC003,丙,东,村,1,1,1\n", encoding="utf-8")
    importer.import_file(conn, importer.SourceFile(path, "communities"), applied_by="t")
    yield conn
    conn.close()


@pytest.mark.parametrize(
    ("table", "text"),
    [("communities", COMMUNITIES_CSV), ("safety", SAFETY_CSV), ("incidents", INCIDENTS_CSV),
     ("funding", FUNDING_CSV)],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_messy_files_say_the_same_on_both_paths(conn_with_communities, tmp_path, table,
                                                 text, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    engine, rows, used = _both(path, table, conn_with_communities)
    assert used == [True]
    assert engine == rows
    assert engine[1] > 0  # the files are messy: the comparison covers refusals


def test_district_files_say_the_same_on_both_paths(tmp_path):
    path = tmp_path / "communities.csv"
    path.write_bytes(district_files.communities_gbk())
    engine, rows, used = _both(path, "communities")
    assert used == [True]
    assert engine == rows
    assert engine[1] == 0 and engine[0] == 5


def test_engine_path_applies_the_same_rows(tmp_path, monkeypatch):
    path = tmp_path / "communities.csv"
    path.write_bytes(district_files.communities_gbk())
    stored = []
    for engine in (True, False):
        conn = db.connect_memory()
        with pytest.MonkeyPatch.context() as patch:
            if not engine:
                _row_by_row(patch)
            result = importer.import_file(conn, importer.SourceFile(path, "communities"),
                                          applied_by="t")
        assert result.applied
        stored.append(conn.execute(
            "select * exclude (import_id) from communities order by community_id").fetchall())
        conn.close()
    assert stored[0] == stored[1] and len(stored[0]) == 5


@pytest.mark.parametrize(
    "text",
    [
        'a,b\n"x\ny",1\n',  # a record over two lines
        "a,b\r\n1,2\n3,4\r\n",  # mixed line endings
        "a,b\r1,2\r",  # old Mac line endings
        'a,b\nx"y,1\n',  # a quote inside an unquoted field
    ],
)
def test_files_the_engine_could_misnumber_go_row_by_row(tmp_path, text):
    path = tmp_path / "f.csv"
    path.write_text("社区编码,月份,刑事案件数\n" + text.replace("a,b\n", "").replace(
        "a,b\r\n", "").replace("a,b\r", ""), encoding="utf-8", newline="")
    engine, rows, used = _both(path, "safety")
    assert used == [False]
    assert engine == rows


@st.composite
def messy_text_csv(draw) -> tuple[str, str]:
    table = draw(st.sampled_from(sorted(TABLES)))
    header = draw(st.lists(st.sampled_from(HEADERS[table]), min_size=1, max_size=10))
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 1), max_size=12))
    lines = []
    if draw(st.booleans()):
        lines.append("XX区统计表")
    lines.append(",".join(header))
    lines += [",".join(r) for r in rows]
    return table, draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(
        st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_text_csv())
def test_random_messy_files_say_the_same_on_both_paths(case):
    table, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(text.encode("utf-8"))
        engine, rows, _ = _both(path, table)
        assert engine == rows


def test_tokens_cover_the_conversions():
    assert {"1,234", "１２３", "95%", "2.5万", "2023年5月"} <= set(TOKENS)


def test_converted_coordinates_are_the_same_on_both_paths(tmp_path):
    path = tmp_path / "communities.csv"
    path.write_text(
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积,经度,纬度\n"
        "C001,甲,东,村,1,1,1,117.1,32.1\nC002,乙,东,村,1,1,1,,32.1\n"
        "C003,丙,东,村,1,1,1,116.9,31.9\n", encoding="utf-8")
    said = []
    for engine in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            used = _engine_used(patch)
            if not engine:
                _row_by_row(patch)
            report = importer.validate_file(
                importer.SourceFile(path, "communities", coordinate_system="gcj02"))
        assert used == ([True] if engine else [])
        said.append(_said(report))
    assert said[0] == said[1]
    assert said[0][5]["data"][0][-2] != 117.1  # converted from GCJ-02


@pytest.mark.parametrize(
    ("blocks", "newline", "lines"),
    [
        ([b"a\nb\n"], "\n", 2),
        ([b"a\nb"], "\n", 2),
        ([b"a\r", b"\nb\r\n"], "\r\n", 2),  # a CRLF split between two blocks
        ([b"a\r\nb\n"], None, 2),  # mixed: read row by row
        ([b"a\rb\r"], None, 2),  # old Mac
        ([b""], "\n", 0),
    ],
)
def test_line_endings_are_counted_across_blocks(blocks, newline, lines):
    from governance.decoding import LineEnds

    ends = LineEnds()
    for block in blocks:
        ends = ends.add(block)
    assert ends.newline == newline
    if newline is not None:
        assert ends.lines == lines


# Spellings near each column's plain form: signs, spaces, leading zeros,
# exponents, underscores, hexadecimal, overflow, non-ASCII, control characters.
NEAR_PLAIN = [
    "0", "5", "-5", "+5", "-0", "007", " 5", "5 ", "5.5", "5.", ".5", "12.0", "1e3", "1e2",
    "1e+16", "1E+16", "1e-05", "0x10", "1_000", "2147483647", "2147483648", "-2147483648",
    "-2147483649", "inf", "-inf", "nan", "-0.0", "64.75", "100", "100.0", "0.95", "1.5",
    "1.23E+11", "1.2345678901234568e+17", "0.30000000000000004", "1999", "2023", "0999",
    "-999", "12345", "C001", "c 1", " C1", "C1 ", "\tC1", "C1\x7f", "Ｃ１", "a\tb", "é",
    "2023-05", "2023-05-01", "2023-05-01 14:30", "1,234", "95%", "31.678300", "",
]


@pytest.mark.parametrize(
    "column",
    [c for table in TABLES.values() for c in table.columns
     if cells.fast_sql(c, "r.raw", "k") is not None],
    ids=lambda c: c.name,
)
def test_sql_plain_form_is_what_the_parser_reads(column):
    """A cell the SQL plain form takes gets the parser's value, with no
    problem and no conversion to count (else the two paths would differ)."""
    fast = cells.fast_sql(column, "r.raw", "k")
    spellings = list(NEAR_PLAIN)
    if column.enum is not None:
        spellings += [s for item in column.enum.codes for s in (item.code, item.label)]
    con = duckdb.connect()
    try:
        taken = con.execute(
            "select raw, " + fast.value + " from unnest($raws) as r(raw)",
            {**fast.params, "raws": spellings},
        ).fetchall()
    finally:
        con.close()
    raws = [raw for raw, value in taken if value is not None]
    parsed = cells.parse_column(column, pa.array(raws, pa.string()))
    assert parsed.errors.null_count == len(raws)
    assert parsed.values.to_pylist() == [value for _, value in taken if value is not None]
    assert not cells.conversion_counts(column, pa.array(raws, pa.string()), parsed)
    # The plain forms still take what files mostly hold.
    if column.kind == "int":
        assert "5" in raws and "007" not in raws and "+5" not in raws
    if column.kind == "number":  # coordinates keep their trailing zeros
        assert "31.678300" in raws
    if cells.is_identifier(column):
        assert "C001" in raws and " C1" not in raws and "1.23E+11" not in raws
    if column.enum is not None:
        assert column.enum.codes[0].code in raws
    assert raws  # every plain form takes something
