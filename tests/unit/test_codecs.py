"""Unit tests of limpyd_typed.codecs: every codec round-trips exactly, wrong values are refused clearly.

No server: codecs are pure functions from Python values to the bytes stored in Redis and back.
"""

from __future__ import annotations

import enum
import math
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Optional

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from limpyd_typed.codecs import Codec, CodecError, codec_for
from limpyd_typed.exceptions import ImplementationError


class Color(enum.Enum):
    RED = 1
    GREEN = "green"
    BLUE = (3, "b")
    CRIMSON = 1  # an alias of RED: stored as the canonical member's name


class Shape(enum.Enum):
    RED = "red"  # same member name as Color.RED, other enum


# -- str / bytes ---------------------------------------------------------------------------------

@given(st.text())
@example("")
@example("\x00\x01 :{}*?[]>\n")
@example("é漢字🚲\U0010ffff")
def test_str_round_trips(value: str) -> None:
    codec = codec_for(str)
    raw = codec.encode(value)
    assert raw == value.encode("utf-8")
    assert codec.decode(raw) == value


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
@example("\ud800")
@example("a\udfffb")
def test_str_with_any_code_point_round_trips_or_is_refused_with_codec_error(value: str) -> None:
    # A lone surrogate is a valid Python str that UTF-8 cannot carry: it must either come back
    # intact or be refused as a CodecError (which fields turn into InvalidValue), never escape as
    # a bare UnicodeEncodeError.
    codec = codec_for(str)
    try:
        raw = codec.encode(value)
    except CodecError:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    assert codec.decode(raw) == value


@given(st.binary())
@example(b"")
@example(b"\x00\xff\x01")
def test_bytes_round_trips(value: bytes) -> None:
    codec = codec_for(bytes)
    raw = codec.encode(value)
    assert raw == value
    decoded = codec.decode(raw)
    assert type(decoded) is bytes
    assert decoded == value


def test_bytes_codec_accepts_bytearray_and_memoryview() -> None:
    codec = codec_for(bytes)
    assert codec.encode(bytearray(b"ab\x00")) == b"ab\x00"
    assert codec.encode(memoryview(b"xy")) == b"xy"


# -- numbers -------------------------------------------------------------------------------------

@given(st.integers() | st.integers(min_value=-(10**4000), max_value=10**4000))
@example(0)
@example(-1)
@example(2**64)
@example(-(2**63) - 1)
@example(10**4000 - 1)
@example(-(10**4000) + 1)
def test_int_round_trips(value: int) -> None:
    codec = codec_for(int)
    raw = codec.encode(value)
    assert raw == str(value).encode()
    decoded = codec.decode(raw)
    assert type(decoded) is int
    assert decoded == value
    assert codec.sort_order == "int"


@pytest.mark.parametrize("value", [10**4300, -(2**20000)], ids=["10**4300", "-2**20000"])
def test_int_beyond_python_digit_limit_round_trips_or_is_refused_with_codec_error(value: int) -> None:
    # Python refuses str() of ints over 4300 digits with a bare ValueError; the codec must either
    # store them or say so as a CodecError (a field then raises InvalidValue).
    codec = codec_for(int)
    try:
        raw = codec.encode(value)
    except CodecError:
        return
    assert codec.decode(raw) == value


def _same_float(a: float, b: float) -> bool:
    if math.isnan(b):
        return math.isnan(a)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@given(st.floats(allow_nan=False, allow_infinity=True, allow_subnormal=True))
@example(0.0)
@example(-0.0)
@example(math.inf)
@example(-math.inf)
@example(5e-324)  # smallest subnormal
@example(-2.2250738585072014e-308)
@example(1.7976931348623157e308)
@example(0.1 + 0.2)
def test_float_round_trips(value: float) -> None:
    codec = codec_for(float)
    decoded = codec.decode(codec.encode(value))
    assert type(decoded) is float
    assert _same_float(decoded, value)
    assert codec.sort_order == "float"


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_float_codec_accepts_ints_as_floats(value: int) -> None:
    codec = codec_for(float)
    decoded = codec.decode(codec.encode(value))
    assert type(decoded) is float
    assert decoded == float(value)


