"""A model for the CLI tests, without a database: the CLI is given --url."""

from __future__ import annotations

from limpyd_typed import InstanceHash, Model, Set, field


class Rider(Model, namespace="cli"):
    name: InstanceHash[str] = field(unique=True)
    team: InstanceHash[str | None] = field(indexable=True, default=None)
    tags: Set[str] = field(indexable=True, default=())
