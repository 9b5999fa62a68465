"""Vectorised cell parsers: raw strings in, typed values and reason keys out.

Every parser takes a pyarrow string array (one column of one chunk, raw cells as
written, nulls for missing cells) and returns a `Parsed`: typed `values` (null
where the cell is empty or wrong) and `errors` (a `reason.*` key without the
prefix, null where the cell is fine), plus `details` where a reason needs a
value (a bound, a unit, the other cell of a same-row rule). Parsers never raise
on data; they only report.

Everything runs as pyarrow compute kernels (RE2 regular expressions), so a
50,000-row chunk costs a handful of passes over a column, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from governance.contract import Column, EnumType

# Storage for int columns is a 32-bit integer.
INT_MAXIMUM = 2_147_483_647
INT_MINIMUM = -2_147_483_648

# Storage for money is decimal(12, 2) or wider: a bound above any real amount.
MONEY_MAXIMUM = 9_999_999_999.99

MONEY_UNITS = {"": None, "元": 1.0, "万": 10_000.0, "万元": 10_000.0}
HEADER_MONEY_UNITS = {"元": 1.0, "万": 10_000.0, "万元": 10_000.0}

VALUE_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "enum": pa.string(),
    "int": pa.int32(),
    "year": pa.int32(),
    "number": pa.float64(),
    "money": pa.float64(),
    "percent": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
    "year_month": pa.date32(),
}

_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_SCIENTIFIC_ID = r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_FULL_DATES = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})" + _TIME + "$",
    r"^(?P<y>\d{4}) ?年 ?(?P<m>\d{1,2}) ?月 ?(?P<d>\d{1,2}) ?[日号]?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
)
_MONTHS = (
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$",
    r"^(?P<y>\d{4}) ?年 ?(?P<m>\d{1,2}) ?月?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})$",
)
_YEAR = r"^(?P<y>\d{4}) ?(?:年度?)?$"

# Date and time of day. A date is written as in _FULL_DATES; the time either
# with colons (14:30, 14:30:05, 14:30:05.5 — fractions of a second dropped) or
# in words (14时30分, 14点30分05秒, 9时). Each (date form, time form) pair is one
# pattern, since RE2 forbids repeated group names; the pairs never overlap.
_NUMERIC_DAY = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
_CHINESE_DAY = r"^(?P<y>\d{4}) *年 *(?P<m>\d{1,2}) *月 *(?P<d>\d{1,2})"
_CLOCK = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?$"
_CHINESE_CLOCK = r"(?P<H>\d{1,2}) *[时点](?: *(?P<M>\d{1,2}) *分?(?: *(?P<S>\d{1,2}) *秒)?)?$"
_DATETIMES = (
    _NUMERIC_DAY + r"(?:T| +)" + _CLOCK,
    _NUMERIC_DAY + r" *" + _CHINESE_CLOCK,
    _CHINESE_DAY + r" *(?:[日号] *| +)" + _CLOCK,
    _CHINESE_DAY + r" *(?:[日号] *| +)" + _CHINESE_CLOCK,
)
# A date alone is midnight.
_DAYS = (
    _NUMERIC_DAY + "$",
    _CHINESE_DAY + r" *[日号]?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
)


@dataclass
class Parsed:
    values: pa.Array
    errors: pa.Array  # string reason keys (without "reason."), null = fine
    details: pa.Array | None = None  # string detail for the reason, or None
    # percent only: plain (no %) values within [0, 1], awaiting the column-level decision
    fraction_candidates: pa.Array | None = None
    plain_count: int = 0  # percent: valid values written without %
    plain_outside: int = 0  # percent: of those, how many lie outside [0, 1]
    defaults: int = 0  # enum: empty cells given the column default
    # Per cell, for counting over distinct values (the engine path weights each
    # distinct value by how often it occurs): percent plain values and those
    # of them within [0, 1]; enum cells given the default.
    plain_mask: pa.Array | None = None
    inside_mask: pa.Array | None = None
    default_mask: pa.Array | None = None

    @property
    def error_count(self) -> int:
        return len(self.errors) - self.errors.null_count


# -- helpers ----------------------------------------------------------------


def _array(raw: pa.Array | pa.ChunkedArray | list) -> pa.Array:
    if isinstance(raw, list):
        return pa.array(raw, type=pa.string())
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks() if raw.num_chunks else pa.array([], pa.string())
    if not pa.types.is_string(raw.type):
        raw = raw.cast(pa.string())
    return raw


_STRING = pa.string()


def _nulls(length: int, type_: pa.DataType = _STRING) -> pa.Array:
    return pa.nulls(length, type=type_)


def _mask(condition: pa.Array) -> pa.Array:
    """A boolean array with nulls read as False."""
    return pc.fill_null(condition, False)


def _where(condition: pa.Array, value: object, otherwise: pa.Array) -> pa.Array:
    """otherwise, but `value` where condition is true (null condition = false)."""
    scalar = pa.scalar(value, type=otherwise.type)
    return pc.if_else(_mask(condition), scalar, otherwise)


def _keep(condition: pa.Array, values: pa.Array) -> pa.Array:
    """values where condition, else null."""
    return pc.if_else(_mask(condition), values, pa.scalar(None, type=values.type))


def _first(*errors: pa.Array) -> pa.Array:
    """Per cell, the first non-null reason."""
    return pc.coalesce(*errors)


def normalize(raw: pa.Array | pa.ChunkedArray | list) -> pa.Array:
    """NFKC (full-width → half-width), trimmed; empty → null."""
    arr = pc.utf8_trim_whitespace(pc.utf8_normalize(_array(raw), form="NFKC"))
    return _keep(pc.not_equal(arr, ""), arr)


def _compact(raw: pa.Array | pa.ChunkedArray | list) -> pa.Array:
    """Normalised and with every space removed (numbers: `1 234`, `95 %`)."""
    arr = pc.replace_substring_regex(normalize(raw), pattern=r"\s+", replacement="")
    return _keep(pc.not_equal(arr, ""), arr)


def _format_bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _bounds(
    values: pa.Array,
    errors: pa.Array,
    details: pa.Array,
    minimum: float | None,
    maximum: float | None,
    *,
    skip: pa.Array | None = None,
) -> tuple[pa.Array, pa.Array]:
    """Add below_minimum / above_maximum (detail: the bound) where not yet in error."""
    checks = []
    if minimum is not None:
        checks.append(("below_minimum", pc.less(values, minimum), minimum))
    if maximum is not None:
        checks.append(("above_maximum", pc.greater(values, maximum), maximum))
    for reason, hit, bound in checks:
        hit = _mask(hit)
        if skip is not None:
            hit = pc.and_(hit, pc.invert(_mask(skip)))
        hit = pc.and_(hit, pc.is_null(errors))
        errors = _where(hit, reason, errors)
        details = _where(hit, _format_bound(bound), details)
    return errors, details


def _numeric(compact: pa.Array, not_number: str = "not_number") -> tuple[pa.Array, pa.Array]:
    """Plain decimal text (thousands separators allowed in the one valid pattern)."""
    has_comma = _mask(pc.match_substring(compact, ","))
    good_thousands = _mask(pc.match_substring_regex(compact, _THOUSANDS))
    bad_thousands = pc.and_(has_comma, pc.invert(good_thousands))
    plain = pc.replace_substring(compact, ",", "")
    numeric = pc.and_(_mask(pc.match_substring_regex(plain, _NUMBER)), pc.invert(bad_thousands))
    values = pc.cast(_keep(numeric, plain), pa.float64())
    finite = _mask(pc.is_finite(values))
    values = _keep(finite, values)
    errors = _nulls(len(compact))
    errors = _where(pc.and_(pc.is_valid(compact), pc.invert(finite)), not_number, errors)
    errors = _where(bad_thousands, "bad_thousands", errors)
    return values, errors


def _required(column_required: bool, normalized: pa.Array, errors: pa.Array) -> pa.Array:
    if not column_required:
        return errors
    return _where(pc.is_null(normalized), "required", errors)


# -- parsers ----------------------------------------------------------------


def parse_text(raw, *, required: bool = False, identifier: bool = False) -> Parsed:
    """Trimmed NFKC text. An id written by Excel as `1.23E+11` has lost digits."""
    values = normalize(raw)
    errors = _required(required, values, _nulls(len(values)))
    if identifier:
        errors = _where(pc.match_substring_regex(values, _SCIENTIFIC_ID), "scientific_id", errors)
    return Parsed(_keep(pc.is_null(errors), values), errors)


def parse_number(
    raw,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Parsed:
    compact = _compact(raw)
    values, errors = _numeric(compact)
    errors = _required(required, compact, errors)
    details = _nulls(len(compact))
    errors, details = _bounds(values, errors, details, minimum, maximum)
    return Parsed(_keep(pc.is_null(errors), values), errors, details)


def parse_int(
    raw,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Parsed:
    compact = _compact(raw)
    values, errors = _numeric(compact)
    integral = pc.equal(pc.floor(values), values)
    errors = _where(pc.and_(pc.is_valid(values), pc.invert(_mask(integral))), "not_integer", errors)
    errors = _required(required, compact, errors)
    details = _nulls(len(compact))
    low = INT_MINIMUM if minimum is None else max(minimum, INT_MINIMUM)
    high = INT_MAXIMUM if maximum is None else min(maximum, INT_MAXIMUM)
    errors, details = _bounds(values, errors, details, low, high)
    ok = pc.is_null(errors)
    # Bounds above keep every value within 32 bits, the storage type.
    return Parsed(pc.cast(_keep(ok, values), pa.int32()), errors, details)


def _cents(values: pa.Array) -> pa.Array:
    """Round to 2 decimals, half away from zero, as the value was written.

    12.345 is 12.3449999… in binary; rounding the cents to 6 places first
    recovers the written half before rounding it up.
    """
    cents = pc.round(pc.multiply(values, 100.0), 6)
    cents = pc.round(cents, 0, round_mode="half_towards_infinity")
    return pc.divide(cents, 100.0)


def parse_money(
    raw,
    *,
    required: bool = False,
    header_scale: float = 1.0,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Parsed:
    """Yuan, 2 decimals. A cell unit (`2.5万`, `300元`) wins over the header's (万元)."""
    compact = _compact(raw)
    compact = pc.replace_substring_regex(compact, pattern=r"^¥", replacement="")
    parts = pc.extract_regex(compact, pattern=r"^(?P<num>.*?)(?P<unit>[^0-9.,]*)$")
    number = pc.struct_field(parts, "num")
    unit = pc.struct_field(parts, "unit")
    values, errors = _numeric(_keep(pc.not_equal(number, ""), number))
    errors = _where(pc.and_(pc.is_valid(compact), pc.equal(number, "")), "not_number", errors)
    known = pc.is_in(unit, value_set=pa.array(list(MONEY_UNITS), pa.string()))
    bad_unit = pc.and_(pc.is_valid(values), pc.invert(_mask(known)))
    errors = _where(bad_unit, "bad_unit", errors)
    details = _keep(bad_unit, unit)
    scale = pc.if_else(
        _mask(pc.match_substring_regex(unit, r"^万元?$")),
        10_000.0,
        pc.if_else(_mask(pc.equal(unit, "元")), 1.0, header_scale),
    )
    values = _cents(pc.multiply(values, scale))
    errors = _required(required, compact, errors)
    maximum = MONEY_MAXIMUM if maximum is None else min(maximum, MONEY_MAXIMUM)
    errors, details = _bounds(values, errors, details, minimum, maximum)
    return Parsed(_keep(pc.is_null(errors), values), errors, details)


