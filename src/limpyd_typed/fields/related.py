"""Relations: FK[M] (one related instance) and M2M[M] (many: a set, list or sorted set of pks).

A relation field stores the related instances' pks, encoded by the target's pk codec, and is
always indexed: the reverse collections (``person.group_set()``) and deletion propagation read
that index. The target is given by the annotation (``FK[Person]``), or as a string ('Person',
'namespace:Person', 'self') resolved once the target class exists (see relations.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, cast, get_args, overload

from typing_extensions import TypeVar

from .. import replies
from ..codecs import Codec, CodecError, Scalar
from ..database import one_place
from ..exceptions import ImplementationError, InvalidValue, shown
from .base import MISSING, BoundField, Field, FieldOptions
from .list import BoundList
from .set import BoundSet
from .sorted_set import BoundSortedSet, score_text

if TYPE_CHECKING:
    from ..expressions import Condition, FKAttr, RelationAttr
    from ..model import Model
    from ..query import Collection
    from ..writes import Command

M = TypeVar("M", bound="Model[Any]")
M_co = TypeVar("M_co", bound="Model[Any]", covariant=True)
P = TypeVar("P")
B = TypeVar("B")
V = TypeVar("V")
O = TypeVar("O")  # the model a relation field is declared on

OnDelete = Literal["set_null", "cascade", "protect"]
_ON_DELETE: tuple[str, ...] = get_args(OnDelete)


@dataclass(frozen=True, slots=True)
class RelationOptions:
    """What ``relation(...)`` says beyond ``field(...)``."""

    to: str | type[Any] | None = None
    related_name: str | None = None
    on_delete: OnDelete = "set_null"
    store: Literal["hash", "string"] = "hash"


def relation(
    *,
    to: str | type[Any] | None = None,
    related_name: str | None = None,
    on_delete: OnDelete = "set_null",
    store: Literal["hash", "string"] = "hash",
    default: object = MISSING,
    unique: bool = False,
) -> Any:  # Any on purpose (PEP 681): the annotation gives the field its type.
    """Options of a relation field: ``owner: FK[Person] = relation(related_name="owned_groups")``.

    ``to`` names the target when the annotation cannot (a model name, 'namespace:Name' or
    'self'); ``related_name`` is the reverse accessor on the target (default ``<model>_set``;
    ``%(model)s`` and ``%(namespace)s`` are replaced, for abstract bases); ``on_delete`` says what
    deleting a target does to the instances pointing to it: ``"set_null"`` (an FK becomes None,
    an M2M loses the pk), ``"cascade"`` (they are deleted too) or ``"protect"`` (the delete is
    refused). ``store="string"`` keeps an FK in a key of its own instead of the instance hash.
    """
    return FieldOptions(default=default, indexable=True, unique=unique,
                        relation=RelationOptions(to, related_name, on_delete, store))


class RelationField(Field["Scalar | None", B, V], Generic[B, V]):
    """What FK and M2M share: the target, its pk codec, the reverse name, on_delete."""

    def __init__(self, value_type: object, options: FieldOptions) -> None:
        self.rel = options.relation or RelationOptions()
        # The annotation's target (a class, or a name when it was a forward reference), unless
        # relation(to=...) names it.
        self.target_spec: str | type[Any] = self.rel.to if self.rel.to is not None else cast("str | type[Any]", value_type)
        self._target: type[Model[Any]] | None = None
        super().__init__(str, replace(options, indexable=True, index=None))
        self.codec = self.own_codec()

    if not TYPE_CHECKING:  # typed by each concrete class (FK, M2M...), which knows its target

        def __get__(self, instance, owner):
            if instance is None:
                from ..expressions import FKAttr, RelationAttr

                return RelationAttr(self) if self.multi else FKAttr(self)
            return super().__get__(instance, owner)

    def check_declaration(self) -> None:
        # Here rather than in __init__: once bound, the errors can name the model and field.
        if self.rel.on_delete not in _ON_DELETE:
            raise self.implementation_error(f"has on_delete={self.rel.on_delete!r}: use one of {', '.join(_ON_DELETE)}")
        if self.multi and self.rel.store != "hash":
            raise self.implementation_error(f"has store={self.rel.store!r}: an M2M is always one structure of its own")
        if self.rel.store not in ("hash", "string"):
            raise self.implementation_error(f"has store={self.rel.store!r}: use 'hash' (a slot of the instance hash) "
                                            f"or 'string' (a key of its own)")
        super().check_declaration()

    def can_encode_default(self) -> bool:
        # A target named before it is defined: its pk type is unknown until it is (relations.register
        # encodes the default then).
        from ..relations import _find

        target = self._target or _find(self)
        # "self": the model is still being built (no pk field yet) until relations.register runs.
        return target is not None and target is not self.model

    def own_codec(self) -> Codec[object]:
        # Bound to this very field object: bind() gives each model's copy its own.
        return Codec("pk of " + self._target_label(), self._encode_target, self._decode_target, nullable=not self.multi)

    def _target_label(self) -> str:
        spec = self.target_spec
        return spec if isinstance(spec, str) else spec.__name__

    @property
    def target(self) -> type[Model[Any]]:
        """The related model (resolved on first use when it was named by a string)."""
        if self._target is None:
            from ..relations import resolve_target

            self._target = resolve_target(self)
        return self._target

    def _encode_target(self, value: object) -> bytes:
        from ..model import Model

        target = self.target
        if not one_place(getattr(target, "database", None), getattr(self.model, "database", None)):
            raise CodecError(f"{target.__name__} is hosted on another database: a relation stays within one "
                             f"database (its deletes propagate in one script)")
        if isinstance(value, Model):
            if type(value) is not target:  # a subclass's pks are its own: not instances of the target
                raise CodecError(f"expected {_a(target.__name__)} or its pk, got {_a(type(value).__name__)}")
            return value._pk_bytes
        try:
            return target._encode_pk(value)
        except InvalidValue:
            raise CodecError(f"expected {_a(target.__name__)} or its pk, got {shown(value)}") from None

    def encode(self, value: object) -> bytes:
        if value is None and self.multi:
            raise InvalidValue(f"{self.qualname}: invalid value None: give {self._target_label()} instances or their pks")
        return super().encode(value)

    def _decode_target(self, raw: bytes) -> object:
        return self.target._decode_pk(raw)

    def bind(self, model: type[Model[Any]], name: str) -> RelationField[B, V]:
        bound = cast("RelationField[B, V]", super().bind(model, name))
        if bound.target_spec == "self":
            bound._target = model
        return bound

    def instances_of(self, raws: Iterable[bytes]) -> list[Any]:
        target = self.target
        return [target._from_stored_pk(raw) for raw in raws]


class BoundRelation(BoundField[object], Generic[M_co]):
    """What a relation of one instance can do beyond its Redis commands."""

    __slots__ = ()
    _field: RelationField[Any, Any]


class BoundFK(BoundRelation[M_co]):
    """An FK of one instance: the related pk (``get``), the related instance (``instance``)."""

    __slots__ = ()

    def _raw(self) -> bytes | None:
        if self._field.kind == "islot":
            return replies.optional_bytes(self._read("HGET", self._field.slot))
        return replies.optional_bytes(self._read("GET"))

    def get(self: BoundFK[Model[P]]) -> P | None:
        """The related instance's pk, or None."""
        raw = self._raw()
        return None if raw is None else cast(P, self._field.decode(raw))

    def instance(self) -> M_co | None:
        """The related instance, or None (no check that it still exists: deletes keep FKs exact)."""
        raw = self._raw()
        return None if raw is None else cast(M_co, self._field.target._from_stored_pk(raw))

    def set(self: BoundFK[Model[P]], value: M_co | P | None) -> None:
        """Point to ``value`` (an instance of the target, or its pk); None unsets."""
        self._field.assign(self._instance, value)

    def hget(self: BoundFK[Model[P]]) -> P | None:
        """Same as ``get`` (the seed's FKInstanceHashField name)."""
        return self.get()

    def hset(self: BoundFK[Model[P]], value: M_co | P | None) -> None:
        """Same as ``set`` (the seed's FKInstanceHashField name)."""
        self.set(value)


