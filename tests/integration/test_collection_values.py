"""values(), values_list(), first(), exists() and delete() on collections, against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from typing_extensions import assert_type

from limpyd_typed import (Collection, Database, DoesNotExist, InstanceHash, InvalidValue, Model, QueryError, Set,
                          String, field, replies)
from tests.conftest import RoundTrips

NS = "values"


class Person(Model, namespace=NS):
    firstname: InstanceHash[str] = field(indexable=True)
    lastname: InstanceHash[str] = field(indexable=True)
    birth: InstanceHash[date | None] = field(index="range", default=None)
    motto: String[str | None] = field(default=None)
    tags: Set[str] = field(indexable=True, default=())


@pytest.fixture(autouse=True)
def people(db: Database) -> Iterator[None]:
    Person.use_database(db)
    Person(firstname="John", lastname="Smith", birth=date(1960, 5, 1), motto="go", tags={"a"})
    Person(firstname="John", lastname="Doe", birth=date(1965, 1, 1), tags={"a", "b"})
    Person(firstname="Emily", lastname="Smith", birth=date(1950, 2, 3))
    Person(firstname="Susan", lastname="Doe")
    yield


def test_values_list_by_attributes_is_typed_and_decoded() -> None:
    johns = Person.collection(firstname="John")
    rows = list(johns.values_list(Person.lastname, Person.birth))
    assert_type(rows, list[tuple[str | None, date | None]])
    assert rows == [("Smith", date(1960, 5, 1)), ("Doe", date(1965, 1, 1))]
    flat = list(johns.values_list(Person.motto, flat=True))
    assert_type(flat, list[str | None])
    assert flat == ["go", None]


def test_values_list_by_names_as_in_the_seed() -> None:
    johns = Person.collection(firstname="John")
    assert list(johns.values_list("pk", "lastname")) == [(1, "Smith"), (2, "Doe")]
    assert list(johns.values_list("lastname", flat=True)) == ["Smith", "Doe"]
    # no field: every single-value field, pk first, in declaration order
    assert johns.values_list()[0] == (1, "John", "Smith", date(1960, 5, 1), "go")


def test_values_gives_dicts_and_primary_keys_resets() -> None:
    johns = Person.collection(firstname="John")
    assert list(johns.values("pk", "lastname")) == [{"pk": 1, "lastname": "Smith"}, {"pk": 2, "lastname": "Doe"}]
    assert johns.values()[1] == {"pk": 2, "firstname": "John", "lastname": "Doe", "birth": date(1965, 1, 1), "motto": None}
    assert list(johns.values().primary_keys()) == [1, 2]
    assert_type(johns.values(), Collection[Person, int, dict[str, object]])


def test_values_follow_sort_and_slice_in_one_round_trip(round_trips: RoundTrips) -> None:
    query = Person.collection(Person.birth >= date(1950, 1, 1)).sort(by="-birth").values_list(Person.firstname, flat=True)
    list(query)  # load the script library
    with round_trips as rt:
        assert list(Person.collection(Person.birth >= date(1950, 1, 1)).sort(by="-birth").values_list(
            Person.firstname, flat=True)[:2]) == ["John", "John"]
    assert rt.count == 1
    assert query[-1] == "Emily"


def test_values_refuse_multi_value_and_unknown_fields() -> None:
    with pytest.raises(QueryError, match=r"Person\.tags holds several values"):
        Person.collection().values("tags")
    with pytest.raises(QueryError, match="has no field 'nope'"):
        Person.collection().values_list("nope")
    with pytest.raises(QueryError, match="exactly one field"):
        Person.collection().values_list("firstname", "lastname", flat=True)


def test_first_and_exists() -> None:
    assert Person.collection(lastname="Doe").first() == 2
    assert Person.collection(lastname="Nobody").first() is None
    first = assert_type(Person.collection(lastname="Doe").instances().first(), Person | None)
    assert first == Person.get(2)
    assert Person.collection(tags="b").exists() is True
    assert Person.collection(tags="zzz").exists() is False


def test_delete_removes_every_match_with_its_index_entries(db: Database) -> None:
    assert Person.collection(lastname="Smith").delete(batch_size=1) == 2
    assert list(Person.collection()) == [2, 4]
    assert list(Person.collection(firstname="Emily")) == []
    assert list(Person.collection(tags="a")) == [2]
    remaining = {k.decode() for k in replies.bytes_list(db.execute("KEYS", "*"))}
    assert not any(k.endswith((":1", ":3")) for k in remaining)
    assert Person.collection(lastname="Smith").delete() == 0


# -- get(pk): one instance's values by pk ------------------------------------------------------------

def test_get_reads_values_by_pk_in_one_round_trip(round_trips: RoundTrips) -> None:
    Person.collection().values_list(Person.lastname).get(1)  # load the script library
    with round_trips as rt:
        row = Person.collection().values_list(Person.lastname, Person.birth, Person.motto).get(1)
    assert rt.count == 1
    assert_type(row, tuple[str | None, date | None, str | None])
    assert row == ("Smith", date(1960, 5, 1), "go")
    # missing values are None; a String field is read from its own key
    assert Person.collection().values_list(Person.birth, Person.motto).get(4) == (None, None)
    assert Person.collection().values("pk", "firstname").get(3) == {"pk": 3, "firstname": "Emily"}
    assert Person.collection().values_list(Person.firstname, flat=True).get(2) == "John"
    assert Person.collection().values_list().get(2) == (2, "John", "Doe", date(1965, 1, 1), None)
    assert Person.collection().get(2) == 2
    instance = Person.collection().instances().get(2)
    assert_type(instance, Person)
    assert instance == Person.lazy_connect(2)


def test_get_raises_does_not_exist_in_one_round_trip(round_trips: RoundTrips) -> None:
    Person.collection().get(1)  # load the script library
    with round_trips as rt, pytest.raises(DoesNotExist, match="pk=99 does not exist"):
        Person.collection().values_list(Person.firstname).get(99)
    assert rt.count == 1
    Person.lazy_connect(1).delete()
    with pytest.raises(DoesNotExist):
        Person.collection().instances().get(1)


def test_get_on_a_filtered_collection_needs_the_pk_to_match(round_trips: RoundTrips) -> None:
    johns = Person.collection(firstname="John").values_list(Person.lastname, flat=True)
    assert johns.get(2) == "Doe"
    with round_trips as rt, pytest.raises(DoesNotExist, match="does not match the collection"):
        johns.get(3)
    assert rt.count == 1
    with pytest.raises(DoesNotExist):
        johns.get(99)
    stored = Person.collection(lastname="Smith").store()
    assert stored.values_list(Person.firstname, flat=True).get(3) == "Emily"
    with pytest.raises(DoesNotExist):
        stored.get(2)


def test_get_refuses_a_pk_of_another_type() -> None:
    with pytest.raises(InvalidValue):
        Person.collection().get("x")  # type: ignore[arg-type]


def test_a_subclass_reads_its_own_values_after_its_base_did(db: Database) -> None:
    assert Person.collection(firstname="Emily").values_list(Person.lastname, flat=True)[:] == ["Smith"]

    class Author(Person, namespace=NS):  # declared after its base read values: its fields copy the base's
        pass

    Author.use_database(db)
    Author(firstname="Emily", lastname="Bronte", birth=date(1818, 7, 30))
    assert Author.collection(firstname="Emily").values_list(Author.lastname, Author.birth)[:] == [
        ("Bronte", date(1818, 7, 30))]
    assert Author.collection().sort(by="birth").values_list(Author.lastname, flat=True)[:] == ["Bronte"]
    assert Person.collection(firstname="Emily").values_list(Person.lastname, flat=True)[:] == ["Smith"]


class Slotted(Collection[Person, int, int]):
    """A collection manager holding its own state in a slot."""

    __slots__ = ("label",)
    label: str

    def labelled(self, label: str) -> Slotted:
        clone = self.filter()
        clone.label = label
        return clone


def test_a_collection_manager_with_slots_keeps_them_through_clones() -> None:
    labelled = Person.collection(firstname="John", manager=Slotted).labelled("johns")
    assert labelled.sort(by="lastname").label == "johns"
    values = labelled.values_list(Person.lastname)  # typed as a plain Collection: the label is still there
    assert getattr(values, "label") == "johns"
    assert labelled.filter(lastname="Doe").label == "johns"
