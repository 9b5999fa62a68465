"""Staging one file: decode strictly (decoding) → find the header and read rows
with their file row numbers (tabular) → parse each chunk of ~50,000 rows with
vectorised parsers (cells) → append to a staging table in a private in-memory
DuckDB → whole-file checks in SQL (percent fractions, duplicate keys, unknown
communities) → a report. Nothing is written to the database."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from governance import cells, coords, db, decoding, tabular
from governance.contract import TABLES, Column, Table, detect_table
from governance.importer.types import (
    MAX_LISTED_PROBLEMS,
    PREVIEW_ROWS,
    CellProblem,
    ImportReport,
    Progress,
    SourceFile,
)
from governance.text import t

# The private staging database spills to a temp directory beyond this. At
# 256 MB a 10,000,000-event file spent most of its time spilling (staging 222 CPU
# seconds); at 600 MB 65 CPU seconds, the staging process peaking at 850 MB
# (benchmarks/import_throughput.py --incidents).
STAGING_MEMORY_LIMIT = "600MB"


@dataclass
class _Staged:
    """A validated file: its report and, while open, its private staging database."""

    source: SourceFile
    report: ImportReport
    table: Table | None
    con: duckdb.DuckDBPyConnection | None = None
    # Years / months the file covers (replaces "years" / "months" only; a
    # "keys" file is matched on its keys, read from `con` when needed).
    periods: list = field(default_factory=list)
    tmpdir: tempfile.TemporaryDirectory | None = None

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None


def _refusal(
    source: SourceFile, reason: str, sha256: str = "", table: str | None = None
) -> ImportReport:
    name = source.display_name
    return ImportReport(
        file_name=name,
        table=table or source.table,
        sha256=sha256,
        rows=0,
        problems=[CellProblem(name, None, None, None, reason)],
        problem_count=1,
        notes=[],
        preview=None,
    )


def _staged_schema(table: Table) -> pa.Schema:
    fields = [pa.field("_row", pa.int32()), pa.field("_plain", pa.int32())]
    fields += [pa.field(c.name, cells.VALUE_TYPES[c.kind]) for c in table.columns]
    return pa.schema(fields)


_PROBLEM_SCHEMA = pa.schema(
    [
        pa.field("_row", pa.int32()),
        pa.field("col_index", pa.int32()),
        pa.field("column_label", pa.string()),
        pa.field("value", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
    ]
)


def _fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _reason_text(
    table: Table, col_index: int, reason: str, detail: str | None, value: str | None
) -> str:
    column = table.columns[col_index] if 0 <= col_index < len(table.columns) else None
    key = "reason." + reason
    if reason == "below_minimum":
        return t(key, minimum=detail)
    if reason == "above_maximum":
        return t(key, maximum=detail)
    if reason in ("not_above", "not_before") and column is not None:
        other = column.not_above if reason == "not_above" else column.not_before
        label = table.column_by_name[other].label if other in table.column_by_name else other
        return t(key, other=label, other_value=detail)
    if reason == "only_when" and column is not None and column.only_when is not None:
        other_name, code = column.only_when
        other = table.column_by_name[other_name]
        label_of = other.enum.label_of if other.enum is not None else str
        return t(
            key, other=other.label, expected=label_of(code),
            other_value=label_of(detail or ""),
        )
    if reason == "bad_enum" and column is not None and column.enum is not None:
        # The Chinese labels (the codes are accepted too, as the template says).
        choices = "、".join(c.label for c in column.enum.codes)
        return t(key, choices=choices)
    if reason == "ambiguous_percent":
        try:
            number = float(value or "")
        except ValueError:
            return t("reason.bad_percent")
        return t(key, value=_fmt_number(number), scaled=_fmt_number(round(number * 100, 8)))
    if reason == "bad_unit":
        return t(key, unit=detail or "")
    if reason == "duplicate_key":
        labels = [table.column_by_name[k].label for k in table.key]
        same = t(
            "reason.duplicate_key.same_all" if len(labels) > 1 else "reason.duplicate_key.same",
            columns="、".join(labels),
        )
        return t(key, rows=detail, key=same)
    return t(key)


def _same_row_rules(column: Column, parsed: dict[str, cells.Parsed]) -> Iterator[cells.Parsed]:
    """The column's same-row rules, each checked against the values as they
    stand when it runs (a generator: a cell refused by one rule is not
    refused again by the next)."""
    name = column.name
    if column.not_above is not None:
        yield cells.check_not_above(parsed[name].values, parsed[column.not_above].values)
    if column.not_before is not None:
        yield cells.check_not_before(parsed[name].values, parsed[column.not_before].values)
    if column.only_when is not None:
        other, code = column.only_when
        yield cells.check_only_when(parsed[name].values, parsed[other].values, code)


def _chunk_tables(
    table: Table,
    chunk: tabular.Chunk,
    scales: dict[str, float],
    percent_bits: dict[str, int],
    counters: dict[str, list[int]],
    conversions: dict[str, dict[str, int]],
) -> tuple[pa.Table, pa.Table]:
    """Parse one chunk → (staged rows, cell problems), both Arrow tables;
    adds the chunk's silent conversions to `conversions` (column → kind → cells)."""
    n = len(chunk)
    rows = pa.array(chunk.rows, pa.int32())
    parsed: dict[str, cells.Parsed] = {}
    raws: dict[str, pa.Array] = {}
    for column in table.columns:
        raw = chunk.columns.get(column.name)
        if raw is None:
            kind_type = cells.VALUE_TYPES[column.kind]
            if column.default is not None:
                values = pa.array([column.default] * n, kind_type)
                counters[column.name][2] += n
            else:
                values = pa.nulls(n, kind_type)
            parsed[column.name] = cells.Parsed(values, pa.nulls(n, pa.string()))
            continue
        raws[column.name] = pa.array(raw, pa.string())
        result = cells.parse_column(column, raws[column.name], scale=scales.get(column.name, 1.0))
        parsed[column.name] = result
        counters[column.name][0] += result.plain_count
        counters[column.name][1] += result.plain_outside
        counters[column.name][2] += result.defaults
        for kind, count in cells.conversion_counts(column, raws[column.name], result).items():
            per_column = conversions.setdefault(column.name, {})
            per_column[kind] = per_column.get(kind, 0) + count

    # Same-row rules, only where both cells parsed; a cell's first error wins.
    for column in table.columns:
        if column.name not in raws:
            continue
        for rule in _same_row_rules(column, parsed):
            if not rule.error_count:
                continue
            mine = parsed[column.name]
            details = mine.details if mine.details is not None else pa.nulls(n, pa.string())
            parsed[column.name] = cells.Parsed(
                pc.if_else(
                    pc.is_valid(rule.errors), pa.scalar(None, mine.values.type), mine.values
                ),
                pc.coalesce(mine.errors, rule.errors),
                pc.coalesce(details, rule.details),
            )

    plain = pa.repeat(pa.scalar(0, pa.int32()), n)
    for name, bit in percent_bits.items():
        candidates = parsed[name].fraction_candidates
        if candidates is not None:
            plain = pc.bit_wise_or(plain, pc.if_else(candidates, bit, 0).cast(pa.int32()))

    staged = pa.table(
        [rows, plain] + [parsed[c.name].values for c in table.columns],
        schema=_staged_schema(table),
    )

    pieces = []
    for index, column in enumerate(table.columns):
        result = parsed[column.name]
        if column.name not in raws or result.error_count == 0:
            continue
        mask = pc.is_valid(result.errors)
        count = result.error_count
        details = result.details if result.details is not None else pa.nulls(n, pa.string())
        pieces.append(
            pa.table(
                [
                    pc.filter(rows, mask),
                    pa.repeat(pa.scalar(index, pa.int32()), count),
                    pa.repeat(pa.scalar(column.label), count),
                    pc.filter(raws[column.name], mask),
                    pc.filter(result.errors, mask),
                    pc.filter(details, mask),
                ],
                schema=_PROBLEM_SCHEMA,
            )
        )
    problems = (
        pa.concat_tables(pieces).sort_by([("_row", "ascending"), ("col_index", "ascending")])
        if pieces
        else _PROBLEM_SCHEMA.empty_table()
    )
    return staged, problems


