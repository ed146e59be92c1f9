"""Static types of the Model API, checked by mypy --strict and basedpyright, and run by pytest.

Every ``assert_type`` line is checked by both type checkers and, at run time, returns its value
so the test also asserts what Redis gave back. Every ``# type: ignore[code]`` line must be an
error for both checkers (mypy: warn_unused_ignores checks the code; basedpyright:
reportUnnecessaryTypeIgnoreComment), and runs inside ``pytest.raises`` for the runtime refusal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from typing_extensions import assert_type

from limpyd_typed import (
    PK,
    Attr,
    ValueAttr,
    AutoPK,
    BoundInstanceHash,
    BoundPK,
    BoundString,
    Collection,
    Condition,
    Database,
    DoesNotExist,
    InstanceHash,
    InvalidValue,
    Model,
    String,
    field,
)
from limpyd_typed.server import EmbeddedServer


class TypedBike(Model, namespace="typing_models"):
    name: InstanceHash[str] = field(indexable=True)
    wheels: String[int] = field(default=2, indexable=True)
    color: InstanceHash[str | None] = field(default=None)
    gears: InstanceHash[int] = field(default=1)


class TypedRider(Model[str], namespace="typing_models"):
    """A model whose primary key is a declared ``PK[str]`` (so it says ``Model[str]``)."""

    login: PK[str]
    age: InstanceHash[int] = field(default=0)


class TypedTicket(Model, namespace="typing_models"):
    """A model whose auto-incremented pk has its own name."""

    id: AutoPK = field(init=False)
    title: String[str] = field(default="")


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    for model in (TypedBike, TypedRider, TypedTicket):
        model.use_database(db)
    yield


def test_class_attributes_are_attrs_and_comparisons_are_conditions() -> None:
    assert_type(TypedBike.name, ValueAttr[TypedBike, str])
    assert_type(TypedBike.wheels, ValueAttr[TypedBike, int])
    assert_type(TypedBike.color, ValueAttr[TypedBike, str | None])
    # `.pk` on the class is an attribute for conditions, typed by the model's pk type.
    assert_type(TypedBike.pk, ValueAttr[TypedBike, int])
    assert_type(TypedRider.pk, ValueAttr[TypedRider, str])
    assert_type(TypedRider.login, ValueAttr[TypedRider, str])
    assert_type(TypedTicket.id, ValueAttr[TypedTicket, int])
    condition = assert_type(TypedBike.name == "x", Condition[TypedBike])
    assert isinstance(condition, Condition)
    assert (condition.op, condition.values) == ("eq", ("x",))
    assert_type(TypedBike.wheels == 3, Condition[TypedBike])
    assert assert_type(TypedBike.name.name, str) == "name"
    # Options are class variables with plain types.
    assert assert_type(TypedBike.namespace, str) == "typing_models"
    assert assert_type(TypedBike.abstract, bool) is False
    assert_type(TypedBike.database, Database)


def test_constructor_types_and_bound_fields(db: Database) -> None:
    bike = assert_type(TypedBike(name="trek", wheels=3), TypedBike)
    assert_type(bike.name, BoundInstanceHash[str])
    assert_type(bike.wheels, BoundString[int])
    assert_type(bike.color, BoundInstanceHash[str | None])
    assert_type(bike.pk, BoundPK[int])
    assert assert_type(bike.pk.get(), int) == 1
    assert assert_type(bike.name.get(), str | None) == "trek"
    assert assert_type(bike.wheels.get(), int | None) == 3
    assert assert_type(bike.color.get(), str | None) is None
    assert assert_type(TypedBike(name="b", color=None), TypedBike).pk.get() == 2


def test_constructor_rejections_by_both_checkers_and_at_runtime() -> None:
    with pytest.raises(InvalidValue):
        TypedBike(name=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        TypedBike(name="x", wheels="two")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="missing"):
        TypedBike()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected"):
        TypedBike(name="x", speed=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected"):
        TypedTicket(id=5)  # type: ignore[call-arg]
    with pytest.raises(InvalidValue):
        TypedBike(name="x", color=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="missing"):
        TypedRider()  # type: ignore[call-arg]
    assert len(TypedBike.collection()) == 0  # nothing was written by the refused constructors


def test_primary_keys() -> None:
    rider = TypedRider(login="ann", age=30)
    assert_type(rider.login, BoundPK[str])
    assert assert_type(rider.login.get(), str) == "ann"
    assert_type(rider.pk, BoundPK[str])
    assert assert_type(rider.pk.get(), str) == "ann"
    assert assert_type(rider.pk_value, str) == "ann"
    ticket = TypedTicket(title="flat tyre")
    assert_type(ticket.id, BoundPK[int])
    assert assert_type(ticket.id.get(), int) == 1
    assert assert_type(ticket.pk.get(), int) == 1
    assert assert_type(ticket.pk_value, int) == 1
    assert_type(ticket.title, BoundString[str])


def test_class_methods() -> None:
    bike = TypedBike(name="trek")
    assert assert_type(TypedBike.get(1), TypedBike) == bike
    assert assert_type(TypedBike.get(name="trek"), TypedBike) == bike
    found, created = assert_type(TypedBike.get_or_connect(name="trek"), tuple[TypedBike, bool])
    assert (found, created) == (bike, False)
    other, created = assert_type(TypedBike.get_or_connect(name="giant"), tuple[TypedBike, bool])
    assert created is True
    assert other.pk.get() == 2
    assert assert_type(TypedBike.exists(1), bool) is True
    assert assert_type(TypedBike.exists(name="nope"), bool) is False
    assert assert_type(TypedBike.lazy_connect(1), TypedBike) == bike
    assert assert_type(TypedRider.lazy_connect("bob"), TypedRider).login.get() == "bob"
    collection = assert_type(TypedBike.collection(TypedBike.name == "trek"), Collection[TypedBike, int])
    assert list(collection) == [1]
    assert_type(TypedBike.collection(name="giant"), Collection[TypedBike, int])
    assert assert_type(TypedRider.exists("bob"), bool) is False
    assert_type(TypedRider.collection(), Collection[TypedRider, str])
    with pytest.raises(DoesNotExist):
        TypedBike.get(99)


def test_class_method_rejections() -> None:
    TypedRider(login="ann")
    with pytest.raises(InvalidValue):
        TypedRider.get(1)  # type: ignore[call-overload]
    with pytest.raises(InvalidValue):
        TypedBike.lazy_connect("one")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        TypedRider.exists(2)  # type: ignore[call-overload]


def test_instance_hash_methods() -> None:
    bike = TypedBike(name="trek", gears=3)
    assert assert_type(bike.hmget("name", "gears", "color"), list[object]) == ["trek", 3, None]
    assert assert_type(bike.hmset(color="red", gears=7), bool) is True
    assert assert_type(bike.hgetall(), dict[str, object]) == {"name": "trek", "gears": 7, "color": "red"}
    assert sorted(assert_type(bike.hkeys(), list[str])) == ["color", "gears", "name"]
    assert sorted(map(str, assert_type(bike.hvals(), list[object]))) == ["7", "red", "trek"]
    assert assert_type(bike.hlen(), int) == 3
    assert assert_type(bike.hdel("color", "gears"), int) == 2
    assert bike.hgetall() == {"name": "trek"}
    assert_type(bike.delete(), None)
    assert TypedBike.exists(1) is False


def test_instance_hash_method_rejections() -> None:
    bike = TypedBike(name="trek")
    with pytest.raises(InvalidValue):
        bike.hmset(gears="many")  # names are dynamic: values are `object` statically, checked at run time
    with pytest.raises(TypeError):
        bike.hmget(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bike.hdel(b"name")  # type: ignore[arg-type]
    assert bike.hgetall() == {"name": "trek", "gears": 1}


def test_database_types(db: Database, server_url: str) -> None:
    other = assert_type(Database(server_url), Database)
    assert_type(other.connect(server_url), None)
    assert assert_type(other.execute("DBSIZE"), object) == 0
    assert_type(other.close(), None)
    assert_type(db.connection, redis.Redis)
    assert assert_type(db.execute("PING"), object) is True
    assert_type(db.server, EmbeddedServer | None)
    embedded = assert_type(Database.embedded(), Database)
    try:
        assert assert_type(embedded.execute("SET", "k", 1), object) is True
        assert assert_type(embedded.execute("GET", "k"), object) == b"1"
        assert isinstance(assert_type(embedded.server, EmbeddedServer | None), EmbeddedServer)
    finally:
        assert_type(embedded.close(), None)
