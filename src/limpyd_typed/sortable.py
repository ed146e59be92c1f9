"""Order-preserving index entries: bytes whose byte order is the order of the stored values.

A range index (``age >= 30`` answered by ZRANGEBYLEX) needs entries that sort like the values.
``sortable(raw, how)`` turns a value *as stored* (the codec's text, or what INCRBY / INCRBYFLOAT
wrote) into such bytes; the Lua prelude's ``sortable(v, how)`` (scripts/prelude.lua) computes the
very same bytes on the server, so both sides must change together. Equal values (``1.0`` and ``1``,
``Decimal("1.0")`` and ``Decimal("1")``, ``-0.0`` and ``0.0``, one instant at two UTC offsets) give
equal bytes. The result may hold any byte: ``indexes.escape`` keeps order and removes NULs.

Encodings (numbers start with a tag byte: ``<`` below zero, ``=`` zero, ``>`` above zero):

- int: ``=`` for 0; else ``>`` length digits, or ``<`` ~length 9-complemented digits, where length
  is the digit count ``n`` as one byte ``n + 1`` (n <= 253) or ``\\xff`` + 4 bytes big-endian, and
  ``~length`` its byte-wise complement (more digits sort lower below zero).
- float: the IEEE-754 double big-endian, sign bit flipped when positive, all bits flipped when
  negative (``-0.0`` is read as ``0.0``); 8 bytes.
- decimal: value = 0.D x 10**A with D the significant digits (no leading or trailing zeros).
  ``=`` for any zero; ``>`` int(A) D above zero; ``<`` int(-A) 9-complemented D ``:`` below zero
  (the ``:`` ends the digits: a shorter D is a larger negative value); ``?`` +Infinity, ``;``
  -Infinity. ``int(x)`` is the int encoding above: self-delimiting, so A is compared first.
- datetime: the UTC instant as a day number (days since 0000-03-01, 3 bytes) and the microsecond
  of that day (5 bytes), big-endian; 8 bytes.
- date: the ISO text itself (``YYYY-MM-DD`` sorts as dates do), validated.
"""

from __future__ import annotations

import re
import struct
from datetime import date

__all__ = ["HOWS", "sortable"]

HOWS = frozenset({"int", "float", "decimal", "datetime", "date"})

_INT = re.compile(rb"(-?)([1-9][0-9]*)|0")
_NUMBER = re.compile(rb"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?)([0-9]+))?")
_DATETIME = re.compile(
    rb"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{6}))?"
    rb"([+-])([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{6}))?)?"
)
_DATE = re.compile(rb"([0-9]{4})-([0-9]{2})-([0-9]{2})")

_FLIP = bytes.maketrans(b"0123456789", b"9876543210")
# A Decimal exponent longer than this is refused (Python's own limit is 19 digits).
_MAX_EXPONENT_DIGITS = 30
_DAY_US = 86_400_000_000
# date.toordinal() counts from 0001-01-01 = 1; the day numbers count from 0000-03-01 = 0, so that
# an instant in year 0 UTC (0001-01-01T00:00+05:00) still has a non-negative day number.
_ORDINAL_SHIFT = 305


def _invalid(raw: bytes, how: str) -> ValueError:
    shown = raw if len(raw) <= 40 else raw[:40] + b"..."
    return ValueError(f"{shown!r} is not a stored {how} value")


def _length(count: int, negative: bool) -> bytes:
    if count <= 253:
        return bytes([254 - count if negative else count + 1])
    if count > 0xFFFFFFFF:
        raise ValueError(f"{count} digits: too many to index")
    if negative:
        return b"\x00" + (0xFFFFFFFF - count).to_bytes(4, "big")
    return b"\xff" + count.to_bytes(4, "big")


def _signed_digits(negative: bool, digits: bytes) -> bytes:
    """The int encoding of a non-zero integer given as its digits (no leading zero)."""
    if negative:
        return b"<" + _length(len(digits), True) + digits.translate(_FLIP)
    return b">" + _length(len(digits), False) + digits


def _int_of(value: int) -> bytes:
    if value == 0:
        return b"="
    return _signed_digits(value < 0, str(abs(value)).encode())


