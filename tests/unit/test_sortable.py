"""Unit tests of limpyd_typed.sortable: the bytes of stored values sort as the values do.

For every kind, the entries of values stored by the codec compare (as bytes) exactly as Python
compares the values: lower iff lower, equal iff equal (1.0 and 1, Decimal("1.0") and
Decimal("1E+0"), one instant at two offsets). Texts written by INCRBY / INCRBYFLOAT are stored
values too. Anything else is refused with ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from limpyd_typed import indexes
from limpyd_typed.codecs import codec_for
from limpyd_typed.sortable import HOWS, sortable

def _key(value: object) -> bytes:
    """The sortable entry of a value, from the text its field's codec stores."""
    kind: type = type(value)
    how = {int: "int", float: "float", Decimal: "decimal", datetime: "datetime", date: "date"}[kind]
    return sortable(codec_for(kind).encode(value), how)


def _cmp(a: Any, b: Any) -> int:
    return -1 if a < b else 1 if a > b else 0


def _assert_same_order(values: Sequence[Any]) -> None:
    """Every pair of values compares as its entries do, bytes and escaped entries alike."""
    keys = [_key(v) for v in values]
    escaped = [indexes.escape(k) for k in keys]
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert _cmp(keys[i], keys[j]) == _cmp(a, b), (a, b, keys[i], keys[j])
            assert _cmp(escaped[i], escaped[j]) == _cmp(a, b)


# -- int ---------------------------------------------------------------------------------------

_BIG = 10**4000
_INTS = st.integers(-1000, 1000) | st.integers(-(2**70), 2**70) | st.integers(-_BIG, _BIG)


@given(values=st.lists(_INTS, min_size=2, max_size=8))
def test_ints_sort_as_numbers(values: list[int]) -> None:
    _assert_same_order(values)


@given(value=_INTS, delta=st.integers(-3, 3))
def test_neighbouring_ints_sort_as_numbers(value: int, delta: int) -> None:
    _assert_same_order([value, value + delta, -value, -value - delta])


def test_ints_at_digit_count_boundaries() -> None:
    # 253 and 254 digits: where the one-byte digit count gives way to \xff + 4 bytes.
    values = [0, 1, -1, 9, 10, -9, -10, 2**53, 2**53 + 1, -(2**53), -(2**53) - 1]
    for digits in (2, 3, 252, 253, 254, 255, 300, 4000, 4300):
        values += [10 ** (digits - 1), 10**digits - 1, -(10 ** (digits - 1)), -(10**digits) + 1]
    _assert_same_order(values)


def test_int_entries_are_compact() -> None:
    assert sortable(b"0", "int") == b"="
    assert sortable(b"42", "int") == b">\x0342"
    assert sortable(b"-42", "int") == b"<\xfc57"
    assert len(sortable(str(10**300).encode(), "int")) == 1 + 5 + 301


# -- float -------------------------------------------------------------------------------------

_FLOATS = st.floats(allow_nan=False) | st.floats(-4.0, 4.0) | st.sampled_from([0.0, -0.0, 5e-324, -5e-324, math.inf, -math.inf])


@given(values=st.lists(_FLOATS, min_size=2, max_size=8))
def test_floats_sort_as_numbers(values: list[float]) -> None:
    _assert_same_order(values)


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_neighbouring_floats_sort_as_numbers(value: float) -> None:
    _assert_same_order([math.nextafter(value, -math.inf), value, math.nextafter(value, math.inf), -value])


def _float_texts(value: float) -> list[bytes]:
    """Texts that Python (and strtod) read as ``value``: repr, %.17g, INCRBYFLOAT's fixed form."""
    texts = [repr(value), "%.17g" % value, "%.25g" % value, "%.17e" % value]
    if math.isfinite(value) and value == int(value):
        texts.append(str(int(value)))  # what INCRBYFLOAT writes for 2.0 or 1e20: "2", "1000...0"
    return [t.encode() for t in texts if not t.endswith("inf")]


@given(value=st.floats(allow_nan=False, allow_infinity=False))
@example(value=2.0)
@example(value=-0.0)
@example(value=1e20)
@example(value=0.30000000000000004)
@example(value=1.7976931348623157e308)
def test_every_text_of_one_float_has_one_entry(value: float) -> None:
    expected = _key(value)
    for text in _float_texts(value):
        assert float(text) == value
        assert sortable(text, "float") == expected, text


def test_float_examples() -> None:
    assert _key(-0.0) == _key(0.0) == sortable(b"-0", "float") == sortable(b"0", "float")
    assert _key(0.0) < _key(5e-324) < _key(2.2250738585072014e-308) < _key(1.0)
    assert _key(-5e-324) < _key(0.0)
    assert _key(-math.inf) < _key(-1.7976931348623157e308) < _key(1.7976931348623157e308) < _key(math.inf)
    assert _key(float(2**53)) == sortable(b"9007199254740992", "float") == sortable(b"9007199254740993", "float")
    assert _key(float(2**53)) < _key(float(2**53 + 2))
    assert sortable(b"3", "float") == _key(3.0)
    assert sortable(b"2.5", "float") == _key(2.5)
    assert sortable(b"100000000000000000000", "float") == _key(1e20)
    assert sortable(b"12345678901234567", "float") == _key(12345678901234567.0)
    assert len(_key(1.5)) == 8


