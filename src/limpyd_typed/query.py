"""Collections: immutable, lazy queries over the indexes, run by one script.

Building a collection checks every filter against the model (unknown field, field without index,
value of the wrong type: an error at once, never a silent empty result). Running it is one
round trip: the query script intersects the indexes, sorts and slices on the server.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, cast, overload

from typing_extensions import Self, TypeVar

from . import scripts
from .exceptions import QueryError
from .expressions import Attr, Condition
from .planner import Planner, condition_from_keyword

if TYPE_CHECKING:
    from .fields.base import Field
    from .model import Model

M = TypeVar("M", bound="Model[Any]")
K = TypeVar("K", default=object)  # the pk type of M
R = TypeVar("R", default=K)  # what the collection yields: pks (K) or instances (M)


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
        self._instances = False
        # The raw pks of the first full run, reused by len(), iteration and indexing (as Django's
        # QuerySet does): list(collection) is one round trip, and one snapshot. Clones start empty.
        self._cache: list[bytes] | None = None
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
        clone = cast("Collection[M, K, M]", self._clone())
        clone._instances = True
        return clone

    def primary_keys(self) -> Collection[M, K, K]:
        """The same collection yielding pks again."""
        clone = cast("Collection[M, K, K]", self._clone())
        clone._instances = False
        return clone

    # -- running -------------------------------------------------------------------------------

    def _run(self, start: int | None = None, stop: int | None = None, step: int | None = None,
             count: bool = False) -> list[bytes]:
        plan = Planner(self.model).add(self._condition)
        args = plan.tokens
        sort = self._sort or _Sort(self.model._pk_field(), False, False)
        f = sort.field
        mode = "pk" if f.is_pk else f.kind
        value_order = "bytes" if sort.alpha else f.codec.sort_order
        pk_order = self.model._pk_field().codec.sort_order
        args += [mode, f.key_prefix, f.slot, value_order, int(sort.desc), pk_order]
        args += ["" if v is None else v for v in (start, stop, step)]
        args.append("count" if count else "")
        reply = scripts.QUERY(self.model.database, plan.keys, args)
        assert isinstance(reply, list)
        return reply

    def _result(self, raw: bytes) -> R:
        if self._instances:
            return cast(R, self.model._from_stored_pk(raw))
        return cast(R, self.model._decode_pk(raw))

    def _all(self) -> list[bytes]:
        if self._cache is None:
            self._cache = self._run()[1:]
        return self._cache

    def __iter__(self) -> Iterator[R]:
        return iter([self._result(raw) for raw in self._all()])

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
            if self._cache is not None:
                return [self._result(raw) for raw in self._cache[index]]
            return [self._result(raw) for raw in self._run(index.start, index.stop, index.step)[1:]]
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"collection indices must be integers or slices, not {type(index).__name__}")
        if self._cache is not None:
            return self._result(self._cache[index])
        found = self._run(index, index + 1 if index != -1 else None)[1:]
        if not found:
            raise IndexError("collection index out of range")
        return self._result(found[0])

    def __len__(self) -> int:
        """The number of results; runs the whole query once and keeps its results (see ``count``)."""
        return len(self._all())

    def count(self) -> int:
        """How many instances match, counted on the server (exact, one round trip, no pk sent back)."""
        if self._cache is not None:
            return len(self._cache)
        return int(self._run(count=True)[0])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.model.__name__}: {list(self)!r}>"
