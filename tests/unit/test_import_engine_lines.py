"""The engine path's reading of lines (tabular.read_raw: the flags on each
line, the view `data` splitting the lines it kept) against the row-by-row
path, on the lines its shortcuts treat apart: blank lines of every kind, first
characters at the edges of the quick not-blank test, quoted lines, and header
columns out of the contract's order."""

from __future__ import annotations

import pytest

from governance import db, importer
from tests.unit.test_import_sql_cleaning import _both, _engine_used, _row_by_row

HEADER = "社区编码,月份,刑事案件数,重大刑事案件数,居民满意率"

# Lines a person may leave in a safety export: each must be blank, a total
# row or a data row on both paths alike.
ODD_LINES = [
    "",
    " ",
    "\u3000",  # an ideographic space alone: blank
    ",,,,",
    " ,\u3000, ,\t,",
    '"","",,,',  # quoted empty fields: blank
    '" ",,,,',
    "\u3000合计,,,,",  # a total row behind an ideographic space
    " 小计 ,,,,",
    "0C1,2023-05,1,0,90",  # first character "0" (the quick test's lower edge)
    "/C1,2023-05,1,0,90",  # "/" just below it
    "~C1,2023-05,1,0,90",  # "~" its upper edge
    "\x7fC1,2023-05,1,0,90",  # DEL just above it
    ":C1,2023-06,1,0,90",
    "社区C1,2023-05,1,0,90",  # a first character outside ASCII
    '"C2","2023-05","1","0","95%"',  # quoted whole
    '"C,3",2023-05,"1,5",0,"9""5"',  # commas and a doubled quote inside quotes
    "C4,2023-05",  # fewer fields than the header
    "C5,2023-05,1,0,90,extra,more",  # more
]


def _write(tmp_path, lines: list[str], newline: str = "\n", encoding: str = "utf-8"):
    path = tmp_path / "safety.csv"
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_odd_lines_say_the_same_on_both_paths(tmp_path, newline, encoding):
    lines = ["XX区平安建设月报", "", HEADER, "C1,2023-01,1,0,90"]
    lines += ODD_LINES + ["C9,2023-02,2,1,80", "", " "]
    engine, rows, used = _both(_write(tmp_path, lines, newline, encoding), "safety")
    assert used == [True]
    assert engine == rows
    assert engine[0] > 5 and engine[1] > 0  # data rows read, and refusals compared


@pytest.mark.parametrize("line", ODD_LINES)
def test_each_odd_line_alone_says_the_same_on_both_paths(tmp_path, line):
    engine, rows, used = _both(_write(tmp_path, [HEADER, line, "C9,2023-02,2,1,80"]), "safety")
    assert used == [True]
    assert engine == rows


def test_columns_out_of_order_are_stored_the_same_on_both_paths(tmp_path):
    """The view `data` takes each contract column from its own position: a
    header in another order, with a column the contract does not know, stores
    what the row-by-row path stores."""
    header = "备注,居民满意率,月份,重大刑事案件数,社区编码,刑事案件数"
    lines = [header] + [
        f"x{i},{60 + i}%,2023-{i:02d},{i % 3},C{i % 4},{i}" for i in range(1, 13)
    ] + ['"a,b",95%,2023-05,0,C9,"1"', ",,,,,", "合计,,,,,"]
    path = _write(tmp_path, lines)
    stored = []
    for engine in (True, False):
        conn = db.connect_memory()
        communities = tmp_path / "c.csv"
        communities.write_text(
            "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
            + "".join(f"C{i},甲{i},东,村,1,1,1\n" for i in range(10)), encoding="utf-8")
        assert importer.import_file(conn, importer.SourceFile(communities, "communities"),
                                    applied_by="t").applied
        with pytest.MonkeyPatch.context() as patch:
            used = _engine_used(patch)
            if not engine:
                _row_by_row(patch)
            result = importer.import_file(conn, importer.SourceFile(path, "safety"),
                                          applied_by="t")
        assert used == ([True] if engine else [])
        assert result.applied, result.report.messages()
        stored.append((result.report.notes, conn.execute(
            "select * exclude (import_id) from safety order by community_id, month"
        ).fetchall()))
        conn.close()
    assert stored[0] == stored[1]
    assert len(stored[0][1]) == 13
