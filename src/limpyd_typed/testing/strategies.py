"""Hypothesis strategies derived from a model's type hints and field options.

- ``values_for(Person.age)``: values one field holds, typed from the attribute
  (``SearchStrategy[int]``; ``int | None`` for an optional field, None drawn sometimes). For a
  multi-value field (Set, List, SortedSet, Hash) it draws one member (one value of a Hash).
- ``kwargs_for(Person)``: dicts of constructor keywords (``Person(**kwargs)``): every required
  field, optional ones sometimes, multi-value fields as collections (set, list, dict).
- ``instances_of(Person)``: instances created in ``Person``'s database from such kwargs.

A relation field draws pks of its target's pk type (FK: or None), not instances: the pks need not
exist, as in any write.

Values honour the field's codec: ints are signed 64-bit, floats and Decimals finite, datetimes
aware (fixed UTC offsets), Enum fields draw members, text holds no lone surrogate. Values of a
unique field (and given pks) are never drawn twice in one example (one hypothesis test case): a
set shared by every strategy of the example remembers them, by their indexed form (``1.0`` and
``1`` are one float value). Nothing here reads the database (hypothesis needs the same choices to
give the same values when it replays an example).
"""

from __future__ import annotations

import enum
import types
import typing
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from hypothesis import strategies as st

from ..exceptions import ImplementationError, UniquenessError
from ..expressions import Attr
from ..fields.pk import AutoPK

if TYPE_CHECKING:
    from ..fields.base import Field
    from ..model import Model

T = TypeVar("T")
M = TypeVar("M", bound="Model[Any]")

MAX_ITEMS = 4  # per multi-value field: enough to share values, small enough to stay fast
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # Cs: surrogates are not text
# Fixed offsets in whole minutes, within what a UTC offset may be (less than a day).
_OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))

_SIMPLE: dict[type, st.SearchStrategy[object]] = {
    str: _TEXT,
    bytes: st.binary(max_size=12),
    int: st.integers(-(2**63), 2**63 - 1),
    float: st.floats(allow_nan=False, allow_infinity=False),
    bool: st.booleans(),
    Decimal: st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**12, max_value=10**12),
    # From year 2 to 9998: any offset keeps the instant within years 1..9999.
    datetime: st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31), timezones=_OFFSETS),
    date: st.dates(),
    uuid.UUID: st.uuids(),
}