def parse_percent(
    raw,
    *,
    required: bool = False,
    minimum: float | None = 0,
    maximum: float | None = 100,
) -> Parsed:
    """`95%` and `95` are 95; whether a plain `0.95` is 95 depends on the whole column.

    Plain values within [0, 1] are returned unscaled and flagged in
    `fraction_candidates`; the caller decides per column with
    `percent_is_fraction(plain_count, plain_outside)` once the file is read, and
    then either multiplies them by 100 or reports those strictly between 0 and
    1 as ambiguous. Bounds are checked here for everything else.
    """
    compact = _compact(raw)
    has_percent = _mask(pc.ends_with(compact, "%"))
    number = pc.replace_substring_regex(compact, pattern=r"%$", replacement="")
    number = _keep(pc.not_equal(number, ""), number)
    values, errors = _numeric(number, not_number="bad_percent")
    errors = _where(pc.and_(pc.is_valid(compact), pc.is_null(number)), "bad_percent", errors)
    plain = pc.and_(pc.is_valid(values), pc.invert(has_percent))
    inside = _mask(pc.and_(pc.greater_equal(values, 0), pc.less_equal(values, 1)))
    candidates = pc.and_(plain, inside)
    errors = _required(required, compact, errors)
    details = _nulls(len(compact))
    errors, details = _bounds(values, errors, details, minimum, maximum, skip=candidates)
    plain_count = pc.sum(plain.cast(pa.int64())).as_py() or 0
    candidate_count = pc.sum(candidates.cast(pa.int64())).as_py() or 0
    return Parsed(
        _keep(pc.is_null(errors), values),
        errors,
        details,
        fraction_candidates=pc.and_(candidates, pc.is_null(errors)),
        plain_count=plain_count,
        plain_outside=plain_count - candidate_count,
        plain_mask=_mask(plain),
        inside_mask=_mask(candidates),
    )


