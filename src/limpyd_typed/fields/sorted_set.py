"""SortedSet: unique values ordered by a float score, in a Redis sorted set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TYPE_CHECKING, Generic, Literal, TypeVar, cast, overload

from ..exceptions import InvalidValue
from .. import replies
from ..exceptions import shown
from .base import BoundField, Field

if TYPE_CHECKING:
    from ..model import Model

T = TypeVar("T")
Score = float | str  # a number, or a Redis bound such as "-inf", "(1.5"


def score_text(qualname: str, member: object, score: object) -> bytes:
    """A score as ZADD takes it: a finite number (Redis refuses NaN, and inf cannot be a rank)."""
    try:
        number = float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None
    except OverflowError:
        number = None
    if number is None or number != number:
        raise InvalidValue(f"{qualname}: score of {shown(member)} must be a number, got {shown(score)}")
    return repr(number).encode()


class BoundSortedSet(BoundField[T]):
    """A SortedSet field of one instance; methods are the Redis sorted-set commands."""

    __slots__ = ()

    def _decode_all(self, reply: object) -> list[T]:
        return [self._field.decode(v) for v in replies.bytes_list(reply)]

    def _decode_scored(self, reply: object) -> list[tuple[T, float]]:
        return [(self._field.decode(v), s) for v, s in replies.scored(reply)]

    def _range_args(self, start: int | None, num: int | None) -> list[str | int]:
        if start is None and num is None:
            return []
        if start is None or num is None:
            raise ValueError(f"{self._field.qualname}: give both start and num, or neither")
        return ["LIMIT", start, num]

    def zcard(self) -> int:
        """ZCARD: number of values."""
        return replies.integer(self._read("ZCARD"))

    def zcount(self, min: Score, max: Score) -> int:
        """ZCOUNT: number of values with a score between ``min`` and ``max``."""
        return replies.integer(self._read("ZCOUNT", min, max))

    def zscore(self, value: T) -> float | None:
        """ZSCORE: the score of ``value``, or None."""
        return replies.optional_number(self._read("ZSCORE", self._field.encode(value)))

    def zrank(self, value: T) -> int | None:
        """ZRANK: position of ``value`` by ascending score, or None."""
        return replies.optional_integer(self._read("ZRANK", self._field.encode(value)))

    def zrevrank(self, value: T) -> int | None:
        """ZREVRANK: position of ``value`` by descending score, or None."""
        return replies.optional_integer(self._read("ZREVRANK", self._field.encode(value)))

    @overload
    def zrange(self, start: int = 0, end: int = -1, *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrange(self, start: int = 0, end: int = -1, *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    @overload
    def zrange(self, start: int = 0, end: int = -1, *, withscores: bool) -> list[T] | list[tuple[T, float]]: ...
    def zrange(self, start: int = 0, end: int = -1, *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZRANGE: values between two ranks by ascending score."""
        if withscores:
            return self._decode_scored(self._read("ZRANGE", start, end, "WITHSCORES"))
        return self._decode_all(self._read("ZRANGE", start, end))

    @overload
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    @overload
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: bool) -> list[T] | list[tuple[T, float]]: ...
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZREVRANGE: values between two ranks by descending score."""
        if withscores:
            return self._decode_scored(self._read("ZREVRANGE", start, end, "WITHSCORES"))
        return self._decode_all(self._read("ZREVRANGE", start, end))

    @overload
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    @overload
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: bool) -> list[T] | list[tuple[T, float]]: ...
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZRANGEBYSCORE: values with a score between ``min`` and ``max``, optionally paged."""
        if withscores:
            return self._decode_scored(self._read("ZRANGEBYSCORE", min, max, "WITHSCORES", *self._range_args(start, num)))
        return self._decode_all(self._read("ZRANGEBYSCORE", min, max, *self._range_args(start, num)))

    @overload
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    @overload
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: bool) -> list[T] | list[tuple[T, float]]: ...
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZREVRANGEBYSCORE: values with a score between ``max`` and ``min``, by descending score."""
        if withscores:
            return self._decode_scored(self._read("ZREVRANGEBYSCORE", max, min, "WITHSCORES", *self._range_args(start, num)))
        return self._decode_all(self._read("ZREVRANGEBYSCORE", max, min, *self._range_args(start, num)))

    def zadd(self, scores: Mapping[T, float] | None = None, /, **str_scores: float) -> int:
        """ZADD values with their scores: ``zadd({v: 1.5})``, or ``zadd(foo=2.5)`` on a str field."""
        merged: dict[object, float] = {}
        merged.update(str_scores)
        for value, score in (scores or {}).items():
            merged[value] = score
        args = self._field.values_to_store(merged)
        return self._write_int("ZADD", *args, scope=args[1::2]) if args else 0

    def zincrby(self, value: T, amount: float = 1.0) -> float:
        """ZINCRBY: add ``amount`` to the score of ``value``; returns the new score."""
        member = self._field.encode(value)
        return self._write_float("ZINCRBY", self._float_amount("zincrby", amount), member, scope=[member])

    def zrem(self, *values: T) -> int:
        """ZREM: remove values; returns how many were there."""
        if not values:
            return 0
        members = self._field.encode_many(values)
        return self._write_int("ZREM", *members, scope=members)

    def zremrangebyrank(self, start: int, end: int) -> int:
        """ZREMRANGEBYRANK: remove values between two ranks; returns how many."""
        return self._write_int("ZREMRANGEBYRANK", start, end)

    def zremrangebyscore(self, min: Score, max: Score) -> int:
        """ZREMRANGEBYSCORE: remove values with a score between ``min`` and ``max``."""
        return self._write_int("ZREMRANGEBYSCORE", min, max)


class SortedSet(Field[T, BoundSortedSet[T], Mapping[T, float]], Generic[T]):
    """A Redis sorted set of values with float scores: ``ranking: SortedSet[str]``."""

    kind = "zset"
    bound_class = BoundSortedSet
    replace_command = "ZADD"
    multi = True

    def values_to_store(self, value: object) -> list[bytes]:
        """Score and member pairs, as ZADD takes them."""
        if not isinstance(value, Mapping):
            raise InvalidValue(f"{self.qualname}: expected a mapping of values to scores, got {value!r}")
        out: list[bytes] = []
        for member, score in value.items():
            out += [score_text(self.qualname, member, score), self.encode(member)]
        return out

