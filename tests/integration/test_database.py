"""Integration tests of Database: connecting by URL or REDIS_URL, embedded servers (temporary and
persistent), switching connections with connect(), and moving models with use_database().

Data is checked through independent redis-py clients, never only through the Database under test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from limpyd_typed import Database, ImplementationError, InstanceHash, Model, String, field, replies
from limpyd_typed.server import EmbeddedServer
from tests.integration.support import pid_alive


class DbBike(Model):
    name: InstanceHash[str] = field(indexable=True, unique=True)
    wheels: String[int] = field(default=2)


class DbBase(Model, abstract=True, namespace="dbtest"):
    label: InstanceHash[str] = field(indexable=True)


class DbFoo(DbBase):
    foo: String[str] = field(default="foo")


class DbBar(DbBase):
    bar: String[str] = field(default="bar")


class DbOwn(DbBase):
    """A subclass that gets a database of its own: moving the base must leave it alone."""

    own: String[str] = field(default="own")


def keys_at(url: str, db_number: int = 0) -> set[bytes]:
    """Every key name of one database of a server, read by a client of our own."""
    client = redis.Redis.from_url(url, db=db_number)
    try:
        return set(replies.bytes_list(client.keys("*")))
    finally:
        client.close()


def hash_at(url: str, key: str) -> dict[bytes, bytes]:
    client = redis.Redis.from_url(url)
    try:
        return replies.mapping(client.hgetall(key))
    finally:
        client.close()


@pytest.fixture
def embedded() -> Iterator[Database]:
    """A Database on a temporary embedded server of its own."""
    database = Database.embedded()
    yield database
    database.close()


@pytest.fixture
def second_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as server:
        yield server


# -- connecting ------------------------------------------------------------------------------------


def test_database_from_url_writes_to_that_server(db: Database, server_url: str) -> None:
    database = Database(server_url)
    try:
        DbBike.use_database(database)
        bike = DbBike(name="by url", wheels=3)
        assert bike.wheels.get() == 3
    finally:
        database.connection.close()
    assert hash_at(server_url, DbBike._keys.instance_hash(b"1")) == {b"name": b"by url"}
    assert DbBike._keys.field("wheels", b"1").encode() in keys_at(server_url)


def test_redis_url_is_used_when_no_url_is_given(
    db: Database, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another db number than the test server's default, so the data cannot land there by chance.
    other_db = 3 if server_url.startswith("unix://") else 0
    cleaner = redis.Redis.from_url(server_url, db=other_db)
    cleaner.flushdb()
    monkeypatch.setenv("REDIS_URL", f"{server_url}?db={other_db}" if other_db else server_url)
    database = Database()
    try:
        DbBike.use_database(database)
        DbBike(name="from env")
        # It landed in db 3 of the test server, and nowhere else.
        assert DbBike._keys.instance_hash(b"1").encode() in keys_at(server_url, other_db)
        if other_db:
            assert keys_at(server_url, 0) == set()
    finally:
        database.connection.close()
        cleaner.flushdb()
        cleaner.close()


def test_explicit_url_wins_over_redis_url(db: Database, server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://nowhere.invalid:1/0")
    database = Database(server_url)
    try:
        DbBike.use_database(database)
        DbBike(name="explicit")
        assert DbBike.get(name="explicit").pk.get() == 1
    finally:
        database.connection.close()
    assert DbBike._keys.pks.encode() in keys_at(server_url)


# -- embedded servers ------------------------------------------------------------------------------


def test_embedded_temporary_server_works_and_stops_on_close() -> None:
    database = Database.embedded()
    server = database.server
    assert server is not None
    try:
        pid, data_dir = server.pid, server.data_dir
        assert pid_alive(pid)
        DbBike.use_database(database)
        DbBike(name="temp")
        assert DbBike._keys.pks.encode() in keys_at(server.url)
    finally:
        database.close()
    assert not server.running
    assert not pid_alive(pid)
    assert not data_dir.exists()  # a temporary server leaves nothing on disk


def test_two_embedded_databases_are_separate(embedded: Database) -> None:
    other = Database.embedded()
    try:
        DbBike.use_database(embedded)
        DbBike(name="first")
        DbBike.use_database(other)
        assert not DbBike.exists(1)
        assert DbBike(name="first").pk.get() == 1  # not unique here: another database
    finally:
        other.close()


def test_embedded_with_path_persists_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "data"
    first = Database.embedded(path)
    try:
        DbBike.use_database(first)
        DbBike(name="kept", wheels=5)
        DbBike(name="also kept")
    finally:
        first.close()
    assert first.server is not None and not pid_alive(first.server.pid)
    assert path.is_dir()

    second = Database.embedded(path)
    try:
        DbBike.use_database(second)
        kept = DbBike.get(1)
        assert kept.name.get() == "kept"
        assert kept.wheels.get() == 5
        assert DbBike.get(name="also kept").pk.get() == 2  # indexes persisted too
        assert DbBike(name="new").pk.get() == 3  # and the AutoPK counter
    finally:
        second.close()


# -- connect() ------------------------------------------------------------------------------------


def test_connect_switches_the_connection(embedded: Database, second_server: EmbeddedServer) -> None:
    assert embedded.server is not None
    first_url = embedded.server.url
    DbBike.use_database(embedded)
    DbBike(name="before")
    before_keys = keys_at(first_url)

    embedded.connect(second_server.url)
    DbBike(name="after", wheels=4)

    assert keys_at(first_url) == before_keys  # nothing more on the first server
    second_keys = keys_at(second_server.url)
    assert DbBike._keys.instance_hash(b"1").encode() in second_keys  # a new counter there: pk 1
    assert hash_at(second_server.url, DbBike._keys.instance_hash(b"1")) == {b"name": b"after"}
    assert hash_at(first_url, DbBike._keys.instance_hash(b"1")) == {b"name": b"before"}
    # Reads go to the second server too.
    assert DbBike.get(name="after").wheels.get() == 4
    assert not DbBike.exists(name="before")


def test_connect_accepts_redis_keywords(embedded: Database, second_server: EmbeddedServer) -> None:
    DbBike.use_database(embedded)
    embedded.connect(unix_socket_path=second_server.socket_path)
    DbBike(name="by keywords")
    assert DbBike._keys.pks.encode() in keys_at(second_server.url)


# -- use_database ----------------------------------------------------------------------------------


def test_use_database_on_abstract_base_moves_subclasses(
    db: Database, server_url: str, embedded: Database
) -> None:
    assert embedded.server is not None
    other_url = embedded.server.url
    DbBase.use_database(db)
    DbFoo(label="foo on test server")
    DbBar(label="bar on test server")

    DbOwn.use_database(db)  # DbOwn now has a database of its own
    DbBase.use_database(embedded)
    assert DbFoo.database is embedded
    assert DbBar.database is embedded
    assert DbOwn.database is db
    DbFoo(label="foo on embedded")
    DbBar(label="bar on embedded")
    DbOwn(label="own")

    assert DbFoo.collection()[:] == [1]
    assert DbFoo.get(1).label.get() == "foo on embedded"
    assert hash_at(other_url, DbBar._keys.instance_hash(b"1")) == {b"label": b"bar on embedded"}
    assert hash_at(server_url, DbBar._keys.instance_hash(b"1")) == {b"label": b"bar on test server"}
    assert hash_at(server_url, DbOwn._keys.instance_hash(b"1")) == {b"label": b"own"}
    assert DbOwn._keys.pks.encode() not in keys_at(other_url)


def test_model_without_database_is_refused() -> None:
    class Homeless(Model):
        name: InstanceHash[str] = field(default="")

    with pytest.raises(ImplementationError, match="database"):
        Homeless()


def test_an_embedded_server_started_from_a_thread_outlives_the_thread() -> None:
    # Linux's "die with parent" follows the starting thread: it is only asked for from the main one.
    started: list[Database] = []
    thread = threading.Thread(target=lambda: started.append(Database.embedded()))
    thread.start()
    thread.join()
    database = started[0]
    try:
        time.sleep(0.3)  # a server told to stop would be gone by now (it acts within ~0.1 s)
        assert database.connection.ping() is True
    finally:
        database.close()
