"""String: a field stored in a Redis string of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast, Generic, overload, TypeVar

from .. import replies
from .base import BoundField, SingleValueField

if TYPE_CHECKING:
    from ..model import Model
    from ..writes import Command

T = TypeVar("T")


class BoundString(BoundField[T]):
    """A String field of one instance; methods are the Redis string commands."""

    __slots__ = ()

    def get(self) -> T | None:
        """GET: the value, or None when unset."""
        return self._field.decode_optional(replies.optional_bytes(self._read("GET")))

    def set(self, value: T) -> bool:
        """SET the value (None deletes it, on a ``T | None`` field)."""
        if value is None and self._field.codec.nullable:
            self.delete()
            return True
        self._write("SET", self._field.encode(value))
        return True

    def setnx(self, value: T) -> bool:
        """SETNX: set the value only if there is none; True if it was set."""
        return bool(self._write("SETNX", self._field.encode(value)))

    def getset(self, value: T) -> T | None:
        """GETSET: set the value, return the previous one."""
        return self._field.decode_optional(self._write_raw("GETSET", self._field.encode(value)))

    def strlen(self) -> int:
        """STRLEN: length of the stored bytes."""
        return replies.integer(self._read("STRLEN"))

    def getrange(self: BoundString[str] | BoundString[bytes] | BoundString[str | None] | BoundString[bytes | None],
                 start: int, end: int) -> bytes:
        """GETRANGE: the stored bytes between two offsets (inclusive)."""
        self._require("getrange", "str", "bytes")
        return replies.optional_bytes(self._read("GETRANGE", start, end)) or b""

    @overload
    def append(self: BoundString[str] | BoundString[str | None], value: str) -> int: ...
    @overload
    def append(self: BoundString[bytes] | BoundString[bytes | None], value: bytes) -> int: ...
    def append(self: BoundString[str] | BoundString[bytes] | BoundString[str | None] | BoundString[bytes | None],
               value: str | bytes) -> int:
        """APPEND text to a str field, bytes to a bytes field; returns the new length in bytes."""
        self._require("append", "str", "bytes")
        return self._write_int("APPEND", self._field.encode(value))  # InvalidValue before any write

    def setrange(self: BoundString[bytes] | BoundString[bytes | None], offset: int, value: bytes) -> int:
        """SETRANGE: overwrite part of the bytes from ``offset``; returns the new length.

        Bytes fields only: on text it could cut a UTF-8 character in two.
        """
        self._require("setrange", "bytes")
        return self._write_int("SETRANGE", offset, self._field.encode(value))

    def incr(self: BoundString[int] | BoundString[int | None], amount: int = 1) -> int:
        """INCRBY: add ``amount`` and return the new value."""
        self._require("incr", "int")
        return self._write_int("INCRBY", self._int_amount("incr", amount))

    def decr(self: BoundString[int] | BoundString[int | None], amount: int = 1) -> int:
        """DECRBY: subtract ``amount`` and return the new value."""
        self._require("decr", "int")
        return self._write_int("DECRBY", self._int_amount("decr", amount))

    def incrbyfloat(self: BoundString[float] | BoundString[float | None], amount: float = 1.0) -> float:
        """INCRBYFLOAT: add ``amount`` and return the new value."""
        self._require("incrbyfloat", "float")
        return self._write_float("INCRBYFLOAT", self._float_amount("incrbyfloat", amount))

    def getbit(self, offset: int) -> int:
        """GETBIT: the bit at ``offset`` of the stored bytes."""
        return replies.integer(self._read("GETBIT", offset))

    def setbit(self: BoundString[bytes] | BoundString[bytes | None], offset: int, value: int) -> int:
        """SETBIT on the stored bytes; returns the previous bit."""
        self._require("setbit", "bytes")
        return self._write_int("SETBIT", offset, 1 if value else 0)

    def bitcount(self, start: int | None = None, end: int | None = None) -> int:
        """BITCOUNT: number of set bits, optionally between two byte offsets."""
        if start is None or end is None:
            return replies.integer(self._read("BITCOUNT"))
        return replies.integer(self._read("BITCOUNT", start, end))


class String(SingleValueField[T, BoundString[T], T], Generic[T]):
    """A field in a Redis string of its own: ``wheels: String[int] = field(default=2)``."""

    kind = "string"
    bound_class = BoundString


    def replace_commands(self, key: str, stored: list[bytes]) -> list[Command]:
        return [("SET", key, stored[0])] if stored else [("DEL", key)]

    def assign(self, instance: Model[Any], value: object) -> None:
        BoundString(self, instance).set(cast(T, value))
