"""The redis-py floor: the same work written by hand, one MULTI ... EXEC per write.

It does less than an object mapper may: pks are counted by the client (no INCR round trip), the
unique name is recorded but not checked, and an update or a delete reads the old values first
(one round trip) before its MULTI (another), since a MULTI cannot use what it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis

from ..common import PAGE, CityRow, PersonRow, Values
from . import layout as k

Execute = Callable[..., Any]


class Raw:
    name = "redis-py (raw)"

    def __init__(self) -> None:
        self.client: redis.Redis | None = None
        self.next_pk = 0

    @property
    def r(self) -> redis.Redis:
        assert self.client is not None
        return self.client

    def _execute(self) -> Execute:
        run: Execute = self.r.execute_command
        return run

    def connect(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def create(self, row: PersonRow) -> object:
        self.next_pk += 1
        pk = str(self.next_pk)
        pipe = self.r.pipeline(transaction=True)
        queue: Execute = pipe.execute_command
        queue("HSET", k.OBJ + pk, *[item for pair in k.mapping(row).items() for item in pair])
        queue("SADD", k.PKS, pk)
        queue("HSET", k.NAMES, row.name, pk)
        queue("SADD", k.CITY + row.city, pk)
        queue("ZADD", k.AGE, row.age, pk)
        pipe.execute()
        return self.next_pk

    def get(self, pk: object) -> Values | None:
        pipe = self.r.pipeline(transaction=False)
        queue: Execute = pipe.execute_command
        queue("SISMEMBER", k.PKS, pk)
        queue("HGETALL", k.OBJ + str(pk))
        exists, values = pipe.execute()
        if not exists:
            return None
        return k.decoded([values.get(name.encode()) for name in k.FIELDS])

    def update(self, pk: object, city: str) -> None:
        key = k.OBJ + str(pk)
        old = self._execute()("HGET", key, "city")
        pipe = self.r.pipeline(transaction=True)
        queue: Execute = pipe.execute_command
        queue("HSET", key, "city", city)
        if old is not None:
            queue("SREM", k.CITY + old.decode(), pk)
        queue("SADD", k.CITY + city, pk)
        pipe.execute()

    def _values(self, pks: list[bytes]) -> list[Values]:
        pipe = self.r.pipeline(transaction=False)
        queue: Execute = pipe.execute_command
        for pk in pks:
            queue("HMGET", k.OBJ + pk.decode(), *k.FIELDS)
        return [k.decoded(raw) for raw in pipe.execute()]

    def query_eq(self, city: str) -> list[Values]:
        pks: set[bytes] = self._execute()("SMEMBERS", k.CITY + city)
        return self._values(sorted(pks, key=int))

    def query_range(self, city: str, min_age: int) -> list[Values]:
        tmp = "b:tmp:range"
        pipe = self.r.pipeline(transaction=True)
        queue: Execute = pipe.execute_command
        queue("ZINTERSTORE", tmp, 2, k.AGE, k.CITY + city, "WEIGHTS", 1, 0)
        queue("ZRANGE", tmp, min_age, "+inf", "BYSCORE", "LIMIT", 0, PAGE)
        queue("DEL", tmp)
        _, pks, _ = pipe.execute()
        return self._values(pks)

    def delete(self, pk: object) -> None:
        key = k.OBJ + str(pk)
        name, city = self._execute()("HMGET", key, "name", "city")
        pipe = self.r.pipeline(transaction=True)
        queue: Execute = pipe.execute_command
        queue("DEL", key)
        queue("SREM", k.PKS, pk)
        if name is not None:
            queue("HDEL", k.NAMES, name)
        if city is not None:
            queue("SREM", k.CITY + city.decode(), pk)
        queue("ZREM", k.AGE, pk)
        pipe.execute()

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        written = 0
        for start in range(0, len(rows), batch_size):
            # One pipeline per batch holding one MULTI ... EXEC per row: each row atomic on its own.
            pipe = self.r.pipeline(transaction=False)
            queue: Execute = pipe.execute_command
            for row in rows[start : start + batch_size]:
                pk = str(row.geonameid)
                queue("MULTI")
                queue("HSET", k.G_OBJ + pk, *[item for pair in k.city_mapping(row).items() for item in pair])
                queue("SADD", k.G_PKS, pk)
                queue("SADD", k.G_NAME + row.name, pk)
                queue("SADD", k.G_CC + row.country_code, pk)
                queue("ZADD", k.G_POP, row.population, pk)
                queue("EXEC")
            replies = pipe.execute()
            written += sum(1 for reply in replies if isinstance(reply, list))
            on_batch()
        return written

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def make() -> Raw:
    return Raw()
