"""The shipped sample district (示例数据), loaded into a brand-new database on
first start so the dashboard shows something real-looking at once. The CSV
files under data/sample/ are written by the generator (governance/sample.py,
`python -m governance sample`) and go through the real importer, marked as
sample; governance/sample_rows.py removes them as one unit later."""

from __future__ import annotations

import duckdb

from governance.contract import TABLES
from governance.db import PROJECT_DIR, read_sql
from governance.importer import SourceFile, import_files

SAMPLE_DIR = PROJECT_DIR / "data" / "sample"
SAMPLE_APPLIED_BY = "系统（示例数据）"


def ensure_sample_loaded(conn: duckdb.DuckDBPyConnection) -> bool:
    """Load the shipped sample into a brand-new database; True when it did.

    A database with any community or any import record is left alone, so a
    bureau that has deleted or replaced the sample never sees it come back.
    """
    cur = conn.cursor()
    try:
        (empty,) = cur.execute(read_sql("sample_database_empty")).fetchall()[0]
    finally:
        cur.close()
    if not empty:
        return False
    sources = [SourceFile(SAMPLE_DIR / f"{name}.csv", name) for name in TABLES]
    missing = [str(s.path) for s in sources if not s.path.is_file()]
    if missing:
        raise RuntimeError(f"sample data files missing: {', '.join(missing)}")
    results = import_files(conn, sources, applied_by=SAMPLE_APPLIED_BY, is_sample=True)
    refused = [r for r in results if not r.applied]
    if refused or len(results) != len(sources):
        messages = [m for r in refused for m in r.report.messages()]
        raise RuntimeError("the shipped sample data was refused by the importer: "
                           + "; ".join(messages or ["no result for every file"]))
    return True
