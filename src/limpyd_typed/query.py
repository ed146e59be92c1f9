"""Collections: immutable, lazy queries over the indexes, run by one script.

Building a collection checks every condition against the model (unknown field, field without the
index it needs, value of the wrong type: an error at once, never a silent empty result). Running
it is one round trip: the query script evaluates the conditions, sorts, slices and reads the
values asked for, on the server.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, NamedTuple, Protocol, cast, overload

from redis.exceptions import ResponseError
from typing_extensions import Self, TypeVar

from . import replies, scripts
from .database import Arg
from .exceptions import CommandError, DoesNotExist, QueryError
from .expressions import Attr, Condition, Selectable
from .fields.base import BoundField, Field
from .planner import Plan, Planner, condition_from_keyword

if TYPE_CHECKING:
    from .model import Model

M = TypeVar("M", bound="Model[Any]")
K = TypeVar("K", default=object)  # the pk type of M
R = TypeVar("R", default=K)  # what the collection yields: pks (K), instances (M) or values
M_co = TypeVar("M_co", covariant=True)
K_contra = TypeVar("K_contra", contravariant=True)
K_co = TypeVar("K_co", covariant=True)
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")

SORTED_SCORE: Final = "sorted_score"
"""A pseudo-field for values()/values_list(): the score that ``sort(by_score=...)`` sorted by."""

DEFAULT_STORE_TTL: Final = 60
"""Seconds a stored collection lives by default (``store(ttl=None)`` keeps it)."""

# First element of a stored collection's list: the pks follow it, so an empty result still exists.
_STORED_HEADER: Final = b"limpyd_typed:stored:v1"


class ModelClass(Protocol[M_co, K_contra, K_co]):
    """A model class, as a collection sees it: ``Tagged(Person)`` is then a ``Tagged[Person, int, int]``.

    The pk type appears twice, taken (``lazy_connect``) and returned (``_decode_pk``), so that a
    checker solves a new collection's ``R`` (what it yields: pks) from the model too; else mypy
    solves it to Never when a collection class is passed as ``collection(manager=...)``.
    """

    def lazy_connect(self, pk: K_contra, /) -> M_co: ...

    def _decode_pk(self, raw: bytes, /) -> K_co: ...


_M = TypeVar("_M")
_K = TypeVar("_K")
_C = TypeVar("_C", bound="Collection[Any, Any, Any]")
CollectionClass = Callable[[ModelClass[_M, _K, _K], tuple[Condition[_M], ...], dict[str, object]], _C]
"""What ``collection(manager=...)`` takes: a collection class (or factory) giving a ``C``."""


@dataclass(frozen=True, slots=True)
class _Read:
    """How the query script reads one value of each result: to sort by it, or to return it."""

    name: str
    mode: str  # "pk" | "islot" | "string" | "score" (ZSCORE in a sorted set) | "stored" (position)
    prefix: str  # key prefix (completed by the escaped pk), or the key itself for score/stored
    slot: str
    order: str  # how it sorts: "int" | "float" | "bytes"
    decode: Callable[[bytes | None], object]
    # The same decoding for a present value, with nothing around it (a codec's own decoder, or a
    # builtin): mapped over a whole column of results at C speed when none is missing. None: none.
    fast: Callable[[bytes], object] | None = None

    @property
    def args(self) -> list[Arg]:
        return [self.mode, self.prefix, self.slot]


def _fast_decoder(f: Field[Any, Any, Any]) -> Callable[[bytes], object] | None:
    """What ``f.decode`` does, without its calls around the codec: None if a field class changes it."""
    return f.codec.decoder if type(f).decode is Field.decode else None


def _field_read(f: Field[Any, Any, Any]) -> _Read:
    """Each field's _Read, made once and kept on the field: a collection built per call
    (``collection().values_list(...)``) then costs an attribute read per field. Kept with the
    field it was made for: a subclass's field is a copy of its base's (Field.bind), with its own keys."""
    kept: tuple[Field[Any, Any, Any], _Read] | None = f.__dict__.get("_query_read")
    if kept is None or kept[0] is not f:
        kept = f.__dict__["_query_read"] = (f, _new_field_read(f))
    return kept[1]


def _new_field_read(f: Field[Any, Any, Any]) -> _Read:
    if f.is_pk:
        model = f.model
        from .model import Model

        # A model may decode its pks its own way: then every pk goes through it.
        own = getattr(model._decode_pk, "__func__", None) is not getattr(Model._decode_pk, "__func__", None)
        fast = None if own else _fast_decoder(f)
        return _Read(f.name, "pk", "", "", f.codec.sort_order, lambda raw: None if raw is None else model._decode_pk(raw),
                     fast)
    return _Read(f.name, f.kind, f.key_prefix, f.slot, f.codec.sort_order, f.decode_optional, _fast_decoder(f))


def _score_read(key: str) -> _Read:
    return _Read(SORTED_SCORE, "score", key, "", "float", lambda raw: None if raw is None else float(raw), float)


@dataclass(frozen=True, slots=True)
class _Sort:
    read: _Read
    alpha: bool
    desc: bool


def _key_of(source: object, what: str) -> str:
    """The Redis key of a bound Set, List or SortedSet field, a stored collection, or a key name."""
    if isinstance(source, str):
        return source
    if isinstance(source, BoundField) and source._field.kind in ("set", "list", "zset"):
        return source.key
    if isinstance(source, Collection) and source.stored_key is not None:
        return source.stored_key
    raise QueryError(f"{what}: expected a key name, a Set, List or SortedSet field of an instance, or a stored collection, "
                     f"got {source!r}")


class Collection(Generic[M, K, R]):
    """A lazy, immutable query on model ``M`` (pk type ``K``) yielding ``R``: pks, instances or values.

    Every method returns a new collection; nothing reaches Redis until the collection is
    iterated, indexed, sliced or measured.
    """

    def __init__(self, model: ModelClass[M, K, R], conditions: tuple[Condition[M], ...] = (),
                 filters: dict[str, object] | None = None) -> None:
        self.model = cast("type[M]", model)
        self._condition: Condition[M] | None = None
        self._sort: _Sort | None = None
        # What the collection yields: "pks", "instances", or values as "tuples", "flat", "dicts".
        self._shape = "pks"
        self._fetch: tuple[_Read, ...] = ()
        self._stored_key: str | None = None
        # The reply of the first full run (each result's pk then its fetched values, flat), reused
        # by len(), iteration and indexing (as Django's QuerySet does): list(collection) is one
        # round trip and one snapshot. Clones start empty.
        self._cache: list[object] | None = None
        # The plan compiled when the condition was checked, reused by every run unless it holds a
        # value read at run time (``city=me.city``): a collection is compiled once, not twice.
        self._plan: Plan | None = None
        if conditions or filters:
            self._add(conditions, filters or {})

    # -- building ------------------------------------------------------------------------------

    def _clone(self) -> Self:
        cls = type(self)
        if cls is Collection:
            # What copy.copy does, without its protocol lookups (a third of the cost of building
            # ``collection().values_list(...)`` per call). A subclass may hold slots: copy.copy.
            clone = cls.__new__(cls)
            clone.__dict__.update(self.__dict__)
        else:
            clone = copy.copy(self)
        clone._cache = None
        return clone

    def _add(self, conditions: Iterable[Condition[Any]], filters: dict[str, object]) -> None:
        """AND conditions and keyword filters into the collection's condition, checked at once."""
        every = list(conditions)
        for condition in every:
            if not isinstance(condition, Condition):
                raise QueryError(f"{self.model.__name__}: {condition!r} is not a condition (write "
                                 f"{self.model.__name__}.<field> == value, or a keyword)")
        every += [condition_from_keyword(self.model, k, v) for k, v in filters.items()]
        if not every:
            return
        combined = self._condition
        for condition in every:
            combined = condition if combined is None else combined & condition
        planner = Planner(self.model)
        plan = planner.add(combined)  # refuses, now, what the indexes cannot answer
        self._condition = combined
        self._plan = None if planner.deferred else plan

    def filter(self, *conditions: Condition[M], **filters: object) -> Self:
        """A collection with these conditions added (ANDed: ``filter(a | b)`` for an OR).

        A keyword's value may be a single-value field of an instance (``city=me.city``): it is
        read when the collection runs.
        """
        clone = self._clone()
        clone._add(conditions, filters)
        return clone

    def intersect(self, *sources: object) -> Self:
        """Only the instances whose pk is also in every source (the seed's ``intersect``).

        A source is a list, set or tuple of pks; the name of a Redis set, list or sorted set
        holding pks (a missing key is empty); a Set, List or SortedSet field of an instance; or a
        stored collection.
        """
        conditions: list[Condition[M]] = []
        for source in sources:
            if isinstance(source, (list, set, tuple, frozenset)):
                pks = tuple(self.model._encode_pk(pk) for pk in cast("Iterable[object]", source))
                conditions.append(Condition("pks", values=pks))
            else:
                conditions.append(Condition("members", values=(_key_of(source, "intersect"),)))
        clone = self._clone()
        clone._add(conditions, {})
        return clone

    def sort(self, by: str | Selectable[M, Any] | None = None, *, by_score: object = None,
             alpha: bool = False, desc: bool = False) -> Self:
        """Sorted by a single-value field (``"-name"`` or ``desc=True`` for descending), or by score.

        ``by_score``: a SortedSet field of an instance, or a sorted set's key, holding pks: results
        sort by their score there (SORTED_SCORE reads it in values()). Int fields sort exactly as
        integers, float and Decimal ones as numbers, others by bytes; ``alpha=True`` forces byte
        order. Missing values come first; ties are ordered by pk; ``desc`` reverses it all.
        Without ``by``: by pk.
        """
        clone = self._clone()
        if by_score is not None:
            if by is not None:
                raise QueryError("sort() takes by or by_score, not both")
            clone._sort = _Sort(_score_read(_key_of(by_score, "sort(by_score=...)")), alpha, desc)
            return clone
        if by is None:
            clone._sort = _Sort(_field_read(self.model._pk_field()), alpha, desc)
            return clone
        if isinstance(by, Attr):
            f = by.field
            if f.model is not self.model:
                raise QueryError(f"cannot sort {self.model.__name__} by {f.qualname}")
        elif isinstance(by, str):
            name = by
            if name.startswith("-"):
                name, desc = name[1:], not desc
            found = self.model._fields.get(name)
            if found is None:
                raise QueryError(f"{self.model.__name__} has no field {name!r} to sort by")
            f = found
        else:
            raise QueryError(f"sort() takes a field attribute or name, got {by!r}")
        if f.multi:
            raise QueryError(f"cannot sort by {f.qualname}: it holds several values")
        clone._sort = _Sort(_field_read(f), alpha, desc)
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
    def values_list(
        self, f1: Selectable[M, T1], /, *, flat: Literal[False] = False
    ) -> Collection[M, K, tuple[T1 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], /
    ) -> Collection[M, K, tuple[T1 | None, T2 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], f3: Selectable[M, T3], /
    ) -> Collection[M, K, tuple[T1 | None, T2 | None, T3 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], f3: Selectable[M, T3], f4: Selectable[M, T4], /
    ) -> Collection[M, K, tuple[T1 | None, T2 | None, T3 | None, T4 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], f3: Selectable[M, T3], f4: Selectable[M, T4],
        f5: Selectable[M, T5], /,
    ) -> Collection[M, K, tuple[T1 | None, T2 | None, T3 | None, T4 | None, T5 | None]]: ...
    @overload
    def values_list(
        self, f1: Selectable[M, T1], f2: Selectable[M, T2], f3: Selectable[M, T3], f4: Selectable[M, T4],
        f5: Selectable[M, T5], f6: Selectable[M, T6], /,
    ) -> Collection[M, K, tuple[T1 | None, T2 | None, T3 | None, T4 | None, T5 | None, T6 | None]]: ...
    # More fields: by names (below), or values() for dicts.
    # By names (the seed's form): values typed object, as names carry no type.
    @overload
    def values_list(self, *fields: str, flat: Literal[True]) -> Collection[M, K, object]: ...
    @overload
    def values_list(self, *fields: str, flat: Literal[False] = False) -> Collection[M, K, tuple[object, ...]]: ...
    def values_list(self, *fields: str | Selectable[M, Any], flat: bool = False) -> Collection[M, K, Any]:
        """The same collection yielding tuples of field values (``flat=True``: the values of one field).

        Fields are attributes (``Person.name``: the result type follows them) or names (and
        SORTED_SCORE); none means every single-value field, pk included, in declaration order.
        Values are read in the same round trip as the query.
        """
        chosen = self._reads(fields)
        if flat and len(chosen) != 1:
            raise QueryError(f"values_list(flat=True) takes exactly one field, got {len(chosen)}")
        return self._shaped("flat" if flat else "tuples", chosen)

    def values(self, *fields: str | Selectable[M, Any]) -> Collection[M, K, dict[str, object]]:
        """The same collection yielding ``{field name: value}`` dicts (all single-value fields by default)."""
        return cast("Collection[M, K, dict[str, object]]", self._shaped("dicts", self._reads(fields)))

    def _reads(self, fields: tuple[str | Selectable[M, Any], ...]) -> tuple[_Read, ...]:
        model_fields = self.model._fields
        if not fields:
            return tuple(_field_read(f) for f in model_fields.values() if not f.multi)
        chosen: list[_Read] = []
        for item in fields:
            if isinstance(item, str) and item == SORTED_SCORE:
                if self._sort is None or self._sort.read.mode != "score":
                    raise QueryError("SORTED_SCORE needs a collection sorted with sort(by_score=...)")
                chosen.append(self._sort.read)
                continue
            if isinstance(item, Attr):
                f = item.field
                if f.model is not self.model:
                    raise QueryError(f"cannot read {f.qualname} from {self.model.__name__}")
            elif isinstance(item, str):
                found = model_fields.get(item)
                if found is None:
                    raise QueryError(f"{self.model.__name__} has no field {item!r}")
                f = found
            else:
                raise QueryError(f"values() takes field attributes or names, got {item!r}")
            if f.multi:
                raise QueryError(f"{f.qualname} holds several values: values() and values_list() read "
                                 f"single-value fields only (read it from each instance)")
            chosen.append(_field_read(f))
        return tuple(chosen)

    def _shaped(self, shape: str, reads: tuple[_Read, ...]) -> Collection[M, K, Any]:
        clone: Collection[M, K, Any] = self._clone()
        clone._shape = shape
        clone._fetch = reads
        return clone

    # -- stored results ------------------------------------------------------------------------

    @property
    def stored_key(self) -> str | None:
        """The key holding this collection's stored results (None unless it comes from ``store``)."""
        return self._stored_key

    def store(self, key: str | None = None, ttl: int | None = DEFAULT_STORE_TTL) -> Self:
        """Run the collection and keep its pks, in order, in a Redis list; a collection of them.

        The new collection keeps this one's output (instances, values...), reads the stored pks in
        their stored order, and can be filtered, sorted and stored again. ``ttl`` seconds (None:
        no expiry); once the key is gone, running the collection raises DoesNotExist.
        """
        target = key if key is not None else self.model._keys.stored()
        plan, args = self._arguments(None, None, None, count=False)
        plan.keys.append(target)
        args += ["store", len(plan.keys), _STORED_HEADER, "" if ttl is None else ttl]
        self._execute(plan, args, scripts.QUERY)
        return self.from_stored(target)

    def from_stored(self, key: str) -> Self:
        """A collection of the pks stored under ``key`` (by ``store``, maybe in another process)."""
        clone = self._clone()
        clone._stored_key = key
        clone._condition = None
        clone._plan = None
        clone._sort = None
        return clone

    # -- running -------------------------------------------------------------------------------

    def _arguments(self, start: int | None, stop: int | None, step: int | None, count: bool,
                   bare: bool = False) -> tuple[Plan, list[Arg]]:
        planner = Planner(self.model, resolve=True)
        if self._stored_key is not None:
            stored: Condition[M] = Condition("stored", values=(self._stored_key,))
            plan = planner.add(stored if self._condition is None else stored & self._condition)
        elif self._plan is not None:
            plan = Plan(list(self._plan.keys), list(self._plan.tokens))  # runs extend their copy
        else:
            plan = planner.add(self._condition)
        args = plan.tokens
        sort = self._effective_sort()
        read = sort.read
        if read.mode in ("score", "stored"):
            plan.key(read.prefix)  # a key the script reads: declared
        pk_order = self.model._pk_field().codec.sort_order
        args += [*read.args, "bytes" if sort.alpha else read.order, int(sort.desc), pk_order]
        args += ["" if v is None else v for v in (start, stop, step)]
        args.append("count" if count else "bare" if bare else "")
        fetch = _read_args(self._fetch)
        args.append(len(fetch))
        args += fetch
        return plan, args

    def _effective_sort(self) -> _Sort:
        if self._sort is not None:
            return self._sort
        if self._stored_key is not None:  # the stored order
            return _Sort(_Read("stored", "stored", self._stored_key, "", "float", replies.optional_bytes), False, False)
        return _Sort(_field_read(self.model._pk_field()), False, False)

    def page(self, size: int, cursor: str | None = None) -> Page[R]:
        """One page of ``size`` results after ``cursor`` (None: the first page), in one round trip.

        The cursor (``Page.cursor``, None after the last page) marks a place in the collection's
        order, not an offset: results added or removed between two pages make none of the others
        skipped or repeated, whatever the collection's size.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"page size must be a positive int, got {size!r}")
        sort = self._effective_sort()
        plan, args = self._arguments(None, None, None, count=False)
        args += ["page", size]
        if cursor is not None:
            args += list(_read_cursor(cursor, _sort_signature(sort)))
        reply = self._execute(plan, args)
        remaining = replies.integer(reply[0])
        rows = self._rows(reply[1:-1], 1)  # a page's rows hold pks: the last one makes the cursor
        items = self._results(reply[1:-1], 1)
        if remaining <= size or not rows:
            return Page(items, None, remaining)
        last_pk = rows[-1][0]
        assert last_pk is not None
        return Page(items, _make_cursor(_sort_signature(sort), replies.optional_bytes(reply[-1]), last_pk), remaining)

    def _execute(self, plan: Plan, args: list[Arg], script: scripts.Script = scripts.QUERY_READ) -> list[object]:
        """Run the query script (QUERY_READ, which writes nothing, runs on a replica too)."""
        try:
            reply = script(self.model.database, plan.keys, args)
        except ResponseError as exc:
            if "stored collection" in str(exc):
                raise DoesNotExist(f"{self.model.__name__}: the stored collection {self._stored_key!r} is gone "
                                   "(expired or deleted)") from None
            if "cannot sort" in str(exc):  # a value the sort cannot order: stored so, or in a forged cursor
                raise QueryError(f"{self.model.__name__}: {scripts.error_reason(exc)}") from None
            # A key of the wrong type written by hand, a store on a read-only replica...
            raise CommandError(f"{self.model.__name__}: Redis refused the query: {scripts.error_reason(exc)}") from None
        assert isinstance(reply, list)
        return cast("list[object]", reply)

    @property
    def _lead(self) -> int:
        """Items before the values in each row of a run: 1 (the pk), or 0 when a values shape needs
        no pk (the script then leaves pks out of its reply: less to build, send and parse)."""
        return 0 if self._shape in ("tuples", "flat", "dicts") and self._fetch else 1

    def _flat(self, start: int | None = None, stop: int | None = None, step: int | None = None) -> list[object]:
        """One script: the condition, the sort, the slice, and the values of the fetched fields.

        The reply after its total: each result's pk (unless ``_lead`` is 0) then its fetched values, flat.
        """
        return self._execute(*self._arguments(start, stop, step, count=False, bare=self._lead == 0))[1:]

    def _run(self, start: int | None = None, stop: int | None = None, step: int | None = None) -> list[Row]:
        """The rows ([pk], fetched values...) of one run."""
        return self._rows(self._flat(start, stop, step), self._lead)

    def _rows(self, flat: list[object], lead: int) -> list[Row]:
        width = lead + len(self._fetch)
        items = [replies.optional_bytes(item) for item in flat]
        return [items[i : i + width] for i in range(0, len(items), width)]

    def _results(self, flat: list[object], lead: int) -> list[R]:
        """What a reply's rows yield, decoded a column at a time (one map per field, not a call per
        value), and assembled by zip for values: the same as ``_result`` on each row."""
        shape = self._shape
        if shape == "instances":
            return [self._result(row) for row in self._rows(flat, lead)]
        width = lead + len(self._fetch)
        if shape == "pks":
            return cast("list[R]", _column(_field_read(self.model._pk_field()), flat[::width]))
        columns = [_column(read, flat[i::width]) for i, read in enumerate(self._fetch, lead)]
        if shape == "flat":
            return cast("list[R]", columns[0])
        if not columns:  # values_list() always reads a field; kept exact all the same
            return [self._result(row) for row in self._rows(flat, lead)]
        if shape == "tuples":
            return cast("list[R]", list(zip(*columns)))
        names = [read.name for read in self._fetch]
        return cast("list[R]", [dict(zip(names, values)) for values in zip(*columns)])

    def _result(self, row: Row) -> R:
        """What one row ([pk], fetched values...) yields."""
        shape = self._shape
        if shape in ("instances", "pks"):
            raw_pk = row[0]
            assert raw_pk is not None
            if shape == "instances":
                return cast(R, self.model._from_stored_pk(raw_pk))
            return cast(R, self.model._decode_pk(raw_pk))
        values = [_decoded(read, raw) for read, raw in zip(self._fetch, row[len(row) - len(self._fetch):])]
        if shape == "flat":
            return cast(R, values[0])
        if shape == "tuples":
            return cast(R, tuple(values))
        return cast(R, {read.name: value for read, value in zip(self._fetch, values)})

    def _all(self) -> list[object]:
        if self._cache is None:
            self._cache = self._flat()
        return self._cache

    def __iter__(self) -> Iterator[R]:
        return iter(self._results(self._all(), self._lead))

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
                return [self._result(row) for row in self._rows(self._cache, self._lead)[index]]
            return self._results(self._flat(index.start, index.stop, index.step), self._lead)
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"collection indices must be integers or slices, not {type(index).__name__}")
        if self._cache is not None:
            width = self._lead + len(self._fetch)
            count = len(self._cache) // width
            at = index + count if index < 0 else index
            if not 0 <= at < count:
                raise IndexError("collection index out of range")
            return self._result(self._rows(self._cache[at * width : (at + 1) * width], self._lead)[0])
        found = self._run(index, index + 1 if index != -1 else None)
        if not found:
            raise IndexError("collection index out of range")
        return self._result(found[0])

    def get(self, pk: K, /) -> R:
        """The result with this pk (an instance, its pk or its values, as the collection yields),
        if it exists and matches the collection; DoesNotExist otherwise. One round trip.

        ``Person.collection().values_list(Person.name, Person.age).get(pk)`` reads an instance's
        values by pk: its existence checked and its fields read by one script, atomically.
        """
        encoded = self.model._encode_pk(pk)
        if self._condition is None and self._stored_key is None and all(
            read.mode in ("pk", "islot", "string") for read in self._fetch
        ):
            reply = scripts.READ(self.model.database, [self.model._keys.pks], [encoded, *_read_args(self._fetch)])
            if reply is None:
                raise DoesNotExist(f"{self.model.__name__} pk={pk!r} does not exist")
            assert isinstance(reply, list)
            return self._result(self._rows(cast("list[object]", reply), 1)[0])  # read.lua: pk first
        # Conditions, a stored collection or values read elsewhere: the query, with this pk ANDed.
        clone = self._clone()
        clone._add([Condition("pks", values=(encoded,))], {})
        found = clone._results(clone._flat(), clone._lead)
        if not found:
            raise DoesNotExist(f"{self.model.__name__} pk={pk!r} does not exist or does not match the collection")
        return found[0]

    def first(self) -> R | None:
        """The first result (in the collection's order), or None when nothing matches: one round trip."""
        found = self[:1]
        return found[0] if found else None

    def __len__(self) -> int:
        """The number of results; runs the whole query once and keeps its results (see ``count``)."""
        return len(self._all()) // (self._lead + len(self._fetch))

    def count(self) -> int:
        """How many instances match now, counted on the server (exact, one round trip, no pk sent back)."""
        return replies.integer(self._execute(*self._arguments(None, None, None, count=True))[0])

    def exists(self) -> bool:
        """Whether anything matches (one round trip)."""
        return self.count() > 0

    def delete(self, batch_size: int = 500) -> int:
        """Delete every matching instance (each atomically, with its index entries); how many were deleted.

        Instances are found and deleted in batches of ``batch_size`` (one query, then one pipelined
        round of delete scripts per batch), so memory stays bounded whatever the collection's size.
        Relations pointing to them follow their ``on_delete``; an instance a protected relation
        holds is not deleted, and the ProtectedError raised says how many were (``deleted``).
        """
        from .exceptions import ProtectedError
        from .writes import delete_instances

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        pks = self.primary_keys()
        deleted = 0
        while True:
            batch = [row[0] for row in pks._run(0, batch_size) if row[0] is not None]
            if not batch:
                return deleted
            try:
                gone = delete_instances(self.model, batch)
            except ProtectedError as exc:
                raise ProtectedError(exc.reason, deleted + exc.deleted, "matching instance(s)") from None
            deleted += gone
            if gone == 0:  # what is left is not ours to delete (another client raced us)
                return deleted

    def update(self, *, batch_size: int = 500, **values: object) -> int:
        """Assign ``values`` (field=value, as the constructor takes them) to every matching instance.

        Every value is checked before anything is written. The matches are found by one query;
        each instance is then updated by its own atomic script (indexes exact), pipelined by
        ``batch_size``. Returns how many were updated (one deleted meanwhile is skipped). A unique
        field can only be updated on a collection of at most one instance.
        """
        from .writes import update_instances

        stored = {}
        for name, value in values.items():
            field = self.model._fields.get(name)
            if field is None or field.is_pk:
                raise QueryError(f"{self.model.__name__}.update(): no field {name!r} to update")
            stored[field] = field.values_to_store(value)
        pks = [row[0] for row in self.primary_keys()._run() if row[0] is not None]
        return update_instances(self.model, pks, stored, batch_size) if stored else 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.model.__name__}: {list(self)!r}>"


