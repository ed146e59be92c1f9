"""Planning a query: conditions checked against the indexes and compiled for the query script.

A plan is the condition tree in prefix notation, every leaf a lex range of one index (the index
members of a value are an exact lex range, see indexes.py):

    and N <child>...      or N <child>...      not <child>      all
    eq <key> <entry> <parts>             the instances holding exactly this entry
    range <key> <low> <high> <parts> <mode> <prefix> <slot> <how>
                                         the instances with an entry in [low, high] (ZRANGEBYLEX bounds);
                                         mode, prefix, slot: how to read the field's single value of an
                                         instance (mode "" when it has several), how: its index form
    pk <pk>                              the instance with this pk, if it exists
    members <key>                        the existing pks among the members of a set, list or sorted set
    stored <key>                         the existing pks of a stored collection (its list, after a header)

``<key>`` is a position in KEYS; ``<parts>`` how many NUL-separated parts an entry has (2 for a
Hash: sub-key and value), so the script finds the pk after them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from . import indexes
from .database import Arg
from .exceptions import QueryError
from .expressions import EQUALITY_OPS, ORDER_OPS, PREFIX_OPS, Condition
from .fields.base import MISSING, BoundField
from .fields.hash import sub_key_bytes

if TYPE_CHECKING:
    from .fields.base import Field
    from .model import Model

# Keyword suffixes of the seed-style filters (``age__gte=30``) and the operators they stand for.
SUFFIXES: Mapping[str, str] = {
    "eq": "eq", "in": "in", "lt": "lt", "lte": "le", "gt": "gt", "gte": "ge",
    "between": "between", "startswith": "startswith",
}


@dataclass
class Plan:
    """KEYS for the query script (the pks set first) and the compiled tree."""

    keys: list[str]
    tokens: list[Arg] = field(default_factory=list)

    def key(self, name: str) -> int:
        if name not in self.keys:
            self.keys.append(name)
        return self.keys.index(name) + 1


def condition_from_keyword(model: type[Model[Any]], name: str, value: object) -> Condition[Any]:
    """``name=value``, ``name__gte=value``, ``hashfield__subkey=value``, ``hashfield__subkey__lt=value``."""
    field_name, *rest = name.split("__")
    f = model._fields.get(field_name)
    if f is None:
        raise QueryError(f"{model.__name__} has no field {field_name!r} to filter on")
    sub_key: str | None = None
    if f.kind == "hash":
        if not rest:
            raise QueryError(f"{f.qualname} is a Hash: filter on one of its keys, e.g. {field_name}__<key>=value")
        sub_key, rest = rest[0], rest[1:]
    if len(rest) > 1 or (rest and rest[0] not in SUFFIXES):
        known = ", ".join(f"__{s}" for s in SUFFIXES)
        raise QueryError(f"{f.qualname}: unknown filter {name!r} (suffixes: {known})")
    op = SUFFIXES[rest[0]] if rest else "eq"
    if op == "in":
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise QueryError(f"{f.qualname}__in takes a collection of values, got {value!r}")
        values = tuple(cast("Iterable[object]", value))
    elif op == "between":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise QueryError(f"{f.qualname}__between takes a (low, high) pair, got {value!r}")
        values = tuple(value)
    else:
        values = (value,)
    return Condition(op, f, values, sub_key)


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix`` (None: no bound)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


class Planner:
    """Compiles the conditions of one model into a Plan, refusing what the indexes cannot answer."""

    def __init__(self, model: type[Model[Any]], resolve: bool = False) -> None:
        self.model = model
        self.plan = Plan([model._keys.pks])
        # Read the values that are fields of other instances (city=me.city): when the collection
        # runs, not when it is built.
        self.resolve = resolve
        # Whether the plan holds a value left to read when the collection runs (not resolving).
        self.deferred = False

    def add(self, condition: Condition[Any] | None) -> Plan:
        if condition is None:
            self.plan.tokens.append("all")
        else:
            self._compile(condition)
        return self.plan

    def _compile(self, condition: Condition[Any]) -> None:
        if not isinstance(condition, Condition):
            raise QueryError(f"expected a condition such as {self.model.__name__}.name == 'x', got {condition!r}")
        tokens = self.plan.tokens
        if condition.op in ("and", "or"):
            tokens += [condition.op, len(condition.children)]
            for child in condition.children:
                self._compile(child)
        elif condition.op == "not":
            tokens.append("not")
            self._compile(condition.children[0])
        elif condition.op == "pks":
            tokens += ["or", len(condition.values)]
            for pk in condition.values:
                tokens += ["pk", cast(bytes, pk)]
        elif condition.op in ("members", "stored"):
            tokens += [condition.op, self.plan.key(cast(str, condition.values[0]))]
        else:
            self._leaf(condition)

    def _value(self, f: Field[Any, Any, Any], value: object) -> object:
        """A condition's operand; a single-value field of an instance is read now, when resolving."""
        if not isinstance(value, BoundField):
            return value
        source: BoundField[Any] = value
        if source._field.multi or not hasattr(source, "get"):
            raise QueryError(f"{f.qualname}: a filter value may be a single-value field, not {source!r}")
        if not self.resolve:
            self.deferred = True
            return MISSING  # checked when the collection runs
        read: Callable[[], object] = getattr(source, "get")
        found = read()
        if found is None:
            raise QueryError(f"{f.qualname}: the filter value {source!r} has no value; None is never indexed")
        return found

    def _leaf(self, condition: Condition[Any]) -> None:
        f = condition.field
        assert f is not None
        op = condition.op
        values = tuple(self._value(f, v) for v in condition.values)
        if f.model is not self.model:
            raise QueryError(f"a condition on {f.qualname} cannot filter {self.model.__name__}")
        if any(v is None for v in values):
            raise QueryError(f"{f.qualname} {op} None: None is never indexed; no query can answer it")
        if f.kind == "hash" and condition.sub_key is None:
            raise QueryError(f"{f.qualname} is a Hash: filter on one of its keys, e.g. {f.name}__<key>=value")
        if f.is_pk:
            self._pk_leaf(f, op, values)
            return
        if not f.indexed:
            raise QueryError(f"{f.qualname} is not indexed: declare it with field(indexable=True) to filter on it")
        if op in ORDER_OPS and not f.answers_order:
            raise QueryError(
                f"{f.qualname} {op}: its index only answers equality; declare it with field(index='range') "
                f"(numbers, dates) or field(index='text') (str, bytes)"
            )
        if op in PREFIX_OPS and f.index_kind != "text":
            raise QueryError(f"{f.qualname} startswith: needs a text index, field(index='text') on a str or bytes field")
        if op not in EQUALITY_OPS | ORDER_OPS | PREFIX_OPS:
            raise QueryError(f"{f.qualname}: unknown operator {op!r}")
        self._index_leaf(f, op, values, condition.sub_key)

    def _pk_leaf(self, f: Field[Any, Any, Any], op: str, values: tuple[object, ...]) -> None:
        if op not in EQUALITY_OPS:
            raise QueryError(f"{f.qualname} {op}: the primary key answers equality only")
        tokens = self.plan.tokens
        if op == "in":
            tokens += ["or", len(values)]
        for value in values:
            tokens += ["pk", self.model._encode_pk(value)]

    def _index_leaf(self, f: Field[Any, Any, Any], op: str, values: tuple[object, ...], sub_key: str | None) -> None:
        pos = self.plan.key(f.index_key)
        parts = 1
        prefix = b""
        if sub_key is not None:
            prefix = indexes.escape(sub_key_bytes(f.qualname, sub_key)) + b"\x00"
            parts = 2
        # The bounds of "every entry of this field" (of this sub-key, for a Hash).
        low_all = b"-" if not prefix else b"[" + prefix
        high_all = b"+" if not prefix else b"(" + prefix[:-1] + b"\x01"

        def entry(value: object) -> bytes:
            if value is MISSING:  # a field's value, read when the collection runs
                return prefix
            return prefix + indexes.escape(f.index_value(f.encode(value)))

        # A range leaf on a single-value field also says how to read that value, as the write scripts
        # index it (kind, prefix, slot, index form), so the query script can test a few candidates
        # by their value instead of reading the whole range (see query.lua).
        single = f.kind in ("islot", "string") and sub_key is None
        reader: list[Arg] = [f.kind, f.key_prefix, f.slot, f.index_form] if single else ["", "", "", ""]
        tokens = self.plan.tokens
        if op == "eq":
            tokens += ["eq", pos, entry(values[0]), parts]
        elif op == "in":
            tokens += ["or", len(values)]
            for value in values:
                tokens += ["eq", pos, entry(value), parts]
        elif op == "startswith":
            start = prefix + (b"" if values[0] is MISSING else indexes.escape(f.encode(values[0])))
            after = _successor(start)
            tokens += ["range", pos, b"[" + start, high_all if after is None else b"(" + after, parts, *reader]
        else:
            low, high = low_all, high_all
            if op == "lt":
                high = b"(" + entry(values[0]) + b"\x00"
            elif op == "le":
                high = b"(" + entry(values[0]) + b"\x01"
            elif op == "gt":
                low = b"[" + entry(values[0]) + b"\x01"
            elif op == "ge":
                low = b"[" + entry(values[0]) + b"\x00"
            else:  # between, inclusive
                low = b"[" + entry(values[0]) + b"\x00"
                high = b"(" + entry(values[1]) + b"\x01"
            tokens += ["range", pos, low, high, parts, *reader]
