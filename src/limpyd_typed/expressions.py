"""Conditions built from class attributes: ``Person.age >= 30`` is a ``Condition[Person]``.

Conditions combine with ``&``, ``|`` and ``~`` into a tree, which the query planner (query.py)
checks against the fields' indexes and the query script evaluates on the server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from .codecs import Scalar
    from .fields.base import Field

M = TypeVar("M")
T = TypeVar("T")
M_co = TypeVar("M_co", covariant=True)
T_co = TypeVar("T_co", covariant=True)

# Leaf operators, and what each needs from the field's index.
EQUALITY_OPS = frozenset({"eq", "in"})
ORDER_OPS = frozenset({"lt", "le", "gt", "ge", "between"})
PREFIX_OPS = frozenset({"startswith"})


@dataclass(frozen=True, slots=True)
class Condition(Generic[M]):
    """A filter on model ``M``: a leaf on one field, or ``and``/``or``/``not`` of conditions.

    A leaf's ``op`` is one of eq, in, lt, le, gt, ge, between, startswith; ``values`` holds its
    operands. For a multi-value field (Set, List, SortedSet) a leaf holds when one of the values
    matches; for a Hash field ``sub_key`` names the dict key.
    """

    op: str
    field: Field[Any, Any, Any] | None = None
    values: tuple[object, ...] = ()
    sub_key: str | None = None
    children: tuple[Condition[M], ...] = ()

    def __and__(self, other: Condition[M]) -> Condition[M]:
        return Condition("and", children=(self, other))

    def __or__(self, other: Condition[M]) -> Condition[M]:
        return Condition("or", children=(self, other))

    def __invert__(self) -> Condition[M]:
        return Condition("not", children=(self,))

    def __repr__(self) -> str:
        if self.field is None:
            return f"{self.op}({', '.join(map(repr, self.children))})"
        name = self.field.qualname + (f"[{self.sub_key!r}]" if self.sub_key is not None else "")
        return f"{name} {self.op} {', '.join(map(repr, self.values))}"


class Selectable(Protocol[M_co, T_co]):
    """A single-value field attribute of model ``M_co`` holding ``T_co``, as values_list() reads it.

    Covariant, unlike Attr: mypy then infers ``values_list(Person.name)`` as well from context
    (``rows: list[tuple[str | None]] = list(...)``) as without. (So a subclass's attribute passes
    for its base's here: values_list() refuses it at run time.)
    """

    @property
    def _selects(self) -> tuple[M_co, T_co]: ...


class Attr(Generic[M, T]):
    """What a field is on its model class: ``Person.age``. Comparisons build conditions.

    The operators a field's index answers are checked when a collection is built; the operand
    types are checked statically (``Person.age >= "x"`` is a type error).
    """

    __slots__ = ("field", "sub_key")

    def __init__(self, field: Field[T, Any, Any], sub_key: str | None = None) -> None:
        self.field = field
        self.sub_key = sub_key

    def _leaf(self, op: str, *values: object) -> Condition[M]:
        return Condition(op, self.field, values, self.sub_key)

    def __eq__(self, value: T) -> Condition[M]:  # type: ignore[override]
        return self._leaf("eq", value)

    def __ne__(self, value: T) -> Condition[M]:  # type: ignore[override]
        """Not equal: every instance but those holding ``value`` (instances without a value included)."""
        return ~self._leaf("eq", value)

    def in_(self, values: Iterable[T]) -> Condition[M]:
        """Holds one of ``values``."""
        if isinstance(values, (str, bytes)):  # a str is an iterable of str: surely a mistake
            from .exceptions import QueryError

            raise QueryError(f"{self.field.qualname}.in_() takes a collection of values, got {values!r}")
        return self._leaf("in", *values)

    # One overload per value type (not a constrained TypeVar over a union self-type, from which mypy
    # would take the type from the operand alone): `age >= "30"` and `<` on a bool are type errors.
    @overload
    def __lt__(self: Attr[M, int] | Attr[M, int | None], value: int) -> Condition[M]: ...
    @overload
    def __lt__(self: Attr[M, float] | Attr[M, float | None], value: float) -> Condition[M]: ...
    @overload
    def __lt__(self: Attr[M, Decimal] | Attr[M, Decimal | None], value: Decimal) -> Condition[M]: ...
    @overload
    def __lt__(self: Attr[M, datetime] | Attr[M, datetime | None], value: datetime) -> Condition[M]: ...
    @overload
    def __lt__(self: Attr[M, date] | Attr[M, date | None], value: date) -> Condition[M]: ...
    @overload
    def __lt__(self: Attr[M, str] | Attr[M, str | None], value: str) -> Condition[M]: ...
    @overload
    def __lt__(self: Attr[M, bytes] | Attr[M, bytes | None], value: bytes) -> Condition[M]: ...
    def __lt__(self, value: object) -> Condition[M]:
        return self._leaf("lt", value)

    @overload
    def __le__(self: Attr[M, int] | Attr[M, int | None], value: int) -> Condition[M]: ...
    @overload
    def __le__(self: Attr[M, float] | Attr[M, float | None], value: float) -> Condition[M]: ...
    @overload
    def __le__(self: Attr[M, Decimal] | Attr[M, Decimal | None], value: Decimal) -> Condition[M]: ...
    @overload
    def __le__(self: Attr[M, datetime] | Attr[M, datetime | None], value: datetime) -> Condition[M]: ...
    @overload
    def __le__(self: Attr[M, date] | Attr[M, date | None], value: date) -> Condition[M]: ...
    @overload
    def __le__(self: Attr[M, str] | Attr[M, str | None], value: str) -> Condition[M]: ...
    @overload
    def __le__(self: Attr[M, bytes] | Attr[M, bytes | None], value: bytes) -> Condition[M]: ...
    def __le__(self, value: object) -> Condition[M]:
        return self._leaf("le", value)

    @overload
    def __gt__(self: Attr[M, int] | Attr[M, int | None], value: int) -> Condition[M]: ...
    @overload
    def __gt__(self: Attr[M, float] | Attr[M, float | None], value: float) -> Condition[M]: ...
    @overload
    def __gt__(self: Attr[M, Decimal] | Attr[M, Decimal | None], value: Decimal) -> Condition[M]: ...
    @overload
    def __gt__(self: Attr[M, datetime] | Attr[M, datetime | None], value: datetime) -> Condition[M]: ...
    @overload
    def __gt__(self: Attr[M, date] | Attr[M, date | None], value: date) -> Condition[M]: ...
    @overload
    def __gt__(self: Attr[M, str] | Attr[M, str | None], value: str) -> Condition[M]: ...
    @overload
    def __gt__(self: Attr[M, bytes] | Attr[M, bytes | None], value: bytes) -> Condition[M]: ...
    def __gt__(self, value: object) -> Condition[M]:
        return self._leaf("gt", value)

    @overload
    def __ge__(self: Attr[M, int] | Attr[M, int | None], value: int) -> Condition[M]: ...
    @overload
    def __ge__(self: Attr[M, float] | Attr[M, float | None], value: float) -> Condition[M]: ...
    @overload
    def __ge__(self: Attr[M, Decimal] | Attr[M, Decimal | None], value: Decimal) -> Condition[M]: ...
    @overload
    def __ge__(self: Attr[M, datetime] | Attr[M, datetime | None], value: datetime) -> Condition[M]: ...
    @overload
    def __ge__(self: Attr[M, date] | Attr[M, date | None], value: date) -> Condition[M]: ...
    @overload
    def __ge__(self: Attr[M, str] | Attr[M, str | None], value: str) -> Condition[M]: ...
    @overload
    def __ge__(self: Attr[M, bytes] | Attr[M, bytes | None], value: bytes) -> Condition[M]: ...
    def __ge__(self, value: object) -> Condition[M]:
        return self._leaf("ge", value)

    @overload
    def between(self: Attr[M, int] | Attr[M, int | None], low: int, high: int) -> Condition[M]: ...
    @overload
    def between(self: Attr[M, float] | Attr[M, float | None], low: float, high: float) -> Condition[M]: ...
    @overload
    def between(self: Attr[M, Decimal] | Attr[M, Decimal | None], low: Decimal, high: Decimal) -> Condition[M]: ...
    @overload
    def between(self: Attr[M, datetime] | Attr[M, datetime | None], low: datetime, high: datetime) -> Condition[M]: ...
    @overload
    def between(self: Attr[M, date] | Attr[M, date | None], low: date, high: date) -> Condition[M]: ...
    @overload
    def between(self: Attr[M, str] | Attr[M, str | None], low: str, high: str) -> Condition[M]: ...
    @overload
    def between(self: Attr[M, bytes] | Attr[M, bytes | None], low: bytes, high: bytes) -> Condition[M]: ...
    def between(self, low: object, high: object) -> Condition[M]:
        """``low <= value <= high``."""
        return self._leaf("between", low, high)

    @overload
    def startswith(self: Attr[M, str] | Attr[M, str | None], prefix: str) -> Condition[M]: ...
    @overload
    def startswith(self: Attr[M, bytes] | Attr[M, bytes | None], prefix: bytes) -> Condition[M]: ...
    def startswith(self, prefix: object) -> Condition[M]:
        """The text (or bytes) starts with ``prefix``."""
        return self._leaf("startswith", prefix)

    def __hash__(self) -> int:
        return hash((self.field, self.sub_key))

    @property
    def name(self) -> str:
        return self.field.name

    def __repr__(self) -> str:
        return f"<Attr {self.field.qualname}>"


class ValueAttr(Attr[M, T]):
    """A single-value field on its model class (String, InstanceHash, a pk): what values() and
    values_list() read. A multi-value field (Set, List, SortedSet, Hash, M2M) is a plain Attr:
    giving it to values_list() is a type error."""

    __slots__ = ()

    if TYPE_CHECKING:

        @property
        def _selects(self) -> tuple[M, T]: ...


R = TypeVar("R")


class RelationAttr(Attr[M, "Scalar | None"], Generic[M, R]):
    """What a relation field is on its model class (``Book.author``): compared with an instance of
    its target ``R`` or a pk (``Book.author == ann``, ``Book.author.in_([1, 2])``); an instance
    of another model is a type error."""

    __slots__ = ()

    if TYPE_CHECKING:

        def __eq__(self, value: R | Scalar | None) -> Condition[M]: ...  # type: ignore[override]
        def __ne__(self, value: R | Scalar | None) -> Condition[M]: ...  # type: ignore[override]
        def in_(self, values: Iterable[R | Scalar | None]) -> Condition[M]: ...


class FKAttr(RelationAttr[M, R]):
    """An FK on its model class: a relation whose single value, the related pk, values_list() reads."""

    __slots__ = ()

    if TYPE_CHECKING:

        @property
        def _selects(self) -> tuple[M, Scalar]: ...
