"""The seed's extended collection (2.6.3-2.6.4): intersect, sort by score, stored results, passing fields."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from typing_extensions import TypeVar, assert_type

from limpyd_typed import (
    Collection,
    Database,
    DoesNotExist,
    InstanceHash,
    List,
    Model,
    QueryError,
    Set,
    SortedSet,
    field,
)
from limpyd_typed.query import SORTED_SCORE
from tests.conftest import RoundTrips

NS = "extended"
M = TypeVar("M", bound="Model[Any]")
K = TypeVar("K", default=object)
R = TypeVar("R", default=K)


class Tagged(Collection[M, K, R]):
    """A user's collection class: its own method, kept through filter/sort."""

    def johns(self) -> Tagged[M, K, R]:
        return self.filter(firstname="John")


class Person(Model, namespace=NS):
    collection_manager = Tagged
    firstname: InstanceHash[str] = field(indexable=True)
    city: InstanceHash[str] = field(indexable=True)
    friends: Set[str] = field(default=())
    met: SortedSet[str] = field(default={})
    queue: List[str] = field(default=())


@pytest.fixture(autouse=True)
def people(db: Database) -> Iterator[None]:
    Person.use_database(db)
    Person(firstname="John", city="New York")  # 1
    Person(firstname="John", city="Paris")  # 2
    Person(firstname="Emily", city="New York")  # 3
    Person(firstname="Susan", city="New York", friends={"1", "3", "99"}, met={"1": 1985.0, "3": 1970.0},
           queue=["3", "1", "3"])  # 4
    yield


def test_intersect_with_python_lists_sets_and_tuples() -> None:
    my_friends = [1, 2, 3]
    john_people = list(Person.collection(firstname="John"))
    assert list(Person.collection(city="New York").intersect(john_people, my_friends)) == [1]
    assert list(Person.collection().intersect({3, 4}, (4, 3, 99))) == [3, 4]


def test_intersect_with_fields_keys_and_stored_collections(db: Database) -> None:
    susan = Person.get(4)
    assert list(Person.collection(city="New York").intersect(susan.friends)) == [1, 3]  # 99 does not exist
    assert list(Person.collection().intersect(susan.met)) == [1, 3]
    assert list(Person.collection().intersect(susan.queue)) == [1, 3]
    assert list(Person.collection().intersect(susan.friends.key)) == [1, 3]  # a key's name
    assert list(Person.collection().intersect("no-such-key")) == []  # a missing key is empty
    db.connection.set("a-string", "x")
    with pytest.raises(Exception, match="cannot intersect with a-string: it is a string"):
        list(Person.collection().intersect("a-string"))
    stored = Person.collection(firstname="John").store()
    assert list(Person.collection(city="Paris").intersect(stored)) == [2]


def test_sort_by_score_and_sorted_score_values() -> None:
    susan = Person.get(4)
    collection = Person.collection(city="New York").intersect(susan.met).sort(by_score=susan.met)
    assert list(collection) == [3, 1]  # met in 1970, then 1985
    assert list(collection.sort(by_score=susan.met, desc=True)) == [1, 3]
    assert list(collection.values("firstname", SORTED_SCORE)) == [
        {"firstname": "Emily", "sorted_score": 1970.0}, {"firstname": "John", "sorted_score": 1985.0}]
    with pytest.raises(QueryError, match="by or by_score, not both"):
        Person.collection().sort(by="firstname", by_score=susan.met)
    with pytest.raises(QueryError, match="SORTED_SCORE needs"):
        Person.collection().values(SORTED_SCORE)


def test_store_keeps_order_and_output_and_rebuilds_in_another_process(db: Database) -> None:
    susan = Person.get(4)
    heavy = Person.collection(city="New York").intersect(susan.met).sort(by_score=susan.met)
    stored = heavy.values_list("firstname", flat=True).store(ttl=3600)
    key = stored.stored_key
    assert key is not None and key.startswith(f"lt:{{{NS}:Person}}:stored:")
    assert 3500 < db.connection.ttl(key) <= 3600
    assert list(stored) == ["Emily", "John"]  # values kept, stored order kept
    assert list(stored.primary_keys()) == [3, 1]
    assert list(stored.filter(firstname="John").primary_keys()) == [1]
    again = Person.collection().from_stored(key)
    assert list(again) == [3, 1]
    assert list(again.sort(by="firstname", alpha=True, desc=True)) == [1, 3]
    assert list(again.store(ttl=None)) == [3, 1]  # stored again


def test_a_stored_collection_that_expired_raises_does_not_exist(db: Database) -> None:
    stored = Person.collection(firstname="Nobody").store(ttl=1)
    key = str(stored.stored_key)
    assert list(stored) == []  # an empty result is stored too
    db.connection.delete(key)
    with pytest.raises(DoesNotExist, match="is gone"):
        list(Person.collection().from_stored(key))
    short = Person.collection().store(ttl=1)
    time.sleep(1.2)
    with pytest.raises(DoesNotExist):
        short.count()


def test_filter_values_may_be_fields_of_other_instances_read_when_run(round_trips: RoundTrips) -> None:
    john = Person.get(1)
    same_city = Person.collection(city=john.city)  # nothing is read yet
    john.city.hset("Paris")
    assert list(same_city) == [1, 2]


def test_a_custom_collection_class_is_used_and_keeps_its_type() -> None:
    # The model's collection_manager (or manager=) is the class collection() builds...
    built = Person.collection(firstname="John")
    assert isinstance(built, Tagged)
    assert isinstance(Person.collection(manager=Tagged).sort(by="firstname").instances(), Tagged)
    # ...and, given as manager= or built directly, it keeps its static type through
    # filter/sort/store, so its own methods are typed too.
    by_manager = Person.collection(manager=Tagged).filter(city="New York").sort(by="firstname")
    assert_type(by_manager, Tagged[Person, int, int])
    assert list(by_manager.johns()) == [1]
    johns = Tagged(Person).johns()
    assert_type(johns, Tagged[Person, int, int])
    assert list(johns) == [1, 2]


def test_pages_stay_exact_while_objects_come_and_go(round_trips: RoundTrips) -> None:
    by_city = Person.collection().sort(by="city", alpha=True)
    first = by_city.page(2)
    assert first.items == [1, 3] and first.remaining == 4  # New York, New York
    assert first.cursor is not None
    Person(firstname="Zoe", city="Amsterdam")  # 5: sorts before the cursor: not on a later page
    Person.get(4).delete()  # not seen yet: simply gone
    Person(firstname="Yann", city="Rome")  # 6: after the cursor: will come
    with round_trips as rt:
        second = by_city.page(2, first.cursor)
    assert rt.count == 1
    assert second.items == [2, 6] and second.cursor is None  # Paris, Rome: nothing skipped or repeated
    with pytest.raises(QueryError, match="sorted another way"):
        Person.collection().page(2, first.cursor)
    with pytest.raises(QueryError, match="not a page cursor"):
        by_city.page(2, "garbage")
    values = Person.collection().values_list(Person.firstname, flat=True).page(10)
    assert_type(values.items, list[str | None])
