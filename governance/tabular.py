"""Rows out of a CSV or .xlsx file, with the row numbers the user sees.

`open_table(path, table)` finds the header row among the first rows (title and
note lines above it are skipped), maps its columns onto the contract table, and
then yields the data in chunks of raw cell strings keyed by canonical column
name, each row tagged with its file row number (1-based physical line of the
CSV / row of the sheet, counting title lines and the header). Blank rows and
合计/总计/小计 rows are dropped and counted for the notes.

CSV goes through the csv module (quoted commas and line breaks work) over a
strictly decoded text stream; .xlsx through openpyxl in read-only mode, with
typed cells turned into the text a person would have typed (1001.0 → "1001",
a date → "2023-05-01", a date and time in a datetime column → "2023-05-01
14:30:00", a cell formatted as percent 0.95 → "95%").

Hostile files cost bounded memory here: an .xlsx is checked from its zip
directory before openpyxl inflates anything (xlsx_archive), a CSV line longer
than MAX_LINE_CHARS and a sheet row beyond Excel's last row are refused, and a
chunk keeps only the contract's columns of each row. A formula cell whose
workbook kept no computed value (written by a program, never opened in Excel)
is refused with what to do, rather than read as empty. The upload page also
runs `scan` in a child process with a memory and time limit (upload_guard).
"""

from __future__ import annotations

import csv
import functools
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from governance import decoding, xlsx_archive
from governance.contract import (
    TOTAL_ROW_MARKERS,
    HeaderMatch,
    Table,
    match_header,
    normalize_text,
)
from governance.text import t

HEADER_SEARCH_ROWS = 30
CHUNK_ROWS = 50_000
# A CSV line (a record may span several) longer than this is refused: the
# widest real export is a few thousand characters a line, and without a
# limit one line without line breaks would be read into memory whole.
MAX_LINE_CHARS = 1 << 20
# Excel's own limits: a sheet row or column beyond them is a damaged or
# hand-made file (a row numbered 10^9 would otherwise be "filled in" row by row).
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
CSV_SUFFIXES = (".csv",)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES


class TabularError(Exception):
    """A file-level problem; args[0] is the Chinese reason (already translated)."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


@dataclass
class Chunk:
    rows: list[int]  # file row numbers
    columns: dict[str, Sequence[str | None]]  # canonical column name → raw cells

    def __len__(self) -> int:
        return len(self.rows)


# Characters every total-row marker contains (计): a cheap pre-check per row.
_MARKER_CHARS = tuple(set.intersection(*(set(m) for m in TOTAL_ROW_MARKERS)))


def is_blank(cells: list) -> bool:
    try:
        return not "".join(cells).strip()
    except TypeError:
        return all(cell is None or not str(cell).strip() for cell in cells)


def is_total_row(cells: list) -> bool:
    """First non-empty cell is 合计 / 总计 / 小计 (spaces, full width and a colon ignored)."""
    for cell in cells:
        if cell is None:
            continue
        text = str(cell)
        if not text.strip():
            continue
        if len(text) > 16 or not any(ch in text for ch in _MARKER_CHARS):
            return False
        return normalize_text(text).rstrip(":：") in TOTAL_ROW_MARKERS
    return False


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _round_to_second(value: datetime) -> datetime:
    if value.microsecond >= 500_000:
        value += timedelta(seconds=1)
    return value.replace(microsecond=0)


def excel_text(
    value: object, number_format: str | None = None, kind: str | None = None
) -> str | None:
    """A typed Excel cell as the text a person would have typed into a CSV."""
    if value is None or value is NO_CACHED_VALUE:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if kind == "datetime":
            # Excel keeps times as fractions of a day: 14:30 may read back as
            # 14:29:59.999999. Round to the second the person typed.
            return _round_to_second(value).strftime("%Y-%m-%d %H:%M:%S")
        if kind in ("date", "year_month") or value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if kind == "percent" and number_format and "%" in number_format:
            return _number_text(round(value * 100, 10)) + "%"
        return _number_text(value)
    return str(value)


# -- raw row sources ----------------------------------------------------------


class _CsvSource:
    sheet: str | None = None

    def __init__(self, path: Path, encoding: str) -> None:
        self._handle = decoding.open_text(path, encoding)
        self._reader = csv.reader(self._lines())

    def _lines(self) -> Iterator[str]:
        """The file's lines, none longer than MAX_LINE_CHARS (TabularError)."""
        read = functools.partial(self._handle.readline, MAX_LINE_CHARS + 1)
        for number, line in enumerate(iter(read, ""), start=1):
            if len(line) > MAX_LINE_CHARS and line[-1] not in "\r\n":
                raise TabularError(t("import.line_too_long", row=number,
                                     limit=f"{MAX_LINE_CHARS:,}"))
            yield line

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        previous = 0
        reader = self._reader
        try:
            for record in reader:
                yield previous + 1, record
                previous = reader.line_num
        except csv.Error as exc:
            raise TabularError(t("import.bad_csv", row=previous + 1)) from exc

    def convert(self, record: list, kinds: dict[int, str]) -> list:
        return record

    def close(self) -> None:
        self._handle.close()