def test_float_codec_refuses_an_int_too_large_for_a_float_with_codec_error() -> None:
    # float(10**400) raises OverflowError: the codec must report it as a CodecError.
    with pytest.raises(CodecError):
        codec_for(float).encode(10**400)


@pytest.mark.parametrize("value", [True, False])
def test_bool_round_trips(value: bool) -> None:
    codec = codec_for(bool)
    raw = codec.encode(value)
    assert raw == (b"1" if value else b"0")
    assert codec.decode(raw) is value


@pytest.mark.parametrize("raw", [b"2", b"", b"true", b"01"])
def test_bool_codec_refuses_other_stored_bytes(raw: bytes) -> None:
    with pytest.raises(CodecError, match="not a bool"):
        codec_for(bool).decode(raw)


def _decimals() -> st.SearchStrategy[Decimal]:
    built = st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=40),
        st.integers(-400, 400),
    )
    specials = st.sampled_from(
        [Decimal("Infinity"),
         Decimal("-Infinity"), Decimal("-0"), Decimal("0E-7"), Decimal("-0E+12"), Decimal("1E+10"),
         Decimal("1.000"), Decimal("100E-2")]
    )
    return st.decimals(allow_nan=False, allow_infinity=True) | built | specials


@given(_decimals())
def test_decimal_round_trips_exactly(value: Decimal) -> None:
    # Exactly: same digits, exponent and sign (1.000 stays 1.000, -0 stays -0).
    codec = codec_for(Decimal)
    decoded = codec.decode(codec.encode(value))
    assert type(decoded) is Decimal
    assert str(decoded) == str(value)
    assert decoded.as_tuple() == value.as_tuple()


def test_decimal_codec_refuses_stored_garbage() -> None:
    with pytest.raises(CodecError, match="not a Decimal"):
        codec_for(Decimal).decode(b"1.2.3")


# -- dates and times -----------------------------------------------------------------------------

# Fixed offsets to the second (strictly within a day, as datetime.timezone requires).
_OFFSETS = st.builds(timedelta, seconds=st.integers(-86399, 86399)) | st.builds(
    lambda hours, minutes: timedelta(hours=hours, minutes=minutes), st.integers(-23, 23), st.sampled_from([0, 15, 30, 45])
)
_DATETIMES = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31))


def _assert_same_datetime(decoded: datetime, value: datetime) -> None:
    assert type(decoded) is datetime
    assert decoded == value
    assert decoded.utcoffset() == value.utcoffset()
    assert decoded.replace(tzinfo=None) == value.replace(tzinfo=None)  # same wall time, to the microsecond


@given(_DATETIMES, _OFFSETS)
@example(datetime(2024, 2, 29, 23, 59, 59, 999999), timedelta(0))
@example(datetime(2024, 1, 1), timedelta(hours=5, minutes=30, seconds=15))
@example(datetime(2024, 1, 1, 0, 0, 0, 1), -timedelta(hours=23, minutes=59, seconds=59))
@example(datetime(2024, 1, 1), timedelta(seconds=1))
def test_aware_datetime_round_trips_with_its_offset(wall: datetime, offset: timedelta) -> None:
    value = wall.replace(tzinfo=timezone(offset))
    codec = codec_for(datetime)
    _assert_same_datetime(codec.decode(codec.encode(value)), value)


@given(_DATETIMES, st.builds(timedelta, seconds=st.integers(-86399, 86398), microseconds=st.integers(1, 999999)))
@example(datetime(2024, 1, 1), timedelta(microseconds=1))
@example(datetime(2024, 1, 1), -timedelta(microseconds=500000))
@example(datetime(2024, 1, 1), timedelta(hours=5, seconds=15, microseconds=7))
def test_aware_datetime_keeps_an_offset_with_microseconds(wall: datetime, offset: timedelta) -> None:
    # datetime.timezone accepts offsets with microseconds and isoformat() writes them; the codec
    # promises to keep the offset exactly, so these must come back too.
    value = wall.replace(tzinfo=timezone(offset))
    codec = codec_for(datetime)
    _assert_same_datetime(codec.decode(codec.encode(value)), value)


