"""limpyd_typed: a typed object mapper for Redis.

Every field is a Redis structure whose methods are the Redis commands; indexes are exact and every
write that touches them is one atomic script.
"""

from .database import Database
from .exceptions import (
    CommandError,
    DoesNotExist,
    ImplementationError,
    InvalidValue,
    LimpydError,
    MultipleObjectsReturned,
    QueryError,
    UniquenessError,
)
from .expressions import Attr, Condition
from .fields import (
    PK,
    AutoPK,
    BoundHash,
    BoundInstanceHash,
    BoundList,
    BoundPK,
    BoundSet,
    BoundSortedSet,
    BoundString,
    Hash,
    InstanceHash,
    List,
    Set,
    SortedSet,
    String,
    field,
)
from .model import Model
from .query import Collection
from .server import ServerNotFound, ServerStartError

__all__ = [
    "PK",
    "Attr",
    "AutoPK",
    "BoundHash",
    "BoundInstanceHash",
    "BoundList",
    "BoundPK",
    "BoundSet",
    "BoundSortedSet",
    "BoundString",
    "Collection",
    "CommandError",
    "Condition",
    "Database",
    "DoesNotExist",
    "Hash",
    "ImplementationError",
    "InstanceHash",
    "InvalidValue",
    "LimpydError",
    "List",
    "Model",
    "MultipleObjectsReturned",
    "QueryError",
    "Set",
    "ServerNotFound",
    "ServerStartError",
    "SortedSet",
    "String",
    "UniquenessError",
    "field",
]
