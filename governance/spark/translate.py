"""DuckDB dialect → Spark SQL: the one translation step for every query file.

The query files in queries/ stay the only source of truth. `translate(name)`
takes the composed text `db.load_query` runs on DuckDB and rewrites it with
sqlglot (read="duckdb", write="spark"), raising TranslationError on anything
Spark cannot run with the same meaning: sqlglot's own refusals
(`ErrorLevel.RAISE`), functions sqlglot does not know (named in `DUCKDB_ONLY`
when known to be DuckDB-only), and DuckDB syntax sqlglot would write out
unchanged (`_check_syntax`). Nothing is passed through silently.

Rewrites on the parsed tree, where Spark has no counterpart sqlglot chooses:

- `indicator_status(...)`, the storage schema's macro (governance/sql/schema.sql),
  is expanded inline from that same macro text: Spark has no SQL macros, and a
  second copy of the rule would drift.
- DuckDB's `rowid` pseudo-column (a compact join key in scoped_communities and
  walking_grid) becomes `row_number() over (order by <the table's key>)`: the
  queries use it only as a unique number within one run, never in a result.
- decimal constants (`100.0`) are computed as DOUBLE, `len(list)` is the
  array's size, `date_diff` counts unit boundaries as DuckDB does,
  `quantile_cont` is `percentile`, DuckDB's `unpivot` statement becomes
  Spark's UNPIVOT clause, and an `unnest` inside an expression becomes a
  LATERAL VIEW (each function below says why).

Parameters stay parameters: `$name` becomes the named marker `:name`, bound by
`spark.sql(text, args=...)` (governance/spark/engine.py), never text.
Translations are pinned by tests/spark/golden/*.sql.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from governance import db
from governance.contract import TABLES

# Query files about the dashboard's own tables (imports, saved scenarios,
# uploaded boundaries): they never run where a province keeps its data.
DASHBOARD_ONLY = frozenset({"import_history", "saved_scenarios", "community_boundaries"})
# The 平安建设 page's reads of imported aggregates (incident_agg_*, the output
# of a Spark run): they only exist in the dashboard's database.
AGGREGATE_READS = frozenset({
    "agg_incident_counts_by_month", "agg_incident_resolution_by_category",
    "agg_open_incidents", "agg_incident_report_reconciliation",
    "agg_community_incident_months",
})
# The coverage page's what-if queries (proposed and closed facilities typed on
# the page, passed as a list of structs) keep the dashboard's DuckDB. Each is
# refused by the translator itself for the reason named here, and
# tests/spark/test_translate.py checks it still is, so the list cannot outlive
# its reason: coverage_points picks the nearest facility with DuckDB's tuple
# min `min((hav, facility_no))[2]` (ties to the lowest facility number;
# arg_min would leave ties unpinned), and both number the facility types with
# generate_subscripts. F03 itself (community_coverage_indicators) runs on
# Spark through the same walking grid.
DUCKDB_CONSTRUCTS = {
    "coverage_points": "DuckDB tuple aggregate",
    "community_facility_coverage": "generate_subscripts",
}
NOT_ON_SPARK = DASHBOARD_ONLY | AGGREGATE_READS | frozenset(DUCKDB_CONSTRUCTS)

# Tables a translated query may read: the data contract's.
SOURCE_TABLES = tuple(TABLES)

# DuckDB functions with no Spark equivalent, named in the refusal. Any other
# function sqlglot does not know (it would pass the name through unchanged,
# and Spark would fail at run time or resolve a different function of the same
# name) is refused as well: `_check_functions`.
DUCKDB_ONLY = frozenset({
    "list_aggregate", "list_reduce", "list_transform", "list_filter", "list_cosine_similarity",
    "array_cosine_similarity", "array_distance", "array_inner_product", "histogram",
    "reservoir_quantile", "mad", "struct_insert", "json_transform", "json_structure",
    "read_csv", "read_csv_auto", "read_parquet", "read_json", "read_json_auto",
    "duckdb_databases", "duckdb_tables", "current_setting", "nextval", "currval",
    "jaro_winkler_similarity", "damerau_levenshtein", "bar", "format_bytes", "time_bucket",
    "generate_subscripts",
})

_MACRO = re.compile(
    r"create or replace macro indicator_status\(([^)]*)\) as\s*(.*?);", re.S | re.I
)


class TranslationError(RuntimeError):
    """A query cannot be run on Spark with the same meaning."""


@dataclass(frozen=True)
class SparkQuery:
    name: str
    sql: str  # Spark SQL with :name markers
    parameters: frozenset[str]


@cache
def _macro() -> tuple[tuple[str, ...], exp.Expression]:
    match = _MACRO.search(db.read_sql("schema"))
    if match is None:
        raise TranslationError("indicator_status macro not found in governance/sql/schema.sql")
    arguments = tuple(a.strip() for a in match.group(1).split(","))
    return arguments, sqlglot.parse_one(match.group(2), read="duckdb")


def _expand_macro(node: exp.Expression) -> exp.Expression:
    if not (isinstance(node, exp.Anonymous) and node.name.lower() == "indicator_status"):
        return node
    arguments, body = _macro()
    if len(node.expressions) != len(arguments):
        raise TranslationError(
            f"indicator_status takes {len(arguments)} arguments, got {len(node.expressions)}")
    given = dict(zip(arguments, node.expressions, strict=True))

    def substitute(inner: exp.Expression) -> exp.Expression:
        if isinstance(inner, exp.Column) and not inner.table and inner.name in given:
            argument = given[inner.name].copy()
            if isinstance(argument, (exp.Column, exp.Literal, exp.Placeholder, exp.Func)):
                return argument
            return exp.paren(argument, copy=False)
        return inner

    return body.copy().transform(substitute)


def _table_keys(select: exp.Select) -> dict[str, str]:
    """alias (or table name) → source table, for the tables in select's FROM/JOINs."""
    found = {}
    sources = [select.args.get("from_") or select.args.get("from")]
    sources += list(select.args.get("joins") or [])
    for source in sources:
        if source is None:
            continue
        table = source.this
        if isinstance(table, exp.Table) and table.name in db.STORAGE_KEYS:
            found[table.alias_or_name] = table.name
    return found


