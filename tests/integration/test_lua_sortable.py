"""The Lua prelude's sortable(v, how) returns the very bytes of sortable.sortable(raw, how).

Range indexes are written by the scripts from the values as Redis stores them (INCRBY and
INCRBYFLOAT rewrite them), so both sides must agree byte for byte, and refuse the same texts.
Each example sends a batch of values in one EVAL.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from importlib import resources

import pytest
import redis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from limpyd_typed import Database, replies
from limpyd_typed.codecs import codec_for
from limpyd_typed.sortable import sortable

_PRELUDE = (resources.files("limpyd_typed.scripts") / "prelude.lua").read_text()

# ARGV: value, kind, value, kind...; the reply: for each pair, {1, entry} or {0, error message}.
_BATCH = (
    _PRELUDE
    + "\n"
    + """
local out = {}
for i = 1, #ARGV, 2 do
  local ok, res = pcall(sortable, ARGV[i], ARGV[i + 1])
  out[#out + 1] = {ok and 1 or 0, res}
end
return out
"""
)
_ONE = _PRELUDE + "\n" + "return sortable(ARGV[1], ARGV[2])\n"

_SERVER_TEST = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def _lua(db: Database, items: list[tuple[bytes, str]]) -> list[bytes | None]:
    """The Lua entries of (stored text, kind) pairs; None where Lua refused the text."""
    args: list[bytes | str] = []
    for raw, how in items:
        args += [raw, how]
    reply = db.execute("EVAL", _BATCH, 0, *args)
    assert isinstance(reply, list)
    out: list[bytes | None] = []
    for pair in reply:
        assert isinstance(pair, list)
        ok, res = pair
        out.append(replies.optional_bytes(res) if ok == 1 else None)
    return out


def _python(raw: bytes, how: str) -> bytes | None:
    try:
        return sortable(raw, how)
    except ValueError:
        return None


def _assert_same(db: Database, items: list[tuple[bytes, str]]) -> None:
    expected = [_python(raw, how) for raw, how in items]
    assert _lua(db, items) == expected


def _stored(values: list[object], kind: type, how: str) -> list[tuple[bytes, str]]:
    codec = codec_for(kind)
    return [(codec.encode(v), how) for v in values]


# -- values stored by the codecs ---------------------------------------------------------------

_BIG = 10**4000


@_SERVER_TEST
@given(values=st.lists(st.integers(-1000, 1000) | st.integers(-(2**70), 2**70) | st.integers(-_BIG, _BIG), max_size=20))
@example(values=[0, 1, -1, 2**53 + 1, -(2**63), 10**252, 10**253, -(10**252), -(10**253), 10**4299, -(10**4299)])
def test_ints_like_python(db: Database, values: list[int]) -> None:
    _assert_same(db, _stored(list(values), int, "int"))


@_SERVER_TEST
@given(values=st.lists(st.floats(allow_nan=False), max_size=20))
@example(values=[0.0, -0.0, 5e-324, -5e-324, math.inf, -math.inf, 1.7976931348623157e308, 2.2250738585072014e-308,
                 float(2**53), 0.1, 1e16, 1e22, 1e-5])
def test_floats_like_python(db: Database, values: list[float]) -> None:
    _assert_same(db, _stored(list(values), float, "float"))


@_SERVER_TEST
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=10))
def test_float_texts_like_python(db: Database, values: list[float]) -> None:
    # Other texts of the same floats: %.17g, %.25g, %.17e and, for whole values, INCRBYFLOAT's
    # digits-only form ("2", "100000000000000000000"); all read as the same float, one entry.
    items: list[tuple[bytes, str]] = []
    for value in values:
        texts = ["%.17g" % value, "%.25g" % value, "%.17e" % value]
        if value == int(value):
            texts.append(str(int(value)))
        items += [(t.encode(), "float") for t in texts]
    _assert_same(db, items)
    for (raw, _), lua in zip(items, _lua(db, items)):
        assert lua == sortable(repr(float(raw)).encode(), "float")


@_SERVER_TEST
@given(start=st.floats(-1e20, 1e20), steps=st.lists(st.floats(-1e20, 1e20) | st.integers(-1000, 1000).map(float), max_size=8))
@example(start=0.0, steps=[1.0, 1.5, -2.5, 1e20, -1e20, 0.1, 0.2])
def test_incrbyfloat_results_like_python(db: Database, start: float, steps: list[float]) -> None:
    # What INCRBYFLOAT really writes (its own formatting): Lua and Python index it alike, and like
    # the float it reads as.
    db.execute("SET", "f", repr(start))
    items: list[tuple[bytes, str]] = []
    for step in steps:
        db.execute("INCRBYFLOAT", "f", repr(step))
        items.append((replies.optional_bytes(db.execute("GET", "f")) or b"", "float"))
    _assert_same(db, items)
    for raw, _ in items:
        assert sortable(raw, "float") == sortable(repr(float(raw)).encode(), "float")


@_SERVER_TEST
@given(start=st.integers(-(2**62), 2**62), steps=st.lists(st.integers(-(2**40), 2**40), max_size=8))
def test_incrby_results_like_python(db: Database, start: int, steps: list[int]) -> None:
    db.execute("SET", "i", str(start))
    items: list[tuple[bytes, str]] = []
    for step in steps:
        db.execute("INCRBY", "i", step)
        items.append((replies.optional_bytes(db.execute("GET", "i")) or b"", "int"))
    _assert_same(db, items)


def _decimal(sign: int, digits: list[int], exponent: int) -> Decimal:
    try:
        return Decimal((sign, tuple(digits), exponent))
    except InvalidOperation:
        return Decimal((sign, tuple(digits), 0))


_EXPONENTS = (
    st.integers(-40, 40)
    | st.integers(-(10**17), 10**17)
    | st.sampled_from([999_999_999_999_999_990, -1_999_999_999_999_999_997, -(10**15), 10**15 - 3, 10**15 + 3,
                       -(10**15) + 2, 10**16])
)
_DECIMALS = st.builds(
    _decimal, st.integers(0, 1), st.lists(st.integers(0, 9), min_size=1, max_size=40), _EXPONENTS
) | st.sampled_from([Decimal("Infinity"), Decimal("-Infinity"), Decimal("-0"), Decimal("0E+5"), Decimal("1.0")])


@_SERVER_TEST
@given(values=st.lists(_DECIMALS, max_size=20))
def test_decimals_like_python(db: Database, values: list[Decimal]) -> None:
    _assert_same(db, _stored(list(values), Decimal, "decimal"))


@_SERVER_TEST
@given(texts=st.lists(st.sampled_from(["1", "-1", "0", "00", "1.5", "-0.00", "12.50", "007.100"]).flatmap(
    lambda m: st.sampled_from(["", "E", "e"]).flatmap(
        lambda e: st.sampled_from(["", "+", "-"]).flatmap(
            lambda s: st.integers(0, 10**30).map(lambda n: f"{m}{e}{s}{n}" if e else m)))), max_size=20))
def test_decimal_texts_with_any_exponent_like_python(db: Database, texts: list[str]) -> None:
    # Exponents of up to 30 digits (more than Python's decimal accepts), leading zeros, e or E.
    _assert_same(db, [(t.encode(), "decimal") for t in texts])


_DAY = timedelta(hours=24)
_US = timedelta(microseconds=1)
_ZONES = st.builds(timezone, st.timedeltas(-_DAY + _US, _DAY - _US) | st.sampled_from([timedelta(0), _US, -_US, _DAY - _US]))
_DATETIMES = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999), timezones=_ZONES) | st.datetimes(
    datetime(1, 1, 1), datetime(1, 1, 2), timezones=_ZONES
) | st.datetimes(datetime(9999, 12, 30), datetime(9999, 12, 31, 23, 59, 59, 999999), timezones=_ZONES)


@_SERVER_TEST
@given(values=st.lists(_DATETIMES, max_size=20))
@example(values=[datetime(1, 1, 1, tzinfo=timezone(_DAY - _US)), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(-_DAY + _US)),
                 datetime(2024, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=1))), datetime(2000, 2, 29, tzinfo=timezone.utc)])
def test_datetimes_like_python(db: Database, values: list[datetime]) -> None:
    _assert_same(db, _stored(list(values), datetime, "datetime"))


@_SERVER_TEST
@given(values=st.lists(st.dates(), max_size=20))
@example(values=[date(1, 1, 1), date(9999, 12, 31), date(2000, 2, 29), date(1900, 2, 28)])
def test_dates_like_python(db: Database, values: list[date]) -> None:
    _assert_same(db, _stored(list(values), date, "date"))


# -- texts that are not stored values ------------------------------------------------------------

_ALPHABETS = {
    "int": "0123456789-+. e",
    "float": "0123456789-+.eEinfaxX _",
    "decimal": "0123456789-+.eEInfityNa ",
    "datetime": "0123456789-+:.TZ ",
    "date": "0123456789-TW",
}


@_SERVER_TEST
@given(items=st.lists(st.sampled_from(sorted(_ALPHABETS)).flatmap(
    lambda how: st.text(_ALPHABETS[how], max_size=30).map(lambda t: (t.encode(), how))), max_size=30))
@example(items=[(b"2024-02-30", "date"), (b"2023-02-29T00:00:00+00:00", "datetime"), (b"nan", "float"),
                (b"0x10", "float"), (b" 1", "float"), (b"1\n", "int"), (b"\xd9\xa1", "int"), (b"sNaN", "decimal"),
                (b"2024-01-01T10:00:00+00:00:00.000001", "datetime"), (b"2024-01-01T10:00:00+23:60", "datetime"),
                (b"1", "str"), (b"-0", "int"), (b"1E+" + b"9" * 31, "decimal"), (b"1E+" + b"0" * 40 + b"1", "decimal")])
def test_any_text_is_accepted_or_refused_like_python(db: Database, items: list[tuple[bytes, str]]) -> None:
    # Near-valid texts: both sides give the same entry, or both refuse it.
    _assert_same(db, items)


def test_lua_errors_name_the_value(db: Database) -> None:
    with pytest.raises(redis.ResponseError, match="not a stored int value: '12x'"):
        db.execute("EVAL", _ONE, 0, "12x", "int")
    with pytest.raises(redis.ResponseError, match="not a stored datetime value: '2024-01-01T10:00:00\\?'"):
        db.execute("EVAL", _ONE, 0, "2024-01-01T10:00:00\n", "datetime")
    with pytest.raises(redis.ResponseError, match="unknown sortable kind 'str'"):
        db.execute("EVAL", _ONE, 0, "1", "str")


def test_lua_handles_long_inputs_quickly(db: Database) -> None:
    # Linear work: 4,300-digit ints, a 100,000-digit Decimal full of zeros, a 400-digit float text.
    items = [
        (b"9" * 4300, "int"),
        (b"-" + b"1" + b"0" * 4299, "int"),
        (b"1" + b"0" * 50_000 + b"1" + b"0" * 50_000 + b"E-7", "decimal"),
        (b"-0." + b"0" * 50_000 + b"5" + b"0" * 50_000, "decimal"),
        (b"1" + b"0" * 308 + b".5", "float"),
        (b"1" + b"0" * 400, "float"),
    ]
    _assert_same(db, items)
