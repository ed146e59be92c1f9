"""The seed documentation's examples (redis-limpyd 0.1.0), run value by value.

Differences with the seed's transcripts are ours by design and noted where they occur: values
come back with their field's type (``wheels`` is an int: 2 then 3, not '2'), pks are ints for an
AutoPK (1, not '1'), and a collection yields pks unless ``instances()`` is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from limpyd_typed import (
    Collection,
    Database,
    DoesNotExist,
    InstanceHash,
    Model,
    String,
    field,
)


class Counter(Protocol):
    """What the ``round_trips`` fixture of tests/conftest.py gives."""

    count: int

    def __enter__(self) -> Counter: ...

    def __exit__(self, *exc: object) -> None: ...


# -- "Show me some code!" --------------------------------------------------------------------------


class Bike(Model, namespace="seed"):
    name: InstanceHash[str] = field(indexable=True, unique=True)
    color: InstanceHash[str | None] = field(default=None)
    wheels: String[int] = field(default=2)


# -- section 2.5, Collections ----------------------------------------------------------------------


class MyOwnCollectionManager(Collection[Any, Any]):
    pass


class Person(Model, namespace="seed"):
    firstname: InstanceHash[str] = field(indexable=True)
    lastname: InstanceHash[str] = field(indexable=True)
    birth_year: InstanceHash[int] = field(indexable=True)

    def __repr__(self) -> str:
        return "<[%s] %s %s (%s)>" % (self.pk.get(), *self.hmget("firstname", "lastname", "birth_year"))


class ManagedPerson(Model, namespace="seed"):
    collection_manager = MyOwnCollectionManager
    firstname: InstanceHash[str] = field(indexable=True)


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[Database]:
    for model in (Bike, Person, ManagedPerson):
        model.use_database(db)
    yield db


def test_show_me_some_code_bike_session() -> None:
    mountainbike = Bike(name="mountainbike")
    assert mountainbike.wheels.get() == 2  # seed: '2'
    assert mountainbike.wheels.incr() == 3  # seed shows no reply; INCRBY gives the new value
    assert mountainbike.wheels.get() == 3  # seed: '3'
    mountainbike.name.set("tricycle")
    # The seed indexes the collection and gets an instance; here a collection yields pks unless
    # instances() is asked for.
    assert Bike.collection(name="tricycle")[0] == 1
    tricycle = Bike.collection(name="tricycle").instances()[0]
    assert tricycle == mountainbike
    assert tricycle.wheels.get() == 3  # seed: '3'
    assert tricycle.hmset(color="blue") is True
    assert tricycle.hmget("color") == ["blue"]
    assert tricycle.hmget("color", "name") == ["blue", "tricycle"]
    assert tricycle.color.hget() == "blue"
    # The seed shows True; HSET replies 0 here because the slot already had a value.
    assert tricycle.color.hset("yellow") == 0
    assert tricycle.hmget("color") == ["yellow"]
    # And the rename moved the unique index: the old name is free, the new one is taken.
    assert Bike.collection(name="mountainbike")[:] == []
    with pytest.raises(DoesNotExist):
        Bike.get(name="mountainbike")
    assert Bike(name="mountainbike").pk.get() == 2


@pytest.fixture
def people() -> list[Person]:
    return [
        Person(firstname="John", lastname="Smith", birth_year=1960),
        Person(firstname="John", lastname="Doe", birth_year=1965),
        Person(firstname="Emily", lastname="Smith", birth_year=1950),
        Person(firstname="Susan", lastname="Doe", birth_year=1960),
    ]


def test_persons_are_created_as_in_the_seed(people: list[Person]) -> None:
    assert [repr(p) for p in people] == [
        "<[1] John Smith (1960)>",
        "<[2] John Doe (1965)>",
        "<[3] Emily Smith (1950)>",
        "<[4] Susan Doe (1960)>",
    ]


def test_persons_primary_keys(people: list[Person]) -> None:
    assert list(Person.collection(firstname="John").instances().primary_keys()) == [1, 2]  # seed: ['1', '2']


def test_persons_filtering(people: list[Person]) -> None:  # 2.5.1
    assert list(Person.collection(firstname="John")) == [1, 2]
    # The seed writes firstname='john' here and still finds ['1']: a typo, filters are exact.
    assert list(Person.collection(firstname="John", lastname="Smith")) == [1]
    assert list(Person.collection(firstname="john", lastname="Smith")) == []
    assert list(Person.collection(birth_year=1965)) == [2]
    assert list(Person.collection(birth_year=1965, lastname="Smith")) == []


def test_persons_slicing(people: list[Person]) -> None:  # 2.5.2
    assert list(Person.collection(firstname="John")) == [1, 2]
    assert Person.collection(firstname="John")[1:2] == [2]


def test_persons_sorting(people: list[Person]) -> None:  # 2.5.3
    assert list(Person.collection(firstname="John")) == [1, 2]
    assert list(Person.collection(firstname="John").sort(by="lastname", alpha=True)) == [2, 1]
    assert Person.collection(firstname="John").sort(by="lastname", alpha=True)[1:2] == [1]
    assert list(Person.collection().sort(by="birth_year")) == [3, 1, 4, 2]


def test_persons_instances(people: list[Person]) -> None:  # 2.5.4
    assert list(Person.collection(firstname="John")) == [1, 2]
    assert repr(list(Person.collection(firstname="John").instances())) == (
        "[<[1] John Smith (1960)>, <[2] John Doe (1965)>]"
    )
    assert repr(list(Person.collection(firstname="John").instances().sort(by="lastname", alpha=True))) == (
        "[<[2] John Doe (1965)>, <[1] John Smith (1960)>]"
    )
    assert repr(list(Person.collection(firstname="John").sort(by="lastname", alpha=True).instances())) == (
        "[<[2] John Doe (1965)>, <[1] John Smith (1960)>]"
    )
    first = Person.collection(firstname="John").sort(by="lastname", alpha=True).instances()[0]
    assert repr(first) == "<[2] John Doe (1965)>"
    assert first == people[1]


def test_persons_laziness(people: list[Person], round_trips: Counter) -> None:  # 2.5.5
    [p for p in Person.collection(firstname="John").instances()]  # loads the query script
    with round_trips as rt:
        results = Person.collection(firstname="John").instances()
    assert rt.count == 0  # nothing is done while results is not iterated
    with round_trips as rt:
        found = [p for p in results]
    assert rt.count == 1
    assert found == people[:2]


def test_persons_subclassing(people: list[Person]) -> None:  # 2.5.6
    ManagedPerson(firstname="John")
    managed = ManagedPerson.collection(firstname="John")
    assert type(managed) is MyOwnCollectionManager
    assert list(managed) == [1]
    with_manager = Person.collection(firstname="John", manager=MyOwnCollectionManager)
    assert type(with_manager) is MyOwnCollectionManager
    assert list(with_manager) == [1, 2]
    assert type(Person.collection(firstname="John")) is Collection
