"""What a model occupies in Redis: its key layout, counts and memory (``python -m limpyd_typed inspect``).

Keys are read by SCAN and measured by MEMORY USAGE in pipelined batches: memory stays bounded
whatever the model's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from . import replies
from .keys import split_key

if TYPE_CHECKING:
    from .database import Database
    from .model import Model


K = TypeVar("K")  # the pk type of the model inspected


@dataclass(frozen=True, slots=True)
class FieldLayout:
    """One field: where its values live, how many keys it has, the size of its index."""

    name: str
    kind: str  # string | islot | hash | set | list | zset | pk
    pattern: str  # the keys holding its values ("" for the pk, which names keys but has none)
    keys: int  # keys of this field (InstanceHash fields share the instance hashes, counted once as "")
    index_key: str  # "" when not indexed
    index_size: int


@dataclass(frozen=True, slots=True)
class ModelLayout:
    model: str
    pattern: str  # every key of the model
    pks_key: str
    instances: int
    fields: tuple[FieldLayout, ...]
    instance_hashes: int
    keys: int  # every key of the model, indexes and meta keys included
    other_keys: int  # keys outside the layout (e.g. of a field no longer declared)
    memory_bytes: int  # MEMORY USAGE summed over every key


def inspect_model(model: type[Model[K]], *, database: Database | None = None, batch: int = 500,
                  progress: Callable[[int], object] | None = None) -> ModelLayout:
    """Scan every key of ``model``: counts per field, index sizes and the memory they use."""
    model._check_usable()
    db = database or model.database
    per_field: dict[str, int] = {}
    hashes = other = total = memory = 0
    for names in db.scan_keys(model._keys.pattern, count=batch):
        for name in names:
            parsed = split_key(model._keys, name.decode())
            if parsed is None:
                other += 1
            elif parsed[0] == "obj":
                hashes += 1
            elif parsed[0] == "f":
                per_field[parsed[1]] = per_field.get(parsed[1], 0) + 1
        usages = db.execute_batch([("MEMORY", "USAGE", name) for name in names]) if names else []
        memory += sum(replies.optional_integer(u) or 0 for u in usages)  # None: deleted meanwhile
        total += len(names)
        if progress:
            progress(len(names))
    fields = []
    for f in model._fields.values():
        index_size = replies.integer(db.execute("ZCARD", f.index_key)) if f.index_key else 0
        pattern = "" if f.is_pk else f.key_prefix + "*"
        fields.append(FieldLayout(f.name, f.kind, pattern, per_field.get(f.name, 0), f.index_key, index_size))
    instances = replies.integer(db.execute("SCARD", model._keys.pks))
    return ModelLayout(model.__name__, model._keys.pattern, model._keys.pks, instances, tuple(fields),
                       hashes, total, other, memory)
