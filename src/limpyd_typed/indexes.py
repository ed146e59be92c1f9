"""How index entries are written, mirrored by the Lua prelude (scripts/prelude.lua).

Every indexed field has one index: a sorted set whose members all have score 0, so Redis keeps
them in byte order. A member is ``entry \\0 pk`` where ``entry`` is the escaped stored value (for a
Hash field, ``escaped sub-key \\0 escaped value``). Escaping maps ``\\0`` to ``\\1\\1`` and ``\\1``
to ``\\1\\2``: escaped parts never contain ``\\0``, and the mapping keeps byte order, so

- the members of one value are exactly the lex range ``[entry\\0`` .. ``(entry\\1`` — a longer value
  sharing the prefix ('foo' and 'foo1') never falls inside it;
- range and prefix queries over the raw values are lex ranges too.

All index keys of a model are fixed names known before a write, so every write script declares them.
"""

from __future__ import annotations

from collections.abc import Iterable


def escape(raw: bytes) -> bytes:
    """Escape one part of an entry (order-preserving, never contains a NUL byte)."""
    return raw.replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01")


def unescape(escaped: bytes) -> bytes:
    """The part ``escape`` gave ``escaped``; a broken escape (a member written by hand) is kept as is."""
    out = bytearray()
    i = 0
    while i < len(escaped):
        byte = escaped[i]
        if byte == 1 and i + 1 < len(escaped):
            out.append(0 if escaped[i + 1] == 1 else 1)
            i += 2
        else:
            out.append(byte)
            i += 1
    return bytes(out)


def entry(parts: Iterable[bytes]) -> bytes:
    """The entry of a value (one part) or of a Hash item (sub-key, value)."""
    return b"\x00".join(escape(part) for part in parts)


def member(value_entry: bytes, pk: bytes) -> bytes:
    return value_entry + b"\x00" + escape(pk)


def pk_of(index_member: bytes) -> bytes:
    return unescape(index_member.rsplit(b"\x00", 1)[1])


def equal_range(value_entry: bytes) -> tuple[bytes, bytes]:
    """ZRANGEBYLEX bounds holding exactly the members of one entry."""
    return b"[" + value_entry + b"\x00", b"(" + value_entry + b"\x01"
