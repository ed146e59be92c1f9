"""rom (Redis Object Mapper): Lua-scripted saves, indexes by keygen.

Its session (an identity map) is emptied after every operation, so that a get reads Redis and
memory does not grow. ``name`` is ``unique=True`` (rom checks it in its save script).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import redis

from ..common import PAGE, CityRow, PersonRow, Values


class Rom:
    name = "rom"

    def __init__(self) -> None:
        self.rom: Any = importlib.import_module("rom")
        self.person: Any = None
        self.city: Any = None

    def connect(self, url: str) -> None:
        rom = self.rom
        setattr(importlib.import_module("rom.util"), "CONNECTION", redis.Redis.from_url(url))
        self.person = type("Person", (rom.Model,), {
            "__module__": __name__,
            "name": rom.Text(unique=True, keygen=rom.IDENTITY),
            "city": rom.Text(index=True, keygen=rom.IDENTITY),
            "age": rom.Integer(index=True),
            "email": rom.Text(),
            "score": rom.Float(),
        })
        self.city = type("City", (rom.Model,), {
            "__module__": __name__,
            "geonameid": rom.Integer(),  # rom refuses a given primary key: its own id is the pk
            "name": rom.Text(index=True, keygen=rom.IDENTITY),
            "country_code": rom.Text(index=True, keygen=rom.IDENTITY),
            "population": rom.Integer(index=True),
            "latitude": rom.Float(),
            "longitude": rom.Float(),
            "timezone": rom.Text(),
        })

    def _forget(self) -> None:
        self.rom.session.rollback()

    @staticmethod
    def _values(entity: Any) -> Values:
        return (entity.name, entity.city, entity.age, entity.email, entity.score)

    def create(self, row: PersonRow) -> object:
        person = self.person(name=row.name, city=row.city, age=row.age, email=row.email, score=row.score)
        person.save()
        self._forget()
        return person.id

    def get(self, pk: object) -> Values | None:
        person = self.person.get(pk)
        self._forget()
        return None if person is None else self._values(person)

    def update(self, pk: object, city: str) -> None:
        person = self.person.get(pk)  # rom saves loaded entities: read, then write
        person.city = city
        person.save()
        self._forget()

    def query_eq(self, city: str) -> list[Values]:
        found = self.person.query.filter(city=city).all()
        self._forget()
        return [self._values(p) for p in sorted(found, key=lambda p: p.id)]

    def query_range(self, city: str, min_age: int) -> list[Values]:
        found = self.person.query.filter(city=city, age=(min_age, None)).order_by("age").limit(0, PAGE).all()
        self._forget()
        return [self._values(p) for p in found]

    def delete(self, pk: object) -> None:
        self.person.get(pk).delete()  # rom deletes loaded entities: read, then delete
        self._forget()

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        for start in range(0, len(rows), batch_size):
            batch = [self.city(geonameid=r.geonameid, name=r.name, country_code=r.country_code,
                               population=r.population, latitude=r.latitude, longitude=r.longitude,
                               timezone=r.timezone) for r in rows[start : start + batch_size]]
            self.rom.session.save(batch)  # rom's many-entity save: one script per entity
            self._forget()
            on_batch()
        return len(rows)

    def close(self) -> None:
        pass


def make() -> Rom:
    return Rom()
