"""Reading a model class: its annotations become fields, its ``Model[X]`` base gives the pk type."""

from __future__ import annotations

import builtins
import sys
import typing
from typing import Any

from .exceptions import ImplementationError
from .fields.base import MISSING, Field, FieldOptions
from .fields.pk import AutoPK
from .fields.related import RelationField


class _Forward(dict[str, object]):
    """Class locals that turn an unknown name into the name itself: ``FK[Group]`` before Group exists."""

    def __init__(self, local: dict[str, object], namespace: dict[str, object]) -> None:
        super().__init__(local)
        self._namespace = namespace

    def __missing__(self, key: str) -> object:
        if key in self._namespace:
            return self._namespace[key]
        if hasattr(builtins, key):
            return getattr(builtins, key)
        return key


def _resolve(klass: type, name: str, annotation: object) -> object:
    """The annotation of ``klass.name`` as an object (a string under ``from __future__ import annotations``)."""
    if not isinstance(annotation, str):
        return annotation
    namespace = {**vars(sys.modules[klass.__module__]), klass.__name__: klass}
    try:
        return eval(annotation, namespace, dict(vars(klass)))  # noqa: S307 - the class's own annotation
    except NameError as exc:
        # A relation may name a model defined later: FK[Group] then holds the name "Group".
        hint = eval(annotation, namespace, _Forward(dict(vars(klass)), namespace))  # noqa: S307
        origin = typing.get_origin(hint) or hint
        if isinstance(origin, type) and issubclass(origin, RelationField):
            return hint
        if not (isinstance(origin, type) and issubclass(origin, Field)):
            return hint  # not a field (a ClassVar naming a later class...): not ours to resolve
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
            if isinstance(value_type, typing.ForwardRef):  # FK["Group"]
                value_type = value_type.__forward_arg__
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
