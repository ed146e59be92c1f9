"""The one place that builds Redis key names.

Layout for a model ``Name`` in namespace ``ns`` (every part escaped, see ``escape_part``)::

    lt:{ns:Name}:pks              set of the pks of every live instance
    lt:{ns:Name}:next_pk          counter behind AutoPK
    lt:{ns:Name}:obj:<pk>         the instance hash (all InstanceHash fields of one instance)
    lt:{ns:Name}:f:<field>:<pk>   a field stored in a key of its own (String, Hash, Set, List, SortedSet)
    lt:{ns:Name}:idx:<field>      the index of a field (a sorted set, see indexes.py)
    lt:{ns:Name}:stored:<random>  a stored collection (Collection.store), a list that expires

The ``{...}`` part is a Redis Cluster hash tag: every key of a model lives in one slot, so every
script that touches a model touches one slot.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

# Bytes left as they are inside a key part; everything else becomes %XX. The set excludes the
# separator ':', the hash-tag braces, glob characters (* ? [ ]), '>' (SORT's '->') and '%' itself,
# so two different parts can never produce the same key name.
_SAFE = re.compile(rb"[^A-Za-z0-9_.\-]")

ROOT = "lt"


def escape_part(raw: bytes | str) -> str:
    """Escape one component of a key name (a pk, a namespace, a model name)."""
    data = raw.encode() if isinstance(raw, str) else raw
    return _SAFE.sub(lambda m: b"%%%02X" % m.group()[0], data).decode("ascii")


@dataclass(frozen=True)
class ModelKeys:
    """Key names of one model, built once per model class (writes only append an escaped pk)."""

    namespace: str
    model_name: str
    tag: str = field(init=False, compare=False)
    pks: str = field(init=False, compare=False)
    next_pk: str = field(init=False, compare=False)
    # Prefix of instance hashes; the escaped pk completes it (the scripts append it too).
    instance_prefix: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        tag = f"{ROOT}:{{{escape_part(self.namespace)}:{escape_part(self.model_name)}}}"
        for name, value in (("tag", tag), ("pks", f"{tag}:pks"), ("next_pk", f"{tag}:next_pk"),
                            ("instance_prefix", f"{tag}:obj:")):
            object.__setattr__(self, name, value)  # frozen: computed once, here

    def field_prefix(self, field_name: str) -> str:
        """Prefix of a field's own keys; the escaped pk completes it."""
        return f"{self.tag}:f:{escape_part(field_name)}:"

    def instance_hash(self, pk: bytes) -> str:
        return self.instance_prefix + escape_part(pk)

    def field(self, field_name: str, pk: bytes) -> str:
        return self.field_prefix(field_name) + escape_part(pk)

    def stored(self) -> str:
        """A fresh key for a stored collection (store() without a key)."""
        return f"{self.tag}:stored:{uuid.uuid4().hex}"

    def scratch(self) -> str:
        """A fresh key for check_indexes() to note the unique values it finds unindexed."""
        return f"{self.tag}:check:{uuid.uuid4().hex}"

    def index(self, field_name: str) -> str:
        return f"{self.tag}:idx:{escape_part(field_name)}"

    @property
    def pattern(self) -> str:
        """A SCAN MATCH pattern for every key of the model (escaped parts hold no glob character)."""
        return f"{self.tag}:*"


def unescape_part(escaped: str) -> bytes:
    """The raw component behind an escaped key part (the inverse of ``escape_part``)."""
    return re.sub(rb"%([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped.encode("ascii"))


def split_key(keys: ModelKeys, name: str) -> tuple[str, str, bytes] | None:
    """What a key of the model holds: ``("obj", "", pk)``, ``("f", field, pk)``, or
    ``(kind, part, b"")`` for the model's own keys (pks, next_pk, idx, stored, check); None for a key
    outside the layout."""
    head = keys.tag + ":"
    if not name.startswith(head):
        return None
    parts = name[len(head):].split(":")
    try:
        if parts[0] == "obj" and len(parts) == 2:
            return "obj", "", unescape_part(parts[1])
        if parts[0] == "f" and len(parts) == 3:
            return "f", unescape_part(parts[1]).decode(), unescape_part(parts[2])
    except (UnicodeDecodeError, UnicodeEncodeError):
        return None
    if parts[0] in ("pks", "next_pk", "idx", "stored", "check"):
        return parts[0], ":".join(parts[1:]), b""
    return None