# -- decimal -----------------------------------------------------------------------------------

_EXPONENTS = (
    st.integers(-6, 6)
    | st.integers(-40, 40)
    | st.integers(-(10**17), 10**17)
    | st.sampled_from([999_999_999_999_999_990, -1_999_999_999_999_999_997, -(10**15), 10**15 - 3, 10**15 + 3])
)
_DIGITS = st.lists(st.integers(0, 9), min_size=1, max_size=6) | st.lists(st.integers(0, 9), min_size=1, max_size=40)


def _decimal(sign: int, digits: list[int], exponent: int) -> Decimal:
    try:
        return Decimal((sign, tuple(digits), exponent))
    except InvalidOperation:  # outside the exponents Python's decimal accepts
        return Decimal((sign, tuple(digits), 0))


_DECIMALS = st.builds(_decimal, st.integers(0, 1), _DIGITS, _EXPONENTS) | st.sampled_from(
    [Decimal("Infinity"), Decimal("-Infinity"), Decimal("0"), Decimal("-0"), Decimal("0E+7"), Decimal("-0.000")]
)


@given(values=st.lists(_DECIMALS, min_size=2, max_size=8))
def test_decimals_sort_as_numbers(values: list[Decimal]) -> None:
    _assert_same_order(values)


@given(sign=st.integers(0, 1), digits=_DIGITS, exponent=_EXPONENTS, zeros=st.integers(0, 5))
def test_every_form_of_one_decimal_has_one_entry(sign: int, digits: list[int], exponent: int, zeros: int) -> None:
    # The same value with trailing zeros or leading zeros added: equal Decimals, one entry.
    value = _decimal(sign, digits, exponent)
    exp = value.as_tuple().exponent
    assert isinstance(exp, int)
    try:
        padded = Decimal((sign, (0,) * zeros + value.as_tuple().digits + (0,) * zeros, exp - zeros))
    except InvalidOperation:  # below the smallest exponent
        padded = value
    assert padded == value
    assert _key(padded) == _key(value)
    # next_plus / next_minus: the neighbours at 50 digits (Infinity past the largest exponent).
    wide = Context(prec=50, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])
    _assert_same_order([value, padded, wide.next_plus(value), wide.next_minus(value), value.copy_negate()])


def test_decimal_examples() -> None:
    assert _key(Decimal("1.0")) == _key(Decimal("1")) == _key(Decimal("1E+0")) == _key(Decimal("0.1E+1"))
    assert _key(Decimal("-0")) == _key(Decimal("0")) == _key(Decimal("0E-9")) == _key(Decimal("-0.00")) == b"="
    assert sortable(b"1E+2", "decimal") == _key(Decimal(100))
    _assert_same_order(
        [Decimal(s) for s in ("-Infinity", "-1E+5", "-12.5", "-12.45", "-12.4", "-1", "-0.5", "-0.05", "0",
                              "0.05", "0.5", "1", "12.4", "12.45", "12.5", "1E+5", "Infinity",
                              "1E+999999999999999999", "-1E+999999999999999999",
                              "1.23E-1999999999999999995", "-1.23E-1999999999999999995")]
    )
    assert sortable(b"Infinity", "decimal") == b"?" and sortable(b"-Infinity", "decimal") == b";"


# -- datetime ----------------------------------------------------------------------------------

_DAY = timedelta(hours=24)
_US = timedelta(microseconds=1)
_OFFSETS = (
    st.timedeltas(-_DAY + _US, _DAY - _US)
    | st.sampled_from([timedelta(0), timedelta(hours=5, minutes=30), -timedelta(hours=9, minutes=30, seconds=15),
                       _DAY - _US, -_DAY + _US, _US, -_US])
)
_ZONES = st.builds(timezone, _OFFSETS)
_DATETIMES = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999), timezones=_ZONES) | st.datetimes(
    datetime(1, 1, 1), datetime(1, 1, 2), timezones=_ZONES
) | st.datetimes(datetime(9999, 12, 30), datetime(9999, 12, 31, 23, 59, 59, 999999), timezones=_ZONES)


@given(values=st.lists(_DATETIMES, min_size=2, max_size=8))
def test_datetimes_sort_as_instants(values: list[datetime]) -> None:
    _assert_same_order(values)


def _moved(value: datetime, zone: timezone, delta: timedelta) -> datetime | None:
    try:
        return (value + delta).astimezone(zone)
    except OverflowError:
        return None


