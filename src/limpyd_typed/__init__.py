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
    PipelineError,
    QueryError,
    TransactionError,
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
from .pipeline import Deferred, Pipeline
from .query import DEFAULT_STORE_TTL, SORTED_SCORE, Collection, Page
from .server import ServerNotFound, ServerStartError

__all__ = [
    "PK",
    "SORTED_SCORE",
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
    "DEFAULT_STORE_TTL",
    "CommandError",
    "Condition",
    "Database",
    "Deferred",
    "DoesNotExist",
    "Hash",
    "ImplementationError",
    "InstanceHash",
    "InvalidValue",
    "LimpydError",
    "List",
    "Model",
    "Page",
    "Pipeline",
    "PipelineError",
    "MultipleObjectsReturned",
    "QueryError",
    "Set",
    "ServerNotFound",
    "ServerStartError",
    "SortedSet",
    "String",
    "TransactionError",
    "UniquenessError",
    "field",
]
