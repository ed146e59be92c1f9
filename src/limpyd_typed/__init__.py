"""limpyd_typed: a typed object mapper for Redis.

Every field is a Redis structure whose methods are the Redis commands; indexes are exact and every
write that touches them is one atomic script.
"""

from .database import Database
from .exceptions import (
    BulkCreateError,
    CommandError,
    DoesNotExist,
    ImplementationError,
    InvalidValue,
    LimpydError,
    MultipleObjectsReturned,
    ProtectedError,
    QueryError,
    UniquenessError,
)
from .expressions import Attr, Condition
from .fields import (
    FK,
    M2M,
    PK,
    AutoPK,
    BoundFK,
    BoundM2M,
    M2MList,
    M2MSortedSet,
    relation,
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
from .relations import Related, RelatedCollection
from .query import DEFAULT_STORE_TTL, SORTED_SCORE, Collection, Page
from .server import ServerNotFound, ServerStartError

__all__ = [
    "FK",
    "M2M",
    "M2MList",
    "M2MSortedSet",
    "BoundFK",
    "BoundM2M",
    "ProtectedError",
    "Related",
    "RelatedCollection",
    "relation",
    "BulkCreateError",
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
    "DoesNotExist",
    "Hash",
    "ImplementationError",
    "InstanceHash",
    "InvalidValue",
    "LimpydError",
    "List",
    "Model",
    "Page",
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