def percent_is_fraction(plain_count: int, plain_outside: int) -> bool:
    """A column is written as fractions when every plain value lies in [0, 1]."""
    return plain_count > 0 and plain_outside == 0


def _date_parts(text: pa.Array, patterns: tuple[str, ...], day: bool) -> tuple[pa.Array, ...]:
    """(matched, year, month, day) as arrays; first pattern that matches wins."""
    years, months, days = [], [], []
    for pattern in patterns:
        found = pc.extract_regex(text, pattern=pattern)
        years.append(pc.struct_field(found, "y"))
        months.append(pc.struct_field(found, "m"))
        if day:
            days.append(pc.struct_field(found, "d"))
    year = pc.coalesce(*years)
    month = pc.coalesce(*months)
    day_part = pc.coalesce(*days) if day else None
    return pc.is_valid(year), year, month, day_part


def _make_date(year: pa.Array, month: pa.Array, day: pa.Array | None) -> pa.Array:
    """A date32 where year/month/day form a real calendar date, else null."""
    year_i = pc.cast(year, pa.int64())
    month_i = pc.cast(month, pa.int64())
    day_i = (
        pc.cast(day, pa.int64()) if day is not None else pa.repeat(1, len(year)).cast(pa.int64())
    )
    text = pc.binary_join_element_wise(
        pc.cast(year_i, pa.string()),
        pc.utf8_lpad(pc.cast(month_i, pa.string()), 2, "0"),
        pc.utf8_lpad(pc.cast(day_i, pa.string()), 2, "0"),
        "-",
    )
    stamp = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2023-02-30 over to 03-02: a real date keeps its month and day.
    real = pc.and_(pc.equal(pc.month(stamp), month_i), pc.equal(pc.day(stamp), day_i))
    return _keep(real, pc.cast(stamp, pa.date32()))


