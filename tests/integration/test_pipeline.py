"""Pipelines against a real server: one round trip for many calls, typed values, atomic writes.

Every write queued in a pipeline is checked afterwards through collections and the raw index
sorted sets (read with FieldKeys, independently of the library's key code); round trips are
counted on the connection; MULTI/EXEC is seen on the server through MONITOR.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import redis
from redis.client import Pipeline as RedisPipeline

from limpyd_typed import (
    CommandError,
    Database,
    Deferred,
    DoesNotExist,
    InstanceHash,
    InvalidValue,
    Model,
    PipelineError,
    Set,
    String,
    UniquenessError,
    field,
    replies,
    scripts,
)
from limpyd_typed.writes import delete_instances
from tests.conftest import RoundTrips
from tests.integration.support import FieldKeys, entries, snapshot

NS = "itpipe"


class Person(Model, namespace=NS):
    name: InstanceHash[str] = field(unique=True)
    city: InstanceHash[str | None] = field(indexable=True, default=None)
    born: InstanceHash[date | None] = field(index="range", default=None)
    hits: String[int] = field(default=0)
    tags: Set[str] = field(indexable=True, default=())


class Elsewhere(Model, namespace=NS):
    """A model on another database than the pipeline's."""

    label: String[str] = field(default="x")


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Person.use_database(db)
    yield


@pytest.fixture
def people() -> list[Person]:
    return [
        Person(name="Jean Dupond", city="Paris"),
        Person(name="Francois Martin", city="Paris"),
        Person(name="John Smith", city="New York"),
        Person(name="John Doe", city="San Francisco"),
        Person(name="Paul Durand", city="Paris"),
    ]


def index(db: Database, name: str) -> set[bytes]:
    return FieldKeys(NS, "Person").index(db, name)


# -- reading ---------------------------------------------------------------------------------------


def test_seed_names_example_is_one_round_trip(db: Database, round_trips: RoundTrips, people: list[Person]) -> None:
    parisians = Person.collection(city="Paris").instances()
    persons = list(parisians)
    with round_trips:
        with db.pipeline() as p:
            names = [p.call(person.name.get) for person in persons]
            cities = [p.call(person.city.hget) for person in persons]
            hits = [p.call(person.hits.get) for person in persons]
    assert round_trips.count == 1
    assert [n.value for n in names] == ["Jean Dupond", "Francois Martin", "Paul Durand"]
    assert [c.value for c in cities] == ["Paris"] * 3
    assert [h.value for h in hits] == [0, 0, 0]  # decoded by the field: int, not b"0"


def test_many_reads_of_many_kinds_in_one_round_trip(db: Database, round_trips: RoundTrips, people: list[Person]) -> None:
    jean = people[0]
    jean.tags.sadd("a", "b")
    with round_trips:
        with db.pipeline(transaction=False) as p:
            tags = p.call(jean.tags.smembers)
            count = p.call(Person.collection(city="Paris").count)
            first = p.call(Person.collection(Person.city == "New York").first)
            got = p.call(Person.get, people[1].pk_value)
            hgetall = p.call(jean.hgetall)
    assert round_trips.count == 1
    assert tags.value == {"a", "b"}
    assert count.value == 3
    assert first.value == people[2].pk_value
    assert got.value == people[1]
    assert hgetall.value == {"name": "Jean Dupond", "city": "Paris"}


def test_a_method_sending_no_command_is_resolved_at_once(db: Database, round_trips: RoundTrips, people: list[Person]) -> None:
    with round_trips:
        with db.pipeline() as p:
            pk = p.call(people[0].pk.get)
            assert pk.ready and pk.value == people[0].pk_value
            assert len(p) == 0
    assert round_trips.count == 0


def test_value_before_the_pipeline_runs_raises(db: Database, people: list[Person]) -> None:
    with db.pipeline() as p:
        name = p.call(people[0].name.get)
        assert not name.ready
        with pytest.raises(PipelineError, match=r"Person.name.get\(\) of pk=1: no value yet, its pipeline has not run"):
            name.value
    assert name.ready and name.value == "Jean Dupond"


