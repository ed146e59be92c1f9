"""PK and AutoPK: the primary key, which names every key of an instance and never changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast, Generic, TypeVar

from ..exceptions import ImplementationError
from .base import MISSING, SingleValueField

if TYPE_CHECKING:
    from ..model import Model

T = TypeVar("T")


class BoundPK(Generic[T]):
    """The primary key of one instance; known without asking Redis."""

    __slots__ = ("_field", "_instance")

    def __init__(self, field: PK[T], instance: Model[Any]) -> None:
        self._field = field
        self._instance = instance

    def get(self) -> T:
        """The pk value."""
        return cast(T, self._instance.pk_value)

    def __repr__(self) -> str:
        return f"<PK {self._field.qualname}={self.get()!r}>"


class PK(SingleValueField[T, BoundPK[T], T], Generic[T]):
    """A primary key given at creation: ``name: PK[str]``. Reachable as ``.pk`` whatever its name."""

    kind = "pk"
    bound_class = BoundPK

    is_pk = True

    def check_declaration(self) -> None:
        if self.codec.nullable:
            raise self.implementation_error("is a primary key: it cannot be None")
        if self.options.default is not MISSING:  # one default would be every instance's pk
            raise self.implementation_error("is a primary key: it cannot have a default (give each instance its own)")
        super().check_declaration()

    def assign(self, instance: Model[Any], value: object) -> None:
        raise ImplementationError(f"{self.qualname} is the primary key of {instance!r}: it cannot change")


class AutoPK(PK[int]):
    """An auto-incremented integer primary key (1, 2, 3...), added as ``pk`` when none is declared.

    Declare one under another name with ``id: AutoPK = field(init=False)``.
    """

