"""limpyd_typed, used as its README says."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from limpyd_typed import PK, Database, InstanceHash, Model, field
from limpyd_typed import scripts as typed_scripts

from ..common import PAGE, CityRow, PersonRow, Values


# values_list's typed overloads stop at 4 attributes: 5 fields are asked for by name.
FIELDS = ("name", "city", "age", "email", "score")


class Person(Model, namespace="bench"):
    name: InstanceHash[str] = field(unique=True)
    city: InstanceHash[str] = field(indexable=True)
    age: InstanceHash[int] = field(index="range")
    email: InstanceHash[str]
    score: InstanceHash[float]


class City(Model[int], namespace="bench"):
    geonameid: PK[int]
    name: InstanceHash[str] = field(indexable=True)
    country_code: InstanceHash[str] = field(indexable=True)
    population: InstanceHash[int] = field(index="range")
    latitude: InstanceHash[float]
    longitude: InstanceHash[float]
    timezone: InstanceHash[str]


class Typed:
    name = "limpyd_typed"

    def __init__(self) -> None:
        self.db: Database | None = None

    def connect(self, url: str) -> None:
        self.use(Database(url))

    def use(self, db: Database) -> None:
        """Host the models on ``db`` and load the script library (so that no FCALL misses in a timed run)."""
        self.db = db
        Person.use_database(db)
        City.use_database(db)
        typed_scripts.load(db)

    def create(self, row: PersonRow) -> object:
        return Person(name=row.name, city=row.city, age=row.age, email=row.email, score=row.score).pk_value

    def get(self, pk: object) -> Values | None:
        assert isinstance(pk, int)
        # One round trip: the existence check and the values, read by one script.
        return Person.collection().values_list(*FIELDS).get(pk)

    def update(self, pk: object, city: str) -> None:
        assert isinstance(pk, int)
        Person.lazy_connect(pk).city.hset(city)

    def query_eq(self, city: str) -> list[Values]:
        return list(Person.collection(Person.city == city).values_list(*FIELDS))

    def query_range(self, city: str, min_age: int) -> list[Values]:
        found = Person.collection(Person.city == city, Person.age >= min_age).sort(by="age")
        return list(found.values_list(*FIELDS)[:PAGE])

    def delete(self, pk: object) -> None:
        assert isinstance(pk, int)
        Person.lazy_connect(pk).delete()

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        # bulk_create checks every row it is given before sending any: called once per batch of
        # batch_size rows (with batch_size=batch_size), so that each batch's latency is seen.
        written = 0
        for start in range(0, len(rows), batch_size):
            batch: list[dict[str, Any]] = [
                {"geonameid": r.geonameid, "name": r.name, "country_code": r.country_code,
                 "population": r.population, "latitude": r.latitude, "longitude": r.longitude,
                 "timezone": r.timezone}
                for r in rows[start : start + batch_size]
            ]
            written += len(City.bulk_create(batch, batch_size=batch_size))
            on_batch()
        return written

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def make() -> Typed:
    return Typed()