def test_explicit_execute_returns_the_values_in_order(db: Database, people: list[Person]) -> None:
    p = db.pipeline()
    p.call(people[0].name.get)
    p.call(people[0].hits.incr, 3)
    assert p.execute() == ["Jean Dupond", 3]
    assert p.execute() == []  # nothing queued any more
    p.call(people[1].name.get)
    assert p.execute() == ["Francois Martin"]  # a pipeline can be used again


def test_a_with_block_that_raises_sends_nothing(db: Database, round_trips: RoundTrips, people: list[Person]) -> None:
    before = snapshot(db)
    queued: list[Deferred[object]] = []
    with round_trips, pytest.raises(RuntimeError):
        with db.pipeline() as p:
            queued.append(p.call(people[0].hits.incr))
            queued.append(p.call(people[0].name.hset, "Someone"))
            raise RuntimeError("the block fails before its end")
    assert round_trips.count == 0
    assert snapshot(db) == before
    for deferred in queued:
        with pytest.raises(PipelineError, match="its pipeline was discarded"):
            deferred.value


# -- writes: each one its atomic script -------------------------------------------------------------


def test_indexed_writes_in_a_pipeline_keep_indexes_exact(db: Database, round_trips: RoundTrips, people: list[Person]) -> None:
    db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)  # the pipeline loads the library itself
    jean, francois = people[0], people[1]
    with round_trips:
        with db.pipeline() as p:
            moved = p.call(jean.city.hset, "Lyon")
            renamed = p.call(francois.name.hset, "Francois Martin-Durand")
            tagged = p.call(jean.tags.sadd, "x", "y")
            created = p.call(Person, name="Zoe", city="Lyon", born=date(2001, 2, 3))
            gone = p.call(people[4].delete)
            hmset = p.call(francois.hmset, city=None, born=date(1990, 1, 1))
    assert round_trips.count == 1
    assert (moved.value, tagged.value, hmset.value, gone.value) == (0, 2, True, None)
    assert renamed.value == 0
    zoe = created.value
    assert isinstance(zoe, Person) and zoe.name.get() == "Zoe"
    # Collections see every write ...
    assert set(Person.collection(city="Lyon")) == {jean.pk_value, zoe.pk_value}
    assert list(Person.collection(city="Paris")) == []
    assert list(Person.collection(tags="x")) == [jean.pk_value]
    assert list(Person.collection(Person.born < date(2000, 1, 1))) == [francois.pk_value]
    assert Person.get(name="Francois Martin-Durand") == francois
    # ... and the raw indexes hold exactly the values stored.
    assert index(db, "city") == entries((b"Lyon", jean), (b"New York", people[2]), (b"San Francisco", people[3]),
                                        (b"Lyon", zoe))
    assert index(db, "tags") == entries((b"x", jean), (b"y", jean))
    assert index(db, "name") == entries((b"Jean Dupond", jean), (b"Francois Martin-Durand", francois),
                                        (b"John Smith", people[2]), (b"John Doe", people[3]), (b"Zoe", zoe))


def test_a_unique_clash_in_a_pipeline_writes_nothing_of_that_call(db: Database, people: list[Person]) -> None:
    jean, francois = people[0], people[1]
    names_before = index(db, "name")
    p = db.pipeline()
    before = p.call(francois.hits.incr)
    clash = p.call(francois.name.hset, "Jean Dupond")
    clone = p.call(Person, name="John Smith", city="Oslo")
    after = p.call(jean.city.hset, "Rome")
    with pytest.raises(UniquenessError, match="Person.name: value 'Jean Dupond' is already held by Person pk=1"):
        p.execute()  # the first error, once every call is resolved
    # The other calls ran (a Redis transaction does not roll back) and kept their indexes exact.
    assert (before.value, after.value) == (1, 0)
    assert Person.collection(city="Rome").first() == jean.pk_value
    for failed in (clash, clone):
        with pytest.raises(UniquenessError, match="nothing was written"):
            failed.value
    assert francois.name.get() == "Francois Martin"
    assert index(db, "name") == names_before
    assert list(Person.collection(city="Oslo")) == [] and Person.collection().count() == 5  # no ghost pk


