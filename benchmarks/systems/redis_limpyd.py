"""redis-limpyd 2.1.2, the library limpyd_typed follows, with its extended collections.

The peer is untyped: its module is imported by name so that the type checkers see ``Any`` there,
and its classes are built with ``type()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from ..common import PAGE, CityRow, PersonRow, Values

FIELDS = ("name", "city", "age", "email", "score")


def settings(url: str) -> dict[str, object]:
    """redis.Redis keywords for a URL, as limpyd's RedisDatabase takes them."""
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        return {"unix_socket_path": parsed.path}
    db = int(parsed.path.lstrip("/") or 0)
    return {"host": parsed.hostname or "localhost", "port": parsed.port or 6379, "db": db}


class Limpyd:
    name = "redis-limpyd 2.1.2"

    def __init__(self) -> None:
        self.person: Any = None
        self.city: Any = None

    def connect(self, url: str) -> None:
        model = importlib.import_module("limpyd.model")
        fields = importlib.import_module("limpyd.fields")
        database = importlib.import_module("limpyd.database")
        indexes = importlib.import_module("limpyd.indexes")
        collection = importlib.import_module("limpyd.contrib.collection")
        db = database.RedisDatabase(**settings(url))
        ranged = [indexes.EqualIndex, indexes.NumberRangeIndex]
        common = {"database": db, "namespace": "bench", "collection_manager": collection.ExtendedCollectionManager}
        self.person = type("Person", (model.RedisModel,), {
            **common,
            "name": fields.InstanceHashField(indexable=True, unique=True),
            "city": fields.InstanceHashField(indexable=True),
            "age": fields.InstanceHashField(indexable=True, indexes=ranged),
            "email": fields.InstanceHashField(),
            "score": fields.InstanceHashField(),
        })
        self.city = type("City", (model.RedisModel,), {
            **common,
            "geonameid": fields.PKField(),
            "name": fields.InstanceHashField(indexable=True),
            "country_code": fields.InstanceHashField(indexable=True),
            "population": fields.InstanceHashField(indexable=True, indexes=ranged),
            "latitude": fields.InstanceHashField(),
            "longitude": fields.InstanceHashField(),
            "timezone": fields.InstanceHashField(),
        })

    @staticmethod
    def _typed(values: Sequence[Any]) -> Values:
        name, city, age, email, score = values
        return (name, city, None if age is None else int(age), email, None if score is None else float(score))

    def create(self, row: PersonRow) -> object:
        person = self.person(name=row.name, city=row.city, age=row.age, email=row.email, score=repr(row.score))
        return person.pk.get()

    def get(self, pk: object) -> Values | None:
        values = self.person.get(pk).hmget(*FIELDS)
        return self._typed(values)

    def update(self, pk: object, city: str) -> None:
        self.person.lazy_connect(pk).city.hset(city)

    def query_eq(self, city: str) -> list[Values]:
        return [self._typed(v) for v in self.person.collection(city=city).values_list(*FIELDS)]

    def query_range(self, city: str, min_age: int) -> list[Values]:
        found = self.person.collection(city=city, age__gte=min_age).sort(by="age").values_list(*FIELDS)
        return [self._typed(v) for v in found[:PAGE]]

    def delete(self, pk: object) -> None:
        self.person.lazy_connect(pk).delete()

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        # limpyd has no bulk API: one instance at a time (each is several round trips).
        for number, row in enumerate(rows, 1):
            self.city(geonameid=row.geonameid, name=row.name, country_code=row.country_code,
                      population=row.population, latitude=repr(row.latitude), longitude=repr(row.longitude),
                      timezone=row.timezone)
            if number % batch_size == 0 or number == len(rows):
                on_batch()
        return len(rows)

    def close(self) -> None:
        pass


def make() -> Limpyd:
    importlib.import_module("limpyd")  # ImportError: the row says "not installed"
    return Limpyd()
