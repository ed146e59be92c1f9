"""The pytest plugin of limpyd_typed, loaded through the ``pytest11`` entry point.

Fixtures (names prefixed ``limpyd_`` so that they cannot clash with a project's own ``db``):

- ``limpyd_server_url`` (session): the URL of a real server. A private embedded one
  (``Database.embedded()``'s server: valkey bundled by the ``server`` extra, or a binary on PATH),
  or ``LIMPYD_TEST_REDIS_URL`` when set. ``REDIS_URL`` is deliberately not used: every test flushes
  the database, and REDIS_URL usually names one that holds data.
- ``limpyd_db``: a ``Database`` on that server, flushed before the test, closed after it.
- ``limpyd_models``: ``limpyd_models(Person, Team)`` moves models to ``limpyd_db`` for one test and
  puts them back on their own database afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from ..database import Database
from ..model import Model
from ..server import EmbeddedServer
from . import no_retry

URL_VARIABLE = "LIMPYD_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def limpyd_server_url() -> Iterator[str]:
    """The URL of the session's test server: LIMPYD_TEST_REDIS_URL, else a private embedded server."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        yield url
        return
    with EmbeddedServer() as server:
        yield server.url


@pytest.fixture
def limpyd_db(limpyd_server_url: str) -> Iterator[Database]:
    """A Database on the test server, emptied (FLUSHDB) before the test; it never retries a failed connection."""
    database = Database(limpyd_server_url, retry=no_retry())
    database.connection.flushdb()
    yield database
    database.close()


class ModelsBinder(Protocol):
    """What the ``limpyd_models`` fixture gives."""

    def __call__(self, *models: type[Model[Any]]) -> None: ...


@pytest.fixture
def limpyd_models(limpyd_db: Database) -> Iterator[ModelsBinder]:
    """``limpyd_models(Person, Team)``: host these models on ``limpyd_db`` for this test only."""
    moved: list[tuple[type[Model[Any]], Database | None]] = []

    def bind(*models: type[Model[Any]]) -> None:
        for model in models:
            moved.append((model, model.__dict__.get("database")))  # None: it inherited its base's
            model.use_database(limpyd_db)

    yield bind
    for model, previous in reversed(moved):
        model._rehost(previous)
