"""Reading a model class: its annotations become fields, its ``Model[X]`` base gives the pk type."""

from __future__ import annotations

import sys
import typing
from typing import Any

from .exceptions import ImplementationError
from .fields.base import MISSING, Field, FieldOptions
from .fields.pk import AutoPK


def _resolve(klass: type, name: str, annotation: object) -> object:
    """The annotation of ``klass.name`` as an object (a string under ``from __future__ import annotations``)."""
    if not isinstance(annotation, str):
        return annotation
    namespace = {**vars(sys.modules[klass.__module__]), klass.__name__: klass}
    try:
        return eval(annotation, namespace, dict(vars(klass)))  # noqa: S307 - the class's own annotation
    except NameError as exc:
        raise ImplementationError(f"{klass.__name__}.{name}: cannot resolve annotation {annotation!r} ({exc})") from None


def _options(declared: object) -> FieldOptions:
    """What the class body assigned to a field: ``field(...)``, a plain default (``= None``), or nothing."""
    if isinstance(declared, FieldOptions):
        return declared
    if declared is MISSING:
        return FieldOptions()
    return FieldOptions(default=declared)


def declared_fields(cls: type, base: type) -> dict[str, Field[Any, Any, Any]]:
    """Fields from the annotations of ``cls`` and of its bases below ``base``, bases first."""
    found: dict[str, Field[Any, Any, Any]] = {}
    for klass in reversed(cls.__mro__):
        if not issubclass(klass, base) or klass is base:
            continue
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():
            hint = _resolve(klass, name, annotation)
            origin = typing.get_origin(hint) or hint
            if not (isinstance(origin, type) and issubclass(origin, Field)):
                continue
            declared = klass.__dict__.get(name, MISSING)
            if isinstance(declared, Field):  # already built for a base class
                found[name] = declared
                continue
            args = typing.get_args(hint)
            if not args and origin is not AutoPK:
                raise ImplementationError(f"{cls.__name__}.{name}: say what {origin.__name__} holds, e.g. {origin.__name__}[str]")
            value_type: object = args[0] if args else int  # a bare AutoPK holds ints
            found[name] = origin(value_type, _options(declared))
    return found


def declared_pk_type(cls: type, base: type) -> object:
    """The ``X`` of the nearest ``base[X]`` in the bases of ``cls`` (int when there is none)."""
    for klass in cls.__mro__:
        for orig in klass.__dict__.get("__orig_bases__", ()):
            origin = typing.get_origin(orig)
            if isinstance(origin, type) and issubclass(origin, base):
                return typing.get_args(orig)[0]
    return int
