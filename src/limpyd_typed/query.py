"""Collections: immutable, lazy queries over the indexes, run by one script.

Building a collection checks every filter against the model (unknown field, field without index,
value of the wrong type: an error at once, never a silent empty result). Running it is one
round trip: the query script intersects the indexes, sorts and slices on the server.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, cast, overload

from typing_extensions import Self, TypeVar

from . import replies, scripts
from .database import Arg
from .exceptions import QueryError
from .expressions import Attr, Condition, Selectable
from .planner import Plan, Planner, condition_from_keyword

if TYPE_CHECKING:
    from .fields.base import Field
    from .model import Model

M = TypeVar("M", bound="Model[Any]")
K = TypeVar("K", default=object)  # the pk type of M
R = TypeVar("R", default=K)  # what the collection yields: pks (K), instances (M) or values
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")


@dataclass(frozen=True, slots=True)
class _Sort:
    field: Field[Any, Any, Any]
    alpha: bool
    desc: bool


class Collection(Generic[M, K, R]):
    """A lazy, immutable query on model ``M`` (pk type ``K``) yielding ``R``: pks, or instances after ``instances()``.

    Every method returns a new collection; nothing reaches Redis until the collection is
    iterated, indexed, sliced or measured.
    """

    def __init__(self, model: type[M], conditions: tuple[Condition[M], ...] = (),
                 filters: dict[str, object] | None = None) -> None:
        self.model = model
        self._condition: Condition[M] | None = None
        self._sort: _Sort | None = None
        # What the collection yields: "pks", "instances", or field values as "tuples", "flat", "dicts".
        self._shape = "pks"
        self._fetch: tuple[Field[Any, Any, Any], ...] = ()
        # The rows (pk, fetched values...) of the first full run, reused by len(), iteration and indexing (as Django's
        # QuerySet does): list(collection) is one round trip, and one snapshot. Clones start empty.
        self._cache: list[Row] | None = None
        self._add(conditions, filters or {})

    # -- building ------------------------------------------------------------------------------

    def _clone(self) -> Self:
        clone = copy.copy(self)
        clone._cache = None
        return clone

    def _add(self, conditions: tuple[Condition[Any], ...], filters: dict[str, object]) -> None:
        """AND conditions and keyword filters into the collection's condition, checked at once."""
        every = list(conditions) + [condition_from_keyword(self.model, k, v) for k, v in filters.items()]
        if not every:
            return
        combined = self._condition
        for condition in every:
            combined = condition if combined is None else combined & condition
        Planner(self.model).add(combined)  # refuses, now, what the indexes cannot answer
        self._condition = combined

    def filter(self, *conditions: Condition[M], **filters: object) -> Self:
        """A collection with these conditions added (ANDed: ``filter(a | b)`` for an OR)."""
        clone = self._clone()
        clone._add(conditions, filters)
        return clone

    def sort(self, by: str | Attr[M, Any] | None = None, *, alpha: bool = False, desc: bool = False) -> Self:
        """Sorted by a single-value field (``"-name"`` or ``desc=True`` for descending).

        Numeric fields sort as numbers, others by bytes; ``alpha=True`` forces byte order. Missing
        values come first (last when descending); ties are ordered by pk. Without ``by``: by pk.
        """
        clone = self._clone()
        if by is None:
            clone._sort = _Sort(self.model._pk_field(), alpha, desc)
            return clone
        if isinstance(by, Attr):
            f = by.field
            if f.model is not self.model:
                raise QueryError(f"cannot sort {self.model.__name__} by {f.qualname}")
        else:
            name = by
            if name.startswith("-"):
                name, desc = name[1:], not desc
            found = self.model._fields.get(name)
            if found is None:
                raise QueryError(f"{self.model.__name__} has no field {name!r} to sort by")
            f = found
        if f.multi:
            raise QueryError(f"cannot sort by {f.qualname}: it holds several values")
        clone._sort = _Sort(f, alpha, desc)
        return clone

    def instances(self, lazy: bool = False) -> Collection[M, K, M]:
        """The same collection yielding model instances instead of pks.

        Indexes are exact, so every pk a query returns exists: instances are built without a
        round trip per pk, whatever ``lazy`` says (kept for limpyd compatibility).
        """
        return cast("Collection[M, K, M]", self._shaped("instances", ()))

    def primary_keys(self) -> Collection[M, K, K]:
        """The same collection yielding pks again."""
        return cast("Collection[M, K, K]", self._shaped("pks", ()))

    @overload
    def values_list(self, f1: Selectable[M, T1], /, *, flat: Literal[True]) -> Collection[M, K, T1 | None]: ...
    @overload
    def values_list(self, f1: Selectable[M, T1], /, *, flat: Literal[False] = False) -> Collection[M, K, tuple[T1 | None]]: ...
    @overload
    def values_list(self, f1: Selectable[M, T1], f2: Selectable[M, T2], /) -> Collection[M, K, tuple[T1 | None, T2 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], f3: Selectable[M, T3], /
    ) -> Collection[M, K, tuple[T1 | None, T2 | None, T3 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], f3: Selectable[M, T3], f4: Selectable[M, T4], /
    ) -> Collection[M, K, tuple[T1 | None, T2 | None, T3 | None, T4 | None]]: ...
    # By names (the seed's form): values typed object, as names carry no type.
    @overload
    def values_list(self, *fields: str, flat: Literal[True]) -> Collection[M, K, object]: ...
    @overload
    def values_list(self, *fields: str, flat: Literal[False] = False) -> Collection[M, K, tuple[object, ...]]: ...
    def values_list(self, *fields: str | Selectable[M, Any], flat: bool = False) -> Collection[M, K, Any]:
        """The same collection yielding tuples of field values (``flat=True``: the values of one field).

        Fields are attributes (``Person.name``: the result type follows them) or names; none means
        every single-value field, pk included, in declaration order. Values are read in the same
        round trip as the query.
        """
        chosen = self._fields_to_fetch(fields)
        if flat and len(chosen) != 1:
            raise QueryError(f"values_list(flat=True) takes exactly one field, got {len(chosen)}")
        return self._shaped("flat" if flat else "tuples", chosen)

    def values(self, *fields: str | Selectable[M, Any]) -> Collection[M, K, dict[str, object]]:
        """The same collection yielding ``{field name: value}`` dicts (all single-value fields by default)."""
        return cast("Collection[M, K, dict[str, object]]", self._shaped("dicts", self._fields_to_fetch(fields)))

    def _fields_to_fetch(self, fields: tuple[str | Selectable[M, Any], ...]) -> tuple[Field[Any, Any, Any], ...]:
        model_fields = self.model._fields
        if not fields:
            return tuple(f for f in model_fields.values() if not f.multi)
        chosen: list[Field[Any, Any, Any]] = []
        for item in fields:
            if isinstance(item, Attr):
                f = item.field
                if f.model is not self.model:
                    raise QueryError(f"cannot read {f.qualname} from {self.model.__name__}")
            else:
                if not isinstance(item, str):
                    raise QueryError(f"values() takes field attributes or names, got {item!r}")
                found = model_fields.get(item)
                if found is None:
                    raise QueryError(f"{self.model.__name__} has no field {item!r}")
                f = found
            if f.multi:
                raise QueryError(f"{f.qualname} holds several values: values() reads single-value fields only")
            chosen.append(f)
        return tuple(chosen)

    def _shaped(self, shape: str, fields: tuple[Field[Any, Any, Any], ...]) -> Collection[M, K, Any]:
        clone: Collection[M, K, Any] = self._clone()
        clone._shape = shape
        clone._fetch = fields
        return clone

    # -- running -------------------------------------------------------------------------------

    def _run(self, start: int | None = None, stop: int | None = None, step: int | None = None) -> list[Row]:
        """One script: the condition, the sort, the slice, and the values of the fetched fields."""
        return self._call(self._arguments(start, stop, step, count=False))

    def _arguments(self, start: int | None, stop: int | None, step: int | None, count: bool) -> tuple[Plan, list[Arg]]:
        plan = Planner(self.model).add(self._condition)
        args = plan.tokens
        sort = self._sort or _Sort(self.model._pk_field(), False, False)
        f = sort.field
        value_order = "bytes" if sort.alpha else f.codec.sort_order
        pk_order = self.model._pk_field().codec.sort_order
        args += [_read_mode(f), f.key_prefix, f.slot, value_order, int(sort.desc), pk_order]
        args += ["" if v is None else v for v in (start, stop, step)]
        args.append("count" if count else "")
        args.append(len(self._fetch))
        for fetched in self._fetch:
            args += [_read_mode(fetched), fetched.key_prefix, fetched.slot]
        return plan, args

    def _call(self, arguments: tuple[Plan, list[Arg]]) -> list[Row]:
        plan, args = arguments
        reply = scripts.QUERY(self.model.database, plan.keys, args)
        assert isinstance(reply, list)
        width = 1 + len(self._fetch)
        flat = [replies.optional_bytes(item) for item in reply[1:]]
        return [flat[i : i + width] for i in range(0, len(flat), width)]

    def _result(self, row: Row) -> R:
        raw_pk = row[0]
        assert raw_pk is not None
        shape = self._shape
        if shape == "instances":
            return cast(R, self.model._from_stored_pk(raw_pk))
        if shape == "pks":
            return cast(R, self.model._decode_pk(raw_pk))
        values = [_decode(f, raw) for f, raw in zip(self._fetch, row[1:])]
        if shape == "flat":
            return cast(R, values[0])
        if shape == "tuples":
            return cast(R, tuple(values))
        return cast(R, {f.name: value for f, value in zip(self._fetch, values)})

    def _all(self) -> list[Row]:
        if self._cache is None:
            self._cache = self._run()
        return self._cache

    def __iter__(self) -> Iterator[R]:
        return iter([self._result(row) for row in self._all()])

    @overload
    def __getitem__(self, index: int) -> R: ...
    @overload
    def __getitem__(self, index: slice) -> list[R]: ...
    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            for bound in (index.start, index.stop, index.step):
                if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                    raise TypeError(f"slice indices must be integers or None, not {type(bound).__name__}")
            if index.step == 0:
                raise ValueError("slice step cannot be zero")
            rows = self._cache[index] if self._cache is not None else self._run(index.start, index.stop, index.step)
            return [self._result(row) for row in rows]
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"collection indices must be integers or slices, not {type(index).__name__}")
        if self._cache is not None:
            return self._result(self._cache[index])
        found = self._run(index, index + 1 if index != -1 else None)
        if not found:
            raise IndexError("collection index out of range")
        return self._result(found[0])

    def first(self) -> R | None:
        """The first result (in the collection's order), or None when nothing matches: one round trip."""
        found = self[:1]
        return found[0] if found else None

    def __len__(self) -> int:
        """The number of results; runs the whole query once and keeps its results (see ``count``)."""
        return len(self._all())

    def count(self) -> int:
        """How many instances match, counted on the server (exact, one round trip, no pk sent back)."""
        if self._cache is not None:
            return len(self._cache)
        plan, args = self._arguments(None, None, None, count=True)
        reply = scripts.QUERY(self.model.database, plan.keys, args)
        assert isinstance(reply, list)
        return replies.integer(reply[0])

    def exists(self) -> bool:
        """Whether anything matches (one round trip)."""
        return self.count() > 0

    def delete(self, batch_size: int = 500) -> int:
        """Delete every matching instance (each atomically, with its index entries); how many were deleted.

        Instances are found and deleted in batches of ``batch_size`` (one query, then one pipelined
        round of delete scripts per batch), so memory stays bounded whatever the collection's size.
        """
        from .writes import delete_instances

        pks = self.primary_keys()
        deleted = 0
        while True:
            batch = [row[0] for row in pks._run(0, batch_size) if row[0] is not None]
            if not batch:
                return deleted
            gone = delete_instances(self.model, batch)
            deleted += gone
            if gone == 0:  # what is left is not ours to delete (another client raced us)
                return deleted

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.model.__name__}: {list(self)!r}>"


Row = list[bytes | None]


def _read_mode(f: Field[Any, Any, Any]) -> str:
    """How the query script reads a single-value field of any instance: pk, islot or string."""
    return "pk" if f.is_pk else f.kind


def _decode(f: Field[Any, Any, Any], raw: bytes | None) -> object:
    if f.is_pk:
        assert raw is not None
        return f.model._decode_pk(raw)
    return f.decode_optional(raw)
