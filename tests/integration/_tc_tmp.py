from __future__ import annotations
from typing import Any
from limpyd_typed import *

class Bike(Model):
    name: InstanceHash[str] = field(indexable=True, unique=True)
    wheels: String[int] = field(default=2)

class Named(Model, namespace="x"):
    name: PK[str]
    tags: Set[str] = field(default=(), indexable=True)
    headers: Hash[str] = field(default={}, indexable=True)

class MyColl(Collection[Any]):
    pass

class WithMgr(Model):
    collection_manager = MyColl
    a: InstanceHash[str] = field(indexable=True)

def create(model: type[Model], **values: object) -> Model:
    return model(**values)

def f() -> None:
    b = Bike(name="x")
    n = Named(name="a")
    x: str = n.pk.get()
    y: int = b.pk.get()
    class Bad(Model):
        get: InstanceHash[str]
    c = Bike.collection(Bike.name == "x").instances()
    for i in c:
        v: str | None = i.name.get()
    p, created = Bike.get_or_connect(name="x")
    q: Bike = p
    w: int | None = b.wheels.get()
    create(Bike, nme="x")
