"""Hash: a dict field in a Redis hash of its own (str sub-keys, values of type T)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TYPE_CHECKING, Generic, TypeVar, cast

from ..exceptions import InvalidValue
from .. import replies
from ..exceptions import shown
from .base import BoundField, Field

if TYPE_CHECKING:
    from ..model import Model

T = TypeVar("T")


def sub_key_bytes(qualname: str, key: object) -> bytes:
    """A Hash sub-key as stored: UTF-8 text."""
    if not isinstance(key, str):
        raise InvalidValue(f"{qualname}: sub-keys are str, got {shown(key)}")
    try:
        return key.encode()
    except UnicodeEncodeError:
        raise InvalidValue(f"{qualname}: sub-key {shown(key)} is not valid text (lone surrogate)") from None


class BoundHash(BoundField[T]):
    """A Hash field of one instance; methods are the Redis hash commands."""

    __slots__ = ()

    def _sub_key(self, key: str) -> bytes:
        return sub_key_bytes(self._field.qualname, key)

    def hget(self, key: str) -> T | None:
        """HGET: the value at ``key``, or None."""
        return self._field.decode_optional(replies.optional_bytes(self._read("HGET", self._sub_key(key))))

    def hgetall(self) -> dict[str, T]:
        """HGETALL: the whole dict."""
        raw = replies.mapping(self._read("HGETALL"))
        return {k.decode(): self._field.decode(v) for k, v in raw.items()}

    def hmget(self, *keys: str) -> list[T | None]:
        """HMGET: the values at ``keys``, None where missing."""
        if not keys:
            return []
        raw = replies.optional_bytes_list(self._read("HMGET", *[self._sub_key(k) for k in keys]))
        return [self._field.decode_optional(v) for v in raw]

    def hkeys(self) -> list[str]:
        """HKEYS: the sub-keys."""
        return [k.decode() for k in replies.bytes_list(self._read("HKEYS"))]

    def hvals(self) -> list[T]:
        """HVALS: the values."""
        return [self._field.decode(v) for v in replies.bytes_list(self._read("HVALS"))]

    def hexists(self, key: str) -> bool:
        """HEXISTS: whether ``key`` has a value."""
        return bool(replies.integer(self._read("HEXISTS", self._sub_key(key))))

    def hlen(self) -> int:
        """HLEN: number of sub-keys."""
        return replies.integer(self._read("HLEN"))

    def hset(self, key: str, value: T) -> int:
        """HSET one sub-key; 1 if it was created."""
        sub_key = self._sub_key(key)
        return self._write_int("HSET", sub_key, self._field.encode(value), scope=[sub_key])

    def hmset(self, values: Mapping[str, T] | None = None, /, **kwargs: T) -> bool:
        """Set several sub-keys at once (HSET key k v ...): ``hmset({"from": x})`` or ``hmset(to=y)``."""
        items = {**(values or {}), **kwargs}
        if not items:
            return True
        args: list[bytes] = []
        for k, v in items.items():
            args += [self._sub_key(k), self._field.encode(v)]
        self._write("HSET", *args, scope=args[::2])
        return True

    def hsetnx(self, key: str, value: T) -> int:
        """HSETNX: set ``key`` only if it has no value; 1 if it was set."""
        sub_key = self._sub_key(key)
        return self._write_int("HSETNX", sub_key, self._field.encode(value), scope=[sub_key])

    def hincrby(self: BoundHash[int], key: str, amount: int = 1) -> int:
        """HINCRBY: add ``amount`` to ``key``; returns the new value."""
        self._require("hincrby", "int")
        sub_key = self._sub_key(key)
        return self._write_int("HINCRBY", sub_key, self._int_amount("hincrby", amount), scope=[sub_key])

    def hincrbyfloat(self: BoundHash[float], key: str, amount: float = 1.0) -> float:
        """HINCRBYFLOAT: add ``amount`` to ``key``; returns the new value."""
        self._require("hincrbyfloat", "float")
        sub_key = self._sub_key(key)
        return self._write_float("HINCRBYFLOAT", sub_key, self._float_amount("hincrbyfloat", amount), scope=[sub_key])

    def hdel(self, *keys: str) -> int:
        """HDEL: remove sub-keys; returns how many existed."""
        if not keys:
            return 0
        sub_keys = [self._sub_key(k) for k in keys]
        return self._write_int("HDEL", *sub_keys, scope=sub_keys)


class Hash(Field[T, BoundHash[T], Mapping[str, T]], Generic[T]):
    """A dict field (the seed's HashField): ``headers: Hash[str]``; indexable, never unique."""

    kind = "hash"
    bound_class = BoundHash
    replace_command = "HSET"
    multi = True
    can_be_unique = False

    def values_to_store(self, value: object) -> list[bytes]:
        if not isinstance(value, Mapping):
            raise InvalidValue(f"{self.qualname}: expected a mapping of str to values, got {value!r}")
        out: list[bytes] = []
        for k, v in value.items():
            out += [sub_key_bytes(self.qualname, k), self.encode(v)]
        return out


