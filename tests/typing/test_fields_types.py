"""Static types of every bound-field method, checked by mypy --strict and basedpyright, run by pytest.

``assert_type`` returns its value at run time, so each line is both a static check and a
runtime assertion on what Redis gave back. ``# type: ignore[code]`` lines must be errors for both
checkers; they run inside ``pytest.raises`` to show the runtime refusal too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typing_extensions import assert_type

from limpyd_typed import (
    PK,
    BoundHash,
    BoundInstanceHash,
    BoundList,
    BoundPK,
    BoundSet,
    BoundSortedSet,
    BoundString,
    Database,
    Hash,
    InstanceHash,
    InvalidValue,
    List,
    Model,
    Set,
    SortedSet,
    String,
    field,
)


class FieldsBike(Model, namespace="typing_fields"):
    name: InstanceHash[str] = field(indexable=True)
    color: InstanceHash[str | None] = field(default=None)
    gears: InstanceHash[int] = field(default=1)
    weight: InstanceHash[float] = field(default=10.0)
    wheels: String[int] = field(default=2, indexable=True)
    label: String[str] = field(default="abc")
    ratio: String[float] = field(default=1.5)
    raw: String[bytes] = field(default=b"\x00")
    note: String[str | None] = field(default=None)
    counter: String[int | None] = field(default=None)
    headers: Hash[str] = field(default={})
    counts: Hash[int] = field(default={})
    sizes: Hash[float] = field(default={})
    tags: Set[str] = field(default=())
    stuff: List[int] = field(default=())
    ranking: SortedSet[str] = field(default={})


class FieldsCode(Model[str], namespace="typing_fields"):
    code: PK[str]


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    FieldsBike.use_database(db)
    FieldsCode.use_database(db)
    yield


@pytest.fixture
def bike(db: Database) -> FieldsBike:
    return FieldsBike(name="trek")


def test_string_field_methods(db: Database, bike: FieldsBike) -> None:
    wheels = assert_type(bike.wheels, BoundString[int])
    assert db.execute("GET", assert_type(wheels.key, str)) == b"2"
    assert assert_type(wheels.get(), int | None) == 2
    assert assert_type(wheels.set(3), bool) is True
    assert assert_type(wheels.setnx(9), bool) is False
    assert assert_type(wheels.getset(4), int | None) == 3
    assert assert_type(wheels.strlen(), int) == 1
    assert assert_type(wheels.incr(), int) == 5
    assert assert_type(wheels.incr(10), int) == 15
    assert assert_type(wheels.decr(), int) == 14
    assert assert_type(wheels.decr(4), int) == 10
    assert assert_type(wheels.getbit(2), int) == 1  # "10": 0x31 = 0b00110001, bit 2 is 1
    assert assert_type(wheels.bitcount(), int) == 5  # 0x31 has 3 bits, 0x30 has 2
    assert assert_type(wheels.bitcount(1, 1), int) == 2
    assert assert_type(wheels.delete(), bool) is True
    assert wheels.get() is None

    label = assert_type(bike.label, BoundString[str])
    assert assert_type(label.append("de"), int) == 5
    assert assert_type(label.getrange(1, 3), bytes) == b"bcd"
    assert label.get() == "abcde"
    with pytest.raises(InvalidValue, match="expected str, got bytes"):
        label.append(b"\xff")  # type: ignore[arg-type]  # bytes on a str field
    with pytest.raises(InvalidValue, match="setrange"):
        label.setrange(0, "X")  # type: ignore[misc, arg-type]  # bytes fields only: it could cut a UTF-8 character

    assert assert_type(bike.ratio.incrbyfloat(0.25), float) == 1.75
    assert assert_type(bike.ratio.get(), float | None) == 1.75
    assert assert_type(bike.raw.setbit(7, 1), int) == 0
    assert assert_type(bike.raw.get(), bytes | None) == b"\x01"
    assert assert_type(bike.raw.append(b"\x02"), int) == 2
    with pytest.raises(InvalidValue):
        bike.raw.append("text")  # type: ignore[arg-type]  # text on a bytes field
    assert assert_type(bike.raw.setrange(0, b"\x03"), int) == 2

    note = assert_type(bike.note, BoundString[str | None])
    assert assert_type(note.get(), str | None) is None
    assert note.set("hello") is True
    assert assert_type(note.append("!"), int) == 6
    assert note.set(None) is True
    assert note.get() is None
    assert assert_type(bike.counter.incr(3), int) == 3
    assert assert_type(bike.counter.get(), int | None) == 3


def test_instance_hash_field_methods(bike: FieldsBike) -> None:
    name = assert_type(bike.name, BoundInstanceHash[str])
    assert assert_type(name.hget(), str | None) == "trek"
    assert assert_type(name.get(), str | None) == "trek"
    assert assert_type(name.hset("giant"), int) == 0  # the slot existed: updated
    assert assert_type(name.set("cube"), int) == 0
    assert assert_type(name.hsetnx("other"), int) == 0
    assert name.get() == "cube"
    assert assert_type(bike.gears.hincrby(), int) == 2
    assert assert_type(bike.gears.hincrby(5), int) == 7
    assert assert_type(bike.weight.hincrbyfloat(0.5), float) == 10.5
    color = assert_type(bike.color, BoundInstanceHash[str | None])
    assert assert_type(color.hsetnx("red"), int) == 1
    assert assert_type(color.hset(None), int) == 0
    assert assert_type(color.get(), str | None) is None
    assert assert_type(bike.gears.hdel(), int) == 1
    assert assert_type(bike.weight.delete(), bool) is True
    assert bike.hgetall() == {"name": "cube"}


def test_hash_field_methods(bike: FieldsBike) -> None:
    headers = assert_type(bike.headers, BoundHash[str])
    assert assert_type(headers.hset("from", "ann"), int) == 1
    assert assert_type(headers.hmset({"to": "bob"}, cc="cy"), bool) is True
    assert assert_type(headers.hsetnx("to", "zed"), int) == 0
    assert assert_type(headers.hget("to"), str | None) == "bob"
    assert assert_type(headers.hget("bcc"), str | None) is None
    assert assert_type(headers.hmget("from", "bcc"), list[str | None]) == ["ann", None]
    assert assert_type(headers.hgetall(), dict[str, str]) == {"from": "ann", "to": "bob", "cc": "cy"}
    assert sorted(assert_type(headers.hkeys(), list[str])) == ["cc", "from", "to"]
    assert sorted(assert_type(headers.hvals(), list[str])) == ["ann", "bob", "cy"]
    assert assert_type(headers.hexists("cc"), bool) is True
    assert assert_type(headers.hlen(), int) == 3
    assert assert_type(headers.hdel("cc", "bcc"), int) == 1
    assert assert_type(bike.counts.hincrby("x", 4), int) == 4
    assert assert_type(bike.counts.hgetall(), dict[str, int]) == {"x": 4}
    assert assert_type(bike.sizes.hincrbyfloat("y", 2.5), float) == 2.5
    assert assert_type(headers.delete(), bool) is True
    assert headers.hgetall() == {}


def test_set_field_methods(bike: FieldsBike) -> None:
    tags = assert_type(bike.tags, BoundSet[str])
    assert assert_type(tags.sadd("a", "b", "c"), int) == 3
    assert assert_type(tags.smembers(), set[str]) == {"a", "b", "c"}
    assert assert_type(tags.scard(), int) == 3
    assert assert_type(tags.sismember("b"), bool) is True
    assert assert_type(tags.srandmember(), str | None) in {"a", "b", "c"}
    assert sorted(assert_type(tags.srandmember(3), list[str])) == ["a", "b", "c"]
    assert assert_type(tags.srem("c", "z"), int) == 1
    popped = assert_type(tags.spop(), str | None)
    assert popped in {"a", "b"}
    assert assert_type(tags.spop(5), list[str]) == list({"a", "b"} - {popped})
    assert assert_type(tags.spop(), str | None) is None


def test_list_field_methods(bike: FieldsBike) -> None:
    stuff = assert_type(bike.stuff, BoundList[int])
    assert assert_type(stuff.rpush(1, 2), int) == 2
    assert assert_type(stuff.lpush(0), int) == 3
    assert assert_type(stuff.rpushx(3), int) == 4
    assert assert_type(stuff.lpushx(-1), int) == 5
    assert assert_type(stuff.lrange(), list[int]) == [-1, 0, 1, 2, 3]
    assert assert_type(stuff.lrange(1, 2), list[int]) == [0, 1]
    assert assert_type(stuff.lindex(-1), int | None) == 3
    assert assert_type(stuff.lindex(99), int | None) is None
    assert assert_type(stuff.llen(), int) == 5
    assert assert_type(stuff.linsert("AFTER", 1, 7), int) == 6
    assert assert_type(stuff.lrem(0, 7), int) == 1
    assert assert_type(stuff.lset(0, 5), bool) is True
    assert assert_type(stuff.lpop(), int | None) == 5
    assert assert_type(stuff.rpop(), int | None) == 3
    assert assert_type(stuff.lpop(1), list[int]) == [0]
    assert assert_type(stuff.rpop(2), list[int]) == [2, 1]
    assert assert_type(stuff.lpop(), int | None) is None
    assert stuff.rpush(4, 5, 6) == 3
    assert assert_type(stuff.ltrim(1, 1), bool) is True
    assert stuff.lrange() == [5]


def test_sorted_set_field_methods(bike: FieldsBike) -> None:
    ranking = assert_type(bike.ranking, BoundSortedSet[str])
    assert assert_type(ranking.zadd({"a": 1.5, "b": 0.5}), int) == 2
    assert assert_type(ranking.zadd(c=3), int) == 1
    assert assert_type(ranking.zcard(), int) == 3
    assert assert_type(ranking.zcount(1, "+inf"), int) == 2
    assert assert_type(ranking.zscore("a"), float | None) == 1.5
    assert assert_type(ranking.zscore("zz"), float | None) is None
    assert assert_type(ranking.zrank("a"), int | None) == 1
    assert assert_type(ranking.zrevrank("a"), int | None) == 1
    assert assert_type(ranking.zrank("zz"), int | None) is None
    assert assert_type(ranking.zrange(), list[str]) == ["b", "a", "c"]
    assert assert_type(ranking.zrange(0, 1, withscores=False), list[str]) == ["b", "a"]
    assert assert_type(ranking.zrange(withscores=True), list[tuple[str, float]]) == [
        ("b", 0.5), ("a", 1.5), ("c", 3.0)]
    assert assert_type(ranking.zrevrange(), list[str]) == ["c", "a", "b"]
    assert assert_type(ranking.zrevrange(0, 0, withscores=True), list[tuple[str, float]]) == [("c", 3.0)]
    assert assert_type(ranking.zrangebyscore(1, 5), list[str]) == ["a", "c"]
    assert assert_type(ranking.zrangebyscore("-inf", "(3", 1, 1), list[str]) == ["a"]
    assert assert_type(ranking.zrangebyscore(0, 2, withscores=True), list[tuple[str, float]]) == [
        ("b", 0.5), ("a", 1.5)]
    assert assert_type(ranking.zrevrangebyscore(5, 1), list[str]) == ["c", "a"]
    assert assert_type(ranking.zrevrangebyscore("+inf", 0, 0, 1, withscores=True), list[tuple[str, float]]) == [
        ("c", 3.0)]
    assert _first_ranked(ranking, False) == ["b"]
    assert _first_ranked(ranking, True) == [("b", 0.5)]
    assert assert_type(ranking.zincrby("b", 5), float) == 5.5
    assert assert_type(ranking.zrem("c", "zz"), int) == 1
    assert ranking.zadd({"d": 9.0, "e": 10.0}) == 2
    assert assert_type(ranking.zremrangebyrank(0, 0), int) == 1  # a (1.5)
    assert assert_type(ranking.zremrangebyscore(9, 9), int) == 1  # d
    assert ranking.zrange(withscores=True) == [("b", 5.5), ("e", 10.0)]


def _first_ranked(ranking: BoundSortedSet[str], with_scores: bool) -> list[str] | list[tuple[str, float]]:
    """``withscores`` given as a plain bool (not a literal): the result is either shape."""
    # mypy 2.4 reports "No overload variant of zrange matches argument types int, int, bool"
    # [call-overload] here (and types the call Any): the overloads lack a `withscores: bool` case.
    return assert_type(ranking.zrange(0, 0, withscores=with_scores), list[str] | list[tuple[str, float]])


def test_pk_field_methods(db: Database) -> None:
    code = FieldsCode(code="XK-1")
    assert_type(code.code, BoundPK[str])
    assert assert_type(code.code.get(), str) == "XK-1"
    assert assert_type(code.pk.get(), str) == "XK-1"
    bike = FieldsBike(name="trek")
    assert_type(bike.pk, BoundPK[int])
    assert assert_type(bike.pk.get(), int) == 1


def test_field_assignment_types(bike: FieldsBike) -> None:
    bike.wheels = 4
    bike.name = "giant"
    bike.color = None
    bike.headers = {"a": "b"}
    bike.tags = ["x", "y"]
    bike.stuff = (3, 2)
    bike.ranking = {"z": 2.0}
    # A read after an assignment is the bound field again, not the assigned value. basedpyright
    # 1.40 gets these wrong (it narrows to the assigned value: pyright#11401), see the report.
    assert assert_type(bike.wheels, BoundString[int]).get() == 4
    assert assert_type(bike.name, BoundInstanceHash[str]).get() == "giant"
    assert assert_type(bike.color, BoundInstanceHash[str | None]).get() is None
    assert assert_type(bike.headers, BoundHash[str]).hgetall() == {"a": "b"}
    assert assert_type(bike.tags, BoundSet[str]).smembers() == {"x", "y"}
    assert assert_type(bike.stuff, BoundList[int]).lrange() == [3, 2]
    assert assert_type(bike.ranking, BoundSortedSet[str]).zrange(withscores=True) == [("z", 2.0)]


def test_assignment_rejections(bike: FieldsBike) -> None:
    with pytest.raises(InvalidValue):
        bike.wheels = "four"  # type: ignore[assignment]
    with pytest.raises(InvalidValue):
        bike.name = None  # type: ignore[assignment]
    with pytest.raises(InvalidValue):
        bike.tags = {1}  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        bike.stuff = ["x"]  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        bike.ranking = {"a": "high"}  # type: ignore[dict-item]
    with pytest.raises(InvalidValue):
        bike.headers = {"a": 1}  # type: ignore[dict-item]
    stored = FieldsBike.get(1)  # (not `bike`: basedpyright narrows bike.wheels to the assigned value)
    assert (stored.wheels.get(), stored.name.get(), stored.tags.smembers()) == (2, "trek", set())
    assert (stored.stuff.lrange(), stored.ranking.zrange(), stored.headers.hgetall()) == ([], [], {})


def test_method_rejections(bike: FieldsBike) -> None:
    with pytest.raises(InvalidValue):
        bike.label.incr()  # type: ignore[misc]
    with pytest.raises(InvalidValue):
        bike.name.hincrby()  # type: ignore[misc]
    bike.headers.hset("a", "x")
    with pytest.raises(InvalidValue):
        bike.headers.hincrby("a")  # type: ignore[misc]
    with pytest.raises(InvalidValue):
        bike.wheels.append("x")  # type: ignore[misc]
    with pytest.raises(InvalidValue):
        bike.wheels.set("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        bike.tags.sadd(1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        bike.stuff.rpush("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        bike.ranking.zadd({"a": "high"})  # type: ignore[dict-item]
    with pytest.raises(InvalidValue):
        bike.ranking.zadd(a="high")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        bike.headers.hset("a", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bike.stuff.linsert("AROUND", 1, 2)  # type: ignore[arg-type]
    assert (bike.label.get(), bike.name.get(), bike.wheels.get()) == ("abc", "trek", 2)
    assert (bike.tags.smembers(), bike.stuff.lrange(), bike.ranking.zrange()) == (set(), [], [])
    assert bike.headers.hgetall() == {"a": "x"}


def test_float_increments_on_int_fields_are_refused(bike: FieldsBike) -> None:
    """Rejected statically; at run time they must not turn an int field into "2.5" either."""
    with pytest.raises(InvalidValue):
        bike.wheels.incrbyfloat(0.5)  # type: ignore[misc]
    assert bike.wheels.get() == 2
    with pytest.raises(InvalidValue):
        bike.gears.hincrbyfloat(0.5)  # type: ignore[misc]
    assert bike.gears.get() == 1
    with pytest.raises(InvalidValue):
        bike.counts.hincrbyfloat("a", 0.5)  # type: ignore[misc]
    assert bike.counts.hgetall() == {}
