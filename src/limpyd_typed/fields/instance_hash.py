"""InstanceHash: one slot of the instance hash, shared by all such fields of an instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast, Generic, TypeVar

from .. import replies
from .base import BoundField, SingleValueField

if TYPE_CHECKING:
    from ..model import Model
    from ..writes import Command

T = TypeVar("T")


class BoundInstanceHash(BoundField[T]):
    """An InstanceHash field of one instance; methods are the Redis hash commands on its slot."""

    __slots__ = ()

    def hget(self) -> T | None:
        """HGET: the value, or None when unset."""
        return self._field.decode_optional(replies.optional_bytes(self._read("HGET", self._field.name)))

    def get(self) -> T | None:
        """The value (HGET), or None when unset; same as ``hget``."""
        return self.hget()

    def hset(self, value: T) -> int:
        """HSET the value (None deletes it, on a ``T | None`` field); 1 if the slot was created, else 0."""
        if value is None and self._field.codec.nullable:
            self.hdel()
            return 0
        return self._write_int("HSET", self._field.name, self._field.encode(value))

    def set(self, value: T) -> int:
        """Same as ``hset``."""
        return self.hset(value)

    def hsetnx(self, value: T) -> int:
        """HSETNX: set the value only if there is none; 1 if it was set."""
        return self._write_int("HSETNX", self._field.name, self._field.encode(value))

    def hincrby(self: BoundInstanceHash[int] | BoundInstanceHash[int | None], amount: int = 1) -> int:
        """HINCRBY: add ``amount`` and return the new value."""
        self._require("hincrby", "int")
        return self._write_int("HINCRBY", self._field.name, self._int_amount("hincrby", amount))

    def hincrbyfloat(
        self: BoundInstanceHash[float] | BoundInstanceHash[float | None], amount: float = 1.0
    ) -> float:
        """HINCRBYFLOAT: add ``amount`` and return the new value."""
        self._require("hincrbyfloat", "float")
        return self._write_float("HINCRBYFLOAT", self._field.name, self._float_amount("hincrbyfloat", amount))

    def hdel(self) -> int:
        """HDEL this slot; 1 if there was a value."""
        return self._write_int("HDEL", self._field.name)

    def delete(self) -> bool:
        """Remove the value (HDEL); True if there was one."""
        return bool(self.hdel())


class InstanceHash(SingleValueField[T, BoundInstanceHash[T], T], Generic[T]):
    """A slot of the instance hash (the seed's InstanceHashField): ``name: InstanceHash[str]``."""

    kind = "islot"
    bound_class = BoundInstanceHash


    def bind(self, model: type[Model[Any]], name: str) -> InstanceHash[T]:
        bound = cast(InstanceHash[T], super().bind(model, name))
        bound.slot = name
        return bound

    def own_key_prefix(self) -> str:
        return self.model._keys.instance_prefix  # every InstanceHash of an instance shares its hash

    def replace_commands(self, key: str, stored: list[bytes]) -> list[Command]:
        return [("HSET", key, self.slot, stored[0])] if stored else [("HDEL", key, self.slot)]

    def assign(self, instance: Model[Any], value: object) -> None:
        BoundInstanceHash(self, instance).hset(cast(T, value))
