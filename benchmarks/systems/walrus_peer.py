"""walrus models (by peewee's author): hash per instance, indexes as sets and sorted sets.

walrus has no unique constraint: ``name`` is indexed only. It writes a loaded instance back whole:
an update or a delete loads it first.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..common import PAGE, CityRow, PersonRow, Values


class Walrus:
    name = "walrus"

    def __init__(self) -> None:
        self.walrus: Any = importlib.import_module("walrus")
        self.person: Any = None
        self.city: Any = None

    def connect(self, url: str) -> None:
        w = self.walrus
        db = w.Database.from_url(url)
        self.person = type("Person", (w.Model,), {
            "__module__": __name__, "__database__": db, "__namespace__": "bench",
            "id": w.AutoIncrementField(),
            "name": w.TextField(index=True),
            "city": w.TextField(index=True),
            "age": w.IntegerField(index=True),
            "email": w.TextField(),
            "score": w.FloatField(),
        })
        self.city = type("City", (w.Model,), {
            "__module__": __name__, "__database__": db, "__namespace__": "bench",
            "geonameid": w.IntegerField(primary_key=True),
            "name": w.TextField(index=True),
            "country_code": w.TextField(index=True),
            "population": w.IntegerField(index=True),
            "latitude": w.FloatField(),
            "longitude": w.FloatField(),
            "timezone": w.TextField(),
        })

    @staticmethod
    def _values(p: Any) -> Values:
        return (p.name, p.city, p.age, p.email, p.score)

    def create(self, row: PersonRow) -> object:
        return self.person.create(name=row.name, city=row.city, age=row.age, email=row.email, score=row.score).id

    def get(self, pk: object) -> Values | None:
        return self._values(self.person.load(pk))

    def update(self, pk: object, city: str) -> None:
        person = self.person.load(pk)
        person.city = city
        person.save()

    def query_eq(self, city: str) -> list[Values]:
        return [self._values(p) for p in sorted(self.person.query(self.person.city == city), key=lambda p: p.id)]

    def query_range(self, city: str, min_age: int) -> list[Values]:
        p = self.person
        found = p.query((p.city == city) & (p.age >= min_age), order_by=p.age)
        return [self._values(x) for x in itertools.islice(found, PAGE)]

    def delete(self, pk: object) -> None:
        self.person.load(pk).delete()

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        # walrus has no bulk API: one create at a time.
        for number, r in enumerate(rows, 1):
            self.city.create(geonameid=r.geonameid, name=r.name, country_code=r.country_code,
                             population=r.population, latitude=r.latitude, longitude=r.longitude,
                             timezone=r.timezone)
            if number % batch_size == 0 or number == len(rows):
                on_batch()
        return len(rows)

    def close(self) -> None:
        pass


def make() -> Walrus:
    return Walrus()
