"""Pipelines and transactions: the commands of typed methods, queued; typed placeholders for them.

``p.call(method, *args)`` runs ``method`` once in *capture* mode: for this thread only,
Database.execute records the command the method sends and stops it with an internal signal. When
the pipeline runs, every recorded command is sent in one round trip; then each method runs again
in *replay* mode, where Database.execute returns the recorded reply, so the method's own decoding
(codecs, replies, error translation) makes the value of its ``Deferred``. A method that would send
a second command (whose arguments may depend on the first reply) cannot be queued: it is refused.

Writes that touch an index are one script call each (scripts/), so queued writes stay atomic; the
pipeline that queues one sends the script library first (FUNCTION LOAD) so that none is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

from redis.exceptions import WatchError

from . import scripts
from .database import Arg, Keyed, Route, current_route, set_route
from .exceptions import CommandError, PipelineError, TransactionError, shown

if TYPE_CHECKING:
    from .database import Database

P = ParamSpec("P")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Command = tuple[Arg, ...]


class _Captured(BaseException):
    """Stops a method at its first command during capture.

    A BaseException so that no ``except Exception`` (or ``except ResponseError``) in the method
    can take it for a Redis reply.
    """


class _Refused(BaseException):
    """Stops a method that needs what a pipeline cannot give (a batch, a second command...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_PENDING, _DONE, _FAILED, _DISCARDED = range(4)


class Deferred(Generic[T_co]):
    """The value a queued call returns, known once its pipeline has run: ``deferred.value``."""

    __slots__ = ("_label", "_state", "_value", "_error")

    def __init__(self, label: str) -> None:
        self._label = label
        self._state = _PENDING
        self._value: object = None
        self._error: BaseException | None = None

    @property
    def ready(self) -> bool:
        """Whether the pipeline has run: ``value`` now returns the value or raises the call's error."""
        return self._state in (_DONE, _FAILED)

    @property
    def value(self) -> T_co:
        """The value the call returned; raises the error it raised (UniquenessError, CommandError...).

        Before the pipeline has run, or when it was discarded, raises PipelineError.
        """
        if self._state == _DONE:
            return cast(T_co, self._value)
        if self._state == _FAILED:
            assert self._error is not None
            raise self._error
        if self._state == _PENDING:
            raise PipelineError(
                f"{self._label}: no value yet, its pipeline has not run "
                "(it runs at the end of its `with` block, or at execute())"
            )
        raise PipelineError(f"{self._label}: {self._error}")

    def _resolve(self, value: object) -> None:
        self._state, self._value = _DONE, value

    def _fail(self, error: BaseException) -> None:
        self._state, self._error = _FAILED, error

    def _discard(self, why: str) -> None:
        self._state, self._error = _DISCARDED, PipelineError(why)

    def __repr__(self) -> str:
        shown = {_PENDING: "pending", _DONE: f"value={self._value!r}", _FAILED: f"error={self._error!r}",
                 _DISCARDED: "discarded"}[self._state]
        return f"<Deferred {self._label}: {shown}>"


def _describe(method: Callable[..., object]) -> str:
    """How messages name a queued method: ``Person.name.get() of pk=1``, ``Person.get()``..."""
    name = getattr(method, "__name__", type(method).__name__)
    owner = getattr(method, "__self__", None)
    field = getattr(owner, "_field", None)
    if field is not None and hasattr(owner, "_instance"):
        return f"{field.qualname}.{name}() of pk={getattr(owner, '_instance').pk_value!r}"
    if isinstance(owner, type):
        return f"{owner.__name__}.{name}()"
    if owner is not None:
        from .model import Model

        # Only an instance's repr is safe: a collection's repr would run its query.
        shown = repr(owner) if isinstance(owner, Model) else type(owner).__name__
        return f"{shown}.{name}()"
    return f"{getattr(method, '__qualname__', name)}()"


def _known_multi_command(method: Callable[..., object]) -> str | None:
    """Why a library method known to send several dependent commands cannot be queued, if it is one.

    Any other method that does so is refused when replayed (its second command is never sent);
    these are refused at call() already.
    """
    from .model import Model
    from .query import Collection

    function = getattr(method, "__func__", method)
    if function is getattr(Model.get_or_connect, "__func__"):
        return "it reads, then creates an instance when none matched: two round trips, the second one depending on the first"
    if function is Collection.delete:
        return "it finds the matching instances, then deletes them in batches: several round trips"
    if function is Collection.update:
        return "it finds the matching instances, then updates them in batches: several round trips"
    return None


@dataclass(slots=True)
class _Queued:
    deferred: Deferred[Any]
    method: Callable[..., object]
    args: tuple[object, ...]
    kwargs: dict[str, object]
    command: Command


@contextmanager
def _routed(route: Route) -> Iterator[None]:
    """This thread's commands go to ``route`` inside the block (the previous route after)."""
    previous = current_route()
    set_route(route)
    try:
        yield
    finally:
        set_route(previous)


class _Capture:
    """The route of a thread while call() runs a method once: records its first command."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.captured: Command | None = None

    def command(self, database: Database, args: tuple[Arg, ...]) -> object:
        if database is not self.database:
            raise _Refused(f"it sends {args[0]!r} to another database ({database!r}) than the pipeline's")
        self.captured = args
        raise _Captured

    def batch(self, database: Database, commands: Sequence[Command]) -> list[object]:
        raise _Refused("it sends a batch of commands in a pipeline of its own; run it outside this pipeline")


class _Replay:
    """The route of a thread while a queued method runs again: its command's reply, once."""

    def __init__(self, database: Database, expected: Command, reply: object) -> None:
        self.database = database
        self.expected = expected
        self.reply = reply
        self.used = False

    def command(self, database: Database, args: tuple[Arg, ...]) -> object:
        if self.used or database is not self.database:
            raise _Refused(
                f"after its first reply it sent {args[0]!r} too, which a pipeline cannot queue "
                "(its arguments may depend on that reply); it was not sent: run the method outside a pipeline"
            )
        if args != self.expected:  # the method is not deterministic: its reply would be misread
            raise _Refused(f"it sent another command when replayed ({args[0]!r}, queued {self.expected[0]!r})")
        self.used = True
        if isinstance(self.reply, BaseException):
            raise self.reply  # a Redis error: the method translates it as when it runs directly
        return self.reply

    def batch(self, database: Database, commands: Sequence[Command]) -> list[object]:
        raise _Refused("after its first reply it sent a batch of commands; it was not sent")


class _Guard:
    """The route of the thread that opened a pipeline (``with``, or a transaction's function).

    Its direct commands on the pipeline's database are refused (they would silently bypass the
    pipeline), except while a transaction watches: then they run on the watching connection.
    Commands to other databases pass through.
    """

    def __init__(self, pipeline: Pipeline, previous: Route | None) -> None:
        self.pipeline = pipeline
        self.previous = previous

    def command(self, database: Database, args: tuple[Arg, ...]) -> object:
        if database is not self.pipeline.database:
            return self.previous.command(database, args) if self.previous else database.send(args)
        if self.pipeline.watching:
            return self.pipeline._immediate(args)
        raise PipelineError(
            f"{args[0]!r} sent directly while a pipeline is open on this thread: queue it with "
            "pipeline.call(method, ...) to get a Deferred, or run it before the pipeline (a lazy "
            "collection runs when iterated: list() it before)"
            + (" or before multi(), to read on the watching connection" if self.pipeline.watched else "")
        )

    def batch(self, database: Database, commands: Sequence[Command]) -> list[object]:
        if database is not self.pipeline.database:
            return self.previous.batch(database, commands) if self.previous else database.send_batch(commands)
        raise PipelineError("a batch of commands sent directly while a pipeline is open on this thread; "
                            "run it before or after the pipeline")


class Pipeline:
    """Queues the commands of typed methods; sends them in one round trip; resolves their Deferreds.

    Made by ``Database.pipeline()``; see its docstring. Use it in a ``with`` block (it runs at the
    end of the block, or is discarded if the block raises), or call ``execute()``.
    """

    def __init__(self, database: Database, *, transaction: bool = True, shared: bool = False) -> None:
        self.database = database
        self.transaction = transaction
        self.shared = shared
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._pipe = database._redis_py().pipeline(transaction=transaction)
        self._watching = False
        self.watched = False  # watch() was called: the pipeline serves a transaction
        self._previous_routes: list[Route | None] = []

    @property
    def watching(self) -> bool:
        """True between watch() and multi(): direct reads run at once on the watching connection."""
        return self._watching

    def __len__(self) -> int:
        """How many calls are queued."""
        return len(self._queue)

    # -- queuing -------------------------------------------------------------------------------

    def call(self, method: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Deferred[T]:
        """Queue the command ``method(*args, **kwargs)`` would send; its result will be ``.value``.

        The method runs now up to its command: a wrong value raises here, before anything is sent.
        A method that sends no command is resolved at once; one that needs two round trips, a
        batch, or another database raises PipelineError.
        """
        self._check_thread("call()")
        label = _describe(method)
        if self._watching:
            raise PipelineError(f"pipeline.call({label}) before multi(): call multi() first "
                                "(before it, read directly: reads run at once on the watching connection)")
        why = _known_multi_command(method)
        if why is not None:
            raise PipelineError(f"{label} cannot be queued in a pipeline: {why}")
        capture = _Capture(self.database)
        deferred: Deferred[T] = Deferred(label)
        with _routed(capture):
            try:
                value = method(*args, **kwargs)
            except _Captured:
                pass
            except _Refused as refused:
                raise PipelineError(f"{label} cannot be queued in a pipeline: {refused.reason}") from None
            else:  # it needed no command (a pk, a value known locally): known now
                deferred._resolve(value)
                return deferred
        assert capture.captured is not None
        with self._lock:
            self._queue.append(_Queued(deferred, method, args, kwargs, capture.captured))
        return deferred

    # -- transactions --------------------------------------------------------------------------

    def watch(self, *watches: Keyed | str) -> None:
        """WATCH these fields (their keys) or key names; until multi(), direct reads run at once."""
        self._check_thread("watch()")
        if not self.transaction:
            raise PipelineError("watch() needs a transaction: use db.pipeline(transaction=True)")
        if self._queue:
            raise PipelineError("watch() must come before any call()")
        watch: Callable[..., object] = self._pipe.watch  # untyped in redis-py
        watch(*_keys(watches))
        self._watching = self.watched = True

    def multi(self) -> None:
        """Start the transaction: from now on, calls are queued (call()) and sent at execute()."""
        self._check_thread("multi()")
        if not self.transaction:
            raise PipelineError("multi() needs a transaction: use db.pipeline(transaction=True)")
        if self._watching:
            self._pipe.multi()
            self._watching = False

    def _immediate(self, args: tuple[Arg, ...]) -> object:
        # Between WATCH and MULTI redis-py sends a command at once, on the watching connection.
        execute: Callable[..., object] = self._pipe.execute_command  # untyped in redis-py
        return execute(*args)

    # -- running -------------------------------------------------------------------------------

    def execute(self, raise_on_error: bool = True) -> list[object]:
        """Send every queued command in one round trip and resolve the Deferreds; their values, in order.

        A call that failed (a Redis error, a UniquenessError...) keeps its error in its Deferred;
        the others are resolved all the same. Then the first error is raised, unless
        ``raise_on_error=False``, which returns errors in place of values. Raises redis-py's
        WatchError when a watched key changed (nothing was run).
        """
        self._check_thread("execute()")
        with self._lock:
            queued, self._queue = self._queue, []
        if not queued:
            self._pipe.reset()  # UNWATCH, if watching
            self._watching = self.watched = False
            return []
        # Before any write script, the script library (its reply, "already exists" most often, is
        # skipped): a write refused for want of it would leave the others of a transaction run.
        # Reads do without, so that they run where FUNCTION LOAD is refused (a replica, a full
        # server); one refused for want of the library only fails itself (below).
        called = [scripts.called(q.command) for q in queued]
        loads = 1 if any(script is not None and script.writes for script in called) else 0
        send: Callable[..., object] = self._pipe.execute_command  # untyped in redis-py
        if loads:
            send("FUNCTION", "LOAD", scripts.LIBRARY)
        for q in queued:
            send(*q.command)
        try:
            raw: list[object] = self._pipe.execute(raise_on_error=False)
        except WatchError:
            for q in queued:
                q.deferred._discard("its transaction was aborted: a watched key changed; nothing was run")
            raise
        except BaseException as exc:
            for q in queued:
                q.deferred._fail(PipelineError(f"the pipeline failed before its replies were read: {exc!r}"))
            raise
        finally:
            self._watching = self.watched = False  # redis-py's execute() resets the pipeline, UNWATCH included
        # Script calls refused for want of the library did not run: said so by their Deferreds, with
        # the library loaded again for the next run where it can be.
        lost = ""
        if any(scripts.missing(reply) for reply in raw):
            lost = "the server had lost limpyd_typed's script library; it is loaded again: run the pipeline again"
            try:
                scripts.load(self.database)
            except CommandError as exc:
                lost = str(exc)
        results: list[object] = []
        first_error: BaseException | None = None
        for q, reply in zip(queued, raw[loads:], strict=True):
            if lost and scripts.missing(reply):
                q.deferred._fail(CommandError(f"{q.deferred._label}: not run, {lost}"))
            else:
                self._replay(q, reply)
            try:
                results.append(q.deferred.value)
            except Exception as exc:
                results.append(exc)
                first_error = first_error or exc
        if first_error is not None and raise_on_error:
            raise first_error
        return results

    def _replay(self, queued: _Queued, reply: object) -> None:
        replay = _Replay(self.database, queued.command, reply)
        with _routed(replay):
            try:
                value = queued.method(*queued.args, **queued.kwargs)
            except _Refused as refused:
                queued.deferred._fail(PipelineError(f"{queued.deferred._label}: {refused.reason}"))
            except Exception as exc:
                queued.deferred._fail(exc)
            else:
                queued.deferred._resolve(value)

    def reset(self) -> None:
        """Discard every queued call (their Deferreds say so) and UNWATCH; nothing is sent."""
        with self._lock:
            queued, self._queue = self._queue, []
        for q in queued:
            q.deferred._discard("its pipeline was discarded (its `with` block raised, or reset() was called); nothing was sent")
        self._pipe.reset()
        self._watching = self.watched = False

    # -- the with block ------------------------------------------------------------------------

    def __enter__(self) -> Pipeline:
        self._check_thread("with")
        previous = current_route()
        self._previous_routes.append(previous)
        set_route(_Guard(self, previous))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        set_route(self._previous_routes.pop())
        if exc_type is not None:
            self.reset()
            return
        self.execute()

    def _check_thread(self, what: str) -> None:
        if not self.shared and threading.get_ident() != self._owner:
            raise PipelineError(
                f"{what} from another thread than the one that made this pipeline: give each thread "
                "its own pipeline, or make it with db.pipeline(shared=True)"
            )

    def __repr__(self) -> str:
        return f"<Pipeline on {self.database!r}: {len(self._queue)} queued>"


def _keys(watches: Sequence[Keyed | str]) -> list[str]:
    keys: list[str] = []
    for watched in watches:
        key = watched if isinstance(watched, str) else getattr(watched, "key", None)
        if not isinstance(key, str):
            raise TypeError(f"watch a field of an instance (person.hits) or a key name, not {shown(watched)}")
        keys.append(key)
    return keys


def run_transaction(
    database: Database, func: Callable[[Pipeline], object], watches: Sequence[Keyed | str], retries: int
) -> list[object]:
    """Database.transaction: run ``func`` in a watched transaction until it goes through."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an int >= 0, got {retries!r}")
    keys = _keys(watches)
    for _ in range(retries + 1):
        pipeline = Pipeline(database, transaction=True)
        with pipeline:  # func's direct reads go to the watching connection; an error discards it all
            if keys:
                pipeline.watch(*keys)
            func(pipeline)
            try:
                results = pipeline.execute()
            except WatchError:
                continue
        return results
    name = getattr(func, "__qualname__", repr(func))
    raise TransactionError(
        f"transaction {name} gave up after {retries + 1} attempts: a watched key changed every time "
        f"({', '.join(keys) or 'no key watched'})"
    )