def test_raise_on_error_false_returns_errors_in_place(db: Database, people: list[Person]) -> None:
    jean = people[0]
    jean.hits.set(2**63 - 1)
    p = db.pipeline(transaction=False)
    p.call(jean.hits.incr)
    p.call(jean.name.get)
    overflow, name = p.execute(raise_on_error=False)
    assert isinstance(overflow, CommandError) and "Redis refused INCRBY" in str(overflow)
    assert name == "Jean Dupond"
    assert jean.hits.get() == 2**63 - 1


def test_a_missing_instance_raises_on_value(db: Database, people: list[Person]) -> None:
    p = db.pipeline()
    missing = p.call(Person.get, 99)
    people[0].delete()
    write = p.call(people[0].city.hset, "Oslo")
    p.execute(raise_on_error=False)
    with pytest.raises(DoesNotExist, match="Person pk=99 does not exist"):
        missing.value
    with pytest.raises(DoesNotExist, match="Person pk=1 does not exist"):
        write.value
    assert Person.collection(city="Oslo").count() == 0


def test_wrong_values_raise_at_call_before_anything_is_queued(db: Database, people: list[Person]) -> None:
    with db.pipeline() as p:
        with pytest.raises(InvalidValue, match="Person.born: invalid value 'yesterday'"):
            p.call(people[0].born.hset, "yesterday")  # type: ignore[arg-type]
        assert len(p) == 0


# -- transaction=True (MULTI/EXEC) or not, seen on the server -----------------------------------------


def _commands_seen(server_url: str, run: threading.Event, done: threading.Event) -> list[str]:
    seen: list[str] = []
    client = redis.Redis.from_url(server_url)
    monitor_of: Callable[[], Any] = client.monitor  # untyped in redis-py
    with monitor_of() as monitor:
        run.set()
        for event in monitor.listen():
            if event.get("client_type") == "lua":
                continue  # what the scripts run inside
            command = str(event["command"])
            if command == "ECHO end-of-test":
                break
            seen.append(command.split(" ")[0].upper())
    client.close()
    done.set()
    return seen


@pytest.mark.parametrize("transaction", [True, False])
def test_transaction_flag_wraps_the_commands_in_multi_exec(db: Database, server_url: str, people: list[Person],
                                                           transaction: bool) -> None:
    seen: list[str] = []
    started, done = threading.Event(), threading.Event()
    watcher = threading.Thread(target=lambda: seen.extend(_commands_seen(server_url, started, done)))
    watcher.start()
    assert started.wait(5)
    with db.pipeline(transaction=transaction) as p:
        p.call(people[0].name.get)
        p.call(people[0].hits.incr)
    db.execute("ECHO", "end-of-test")
    watcher.join(5)
    ours = [c for c in seen if c not in ("PING", "CLIENT", "HELLO")]
    body = ["FUNCTION", "HGET", "FCALL"]  # the script library is loaded first, then the calls in order
    assert ours == (["MULTI", *body, "EXEC"] if transaction else body)


# -- refusals --------------------------------------------------------------------------------------


def test_methods_needing_two_round_trips_are_refused_at_call(db: Database, people: list[Person]) -> None:
    with db.pipeline() as p:
        with pytest.raises(PipelineError, match=r"Person.get_or_connect\(\) cannot be queued in a pipeline: it reads, then creates"):
            p.call(Person.get_or_connect, name="Nobody")
        with pytest.raises(PipelineError, match=r"delete\(\) cannot be queued in a pipeline: it finds the matching instances"):
            p.call(Person.collection(city="Paris").delete)
        with pytest.raises(PipelineError, match=r"update\(\) cannot be queued in a pipeline: it finds the matching instances"):
            p.call(Person.collection(city="Paris").update, city="Rome")
        with pytest.raises(PipelineError, match=r"Person.bulk_create\(\) cannot be queued in a pipeline: it sends a batch"):
            p.call(Person.bulk_create, [{"name": "Ann"}, {"name": "Bob"}])
        assert len(p) == 0
    assert Person.collection().count() == 5