def parse_date(raw, *, required: bool = False) -> Parsed:
    """A full date; a month without a day is refused (delays are counted in days)."""
    text = normalize(raw)
    matched, year, month, day = _date_parts(text, _FULL_DATES, day=True)
    values = _make_date(year, month, day)
    month_only, _, _, _ = _date_parts(text, _MONTHS, day=False)
    errors = _nulls(len(text))
    errors = _where(pc.and_(pc.is_valid(text), pc.is_null(values)), "bad_date", errors)
    errors = _where(
        pc.and_(pc.invert(_mask(matched)), _mask(month_only)), "date_without_day", errors
    )
    errors = _required(required, text, errors)
    return Parsed(_keep(pc.is_null(errors), values), errors)


def _clock_part(part: pa.Array) -> pa.Array:
    """An hour / minute / second group as int64; a group not written is 0."""
    written = _keep(pc.not_equal(part, ""), part)
    return pc.fill_null(pc.cast(written, pa.int64()), 0)


def parse_datetime(raw, *, required: bool = False) -> Parsed:
    """A date and time of day to the second; a date alone is 00:00.

    Impossible dates (2023-02-30) and times (25:00, 14:61) are bad_datetime; a
    month without a day is refused as for dates.
    """
    text = normalize(raw)
    n = len(text)
    parts: dict[str, list[pa.Array]] = {k: [] for k in ("y", "m", "d", "H", "M", "S")}
    for pattern in _DATETIMES + _DAYS:
        found = pc.extract_regex(text, pattern=pattern)
        names = {found.type.field(i).name for i in range(found.type.num_fields)}
        year = pc.struct_field(found, "y")
        for key, arrays in parts.items():
            if key in names:
                arrays.append(pc.struct_field(found, key))
            else:  # a date alone: matched rows get "" (not written), others null
                arrays.append(_keep(pc.is_valid(year), pa.repeat(pa.scalar(""), n)))
    year, month, day, hour, minute, second = (pc.coalesce(*parts[k]) for k in parts)
    matched = pc.is_valid(year)
    days = _make_date(year, month, day)
    hour_i, minute_i, second_i = _clock_part(hour), _clock_part(minute), _clock_part(second)
    real_time = pc.and_(
        pc.and_(pc.less_equal(hour_i, 23), pc.less_equal(minute_i, 59)),
        pc.less_equal(second_i, 59),
    )
    seconds = pc.add(
        pc.add(pc.multiply(hour_i, 3600), pc.multiply(minute_i, 60)), second_i
    )
    stamps = pc.add(
        pc.cast(days, pa.timestamp("s")), pc.cast(seconds, pa.duration("s"))
    )
    values = _keep(real_time, stamps)
    month_only, _, _, _ = _date_parts(text, _MONTHS, day=False)
    errors = _nulls(n)
    errors = _where(pc.and_(pc.is_valid(text), pc.is_null(values)), "bad_datetime", errors)
    errors = _where(
        pc.and_(pc.invert(_mask(matched)), _mask(month_only)), "date_without_day", errors
    )
    errors = _required(required, text, errors)
    return Parsed(_keep(pc.is_null(errors), values), errors)


