"""Set: an unordered set of unique values in a Redis set."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TYPE_CHECKING, Generic, TypeVar, cast, overload

from .. import replies
from .base import BoundField, Field

if TYPE_CHECKING:
    from ..model import Model

T = TypeVar("T")


class BoundSet(BoundField[T]):
    """A Set field of one instance; methods are the Redis set commands."""

    __slots__ = ()

    def smembers(self) -> set[T]:
        """SMEMBERS: every value."""
        return {self._field.decode(v) for v in replies.bytes_list(self._read("SMEMBERS"))}

    def scard(self) -> int:
        """SCARD: number of values."""
        return replies.integer(self._read("SCARD"))

    def sismember(self, value: T) -> bool:
        """SISMEMBER: whether ``value`` is in the set."""
        return bool(replies.integer(self._read("SISMEMBER", self._field.encode(value))))

    @overload
    def srandmember(self) -> T | None: ...
    @overload
    def srandmember(self, count: int) -> list[T]: ...
    def srandmember(self, count: int | None = None) -> T | None | list[T]:
        """SRANDMEMBER: one random value (None if empty), or ``count`` of them."""
        if count is None:
            return self._field.decode_optional(replies.optional_bytes(self._read("SRANDMEMBER")))
        return [self._field.decode(v) for v in replies.bytes_list(self._read("SRANDMEMBER", count))]

    def sadd(self, *values: T) -> int:
        """SADD: add values; returns how many were new."""
        if not values:
            return 0
        members = self._field.encode_many(values)
        return self._write_int("SADD", *members, scope=members)

    def srem(self, *values: T) -> int:
        """SREM: remove values; returns how many were there."""
        if not values:
            return 0
        members = self._field.encode_many(values)
        return self._write_int("SREM", *members, scope=members)

    @overload
    def spop(self) -> T | None: ...
    @overload
    def spop(self, count: int) -> list[T]: ...
    def spop(self, count: int | None = None) -> T | None | list[T]:
        """SPOP: remove and return a random value (None if empty), or ``count`` of them."""
        if count is None:
            return self._field.decode_optional(self._write_raw("SPOP"))
        reply = self._write("SPOP", count)
        return [self._field.decode(v) for v in replies.bytes_list(reply)]


class Set(Field[T, BoundSet[T], Iterable[T]], Generic[T]):
    """A Redis set of values: ``tags: Set[str] = field(indexable=True, default=())``."""

    kind = "set"
    bound_class = BoundSet
    replace_command = "SADD"
    multi = True

    def values_to_store(self, value: object) -> list[bytes]:
        return sorted(set(self.encode_many(value)))
