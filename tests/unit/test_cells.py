"""Cell parsers on their own: values, reason keys and details per cell."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from governance import cells
from governance.contract import COMMUNITY_TYPE, FACILITY_STATUS, FACILITY_TYPE, TABLES


def _pairs(parsed: cells.Parsed) -> list[tuple]:
    return list(zip(parsed.values.to_pylist(), parsed.errors.to_pylist(), strict=True))


def test_normalize_trims_full_width_and_empties():
    out = cells.normalize(["　C001　", " ", "", None, "ＡＢ１"]).to_pylist()
    assert out == ["C001", None, None, None, "AB1"]


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("1,234", 1234, None),
        ("１２３", 123, None),
        ("１，２３４", 1234, None),
        ("1 234", 1234, None),
        ("12.0", 12, None),
        ("-0", 0, None),
        ("1,23", None, "bad_thousands"),
        ("12,34,567", None, "bad_thousands"),
        ("1,234,", None, "bad_thousands"),
        ("12.5", None, "not_integer"),
        ("abc", None, "not_number"),
        ("—", None, "not_number"),
        ("", None, None),
        (None, None, None),
        ("-3", None, "below_minimum"),
        ("99999999999", None, "above_maximum"),
    ],
)
def test_parse_int(raw, value, error):
    parsed = cells.parse_int([raw], minimum=0)
    assert _pairs(parsed) == [(value, error)]


def test_int_bounds_carry_the_bound_as_detail():
    parsed = cells.parse_int(["-1", "5", "11"], minimum=0, maximum=10)
    assert parsed.errors.to_pylist() == ["below_minimum", None, "above_maximum"]
    assert parsed.details.to_pylist() == ["0", None, "10"]


def test_int_required_empty_is_an_error_but_optional_empty_is_null_not_zero():
    assert _pairs(cells.parse_int(["", None], required=True)) == [
        (None, "required"), (None, "required"),
    ]
    optional = cells.parse_int(["", None])
    assert optional.values.to_pylist() == [None, None]
    assert optional.error_count == 0


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("1,234.5", 1234.5, None),
        ("３．５", 3.5, None),
        (".5", 0.5, None),
        ("1e3", 1000.0, None),
        ("1e999", None, "not_number"),
        ("1,2345.0", None, "bad_thousands"),
        ("3.5平方米", None, "not_number"),
    ],
)
def test_parse_number(raw, value, error):
    assert _pairs(cells.parse_number([raw])) == [(value, error)]


@pytest.mark.parametrize(
    ("raw", "scale", "value", "error", "detail"),
    [
        ("2.5万", 1.0, 25000.0, None, None),
        ("2.5 万元", 1.0, 25000.0, None, None),
        ("300元", 1.0, 300.0, None, None),
        ("1,000", 1.0, 1000.0, None, None),
        ("12.345", 1.0, 12.35, None, None),
        ("¥88", 1.0, 88.0, None, None),
        ("2.5", 10_000.0, 25000.0, None, None),  # header 万元
        ("300元", 10_000.0, 300.0, None, None),  # the cell's own unit wins
        ("2.5万", 10_000.0, 25000.0, None, None),
        ("5千元", 1.0, None, "bad_unit", "千元"),
        ("5 USD", 1.0, None, "bad_unit", "USD"),
        ("万", 1.0, None, "not_number", None),
        ("-1万", 1.0, None, "below_minimum", "0"),
        ("1e20", 1.0, None, "above_maximum", "9999999999.99"),  # beyond decimal storage
    ],
)
def test_parse_money(raw, scale, value, error, detail):
    parsed = cells.parse_money([raw], header_scale=scale, minimum=0)
    assert _pairs(parsed) == [(value, error)]
    assert parsed.details.to_pylist() == [detail]


def test_parse_percent_flags_plain_fractions_for_the_column_decision():
    parsed = cells.parse_percent(["95%", "95", "0.95", "1", "0", "150", "-1", "abc", None, "９５％"])
    assert parsed.values.to_pylist() == [95.0, 95.0, 0.95, 1.0, 0.0, None, None, None, None, 95.0]
    assert parsed.errors.to_pylist() == [
        None, None, None, None, None, "above_maximum", "below_minimum", "bad_percent", None, None,
    ]
    assert parsed.fraction_candidates.to_pylist() == [
        False, False, True, True, True, False, False, False, False, False,
    ]
    # plain (no %) numbers: 95, 0.95, 1, 0, 150, -1 → 6, of which 95, 150, -1 lie outside [0, 1]
    assert (parsed.plain_count, parsed.plain_outside) == (6, 3)


def test_percent_with_sign_over_100_is_out_of_range():
    assert _pairs(cells.parse_percent(["101%", "100%", "0.5%"])) == [
        (None, "above_maximum"), (100.0, None), (0.5, None),
    ]


@pytest.mark.parametrize(
    ("plain", "outside", "fraction"),
    [(3, 0, True), (0, 0, False), (3, 1, False)],
)
def test_percent_is_fraction(plain, outside, fraction):
    assert cells.percent_is_fraction(plain, outside) is fraction


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("2023-05-01", date(2023, 5, 1), None),
        ("2023/5/1", date(2023, 5, 1), None),
        ("2023年5月1日", date(2023, 5, 1), None),
        ("2023.5.1", date(2023, 5, 1), None),
        ("20230501", date(2023, 5, 1), None),
        ("2023/5/1 0:00", date(2023, 5, 1), None),
        ("２０２３－０５－０１", date(2023, 5, 1), None),
        ("2024-02-29", date(2024, 2, 29), None),
        ("2023年5月", None, "date_without_day"),
        ("2023-05", None, "date_without_day"),
        ("2023/5", None, "date_without_day"),
        ("2023-02-30", None, "bad_date"),
        ("2023-13-01", None, "bad_date"),
        ("2023-05-00", None, "bad_date"),
        ("五月一日", None, "bad_date"),
        ("", None, None),
    ],
)
def test_parse_date(raw, value, error):
    assert _pairs(cells.parse_date([raw])) == [(value, error)]


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("2023-05-01 14:30", datetime(2023, 5, 1, 14, 30), None),
        ("2023-05-01 14:30:05", datetime(2023, 5, 1, 14, 30, 5), None),
        ("2023-05-01T14:30", datetime(2023, 5, 1, 14, 30), None),
        ("2023/5/1 9:05", datetime(2023, 5, 1, 9, 5), None),
        ("2023.5.1 09:05", datetime(2023, 5, 1, 9, 5), None),
        ("2023年5月1日 14:30", datetime(2023, 5, 1, 14, 30), None),
        ("2023年5月1日14时30分", datetime(2023, 5, 1, 14, 30), None),
        ("2023年5月1日 14时30分05秒", datetime(2023, 5, 1, 14, 30, 5), None),
        ("2023年5月1日 9点", datetime(2023, 5, 1, 9, 0), None),
        ("2023-05-01 14:30:05.7", datetime(2023, 5, 1, 14, 30, 5), None),  # fraction dropped
        ("２０２３－０５－０１　１４：３０", datetime(2023, 5, 1, 14, 30), None),
        ("2023-05-01", datetime(2023, 5, 1, 0, 0), None),
        ("2023年5月1日", datetime(2023, 5, 1, 0, 0), None),
        ("20230501", datetime(2023, 5, 1, 0, 0), None),
        ("2024-02-29 23:59:59", datetime(2024, 2, 29, 23, 59, 59), None),
        ("2023-02-30", None, "bad_datetime"),
        ("2023-02-30 10:00", None, "bad_datetime"),
        ("2023-05-01 25:00", None, "bad_datetime"),
        ("2023-05-01 24:00", None, "bad_datetime"),
        ("2023-05-01 14:61", None, "bad_datetime"),
        ("2023-05-01 14:30:60", None, "bad_datetime"),
        ("2023年5月1日 25时", None, "bad_datetime"),
        ("2023-05-01 14", None, "bad_datetime"),
        ("14:30", None, "bad_datetime"),
        ("五月一日", None, "bad_datetime"),
        ("2023年5月", None, "date_without_day"),
        ("2023-05", None, "date_without_day"),
        ("", None, None),
    ],
)
def test_parse_datetime(raw, value, error):
    parsed = cells.parse_datetime([raw])
    assert parsed.values.type == pa.timestamp("s")
    assert _pairs(parsed) == [(value, error)]


def test_parse_datetime_required_and_vectorised():
    parsed = cells.parse_datetime(["2023-05-01 08:00", None, " ", "x", "2023/5/2"], required=True)
    assert _pairs(parsed) == [
        (datetime(2023, 5, 1, 8, 0), None), (None, "required"), (None, "required"),
        (None, "bad_datetime"), (datetime(2023, 5, 2), None),
    ]


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("2023-05", date(2023, 5, 1), None),
        ("2023/5", date(2023, 5, 1), None),
        ("2023年5月", date(2023, 5, 1), None),
        ("2023年05月", date(2023, 5, 1), None),
        ("202305", date(2023, 5, 1), None),
        ("2023-05-01", date(2023, 5, 1), None),
        ("2023-05-31", date(2023, 5, 1), None),
        ("2023年5月20日", date(2023, 5, 1), None),
        ("2023-13", None, "bad_month"),
        ("2023-02-30", None, "bad_month"),
        ("May 2023", None, "bad_month"),
    ],
)
def test_parse_year_month(raw, value, error):
    assert _pairs(cells.parse_year_month([raw])) == [(value, error)]


@pytest.mark.parametrize(
    ("raw", "value", "error"),
    [
        ("2024", 2024, None),
        ("2024年", 2024, None),
        ("2024年度", 2024, None),
        ("２０２４", 2024, None),
        ("24", None, "bad_year"),
        ("2024.5", None, "bad_year"),
        ("1999", None, "below_minimum"),
        ("2101", None, "above_maximum"),
    ],
)
def test_parse_year(raw, value, error):
    assert _pairs(cells.parse_year([raw], minimum=2000, maximum=2100)) == [(value, error)]


def test_parse_enum_codes_labels_aliases_case_and_spaces():
    parsed = cells.parse_enum(
        ["urban", "URBAN", "城市社区", "村", " 城 中 村 ", "Old_Town", "火星社区", None],
        COMMUNITY_TYPE, required=True,
    )
    assert _pairs(parsed) == [
        ("urban", None), ("urban", None), ("urban", None), ("rural", None),
        ("urban_village", None), ("old_town", None), (None, "bad_enum"), (None, "required"),
    ]


def test_parse_enum_default_fills_empty_cells_and_counts_them():
    parsed = cells.parse_enum(["", None, "在建", "xx"], FACILITY_STATUS, default="in_use")
    assert _pairs(parsed) == [
        ("in_use", None), ("in_use", None), ("building", None), (None, "bad_enum"),
    ]
    assert parsed.defaults == 2


def test_parse_enum_facility_aliases():
    parsed = cells.parse_enum(["社区服务站", "敬老院", "健身路径"], FACILITY_TYPE)
    assert parsed.values.to_pylist() == ["service_center", "elderly_home", "sports"]


def test_parse_text_identifier_in_scientific_notation_is_refused():
    parsed = cells.parse_text(["1.23E+11", "3.40403E+11", "C1E5", " 340403001001 ", ""],
                              required=True, identifier=True)
    assert _pairs(parsed) == [
        (None, "scientific_id"), (None, "scientific_id"), ("C1E5", None),
        ("340403001001", None), (None, "required"),
    ]
    # An ordinary text column may hold such a string.
    assert cells.parse_text(["1.23E+11"]).values.to_pylist() == ["1.23E+11"]


def test_same_row_rules_only_where_both_present():
    above = cells.check_not_above(pa.array([5, 3, None, 7]), pa.array([4, 3, 1, None]))
    assert above.errors.to_pylist() == ["not_above", None, None, None]
    assert above.details.to_pylist() == ["4", None, None, None]
    before = cells.check_not_before(
        pa.array([date(2023, 1, 1), date(2023, 3, 1), None]),
        pa.array([date(2023, 2, 1), date(2023, 2, 1), date(2023, 2, 1)]),
    )
    assert before.errors.to_pylist() == ["not_before", None, None]
    assert before.details.to_pylist() == ["2023-02-01", None, None]
    stamps = cells.check_not_before(
        pa.array([datetime(2023, 5, 1, 9, 0), datetime(2023, 5, 1, 9, 0), None],
                 pa.timestamp("s")),
        pa.array([datetime(2023, 5, 1, 10, 30), datetime(2023, 5, 1, 8, 59, 59),
                  datetime(2023, 5, 1)], pa.timestamp("s")),
    )
    assert stamps.errors.to_pylist() == ["not_before", None, None]
    assert stamps.details.to_pylist() == ["2023-05-01 10:30", None, None]
    seconds = cells.check_not_before(
        pa.array([datetime(2023, 5, 1)], pa.timestamp("s")),
        pa.array([datetime(2023, 5, 1, 0, 0, 5)], pa.timestamp("s")),
    )
    assert seconds.details.to_pylist() == ["2023-05-01 00:00:05"]


def test_only_when_rule_checks_filled_cells_against_the_other_code():
    rule = cells.check_only_when(
        pa.array([datetime(2023, 5, 2), datetime(2023, 5, 2), None, datetime(2023, 5, 2)],
                 pa.timestamp("s")),
        pa.array(["resolved", "in_progress", "reported", None]),
        "resolved",
    )
    # filled + resolved: fine; filled + open: refused; empty: fine; status unknown: not judged
    assert rule.errors.to_pylist() == [None, "only_when", None, None]
    assert rule.details.to_pylist() == [None, "in_progress", None, None]


def test_parse_column_dispatches_every_contract_column():
    for table in TABLES.values():
        for column in table.columns:
            parsed = cells.parse_column(column, ["", "x"])
            assert parsed.values.type == cells.VALUE_TYPES[column.kind], column.name
            assert len(parsed.errors) == 2


def test_header_scale():
    amount = TABLES["funding"].column_by_name["amount_yuan"]
    area = TABLES["communities"].column_by_name["office_area_m2"]
    assert cells.header_scale(amount, "万元") == 10_000.0
    assert cells.header_scale(amount, "元") == 1.0
    assert cells.header_scale(amount, "千元") is None
    assert cells.header_scale(area, "万元") == 1.0  # units only matter for money