class FK(RelationField[BoundFK[M], "M | Scalar | None"], Generic[M]):
    """A foreign key to one ``M`` instance: ``owner: FK[Person]`` (None when unset)."""

    kind = "islot"
    bound_class = BoundFK

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[O]) -> FKAttr[O, M]: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> BoundFK[M]: ...
        def __get__(self, instance: object | None, owner: type[Any]) -> FKAttr[Any, M] | BoundFK[M]: ...

    def bind(self, model: type[Model[Any]], name: str) -> RelationField[BoundFK[M], M | Scalar | None]:
        bound = super().bind(model, name)
        if self.rel.store == "string":
            setattr(bound, "kind", "string")  # noqa: B010 - kind is a class default, overridden per field
        else:
            bound.key_prefix = model._keys.instance_prefix
            bound.slot = name
        return bound

    def replace_commands(self, key: str, stored: list[bytes]) -> list[Command]:
        if self.kind == "string":
            return [("SET", key, stored[0])] if stored else [("DEL", key)]
        return [("HSET", key, self.slot, stored[0])] if stored else [("HDEL", key, self.slot)]

    def assign(self, instance: Model[Any], value: object) -> None:
        from ..writes import write_fields

        key = self.key_prefix + instance._pk_key
        write_fields(instance, [self], self.replace_commands(key, self.values_to_store(value)))


