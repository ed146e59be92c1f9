"""What every system runs: the data, the workloads' names, the System protocol, and round-trip counting.

A *round trip* is one request sent by the client and its reply read back: one
``send_packed_command`` of redis-py's connection (a pipeline, or a MULTI ... EXEC block sent as one
pipeline, is one round trip whatever it holds). It is counted in the client by wrapping that one
method, the same way for every system, ours and the peers, since all of them talk through redis-py.
*Server commands* are counted at the server (``total_commands_processed`` deltas): MULTI and EXEC
count there as commands, and so does each command a script calls besides its EVALSHA or FCALL
(Valkey counts them in that total), so it measures work on the server, not exchanges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.connection import AbstractConnection

# The workloads, in the order they run (bulk last, on an emptied database).
CREATE = "create"
GET = "get by pk"
UPDATE = "update indexed field"
QUERY_EQ = "query eq + values"
QUERY_RANGE = "query range+eq, sort, page 50"
DELETE = "delete"
BULK = "bulk load"
WORKLOADS = (CREATE, GET, UPDATE, QUERY_EQ, QUERY_RANGE, DELETE, BULK)

PEOPLE_PER_CITY = 100  # an equality query returns about this many objects
RANGE_MIN_AGE = 30  # ages are 10..99: about 78 of a city's 100 match, the page keeps 50
PAGE = 50


@dataclass(frozen=True)
class PersonRow:
    """One object of the main workloads: 3 indexed fields (name unique, city, age range) and 2 plain."""

    name: str
    city: str
    age: int
    email: str
    score: float


@dataclass(frozen=True)
class CityRow:
    """One GeoNames row of the bulk load: name, country and population indexed, the rest plain."""

    geonameid: int
    name: str
    country_code: str
    population: int
    latitude: float
    longitude: float
    timezone: str


def city_name(number: int) -> str:
    return f"city-{number:05d}"


def people(count: int) -> list[PersonRow]:
    """``count`` deterministic people, about PEOPLE_PER_CITY per city."""
    cities = max(1, count // PEOPLE_PER_CITY)
    return [
        PersonRow(
            name=f"person-{i:07d}",
            city=city_name(i % cities),
            age=10 + (i * 7919) % 90,
            email=f"person{i}@example.com",
            score=(i % 1000) / 10,
        )
        for i in range(count)
    ]


def city_count(count: int) -> int:
    return max(1, count // PEOPLE_PER_CITY)


# A person as every system returns it: (name, city, age, email, score).
Values = tuple[object, ...]


class System(Protocol):
    """One way of doing the workloads: ours, a floor written by hand, or a peer library."""

    name: str

    def connect(self, url: str) -> None:
        """Connect to the server (and load any script); nothing is written."""
        ...

    def create(self, row: PersonRow) -> object:
        """Create one person with its index entries; returns its pk."""
        ...

    def get(self, pk: object) -> Values | None:
        """The person with this pk and its values (None when there is none)."""
        ...

    def update(self, pk: object, city: str) -> None:
        """Move the person to another city (an indexed field)."""
        ...

    def query_eq(self, city: str) -> list[Values]:
        """Every person of the city with their values."""
        ...

    def query_range(self, city: str, min_age: int) -> list[Values]:
        """People of the city with age >= min_age, by age (then pk), the first PAGE, with values."""
        ...

    def delete(self, pk: object) -> None:
        """Delete the person and its index entries."""
        ...

    def bulk(self, rows: Sequence[CityRow], batch_size: int, on_batch: Callable[[], None]) -> int:
        """Load every row, calling ``on_batch`` after each batch; returns how many were written."""
        ...

    def close(self) -> None:
        """Close connections."""
        ...


class Unavailable(Exception):
    """The system cannot run here (a peer not installed, a missing API): said in its row."""


# -- round-trip counting ---------------------------------------------------------------------------

_sent = [0]
_original_send: Callable[..., Any] | None = None


def count_round_trips() -> None:
    """Count every request redis-py sends in this process (idempotent)."""
    global _original_send
    if _original_send is not None:
        return
    original: Callable[..., Any] = AbstractConnection.send_packed_command
    _original_send = original

    def send_packed_command(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        _sent[0] += 1
        original(self, command, check_health)

    setattr(AbstractConnection, "send_packed_command", send_packed_command)


def round_trips_sent() -> int:
    return _sent[0]
