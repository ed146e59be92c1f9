"""List: an ordered list of values (duplicates allowed) in a Redis list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TYPE_CHECKING, Generic, Literal, TypeVar, cast, overload

from .. import replies
from .base import BoundField, Field

if TYPE_CHECKING:
    from ..model import Model

T = TypeVar("T")


class BoundList(BoundField[T]):
    """A List field of one instance; methods are the Redis list commands.

    An indexed value stays in the index while at least one copy of it remains in the list.
    """

    __slots__ = ()

    def lrange(self, start: int = 0, end: int = -1) -> list[T]:
        """LRANGE: the values between two positions (inclusive; -1 is the last)."""
        return [self._field.decode(v) for v in replies.bytes_list(self._read("LRANGE", start, end))]

    def lindex(self, index: int) -> T | None:
        """LINDEX: the value at ``index``, or None."""
        return self._field.decode_optional(replies.optional_bytes(self._read("LINDEX", index)))

    def llen(self) -> int:
        """LLEN: number of values."""
        return replies.integer(self._read("LLEN"))

    def lpush(self, *values: T) -> int:
        """LPUSH: prepend values; returns the new length."""
        return self._write_int("LPUSH", *self._field.encode_many(values)) if values else self.llen()

    def rpush(self, *values: T) -> int:
        """RPUSH: append values; returns the new length."""
        return self._write_int("RPUSH", *self._field.encode_many(values)) if values else self.llen()

    def lpushx(self, *values: T) -> int:
        """LPUSHX: prepend only if the list exists; returns the new length."""
        return self._write_int("LPUSHX", *self._field.encode_many(values)) if values else self.llen()

    def rpushx(self, *values: T) -> int:
        """RPUSHX: append only if the list exists; returns the new length."""
        return self._write_int("RPUSHX", *self._field.encode_many(values)) if values else self.llen()

    def linsert(self, where: Literal["BEFORE", "AFTER"], pivot: T, value: T) -> int:
        """LINSERT: insert ``value`` before or after ``pivot``; the new length, or -1 without pivot."""
        if where not in ("BEFORE", "AFTER"):
            raise ValueError(f"{self._field.qualname}.linsert: where must be 'BEFORE' or 'AFTER', got {where!r}")
        return self._write_int("LINSERT", where, self._field.encode(pivot), self._field.encode(value))

    @overload
    def lpop(self) -> T | None: ...
    @overload
    def lpop(self, count: int) -> list[T]: ...
    def lpop(self, count: int | None = None) -> T | None | list[T]:
        """LPOP: remove and return the first value (None if empty), or the first ``count``."""
        return self._pop("LPOP", count)

    @overload
    def rpop(self) -> T | None: ...
    @overload
    def rpop(self, count: int) -> list[T]: ...
    def rpop(self, count: int | None = None) -> T | None | list[T]:
        """RPOP: remove and return the last value (None if empty), or the last ``count``."""
        return self._pop("RPOP", count)

    def _pop(self, command: str, count: int | None) -> T | None | list[T]:
        if count is None:
            return self._field.decode_optional(self._write_raw(command))
        reply = self._write(command, count)
        return [self._field.decode(v) for v in replies.bytes_list(reply)]

    def lrem(self, count: int, value: T) -> int:
        """LREM: remove ``count`` copies of ``value`` (0: all, negative: from the end)."""
        return self._write_int("LREM", count, self._field.encode(value))

    def lset(self, index: int, value: T) -> bool:
        """LSET: replace the value at ``index``."""
        self._write("LSET", index, self._field.encode(value))
        return True

    def ltrim(self, start: int, end: int) -> bool:
        """LTRIM: keep only the values between two positions (inclusive)."""
        self._write("LTRIM", start, end)
        return True


class List(Field[T, BoundList[T], Iterable[T]], Generic[T]):
    """A Redis list of values: ``stuff: List[str] = field(default=())``."""

    kind = "list"
    bound_class = BoundList
    replace_command = "RPUSH"
    multi = True

    def values_to_store(self, value: object) -> list[bytes]:
        return self.encode_many(value)
