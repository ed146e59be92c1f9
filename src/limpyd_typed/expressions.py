"""Conditions built from class attributes: ``Bike.name == "x"`` is a ``Condition[Bike]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .fields.base import Field

M = TypeVar("M")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Condition(Generic[M]):
    """A filter on one indexed field of model ``M``: the field holds ``value``.

    For a multi-value field (Set, List, SortedSet) it means "holds this value among others"; for a
    Hash field ``sub_key`` names the dict key.
    """

    field: Field[Any, Any, Any]
    value: object
    sub_key: str | None = None


class Attr(Generic[M, T]):
    """What a field is on its model class: ``Bike.name``. Comparisons build conditions."""

    __slots__ = ("field",)

    def __init__(self, field: Field[T, Any, Any]) -> None:
        self.field = field

    def __eq__(self, value: T) -> Condition[M]:  # type: ignore[override]
        return Condition(self.field, value)

    def __ne__(self, value: object) -> bool:
        raise TypeError(f"{self.field.qualname} != ...: negation is not supported by collections yet")

    def __hash__(self) -> int:
        return hash(self.field)

    @property
    def name(self) -> str:
        return self.field.name

    def __repr__(self) -> str:
        return f"<Attr {self.field.qualname}>"