@given(value=_DATETIMES, zones=st.lists(_ZONES, min_size=1, max_size=4), delta=st.sampled_from([-_US, 0 * _US, _US]))
def test_one_instant_at_any_offset_has_one_entry(value: datetime, zones: list[timezone], delta: timedelta) -> None:
    others = [m for m in (_moved(value, zone, d) for zone in zones for d in (0 * _US, delta)) if m is not None]
    assume(others)
    _assert_same_order([value, *others])


def test_datetime_examples() -> None:
    plus_one = datetime(2024, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    utc = datetime(2024, 1, 1, 23, 30, tzinfo=timezone.utc)
    assert _key(plus_one) == _key(utc)
    assert sortable(b"2024-01-01T23:30:00-00:00", "datetime") == _key(utc)
    assert _key(utc) < _key(utc + _US)
    # The first and last instants: in years 0 and 10000 UTC.
    first = datetime(1, 1, 1, tzinfo=timezone(_DAY - _US))
    last = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(-_DAY + _US))
    _assert_same_order([first, first + _US, datetime(1, 1, 1, tzinfo=timezone.utc), last - _US, last])
    assert b"+00:00:00.000001" in codec_for(datetime).encode(datetime(2024, 1, 1, tzinfo=timezone(_US)))
    _assert_same_order([datetime(2024, 1, 1, tzinfo=timezone(s * _US)) for s in (-1, 0, 1)])
    assert len(_key(utc)) == 8


# -- date --------------------------------------------------------------------------------------


@given(values=st.lists(st.dates(), min_size=2, max_size=8))
def test_dates_sort_as_dates(values: list[date]) -> None:
    _assert_same_order(values)


def test_date_entries_are_their_text() -> None:
    assert sortable(b"2024-01-31", "date") == b"2024-01-31"
    assert sortable(b"2024-02-29", "date") == b"2024-02-29"


# -- refusals ----------------------------------------------------------------------------------

_INVALID: list[tuple[str, bytes]] = [
    ("int", b""), ("int", b"007"), ("int", b"-0"), ("int", b"+5"), ("int", b"1.0"), ("int", b" 1"), ("int", b"1\n"),
    ("int", b"\xd9\xa1"), ("int", b"-"), ("int", b"1e3"),
    ("float", b""), ("float", b"nan"), ("float", b"NaN"), ("float", b"-nan"), ("float", b"Infinity"), ("float", b".5"),
    ("float", b"1."), ("float", b"0x10"), ("float", b"1_0"), ("float", b" 1"), ("float", b"1e"), ("float", b"+1"),
    ("float", b"1.5\n"),
    ("decimal", b""), ("decimal", b"NaN"), ("decimal", b"sNaN"), ("decimal", b"inf"), ("decimal", b"1."),
    ("decimal", b".5"), ("decimal", b"1E"), ("decimal", b"1E+" + b"9" * 31), ("decimal", b"1 "), ("decimal", b"+1"),
    ("datetime", b""), ("datetime", b"2024-01-01T10:00:00"), ("datetime", b"2024-01-01 10:00:00+00:00"),
    ("datetime", b"2024-02-30T10:00:00+00:00"), ("datetime", b"2023-02-29T10:00:00+00:00"),
    ("datetime", b"0000-01-01T10:00:00+00:00"), ("datetime", b"2024-13-01T10:00:00+00:00"),
    ("datetime", b"2024-01-01T24:00:00+00:00"), ("datetime", b"2024-01-01T10:60:00+00:00"),
    ("datetime", b"2024-01-01T10:00:60+00:00"), ("datetime", b"2024-01-01T10:00:00+24:00"),
    ("datetime", b"2024-01-01T10:00:00+00:60"), ("datetime", b"2024-01-01T10:00:00.123+00:00"),
    ("datetime", b"2024-01-01T10:00:00+00:00:60"), ("datetime", b"2024-01-01T10:00:00+00:00:00.1"),
    ("datetime", b"2024-01-01T10:00:00+00:00Z"), ("datetime", b"2024-01-01T10:00:00Z"),
    ("date", b""), ("date", b"20240131"), ("date", b"2024-1-31"), ("date", b"2024-02-30"), ("date", b"0000-01-01"),
    ("date", b"2024-01-31T00:00:00"), ("date", b"2024-W01-1"),
]


@pytest.mark.parametrize(("how", "raw"), _INVALID)
def test_invalid_stored_texts_are_refused(how: str, raw: bytes) -> None:
    with pytest.raises(ValueError, match="is not a stored"):
        sortable(raw, how)


def test_unknown_kinds_are_refused() -> None:
    assert HOWS == {"int", "float", "decimal", "datetime", "date"}
    with pytest.raises(ValueError, match="unknown sortable kind"):
        sortable(b"1", "str")


def test_valid_leap_days_and_limits_are_accepted() -> None:
    for raw in (b"2000-02-29T00:00:00+00:00", b"0001-01-01T00:00:00+23:59:59.999999", b"9999-12-31T23:59:59.999999-23:59"):
        assert len(sortable(raw, "datetime")) == 8
    for raw in (b"2000-02-29", b"0001-01-01", b"9999-12-31"):
        assert sortable(raw, "date") == raw

