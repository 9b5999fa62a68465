"""Random messy input never raises and never half-writes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
            report = importer.validate_file(importer.SourceFile(path, table), conn=conn)
            assert all(isinstance(m, str) for m in report.messages())
            result = importer.import_file(conn, importer.SourceFile(path, table), applied_by="t")
            assert result.report.ok == report.ok
            if result.applied:
                stored = conn.execute(
                    "select count(*) from " + table + " where import_id = $id",
                    {"id": result.import_id},
                ).fetchone()[0]
                assert stored == result.report.rows
                assert db.data_version(conn) == 2
            else:
                assert _snapshot(conn) == before
                assert result.report.problem_count >= 1 or result.unchanged
        finally:
            conn.close()
