"""Database: the connection models use, and the registry of the models it hosts."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

import redis

from . import replies, wire
from .exceptions import ImplementationError
from .server import EmbeddedServer

if TYPE_CHECKING:
    from .model import Model
    from .pipeline import Pipeline

_LOCATION_SETTINGS = ("host", "port", "unix_socket_path")
# Commands redis-py has no response callback for, sent by wire.py's shorter path (same reply).
_SCRIPT_CALLS = frozenset({"FCALL"})

# One argument of a Redis command, as redis-py sends it (wire.py defines it, database.Arg names it).
Arg = wire.Arg


class Route(Protocol):
    """Where this thread's commands go instead of the connection while a pipeline is at work."""

    def command(self, database: Database, args: tuple[Arg, ...]) -> object: ...

    def batch(self, database: Database, commands: Sequence[tuple[Arg, ...]]) -> list[object]: ...


class Keyed(Protocol):
    """What a transaction can watch besides a key name: a bound field (``person.hits``)."""

    @property
    def key(self) -> str: ...


class _Routes(threading.local):
    """One route per thread: a pipeline captures only the commands of the thread using it."""

    route: Route | None = None


_routes = _Routes()


def current_route() -> Route | None:
    return _routes.route


def set_route(route: Route | None) -> None:
    _routes.route = route


def _client(url: str | None, settings: dict[str, object]) -> redis.Redis:
    """A redis-py client that returns bytes: every value is decoded by its field's codec."""
    options = cast(dict[str, Any], {**settings, "decode_responses": False})
    if url is None and not any(name in settings for name in _LOCATION_SETTINGS):
        # Like redis-py and limpyd: REDIS_URL when set, else localhost:6379 db 0. Never a
        # throw-away server, so a forgotten setting cannot send production data into the void.
        url = os.environ.get("REDIS_URL")
    if url is not None:
        return redis.Redis.from_url(url, **options)
    return redis.Redis(**options)


