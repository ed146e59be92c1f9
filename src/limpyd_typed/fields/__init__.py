"""Field descriptors: one module per Redis structure."""

from .base import BoundField, Field, FieldOptions, field
from .hash import BoundHash, Hash
from .instance_hash import BoundInstanceHash, InstanceHash
from .list import BoundList, List
from .pk import PK, AutoPK, BoundPK
from .related import (FK, M2M, BoundFK, BoundM2M, BoundM2MList, BoundM2MSet, BoundM2MSortedSet, M2MList,
                      M2MSortedSet, relation)
from .set import BoundSet, Set
from .sorted_set import BoundSortedSet, SortedSet
from .string import BoundString, String

__all__ = [
    "PK", "AutoPK", "BoundField", "BoundHash", "BoundInstanceHash", "BoundList", "BoundPK", "BoundSet",
    "BoundSortedSet", "BoundString", "Field", "FieldOptions", "Hash", "InstanceHash", "List", "Set", "SortedSet",
    "String", "field", "FK", "M2M", "M2MList", "M2MSortedSet", "BoundFK", "BoundM2M", "BoundM2MList", "BoundM2MSet", "BoundM2MSortedSet", "relation",
]
