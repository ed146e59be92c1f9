"""Typed views of raw Redis replies.

Reads go through ``execute_command``, whose reply shapes vary with the protocol (RESP2 gives flat
lists, RESP3 gives sets, maps and doubles). These functions accept both and return one shape.
"""

from __future__ import annotations


def optional_bytes(reply: object) -> bytes | None:
    if reply is None or isinstance(reply, bytes):
        return reply
    if isinstance(reply, str):
        return reply.encode()
    raise TypeError(f"unexpected reply {reply!r}")


def bytes_list(reply: object) -> list[bytes]:
    if reply is None:
        return []
    if isinstance(reply, (list, set, tuple)):
        return [item if isinstance(item, bytes) else str(item).encode() for item in reply]
    raise TypeError(f"unexpected reply {reply!r}")


def optional_bytes_list(reply: object) -> list[bytes | None]:
    if not isinstance(reply, (list, tuple)):
        raise TypeError(f"unexpected reply {reply!r}")
    return [optional_bytes(item) for item in reply]


def integer(reply: object) -> int:
    if isinstance(reply, (int, bytes, str)):
        return int(reply)
    raise TypeError(f"unexpected reply {reply!r}")


def optional_integer(reply: object) -> int | None:
    return None if reply is None else integer(reply)


def number(reply: object) -> float:
    if isinstance(reply, (int, float, bytes, str)):
        return float(reply)
    raise TypeError(f"unexpected reply {reply!r}")


def optional_number(reply: object) -> float | None:
    return None if reply is None else number(reply)


def mapping(reply: object) -> dict[bytes, bytes]:
    """HGETALL: a dict (RESP3, or redis-py's callback) or a flat list (RESP2)."""
    if isinstance(reply, dict):
        return {optional_bytes(k) or b"": optional_bytes(v) or b"" for k, v in reply.items()}
    flat = bytes_list(reply)
    return dict(zip(flat[::2], flat[1::2]))


def scored(reply: object) -> list[tuple[bytes, float]]:
    """WITHSCORES: pairs (RESP3 or redis-py's callback) or a flat list (RESP2)."""
    if not isinstance(reply, (list, tuple)):
        raise TypeError(f"unexpected reply {reply!r}")
    if reply and isinstance(reply[0], (list, tuple)):
        return [(optional_bytes(m) or b"", number(s)) for m, s in reply]
    return [(optional_bytes(reply[i]) or b"", number(reply[i + 1])) for i in range(0, len(reply), 2)]