class BoundM2M(BoundRelation[M_co]):
    """What every M2M of one instance does; calling it (or ``collection()``) gives the related
    instances' collection, which can be filtered like any other."""

    __slots__ = ()

    def _raw_pks(self) -> list[bytes]:
        if self._field.kind == "set":
            return replies.bytes_list(self._read("SMEMBERS"))
        return replies.bytes_list(self._read("LRANGE" if self._field.kind == "list" else "ZRANGE", 0, -1))

    def pks(self: BoundM2M[Model[P]]) -> list[P]:
        """The related pks (in the structure's order: a list's or a sorted set's)."""
        return [cast(P, self._field.decode(raw)) for raw in self._raw_pks()]

    def instances(self) -> list[M_co]:
        """The related instances, in the structure's order."""
        return cast("list[M_co]", self._field.instances_of(self._raw_pks()))

    def collection(self: BoundM2M[Model[P]], *conditions: Condition[M_co], **filters: object) -> Collection[M_co, P, P]:
        """A collection of the related instances (their pks), filtered as ``filter()`` does; chain
        ``.filter()``, ``.sort()``, ``.instances()`` as on any collection."""
        target = self._field.target
        if not one_place(getattr(target, "database", None), self._instance.database):
            # The query runs on the target's database: this field's key is not there.
            raise ImplementationError(f"{self._field.qualname}: {target.__name__} is hosted on another database: "
                                      f"a relation stays within one database")
        collection = target.collection().filter(*conditions, **filters).intersect(self.key)
        return cast("Collection[M_co, P, P]", collection)

    def __call__(self: BoundM2M[Model[P]], *conditions: Condition[M_co], **filters: object) -> Collection[M_co, P, P]:
        return cast("Collection[M_co, P, P]", self.collection(*cast("tuple[Any, ...]", conditions), **filters))

    def count(self) -> int:
        """How many related pks the field holds."""
        command = {"set": "SCARD", "list": "LLEN", "zset": "ZCARD"}[self._field.kind]
        return replies.integer(self._read(command))


class BoundM2MSet(BoundM2M[M_co]):
    """An M2M set of one instance: the set commands, taking instances or pks."""

    __slots__ = ()

    def _set(self) -> BoundSet[object]:
        return BoundSet(self._field, self._instance)

    def sadd(self: BoundM2MSet[Model[P]], *values: M_co | P) -> int:
        """SADD: relate instances (or pks); how many were new."""
        return self._set().sadd(*values)

    def srem(self: BoundM2MSet[Model[P]], *values: M_co | P) -> int:
        """SREM: unrelate instances (or pks); how many were there."""
        return self._set().srem(*values)

    def smembers(self: BoundM2MSet[Model[P]]) -> set[P]:
        """SMEMBERS: the related pks."""
        return cast("set[P]", self._set().smembers())

    def sismember(self: BoundM2MSet[Model[P]], value: M_co | P) -> bool:
        """SISMEMBER: whether an instance (or pk) is related."""
        return self._set().sismember(value)

    def scard(self) -> int:
        """SCARD: how many are related."""
        return self._set().scard()


class BoundM2MList(BoundM2M[M_co]):
    """An M2M list of one instance: the list commands, taking instances or pks."""

    __slots__ = ()

    def _list(self) -> BoundList[object]:
        return BoundList(self._field, self._instance)

    def rpush(self: BoundM2MList[Model[P]], *values: M_co | P) -> int:
        """RPUSH: append instances (or pks); the new length."""
        return self._list().rpush(*values)

    def lpush(self: BoundM2MList[Model[P]], *values: M_co | P) -> int:
        """LPUSH: prepend instances (or pks); the new length."""
        return self._list().lpush(*values)

    def lrem(self: BoundM2MList[Model[P]], count: int, value: M_co | P) -> int:
        """LREM: remove ``count`` occurrences of an instance or pk (0: all); how many were removed."""
        return self._list().lrem(count, value)

    def lrange(self: BoundM2MList[Model[P]], start: int = 0, end: int = -1) -> list[P]:
        """LRANGE: the related pks between two positions (inclusive)."""
        return cast("list[P]", self._list().lrange(start, end))

    def lindex(self: BoundM2MList[Model[P]], index: int) -> P | None:
        """LINDEX: the related pk at ``index``, or None."""
        return cast("P | None", self._list().lindex(index))

    def llen(self) -> int:
        """LLEN: how many pks the list holds."""
        return self._list().llen()