def test_a_function_sending_a_second_command_is_refused_when_replayed(db: Database, people: list[Person]) -> None:
    jean, francois = people[0], people[1]

    def two_reads() -> tuple[str | None, str | None]:
        return jean.name.get(), francois.city.get()

    def read_then_write() -> None:
        if jean.city.get() == "Paris":
            francois.city.hset("Lyon")

    p = db.pipeline()
    both = p.call(two_reads)  # only its first command can be known before a reply
    dependent = p.call(read_then_write)
    p.execute(raise_on_error=False)
    for deferred in (both, dependent):
        with pytest.raises(PipelineError, match="after its first reply it sent .* too, which a pipeline cannot queue"):
            deferred.value
    assert francois.city.get() == "Paris"  # the second command was never sent


def test_another_database_is_refused(db: Database, server_url: str, people: list[Person]) -> None:
    other = Database(server_url, db=1)
    try:
        Elsewhere.use_database(other)
        thing = Elsewhere()
        with db.pipeline() as p:
            with pytest.raises(PipelineError, match="to another database"):
                p.call(thing.label.get)
            assert thing.label.get() == "x"  # outside call(), another database works normally
    finally:
        other.connection.flushdb()
        other.close()


def test_direct_commands_inside_a_with_block_are_refused(db: Database, people: list[Person]) -> None:
    with db.pipeline() as p:
        p.call(people[0].hits.incr)
        with pytest.raises(PipelineError, match="'HGET' sent directly while a pipeline is open on this thread"):
            people[0].name.get()
        with pytest.raises(PipelineError, match="'FCALL' sent directly"):
            list(Person.collection(city="Paris"))
        with pytest.raises(PipelineError, match="a batch of commands sent directly"):
            delete_instances(Person, [b"1"])
    assert people[0].hits.get() == 1
    assert people[0].name.get() == "Jean Dupond"  # after the block: direct again


# -- threads ---------------------------------------------------------------------------------------


def test_a_pipeline_belongs_to_its_thread(db: Database, people: list[Person]) -> None:
    p = db.pipeline()
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            p.call(people[0].name.get)
        except PipelineError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "another thread than the one that made this pipeline" in str(errors[0])
    assert len(p) == 0


def test_a_shared_pipeline_takes_calls_from_several_threads(db: Database, round_trips: RoundTrips,
                                                           people: list[Person]) -> None:
    p = db.pipeline(shared=True)
    found: dict[int, Deferred[str | None]] = {}

    def queue(person: Person) -> None:
        found[person.pk_value] = p.call(person.name.get)

    threads = [threading.Thread(target=queue, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with round_trips:
        p.execute()
    assert round_trips.count == 1
    assert {pk: d.value for pk, d in found.items()} == {p.pk_value: p.name.get() for p in people}


def test_other_threads_use_the_database_normally_while_a_pipeline_is_open(db: Database, people: list[Person]) -> None:
    seen: list[object] = []
    with db.pipeline() as p:
        incr = p.call(people[0].hits.incr)
        thread = threading.Thread(target=lambda: seen.extend([people[0].name.get(), people[1].hits.incr()]))
        thread.start()
        thread.join()
        assert seen == ["Jean Dupond", 1]  # ran at once, not captured by this thread's pipeline
    assert incr.value == 1 and people[1].hits.get() == 1


def test_replies_are_raw_values_never_the_pipeline(db: Database, people: list[Person]) -> None:
    with db.pipeline() as p:
        values: list[Deferred[object]] = [p.call(people[0].name.hset, "J"), p.call(people[0].hits.set, 4),
                                          p.call(people[0].tags.sadd, "t")]
    assert [d.value for d in values] == [0, True, 1]
    assert not any(isinstance(d.value, RedisPipeline) for d in values)
    assert replies.optional_bytes(db.execute("HGET", FieldKeys(NS, "Person").prefix + ":obj:1", "name")) == b"J"