@given(st.dates())
@example(date(1, 1, 1))
@example(date(9999, 12, 31))
def test_date_round_trips(value: date) -> None:
    codec = codec_for(date)
    decoded = codec.decode(codec.encode(value))
    assert type(decoded) is date
    assert decoded == value


# -- enums and uuids -----------------------------------------------------------------------------

@given(st.sampled_from(Color))
def test_enum_round_trips_by_name(value: Color) -> None:
    codec = codec_for(Color)
    raw = codec.encode(value)
    assert raw == value.name.encode()
    assert codec.decode(raw) is value


def test_enum_alias_is_stored_under_the_canonical_name() -> None:
    codec = codec_for(Color)
    assert codec.encode(Color.CRIMSON) == b"RED"
    assert codec.decode(b"RED") is Color.RED


def test_enum_codec_refuses_unknown_stored_name() -> None:
    with pytest.raises(CodecError, match="not a member of Color"):
        codec_for(Color).decode(b"PURPLE")


@given(st.uuids())
def test_uuid_round_trips(value: uuid.UUID) -> None:
    codec = codec_for(uuid.UUID)
    decoded = codec.decode(codec.encode(value))
    assert type(decoded) is uuid.UUID
    assert decoded == value


# -- optional values -----------------------------------------------------------------------------

@pytest.mark.parametrize("hint", [int | None, Optional[int], None | int])
def test_optional_codec_is_nullable_and_round_trips_values(hint: object) -> None:
    codec = codec_for(hint)
    assert codec.nullable
    assert codec.sort_order == "int"
    assert codec.decode(codec.encode(-12)) == -12
    assert codec.type_name == "int | None"


def test_none_is_never_encoded_and_the_error_says_how_to_allow_it() -> None:
    # None means "no value" (the key or slot is absent), so no codec turns it into bytes.
    with pytest.raises(CodecError, match=r"str \| None"):
        codec_for(str).encode(None)
    with pytest.raises(CodecError):
        codec_for(str | None).encode(None)


@given(st.text())
def test_optional_str_round_trips(value: str) -> None:
    codec = codec_for(str | None)
    assert codec.decode(codec.encode(value)) == value


def test_plain_codecs_are_not_nullable() -> None:
    for hint in (str, bytes, int, float, bool, Decimal, datetime, date, uuid.UUID, Color):
        assert not codec_for(hint).nullable


def test_sort_orders() -> None:
    hints: tuple[object, ...] = (str, bytes, int, float, bool, Decimal, datetime, date, uuid.UUID, Color)
    orders = {hint: codec_for(hint).sort_order for hint in hints}
    assert {h for h, o in orders.items() if o == "int"} == {int, bool}
    assert {h for h, o in orders.items() if o == "float"} == {float}
    assert {h for h, o in orders.items() if o == "decimal"} == {Decimal}  # exact, not through a double
    assert {h for h, o in orders.items() if o == "datetime"} == {datetime}  # by instant
    assert {h for h, o in orders.items() if o == "bytes"} == {str, bytes, date, uuid.UUID, Color}


@pytest.mark.parametrize("hint", [int | str, list[int], dict, object, complex, None])
def test_unsupported_types_are_refused_at_declaration(hint: object) -> None:
    with pytest.raises(ImplementationError, match="unsupported value type"):
        codec_for(hint)


# -- rejections ----------------------------------------------------------------------------------

