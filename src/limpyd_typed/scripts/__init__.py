"""The server-side scripts and the one place that loads and calls them.

Each script is ``prelude.lua`` (shared helpers) followed by its own file. Scripts are called by
EVALSHA; a server that does not know a script yet gets it once through EVAL, which also caches it.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Final

from typing import TYPE_CHECKING

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

    def __call__(self, connection: Database, keys: list[str], args: list[ScriptArg]) -> object:
        try:
            return connection.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return connection.execute("EVAL", self.source, len(keys), *keys, *args)


CREATE: Final = Script("create")
WRITE: Final = Script("write")
DELETE: Final = Script("delete")
QUERY: Final = Script("query")