def parse_year_month(raw, *, required: bool = False) -> Parsed:
    """A month, stored as its first day. A full date's day is dropped."""
    text = normalize(raw)
    _, year, month, _ = _date_parts(text, _MONTHS, day=False)
    by_month = _make_date(year, month, None)
    _, f_year, f_month, f_day = _date_parts(text, _FULL_DATES, day=True)
    full = _make_date(f_year, f_month, f_day)
    from_full = _make_date(f_year, f_month, None)
    values = pc.coalesce(by_month, _keep(pc.is_valid(full), from_full))
    errors = _where(pc.and_(pc.is_valid(text), pc.is_null(values)), "bad_month", _nulls(len(text)))
    errors = _required(required, text, errors)
    return Parsed(_keep(pc.is_null(errors), values), errors)


def parse_year(
    raw,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Parsed:
    """Four digits, optionally followed by 年 / 年度."""
    text = normalize(raw)
    found = pc.extract_regex(text, pattern=_YEAR)
    values = pc.cast(pc.struct_field(found, "y"), pa.int64())
    errors = _where(pc.and_(pc.is_valid(text), pc.is_null(values)), "bad_year", _nulls(len(text)))
    errors = _required(required, text, errors)
    details = _nulls(len(text))
    errors, details = _bounds(values, errors, details, minimum, maximum)
    return Parsed(pc.cast(_keep(pc.is_null(errors), values), pa.int32()), errors, details)


def parse_enum(
    raw,
    enum: EnumType,
    *,
    required: bool = False,
    default: str | None = None,
) -> Parsed:
    """A code, label or alias (case-insensitive, spaces ignored) → the code."""
    text = normalize(raw)
    key = pc.utf8_lower(pc.replace_substring_regex(text, pattern=r"\s+", replacement=""))
    lookup = enum.lookup()
    spellings = pa.array(list(lookup), pa.string())
    codes = pa.array(list(lookup.values()), pa.string())
    index = pc.index_in(key, value_set=spellings)
    values = pc.take(codes, index)
    errors = _where(pc.and_(pc.is_valid(text), pc.is_null(index)), "bad_enum", _nulls(len(text)))
    defaults = 0
    default_mask = None
    if default is not None:
        empty = pc.is_null(text)
        defaults = pc.sum(empty.cast(pa.int64())).as_py() or 0
        values = _where(empty, default, values)
        default_mask = empty
    else:
        errors = _required(required, text, errors)
    return Parsed(_keep(pc.is_null(errors), values), errors, defaults=defaults,
                  default_mask=default_mask)


def check_not_above(values: pa.Array, other: pa.Array) -> Parsed:
    """values ≤ other, checked only where both are present. Detail: the other value."""
    hit = _mask(pc.greater(values, other))
    errors = _where(hit, "not_above", _nulls(len(values)))
    return Parsed(values, errors, _keep(hit, pc.cast(other, pa.string())))


def _moment_text(values: pa.Array) -> pa.Array:
    """Dates as 2023-05-01; timestamps as 2023-05-01 14:30 (seconds only when set)."""
    if not pa.types.is_timestamp(values.type):
        return pc.cast(values, pa.string())
    whole_minute = _mask(pc.equal(pc.second(values), 0))
    return pc.if_else(
        whole_minute,
        pc.strftime(values, format="%Y-%m-%d %H:%M"),
        pc.strftime(values, format="%Y-%m-%d %H:%M:%S"),
    )


def check_not_before(values: pa.Array, other: pa.Array) -> Parsed:
    """values ≥ other (dates or timestamps), checked only where both are present."""
    hit = _mask(pc.less(values, other))
    errors = _where(hit, "not_before", _nulls(len(values)))
    return Parsed(values, errors, _keep(hit, _moment_text(other)))


def check_only_when(values: pa.Array, other: pa.Array, expected: str) -> Parsed:
    """values present only where the other cell holds `expected` (an enum code).

    Checked only where both are present. Detail: the other cell's value.
    """
    hit = _mask(pc.and_(pc.is_valid(values), pc.not_equal(other, expected)))
    errors = _where(hit, "only_when", _nulls(len(values)))
    return Parsed(values, errors, _keep(hit, pc.cast(other, pa.string())))


def is_identifier(column: Column) -> bool:
    return column.kind == "text" and column.name.endswith("_id")


def header_scale(column: Column, unit: str) -> float | None:
    """Scale implied by a money header's unit (`金额（万元）`); None if unknown."""
    if column.kind != "money" or not unit:
        return 1.0
    return HEADER_MONEY_UNITS.get(unit)


# Conversions the import applies silently to a cell that then parses; the
# import's 处理说明 counts them per column, so a clerk can see what was read how.
CONVERSIONS: tuple[str, ...] = ("full_width", "thousands", "percent_sign", "wan", "chinese_date")
_NUMERIC_KINDS = frozenset({"int", "number", "money", "percent", "year"})
_DATE_KINDS = frozenset({"date", "datetime", "year_month"})


def conversion_counts(column: Column, raw, parsed: Parsed) -> dict[str, int]:
    """How many of the column's accepted cells needed each conversion."""
    return {
        name: int(pc.sum(hits.cast(pa.int64())).as_py() or 0)
        for name, hits in conversion_flags(column, raw, parsed).items()
        if pc.any(hits).as_py()
    }


def conversion_flags(column: Column, raw, parsed: Parsed) -> dict[str, pa.Array]:
    """Per conversion, which of the column's accepted cells needed it."""
    raw = _array(raw)
    accepted = _mask(pc.and_(pc.is_valid(raw), pc.is_null(parsed.errors)))
    checks: dict[str, pa.Array] = {}
    if column.kind in _NUMERIC_KINDS | _DATE_KINDS:
        # Text keeps its own punctuation; NFKC there is not worth a word.
        checks["full_width"] = pc.not_equal(pc.utf8_normalize(raw, form="NFKC"), raw)
    if column.kind in _NUMERIC_KINDS:
        normal = normalize(raw)
        checks["thousands"] = pc.match_substring_regex(normal, r"\d,\d{3}")
        if column.kind == "percent":
            checks["percent_sign"] = pc.match_substring(normal, "%")
        if column.kind == "money":
            checks["wan"] = pc.match_substring(normal, "万")
    if column.kind in _DATE_KINDS:
        checks["chinese_date"] = pc.match_substring_regex(raw, "[年月日时]")
    return {name: pc.and_(accepted, _mask(hits)) for name, hits in checks.items()}


def parse_column(column: Column, raw, *, scale: float = 1.0) -> Parsed:
    """Dispatch on the contract column's kind."""
    kind = column.kind
    req = column.required
    if kind == "text":
        return parse_text(raw, required=req, identifier=is_identifier(column))
    if kind == "int":
        return parse_int(raw, required=req, minimum=column.minimum, maximum=column.maximum)
    if kind == "number":
        return parse_number(raw, required=req, minimum=column.minimum, maximum=column.maximum)
    if kind == "money":
        return parse_money(
            raw,
            required=req,
            header_scale=scale,
            minimum=column.minimum,
            maximum=column.maximum,
        )
    if kind == "percent":
        return parse_percent(
            raw,
            required=req,
            minimum=0 if column.minimum is None else column.minimum,
            maximum=100 if column.maximum is None else column.maximum,
        )
    if kind == "date":
        return parse_date(raw, required=req)
    if kind == "datetime":
        return parse_datetime(raw, required=req)
    if kind == "year_month":
        return parse_year_month(raw, required=req)
    if kind == "year":
        return parse_year(raw, required=req, minimum=column.minimum, maximum=column.maximum)
    if kind == "enum":
        assert column.enum is not None
        return parse_enum(raw, column.enum, required=req, default=column.default)
    raise ValueError(f"unknown column kind {kind!r}")


# -- the engine path: clean cells in SQL, the rest once per distinct value ---------
#
# A file read by the engine (staging) is parsed set-wise: a cell written in a
# column's plain form (ASCII digits, an ISO date, a trimmed ASCII id) becomes
# its value in SQL (`fast_sql`), every other cell once per distinct spelling
# through the parsers above (`parse_distinct`), weighted by how often it
# occurs. A plain form is taken in SQL only where the parsers above would give
# the same value, no problem and no conversion, so both paths say the same.

SQL_TYPES: dict[str, str] = {
    "text": "varchar",
    "enum": "varchar",
    "int": "integer",
    "year": "integer",
    "number": "double",
    "money": "double",
    "percent": "double",
    "date": "date",
    "datetime": "timestamp_s",
    "year_month": "date",
}

# RE2 patterns (constants of this module, never input). A regular expression
# is faster in DuckDB than ltrim(x, characters) by an order of magnitude.
_SQL_SCIENTIFIC = "'[+-]?[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+'"
_SQL_DECIMAL = "'-?[0-9]{1,15}(?:\\.[0-9]{1,15})?'"
_SQL_UNSIGNED = "'[0-9]{1,15}(?:\\.[0-9]{1,15})?'"
_SQL_CENTS = "'[0-9]{1,13}(?:\\.[0-9]{1,2})?'"
_SQL_DATE = "'[12][0-9]{3}-[0-9]{2}-[0-9]{2}'"
_SQL_DATETIME = (
    "'[12][0-9]{3}-[0-9]{2}-[0-9]{2}(?: (?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?)?'"
)
_SQL_MONTH = "'[12][0-9]{3}-(?:0[1-9]|1[0-2])'"


@dataclass(frozen=True)
class FastSql:
    value: str  # SQL: the cell's value when written in the plain form, else null
    params: dict
    candidate: str | None = None  # percent: SQL true where the value is a plain fraction


def _between(expr: str, key: str, low: float | None, high: float | None) -> tuple[str, dict]:
    parts, params = [], {}
    if low is not None:
        parts.append(expr + " >= $" + key + "_lo")
        params[key + "_lo"] = float(low)
    if high is not None:
        parts.append(expr + " <= $" + key + "_hi")
        params[key + "_hi"] = float(high)
    return (" and ".join(parts) or "true"), params


def fast_sql(column: Column, ref: str, key: str, scale: float = 1.0) -> FastSql | None:
    """SQL for the column's plain form over the raw text `ref` (a quoted column
    reference); `key` prefixes its parameter names. None: no plain form (the
    cell goes through `parse_distinct`, its spellings once each)."""
    kind = column.kind
    if kind == "enum" and column.enum is not None:
        # A code written exactly is its own value (parse_enum maps it to
        # itself, with no conversion to count); labels and aliases go the
        # distinct way. Without this every cell of a 10-million-row file's
        # enum columns was copied aside, grouped and joined back.
        lookup = column.enum.lookup()
        codes = [item.code for item in column.enum.codes
                 if lookup.get(item.code) == item.code]
        if not codes:
            return None
        # One scalar parameter a code: with a list parameter in the same
        # statement DuckDB 2.0 was seen to write a table out of insertion order.
        names = [key + "_code" + str(i) for i in range(len(codes))]
        return FastSql(
            "case when " + ref + " in (" + ", ".join("$" + n for n in names) + ") then "
            + ref + " end",
            dict(zip(names, codes, strict=True)),
        )
    if kind == "text":
        # ASCII throughout (as many bytes as characters: NFKC leaves it as it
        # is) and neither end a space or control character (nothing to trim):
        # cheaper than a regular expression over every cell.
        plain = (
            "strlen(" + ref + ") = length(" + ref + ") and ascii(" + ref + ") > 32"
            " and ascii(right(" + ref + ", 1)) > 32"
        )
        if is_identifier(column):
            # Only an id with an e can look like 1.23E+11.
            plain += (
                " and (not (contains(" + ref + ", 'e') or contains(" + ref + ", 'E'))"
                " or not regexp_full_match(" + ref + ", " + _SQL_SCIENTIFIC + "))"
            )
        return FastSql("case when " + plain + " then " + ref + " end", {})
    if kind in ("int", "year"):
        low, high = column.minimum, column.maximum
        low = INT_MINIMUM if low is None else max(low, INT_MINIMUM)
        high = INT_MAXIMUM if high is None else min(high, INT_MAXIMUM)
        value = "try_cast(" + ref + " as integer)"
        # The plain form is the integer's own text, read back: no sign, space,
        # leading zero, decimals, exponent, underscore or hexadecimal that the
        # cast would take and the parser reads otherwise (or refuses). Half
        # the cost of a regular expression beside the cast.
        plain = "cast(" + value + " as varchar) = " + ref
        if kind == "year":
            plain += " and strlen(" + ref + ") = 4 and " + value + " >= 1000"
        bounds, params = _between(value, key, low, high)
        return FastSql("case when " + plain + " and " + bounds + " then " + value + " end",
                       params)
    if kind in ("number", "money", "percent"):
        value = "try_cast(" + ref + " as double)"
        if kind == "money":
            if scale != 1.0:
                return None
            # Non-negative with at most two decimals: the value read is already
            # whole cents, as _cents would round it.
            high = MONEY_MAXIMUM if column.maximum is None else min(column.maximum,
                                                                    MONEY_MAXIMUM)
            bounds, params = _between(value, key, column.minimum, high)
            plain = "regexp_full_match(" + ref + ", " + _SQL_CENTS + ")"
        elif kind == "percent":
            low = 0 if column.minimum is None else column.minimum
            high = 100 if column.maximum is None else column.maximum
            bounds, params = _between(value, key, low, high)
            fraction = value + " between 0 and 1"
            bounds = "(" + fraction + " or (" + bounds + "))"
            plain = "regexp_full_match(" + ref + ", " + _SQL_UNSIGNED + ")"
            condition = plain + " and isfinite(" + value + ") and " + bounds
            return FastSql(
                "case when " + condition + " then " + value + " end",
                params,
                candidate="(" + condition + " and " + fraction + ")",
            )
        else:
            bounds, params = _between(value, key, column.minimum, column.maximum)
            # A regular expression, not the number's text read back: that
            # would send every `31.678300` (trailing zeros, as coordinates are
            # written) the slow way.
            plain = "regexp_full_match(" + ref + ", " + _SQL_DECIMAL + ")"
        condition = plain + " and isfinite(" + value + ") and " + bounds
        return FastSql("case when " + condition + " then " + value + " end", params)
    if kind == "date":
        return FastSql(
            "case when regexp_full_match(" + ref + ", " + _SQL_DATE + ") then try_cast("
            + ref + " as date) end", {}
        )
    if kind == "datetime":
        return FastSql(
            "case when regexp_full_match(" + ref + ", " + _SQL_DATETIME + ") then try_cast("
            + ref + " as timestamp_s) end", {}
        )
    if kind == "year_month":
        return FastSql(
            "case when regexp_full_match(" + ref + ", " + _SQL_MONTH + ") then try_cast("
            + ref + " || '-01' as date) end", {}
        )
    return None


@dataclass
class Distinct:
    """A column's distinct spellings outside its plain form, parsed once each."""

    table: pa.Table  # raw, value, error, detail, candidate
    errors: int  # cells in error (weighted by occurrences)
    plain: int = 0
    plain_outside: int = 0
    defaults: int = 0
    conversions: dict[str, int] | None = None


def parse_distinct(column: Column, raw: pa.Array, counts: pa.Array, *,
                   scale: float = 1.0) -> Distinct:
    """parse_column over distinct raw values; totals weighted by `counts`."""
    raw = _array(raw)
    weights = pc.cast(_array_any(counts), pa.int64())
    parsed = parse_column(column, raw, scale=scale)

    def weighted(mask: pa.Array | None) -> int:
        if mask is None:
            return 0
        return int(pc.sum(pc.if_else(_mask(mask), weights, 0)).as_py() or 0)

    n = len(raw)
    details = parsed.details if parsed.details is not None else _nulls(n)
    candidates = (
        _mask(parsed.fraction_candidates) if parsed.fraction_candidates is not None
        else pa.repeat(pa.scalar(False), n)
    )
    table = pa.table(
        {"raw": raw, "value": parsed.values, "error": parsed.errors, "detail": details,
         "candidate": candidates}
    )
    plain = weighted(parsed.plain_mask)
    return Distinct(
        table=table,
        errors=weighted(pc.is_valid(parsed.errors)),
        plain=plain,
        plain_outside=plain - weighted(parsed.inside_mask),
        defaults=weighted(parsed.default_mask),
        conversions={
            name: count
            for name, hits in conversion_flags(column, raw, parsed).items()
            if (count := weighted(hits))
        },
    )


def _array_any(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values