def _conversion_notes(table: Table, conversions: dict[str, dict[str, int]]) -> list[str]:
    """One line per column that needed conversions, in contract order:
    「户数」：全角数字 1 格、千位分隔符 3 格已换算."""
    notes = []
    for column in table.columns:
        counts = conversions.get(column.name)
        if not counts:
            continue
        parts = t("text.list_separator").join(
            t(f"import.conversion.{kind}", count=f"{counts[kind]:,}")
            for kind in cells.CONVERSIONS if kind in counts
        )
        notes.append(t("import.note.conversions", column=column.label, parts=parts))
    return notes


def _display_expr(column: Column, alias: str = "") -> str:
    """SQL text showing a staged key column as the user wrote it, roughly.

    alias: a table alias of the query ("s"), a constant, never user input.
    """
    quoted = (alias + "." if alias else "") + db.quote_identifier(column.name)
    if column.kind == "year_month":
        return "strftime(" + quoted + ", '%Y-%m')"
    return "cast(" + quoted + " as varchar)"


def _duplicate_key_sql(table: Table) -> str:
    keys = [db.quote_identifier(k) for k in table.key]
    key_list = ", ".join(keys)
    not_null = " and ".join(k + " is not null" for k in keys)
    shown = " || ' / ' || ".join(_display_expr(table.column_by_name[k]) for k in table.key)
    return (
        "insert into problems select s._row, $col_index, $label, "
        + shown
        + ", 'duplicate_key',"
        " array_to_string(list_filter(g.first_rows, lambda x: x <> s._row)[1:10], '、')"
        " || case when g.n > 11 then '…' else '' end"
        " from staged s join (select "
        + key_list
        + ", list(_row order by _row)[1:11] as first_rows, count(*) as n from staged where "
        + not_null
        + " group by "
        + key_list
        + " having count(*) > 1) g using ("
        + key_list
        + ")"
    )


