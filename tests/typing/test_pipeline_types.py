"""Static types of pipelines and transactions, checked by mypy --strict and basedpyright, run by pytest.

``p.call(method, *args)`` is typed from the method itself (ParamSpec): its Deferred holds what the
method returns, and wrong arguments are type errors. ``# type: ignore[code]`` lines must be errors
for both checkers; they run inside ``pytest.raises`` to show the runtime refusal too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from typing_extensions import assert_type

from limpyd_typed import (
    Collection,
    Database,
    Deferred,
    InstanceHash,
    InvalidValue,
    Model,
    Pipeline,
    PipelineError,
    Set,
    String,
    field,
)


class PipeBike(Model, namespace="typing_pipes"):
    name: InstanceHash[str] = field(indexable=True)
    color: InstanceHash[str | None] = field(default=None)
    wheels: String[int] = field(default=2)
    born: InstanceHash[date | None] = field(default=None)
    tags: Set[str] = field(default=())


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    PipeBike.use_database(db)
    yield


def test_deferred_values_are_typed_by_the_method(db: Database) -> None:
    bike = PipeBike(name="trek", tags={"a"})
    with assert_type(db.pipeline(), Pipeline) as p:
        name = assert_type(p.call(bike.name.get), Deferred[str | None])
        color = assert_type(p.call(bike.color.hget), Deferred[str | None])
        wheels = assert_type(p.call(bike.wheels.incr, 2), Deferred[int])
        tags = assert_type(p.call(bike.tags.smembers), Deferred[set[str]])
        created = assert_type(p.call(PipeBike, name="giant", born=date(2020, 1, 1)), Deferred[PipeBike])
        got = assert_type(p.call(PipeBike.get, 1), Deferred[PipeBike])
        pks = assert_type(PipeBike.collection(name="trek"), Collection[PipeBike, int])
        count = assert_type(p.call(pks.count), Deferred[int])
        first = assert_type(p.call(pks.first), Deferred[int | None])
        pk = assert_type(p.call(bike.pk.get), Deferred[int])
    assert assert_type(name.value, str | None) == "trek"
    assert assert_type(color.value, str | None) is None
    assert assert_type(wheels.value, int) == 4
    assert assert_type(tags.value, set[str]) == {"a"}
    assert assert_type(created.value, PipeBike).born.get() == date(2020, 1, 1)
    assert assert_type(got.value, PipeBike) == bike
    assert assert_type(count.value, int) == 1
    assert assert_type(first.value, int | None) == 1
    assert assert_type(pk.value, int) == 1
    assert assert_type(name.ready, bool) is True


def test_execute_and_transaction_results(db: Database) -> None:
    bike = PipeBike(name="trek")
    p = db.pipeline(transaction=False)
    p.call(bike.wheels.get)
    assert assert_type(p.execute(), list[object]) == [2]

    def func(pipeline: Pipeline) -> None:
        wheels = assert_type(bike.wheels.get(), int | None)  # before multi(): a plain typed read
        pipeline.multi()
        pipeline.call(bike.wheels.set, (wheels or 0) + 1)

    assert assert_type(db.transaction(func, bike.wheels, "a-key", retries=3), list[object]) == [True]
    with pytest.raises(TypeError, match=r"watch a field of an instance \(person.hits\) or a key name, not 3"):
        db.transaction(func, 3)  # type: ignore[arg-type]  # a field or a key name
    deferred: Deferred[object] = p.call(bike.wheels.get)  # a Deferred is read-only: covariant
    assert p.execute() == [deferred.value] == [3]


def test_wrong_calls_are_type_errors(db: Database) -> None:
    bike = PipeBike(name="trek")
    with db.pipeline() as p:
        with pytest.raises(InvalidValue):
            p.call(bike.wheels.set, "three")  # type: ignore[arg-type]
        with pytest.raises(InvalidValue):
            p.call(bike.name.hincrby)  # type: ignore[misc]  # hincrby needs an int field
        with pytest.raises(TypeError):
            p.call(bike.wheels.get, 1)  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            p.call(PipeBike, name="x", colour="red")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            p.call(PipeBike.get, "1", "2")  # type: ignore[arg-type]
    name = p.call(bike.name.get)
    with pytest.raises(PipelineError):
        _: int = name.value  # type: ignore[assignment]