class BoundM2MSortedSet(BoundM2M[M_co]):
    """An M2M sorted set of one instance: the sorted set commands, taking instances or pks."""

    __slots__ = ()

    def _zset(self) -> BoundSortedSet[object]:
        return BoundSortedSet(self._field, self._instance)

    def zadd(self: BoundM2MSortedSet[Model[P]], scores: Mapping[M_co | P, float]) -> int:
        """ZADD: relate instances (or pks) with their scores; how many were new."""
        return self._zset().zadd(cast("Mapping[object, float]", scores))

    def zrem(self: BoundM2MSortedSet[Model[P]], *values: M_co | P) -> int:
        """ZREM: unrelate instances (or pks); how many were there."""
        return self._zset().zrem(*values)

    def zrange(self: BoundM2MSortedSet[Model[P]], start: int = 0, end: int = -1) -> list[P]:
        """ZRANGE: the related pks by ascending score, between two ranks (inclusive)."""
        return cast("list[P]", self._zset().zrange(start, end))

    def zscore(self: BoundM2MSortedSet[Model[P]], value: M_co | P) -> float | None:
        """ZSCORE: the score of a related instance (or pk), or None."""
        return self._zset().zscore(value)

    def zcard(self) -> int:
        """ZCARD: how many are related."""
        return self._zset().zcard()


class _M2MField(RelationField[B, V], Generic[B, V]):
    multi = True
    can_be_unique = False


class M2M(_M2MField[BoundM2MSet[M], "Iterable[M | Scalar]"], Generic[M]):
    """Many related ``M`` instances in a Redis set: ``members: M2M[Person] = relation()``."""

    kind = "set"
    bound_class = BoundM2MSet

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[O]) -> RelationAttr[O, M]: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> BoundM2MSet[M]: ...
        def __get__(self, instance: object | None, owner: type[Any]) -> RelationAttr[Any, M] | BoundM2MSet[M]: ...
    replace_command = "SADD"

    def values_to_store(self, value: object) -> list[bytes]:
        if isinstance(value, Mapping):
            raise InvalidValue(f"{self.qualname}: expected a collection of {self._target_label()} or pks, got {shown(value)}")
        return sorted(set(self.encode_many(value)))


class M2MList(_M2MField[BoundM2MList[M], "Iterable[M | Scalar]"], Generic[M]):
    """Many related ``M`` instances, ordered, in a Redis list (a pk may appear several times)."""

    kind = "list"
    bound_class = BoundM2MList

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[O]) -> RelationAttr[O, M]: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> BoundM2MList[M]: ...
        def __get__(self, instance: object | None, owner: type[Any]) -> RelationAttr[Any, M] | BoundM2MList[M]: ...
    replace_command = "RPUSH"

    def values_to_store(self, value: object) -> list[bytes]:
        return self.encode_many(value)


class M2MSortedSet(_M2MField[BoundM2MSortedSet[M], "Mapping[M | Scalar, float] | Iterable[M | Scalar]"], Generic[M]):
    """Many related ``M`` instances in a Redis sorted set, assigned from {instance or pk: score}
    (or from instances or pks, all scored 0)."""

    kind = "zset"
    bound_class = BoundM2MSortedSet

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[O]) -> RelationAttr[O, M]: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> BoundM2MSortedSet[M]: ...
        def __get__(self, instance: object | None, owner: type[Any]) -> RelationAttr[Any, M] | BoundM2MSortedSet[M]: ...
    replace_command = "ZADD"

    def values_to_store(self, value: object) -> list[bytes]:
        if not isinstance(value, Mapping):
            return [raw for member in self.encode_many(value) for raw in (b"0", member)]
        out: list[bytes] = []
        for member, score in cast("Mapping[object, object]", value).items():
            out += [score_text(self.qualname, member, score), self.encode(member)]
        return out


__all__ = ["FK", "M2M", "M2MList", "M2MSortedSet", "BoundFK", "BoundM2M", "BoundM2MList", "BoundM2MSet",
           "BoundM2MSortedSet", "relation"]


def _a(name: str) -> str:
    """``name`` with its article: "a Book", "an Author"."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
