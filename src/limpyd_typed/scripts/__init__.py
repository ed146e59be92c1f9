"""The server-side scripts and the one place that loads and calls them.

Each script is ``prelude.lua`` (shared helpers) followed by its own file. Scripts are called by
EVALSHA; a server that does not know a script yet gets it once through EVAL, which also caches it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Final

from redis.exceptions import NoScriptError

from ..database import Arg

if TYPE_CHECKING:
    from ..database import Database

ScriptArg = Arg


class Script:
    """One Lua script, called with its keys declared and its arguments binary-safe."""

    __slots__ = ("name", "source", "sha")

    def __init__(self, name: str) -> None:
        folder = resources.files(__name__)
        prelude = (folder / "prelude.lua").read_text()
        self.name = name
        self.source = prelude + "\n" + (folder / f"{name}.lua").read_text()
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    def __call__(self, database: Database, keys: list[str], args: list[ScriptArg]) -> object:
        try:
            return database.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return database.execute("EVAL", self.source, len(keys), *keys, *args)

    def many(self, database: Database, calls: list[tuple[list[str], list[ScriptArg]]]) -> list[object]:
        """Run the script once per (keys, args), pipelined: one round trip (three if not loaded yet).

        Each call stays atomic on its own; a failing call is returned as its exception. A call
        refused with NOSCRIPT did not run, so it is sent again once the script is loaded.
        """
        results = self._pipelined(database, calls)
        unknown = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if unknown:
            database.execute("SCRIPT", "LOAD", self.source)
            for i, result in zip(unknown, self._pipelined(database, [calls[i] for i in unknown])):
                results[i] = result
        return results

    def _pipelined(self, database: Database, calls: list[tuple[list[str], list[ScriptArg]]]) -> list[object]:
        if not calls:
            return []
        pipe = database.connection.pipeline(transaction=False)
        queue: Callable[..., object] = pipe.execute_command  # untyped in redis-py
        for keys, args in calls:
            queue("EVALSHA", self.sha, len(keys), *keys, *args)
        results: list[object] = pipe.execute(raise_on_error=False)
        return results


CREATE: Final = Script("create")
WRITE: Final = Script("write")
DELETE: Final = Script("delete")
QUERY: Final = Script("query")
