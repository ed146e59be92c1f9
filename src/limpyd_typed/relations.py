"""The relation graph: resolving targets, reverse accessors, and what a delete must propagate.

Relation fields (fields/related.py) name their target by class or by string. Once both ends exist
the target gets a reverse accessor (``related_name``) and the relation is recorded as pointing
to it, so that deleting a target knows every field that may hold its pk.
"""

from __future__ import annotations

import keyword
from typing import TYPE_CHECKING, Any, Generic, cast, overload

from typing_extensions import Self, TypeVar

from .exceptions import ImplementationError

if TYPE_CHECKING:
    from .expressions import Condition
    from .fields.related import RelationField
    from .model import Model
    from .query import Collection

M_co = TypeVar("M_co", bound="Model[Any]", covariant=True)
P = TypeVar("P")

# Relation fields of concrete models whose target class does not exist yet.
_pending: list[RelationField[Any, Any]] = []
# target model -> the relation fields (of concrete models) that point to it.
_inbound: dict[type[Model[Any]], list[RelationField[Any, Any]]] = {}
# Bumped when relations are linked: what is computed from them (writes.py's delete plans) is
# stale then.
generation = 0


def _all_models() -> list[type[Model[Any]]]:
    from .model import Model, _subclasses

    return [m for m in _subclasses(Model) if not m.__dict__.get("_refused", False)]


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
    if len(found) > 1:  # one per database: the source's own database decides
        database = getattr(field.model, "database", None)
        found = [m for m in found if getattr(m, "database", None) is database] or found
    if len(found) > 1:
        raise ImplementationError(f"{field.qualname} points to {spec!r}, which names {len(found)} models "
                                  f"(in {', '.join(m.__module__ for m in found)}); pass the class itself")
    return found[0] if found else None


def resolve_target(field: RelationField[Any, Any]) -> type[Model[Any]]:
    """The model a relation field points to; an ImplementationError if it does not exist."""
    from .model import Model

    target = _find(field)
    if target is None:
        raise ImplementationError(f"{field.qualname} points to {field.target_spec!r}: no such model "
                                  f"(a model name, 'namespace:Name' or 'self')")
    if not (isinstance(target, type) and issubclass(target, Model)) or target.abstract:
        raise ImplementationError(f"{field.qualname} points to {target!r}, which is not a concrete model")
    return target


def register(model: type[Model[Any]]) -> None:
    """Check, then record, the relations of a new model, and link every relation now resolvable.

    Every check runs before anything is recorded: a class refused here leaves no trace.
    """
    from .fields.related import RelationField

    own = [f for f in model._fields.values() if isinstance(f, RelationField)] if not model.abstract else []
    links: list[tuple[RelationField[Any, Any], type[Model[Any]], str]] = []
    for field in [*_pending, *own]:
        target = _find(field)
        if target is not None:
            target = resolve_target(field)
            links.append((field, target, _related_name(field, target, [name for _, t, name in links if t is target])))
    previous_targets = [(field, field._target) for field, _, _ in links]
    try:
        for field, _, _ in links:
            field.stored_default  # noqa: B018 - a default waiting for its target: refused now if bad
    except ImplementationError:
        for field, target in previous_targets:  # encoding resolved the target: forget a refused one
            field._target = target
        raise
    linked = {id(field) for field, _, _ in links}
    _pending[:] = [f for f in [*_pending, *own] if id(f) not in linked]
    for field, target, name in links:
        field._target = target
        replaced = getattr(target, name, None)
        setattr(target, name, Related(field))
        fields = _inbound.setdefault(target, [])
        if isinstance(replaced, Related) and replaced.field is not None and replaced.field in fields:
            fields.remove(replaced.field)  # a model declared again (see _redeclares)
        fields.append(field)
    if links:
        global generation
        generation += 1


def _related_name(field: RelationField[Any, Any], target: type[Model[Any]], taken: list[str]) -> str:
    """The reverse accessor's name on ``target``, checked: an identifier, free on the target."""
    from .model import _reserved_names

    source = field.model
    pattern = field.rel.related_name or f"{source.__name__.lower()}_set"
    try:
        # An empty namespace leaves "_model_set" from "%(namespace)s_%(model)s_set": strip it.
        name = (pattern % {"model": source.__name__.lower(), "namespace": source.namespace}).lstrip("_")
    except (KeyError, ValueError, TypeError) as exc:
        raise ImplementationError(f"{field.qualname}: related_name {pattern!r} is not a valid pattern "
                                  f"(%(model)s and %(namespace)s only): {exc!r}") from None
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ImplementationError(f"{field.qualname}: related_name {name!r} is not a valid attribute name")
    existing = getattr(target, name, None)
    if (name in target._fields or name in _reserved_names() or name in taken
            or (existing is not None and not isinstance(existing, Related))
            or (isinstance(existing, Related) and existing.field is not None and existing.field is not field
                and not _redeclares(field, existing.field))):
        raise ImplementationError(f"{field.qualname}: related_name {name!r} clashes with {target.__name__}.{name}; "
                                  f"give the relation another related_name")
    return name


def _redeclares(field: RelationField[Any, Any], previous: RelationField[Any, Any]) -> bool:
    """Whether ``field`` is ``previous`` declared again: the same field of a model of the same
    module, name and namespace (a function declaring its models, called again; a notebook cell run
    again). The new declaration takes the reverse accessor over."""
    new, old = field.model, previous.model
    return (field.name == previous.name and new is not old and new.__module__ == old.__module__
            and new.__qualname__ == old.__qualname__ and new.namespace == old.namespace)


def inbound(model: type[Model[Any]]) -> list[RelationField[Any, Any]]:
    """The relation fields, of every concrete model, that may hold pks of ``model``: those
    pointing to this very class (a subclass has pks of its own)."""
    return list(_inbound.get(model, ()))


class RelatedCollection(Generic[M_co]):
    """The reverse side of a relation for one target instance: call it for a collection."""

    __slots__ = ("_field", "_instance")

    def __init__(self, field: RelationField[Any, Any], instance: Model[Any]) -> None:
        self._field = field
        self._instance = instance

    def __call__(self: RelatedCollection[Model[P]], *conditions: Condition[M_co],
                 **filters: object) -> Collection[M_co, P, P]:
        """The instances whose relation holds this instance, filtered as ``filter()`` does
        (``person.owned_groups(Group.private == 1)`` or ``private=1``); chain ``.filter()``,
        ``.sort()``, ``.instances()`` as on any collection."""
        from .planner import condition_from_keyword  # planner imports the fields, which import this

        # The relation's own condition is ANDed with the caller's, never in place of a keyword of theirs.
        held = condition_from_keyword(self._field.model, self._field.name, self._instance)
        return cast("Collection[M_co, P, P]", self._field.model.collection()
                    .filter(held, *cast("tuple[Any, ...]", conditions), **filters))


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
        if type(instance) is not self.field.target:  # inherited by a subclass: its pks are others
            raise ImplementationError(f"{type(instance).__name__} has no reverse side of {self.field.qualname}: "
                                      f"it points to {self.field.target.__name__} instances only")
        return RelatedCollection(self.field, instance)
