"""Fixtures shared by every test: one real server per session, an emptied database per test.

The server is the one of the limpyd_typed pytest plugin (limpyd_typed.testing.plugin: an
embedded valkey/redis binary, see limpyd_typed.server); set LIMPYD_TEST_REDIS_URL to run against another server instead. It is
flushed before every test, so never point it at data you care about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis.connection import Connection, UnixDomainSocketConnection

from limpyd_typed import Database
from limpyd_typed.testing import no_retry

# pytester: the tests of the limpyd_typed pytest plugin run a user's test file through pytest.
pytest_plugins = ["pytester"]


class RoundTrips:
    """Counts the request/response exchanges of a database's connections (a pipeline is one)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> RoundTrips:
        self.count = 0
        _COUNTERS.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _COUNTERS.remove(self)


_COUNTERS: list[RoundTrips] = []


def _count() -> None:
    for counter in _COUNTERS:
        counter.count += 1


class CountingUnixConnection(UnixDomainSocketConnection):
    """A real unix-socket connection that counts what it sends; each send is one round trip."""

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        _count()
        send: Callable[[Any, bool], None] = super().send_packed_command  # untyped in redis-py
        send(command, check_health)


class CountingTCPConnection(Connection):
    """The same for a TCP connection (LIMPYD_TEST_REDIS_URL=redis://...)."""

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        _count()
        send: Callable[[Any, bool], None] = super().send_packed_command  # untyped in redis-py
        send(command, check_health)


@pytest.fixture(scope="session")
def server_url(limpyd_server_url: str) -> str:
    """The session's server: the one of the limpyd_typed pytest plugin (limpyd_typed.testing.plugin)."""
    return limpyd_server_url


@pytest.fixture
def db(server_url: str) -> Iterator[Database]:
    """A fresh Database on the test server, emptied before the test."""
    database = Database(server_url, retry=no_retry())
    counting = CountingUnixConnection if server_url.startswith("unix://") else CountingTCPConnection
    # Set before the first connection is made; redis-py types the attribute as type[Connection].
    setattr(database.connection.connection_pool, "connection_class", counting)
    database.connection.flushdb()
    yield database
    database.close()


@pytest.fixture
def round_trips() -> RoundTrips:
    """``with round_trips as rt: ...; assert rt.count == 1`` (script loading is done beforehand)."""
    return RoundTrips()