_NAIVE = datetime(2024, 5, 1, 12, 0)
_AWARE = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("hint", "value", "expected", "got"),
    [
        (int, True, "int", "bool"),
        (int, False, "int", "bool"),
        (int, 1.0, "int", "float"),
        (int, "1", "int", "str"),
        (float, True, "float", "bool"),
        (float, "1.5", "float", "str"),
        (str, 1, "str", "int"),
        (str, b"abc", "str", "bytes"),
        (bytes, "abc", "bytes", "str"),
        (bool, 1, "bool", "int"),
        (Decimal, 1.5, "Decimal", "float"),
        (Decimal, "1.5", "Decimal", "str"),
        (datetime, _AWARE.date(), "datetime", "date"),
        (datetime, "2024-05-01T12:00:00+00:00", "datetime", "str"),
        (date, _AWARE, "date", "datetime"),
        (date, "2024-05-01", "date", "str"),
        (uuid.UUID, str(uuid.UUID(int=1)), "UUID", "str"),
        (Color, 1, "Color", "int"),
        (Color, "RED", "Color", "str"),
        (Color, Shape.RED, "Color", "Shape"),
        (int | None, "1", "int", "str"),
    ],
)
def test_wrong_types_are_refused_with_a_clear_message(hint: object, value: object, expected: str, got: str) -> None:
    codec: Codec[object] = codec_for(hint)
    with pytest.raises(CodecError) as info:
        codec.encode(value)
    message = str(info.value)
    assert f"expected {expected}" in message
    assert got in message
    assert repr(value) in message


def test_naive_datetime_is_refused_with_a_hint() -> None:
    with pytest.raises(CodecError) as info:
        codec_for(datetime).encode(_NAIVE)
    message = str(info.value)
    assert "naive" in message
    assert "tzinfo" in message


# -- index forms -----------------------------------------------------------------------------------

@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
@example(2.0, 2.0)
@example(0.1, 0.1 + 2**-56)
@example(1e16, 1e16 + 2)
@example(5e-324, 0.0)
def test_float_index_forms_meet_exactly_when_the_floats_are_equal(a: float, b: float) -> None:
    # An equality filter finds a stored float through its index form: two floats must share it
    # exactly when they are equal. (0.0 and -0.0 are left to the next test.)
    assume(not (a == 0.0 and b == 0.0))
    codec = codec_for(float)
    assert (codec.indexed(codec.encode(a)) == codec.indexed(codec.encode(b))) == (a == b)


def test_float_index_form_of_negative_zero_is_that_of_zero() -> None:
    # -0.0 == 0.0 in Python: filtering on 0.0 must find a stored -0.0, and a unique float field
    # must not hold both. The stored value itself keeps its sign (see test_float_round_trips).
    codec = codec_for(float)
    assert codec.indexed(codec.encode(-0.0)) == codec.indexed(codec.encode(0.0))


@given(st.integers(-(2**53), 2**53) | st.sampled_from([10**20, -(10**17), 2**60]))
def test_float_index_form_of_an_integral_text_is_that_of_the_float(value: int) -> None:
    # INCRBYFLOAT stores integral results without ".0" ("2", "100000000000000000000"), where the
    # codec writes repr ("2.0", "1e+20"): both must be indexed alike.
    codec = codec_for(float)
    assert codec.indexed(str(value).encode()) == codec.indexed(codec.encode(float(value)))


@pytest.mark.parametrize("hint", [str, bytes, int, bool, Decimal, datetime, date, uuid.UUID, Color])
def test_other_codecs_index_the_stored_bytes_as_they_are(hint: object) -> None:
    codec = codec_for(hint)
    for raw in (b"", b"1", b"1.0", b"\x00abc"):
        assert codec.indexed(raw) == raw


@pytest.mark.parametrize("value", [math.nan, -math.nan])
def test_float_nan_is_refused_because_it_cannot_be_found(value: float) -> None:
    # NaN != NaN: an indexed NaN could never be filtered on, and it breaks every sort order.
    with pytest.raises(CodecError, match="NaN"):
        codec_for(float).encode(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("NaN123")])
def test_decimal_nan_is_refused_because_it_cannot_be_found(value: Decimal) -> None:
    with pytest.raises(CodecError, match="NaN"):
        codec_for(Decimal).encode(value)
