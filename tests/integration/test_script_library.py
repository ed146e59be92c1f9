"""The scripts run as one function library (scripts/__init__.py): what its functions' flags and its
loading promise a user — reads on a read-only replica, deletes on a full server, a server that
lost the library getting it back at the next call.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from limpyd_typed import CommandError, Database, InstanceHash, Model, Pipeline, String, field, replies, scripts
from tests.integration.support import read_only_replica, snapshot


class Pet(Model, namespace="lib"):
    name: InstanceHash[str] = field(unique=True)
    kind: InstanceHash[str] = field(indexable=True)
    age: String[int] = field(index="range", default=0)


@pytest.fixture
def pets(db: Database) -> list[Pet]:
    Pet.use_database(db)
    return [Pet(name="rex", kind="dog", age=3), Pet(name="tom", kind="cat", age=5), Pet(name="ace", kind="dog", age=9)]


def test_reads_and_queries_run_on_a_read_only_replica(db: Database, pets: list[Pet]) -> None:
    with read_only_replica(db):
        assert Pet.get(pets[0].pk_value).name.hget() == "rex"
        assert set(Pet.collection(kind="dog").values_list(Pet.name, flat=True)) == {"ace", "rex"}
        assert list(Pet.collection(Pet.age >= 4).sort(by="age").values_list(Pet.name, flat=True)) == ["tom", "ace"]
        assert Pet.collection(kind="dog").count() == 2
        assert Pet.collection().sort(by="age").page(2).items == [pets[0].pk_value, pets[1].pk_value]
        assert Pet.check_indexes().ok


def test_writes_and_stores_on_a_read_only_replica_are_refused_naming_the_model(db: Database, pets: list[Pet]) -> None:
    before = snapshot(db)
    with read_only_replica(db):
        with pytest.raises(CommandError, match=r"Pet: Redis refused the create: .*read only replica"):
            Pet(name="new", kind="dog")
        with pytest.raises(CommandError, match=r"Pet: Redis refused the query: .*read only replica"):
            Pet.collection(kind="dog").store()
    assert snapshot(db) == before


@contextmanager
def out_of_memory(db: Database) -> Iterator[None]:
    """The server full for the block: any write that may grow it is refused (noeviction)."""
    old = replies.mapping(db.execute("CONFIG", "GET", "maxmemory"))[b"maxmemory"]
    db.execute("CONFIG", "SET", "maxmemory", 1)
    try:
        yield
    finally:
        db.execute("CONFIG", "SET", "maxmemory", old)


def test_a_full_server_refuses_a_create_whole_and_still_deletes(db: Database, pets: list[Pet]) -> None:
    before = snapshot(db)
    with out_of_memory(db):
        with pytest.raises(CommandError, match=r"Pet: Redis refused the create: .*used memory > 'maxmemory'.*nothing was written"):
            Pet(name="new", kind="dog")
        assert snapshot(db) == before
        pets[0].delete()  # a delete frees memory: it must not be refused when memory runs out
        assert set(Pet.collection(kind="dog").values_list(Pet.name, flat=True)) == {"ace"}
    assert Pet.check_indexes().ok


def test_a_server_without_the_library_gets_it_back_at_the_next_call(db: Database, pets: list[Pet]) -> None:
    calls: list[Callable[[], object]] = [
        lambda: Pet(name="new", kind="cat"), lambda: pets[1].kind.hset("dog"), lambda: pets[2].delete(),
        lambda: Pet.collection().values_list(Pet.name).get(pets[0].pk_value), lambda: list(Pet.collection(kind="dog")),
    ]
    for n, call in enumerate(calls):
        db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)
        call()
        assert db.execute("FUNCTION", "LIST", "LIBRARYNAME", scripts.LIBRARY_NAME), n
    assert set(Pet.collection(kind="dog").values_list(Pet.name, flat=True)) == {"rex", "tom"}
    assert Pet.check_indexes().ok


def test_other_libraries_on_the_server_are_left_alone(db: Database, pets: list[Pet]) -> None:
    db.execute("FUNCTION", "LOAD", "REPLACE", "#!lua name=theirs\nredis.register_function('theirs_ping', function() return 'pong' end)")
    try:
        db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)
        Pet(name="new", kind="cat")  # loads ours again
        assert db.execute("FCALL", "theirs_ping", 0) == b"pong"
    finally:
        db.execute("FUNCTION", "DELETE", "theirs")


def test_a_pipeline_of_reads_runs_on_a_read_only_replica(db: Database, pets: list[Pet]) -> None:
    with read_only_replica(db):
        with db.pipeline() as p:  # a transaction: no FUNCTION LOAD queued, which a replica refuses
            dogs = p.call(Pet.collection(kind="dog").count)
            youngest = p.call(Pet.collection(Pet.age >= 4).sort(by="age").values_list(Pet.name, flat=True).first)
        assert (dogs.value, youngest.value) == (2, "tom")


def test_a_pipeline_of_reads_on_a_server_that_lost_the_library_says_so_and_reloads_it(
        db: Database, pets: list[Pet]) -> None:
    db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)
    with pytest.raises(CommandError, match=r"count\(\): not run, the server had lost limpyd_typed's script library; "
                                           r"it is loaded again: run the pipeline again"):
        with db.pipeline() as p:
            p.call(Pet.collection(kind="dog").count)
    with db.pipeline() as p:
        again = p.call(Pet.collection(kind="dog").count)
    assert again.value == 2


def test_a_pipeline_of_writes_loads_the_library_first(db: Database, pets: list[Pet]) -> None:
    db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)
    with db.pipeline() as p:  # each write needs the library: none may fail for want of it
        p.call(pets[0].kind.hset, "cat")
        p.call(Pet, name="new", kind="cat")
    assert set(Pet.collection(kind="cat").values_list(Pet.name, flat=True)) == {"rex", "tom", "new"}


def test_check_indexes_runs_on_a_full_server(db: Database, pets: list[Pet]) -> None:
    with out_of_memory(db):
        assert Pet.check_indexes().ok


def test_a_call_on_another_database_inside_a_pipeline_loads_its_library(db: Database, pets: list[Pet],
                                                                          server_url: str) -> None:
    other = Database(server_url)
    try:
        other.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)
        with other.pipeline() as p:
            p.call(other.execute, "PING")
            Pet(name="direct", kind="cat")  # Pet's database is not the pipeline's: sent at once, library loaded
        assert set(Pet.collection(kind="cat").values_list(Pet.name, flat=True)) == {"tom", "direct"}
    finally:
        other.close()


def test_a_transaction_reading_before_multi_loads_a_lost_library(db: Database, pets: list[Pet]) -> None:
    db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)

    def move(p: Pipeline) -> None:
        dogs = Pet.collection(kind="dog").count()  # read on the watching connection: loads the library
        p.multi()
        p.call(pets[1].kind.hset, "dog" if dogs < 3 else "cat")

    db.transaction(move, pets[1].kind)
    assert Pet.collection(kind="dog").count() == 3


def test_rebuild_indexes_on_a_full_server_says_so(db: Database, pets: list[Pet]) -> None:
    with out_of_memory(db), pytest.raises(CommandError, match=r"Pet.*out of memory and refused the repair"):
        Pet.rebuild_indexes()