def _replace_rowid(node: exp.Expression) -> exp.Expression:
    if not (isinstance(node, exp.Column) and node.name.lower() == "rowid"):
        return node
    select = node.find_ancestor(exp.Select)
    tables = _table_keys(select) if select is not None else {}
    if node.table:
        table = tables.get(node.table)
    elif len(tables) == 1:
        table = next(iter(tables.values()))
    else:
        table = None
    if table is None:
        raise TranslationError(f"rowid of an unknown table in: {select.sql('duckdb')[:200]}")
    qualifier = node.table or None
    order = exp.Order(expressions=[
        exp.Ordered(this=exp.column(column, table=qualifier), nulls_first=False)
        for column in db.STORAGE_KEYS[table]
    ])
    return exp.Window(this=exp.RowNumber(), order=order)


def _double_literal(node: exp.Expression) -> exp.Expression:
    """`100.0` is a DECIMAL literal in both dialects, but DuckDB turns a
    decimal division into DOUBLE while Spark keeps DECIMAL with a capped scale
    (2/3 × 100 → 66.666667). Written as a DOUBLE, Spark computes what DuckDB
    does: integer × 100.0 is exact either way, and the division is binary."""
    if isinstance(node, exp.Literal) and node.is_number and re.search(r"[.eE]", node.this):
        return exp.cast(node, exp.DataType.build("double"))
    return node


_ARRAYS = (exp.Array, exp.ArrayDistinct, exp.ArrayConcat, exp.Placeholder)


def _array_length(node: exp.Expression) -> exp.Expression:
    """DuckDB `len(list)` is the list's size; sqlglot reads `len` as string
    LENGTH, which Spark refuses on an array."""
    if isinstance(node, exp.Length) and isinstance(node.this, _ARRAYS):
        return exp.ArraySize(this=node.this)
    return node


def _date_diff(node: exp.Expression) -> exp.Expression:
    """DuckDB's date_diff(unit, a, b) counts unit boundaries crossed (calendar
    days from 23:00 to 01:00 next day: 1); Spark's DATEDIFF(unit, a, b) counts
    whole units elapsed (0). Truncating both ends to the unit first makes the
    two the same."""
    if not (isinstance(node, exp.DateDiff) and node.args.get("date_part_boundary")):
        return node
    unit = node.args.get("unit")
    if unit is None:
        return node

    def truncated(value: exp.Expression) -> exp.Expression:
        return exp.TimestampTrunc(this=value.copy(), unit=exp.var(unit.name.upper()))

    return exp.DateDiff(this=truncated(node.this), expression=truncated(node.expression),
                        unit=unit.copy())


def _percentile(node: exp.Expression) -> exp.Expression:
    """quantile_cont(x, p) → Spark percentile(x, p): both interpolate linearly
    between the two nearest ranks of the exact distribution."""
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    return node


def _unpivot(node: exp.Expression) -> exp.Expression:
    """DuckDB's statement `unpivot T on c1, c2 into name N value V` →
    `select * from T unpivot (V for N in (c1, c2))`. Both drop NULL values
    and put N, V after the other columns."""
    if not (isinstance(node, exp.Pivot) and node.args.get("unpivot")
            and node.args.get("into") is not None):
        return node
    into = node.args["into"]
    if len(into.expressions) != 1:
        raise TranslationError("unpivot into more than one value column")
    source = node.this.copy()
    source.set("pivots", [exp.Pivot(
        expressions=[exp.to_identifier(into.expressions[0].name)],
        fields=[exp.In(this=exp.to_identifier(into.this.name),
                       expressions=[c.copy() for c in node.expressions])],
        unpivot=True,
    )])
    return exp.select("*").from_(source, copy=False)


