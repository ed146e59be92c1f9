"""The Lua floor: one EVALSHA per write and one per query, written by hand for these workloads.

It does what limpyd_typed's scripts do for this model (pk counter, unique check before any write,
index moves) but nothing general: no codecs, no escaping, no declared data keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import redis

from ..common import PAGE, CityRow, PersonRow, Values
from . import layout as k

Execute = Callable[..., Any]

CREATE = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
local pk = redis.call('INCR', KEYS[1])
redis.call('HSET', ARGV[6] .. pk, 'name', ARGV[1], 'city', ARGV[2], 'age', ARGV[3], 'email', ARGV[4], 'score', ARGV[5])
redis.call('SADD', KEYS[2], pk)
redis.call('HSET', KEYS[3], ARGV[1], pk)
redis.call('SADD', KEYS[4], pk)
redis.call('ZADD', KEYS[5], ARGV[3], pk)
return pk
"""
GET = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return false end
return redis.call('HMGET', KEYS[2], 'name', 'city', 'age', 'email', 'score')
"""
UPDATE = """
local old = redis.call('HGET', KEYS[1], 'city')
if not old then return 0 end
redis.call('HSET', KEYS[1], 'city', ARGV[2])
redis.call('SREM', ARGV[3] .. old, ARGV[1])
redis.call('SADD', ARGV[3] .. ARGV[2], ARGV[1])
return 1
"""
VALUES = """
local function values(pks)
  local out = {}
  for _, pk in ipairs(pks) do
    local v = redis.call('HMGET', ARGV[1] .. pk, 'name', 'city', 'age', 'email', 'score')
    for i = 1, 5 do out[#out + 1] = v[i] end
  end
  return out
end
"""
QUERY_EQ = VALUES + """
local pks = redis.call('SMEMBERS', KEYS[1])
table.sort(pks, function(a, b) return tonumber(a) < tonumber(b) end)
return values(pks)
"""
QUERY_RANGE = VALUES + """
local pks = redis.call('SMEMBERS', KEYS[1])
if #pks == 0 then return {} end
local scores = redis.call('ZMSCORE', KEYS[2], unpack(pks))
local min, found = tonumber(ARGV[2]), {}
for i, pk in ipairs(pks) do
  local s = tonumber(scores[i])
  if s and s >= min then found[#found + 1] = {s, tonumber(pk), pk} end
end
table.sort(found, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
local page = {}
for i = 1, math.min(#found, tonumber(ARGV[3])) do page[i] = found[i][3] end
return values(page)
"""
DELETE = """
local v = redis.call('HMGET', KEYS[1], 'name', 'city')
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
if v[1] then redis.call('HDEL', KEYS[3], v[1]) end
if v[2] then redis.call('SREM', ARGV[2] .. v[2], ARGV[1]) end
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
"""
BULK_ROW = """
local pk = ARGV[1]
if redis.call('SADD', KEYS[1], pk) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'name', ARGV[2], 'country_code', ARGV[3], 'population', ARGV[4],
           'latitude', ARGV[5], 'longitude', ARGV[6], 'timezone', ARGV[7])
redis.call('SADD', KEYS[3], pk)
redis.call('SADD', KEYS[4], pk)
redis.call('ZADD', KEYS[5], ARGV[4], pk)
return 1
"""


def _sha(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


class Lua:
    name = "Lua (raw)"

    def __init__(self) -> None:
        self.client: redis.Redis | None = None
        self.run: Execute | None = None

    def connect(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        run: Execute = self.client.execute_command
        self.run = run
        for source in (CREATE, GET, UPDATE, QUERY_EQ, QUERY_RANGE, DELETE, BULK_ROW):
            run("SCRIPT", "LOAD", source)

    def _call(self, source: str, keys: list[str], *args: object) -> Any:
        assert self.run is not None
        return self.run("EVALSHA", _sha(source), len(keys), *keys, *args)

    def create(self, row: PersonRow) -> object:
        pk = self._call(CREATE, [k.NEXT, k.PKS, k.NAMES, k.CITY + row.city, k.AGE],
                        row.name, row.city, row.age, row.email, repr(row.score), k.OBJ)
        if pk == 0:
            raise ValueError(f"name {row.name!r} is taken")
        return int(pk)

    def get(self, pk: object) -> Values | None:
        raw = self._call(GET, [k.PKS, k.OBJ + str(pk)], pk)
        return None if raw is None else k.decoded(raw)

    def update(self, pk: object, city: str) -> None:
        self._call(UPDATE, [k.OBJ + str(pk)], pk, city, k.CITY)

    @staticmethod
    def _rows(flat: list[bytes | None]) -> list[Values]:
        return [k.decoded(flat[i : i + 5]) for i in range(0, len(flat), 5)]

    def query_eq(self, city: str) -> list[Values]:
        return self._rows(self._call(QUERY_EQ, [k.CITY + city], k.OBJ))

    def query_range(self, city: str, min_age: int) -> list[Values]:
        return self._rows(self._call(QUERY_RANGE, [k.CITY + city, k.AGE], k.OBJ, min_age, PAGE))

    def delete(self, pk: object) -> None:
        self._call(DELETE, [k.OBJ + str(pk), k.PKS, k.NAMES, k.AGE], pk, k.CITY)

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        assert self.client is not None
        sha = _sha(BULK_ROW)
        written = 0
        for start in range(0, len(rows), batch_size):
            pipe = self.client.pipeline(transaction=False)
            queue: Execute = pipe.execute_command
            for row in rows[start : start + batch_size]:
                pk = str(row.geonameid)
                queue("EVALSHA", sha, 5, k.G_PKS, k.G_OBJ + pk, k.G_NAME + row.name, k.G_CC + row.country_code,
                      k.G_POP, pk, row.name, row.country_code, row.population, repr(row.latitude),
                      repr(row.longitude), row.timezone)
            written += sum(1 for reply in pipe.execute() if reply == 1)
            on_batch()
        return written

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def make() -> Lua:
    return Lua()
