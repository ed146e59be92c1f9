"""The one place that turns Python values into Redis bytes and back.

A codec is chosen once per field, at class creation, from the field's type argument. ``encode``
validates: a value of the wrong type raises ``CodecError`` before anything is sent, and the field
turns it into an ``InvalidValue`` naming the model, field and value. Every codec round-trips
exactly: ``decode(encode(v)) == v`` (floats by ``repr``; aware datetimes keep their UTC offset).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

from .exceptions import ImplementationError, shown

T = TypeVar("T")


class CodecError(ValueError):
    """A value that the codec cannot store; the message says why."""


@dataclass(frozen=True, slots=True)
class Codec(Generic[T]):
    """Encodes values of one Python type to bytes and decodes them back."""

    type_name: str
    encoder: typing.Callable[[object], bytes]
    decoder: typing.Callable[[bytes], T]
    # How collections sort stored values: "int" (exact decimal integers), "float" (as numbers),
    # "decimal" and "datetime" (exactly, by value and by instant: sortable.py's encodings), or
    # "bytes" (byte order).
    sort_order: str = "bytes"
    # None is accepted and means "no value" (the key or hash slot is absent).
    nullable: bool = False
    # How the index writes a stored value: "" as it is; "float": its "%.17g" text, which Python and
    # the scripts both compute, so a value written by INCRBYFLOAT ("1") indexes like 1.0 ("1.0").
    index_form: str = ""

    def encode(self, value: object) -> bytes:
        if value is None:
            raise CodecError(f"None is not a {self.type_name}; declare the field as {self.type_name} | None")
        return self.encoder(value)

    def decode(self, raw: bytes) -> T:
        return self.decoder(raw)

    def indexed(self, raw: bytes) -> bytes:
        """The form under which a stored value is indexed (see ``index_form``)."""
        if self.index_form == "float":
            return b"%.17g" % (float(raw) + 0.0)  # + 0.0 turns -0.0 into 0.0, as the scripts do
        return raw


def _reject(value: object, expected: str) -> typing.NoReturn:
    raise CodecError(f"expected {expected}, got {type(value).__name__} {shown(value)}")


def _encode_str(value: object) -> bytes:
    if not isinstance(value, str):
        _reject(value, "str")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CodecError(f"{value!r} is not valid text (lone surrogate at {exc.start}); store it in a bytes field") from None


def _encode_bytes(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        _reject(value, "bytes")
    return bytes(value)


def _encode_int(value: object) -> bytes:
    # bool is an int subclass, but True stored as "1" in an int field is a bug waiting to happen.
    if not isinstance(value, int) or isinstance(value, bool):
        _reject(value, "int")
    try:
        return str(int(value)).encode()
    except ValueError as exc:  # more digits than Python converts to text (sys.get_int_max_str_digits)
        raise CodecError(f"int too large to store: {exc}") from None


def _encode_float(value: object) -> bytes:
    # int is accepted where float is expected, as the type checkers accept it.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _reject(value, "float")
    try:
        number = float(value)
    except OverflowError:
        raise CodecError("int too large for a float") from None
    if number != number:
        raise CodecError("NaN is not equal to itself: it cannot be indexed, sorted or found")
    return repr(number).encode()


def _encode_bool(value: object) -> bytes:
    if not isinstance(value, bool):
        _reject(value, "bool")
    return b"1" if value else b"0"


def _decode_bool(raw: bytes) -> bool:
    if raw not in (b"0", b"1"):
        raise CodecError(f"stored value {raw!r} is not a bool")
    return raw == b"1"


def _encode_decimal(value: object) -> bytes:
    if not isinstance(value, Decimal):
        _reject(value, "Decimal")
    if value.is_nan():
        raise CodecError("NaN is not equal to itself: it cannot be indexed, sorted or found")
    return str(value).encode()


def _decode_decimal(raw: bytes) -> Decimal:
    try:
        return Decimal(raw.decode())
    except InvalidOperation as exc:
        raise CodecError(f"stored value {raw!r} is not a Decimal") from exc


def _encode_datetime(value: object) -> bytes:
    if not isinstance(value, datetime):
        _reject(value, "datetime")
    # A naive datetime has no meaning across machines; we refuse it rather than guess a zone.
    if value.tzinfo is None or value.utcoffset() is None:
        raise CodecError(f"naive datetime {value!r}: give it a tzinfo (for example datetime.timezone.utc)")
    return value.isoformat().encode()


def _decode_datetime(raw: bytes) -> datetime:
    # Python 3.11's fromisoformat drops the fraction of a second of a UTC offset
    # ("+00:00:00.000001" reads as UTC), so the offset is parsed here.
    text = raw.decode()
    cut = max(text.rfind("+"), text.rfind("-"))
    if cut <= text.find("T"):
        return datetime.fromisoformat(text)
    sign = -1 if text[cut] == "-" else 1
    hours, minutes, *rest = text[cut + 1 :].split(":")
    seconds = float(rest[0]) if rest else 0.0
    micro = round(seconds * 1_000_000)
    offset = timedelta(hours=int(hours), minutes=int(minutes), microseconds=micro)
    return datetime.fromisoformat(text[:cut]).replace(tzinfo=timezone(sign * offset))


def _encode_date(value: object) -> bytes:
    if not isinstance(value, date) or isinstance(value, datetime):
        _reject(value, "date")
    return value.isoformat().encode()


def _encode_uuid(value: object) -> bytes:
    if not isinstance(value, uuid.UUID):
        _reject(value, "UUID")
    return str(value).encode()


def _enum_codec(enum_type: type[enum.Enum]) -> Codec[enum.Enum]:
    # Members are stored by name: names are identifiers, stable and independent of the value type.
    def encode(value: object) -> bytes:
        if not isinstance(value, enum_type):
            _reject(value, enum_type.__name__)
        return value.name.encode()

    def decode(raw: bytes) -> enum.Enum:
        try:
            return enum_type[raw.decode()]
        except KeyError as exc:
            raise CodecError(f"stored value {raw!r} is not a member of {enum_type.__name__}") from exc

    return Codec(enum_type.__name__, encode, decode)


# A value of a type some codec encodes: what a relation accepts as the pk of its target, in place
# of the instance (the target's own codec checks the exact type at run time).
Scalar: typing.TypeAlias = str | bytes | int | float | Decimal | datetime | date | uuid.UUID | enum.Enum

# Decoders are builtins where one does the job (bytes.decode is UTF-8 and strict; int and float
# read the digits of bytes): a collection maps them over a whole column of results, at C speed.
_SIMPLE: dict[type, Codec[typing.Any]] = {
    str: Codec("str", _encode_str, bytes.decode),
    bytes: Codec("bytes", _encode_bytes, bytes),
    int: Codec("int", _encode_int, int, sort_order="int"),
    float: Codec("float", _encode_float, float, sort_order="float", index_form="float"),
    bool: Codec("bool", _encode_bool, _decode_bool, sort_order="int"),
    Decimal: Codec("Decimal", _encode_decimal, _decode_decimal, sort_order="decimal"),
    datetime: Codec("datetime", _encode_datetime, _decode_datetime, sort_order="datetime"),
    date: Codec("date", _encode_date, lambda raw: date.fromisoformat(raw.decode())),
    uuid.UUID: Codec("UUID", _encode_uuid, lambda raw: uuid.UUID(raw.decode())),
}


def codec_for(hint: object) -> Codec[typing.Any]:
    """The codec of a field's type argument (``int``, ``str | None``, an Enum class...)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            raise ImplementationError(f"unsupported value type {hint!r}: a field holds one type, optionally | None")
        inner = codec_for(members[0])
        if inner.nullable:
            return inner
        return dataclasses.replace(inner, type_name=f"{inner.type_name} | None", nullable=True)
    if isinstance(hint, type):
        if issubclass(hint, enum.Flag):
            raise ImplementationError(f"{hint.__name__} is a Flag: combined members have no name; store them in a Set field")
        if issubclass(hint, enum.Enum):
            return _enum_codec(hint)
        codec = _SIMPLE.get(hint)
        if codec is not None:
            return codec
    supported = ", ".join(sorted(c.type_name for c in _SIMPLE.values()))
    raise ImplementationError(f"unsupported value type {hint!r}: use one of {supported}, an Enum, or X | None")