Row = list[bytes | None]


def _read_args(fetch: tuple[_Read, ...]) -> list[Arg]:
    """The scripts' arguments for these fields, in groups: consecutive slots of one hash as one
    (one HMGET: "islot", prefix, n, slots...), "string"/"score"/"stored" and their prefix or key, "pk"."""
    args: list[Arg] = []
    slots: list[Arg] = []
    prefix = ""
    for read in fetch:
        if read.mode == "islot" and slots and read.prefix == prefix:
            slots.append(read.slot)
            continue
        if slots:
            args += ["islot", prefix, len(slots), *slots]
            slots = []
        if read.mode == "islot":
            prefix = read.prefix
            slots = [read.slot]
        elif read.mode == "pk":
            args.append("pk")
        else:
            args += [read.mode, read.prefix]
    if slots:
        args += ["islot", prefix, len(slots), *slots]
    return args


def _decoded(read: _Read, raw: bytes | None) -> object:
    """One value, through the codec's own decoder when the field has one (fewer calls than decode)."""
    if raw is None:
        return None
    fast = read.fast
    return fast(raw) if fast is not None else read.decode(raw)


def _column(read: _Read, raw: list[object]) -> list[object]:
    """The decoded values of one fetched field over every result (raw: its values as replied)."""
    fast = read.fast
    if fast is not None and None not in raw:
        try:
            return list(map(fast, cast("list[bytes]", raw)))
        except TypeError:  # not bytes: a reply shaped otherwise, checked one value at a time below
            pass
    decode = read.decode
    return [decode(replies.optional_bytes(item)) for item in raw]


class Page(NamedTuple, Generic[T1]):
    """A page of results: ``items``, the ``cursor`` of the next page (None: none), and how many
    results followed the previous cursor (this page's included)."""

    items: list[T1]
    cursor: str | None
    remaining: int


def _sort_signature(sort: _Sort) -> str:
    return f"{sort.read.mode}:{sort.read.name}:{sort.read.prefix}:{int(sort.desc)}:{int(sort.alpha)}"


def _make_cursor(signature: str, value: bytes | None, pk: bytes) -> str:
    """An opaque cursor: the place of the last item (its sort value and pk) in one sort order."""
    payload = json.dumps([signature, value is not None, (value or b"").hex(), pk.hex()])
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _read_cursor(cursor: str, signature: str) -> tuple[str, bytes, bytes]:
    try:
        found, present, value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        parsed = ("1" if present else "0", bytes.fromhex(value), bytes.fromhex(pk))
    except (ValueError, TypeError) as exc:
        raise QueryError(f"not a page cursor: {cursor!r}") from exc
    if found != signature:
        raise QueryError("this cursor belongs to a collection sorted another way")
    return parsed
