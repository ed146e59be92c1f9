"""What every field shares: options, the descriptor, the bound field, encoding with clear errors."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Literal, TypeVar, cast, get_args, overload

from redis.exceptions import ResponseError

from .. import replies
from ..codecs import Codec, CodecError, codec_for
from ..exceptions import CommandError, ImplementationError, InvalidValue, shown
from ..keys import escape_part
from ..wire import Arg

if TYPE_CHECKING:
    from .related import RelationOptions
    from ..writes import Command
    from ..expressions import Attr, ValueAttr
    from ..model import Model

T = TypeVar("T")
M = TypeVar("M")
B = TypeVar("B")
V = TypeVar("V")
O = TypeVar("O")  # the model a field is declared on


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


IndexKind = Literal["eq", "range", "text"]
# What a range index orders, by the field's value type (its stored text is encoded by sortable.py).
_RANGE_TYPES = {"int": "int", "float": "float", "Decimal": "decimal", "datetime": "datetime", "date": "date"}
_TEXT_TYPES = frozenset({"str", "bytes"})


@dataclass(frozen=True, slots=True)
class FieldOptions:
    """What ``field(...)`` says about a field."""

    default: object = MISSING
    indexable: bool = False
    unique: bool = False
    lockable: bool = True
    init: bool = True
    index: IndexKind | None = None
    relation: RelationOptions | None = None  # set by relation() for FK and M2M fields


def field(
    *,
    default: object = MISSING,
    indexable: bool = False,
    unique: bool = False,
    index: IndexKind | None = None,
    lockable: bool = True,
    init: bool = True,
) -> Any:  # Any on purpose (PEP 681): the annotation, not this call, gives the field its type.
    """Options of a field: ``name: InstanceHash[str] = field(unique=True)``.

    ``default`` makes the field optional in the constructor; ``indexable`` lets collections
    filter on it; ``unique`` indexes it and refuses a value another instance holds. ``index``
    chooses what the index answers (and implies ``indexable``): ``"eq"`` (the default) equality;
    ``"range"`` also ``< <= > >= between`` on numbers, datetimes and dates (ordered by value;
    datetimes by instant); ``"text"`` also ranges in byte order and ``startswith`` on str and bytes.
    ``lockable`` is accepted for compatibility with limpyd: writes here are atomic scripts, never
    locks. ``init=False`` keeps a field out of the constructor (needed to declare ``id: AutoPK``).
    """
    return FieldOptions(default, indexable or index is not None, unique, lockable, init, index)


class Field(Generic[T, B, V]):
    """A descriptor mapping a model attribute to a Redis structure holding values of type ``T``.

    On the class it gives an ``Attr`` to build conditions; on an instance, the bound field ``B``
    whose methods are the Redis commands. Assigning a ``V`` replaces the whole value. ``__get__``
    and ``__set__`` live on this one class: pyright treats a descriptor as asymmetric only then.
    """

    # "string" | "islot" | "hash" | "set" | "list" | "zset": what the scripts read and write.
    kind: ClassVar[str]
    bound_class: ClassVar[type[Any]]
    # The command that writes a whole multi-value field after a DEL (SADD, RPUSH, ZADD, HSET).
    replace_command: ClassVar[str] = ""
    # Several values per instance (Set, List, SortedSet, Hash): not a constructor scalar.
    multi: ClassVar[bool] = False
    can_be_unique: ClassVar[bool] = True
    is_pk: ClassVar[bool] = False

    name: str
    model: type[Model[Any]]
    # Set by bind(), once per model: the escaped pk completes key_prefix into the data key.
    key_prefix: str
    slot: str  # the instance-hash slot (InstanceHash), else ""
    index_key: str  # "" when the field is not indexed

    def __init__(self, value_type: object, options: FieldOptions) -> None:
        self.value_type = value_type
        self.options = options
        self.codec: Codec[Any] = codec_for(value_type)
        self.index_mode = 2 if options.unique else 1 if options.indexable else 0
        self.index_kind: str = "" if not self.index_mode else options.index or "eq"
        held = self.codec.type_name.removesuffix(" | None")
        # How the index writes a stored value (mirrored by norm() in the Lua prelude).
        self.index_form = f"sort:{_RANGE_TYPES[held]}" if self.index_kind == "range" and held in _RANGE_TYPES \
            else self.codec.index_form

    # -- declaration ---------------------------------------------------------------------------

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def bind(self, model: type[Model[Any]], name: str) -> Field[T, B, V]:
        """A copy of this field for one concrete model (inherited fields get their own keys)."""
        bound = copy.copy(self)
        bound.model = model
        bound.name = name
        bound.codec = bound.own_codec()
        bound.key_prefix = bound.own_key_prefix()
        bound.slot = ""
        bound.index_key = model._keys.index(name) if bound.indexed else ""
        bound.check_declaration()
        return bound

    def own_codec(self) -> Codec[Any]:
        """The codec of this field object (a relation's codec reads its own field's target)."""
        return self.codec

    def own_key_prefix(self) -> str:
        return self.model._keys.field_prefix(self.name)

    def check_declaration(self) -> None:
        from .related import RelationField

        if self.options.relation is not None and not isinstance(self, RelationField):
            raise self.implementation_error("is not a relation: relation() is for FK and M2M fields, use field()")
        held = self.codec.type_name.removesuffix(" | None")
        if self.index_kind == "range" and held not in _RANGE_TYPES:
            raise self.implementation_error(f"holds {held}: a range index orders {', '.join(_RANGE_TYPES)}")
        if self.index_kind == "text" and held not in _TEXT_TYPES:
            raise self.implementation_error(f"holds {held}: a text index is for str and bytes")
        if self.index_kind not in ("", "eq", "range", "text"):
            raise self.implementation_error(f"has an unknown index kind {self.index_kind!r} (eq, range or text)")
        if self.options.unique and not self.can_be_unique:
            raise self.implementation_error("cannot be unique")
        if self.multi and self.codec.nullable:
            raise self.implementation_error("holds several values: None cannot be one of them")
        self._stored_default: list[bytes] | None | _Missing = MISSING
        if self.can_encode_default():
            self.stored_default  # noqa: B018 - a bad default is refused with the class

    def can_encode_default(self) -> bool:
        """Whether the default can be encoded now (a relation's waits for its target to exist)."""
        return True

    @property
    def stored_default(self) -> list[bytes] | None:
        """What the constructor writes when the field is not given (None: no default)."""
        if isinstance(self._stored_default, _Missing):
            stored = None
            if self.options.default is not MISSING:
                try:
                    stored = self.values_to_store(self.options.default)
                except InvalidValue as exc:  # its message already names the model and field
                    raise ImplementationError(str(exc).replace("invalid value", "invalid default", 1)) from None
            self._stored_default = stored
        return self._stored_default

    def implementation_error(self, problem: str) -> ImplementationError:
        return ImplementationError(f"{self.qualname} {problem}")

    @property
    def qualname(self) -> str:
        return f"{self.model.__name__}.{self.name}"

    @property
    def indexed(self) -> bool:
        return self.index_mode > 0

    @property
    def answers_order(self) -> bool:
        """Whether the index answers < <= > >= between (a range index, or a text index)."""
        return self.index_kind in ("range", "text")

    def index_value(self, raw: bytes) -> bytes:
        """The indexed form of a stored value (see index_form)."""
        if self.index_form.startswith("sort:"):
            from ..sortable import sortable

            return sortable(raw, self.index_form[5:])
        return self.codec.indexed(raw)

    # -- descriptor ----------------------------------------------------------------------------

    @overload
    def __get__(self, instance: None, owner: type[M]) -> Attr[M, T]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any]) -> B: ...
    def __get__(self, instance: object | None, owner: type[Any]) -> Attr[Any, T] | B:
        if instance is None:
            from ..expressions import Attr, ValueAttr

            return Attr(self) if self.multi else ValueAttr(self)
        return cast(B, self.bound_class(self, cast("Model[Any]", instance)))

    def __set__(self, instance: object, value: V) -> None:
        self.assign(cast("Model[Any]", instance), value)

    def assign(self, instance: Model[Any], value: object) -> None:
        """Replace the whole value of the field on ``instance``, with its index, in one script."""
        bound: BoundField[T] = self.bound_class(self, instance)
        bound._write_replace(self.values_to_store(value))

    # -- values --------------------------------------------------------------------------------

    def encode(self, value: object) -> bytes:
        """The stored bytes of one value; a wrong value raises InvalidValue naming model and field."""
        try:
            return self.codec.encode(value)
        except CodecError as exc:
            raise InvalidValue(f"{self.qualname}: invalid value {shown(value)}: {exc}") from None

    def decode(self, raw: bytes) -> T:
        value: T = self.codec.decode(raw)
        return value

    def decode_optional(self, raw: bytes | None) -> T | None:
        return None if raw is None else self.decode(raw)

    def values_to_store(self, value: object) -> list[bytes]:
        """The values the create script writes for this field (empty: nothing stored)."""
        if value is None:
            return [] if self.codec.nullable else [self.encode(value)]  # encode() raises, named
        try:
            return [self.codec.encoder(value)]  # the hot path of every create: encode() inlined
        except CodecError:
            return [self.encode(value)]  # raises again, naming model and field

    def replace_commands(self, key: str, stored: list[bytes]) -> list[Command]:
        """The commands giving the field at ``key`` the whole value ``stored`` (from values_to_store)."""
        commands: list[Command] = [("DEL", key)]
        if stored:
            commands.append((self.replace_command, key, *stored))
        return commands

    def encode_many(self, values: object) -> list[bytes]:
        if isinstance(values, (str, bytes, bytearray)) or not isinstance(values, Iterable):
            raise InvalidValue(f"{self.qualname}: expected a collection of values, got {shown(values)}")
        return [self.encode(v) for v in values]

    def data_key(self, pk: bytes) -> str:
        """The key holding this field's value for the instance ``pk``."""
        return self.key_prefix + escape_part(pk)


    def __repr__(self) -> str:
        owner = getattr(self, "model", None)
        return f"<{type(self).__name__} {owner.__name__ if owner else '?'}.{getattr(self, 'name', '?')}>"


