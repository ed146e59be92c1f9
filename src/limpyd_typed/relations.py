"""The relation graph: resolving targets, reverse accessors, and what a delete must propagate.

Relation fields (fields/related.py) name their target by class or by string. Once both ends exist
the target gets a reverse accessor (``related_name``) and the relation is recorded as pointing
to it, so that deleting a target knows every field that may hold its pk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, cast, overload

from typing_extensions import Self, TypeVar

from .exceptions import ImplementationError

if TYPE_CHECKING:
    from .fields.related import RelationField
    from .model import Model
    from .query import Collection

M_co = TypeVar("M_co", bound="Model[Any]", covariant=True)
P = TypeVar("P")

# Relation fields of concrete models whose target class does not exist yet.
_pending: list[RelationField[Any, Any]] = []
# target model -> the relation fields (of concrete models) that point to it.
_inbound: dict[type[Model[Any]], list[RelationField[Any, Any]]] = {}


def _all_models() -> list[type[Model[Any]]]:
    from .model import Model, _subclasses

    return _subclasses(Model)


def _find(field: RelationField[Any, Any]) -> type[Model[Any]] | None:
    spec = field.target_spec
    if not isinstance(spec, str):
        return spec
    if spec == "self":
        return field.model
    namespace, _, name = spec.rpartition(":")
    if ":" not in spec:
        namespace = field.model.namespace
    found = [m for m in _all_models() if m.__name__ == name and m.namespace == namespace and not m.abstract]
    return found[-1] if found else None


def resolve_target(field: RelationField[Any, Any]) -> type[Model[Any]]:
    """The model a relation field points to; an ImplementationError if it does not exist."""
    from .model import Model

    target = _find(field)
    if target is None:
        raise ImplementationError(f"{field.qualname} points to {field.target_spec!r}: no such model "
                                  f"(a model name, 'namespace:Name' or 'self')")
    if not (isinstance(target, type) and issubclass(target, Model)):
        raise ImplementationError(f"{field.qualname} points to {target!r}, which is not a model")
    return target


def register(model: type[Model[Any]]) -> None:
    """Record the relations of a new concrete model, then link every relation now resolvable."""
    from .fields.related import RelationField

    if not model.abstract:
        _pending.extend(f for f in model._fields.values() if isinstance(f, RelationField))
    for field in list(_pending):
        target = _find(field)
        if target is None:
            continue
        _pending.remove(field)
        field._target = resolve_target(field)
        _link(field, field._target)


def _link(field: RelationField[Any, Any], target: type[Model[Any]]) -> None:
    source = field.model
    name = (field.rel.related_name or f"{source.__name__.lower()}_set") % {
        "model": source.__name__.lower(), "namespace": source.namespace}
    if not name.isidentifier() or name.startswith("_"):
        raise ImplementationError(f"{field.qualname}: related_name {name!r} is not a valid attribute name")
    existing = target.__dict__.get(name)
    if name in target._fields or (existing is not None and not isinstance(existing, Related)) or (
        isinstance(existing, Related) and existing.field is not None and existing.field is not field
    ):
        raise ImplementationError(f"{field.qualname}: related_name {name!r} clashes with {target.__name__}.{name}; "
                                  f"give the relation another related_name")
    for klass in target.__mro__[1:]:
        if name in vars(klass) and not isinstance(vars(klass)[name], Related):
            raise ImplementationError(f"{field.qualname}: related_name {name!r} clashes with {target.__name__}.{name}; "
                                      f"give the relation another related_name")
    setattr(target, name, Related(field))
    _inbound.setdefault(target, []).append(field)


def inbound(model: type[Model[Any]]) -> list[RelationField[Any, Any]]:
    """The relation fields, of every concrete model, that may hold pks of ``model``."""
    return [f for target, fields in _inbound.items() if issubclass(model, target) for f in fields]


class RelatedCollection(Generic[M_co]):
    """The reverse side of a relation for one target instance: call it for a collection."""

    __slots__ = ("_field", "_instance")

    def __init__(self, field: RelationField[Any, Any], instance: Model[Any]) -> None:
        self._field = field
        self._instance = instance

    def __call__(self: RelatedCollection[Model[P]], **filters: object) -> Collection[M_co, P, P]:
        """The instances whose relation holds this instance, filtered by ``filters``; chain
        ``.filter()``, ``.sort()``, ``.instances()`` as on any collection."""
        filters[self._field.name] = self._instance
        return cast("Collection[M_co, P, P]", self._field.model.collection().filter(**filters))


class Related(Generic[M_co]):
    """A reverse accessor, set on the target class under the relation's ``related_name``.

    Declare it on the target to have it typed: ``group_set: ClassVar[Related[Group]]``.
    """

    def __init__(self, field: RelationField[Any, Any] | None = None) -> None:
        self.field = field

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type[Any]) -> RelatedCollection[M_co]: ...
    def __get__(self, instance: object, owner: type[Any]) -> Self | RelatedCollection[M_co]:
        if instance is None:
            return self
        if self.field is None:
            raise ImplementationError(f"{owner.__name__}: a declared Related accessor has no relation pointing to it")
        return RelatedCollection(self.field, instance)  # type: ignore[arg-type]
