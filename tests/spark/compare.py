"""Row-by-row comparison of one query's result on DuckDB and on Spark."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pyarrow as pa

REL = 1e-9
ABS = 1e-12  # for values that should be 0 and differ only by rounding noise


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def same_value(a: Any, b: Any) -> bool:
    a, b = _number(a), _number(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=REL, abs_tol=ABS)
    return a == b


def differences(duck: pa.Table, spark: pa.Table, limit: int = 5) -> list[str]:
    """What differs, in words (empty when the results are the same): columns
    and their order, row count, then each differing cell, rows in order."""
    if duck.column_names != spark.column_names:
        return [f"columns: DuckDB {duck.column_names} ≠ Spark {spark.column_names}"]
    if duck.num_rows != spark.num_rows:
        return [f"rows: DuckDB {duck.num_rows} ≠ Spark {spark.num_rows}"]
    found = []
    for n, (left, right) in enumerate(zip(duck.to_pylist(), spark.to_pylist(), strict=True)):
        for column in duck.column_names:
            if not same_value(left[column], right[column]):
                found.append(f"row {n} {column}: DuckDB {left[column]!r} ≠ Spark "
                             f"{right[column]!r} (row {left})")
                if len(found) >= limit:
                    return found
    return found