def _hoist_generators(node: exp.Expression) -> exp.Expression:
    """A DuckDB select-list `unnest()` inside an expression (`cast(unnest(...) as
    date)`, `x + unnest([-1, 0, 1])`) multiplies the rows as a lateral join
    would; Spark allows a generator only as a whole select item, so it becomes
    `LATERAL VIEW explode(...) _uN AS _uN_value` and the expression reads
    `_uN_value`."""
    if not isinstance(node, exp.Select):
        return node
    n = 0
    for item in node.expressions:
        inner = item.this if isinstance(item, exp.Alias) else item
        for explode in list(inner.find_all(exp.Explode)):
            if explode is inner or explode.find_ancestor(exp.Select) is not node:
                continue
            n += 1
            view = f"_u{n}"
            if not (node.args.get("from_") or node.args.get("from")):
                # No table to join to: the generator's rows are the FROM.
                rows = exp.select(exp.alias_(explode.copy(), f"{view}_value")).subquery(view)
                node.from_(rows, copy=False)
                explode.replace(exp.column(f"{view}_value", table=view))
                continue
            lateral = exp.Lateral(
                this=explode.copy(), view=True,
                alias=exp.TableAlias(this=exp.to_identifier(view),
                                     columns=[exp.to_identifier(f"{view}_value")]),
            )
            node.append("laterals", lateral)
            explode.replace(exp.column(f"{view}_value", table=view))
    return node


def _check_functions(tree: exp.Expression, name: str) -> None:
    for node in tree.find_all(exp.Anonymous):
        function = node.name.lower()
        if function in DUCKDB_ONLY:
            raise TranslationError(
                f"{name}: DuckDB function {function}() has no Spark equivalent")
        raise TranslationError(
            f"{name}: function {function}() is unknown to sqlglot, so no Spark equivalent "
            "is known; write the query with functions both engines have")


# DuckDB syntax sqlglot writes out unchanged although Spark has no such thing.
_JOIN_METHODS = frozenset({"ASOF", "POSITIONAL"})
_TYPES = frozenset({
    exp.DataType.Type.UTINYINT, exp.DataType.Type.USMALLINT, exp.DataType.Type.UINT,
    exp.DataType.Type.UBIGINT, exp.DataType.Type.UINT128, exp.DataType.Type.UINT256,
    exp.DataType.Type.INT128, exp.DataType.Type.INT256, exp.DataType.Type.UNION,
})


def _check_syntax(tree: exp.Expression, name: str) -> None:
    for join in tree.find_all(exp.Join):
        method = str(join.args.get("method") or "").upper()
        if method in _JOIN_METHODS:
            raise TranslationError(f"{name}: DuckDB {method} JOIN has no Spark equivalent")
    for pivot in tree.find_all(exp.Pivot):
        if not pivot.args.get("unpivot") and pivot.this is not None:
            raise TranslationError(f"{name}: DuckDB's PIVOT statement has no Spark form here")
    for select in tree.find_all(exp.Select):
        # sqlglot writes QUALIFY as a subquery with the window as an extra
        # column `_w`, which `select *` would then return as well.
        if select.args.get("qualify") and select.is_star:
            raise TranslationError(
                f"{name}: QUALIFY with select * would return the window column on Spark; "
                "name the columns")
    for data_type in tree.find_all(exp.DataType):
        if data_type.this in _TYPES:
            raise TranslationError(
                f"{name}: DuckDB type {data_type.sql('duckdb')} has no Spark equivalent")


def _check_tuple_aggregates(tree: exp.Expression, name: str) -> None:
    """DuckDB's `min((value, key))[2]` (the key at the smallest value, ties to
    the smallest key) is passed through by sqlglot as is; Spark would compare
    something else or fail at run time. Refused, naming the rewrite both
    engines have (arg_min / min_by, whose ties are not pinned)."""
    for node in tree.find_all(exp.Tuple):
        if isinstance(node.parent, exp.AggFunc):
            raise TranslationError(
                f"{name}: DuckDB tuple aggregate {node.parent.sql('duckdb')} has no Spark "
                "equivalent; write it with arg_min/arg_max (min_by/max_by)")


def translate_sql(sql: str, name: str = "query") -> str:
    """Composed DuckDB text → Spark SQL text; raises TranslationError."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except (SqlglotError, ValueError) as exc:
        raise TranslationError(f"{name}: {exc}") from exc
    tree = tree.transform(_expand_macro)
    _check_tuple_aggregates(tree, name)
    _check_functions(tree, name)
    _check_syntax(tree, name)
    for rewrite in (_replace_rowid, _double_literal, _array_length, _date_diff, _percentile,
                    _unpivot, _hoist_generators):
        tree = tree.transform(rewrite)
    try:
        return tree.sql(dialect="spark", pretty=True, comments=False,
                        unsupported_level=ErrorLevel.RAISE)
    except (SqlglotError, ValueError) as exc:
        raise TranslationError(f"{name}: {exc}") from exc


def spark_query_names() -> tuple[str, ...]:
    """Every query file that runs on Spark: all but the dashboard's own."""
    return tuple(n for n in db.query_names() if n not in NOT_ON_SPARK)


@cache
def translate(name: str) -> SparkQuery:
    if name in NOT_ON_SPARK:
        raise TranslationError(
            f"{name}: runs on the dashboard's DuckDB only (translate.py says why)")
    query = db.load_query(name)
    return SparkQuery(name, translate_sql(query.sql, name), query.parameters)