def _has_duplicate_keys(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    """Whether any key occurs twice: a plain count first, since naming the
    rows (a list per key) costs far more on a file of distinct keys."""
    keys = [db.quote_identifier(k) for k in table.key]
    found = con.execute(
        "select count(*) from (select 1 from staged where "
        + " and ".join(k + " is not null" for k in keys)
        + " group by " + ", ".join(keys) + " having count(*) > 1 limit 1)"
    ).fetchall()
    return bool(found[0][0])


def _percent_fraction_sql(column: Column) -> str:
    quoted = db.quote_identifier(column.name)
    return (
        "update staged set " + quoted + " = round(" + quoted + " * 100, 8)"
        " where (_plain & $bit) <> 0"
    )


def _percent_ambiguous_sql(column: Column) -> str:
    quoted = db.quote_identifier(column.name)
    return (
        "insert into problems select _row, $col_index, $label, cast(" + quoted + " as varchar),"
        " 'ambiguous_percent', null from staged where (_plain & $bit) <> 0"
        " and " + quoted + " > 0 and " + quoted + " < 1"
    )


def _periods_sql(table: Table) -> str | None:
    if table.replaces == "years":
        column = db.quote_identifier("year")
    elif table.replaces == "months":
        column = db.quote_identifier("month")
    else:
        return None
    return "select distinct " + column + " from staged where " + column + " is not null order by 1"


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> int:
    """Run an insert/update/delete and return the number of rows it touched."""
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _coordinates_to_wgs84(rows: pa.Table, system: str) -> pa.Table:
    """lon/lat of one staged chunk converted to WGS-84; rows missing either stay as read."""
    lon = rows.column("lon").to_numpy(zero_copy_only=False).astype(float)
    lat = rows.column("lat").to_numpy(zero_copy_only=False).astype(float)
    known = ~(np.isnan(lon) | np.isnan(lat))
    if known.any():
        lon[known], lat[known] = coords.to_wgs84(lon[known], lat[known], system)
    for name, values in (("lon", lon), ("lat", lat)):
        index = rows.schema.get_field_index(name)
        field = rows.schema.field(index)
        column = pa.array(values, type=field.type, mask=np.isnan(values))
        rows = rows.set_column(index, field, column)
    return rows


def _rule_sql(table: Table, column: Column) -> list[tuple[str, str, str, dict]]:
    """The column's same-row rules in order: (reason, hit SQL, detail SQL,
    params) over the staged row `s`."""
    name = db.quote_identifier(column.name)
    rules = []
    if column.not_above is not None:
        other = "s." + db.quote_identifier(column.not_above)
        rules.append(("not_above", "s." + name + " > " + other,
                      "cast(" + other + " as varchar)", {}))
    if column.not_before is not None:
        other = "s." + db.quote_identifier(column.not_before)
        if table.column_by_name[column.not_before].kind == "datetime":
            shown = (
                "case when second(" + other + ") = 0 then strftime(" + other
                + ", '%Y-%m-%d %H:%M') else strftime(" + other + ", '%Y-%m-%d %H:%M:%S') end"
            )
        else:
            shown = "cast(" + other + " as varchar)"
        rules.append(("not_before", "s." + name + " < " + other, shown, {}))
    if column.only_when is not None:
        other_name, code = column.only_when
        other = "s." + db.quote_identifier(other_name)
        rules.append(("only_when", "s." + name + " is not null and " + other + " <> $code",
                      other, {"code": code}))
    return rules


def _slow_alias(index: int) -> str:
    """Pass 1's column of a contract column's text outside the plain form
    (`_s` and the column's position: no name from input)."""
    return "_s" + str(int(index))


def _raw_alias(index: int) -> str:
    """Pass 1's inner column of a contract column's text (`_r` and its position)."""
    return "_r" + str(int(index))


def _engine_cells(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    present: set[str],
    scales: dict[str, float],
    percent_bits: dict[str, int],
    counters: dict[str, list[int]],
    conversions: dict[str, dict[str, int]],
) -> int:
    """The engine path's staged rows and cell problems, from the view `data`
    (tabular.read_raw): each column's plain cells in SQL, its other spellings
    once each (cells.parse_distinct); then the same-row rules in contract
    order. Returns the number of cell problems (the first MAX_LISTED_PROBLEMS
    by row are in `problems`)."""
    # Pass 1, once over the rows: each column's plain cells as values, the
    # others' text beside them (null where the plain form held). The values
    # are computed in an inner query and the text is picked by testing the
    # value computed, not by evaluating the plain form's expression again
    # (DuckDB does not share it inside a CASE; a few per cent of this pass).
    inner = ["r._row"]
    outer = ["_row", "_plain"]
    first_params: dict = {}
    fasts: dict[int, cells.FastSql | None] = {}
    plain_bits = []
    for index, column in enumerate(table.columns):
        if column.name not in present:
            continue
        key = "c" + str(index)
        quoted = db.quote_identifier(column.name)
        ref = "r." + quoted
        fast = cells.fast_sql(column, ref, key, scales.get(column.name, 1.0))
        fasts[index] = fast
        if fast is None:
            inner.append(ref + " as " + _slow_alias(index))
            outer.append(_slow_alias(index))
            continue
        first_params.update(fast.params)
        inner.append(fast.value + " as " + quoted)
        inner.append(ref + " as " + _raw_alias(index))
        outer.append(quoted)
        outer.append("case when " + quoted + " is null then " + _raw_alias(index) + " end as "
                     + _slow_alias(index))
        if column.name in percent_bits and fast.candidate is not None:
            first_params[key + "_bit"] = percent_bits[column.name]
            plain_bits.append("case when " + fast.candidate + " then $" + key + "_bit else 0 end")
    inner.insert(1, "cast(" + (" + ".join(plain_bits) or "0") + " as integer) as _plain")
    con.execute("create table plain as select " + ", ".join(outer) + " from (select "
                + ", ".join(inner) + " from data r)", first_params)

    # Pass 2: the spellings outside the plain form, once each, with counts.
    rows = con.execute("select count(*) from plain").fetchall()[0][0]
    selects = ["p._row"]
    joins = []
    slow_bits = []
    params: dict = {}
    error_maps: list[tuple[int, Column, pa.Table]] = []
    problem_total = 0
    for index, column in enumerate(table.columns):
        key = "c" + str(index)
        sql_type = cells.SQL_TYPES[column.kind]
        quoted = db.quote_identifier(column.name)
        if column.name not in present:
            if column.default is not None:
                selects.append("cast($" + key + "_default as " + sql_type + ") as " + quoted)
                params[key + "_default"] = column.default
                counters[column.name][2] += rows
            else:
                selects.append("cast(null as " + sql_type + ") as " + quoted)
            continue
        fast = fasts[index]
        slow = "p." + _slow_alias(index)
        if fast is not None and column.kind == "percent":
            plain, outside = con.execute(
                "select count(" + quoted + "), count(" + quoted + ") filter (where not ("
                + quoted + " between 0 and 1)) from plain"
            ).fetchall()[0]
            counters[column.name][0] += plain
            counters[column.name][1] += outside
        # A null cell is slow too (required, or a default): counted where the
        # plain form left no value.
        where = "" if fast is None else " where p." + quoted + " is null"
        distinct = con.sql(
            "select " + slow + " as raw, count(*) as n from plain p" + where + " group by all"
        ).to_arrow_table()
        value = "cast(null as " + sql_type + ")" if fast is None else "p." + quoted
        if distinct.num_rows:
            scale = scales.get(column.name, 1.0)
            parsed = cells.parse_distinct(column, distinct["raw"], distinct["n"], scale=scale)
            counters[column.name][0] += parsed.plain
            counters[column.name][1] += parsed.plain_outside
            counters[column.name][2] += parsed.defaults
            for kind, count in (parsed.conversions or {}).items():
                per_column = conversions.setdefault(column.name, {})
                per_column[kind] = per_column.get(kind, 0) + count
            alias = "m" + str(index)
            map_name = "cell_map_" + str(index)
            con.register(map_name, parsed.table)
            # Only cells outside the plain form join (the plain ones hold null here).
            joins.append(" left join " + map_name + " " + alias + " on " + slow
                         + " is not distinct from " + alias + ".raw and " + (
                             "true" if fast is None else "p." + quoted + " is null"))
            value = "coalesce(" + value + ", cast(" + alias + ".value as " + sql_type + "))"
            if column.name in percent_bits:
                params[key + "_bit"] = percent_bits[column.name]
                slow_bits.append("case when coalesce(" + alias + ".candidate, false) then $"
                                 + key + "_bit else 0 end")
            if parsed.errors:
                problem_total += parsed.errors
                errors = parsed.table.filter(pc.is_valid(parsed.table["error"]))
                error_maps.append((index, column, errors))
        selects.append(value + " as " + quoted)
    slow_plain = " + ".join(slow_bits) or "0"
    selects.insert(1, "cast(p._plain + " + slow_plain + " as integer) as _plain")

    # Pass 3: the staged rows, each cell from its plain value or its spelling's.
    con.execute(
        "create table staged as select " + ", ".join(selects) + " from plain p"
        + "".join(joins), params,
    )
    con.execute("drop table plain")
    for index, _ in enumerate(table.columns):
        with contextlib.suppress(duckdb.Error):
            con.unregister("cell_map_" + str(index))
    for index, column, errors in error_maps:
        con.register("cell_errors", errors)
        try:
            con.execute(
                "insert into problems select r._row, $col_index, $label, r."
                + db.quote_identifier(column.name) + ", e.error, e.detail from data r"
                " join cell_errors e on r." + db.quote_identifier(column.name)
                + " is not distinct from e.raw order by r._row limit $limit",
                {"col_index": index, "label": column.label, "limit": MAX_LISTED_PROBLEMS},
            )
        finally:
            con.unregister("cell_errors")
    # Same-row rules, in contract order, on the values as they stand: a cell
    # refused by one rule is null for the next (as _same_row_rules).
    for index, column in enumerate(table.columns):
        if column.name not in present:
            continue
        quoted = db.quote_identifier(column.name)
        for reason, hit, detail, rule_params in _rule_sql(table, column):
            count = con.execute(
                "select count(*) from staged s where " + hit, rule_params
            ).fetchall()[0][0]
            if not count:
                continue
            problem_total += count
            con.execute(
                "insert into problems select s._row, $col_index, $label, r." + quoted
                + ", $reason, " + detail + " from staged s join data r on r._row = s._row"
                " where " + hit + " order by s._row limit $limit",
                {**rule_params, "col_index": index, "label": column.label,
                 "reason": reason, "limit": MAX_LISTED_PROBLEMS},
            )
            con.execute(
                "update staged s set " + quoted + " = null where " + hit, rule_params
            )
    return problem_total


def _engine_coordinates(con: duckdb.DuckDBPyConnection, system: str) -> None:
    """lon/lat of the staged rows converted to WGS-84, in batches."""
    reader = con.sql(
        "select _row, lon, lat from staged where lon is not null and lat is not null"
    ).to_arrow_reader(tabular.CHUNK_ROWS)
    converted = []
    for batch in reader:
        lon = batch.column(1).to_numpy(zero_copy_only=False).astype(float)
        lat = batch.column(2).to_numpy(zero_copy_only=False).astype(float)
        lon, lat = coords.to_wgs84(lon, lat, system)
        converted.append(pa.record_batch([batch.column(0), pa.array(lon), pa.array(lat)],
                                         names=["_row", "lon", "lat"]))
    if not converted:
        return
    con.register("converted", pa.Table.from_batches(converted))
    try:
        con.execute(
            "update staged set lon = c.lon, lat = c.lat from converted c"
            " where staged._row = c._row"
        )
    finally:
        con.unregister("converted")


def _engine_text_path(path: Path, encoding: str | None, tmpdir: str) -> Path:
    """A UTF-8 file the engine can read: the upload itself, or its GB18030 text
    transcoded in blocks."""
    if encoding != "gb18030":
        return path
    return decoding.transcode_to_utf8(path, Path(tmpdir) / "utf8.csv", encoding)


def _stage(
    source: SourceFile,
    reference: pa.Table | None,
    progress: Progress | None,
) -> _Staged:
    name = source.display_name
    table = TABLES.get(source.table)
    if table is None:
        choices = "、".join(f"{n}（{tb.label}）" for n, tb in TABLES.items())
        reason = t("import.unknown_table", table=source.table, choices=choices)
        return _Staged(source, _refusal(source, reason), None)
    path = Path(source.path)
    suffix = path.suffix.lower()
    if suffix not in tabular.SUPPORTED_SUFFIXES:
        reason = t("import.unsupported_format", suffix=suffix or path.name)
        return _Staged(source, _refusal(source, reason), table)

    encoding: str | None = None
    inspection: decoding.Inspection | None = None
    sha = ""
    try:
        if suffix in tabular.CSV_SUFFIXES:
            try:
                inspection = decoding.inspect(path)
            except decoding.DecodeError as exc:
                return _Staged(
                    source,
                    _refusal(source, exc.reason, decoding.sha256_of(path)),
                    table,
                )
            sha = inspection.sha256
            encoding = inspection.encoding
            if inspection.empty:
                return _Staged(source, _refusal(source, t("import.empty_file"), sha), table)
        else:
            sha = decoding.sha256_of(path)
        reader = tabular.open_table(path, table, encoding=encoding)
    except tabular.TabularError as exc:
        return _Staged(source, _refusal(source, exc.reason, sha), table)
    except OSError as exc:
        reason = t("import.read_failed", detail=exc.strerror or type(exc).__name__)
        return _Staged(source, _refusal(source, reason), table)

    staged = _Staged(source, _refusal(source, ""), table)  # report replaced below
    file_problems: list[CellProblem] = []
    notes: list[str] = []
    scales: dict[str, float] = {}
    for column_name, unit in reader.header.units.items():
        column = table.column_by_name[column_name]
        scale = cells.header_scale(column, unit)
        if scale is None:
            file_problems.append(
                CellProblem(
                    name,
                    None,
                    None,
                    None,
                    t("import.bad_header_unit", column=column.label, unit=unit),
                )
            )
        elif scale != 1.0:
            scales[column_name] = scale
            notes.append(t("import.note.money_scaled", column=column.label))

    if source.coordinate_system not in coords.SYSTEMS:
        reason = t("import.bad_coordinate_system", system=source.coordinate_system,
                   choices="、".join(coords.SYSTEMS))
        return _Staged(source, _refusal(source, reason, sha), table)
    converts_coordinates = (
        source.coordinate_system != "wgs84" and "lon" in table.column_by_name
    )
    if converts_coordinates:
        notes.append(t("import.note.coordinates", system=source.coordinate_system))

    percent_columns = [c for c in table.columns if c.kind == "percent"]
    percent_bits = {c.name: 1 << i for i, c in enumerate(percent_columns)}
    counters = {c.name: [0, 0, 0] for c in table.columns}  # plain, plain outside, defaults
    conversions: dict[str, dict[str, int]] = {}

    staged.tmpdir = tempfile.TemporaryDirectory(prefix="governance-import-")
    con = duckdb.connect(
        ":memory:",
        config={"temp_directory": staged.tmpdir.name, "memory_limit": STAGING_MEMORY_LIMIT},
    )
    staged.con = con
    cell_problem_total = 0
    kept_cell_problems = 0
    try:
        con.execute(db.read_sql("import_problems_create"))
        engine = (
            not file_problems
            and inspection is not None
            and tabular.read_raw(
                con,
                _engine_text_path(path, encoding, staged.tmpdir.name),
                reader,
                inspection.line_ends.newline,
                inspection.line_ends.lines,
            )
        )
        if engine:
            if progress is not None:
                progress(name, reader.data_rows)
            cell_problem_total = _engine_cells(
                con, table, set(reader.header.positions.values()), scales, percent_bits,
                counters, conversions,
            )
            con.execute("drop view data")
            con.execute("drop table raw")
            if converts_coordinates:
                _engine_coordinates(con, source.coordinate_system)
            if progress is not None:
                progress(name, reader.data_rows)
        else:
            con.register("chunk", _staged_schema(table).empty_table())
            con.execute("create table staged as select * from chunk")
            con.unregister("chunk")
        if not file_problems and not engine:
            for chunk in reader.chunks(tabular.CHUNK_ROWS):
                rows_arrow, problems_arrow = _chunk_tables(
                    table,
                    chunk,
                    scales,
                    percent_bits,
                    counters,
                    conversions,
                )
                if converts_coordinates:
                    rows_arrow = _coordinates_to_wgs84(rows_arrow, source.coordinate_system)
                con.register("chunk", rows_arrow)
                con.execute("insert into staged select * from chunk")
                con.unregister("chunk")
                cell_problem_total += problems_arrow.num_rows
                room = MAX_LISTED_PROBLEMS - kept_cell_problems
                if room > 0 and problems_arrow.num_rows:
                    kept = problems_arrow.slice(0, room)
                    kept_cell_problems += kept.num_rows
                    con.register("chunk_problems", kept)
                    con.execute("insert into problems select * from chunk_problems")
                    con.unregister("chunk_problems")
                if progress is not None:
                    progress(name, reader.data_rows)
    except tabular.TabularError as exc:
        reader.close()
        staged.close()
        staged.report = _refusal(source, exc.reason, sha)
        return staged
    except UnicodeDecodeError:
        reader.close()
        staged.close()
        staged.report = _refusal(source, t("import.decode_failed"), sha)
        return staged
    reader.close()
    notes = reader.notes() + notes + _conversion_notes(table, conversions)
    if encoding == "gb18030":
        notes.insert(0, t("import.note.encoding", encoding="GBK/GB18030"))
    rows = reader.data_rows
    if rows == 0 and not file_problems:
        file_problems.append(CellProblem(name, None, None, None, t("import.no_rows")))

    sql_problem_total = 0
    if not file_problems:
        # Percent columns: fractions or percents, decided on the whole column.
        for index, column in enumerate(table.columns):
            if column.kind != "percent":
                continue
            plain, outside, _ = counters[column.name]
            params = {"bit": percent_bits[column.name]}
            if cells.percent_is_fraction(plain, outside):
                con.execute(_percent_fraction_sql(column), params).fetchall()
                notes.append(t("import.note.percent_fraction", column=column.label))
            elif plain:
                params.update(col_index=index, label=column.label)
                sql_problem_total += _count(con, _percent_ambiguous_sql(column), params)
        # Defaults taken for empty enum cells.
        for column in table.columns:
            if column.default is not None and counters[column.name][2]:
                label = column.enum.label_of(column.default) if column.enum else column.default
                notes.append(
                    t(
                        "import.note.defaults",
                        column=column.label,
                        count=counters[column.name][2],
                        value=label,
                    )
                )
        # Keys unique within the file.
        if table.key:
            first = table.key[0]
            params = {
                "col_index": table.column_names.index(first),
                "label": "、".join(table.column_by_name[k].label for k in table.key),
            }
            if _has_duplicate_keys(con, table):
                sql_problem_total += _count(con, _duplicate_key_sql(table), params)
        # Community ids known.
        if table.references_communities:
            if reference is None:
                notes.append(t("import.note.reference_skipped"))
            else:
                con.register("ref_ids", reference)
                params = {
                    "col_index": table.column_names.index("community_id"),
                    "label": table.column_by_name["community_id"].label,
                }
                sql_problem_total += _count(con, db.read_sql("import_unknown_community"), params)
                con.unregister("ref_ids")
        if table.name == "communities":
            zero, examples = con.execute(db.read_sql("import_zero_households")).fetchall()[0]
            if zero:
                notes.append(t("import.note.zero_households", count=zero,
                               examples=t("text.list_separator").join(examples)))
        periods_sql = _periods_sql(table)
        if periods_sql is not None:
            staged.periods = [r[0] for r in con.execute(periods_sql).fetchall()]

    listed = con.sql(
        db.read_sql("import_problems_list"), params={"limit": MAX_LISTED_PROBLEMS}
    ).fetchall()
    problems = list(file_problems)
    for row, col_index, label, value, reason, detail in listed:
        if len(problems) >= MAX_LISTED_PROBLEMS:
            break
        problems.append(
            CellProblem(
                name, row, label, value, _reason_text(table, col_index, reason, detail, value)
            )
        )
    problem_count = len(file_problems) + cell_problem_total + sql_problem_total

    preview = None
    if rows:
        import pandas as pd

        preview = (
            con.sql(
                "select * exclude (_row, _plain) from staged order by _row limit $n",
                params={"n": PREVIEW_ROWS},
            )
            .to_arrow_table()
            .to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        )
    staged.report = ImportReport(
        file_name=name,
        table=table.name,
        sha256=sha,
        rows=rows,
        problems=problems,
        problem_count=problem_count,
        notes=notes,
        preview=preview,
        encoding=encoding,
        sheet=reader.sheet,
    )
    return staged


def _stored_community_ids(conn: duckdb.DuckDBPyConnection) -> pa.Table:
    cur = conn.cursor()
    try:
        return cur.sql(db.read_sql("import_community_ids")).to_arrow_table()
    finally:
        cur.close()


def _staged_community_ids(staged: _Staged) -> pa.Table:
    if staged.con is None:
        return pa.table({"community_id": pa.array([], pa.string())})
    return staged.con.sql(db.read_sql("import_staged_ids")).to_arrow_table()


def validate_file(
    source: SourceFile,
    *,
    conn: duckdb.DuckDBPyConnection | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check a file completely; write nothing anywhere.

    Community ids are checked against conn's stored communities when conn is
    given (a read-only connection is fine), otherwise skipped with a note.
    """
    table = TABLES.get(source.table)
    reference = None
    if conn is not None and table is not None and table.references_communities:
        reference = _stored_community_ids(conn)
    staged = _stage(source, reference, progress)
    staged.close()
    return staged.report


def guess_table(path: Path) -> str | None:
    """The table a file's header row belongs to, or None."""
    for row in tabular.peek_rows(Path(path)):
        table = detect_table([c if c is not None else "" for c in row])
        if table is not None:
            return table.name
    return None
