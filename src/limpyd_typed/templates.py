"""Per-model parts of the write scripts' arguments, computed once per model class, not per write.

What a model's fields are (kind, key prefix, hash slot, index key and mode, normalisation) is fixed
when the class is created: a write only adds its pk and values to these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .database import Arg

if TYPE_CHECKING:
    from .fields.base import Field
    from .model import Model


class CreateTemplate:
    """KEYS and the leading ARGV of create.lua for one model, and its field descriptor numbers."""

    __slots__ = ("keys", "head", "descriptor_of", "fields")

    def __init__(self, model: type[Model[Any]]) -> None:
        self.fields: list[Field[Any, Any, Any]] = [f for f in model._fields.values() if not f.is_pk]
        self.keys: list[str] = [model._keys.pks, model._keys.next_pk]
        self.head: list[Arg] = [len(self.fields)]
        for field in self.fields:
            position = 0
            if field.index_key:
                self.keys.append(field.index_key)
                position = len(self.keys)
            self.head += [field.kind, field.key_prefix, field.slot, field.index_mode, position, field.index_form]
        # Descriptor numbers, 1-based as the script counts them.
        self.descriptor_of: dict[Field[Any, Any, Any], int] = {f: n for n, f in enumerate(self.fields, 1)}


class StoreTemplate:
    """What a constructor (or a bulk_create row) of one model accepts, defaults and requires."""

    __slots__ = ("accepted", "pk_name", "fillable")

    def __init__(self, model: type[Model[Any]]) -> None:
        from .fields.pk import AutoPK

        # Names a constructor accepts: init fields, an AutoPK aside (the server gives it).
        self.accepted: dict[str, Field[Any, Any, Any]] = {
            name: f for name, f in model._fields.items() if f.options.init and not (f.is_pk and isinstance(f, AutoPK))}
        self.pk_name: str = model._pk_name
        # Fields defaulted, or required, when a constructor does not name them.
        self.fillable: list[tuple[str, Field[Any, Any, Any]]] = [
            (name, f) for name, f in model._fields.items() if not isinstance(f, AutoPK)]


T = TypeVar("T")


def per_model(model: type[Model[Any]], name: str, build: Callable[[type[Model[Any]]], T]) -> T:
    """``build(model)``, computed once per model class and kept on the class itself (in its own
    ``__dict__``: a subclass computes its own), so that it goes when the class goes."""
    found: T | None = model.__dict__.get(name)
    if found is None:
        found = build(model)
        setattr(model, name, found)
    return found


def create_template(model: type[Model[Any]]) -> CreateTemplate:
    return per_model(model, "_create_template", CreateTemplate)


def store_template(model: type[Model[Any]]) -> StoreTemplate:
    return per_model(model, "_store_template", StoreTemplate)
