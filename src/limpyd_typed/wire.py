"""Script calls (FCALL) on the wire: the shortest path through redis-py for the commands every write sends.

``execute_command`` costs more client time than a whole write script costs the server: it encodes
each argument in Python, wraps the call in retry and observability hooks, looks up a response
callback. A script call needs none of that: its arguments are bytes, str or int, its reply is raw.
Here a command is packed at once (by hiredis when installed), sent on a pooled connection and its
reply read as it comes. Anything unusual (a single-connection client, a connection that fails
while the command is sent) goes back to redis-py's own path, with its retry policy.

Each thread keeps the connection it borrowed from redis-py's pool (its ``Lane``): borrowing and
giving back cost 5 µs a call in redis-py 8 (a lock, observability hooks, an event), as much as a
write script's own server time. The one check the pool makes on a connection it lends is kept:
one holding unread data or closed by the server is replaced before anything is sent. The
connection goes back to the pool when its thread ends, and is never used by a forked child.

A connection lost after the command was sent is raised, never retried: the server may have run it,
and running a create or an increment twice is worse than an error saying the outcome is unknown.
"""

from __future__ import annotations

import os
import threading
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


class _Kept:
    """How many threads keep a connection of one client, shared by its Lane in every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def take(self, most: int) -> bool:
        """One more kept connection, unless ``most`` are kept already."""
        with self._lock:
            if self._count >= most:
                return False
            self._count += 1
            return True

    def put_back(self) -> None:
        with self._lock:
            self._count -= 1


class _Held:
    """A connection borrowed from ``pool`` by one thread of one process, given back when dropped
    (also when its thread ends: the thread's Lane then goes, and this with it)."""

    __slots__ = ("pool", "conn", "pid", "kept")

    def __init__(self, pool: Any, kept: _Kept) -> None:
        self.pool, self.kept = pool, kept
        self.conn: Any = None  # set once borrowed: __del__ runs even when borrowing fails
        self.pid = os.getpid()
        self.conn = pool.get_connection()  # connected and checked, as the pool lends it

    def give_back(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None or self.pid != os.getpid():  # a forked child leaves its parent's alone
            return
        self.kept.put_back()
        try:
            self.pool.release(conn)
        except Exception:  # at interpreter exit the pool may be half torn down
            pass

    __del__ = give_back


class Lane(threading.local):
    """The connection each thread keeps for script calls on one client (see the module's docstring).

    At most half the pool is kept, so that idle threads can never leave the others without a
    connection: past that, a thread borrows and gives back at each call.
    """

    held: _Held | None = None

    def __init__(self, kept: _Kept) -> None:
        # threading.local runs __init__ again in each thread, with the same arguments: one count for all.
        self.kept = kept

    def connection(self, pool: Any) -> Any | None:
        """This thread's connection from ``pool``, ready to send to; None when it may not keep one:
        in a pool other than redis-py's plain one (a blocking pool makes threads wait for connections),
        or once half the pool is kept."""
        if type(pool) is not redis.ConnectionPool:
            return None
        held = self.held
        if held is not None and held.pid == os.getpid():
            try:
                # What the pool checks of a connection it lends: no unread data, not closed by the server.
                if not held.conn.can_read():
                    return held.conn
            except (ConnectionError, TimeoutError, OSError):
                pass
            self.drop()
        if not self.kept.take(pool.max_connections // 2):
            return None
        try:
            self.held = _Held(pool, self.kept)
        except BaseException:
            self.kept.put_back()
            raise
        return self.held.conn

    def release(self) -> None:
        """Give the connection back to the pool: before this thread borrows one for another command,
        so that it never holds two."""
        held, self.held = self.held, None
        if held is not None:
            held.give_back()

    def drop(self) -> None:
        """Give the connection back, disconnected: it failed, or the server closed it."""
        held, self.held = self.held, None
        if held is not None:
            if held.pid == os.getpid():
                held.conn.disconnect()
            held.give_back()


def new_lane() -> Lane:
    """A Lane for one client: its threads' kept connections, and their count."""
    return Lane(_Kept())


def call(client: redis.Redis, args: tuple[Arg, ...], lane: Lane) -> object:
    """Send one command and return its raw reply; an error reply is raised (as redis-py does)."""
    if not _plain(client):
        return _slow(client, args)
    return _send_read(client, lane, pack(args), _read_one, lambda: _slow(client, args))


def call_many(client: redis.Redis, commands: Sequence[tuple[Arg, ...]], lane: Lane) -> list[object]:
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
    return _send_read(client, lane, packed, read_all, lambda: slow_many(client, commands))


def _read_one(conn: Any) -> object:
    return conn.read_response()


def _send_read(client: redis.Redis, lane: Lane, packed: bytes, read: Callable[[Any], R], unsent: Callable[[], R]) -> R:
    """Send ``packed`` on this thread's kept connection, or a pooled one, and ``read`` the replies;
    ``unsent()`` when the connection fails while sending (redis-py disconnected it: its own path
    retries as it would have). A failure after sending is raised: the server may have run the
    commands. (redis-py disconnects a connection that fails mid-reply: the next call reconnects.)"""
    pool = client.connection_pool
    conn: Any = lane.connection(pool)
    kept = conn is not None
    if not kept:
        conn = pool.get_connection()
    try:
        conn.send_packed_command([packed])
    except (ConnectionError, TimeoutError):
        # Given back before redis-py's path borrows one: a pool of one connection must do.
        if kept:
            lane.drop()
        else:
            pool.release(conn)
        return unsent()
    try:
        return read(conn)
    finally:
        if not kept:
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
