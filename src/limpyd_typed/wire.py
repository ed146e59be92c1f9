"""Script calls (FCALL) on the wire: the shortest path through redis-py for the commands every write sends.

``execute_command`` costs more client time than a whole write script costs the server: it encodes
each argument in Python, wraps the call in retry and observability hooks, looks up a response
callback. A script call needs none of that: its arguments are bytes, str or int, its reply is raw.
Here a command is packed at once (by hiredis when installed), sent on a pooled connection and its
reply read as it comes. Anything unusual (a single-connection client, a connection that fails
while the command is sent) goes back to redis-py's own path, with its retry policy.

A connection lost after the command was sent is raised, never retried: the server may have run it,
and running a create or an increment twice is worse than an error saying the outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import redis
from redis.exceptions import ConnectionError, ResponseError, TimeoutError

# One argument of a Redis command (database.Arg).
Arg = bytes | str | int | float
Packer = Callable[[tuple[Arg, ...]], bytes]
R = TypeVar("R")


def _pack_python(args: tuple[Arg, ...]) -> bytes:
    """RESP array of ``args``, encoded as redis-py's default encoder does (utf-8, repr of floats)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            data = b"%d" % arg
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


def _packer() -> Packer:
    try:
        from hiredis import pack_command  # C: about 10x faster than packing in Python
    except ImportError:
        return _pack_python
    # hiredis's stub types its argument as a 1-tuple; it takes any tuple of arguments.
    return cast(Packer, pack_command)


pack: Packer = _packer()


def _plain(client: redis.Redis) -> bool:
    """Whether the client encodes as the packers here do and borrows a pooled connection per command."""
    kwargs = client.connection_pool.connection_kwargs
    return (getattr(client, "connection", None) is None and kwargs.get("encoding", "utf-8") == "utf-8"
            and kwargs.get("encoding_errors", "strict") == "strict")


def call(client: redis.Redis, args: tuple[Arg, ...]) -> object:
    """Send one command and return its raw reply; an error reply is raised (as redis-py does)."""
    if not _plain(client):
        return _slow(client, args)
    return _on_pooled(client, pack(args), _read_one, lambda: _slow(client, args))


def call_many(client: redis.Redis, commands: Sequence[tuple[Arg, ...]]) -> list[object]:
    """Send several commands in one write and read their replies: one round trip, no transaction.
    An error reply is returned in place, as the exception redis-py would raise."""
    if not commands:
        return []
    if not _plain(client):
        return slow_many(client, commands)

    def read_all(conn: Any) -> list[object]:
        replies: list[object] = []
        for _ in commands:
            try:
                replies.append(conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies

    packed = b"".join([pack(args) for args in commands])
    return _on_pooled(client, packed, read_all, lambda: slow_many(client, commands))


def _read_one(conn: Any) -> object:
    return conn.read_response()


def _on_pooled(client: redis.Redis, packed: bytes, read: Callable[[Any], R], unsent: Callable[[], R]) -> R:
    """Send ``packed`` on a pooled connection and ``read`` the replies; ``unsent()`` when the
    connection fails while sending (redis-py disconnected it: its own path retries as it would
    have). A failure after sending is raised: the server may have run the commands."""
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        try:
            conn.send_packed_command([packed])
        except (ConnectionError, TimeoutError):
            return unsent()
        return read(conn)
    finally:
        pool.release(conn)


def _slow(client: redis.Redis, args: tuple[Arg, ...]) -> object:
    execute: Callable[..., object] = client.execute_command  # untyped in redis-py
    return execute(*args)


def slow_many(client: redis.Redis, commands: Sequence[tuple[Arg, ...]]) -> list[object]:
    """Several commands in one round trip by redis-py's own pipeline (no transaction); failures in place."""
    pipe = client.pipeline(transaction=False)
    queue: Callable[..., object] = pipe.execute_command  # untyped in redis-py
    for command in commands:
        queue(*command)
    results: list[object] = pipe.execute(raise_on_error=False)
    return results