class Database:
    """A Redis database hosting models.

    ``Database()`` connects to ``REDIS_URL`` from the environment, else to localhost:6379 db 0;
    ``Database(url)`` or ``Database(host=..., port=..., db=...)`` connect like redis-py does.
    """

    def __init__(self, url: str | None = None, **redis_kwargs: object) -> None:
        self._connect(url, redis_kwargs)
        self._models: dict[tuple[str, str], type[Model[Any]]] = {}
        self.server: EmbeddedServer | None = None
        _open.add(self)

    @classmethod
    def embedded(cls, path: str | os.PathLike[str] | None = None) -> Database:
        """Start a private server on a unix socket and connect to it; it stops at exit.

        With no ``path`` its data lives in a temporary directory removed at exit; with a ``path``
        the data persists there across runs (append-only file).
        """
        server = EmbeddedServer(path)
        server.start()
        database = cls(server.url)
        database.server = server
        return database

    @property
    def connection(self) -> redis.Redis:
        """The redis-py client (bytes in, bytes out). This thread's kept connection goes back to its
        pool first, so that the client's next command reuses it."""
        return self._redis_py()

    def execute(self, *args: Arg) -> object:
        """Send one command and return its raw reply (the single funnel of every command).

        While a pipeline of this thread is at work the command goes to it instead (see pipeline.py).
        """
        route = _routes.route
        if route is not None:
            return route.command(self, args)
        return self.send(args)

    def scan_keys(self, pattern: str, *, count: int) -> Iterator[list[bytes]]:
        """The names of the keys matching ``pattern``, batch by batch (SCAN)."""
        return self._scan(lambda cursor: ("SCAN", cursor, "MATCH", pattern, "COUNT", count))

    def scan_members(self, key: str, *, count: int) -> Iterator[list[bytes]]:
        """The members of the set ``key``, batch by batch (SSCAN)."""
        return self._scan(lambda cursor: ("SSCAN", key, cursor, "COUNT", count))

    def _scan(self, command: Callable[[int], tuple[Arg, ...]]) -> Iterator[list[bytes]]:
        # As Redis documents, an element may come twice (while the table is resized) and one added
        # or removed meanwhile may or may not come: callers bear both.
        cursor = 0
        while True:
            reply = self.execute(*command(cursor))
            if not isinstance(reply, (list, tuple)) or len(reply) != 2:
                raise TypeError(f"unexpected SCAN reply {reply!r}")
            cursor = replies.integer(reply[0])
            yield replies.bytes_list(reply[1])
            if cursor == 0:
                return

    def send(self, args: Sequence[Arg]) -> object:
        """Send one command on the connection itself, bypassing any pipeline."""
        if args[0] in _SCRIPT_CALLS:
            return wire.call(self._connection, tuple(args), self._lane)
        # redis-py leaves execute_command untyped; the reply is raw and read through replies.py.
        execute: Callable[..., object] = self._redis_py().execute_command
        return execute(*args)

    def execute_batch(self, commands: Sequence[tuple[Arg, ...]]) -> list[object]:
        """Send several independent commands in one round trip (no transaction); failures are
        returned in place as exceptions. A pipeline at work refuses a batch (it cannot queue one)."""
        route = _routes.route
        if route is not None:
            return route.batch(self, commands)
        return self.send_batch(commands)

    def send_batch(self, commands: Sequence[tuple[Arg, ...]]) -> list[object]:
        """Send several commands in one round trip on the connection itself, bypassing any pipeline."""
        if all(command[0] in _SCRIPT_CALLS for command in commands):
            return wire.call_many(self._connection, commands, self._lane)
        return wire.slow_many(self._redis_py(), commands)  # redis-py's replies, through its callbacks

    def _redis_py(self) -> redis.Redis:
        """The redis-py client, for a command that borrows its own connection from the pool: this
        thread's kept one (wire.Lane) goes back first, so that a thread never holds two."""
        self._lane.release()
        return self._connection

    def pipeline(self, transaction: bool = True, shared: bool = False) -> Pipeline:
        """A pipeline: ``p.call(person.name.get)`` queues the command and returns a ``Deferred``.

        Everything queued is sent in one round trip at the end of the ``with`` block (or at
        ``p.execute()``), inside MULTI/EXEC unless ``transaction=False``. The pipeline belongs to
        the thread that made it unless ``shared=True``.
        """
        from .pipeline import Pipeline

        return Pipeline(self, transaction=transaction, shared=shared)

    def transaction(
        self,
        func: Callable[[Pipeline], object],
        *watches: Keyed | str,
        retries: int = 10,
    ) -> list[object]:
        """Run ``func(pipeline)`` in a transaction WATCHing ``watches`` (fields or key names).

        ``func`` reads directly (on the watching connection), calls ``pipeline.multi()``, then
        queues with ``pipeline.call(...)``. If a watched key changed meanwhile, ``func`` runs again,
        up to ``retries`` more times, then ``TransactionError``. Returns the values of the queued calls.
        """
        from .pipeline import run_transaction

        return run_transaction(self, func, watches, retries)

    def connect(self, url: str | None = None, **redis_kwargs: object) -> None:
        """Switch every model of this database to a new connection (same arguments as the constructor)."""
        previous = self._connection
        self._connect(url, redis_kwargs)
        previous.close()

    def _connect(self, url: str | None, redis_kwargs: dict[str, object]) -> None:
        self._connection = _client(url, redis_kwargs)
        self._lane = wire.new_lane()  # each thread's connection for script calls (wire.py)
        # Read once: relation writes compare locations on every value they encode.
        settings = self._connection.connection_pool.connection_kwargs
        # Normalised as redis-py defaults them: "redis://localhost" is "redis://localhost:6379/0".
        path = settings.get("path")
        host, port = (None, None) if path else (settings.get("host") or "localhost", int(settings.get("port") or 6379))
        self._location: tuple[object, ...] = (host, port, path, int(settings.get("db") or 0))

    def close(self) -> None:
        """Close the connection, and stop the embedded server if this database started one."""
        self._connection.close()
        _open.discard(self)
        if self.server is not None:
            self.server.stop()

    def _register(self, model: type[Model[Any]]) -> None:
        key = (model.namespace, model.__name__)
        # Two Database objects on one place (two modules each calling Database()) share every key:
        # a model name is taken for all of them.
        same_place = [d for d in list(_open) if d is self or d.location == self.location]
        existing = next((d._models[key] for d in same_place if d._models.get(key) not in (None, model)), None)
        if existing is not None:
            where = f"namespace {model.namespace!r}" if model.namespace else "the default namespace"
            raise ImplementationError(
                f"two models named {model.__name__} in {where} of one database "
                f"({existing.__module__} and {model.__module__}); give one of them a namespace"
            )
        self._models[key] = model

    def _unregister(self, model: type[Model[Any]]) -> None:
        if self._models.get((model.namespace, model.__name__)) is model:
            del self._models[(model.namespace, model.__name__)]

    @property
    def location(self) -> tuple[object, ...]:
        """Where the data lives (server address or socket, database number): two Database objects
        connected to one place host the same keys."""
        return self._location

    def __repr__(self) -> str:
        return f"Database({self._connection!r})"


# The databases not closed: a model name is checked against those on the same place.
_open: weakref.WeakSet[Database] = weakref.WeakSet()


def one_place(first: Database | None, second: Database | None) -> bool:
    """Whether models hosted on these databases share one keyspace. A model without a database yet
    holds nothing a script could miss: its keys, if any, are those of the database writing."""
    return first is None or second is None or first.location == second.location
