"""Static types of collections, checked by mypy --strict and basedpyright, and run by pytest.

A collection of ``M`` yields pks typed by the model's pk type (``Model`` is ``Model[int]``), or
``M`` instances after ``instances()``. Conditions are ``Condition[M]``: one built on another
model, or a comparison with a value of the wrong type, is refused by both checkers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typing import Any

from typing_extensions import TypeVar, assert_type

from limpyd_typed import (
    PK,
    Collection,
    Condition,
    Database,
    InstanceHash,
    InvalidValue,
    Model,
    QueryError,
    Set,
    String,
    field,
)

M = TypeVar("M", bound="Model[Any]")
K = TypeVar("K", default=object)
R = TypeVar("R", default=K)


class QueryBike(Model, namespace="typing_collections"):
    name: InstanceHash[str] = field(indexable=True)
    wheels: String[int] = field(default=2, indexable=True)
    tags: Set[str] = field(default=(), indexable=True)


class QueryShop(Model[str], namespace="typing_collections"):
    code: PK[str]
    city: InstanceHash[str] = field(indexable=True)


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    QueryBike.use_database(db)
    QueryShop.use_database(db)
    yield


@pytest.fixture
def bikes() -> list[QueryBike]:
    return [
        QueryBike(name="trek", wheels=2, tags=["road"]),
        QueryBike(name="cube", wheels=3, tags=["road", "cargo"]),
        QueryBike(name="alma", wheels=2),
    ]


def test_collection_of_pks(bikes: list[QueryBike]) -> None:
    everything = assert_type(QueryBike.collection(), Collection[QueryBike, int])
    assert assert_type(everything.model, type[QueryBike]) is QueryBike
    two_wheels = assert_type(everything.filter(QueryBike.wheels == 2), Collection[QueryBike, int])
    assert assert_type(list(two_wheels), list[int]) == [1, 3]
    assert_type(iter(two_wheels), Iterator[int])
    for pk in two_wheels:
        assert assert_type(pk, int) in (1, 3)
    assert assert_type(two_wheels[0], int) == 1
    assert assert_type(two_wheels[-1], int) == 3
    assert assert_type(two_wheels[0:5], list[int]) == [1, 3]
    assert assert_type(len(two_wheels), int) == 2
    assert assert_type(two_wheels.count(), int) == 2
    assert assert_type(everything.filter(name="cube"), Collection[QueryBike, int]).count() == 1
    assert assert_type(everything.filter(tags="road"), Collection[QueryBike, int])[:] == [1, 2]


def test_sorting_keeps_the_collection_type(bikes: list[QueryBike]) -> None:
    everything = QueryBike.collection()
    assert assert_type(everything.sort("name"), Collection[QueryBike, int])[:] == [3, 2, 1]
    assert assert_type(everything.sort("-name"), Collection[QueryBike, int])[:] == [1, 2, 3]
    assert assert_type(everything.sort(QueryBike.wheels, desc=True), Collection[QueryBike, int])[0] == 2
    assert assert_type(everything.sort(), Collection[QueryBike, int])[:] == [1, 2, 3]
    assert assert_type(everything.sort(by="name", alpha=True), Collection[QueryBike, int])[:2] == [3, 2]


def test_instances_and_back_to_pks(bikes: list[QueryBike]) -> None:
    trek, cube, alma = bikes
    instances = assert_type(QueryBike.collection(QueryBike.tags == "road").instances(), Collection[QueryBike, int, QueryBike])
    assert assert_type(list(instances), list[QueryBike]) == [trek, cube]
    assert assert_type(instances[1], QueryBike) == cube
    assert assert_type(instances[:1], list[QueryBike]) == [trek]
    for bike in instances:
        assert assert_type(bike.name.get(), str | None) in ("trek", "cube")
    assert_type(iter(instances), Iterator[QueryBike])
    assert_type(instances.instances(lazy=True), Collection[QueryBike, int, QueryBike])
    sorted_instances = assert_type(instances.sort("-name"), Collection[QueryBike, int, QueryBike])
    assert sorted_instances[0] == trek
    filtered = assert_type(instances.filter(QueryBike.wheels == 3), Collection[QueryBike, int, QueryBike])
    assert filtered[:] == [cube]
    pks = assert_type(instances.primary_keys(), Collection[QueryBike, int])
    assert pks[:] == [trek.pk.get(), cube.pk.get()]
    assert alma not in instances[:]


def test_collections_of_a_model_with_a_str_pk() -> None:
    QueryShop(code="P-1", city="Paris")
    QueryShop(code="L-1", city="Lyon")
    QueryShop(code="P-2", city="Paris")
    paris = assert_type(QueryShop.collection(QueryShop.city == "Paris"), Collection[QueryShop, str])
    assert assert_type(paris.sort(), Collection[QueryShop, str])[:] == ["P-1", "P-2"]
    assert assert_type(paris.sort("-code")[0], str) == "P-2"
    shop = assert_type(paris.instances()[0], QueryShop)
    assert assert_type(shop.pk.get(), str) in ("P-1", "P-2")
    assert assert_type(paris.instances().primary_keys(), Collection[QueryShop, str]).count() == 2
    assert assert_type(QueryShop.collection(QueryShop.code == "L-1"), Collection[QueryShop, str])[:] == ["L-1"]


class ShopCollection(Collection[M, K, R]):
    """A user's collection class, given to collection(manager=...)."""

    def in_paris(self) -> ShopCollection[M, K, R]:
        return self.filter(city="Paris")


def test_a_collection_class_given_as_manager_keeps_its_type() -> None:
    QueryShop(code="P-1", city="Paris")
    QueryShop(code="L-1", city="Lyon")
    shops = assert_type(QueryShop.collection(manager=ShopCollection), ShopCollection[QueryShop, str, str])
    paris = assert_type(shops.sort().in_paris(), ShopCollection[QueryShop, str, str])
    assert paris[:] == ["P-1"]
    assert assert_type(paris.instances()[0], QueryShop).pk.get() == "P-1"
    with pytest.raises(TypeError):
        QueryShop.collection(manager=QueryBike)  # type: ignore[arg-type, type-var]
    with pytest.raises(TypeError):
        QueryShop.collection(manager=list)  # type: ignore[arg-type, type-var]


def test_condition_types() -> None:
    assert_type(QueryBike.name == "x", Condition[QueryBike])
    assert_type(QueryBike.wheels == 2, Condition[QueryBike])
    assert_type(QueryBike.tags == "road", Condition[QueryBike])
    assert_type(QueryShop.code == "a", Condition[QueryShop])
    assert_type(QueryShop.city == "a", Condition[QueryShop])


def test_rejected_conditions(bikes: list[QueryBike]) -> None:
    # A comparison with a value of another type is not a Condition for either checker (it falls
    # back to object.__eq__ -> bool), so the collection call is the error.
    with pytest.raises(InvalidValue):
        QueryBike.collection(QueryBike.wheels == "a")  # type: ignore[call-overload]
    with pytest.raises(InvalidValue):
        QueryBike.collection(QueryBike.name == 3)  # type: ignore[call-overload]
    with pytest.raises(InvalidValue):
        QueryBike.collection().filter(QueryBike.tags == 1)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        QueryBike.collection(QueryShop.city == "Paris")  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        QueryBike.collection().filter(QueryShop.city == "Paris")  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        QueryBike.collection().instances().filter(QueryShop.code == "P-1")  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        QueryBike.collection().sort(QueryShop.city)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        QueryBike.collection("name")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        QueryBike.collection()["0"]  # type: ignore[call-overload]
