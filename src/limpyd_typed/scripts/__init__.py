"""The server-side scripts: one Redis function library, and the one place that loads and calls it.

The library is ``prelude.lua`` (shared helpers) once, then each script's file as the body of one
function. A library's top level runs once, when it is loaded; an EVAL script runs its whole text on
every call, and defining the prelude's few dozen helpers cost 5 to 7 µs of a write's 13 to 20 µs
of server time. Scripts are called by FCALL; a server that lacks the library gets it once through
FUNCTION LOAD (Redis >= 7.0, Valkey >= 7.2).

The library and its functions are named after a hash of their text: two versions of limpyd_typed
using one server each keep their own, and an old one is never called with a new one's arguments.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING, Final

from redis.exceptions import ResponseError

from ..database import Arg
from ..exceptions import CommandError

if TYPE_CHECKING:
    from ..database import Database

ScriptArg = Arg


def error_reason(error: object) -> str:
    """A script error in its own words, without where it was raised: "user_function:75: not a
    stored int value: 'abc' script: lt..._write, on @user_function:75." -> "not a stored int value: 'abc'"."""
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    text = text.split(" script: ", 1)[0]
    head, _, rest = text.partition(": ")
    return rest if head.startswith(("user_function:", "user_script:")) else text


def missing(error: object) -> bool:
    """Whether an FCALL was refused because the server lacks the library, or FCALL itself (nothing ran)."""
    if not isinstance(error, ResponseError):
        return False
    text = str(error)
    return text.startswith("Function not found") or text.lower().startswith("unknown command 'fcall'")


def load(database: Database) -> None:
    """Give the server the library, unless it has it already (on the connection itself: also while
    a pipeline of this thread is at work)."""
    try:
        database.send(("FUNCTION", "LOAD", LIBRARY))
    except ResponseError as exc:
        if "already exists" in str(exc):
            return
        if "unknown command" in str(exc).lower():
            raise CommandError(f"limpyd_typed needs Redis >= 7.0 or Valkey >= 7.2 (FUNCTION, FCALL): {exc}") from None
        raise CommandError(f"the server has not got limpyd_typed's script library {LIBRARY_NAME} and refused it: "
                           f"{exc} (on a read-only replica: load it on the primary, by any call of this version, "
                           f"and it is replicated)") from None


_SCRIPTS: Final[list[Script]] = []  # every script, in the library's order (each adds itself)


class Script:
    """One function of the library, called with its keys declared and its arguments binary-safe.

    ``flags`` are the function's: without any it may write, and the server refuses it on a read-only
    replica and while out of memory. "no-writes" lets a read run anywhere; "allow-oom" lets a write
    that only frees memory (a delete) run when the server is full, as an EVAL script could.
    """

    __slots__ = ("name", "file", "flags", "function")

    def __init__(self, name: str, file: str | None = None, flags: tuple[str, ...] = ()) -> None:
        self.name = name
        self.file = file or name  # its body, scripts/<file>.lua: two functions may share one
        self.flags = flags
        self.function = ""  # named by _library(), after the library's hash
        _SCRIPTS.append(self)

    @property
    def writes(self) -> bool:
        return "no-writes" not in self.flags

    def __call__(self, database: Database, keys: list[str], args: list[ScriptArg]) -> object:
        try:
            return database.execute("FCALL", self.function, len(keys), *keys, *args)
        except ResponseError as exc:
            if not missing(exc):
                raise
        load(database)
        return database.execute("FCALL", self.function, len(keys), *keys, *args)

    def many(self, database: Database, calls: list[tuple[list[str], list[ScriptArg]]]) -> list[object]:
        """Run the script once per (keys, args), pipelined: one round trip (three if not loaded yet).

        Each call stays atomic on its own; a failing call is returned as its exception. A call
        refused for want of the library did not run, so it is sent again once the library is loaded.
        """
        results = self._pipelined(database, calls)
        unknown = [i for i, result in enumerate(results) if missing(result)]
        if unknown:
            load(database)
            for i, result in zip(unknown, self._pipelined(database, [calls[i] for i in unknown])):
                results[i] = result
        return results

    def _pipelined(self, database: Database, calls: list[tuple[list[str], list[ScriptArg]]]) -> list[object]:
        if not calls:
            return []
        # Through the database's funnel: a pipeline at work refuses a batch it cannot queue.
        return database.execute_batch([("FCALL", self.function, len(keys), *keys, *args) for keys, args in calls])


def called(command: tuple[Arg, ...]) -> Script | None:
    """The script a command calls (an FCALL of this library), else None."""
    return _BY_FUNCTION.get(str(command[1])) if command[0] == "FCALL" else None


CREATE: Final = Script("create")
WRITE: Final = Script("write")
DELETE: Final = Script("delete", flags=("allow-oom",))
# A query that stores its results writes; the others read only, so they run on a replica too.
QUERY: Final = Script("query")
QUERY_READ: Final = Script("query_read", "query", ("no-writes",))
# One instance's values by pk (Collection.get): the existence check and the reads in one call.
READ: Final = Script("read", flags=("no-writes",))
# Index maintenance (maintenance.py): check, and repair, in bounded atomic batches. A check that
# notes nothing runs on a replica, and on a full server.
MAINT_ENTRIES: Final = Script("maint_entries")
MAINT_ENTRIES_READ: Final = Script("maint_entries_read", "maint_entries", ("no-writes",))
MAINT_INSTANCES: Final = Script("maint_instances")
MAINT_INSTANCES_READ: Final = Script("maint_instances_read", "maint_instances", ("no-writes",))
MAINT_KEYS: Final = Script("maint_keys")
MAINT_KEYS_READ: Final = Script("maint_keys_read", "maint_keys", ("no-writes",))


def _library(scripts: list[Script]) -> tuple[str, str]:
    """The library's text and name; names each script's function after the library's hash."""
    folder = resources.files(__name__)
    # Each file once, as a local function (prefixed: the prelude's names stay its own), registered
    # once per script using it.
    bodies = "".join(f"local function script_{file}(KEYS, ARGV)\n{(folder / f'{file}.lua').read_text()}\nend\n"
                     for file in dict.fromkeys(s.file for s in scripts))
    text = (folder / "prelude.lua").read_text() + "\n" + bodies
    digest = hashlib.sha1((text + repr([(s.name, s.file, s.flags) for s in scripts])).encode()).hexdigest()[:12]
    for s in scripts:
        s.function = f"lt{digest}_{s.name}"
        flags = ", ".join(f"'{flag}'" for flag in s.flags)
        text += f"redis.register_function{{function_name = '{s.function}', callback = script_{s.file}, flags = {{{flags}}}}}\n"
    return f"#!lua name=limpyd_typed_{digest}\n" + text, f"limpyd_typed_{digest}"


LIBRARY, LIBRARY_NAME = _library(_SCRIPTS)
_BY_FUNCTION: Final = {s.function: s for s in _SCRIPTS}