class _NoCachedValue:
    """A formula cell the workbook kept no computed value for."""

    def __repr__(self) -> str:
        return "NO_CACHED_VALUE"


NO_CACHED_VALUE = _NoCachedValue()


@functools.cache
def _sheet_parser():
    """openpyxl's sheet parser, telling a formula without a computed value
    (`<f>…</f>` and no or an empty `<v>`, not a text result) from an empty
    cell: with data_only both read as None."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if (cell["value"] is None and element.get("t") != "str"
                    and element.find(FORMULA_TAG) is not None
                    and not element.findtext(VALUE_TAG)):
                cell["value"] = NO_CACHED_VALUE
            return cell

    return Parser


class _XlsxSheet:
    def __init__(self, worksheet, name: str) -> None:
        self.sheet = name
        self._ws = worksheet

    def rows(self) -> Iterator[tuple[int, list]]:
        """(sheet row number, cells), rows the file leaves out yielded empty
        (as openpyxl's read-only iter_rows does, whose loop this is, with the
        formula-aware parser and Excel's row and column limits)."""
        from openpyxl.cell.read_only import EMPTY_CELL, ReadOnlyCell

        ws = self._ws
        book = ws.parent
        try:
            with ws._get_source() as source:
                parser = _sheet_parser()(
                    source, ws._shared_strings, data_only=True, epoch=book.epoch,
                    date_formats=book._date_formats, timedelta_formats=book._timedelta_formats,
                )
                expected = 1
                for number, cells in parser.parse():
                    if number > EXCEL_MAX_ROWS:
                        raise TabularError(t("import.too_many_rows", sheet=self.sheet,
                                             limit=f"{EXCEL_MAX_ROWS:,}"))
                    while expected < number:
                        yield expected, []
                        expected += 1
                    if number < expected:
                        continue  # a row repeated out of order: openpyxl skips it too
                    expected = number + 1
                    if not cells:
                        yield number, []
                        continue
                    width = cells[-1]["column"]
                    if width > EXCEL_MAX_COLUMNS:
                        raise TabularError(t("import.too_many_columns", sheet=self.sheet,
                                             limit=f"{EXCEL_MAX_COLUMNS:,}"))
                    row = [EMPTY_CELL] * width
                    for cell in cells:
                        if 1 <= cell["column"] <= width:
                            row[cell["column"] - 1] = ReadOnlyCell(ws, **cell)
                    yield number, row
        except (TabularError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 — damaged XML or zip member: one refusal
            raise TabularError(t("import.bad_xlsx")) from exc

    @staticmethod
    def header_text(cells: list) -> list[str | None]:
        return [excel_text(getattr(c, "value", None), None) for c in cells]

    def convert(self, cells: list, kinds: dict[int, str]) -> list:
        out = []
        for position, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if value is None:
                out.append(None)
            elif isinstance(value, str):
                out.append(value)
            elif value is NO_CACHED_VALUE:
                if position in kinds:  # a column the contract reads
                    raise TabularError(t("import.formula_no_value", sheet=self.sheet,
                                         cell=cell.coordinate))
                out.append(None)
            else:
                fmt = getattr(cell, "number_format", None)
                out.append(excel_text(value, fmt, kinds.get(position)))
        return out


def _open_workbook(path: Path):
    """The workbook in read-only mode, once its zip directory shows no bomb."""
    reason = xlsx_archive.check(path)
    if reason is not None:
        raise TabularError(reason)
    import openpyxl  # imported lazily: CSV-only work never pays for it

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 — any unreadable workbook is the same refusal
        raise TabularError(t("import.bad_xlsx")) from exc


# -- header detection ---------------------------------------------------------


def _text_cells(cells: list) -> list[str]:
    """Header-search view of a row: CSV strings as they are, Excel cells as text."""
    out = []
    for cell in cells:
        if isinstance(cell, str):
            out.append(cell)
        else:
            out.append(excel_text(getattr(cell, "value", cell)) or "")
    return out


@dataclass
class _HeaderSearch:
    match: HeaderMatch | None
    index: int | None  # index into the searched rows
    best: HeaderMatch | None


def _find_header(table: Table, rows: list[tuple[int, list]]) -> _HeaderSearch:
    best: HeaderMatch | None = None
    for index, (_, cells) in enumerate(rows):
        texts = _text_cells(cells)
        if is_blank(texts):
            continue
        match = match_header(table, texts)
        if not match.missing_required:
            return _HeaderSearch(match, index, match)
        if best is None or len(match.positions) > len(best.positions):
            best = match
    return _HeaderSearch(None, None, best)


def _header_error(table: Table, best: HeaderMatch | None) -> TabularError:
    required = [c.label for c in table.required_columns]
    # A row that names at least two contract columns is taken as the header.
    if best is not None and len(best.positions) >= 2:
        labels = [table.column_by_name[name].label for name in best.missing_required]
        return TabularError(t("import.missing_columns", columns="、".join(labels)))
    return TabularError(
        t(
            "import.no_header",
            lines=HEADER_SEARCH_ROWS,
            table=table.label,
            required="、".join(required),
        )
    )


# -- the reader ---------------------------------------------------------------


@dataclass
class TableReader:
    """An open file positioned after its header; iterate `chunks()` once."""

    table: Table
    header: HeaderMatch
    header_row: int
    title_rows: int
    sheet: str | None
    encoding: str | None
    _source: object = field(repr=False)
    _pending: list = field(repr=False)  # rows already read past the header
    _rest: Iterator = field(repr=False)
    _close: list = field(default_factory=list, repr=False)
    blank_rows: int = 0
    total_rows: list[int] = field(default_factory=list)
    data_rows: int = 0

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        positions = self.header.positions
        kinds = {p: self.table.column_by_name[n].kind for p, n in positions.items()}
        convert = self._source.convert
        wanted = sorted(positions)
        width = (max(wanted) + 1) if wanted else 1
        # Each kept row holds the contract's columns only (a wide file's other
        # columns would otherwise sit in memory for a whole chunk).
        if len(wanted) > 1:
            pick = operator.itemgetter(*wanted)
        elif wanted:
            only = wanted[0]

            def pick(record, only=only):
                return (record[only],)
        else:

            def pick(record):
                return ()
        numbers: list[int] = []
        records: list[tuple] = []
        blank_pending = 0
        for number, raw in itertools.chain(self._pending, self._rest):
            record = convert(raw, kinds)
            if is_blank(record):
                blank_pending += 1
                continue
            self.blank_rows += blank_pending  # blanks at the very end are not mentioned
            blank_pending = 0
            head = record[0]
            # Fast path: a first cell with text sharing no character with every
            # marker (合计, 总计, …) cannot start a total row.
            if not (
                head and not head.isspace() and not any(ch in head for ch in _MARKER_CHARS)
            ) and is_total_row(record):
                self.total_rows.append(number)
                continue
            if len(record) < width:
                record = list(record) + [None] * (width - len(record))
            numbers.append(number)
            records.append(pick(record))
            if len(records) >= size:
                yield self._chunk(numbers, records, wanted)
                numbers, records = [], []
        self._pending = []
        if records:
            yield self._chunk(numbers, records, wanted)

    def _chunk(self, numbers: list[int], records: list[tuple], wanted: list[int]) -> Chunk:
        self.data_rows += len(numbers)
        columns: dict[str, Sequence[str | None]] = {}
        if wanted:
            transposed = list(zip(*records, strict=True))
            for index, position in enumerate(wanted):
                columns[self.header.positions[position]] = transposed[index]
        return Chunk(numbers, columns)

    def notes(self) -> list[str]:
        notes = []
        if self.sheet is not None:
            notes.append(t("import.note.sheet", sheet=self.sheet))
        if self.title_rows:
            notes.append(t("import.note.title_rows", count=self.title_rows))
        if self.blank_rows:
            notes.append(t("import.note.blank_rows", count=self.blank_rows))
        if self.total_rows:
            rows = "、".join(str(r) for r in self.total_rows[:20])
            if len(self.total_rows) > 20:
                rows += "…"
            notes.append(t("import.note.total_rows", rows=rows))
        if self.header.unknown:
            notes.append(t("import.note.unknown_columns", columns="、".join(self.header.unknown)))
        return notes

    def close(self) -> None:
        for closer in self._close:
            closer()
        self._close = []

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reader_from(
    table: Table,
    source,
    head: list[tuple[int, list]],
    rest: Iterator,
    encoding: str | None,
    closers: list,
    found: _HeaderSearch,
) -> TableReader:
    assert found.match is not None and found.index is not None
    if found.match.duplicated:
        raise TabularError(
            "；".join(t("import.duplicate_header", column=c) for c in found.match.duplicated)
        )
    above = head[: found.index]
    title_rows = sum(1 for _, cells in above if not is_blank(_text_cells(cells)))
    blank_above = len(above) - title_rows
    reader = TableReader(
        table=table,
        header=found.match,
        header_row=head[found.index][0],
        title_rows=title_rows,
        sheet=source.sheet,
        encoding=encoding,
        _source=source,
        _pending=head[found.index + 1 :],
        _rest=rest,
        _close=closers,
    )
    reader.blank_rows = blank_above
    return reader


def open_table(path: Path, table: Table, *, encoding: str | None = None) -> TableReader:
    """Open a CSV/XLSX file and find its header; TabularError for file-level problems."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        if encoding is None:
            try:
                encoding = decoding.detect_encoding(path)
            except decoding.DecodeError as exc:
                raise TabularError(exc.reason) from exc
        source = _CsvSource(path, encoding)
        try:
            rows = source.rows()
            head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
            if is_blank([c for _, cells in head for c in cells]):
                raise TabularError(t("import.empty_file"))
            found = _find_header(table, head)
            if found.match is None:
                raise _header_error(table, found.best)
            return _reader_from(table, source, head, rows, encoding, [source.close], found)
        except BaseException:
            source.close()
            raise
    if suffix in XLSX_SUFFIXES:
        workbook = _open_workbook(path)
        try:
            best: HeaderMatch | None = None
            any_cells = False
            for worksheet in workbook.worksheets:
                if not hasattr(worksheet, "iter_rows"):
                    continue  # chart sheets
                if hasattr(worksheet, "reset_dimensions"):
                    worksheet.reset_dimensions()  # stored dimensions are often wrong
                sheet = _XlsxSheet(worksheet, worksheet.title)
                rows = sheet.rows()
                head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
                any_cells = any_cells or not is_blank(
                    [c for _, cells in head for c in _text_cells(cells)]
                )
                found = _find_header(table, head)
                if found.match is not None:
                    return _reader_from(table, sheet, head, rows, None, [workbook.close], found)
                if found.best is not None and (
                    best is None or len(found.best.positions) > len(best.positions)
                ):
                    best = found.best
            if not any_cells:
                raise TabularError(t("import.empty_file"))
            raise _header_error(table, best)
        except TabularError:
            workbook.close()
            raise
        except Exception as exc:  # noqa: BLE001 — a workbook openpyxl cannot walk
            workbook.close()
            raise TabularError(t("import.bad_xlsx")) from exc
    raise TabularError(t("import.unsupported_format", suffix=suffix or path.name))


def peek_rows(path: Path, limit: int = HEADER_SEARCH_ROWS) -> list[list[str]]:
    """The first rows of a file as text (every sheet's, for .xlsx); [] if unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    out: list[list[str]] = []
    try:
        if suffix in CSV_SUFFIXES:
            source = _CsvSource(path, decoding.detect_encoding(path))
            try:
                out = [cells for _, cells in itertools.islice(source.rows(), limit)]
            finally:
                source.close()
        elif suffix in XLSX_SUFFIXES:
            workbook = _open_workbook(path)
            try:
                for worksheet in workbook.worksheets:
                    if not hasattr(worksheet, "iter_rows"):
                        continue
                    worksheet.reset_dimensions()
                    sheet = _XlsxSheet(worksheet, worksheet.title)
                    for _, cells in itertools.islice(sheet.rows(), limit):
                        out.append(_text_cells(cells))
            finally:
                workbook.close()
    except (decoding.DecodeError, TabularError, UnicodeDecodeError, csv.Error, OSError):
        return out
    return out


def scan(path: Path, progress: Callable[[int], None] | None = None,
         every: int = 20_000) -> list[list[str]]:
    """Read every row of the file — every record of a CSV, every row of every
    sheet of an .xlsx — as open_table would, and return the first
    HEADER_SEARCH_ROWS rows of each as text (what peek_rows returns).

    A file-level problem raises TabularError or decoding.DecodeError.
    `progress(rows read)` is called every `every` rows. The upload guard runs
    this in a child process with a memory and time limit: a file it has read
    through costs the server a known amount to validate and import.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    head: list[list[str]] = []
    count = 0

    def read(rows: Iterator[tuple[int, list]], text: Callable[[list], list[str]]) -> None:
        nonlocal count
        for index, (_, cells) in enumerate(rows):
            if index < HEADER_SEARCH_ROWS:
                head.append(text(cells))
            count += 1
            if progress is not None and count % every == 0:
                progress(count)

    if suffix in CSV_SUFFIXES:
        source = _CsvSource(path, decoding.detect_encoding(path))
        try:
            read(source.rows(), list)
        finally:
            source.close()
    elif suffix in XLSX_SUFFIXES:
        workbook = _open_workbook(path)
        try:
            for worksheet in workbook.worksheets:
                if hasattr(worksheet, "iter_rows"):
                    read(_XlsxSheet(worksheet, worksheet.title).rows(), _text_cells)
        finally:
            workbook.close()
    else:
        raise TabularError(t("import.unsupported_format", suffix=suffix or path.name))
    if progress is not None:
        progress(count)
    return head


# -- the engine's reading of a CSV ----------------------------------------------
#
# A large CSV is read by DuckDB, one row per physical line (so the row numbers
# are the lines a person sees), split into fields in SQL. The csv module and
# this reading agree on every line whose quoting is regular — each field quoted
# whole (a quote inside doubled) or not quoted at all — with the same line
# ending throughout; read_raw says when a file is not like that, and it is then
# read with chunks() instead.

# One field, quoted whole or holding no quote; a line of such fields.
_FIELD = '"(?:[^"]|"")*"|[^",]*'
_REGULAR_LINE = "(?:" + _FIELD + ")(?:,(?:" + _FIELD + "))*"
# A field and the comma after it: that comma separates fields.
_FIELD_AND_COMMA = "(" + _FIELD + "),"
# What str.strip() removes (is_blank), as an RE2 class body.
_SPACE_CLASS = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
)
# csv.field_size_limit(): a longer field is an error there; such files go the
# csv module's way and get its answer.
_CSV_FIELD_LIMIT = 131_072
# NUL never occurs in a file that got this far (decoding refuses it): the
# engine reads each line as one field, and it separates fields in SQL.
_NO_DELIMITER = "\x00"

# A line's fields as a list (`_FIELDS` over `l`): split at every comma
# outside quotes, each quoted field unquoted; a line without a quote, the
# common case, is split at its commas. Written out where it is needed, not
# stored: `raw` keeps the line, and the view `data` splits it once as the
# cells are read (16 stored text columns cost more than a second split).
_FIELDS = """case
        when contains(l, '"') then list_transform(
            string_split(regexp_replace(l, getvariable('raw_field_and_comma'),
                                        '\\1' || chr(0), 'g'), chr(0)),
            lambda x: case when x[1] = '"' then replace(x[2:-2], '""', '"') else x end)
        else string_split(l, ',')
    end"""

_RAW_LINES_SQL = """
create table raw as
select
    l,
    case
        when l is null then true
        -- a first byte 0x30-0x7e (0-9, A-Z, a-z or ASCII punctuation other
        -- than the comma and the quote; strings compare bytewise): half the
        -- cost of the regular expression below
        when l >= '0' and l < chr(127) then false
        when regexp_matches(l, $non_blank) then false
        else regexp_full_match(array_to_string({fields}, ''), $blank)
    end as _blank,
    case when contains(l, $marker)
        then list_filter({fields}, lambda x: not regexp_full_match(x, $blank))[1]
    end as _head,
    -- CASE, not AND: DuckDB evaluates both sides of an AND in a select list,
    -- and the regular expression over every line was most of this statement
    case when contains(l, '"') then not regexp_full_match(l, $regular) else false
    end as _irregular,
    coalesce(strlen(l) > $longest, false) as _long,
    false as _skip
from read_csv($path, header = false, columns = {'l': 'varchar'}, auto_detect = false,
              delim = $delim, quote = '', escape = '', strict_mode = false,
              new_line = $newline, max_line_size = $max_line)
""".replace("{fields}", _FIELDS)

# The data rows, each contract column its field of the line (positions in the
# variable raw_positions, in the order of the columns listed).
_DATA_VIEW_SQL = """
create view data as
select cast(rowid + 1 as integer) as _row, {columns}
from (select rowid, {fields} as f from raw where not _skip)
""".replace("{fields}", _FIELDS)


def read_raw(con, path: Path, reader: TableReader, newline: str | None,
             lines: int) -> bool:
    """Read the file's lines into `raw` (UTF-8 text, the line `l`), `rowid + 1`
    the file row; blank and total rows marked `_skip` and counted on the
    reader as chunks() does; the view `data` is every data row with its `_row`
    and the contract's columns by canonical name, split from the line as it
    is read (through session variables of `con`: read `data` on `con` itself).

    False (nothing created): the engine could number or split some line
    differently from the csv module; read the file with chunks().
    """
    from governance import db

    if newline is None:
        return False
    positions = reader.header.positions
    # A view takes no parameters: the split's pattern and the columns'
    # positions reach it as session variables of this private connection.
    con.execute("set variable raw_field_and_comma = $pattern", {"pattern": _FIELD_AND_COMMA})
    con.execute("set variable raw_positions = $positions",
                {"positions": [position + 1 for position in sorted(positions)]})
    columns = ", ".join(
        "f[getvariable('raw_positions')[" + str(i + 1) + "]] as " + db.quote_identifier(name)
        for i, name in enumerate(positions[p] for p in sorted(positions))
    ) or "null as _none"
    params = dict(
        # read_csv takes the line ending spelled with backslashes
        path=str(path), delim=_NO_DELIMITER, newline=newline.encode("unicode_escape").decode(),
        max_line=max(MAX_LINE_CHARS * 4 + 8, 1 << 23),
        non_blank="[^" + _SPACE_CLASS + ',"]', blank="[" + _SPACE_CLASS + "]*",
        marker=_MARKER_CHARS[0], regular=_REGULAR_LINE, longest=_CSV_FIELD_LIMIT,
    )
    import duckdb

    try:
        con.execute(_RAW_LINES_SQL, params)
    except duckdb.Error:
        con.execute("drop table if exists raw")
        return False
    header = reader.header_row  # rows up to the header are its own or above it
    total, irregular, long_lines = con.execute(
        "select count(*), count(*) filter (where _irregular and rowid >= $h),"
        " count(*) filter (where _long) from raw",
        {"h": header},
    ).fetchall()[0]
    if total != lines or irregular or long_lines:
        con.execute("drop table raw")
        return False
    heads = [
        head for (head,) in con.execute(
            "select distinct _head from raw where rowid >= $h and not _blank"
            " and _head is not null", {"h": header},
        ).fetchall()
        if is_total_row([head])
    ]
    con.execute(
        "update raw set _skip = true where rowid < $h or _blank"
        " or list_contains($heads, _head)", {"h": header, "heads": heads},
    )
    last, blank, rows = con.execute(
        "select max(rowid) filter (where not _blank), count(*) filter (where _blank),"
        " count(*) filter (where not _skip) from raw where rowid >= $h", {"h": header},
    ).fetchall()[0]
    trailing = 0
    if last is not None:
        trailing = con.execute(
            "select count(*) from raw where rowid > $last and _blank", {"last": last}
        ).fetchall()[0][0]
    reader.blank_rows += int(blank) - int(trailing) if last is not None else 0
    reader.total_rows = [
        row for (row,) in con.execute(
            "select rowid + 1 from raw where rowid >= $h and not _blank"
            " and list_contains($heads, _head) order by 1 limit 21",
            {"h": header, "heads": heads},
        ).fetchall()
    ] if heads else []
    reader.data_rows = int(rows)
    reader._pending = []
    con.execute(_DATA_VIEW_SQL.replace("{columns}", columns))
    return True