def _sortable_int(raw: bytes) -> bytes:
    match = _INT.fullmatch(raw)
    if match is None:
        raise _invalid(raw, "int")
    if raw == b"0":
        return b"="
    return _signed_digits(match[1] == b"-", match[2])


def _sortable_float(raw: bytes) -> bytes:
    if raw not in (b"inf", b"-inf") and _NUMBER.fullmatch(raw) is None:
        raise _invalid(raw, "float")
    packed = struct.pack(">d", float(raw) + 0.0)  # + 0.0: -0.0 is 0.0
    if packed[0] & 0x80:
        return bytes(255 - byte for byte in packed)
    return bytes([packed[0] ^ 0x80]) + packed[1:]


def _sortable_decimal(raw: bytes) -> bytes:
    if raw == b"Infinity":
        return b"?"
    if raw == b"-Infinity":
        return b";"
    match = _NUMBER.fullmatch(raw)
    if match is None:
        raise _invalid(raw, "decimal")
    sign, whole, fraction, exp_sign, exp_digits = match.groups()
    fraction = fraction or b""
    exponent_text = (exp_digits or b"0").lstrip(b"0")
    if len(exponent_text) > _MAX_EXPONENT_DIGITS:
        raise _invalid(raw, "decimal")
    significant = (whole + fraction).lstrip(b"0")
    if not significant:
        return b"="
    digits = significant.rstrip(b"0")
    exponent = int(exponent_text or b"0")
    if exp_sign == b"-":
        exponent = -exponent
    # value = significant x 10**(exponent - len(fraction)) = 0.digits x 10**adjusted
    adjusted = exponent + len(significant) - len(fraction)
    if sign == b"-":
        return b"<" + _int_of(-adjusted) + digits.translate(_FLIP) + b":"
    return b">" + _int_of(adjusted) + digits


def _day_number(raw: bytes, how: str, year: bytes, month: bytes, day: bytes) -> int:
    try:
        return date(int(year), int(month), int(day)).toordinal() + _ORDINAL_SHIFT
    except ValueError:
        raise _invalid(raw, how) from None


def _sortable_datetime(raw: bytes) -> bytes:
    match = _DATETIME.fullmatch(raw)
    if match is None:
        raise _invalid(raw, "datetime")
    year, month, day, hour, minute, second, micro, off_sign, off_hour, off_minute, off_second, off_micro = match.groups()
    days = _day_number(raw, "datetime", year, month, day)
    h, m, s, oh, om, os_ = (int(part or b"0") for part in (hour, minute, second, off_hour, off_minute, off_second))
    if h > 23 or m > 59 or s > 59 or oh > 23 or om > 59 or os_ > 59:
        raise _invalid(raw, "datetime")
    offset = ((oh * 60 + om) * 60 + os_) * 1_000_000 + int(off_micro or b"0")
    micros = ((h * 60 + m) * 60 + s) * 1_000_000 + int(micro or b"0")
    micros += offset if off_sign == b"-" else -offset
    if micros < 0:
        days, micros = days - 1, micros + _DAY_US
    elif micros >= _DAY_US:
        days, micros = days + 1, micros - _DAY_US
    return days.to_bytes(3, "big") + micros.to_bytes(5, "big")


def _sortable_date(raw: bytes) -> bytes:
    match = _DATE.fullmatch(raw)
    if match is None:
        raise _invalid(raw, "date")
    _day_number(raw, "date", *match.groups())
    return raw


_ENCODERS = {
    "int": _sortable_int,
    "float": _sortable_float,
    "decimal": _sortable_decimal,
    "datetime": _sortable_datetime,
    "date": _sortable_date,
}


def sortable(raw: bytes, how: str) -> bytes:
    """The order-preserving index entry of a stored value of kind ``how`` (see ``HOWS``).

    Raises ``ValueError`` when ``raw`` is not a value that the codec (or INCRBY, INCRBYFLOAT)
    stores for that kind.
    """
    encoder = _ENCODERS.get(how)
    if encoder is None:
        raise ValueError(f"unknown sortable kind {how!r}: expected one of {', '.join(sorted(HOWS))}")
    return encoder(raw)
