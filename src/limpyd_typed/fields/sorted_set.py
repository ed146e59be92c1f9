"""SortedSet: unique values ordered by a float score, in a Redis sorted set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, Literal, TypeVar, overload

from ..exceptions import InvalidValue
from .base import BoundField, Field

T = TypeVar("T")
Score = float | str  # a number, or a Redis bound such as "-inf", "(1.5"


class BoundSortedSet(BoundField[T]):
    """A SortedSet field of one instance; methods are the Redis sorted-set commands."""

    __slots__ = ()

    def _decode_all(self, raw: list[bytes]) -> list[T]:
        return [self._field.decode(v) for v in raw]

    def _decode_scored(self, raw: list[tuple[bytes, float]]) -> list[tuple[T, float]]:
        return [(self._field.decode(v), float(s)) for v, s in raw]

    def zcard(self) -> int:
        """ZCARD: number of values."""
        return int(self._redis.zcard(self.key))

    def zcount(self, min: Score, max: Score) -> int:
        """ZCOUNT: number of values with a score between ``min`` and ``max``."""
        return int(self._redis.zcount(self.key, min, max))

    def zscore(self, value: T) -> float | None:
        """ZSCORE: the score of ``value``, or None."""
        score = self._redis.zscore(self.key, self._field.encode(value))
        return None if score is None else float(score)

    def zrank(self, value: T) -> int | None:
        """ZRANK: position of ``value`` by ascending score, or None."""
        rank = self._redis.zrank(self.key, self._field.encode(value))
        return None if rank is None else int(rank)

    def zrevrank(self, value: T) -> int | None:
        """ZREVRANK: position of ``value`` by descending score, or None."""
        rank = self._redis.zrevrank(self.key, self._field.encode(value))
        return None if rank is None else int(rank)

    @overload
    def zrange(self, start: int = 0, end: int = -1, *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrange(self, start: int = 0, end: int = -1, *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    def zrange(self, start: int = 0, end: int = -1, *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZRANGE: values between two ranks by ascending score."""
        if withscores:
            return self._decode_scored(self._redis.zrange(self.key, start, end, withscores=True))
        return self._decode_all(self._redis.zrange(self.key, start, end))

    @overload
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    def zrevrange(self, start: int = 0, end: int = -1, *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZREVRANGE: values between two ranks by descending score."""
        if withscores:
            return self._decode_scored(self._redis.zrevrange(self.key, start, end, withscores=True))
        return self._decode_all(self._redis.zrevrange(self.key, start, end))

    @overload
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    def zrangebyscore(self, min: Score, max: Score, start: int | None = None, num: int | None = None,
                      *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZRANGEBYSCORE: values with a score between ``min`` and ``max``, optionally paged."""
        if withscores:
            return self._decode_scored(self._redis.zrangebyscore(self.key, min, max, start, num, withscores=True))
        return self._decode_all(self._redis.zrangebyscore(self.key, min, max, start, num))

    @overload
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: Literal[False] = False) -> list[T]: ...
    @overload
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: Literal[True]) -> list[tuple[T, float]]: ...
    def zrevrangebyscore(self, max: Score, min: Score, start: int | None = None, num: int | None = None,
                         *, withscores: bool = False) -> list[T] | list[tuple[T, float]]:
        """ZREVRANGEBYSCORE: values with a score between ``max`` and ``min``, by descending score."""
        if withscores:
            return self._decode_scored(self._redis.zrevrangebyscore(self.key, max, min, start, num, withscores=True))
        return self._decode_all(self._redis.zrevrangebyscore(self.key, max, min, start, num))

    def zadd(self, scores: Mapping[T, float] | None = None, /, **str_scores: float) -> int:
        """ZADD values with their scores: ``zadd({v: 1.5})``, or ``zadd(foo=2.5)`` on a str field."""
        args = self._field.values_to_store({**(scores or {}), **str_scores})  # type: ignore[attr-defined]
        return self._write_int("ZADD", *args) if args else 0

    def zincrby(self, value: T, amount: float = 1.0) -> float:
        """ZINCRBY: add ``amount`` to the score of ``value``; returns the new score."""
        return float(self._write_raw("ZINCRBY", repr(float(amount)), self._field.encode(value)) or 0)

    def zrem(self, *values: T) -> int:
        """ZREM: remove values; returns how many were there."""
        return self._write_int("ZREM", *self._field.encode_many(values)) if values else 0

    def zremrangebyrank(self, start: int, end: int) -> int:
        """ZREMRANGEBYRANK: remove values between two ranks; returns how many."""
        return self._write_int("ZREMRANGEBYRANK", start, end)

    def zremrangebyscore(self, min: Score, max: Score) -> int:
        """ZREMRANGEBYSCORE: remove values with a score between ``min`` and ``max``."""
        return self._write_int("ZREMRANGEBYSCORE", min, max)


class SortedSet(Field[T, BoundSortedSet[T]], Generic[T]):
    """A Redis sorted set of values with float scores: ``ranking: SortedSet[str]``."""

    kind = "zset"
    bound_class = BoundSortedSet
    multi = True

    def values_to_store(self, value: object) -> list[bytes]:
        """Score and member pairs, as ZADD takes them."""
        if not isinstance(value, Mapping):
            raise InvalidValue(f"{self.qualname}: expected a mapping of values to scores, got {value!r}")
        out: list[bytes] = []
        for member, score in value.items():
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise InvalidValue(f"{self.qualname}: score of {member!r} must be a number, got {score!r}")
            out += [repr(float(score)).encode(), self.encode(member)]
        return out


    def __set__(self, instance: object, value: Mapping[T, float]) -> None:
        BoundSortedSet(self, instance)._write_replace("ZADD", self.values_to_store(value))  # type: ignore[arg-type]
