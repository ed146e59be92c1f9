"""Model: the typed base class. Annotations become fields at class creation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, cast, overload

from typing_extensions import Self, TypeVar, dataclass_transform

from . import relations, replies, templates, writes
from .database import Database
from .declaration import declared_fields, declared_pk_type
from .exceptions import DoesNotExist, ImplementationError, InvalidValue, MultipleObjectsReturned, shown
from .fields.base import MISSING, Field, FieldOptions, field
from .fields.pk import PK, AutoPK
from .fields.related import relation
from .keys import ModelKeys, escape_part

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .expressions import Condition, ValueAttr
    from .fields.pk import BoundPK
    from .maintenance import IndexReport, Progress
    from .query import Collection, CollectionClass, ModelClass

    C = TypeVar("C", bound="Collection[Any, Any, Any]")
    _P = TypeVar("_P")
    _O = TypeVar("_O")

    class _PKAccess(Generic[_P]):
        """What ``.pk`` is for the type checkers: a ValueAttr on the class, the bound pk on an instance."""

        @overload
        def __get__(self, instance: None, owner: type[_O]) -> ValueAttr[_O, _P]: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> BoundPK[_P]: ...
        def __get__(self, instance: object, owner: type[Any]) -> ValueAttr[Any, _P] | BoundPK[_P]: ...

    # A decorated method rather than `pk: PK[PKT]`: mypy refuses class access to an instance
    # variable whose type holds a class type variable.
    def _pk_access(method: Callable[[Any], _P]) -> _PKAccess[_P]: ...

# The Python type of a model's primary key: int (AutoPK) unless the model says Model[str] etc.
PKT = TypeVar("PKT", default=int)


# eq_default=False: instances compare and hash by class and pk (Model.__eq__/__hash__), not by fields.
@dataclass_transform(kw_only_default=True, eq_default=False, field_specifiers=(field, relation))
class Model(Generic[PKT]):
    """Base of every model: ``class Bike(Model): name: InstanceHash[str] = field(unique=True)``.

    Options, as class attributes or class keywords: ``database``, ``namespace``, ``abstract``,
    ``lockable`` and ``collection_manager``.
    """

    database: ClassVar[Database]
    namespace: ClassVar[str] = ""
    abstract: ClassVar[bool] = True
    lockable: ClassVar[bool] = True
    collection_manager: ClassVar[type[Collection[Any, Any, Any]]]

    _fields: ClassVar[dict[str, Field[Any, Any, Any]]] = {}
    _pk_name: ClassVar[str]
    _keys: ClassVar[ModelKeys]
    _database_is_own: ClassVar[bool] = False
    _refused: ClassVar[bool] = False  # set on a class whose declaration raised

    _pk_bytes: bytes
    _pk_key: str  # the pk escaped for key names, computed once
    pk_value: PKT
    """The pk of this instance, decoded (the same as ``pk.get()``)."""

    if TYPE_CHECKING:
        # Whatever the pk field's name, ``.pk`` reaches it; its type is the model's PKT.
        @_pk_access
        def pk(self) -> PKT: ...

    def __init_subclass__(
        cls,
        *,
        database: Database | None = None,
        namespace: str | None = None,
        abstract: bool | None = None,
        lockable: bool | None = None,
        **kwargs: object,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if database is not None:
            cls.database = database
        if namespace is not None:
            cls.namespace = namespace
        if lockable is not None:
            cls.lockable = lockable
        cls._database_is_own = "database" in cls.__dict__
        # abstract is never inherited: a subclass of an abstract base is concrete unless it says so.
        cls.abstract = bool(abstract if abstract is not None else cls.__dict__.get("abstract", False))
        hosted = False
        try:
            if not isinstance(cls.namespace, str):
                raise ImplementationError(f"{cls.__name__}.namespace must be a str, got {cls.namespace!r}")
            cls._build_fields()
            if not cls.abstract and getattr(cls, "database", None) is not None:
                cls.database._register(cls)
                hosted = True
            relations.register(cls)
        except ImplementationError:
            # A refused class leaves no trace: it may be declared again, fixed. (It lingers among
            # Model's subclasses until collected: relations must not find it there.)
            cls._refused = True
            if hosted:
                cls.database._unregister(cls)
            raise

    @classmethod
    def _build_fields(cls) -> None:
        declared = declared_fields(cls, Model)
        try:
            cls._keys = ModelKeys(cls.namespace, cls.__name__)
        except UnicodeEncodeError:
            raise ImplementationError(f"{cls.__name__}: namespace {cls.namespace!r} is not valid text") from None
        fields: dict[str, Field[Any, Any, Any]] = {}
        pks = [name for name, f in declared.items() if f.is_pk]
        if len(pks) > 1:
            raise ImplementationError(f"{cls.__name__} declares several primary keys: {', '.join(pks)}")
        if not pks:
            declared = {"pk": AutoPK(int, FieldOptions(init=False)), **declared}
        for name, declared_field in declared.items():
            if name in _reserved_names() or name.startswith("_"):
                raise ImplementationError(f"{cls.__name__}.{name}: this name is taken by the model API, rename the field")
            if name == "pk" and not declared_field.is_pk:
                raise ImplementationError(f"{cls.__name__}.pk is reserved for the primary key, rename the field")
            bound = declared_field.bind(cls, name)
            fields[name] = bound
            setattr(cls, name, bound)
        cls._fields = fields
        pk_field = next(f for f in fields.values() if isinstance(f, PK))
        pk_type = declared_pk_type(cls, Model)
        if pk_field.value_type != pk_type:
            shown = getattr(pk_field.value_type, "__name__", repr(pk_field.value_type))
            raise ImplementationError(
                f"{cls.__name__}.{pk_field.name} holds {shown}: declare `class {cls.__name__}(Model[{shown}])` "
                f"(or a base declared so) so that .pk and collections are typed {shown}"
            )
        cls._pk_name = pk_field.name
        if pk_field.name != "pk":
            setattr(cls, "pk", pk_field)  # .pk reaches the pk whatever its name

    # -- instances -----------------------------------------------------------------------------

    def __init__(self, *args: object, **values: object) -> None:
        """Create and save a new instance with its fields, defaults and index entries: one round trip."""
        cls = type(self)
        if args:
            raise TypeError(f"{cls.__name__}() takes field values as keywords; to read an instance use "
                            f"{cls.__name__}.get({shown(args[0])})")
        cls._check_usable()
        self._set_pk(writes.create_instance(cls, *cls._to_store(values)))

    @classmethod
    def _to_store(cls, values: Mapping[str, object]) -> tuple[bytes | None, dict[Field[Any, Any, Any], list[bytes]]]:
        """The given pk (None: auto) and the stored bytes of every field a new instance writes.

        Checks everything before anything is sent: unknown or missing fields, invalid values.
        """
        template = templates.store_template(cls)  # computed once per model, not per instance
        accepted, pk_name = template.accepted, template.pk_name
        given_pk: bytes | None = None
        stored: dict[Field[Any, Any, Any], list[bytes]] = {}
        for name, value in values.items():
            f = accepted.get(name)
            if f is None:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
            if name == pk_name:
                given_pk = f.encode(value)
            else:
                raw = f.values_to_store(value)
                if raw:
                    stored[f] = raw
        for name, f in template.fillable:
            if name in values:
                continue
            default = f.stored_default
            if default is not None:
                if default:
                    stored[f] = default
            elif f.options.init:
                raise TypeError(f"{cls.__name__}() missing required keyword argument {name!r}")
        return given_pk, stored

    @classmethod
    def bulk_create(cls, rows: Iterable[Mapping[str, object]], *, batch_size: int = 500) -> list[PKT]:
        """Create one instance per row (constructor keywords), one script call per ``batch_size``
        rows; their pks.

        Every row is checked before anything is sent (a bad value or two rows sharing a unique
        value: nothing is written). The script checks each row before writing anything of it, so
        each instance is created whole with exact indexes (the batch runs as one atomic call: the
        server serves nothing else meanwhile, which bounds a sensible ``batch_size``). If a row
        clashes with a unique value already stored, that row writes nothing, the other rows of its
        batch stay, no later batch is sent, and a :class:`BulkCreateError` names the row and lists
        the pks created.
        """
        cls._check_usable()
        checked = []
        for number, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise TypeError(f"{cls.__name__}.bulk_create: row {number} is a {type(row).__name__}, "
                                f"not a mapping of field names to values; nothing was written")
            checked.append(cls._to_store(row))
        return [cls._decode_pk(pk) for pk in writes.create_instances(cls, checked, batch_size)]

    @classmethod
    def _check_usable(cls) -> None:
        if cls.abstract:
            raise ImplementationError(f"{cls.__name__} is abstract: it has no instances")
        if getattr(cls, "database", None) is None:
            raise ImplementationError(f"{cls.__name__} has no database: set `database = Database(...)` or call use_database()")

    @classmethod
    def _pk_field(cls) -> PK[Any]:
        return cast(PK[Any], cls._fields[cls._pk_name])

    def _set_pk(self, raw: bytes) -> None:
        self._pk_bytes = raw
        self._pk_key = escape_part(raw)
        self.pk_value = type(self)._decode_pk(raw)

    @classmethod
    def _decode_pk(cls, raw: bytes) -> PKT:
        return cast(PKT, cls._pk_field().decode(raw))

    @classmethod
    def _encode_pk(cls, pk: object) -> bytes:
        if isinstance(pk, str) and cls._pk_field().codec.type_name == "int" and pk.isascii() and pk.isdigit():
            pk = int(pk)  # "1" and 1 name the same AutoPK instance, as in limpyd
        return cls._pk_field().encode(pk)

    @classmethod
    def lazy_connect(cls, pk: PKT) -> Self:
        """The instance with this pk, without checking that it exists (writes will check)."""
        cls._check_usable()
        instance = cls.__new__(cls)
        instance._set_pk(cls._encode_pk(pk))
        return instance

    @classmethod
    def _from_stored_pk(cls, raw: bytes) -> Self:
        instance = cls.__new__(cls)
        instance._set_pk(raw)
        return instance

    @overload
    @classmethod
    def get(cls, pk: PKT, /) -> Self: ...
    @overload
    @classmethod
    def get(cls, /, **filters: object) -> Self: ...
    @classmethod
    def get(cls, pk: object = MISSING, /, **filters: object) -> Self:
        """The instance with this pk, or the only one matching ``filters``; DoesNotExist otherwise."""
        if pk is not MISSING:
            from .expressions import Condition

            if filters:
                raise TypeError(f"{cls.__name__}.get() takes a pk or filters, not both")
            if isinstance(pk, Condition):
                raise TypeError(f"{cls.__name__}.get() takes a pk or field=value filters, not a condition: "
                                f"use {cls.__name__}.collection(condition).instances().first()")
            instance = cls.lazy_connect(cast(PKT, pk))
            if not instance._exists():
                raise DoesNotExist(f"{cls.__name__} pk={pk!r} does not exist")
            return instance
        found = cls._matching(filters)[:2]
        if not found:
            raise DoesNotExist(f"no {cls.__name__} matches {filters!r}")
        if len(found) > 1:
            raise MultipleObjectsReturned(f"several {cls.__name__} match {filters!r}; use collection()")
        return found[0]

    def _exists(self) -> bool:
        return bool(replies.integer(self.database.execute("SISMEMBER", type(self)._keys.pks, self._pk_bytes)))

    @classmethod
    def _matching(cls, filters: dict[str, object]) -> Collection[Self, PKT, Self]:
        from .query import Collection, ModelClass

        cls._check_usable()
        pks: Collection[Self, PKT] = Collection(cast("ModelClass[Self, PKT, PKT]", cls), (), filters)
        return pks.instances()

    @classmethod
    def get_or_connect(cls, **values: object) -> tuple[Self, bool]:
        """The only instance matching ``values`` (False), or a new one created with them (True)."""
        try:
            return cls.get(**values), False
        except DoesNotExist:
            return cls(**values), True

    @overload
    @classmethod
    def exists(cls, pk: PKT, /) -> bool: ...
    @overload
    @classmethod
    def exists(cls, /, **filters: object) -> bool: ...
    @classmethod
    def exists(cls, pk: object = MISSING, /, **filters: object) -> bool:
        """Whether an instance has this pk, or matches ``filters``."""
        if pk is MISSING:
            return bool(cls._matching(filters)[:1])
        if filters:
            raise TypeError(f"{cls.__name__}.exists() takes a pk or filters, not both")
        return cls.lazy_connect(cast(PKT, pk))._exists()

    @overload
    @classmethod
    def collection(cls, *conditions: Condition[Self], manager: None = None,
                   **filters: object) -> Collection[Self, PKT]: ...
    @overload
    @classmethod
    def collection(cls, *conditions: Condition[Self], manager: CollectionClass[Self, PKT, C],
                   **filters: object) -> C: ...
    @classmethod
    def collection(cls, *conditions: Condition[Self], manager: CollectionClass[Self, PKT, C] | None = None,
                   **filters: object) -> Collection[Self, PKT] | C:
        """A lazy collection of the instances matching every condition and filter (ANDed).

        It is built by ``manager``, else by the model's ``collection_manager``, else by
        :class:`Collection`. Only ``manager=`` is seen by a type checker:
        ``Person.collection(manager=Tagged)`` is a ``Tagged[Person, int, int]``.
        """
        from .query import Collection

        cls._check_usable()
        default = cast("CollectionClass[Self, PKT, Collection[Self, PKT]]", getattr(cls, "collection_manager", None) or Collection)
        manager_class = manager or default
        return manager_class(cast("ModelClass[Self, PKT, PKT]", cls), conditions, filters)

    @classmethod
    def use_database(cls, database: Database) -> None:
        """Host this model, and its subclasses without a database of their own, on ``database``."""
        cls._rehost(database)

    @classmethod
    def _rehost(cls, database: Database | None) -> None:
        """Move this model and the subclasses taking their database from it to ``database``;
        None: back to inheriting the database of its base (what the testing plugin undoes)."""
        moving = [m for m in _hosted_with(cls) if not m.abstract]
        before = [(m, getattr(m, "database", None)) for m in moving]
        own, was_own = cls.__dict__.get("database"), cls._database_is_own
        for model, host in before:
            if host is not None:
                host._unregister(model)
        cls._set_database(database)
        registered: list[type[Model[Any]]] = []
        try:
            for model in moving:
                if getattr(model, "database", None) is not None:
                    model.database._register(model)
                    registered.append(model)
        except ImplementationError:  # refused (a model of that name there): everything as it was
            for model in registered:
                model.database._unregister(model)
            cls._set_database(own)
            cls._database_is_own = was_own
            for model, host in before:
                if host is not None:
                    host._register(model)
            raise

    @classmethod
    def _set_database(cls, database: Database | None) -> None:
        """Give this class its own database, or (None) let it inherit its base's."""
        if database is not None:
            cls.database = database
        elif "database" in cls.__dict__:
            del cls.database
        cls._database_is_own = database is not None

    def delete(self) -> None:
        """Delete the instance: all its fields and index entries, atomically."""
        writes.delete_instance(self)

    # -- the instance hash, all InstanceHash fields at once ------------------------------------------

    def _hash_field(self, name: str) -> Field[Any, Any, Any]:
        f = type(self)._fields.get(name)
        if f is None or f.kind != "islot":
            raise InvalidValue(f"{type(self).__name__}.{name} is not an InstanceHash field")
        return f

    @property
    def _hash_key(self) -> str:
        return type(self)._keys.instance_prefix + self._pk_key

    def _redis(self, command: str, *args: str) -> object:
        """Run one read command on the instance hash."""
        return self.database.execute(command, self._hash_key, *args)

    def hmget(self, *names: str) -> list[object]:
        """HMGET: the values of these InstanceHash fields, in order (None where unset)."""
        fields = [self._hash_field(n) for n in names]
        if not fields:
            return []
        raw = replies.optional_bytes_list(self._redis("HMGET", *names))
        return [f.decode_optional(v) for f, v in zip(fields, raw)]

    def hmset(self, **values: object) -> bool:
        """Set several InstanceHash fields in one atomic write (None deletes a field)."""
        fields = [self._hash_field(n) for n in values]
        if not fields:
            return True
        to_set: list[bytes | str] = []
        to_delete: list[bytes | str] = []
        for f, value in zip(fields, values.values()):
            if value is None and f.codec.nullable:
                to_delete.append(f.name)
            else:
                to_set += [f.name, f.encode(value)]
        commands: list[writes.Command] = []
        if to_set:
            commands.append(("HSET", self._hash_key, *to_set))
        if to_delete:
            commands.append(("HDEL", self._hash_key, *to_delete))
        writes.write_fields(self, fields, commands)
        return True

    def hgetall(self) -> dict[str, object]:
        """HGETALL: the InstanceHash fields that have a value, decoded."""
        fields = type(self)._fields
        found = {name.decode(): v for name, v in replies.mapping(self._redis("HGETALL")).items()}
        return {name: fields[name].decode(v) for name, v in found.items() if name in fields}

    def hkeys(self) -> list[str]:
        """HKEYS: names of the InstanceHash fields that have a value."""
        return [k.decode() for k in replies.bytes_list(self._redis("HKEYS"))]

    def hvals(self) -> list[object]:
        """HVALS: values of the InstanceHash fields that have one (in HKEYS order)."""
        return list(self.hgetall().values())

    def hlen(self) -> int:
        """HLEN: how many InstanceHash fields have a value."""
        return replies.integer(self._redis("HLEN"))

    def hdel(self, *names: str) -> int:
        """HDEL: remove these InstanceHash fields; returns how many had a value."""
        fields = [self._hash_field(n) for n in names]
        if not fields:
            return 0
        reply = writes.write_fields(self, fields, [("HDEL", self._hash_key, *names)])
        return int(reply) if isinstance(reply, int) else 0

    # -- identity ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and type(other) is type(self) and other._pk_bytes == self._pk_bytes

    def __hash__(self) -> int:
        return hash((type(self), self._pk_bytes))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pk={self.pk_value!r}>"

    # -- maintenance (maintenance.py) -----------------------------------------------------------

    @classmethod
    def check_indexes(cls, *, batch: int = 500, progress: Progress | None = None) -> IndexReport:
        """Stale and missing index entries, duplicate unique values and orphan keys; changes nothing."""
        from .maintenance import check_indexes

        return check_indexes(cls, batch=batch, progress=progress)

    @classmethod
    def rebuild_indexes(cls, *, batch: int = 500, progress: Progress | None = None) -> IndexReport:
        """Repair what check_indexes finds (duplicate unique values aside); returns what was repaired."""
        from .maintenance import rebuild_indexes

        return rebuild_indexes(cls, batch=batch, progress=progress)


def _subclasses(cls: type[Model[Any]]) -> list[type[Model[Any]]]:
    out: list[type[Model[Any]]] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _hosted_with(cls: type[Model[Any]]) -> list[type[Model[Any]]]:
    """``cls`` and the subclasses that take their database from it (not one with a database of its
    own, nor that one's subclasses)."""
    out = [cls]
    for sub in cls.__subclasses__():
        if not sub._database_is_own:
            out += _hosted_with(sub)
    return out



def _reserved_names() -> frozenset[str]:
    """Names a field may not take: the model's own public API (``pk`` aside, which is the pk's)."""
    own = {name for name in (*vars(Model), *Model.__annotations__) if not name.startswith("_")}
    # "manager" is collection()'s keyword: a field of that name could not be filtered on.
    return frozenset(own | {"manager"}) - {"pk"}
