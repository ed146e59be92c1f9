"""The server-side scripts and the one place that loads and calls them.

Each script is ``prelude.lua`` (shared helpers) followed by its own file (read.lua alone: see there). Scripts are called by
EVALSHA; a server that does not know a script yet gets it once through EVAL, which also caches it.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING, Final

from redis.exceptions import NoScriptError

from ..database import Arg

if TYPE_CHECKING:
    from ..database import Database

ScriptArg = Arg


def error_reason(error: object) -> str:
    """A script error in its own words, without where it was raised: "user_script:75: not a
    stored int value: 'abc' script: <sha>, on @user_script:75." -> "not a stored int value: 'abc'"."""
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    text = text.split(" script: ", 1)[0]
    head, _, rest = text.partition(": ")
    return rest if head.startswith("user_script:") else text


class Script:
    """One Lua script, called with its keys declared and its arguments binary-safe."""

    __slots__ = ("name", "source", "sha")

    # Every script by its sha: a pipeline loads the ones its queued EVALSHAs need.
    by_sha: Final[dict[str, Script]] = {}

    def __init__(self, name: str, prelude: bool = True) -> None:
        folder = resources.files(__name__)
        shared = (folder / "prelude.lua").read_text() + "\n" if prelude else ""
        self.name = name
        self.source = shared + (folder / f"{name}.lua").read_text()
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
        Script.by_sha[self.sha] = self

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
        # Through the database's funnel: a pipeline at work refuses a batch it cannot queue.
        return database.execute_batch([("EVALSHA", self.sha, len(keys), *keys, *args) for keys, args in calls])


CREATE: Final = Script("create")
WRITE: Final = Script("write")
DELETE: Final = Script("delete")
QUERY: Final = Script("query")
# One instance's values by pk (Collection.get): the existence check and the reads in one call.
READ: Final = Script("read", prelude=False)
# Index maintenance (maintenance.py): check, and repair, in bounded atomic batches.
MAINT_ENTRIES: Final = Script("maint_entries")
MAINT_INSTANCES: Final = Script("maint_instances")
MAINT_KEYS: Final = Script("maint_keys")