class SingleValueField(Field[T, B, V]):
    """A field holding one value (String, InstanceHash, a pk): on its model class a ValueAttr,
    which values() and values_list() read and sort(by=...) takes."""

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[O]) -> ValueAttr[O, T]: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> B: ...
        def __get__(self, instance: object | None, owner: type[Any]) -> ValueAttr[Any, T] | B: ...


_WIRE_TYPES: tuple[type[Arg], ...] = get_args(Arg)


class BoundField(Generic[T]):
    """A field of one instance: its methods are the Redis commands on the field's key."""

    __slots__ = ("_field", "_instance")

    def __init__(self, field: Field[T, Any, Any], instance: Model[Any]) -> None:
        self._field = field
        self._instance = instance

    @property
    def key(self) -> str:
        """The Redis key holding this field for this instance."""
        return self._field.key_prefix + self._instance._pk_key

    def _read(self, command: str, *args: Arg) -> object:
        """Run one read command on this field's key (the single funnel of field reads)."""
        try:
            return self._instance.database.execute(command, self.key, *self._wire_args(command, args))
        except ResponseError as exc:  # arguments Redis refuses ("abc" as a score bound...)
            raise CommandError(f"{self._field.qualname}: Redis refused {command}: {exc}") from None

    def _write(self, command: str, *args: Arg, scope: Sequence[bytes] | None = None) -> object:
        """Run one write command on this field through the write script (index kept exact).

        ``scope``: the members or sub-keys the command can change (see writes.write_fields).
        """
        from ..writes import write_fields

        return write_fields(self._instance, [self._field], [(command, self.key, *self._wire_args(command, args))], scope)

    def _wire_args(self, command: str, args: tuple[Arg, ...]) -> tuple[Arg, ...]:
        """The arguments as the wire takes them (exactly bytes, str, int or float): a bool or an
        IntEnum position is the int it stands for; what is no Redis argument at all is refused."""
        for arg in args:  # a plain loop: no generator on the path of every field command
            if type(arg) not in _WIRE_TYPES:
                break
        else:
            return args
        out: list[Arg] = []
        for arg in args:
            if isinstance(arg, bytes):
                out.append(bytes(arg))
            elif isinstance(arg, str):
                out.append(str.__str__(arg))  # a str Enum's value, not its name
            elif isinstance(arg, int):  # bool, IntEnum
                out.append(int(arg))
            elif isinstance(arg, float):
                out.append(float(arg))
            else:
                raise InvalidValue(f"{self._field.qualname}.{command.lower()}: {shown(arg)} is not a Redis argument "
                                   f"(bytes, str, int or float)")
        return tuple(out)

    def _require(self, method: str, *type_names: str) -> None:
        """Refuse, before any write, a command that does not fit the field's type (incr on str...)."""
        held = self._field.codec.type_name.removesuffix(" | None")
        if held not in type_names:
            raise InvalidValue(f"{self._field.qualname} holds {held}: {method}() needs a {' or '.join(type_names)} field")

    def _int_amount(self, method: str, amount: object) -> int:
        """An INCRBY-like amount, checked before any write: Redis integers are signed 64-bit."""
        if isinstance(amount, int) and not isinstance(amount, bool) and -(2**63) <= amount < 2**63:
            return amount
        raise InvalidValue(f"{self._field.qualname}.{method}: amount must be a signed 64-bit int, got {shown(amount)}")

    def _float_amount(self, method: str, amount: object) -> str:
        """An INCRBYFLOAT-like amount as Redis reads it, checked before any write."""
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            try:
                return repr(float(amount))
            except OverflowError:
                pass
        raise InvalidValue(f"{self._field.qualname}.{method}: amount must be a number, got {shown(amount)}")

    def _write_int(self, command: str, *args: Arg, scope: Sequence[bytes] | None = None) -> int:
        return replies.integer(self._write(command, *args, scope=scope))

    def _write_float(self, command: str, *args: Arg, scope: Sequence[bytes] | None = None) -> float:
        return replies.number(self._write(command, *args, scope=scope))

    def _write_raw(self, command: str, *args: Arg) -> bytes | None:
        return replies.optional_bytes(self._write(command, *args))

    def _write_replace(self, stored: list[bytes]) -> None:
        """Replace the whole value (DEL, then ``command`` with the new values) in one script."""
        from ..writes import write_fields

        write_fields(self._instance, [self._field], self._field.replace_commands(self.key, stored))

    def delete(self) -> bool:
        """Remove the field's value (DEL, or HDEL for an instance-hash slot); True if there was one."""
        return bool(self._write("DEL"))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._field.qualname} of pk={self._instance._pk_bytes!r}>"
