"""Static types of relations, checked by mypy --strict and basedpyright, and run by pytest.

``FK[M]`` and the M2M fields are typed by their target: values are ``M`` instances or pks of
``M``'s pk type; reads give those pks; reverse accessors declared as ``ClassVar[Related[S]]`` give
collections of ``S``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from typing_extensions import assert_type

from hypothesis import find
from hypothesis.strategies import SearchStrategy

from limpyd_typed.codecs import Scalar
from limpyd_typed.testing.strategies import values_for
from limpyd_typed import (
    FK,
    M2M,
    PK,
    BoundFK,
    BoundM2MList,
    BoundM2MSet,
    BoundM2MSortedSet,
    Collection,
    Database,
    InstanceHash,
    InvalidValue,
    M2MList,
    M2MSortedSet,
    Model,
    QueryError,
    Related,
    FKAttr,
    RelationAttr,
    RelatedCollection,
    field,
    relation,
)


class Shop(Model[str], namespace="typing_relations"):
    code: PK[str]
    staff: ClassVar[Related[Clerk]]


class Clerk(Model, namespace="typing_relations"):
    name: InstanceHash[str] = field(indexable=True)
    shop: FK[Shop] = relation(default=None, related_name="staff")
    friends: M2M[Clerk] = relation(to="self", default=())
    queue: M2MList[Clerk] = relation(to="self", default=(), related_name="queued")
    ranks: M2MSortedSet[Shop] = relation(default={}, related_name="ranked")


class Van(Model, namespace="typing_relations"):  # an int pk, like Clerk: only the class differs
    plate: InstanceHash[str]


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    Shop.use_database(db)
    Clerk.use_database(db)
    Van.use_database(db)
    yield


def test_fk_types() -> None:
    shop = Shop(code="P-1")
    clerk = Clerk(name="ann", shop=shop)
    assert_type(clerk.shop, BoundFK[Shop])
    assert assert_type(clerk.shop.get(), str | None) == "P-1"
    assert assert_type(clerk.shop.instance(), Shop | None) == shop
    clerk.shop.set("P-1")
    clerk.shop.set(None)
    clerk.shop = shop
    with pytest.raises(InvalidValue):
        clerk.shop.set(1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        clerk.shop.set(clerk)  # type: ignore[arg-type]


def test_m2m_types() -> None:
    shop = Shop(code="P-1")
    ann = Clerk(name="ann")
    bob = Clerk(name="bob", friends=[ann], queue=[ann.pk.get()], ranks={shop: 1.0})
    assert_type(bob.friends, BoundM2MSet[Clerk])
    assert_type(bob.queue, BoundM2MList[Clerk])
    assert_type(bob.ranks, BoundM2MSortedSet[Shop])
    assert assert_type(bob.friends.smembers(), set[int]) == {ann.pk.get()}
    assert assert_type(bob.queue.lrange(), list[int]) == [ann.pk.get()]
    assert assert_type(bob.ranks.zrange(), list[str]) == ["P-1"]
    assert assert_type(bob.friends.instances(), list[Clerk]) == [ann]
    assert list(assert_type(bob.friends(), Collection[Clerk, int, int])) == [ann.pk.get()]
    assert list(assert_type(bob.ranks.collection(), Collection[Shop, str, str])) == ["P-1"]
    assert assert_type(bob.friends().instances(), Collection[Clerk, int, Clerk])[0] == ann
    with pytest.raises(InvalidValue):
        bob.friends.sadd("ann")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        bob.ranks.zadd({1: 2.0})  # type: ignore[dict-item]


def test_reverse_accessor_types() -> None:
    shop = Shop(code="P-1")
    ann = Clerk(name="ann", shop=shop)
    assert_type(shop.staff, RelatedCollection[Clerk])
    staff = assert_type(shop.staff(), Collection[Clerk, int, int])
    assert list(staff.filter(Clerk.name == "ann")) == [ann.pk.get()]
    with pytest.raises(QueryError):
        staff.filter(Shop.code == "P-1")  # type: ignore[arg-type]
    Clerk(name="bob", shop=shop)
    assert list(assert_type(shop.staff(Clerk.name == "ann"), Collection[Clerk, int, int])) == [ann.pk.get()]
    with pytest.raises(QueryError):
        shop.staff(Shop.code == "P-1")  # type: ignore[arg-type]  # a condition on another model
    bob = Clerk(name="cid", friends=[ann])
    assert list(assert_type(bob.friends(Clerk.name == "ann"), Collection[Clerk, int, int])) == [ann.pk.get()]
    assert list(bob.friends.collection(Clerk.name == "zed")) == []
    with pytest.raises(QueryError):
        bob.friends(Shop.code == "P-1")  # type: ignore[arg-type]


def test_relations_take_their_target_or_a_pk_and_nothing_else() -> None:
    shop = Shop(code="P-1")
    ann = Clerk(name="ann")
    van = Van(plate="V")
    with pytest.raises(InvalidValue):
        Clerk(name="bob", shop=van)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Clerk(name="bob", friends=[van])  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        Clerk(name="bob", ranks={van: 1.0})  # type: ignore[dict-item]
    with pytest.raises(InvalidValue):
        ann.shop = van  # type: ignore[assignment]
    with pytest.raises(InvalidValue):
        ann.friends.sadd(van)  # type: ignore[arg-type]  # the same pk type as a Clerk, another model
    with pytest.raises(InvalidValue):
        ann.queue.rpush(van)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        ann.shop.set(van)  # type: ignore[arg-type]
    bob = Clerk(name="bob", shop="P-1", friends=[ann, 99], ranks={shop: 1.0, "P-2": 2.0})
    assert bob.shop.get() == "P-1" and bob.friends.smembers() == {ann.pk.get(), 99}


def test_relation_conditions_take_the_target_or_a_pk() -> None:
    # On the class, a relation is a RelationAttr: compared with its target or a pk, read as a pk.
    shop = Shop(code="P-1")
    ann = Clerk(name="ann", shop=shop, friends=[], ranks={shop: 1.0})
    assert_type(Clerk.shop, FKAttr[Clerk, Shop])
    assert_type(Clerk.friends, RelationAttr[Clerk, Clerk])
    assert list(Clerk.collection(Clerk.shop == shop)) == [ann.pk.get()]
    assert list(Clerk.collection(Clerk.shop.in_(["P-1", "P-2"]))) == [ann.pk.get()]
    assert list(Clerk.collection(Clerk.ranks == shop)) == [ann.pk.get()]
    assert list(Clerk.collection(Clerk.shop != shop)) == []
    drawn = assert_type(values_for(Clerk.shop), SearchStrategy[Scalar | None])
    assert find(drawn, lambda pk: pk is None) is None  # an FK may be unset
    assert isinstance(find(drawn, lambda pk: pk is not None), str)  # else a pk of Shop's type
    shops = Clerk.collection().values_list(Clerk.shop, flat=True)
    assert assert_type(list(shops), list[Scalar | None]) == ["P-1"]
    van = Van(plate="x")
    with pytest.raises(InvalidValue):
        Clerk.collection(Clerk.shop == van)  # type: ignore[call-overload]
    with pytest.raises(InvalidValue):
        Clerk.collection(Clerk.friends.in_([van]))  # type: ignore[list-item]