def _for_hint(hint: object, where: str) -> st.SearchStrategy[object]:
    """Values of a field's type argument (``int``, ``str | None``, an Enum...)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _for_hint(members[0], where)
        return st.none() | inner if len(members) < len(typing.get_args(hint)) else inner
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    strategy = _SIMPLE.get(hint) if isinstance(hint, type) else None
    if strategy is None:
        raise ImplementationError(f"{where}: no strategy for values of type {hint!r}")
    return strategy


def _non_null(hint: object) -> object:
    members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return members[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) else hint


# Values of unique fields drawn in the current example: one dict per example (st.shared), by field.
_USED: st.SearchStrategy[dict[str, set[bytes]]] = st.shared(st.builds(dict), key="limpyd_typed.testing.unique")


def _unique_key(field: Field[Any, Any, Any], value: object) -> bytes:
    """What makes two values one to a unique index: the indexed form of the stored value."""
    return field.index_value(field.encode(value))


def _fresh(draw: st.DrawFn, field: Field[Any, Any, Any], values: st.SearchStrategy[T]) -> T:
    """A value of ``field`` that no other draw of this example took (None aside)."""
    used = draw(_USED).setdefault(field.qualname, set())
    value = draw(values.filter(lambda v: v is None or _unique_key(field, v) not in used))
    if value is not None:
        used.add(_unique_key(field, value))
    return value


def _check_model(name: str, model: object) -> None:
    from ..model import Model

    if not (isinstance(model, type) and issubclass(model, Model)):
        raise TypeError(f"{name}() takes a model class (Person), got {model!r}")


def _field_of(attr: object) -> Field[Any, Any, Any]:
    if not isinstance(attr, Attr) or attr.sub_key is not None:
        raise TypeError(f"values_for() takes a field attribute of a model class (Person.age), got {attr!r}")
    field: Field[Any, Any, Any] = attr.field
    return field


def _member_values(field: Field[Any, Any, Any]) -> st.SearchStrategy[object]:
    """One value of the field as the codec stores it (a member, for a multi-value field)."""
    from ..fields.related import RelationField

    if isinstance(field, RelationField):  # pks of the target (which need not exist, as in writes)
        pk_field = field.target._pk_field()
        pks = (st.integers(1, 2**63 - 1) if isinstance(pk_field, AutoPK)
               else _for_hint(pk_field.value_type, pk_field.qualname))
        return pks if field.multi else st.none() | pks
    return _for_hint(_non_null(field.value_type) if field.multi else field.value_type, field.qualname)


def values_for(attr: Attr[Any, T]) -> st.SearchStrategy[T]:
    """Values of one field: ``values_for(Person.age)`` is a ``SearchStrategy[int]``.

    A unique field's values are distinct within one example. For a Set, List or SortedSet field,
    one member; for a Hash field, one value (kwargs_for draws whole collections).
    """
    field = _field_of(attr)
    values = _member_values(field)
    if field.index_mode == 2:
        return typing.cast("st.SearchStrategy[T]", st.composite(lambda draw: _fresh(draw, field, values))())
    return typing.cast("st.SearchStrategy[T]", values)


def _whole_value(draw: st.DrawFn, field: Field[Any, Any, Any]) -> object:
    """A whole value of ``field`` as the constructor takes it."""
    members = _member_values(field)

    def one() -> object:
        return _fresh(draw, field, members) if field.index_mode == 2 else draw(members)

    if not field.multi:
        return one()
    size = draw(st.integers(0, MAX_ITEMS))
    if field.kind == "hash":
        return {draw(_TEXT): one() for _ in range(size)}
    if field.kind == "zset":
        return {one(): draw(st.floats(allow_nan=False, allow_infinity=False)) for _ in range(size)}
    items = [one() for _ in range(size)]
    return set(items) if field.kind == "set" else items


def _kwargs(draw: st.DrawFn, model: type[Model[Any]]) -> Kwargs:
    kwargs: Kwargs = {}
    for name, field in model._fields.items():
        if not field.options.init or isinstance(field, AutoPK):
            continue
        if field.is_pk:  # a given pk: unique by its stored bytes
            used = draw(_USED).setdefault(field.qualname, set())
            value = draw(_member_values(field).filter(lambda v: field.encode(v) not in used))
            used.add(field.encode(value))
            kwargs[name] = value
        elif field.stored_default is None or draw(st.booleans()):
            kwargs[name] = _whole_value(draw, field)
    return kwargs


# The one Any of the public API: each keyword has its own field's type, which no dict type can say
# for a model given at run time; Any lets ``Person(**kwargs)`` type-check (dict[str, object] would not).
Kwargs = dict[str, Any]


def kwargs_for(model: type[Model[Any]]) -> st.SearchStrategy[Kwargs]:
    """Constructor keywords of ``model``: ``Person(**draw(kwargs_for(Person)))`` creates one.

    Nothing is written. Unique values and given pks are distinct within one example.
    """
    _check_model("kwargs_for", model)
    return st.composite(lambda draw: _kwargs(draw, model))()


def instances_of(model: type[M]) -> st.SearchStrategy[M]:
    """Instances of ``model``, created (written) in its database from ``kwargs_for`` values.

    Unique values are distinct within one example only: start each example from a database without
    instances of ``model`` (``Member.collection().delete()`` at the top of the test, then draw with
    ``st.data()``), since a function-scoped fixture's database outlives the examples of a test.
    """
    _check_model("instances_of", model)

    def create(draw: st.DrawFn) -> M:
        try:
            return model(**_kwargs(draw, model))
        except UniquenessError as exc:
            raise UniquenessError(f"{exc}. instances_of({model.__name__}) draws unique values distinct within one "
                                  f"example: start each example with no {model.__name__} stored "
                                  f"({model.__name__}.collection().delete())") from None

    return st.composite(create)()
