"""List fields against a real server: every command, the list it leaves, the index it keeps.

Each distinct value of a List is one index entry, kept while at least one copy of the value
remains. Each write is checked for its reply, the raw list in Redis, the exact index afterwards and
the round trips it costs (one script). A unique List refuses a value held by another instance and
leaves every key as it was; wrong-typed values never reach Redis; a deleted instance is not
resurrected by a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from limpyd_typed import (
    CommandError,
    Database,
    DoesNotExist,
    InvalidValue,
    List,
    Model,
    UniquenessError,
    field,
    replies,
)
from tests.conftest import RoundTrips
from tests.integration.support import assert_deleted_instance_refuses, FieldKeys, entries, entries_of, one_trip, pkb, snapshot, warm_scripts

NS = "itlist"


class Bike(Model, namespace=NS):
    parts: List[str] = field(indexable=True, default=())
    sizes: List[int] = field(indexable=True, default=())
    chips: List[bytes] = field(indexable=True, default=())
    plates: List[str] = field(unique=True, default=())
    extras: List[str] = field(default=())  # not indexed


# -- helpers (raw Redis reads, built independently of the library's key and index code) --------


_keys = FieldKeys(NS, "Bike")
data_key, key_exists, index = _keys.data_key, _keys.key_exists, _keys.index


def stored(db: Database, name: str, instance: Model[int]) -> list[bytes]:
    """The raw list of a field (empty when the key does not exist)."""
    return replies.bytes_list(db.execute("LRANGE", data_key(name, instance), 0, -1))


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Bike.use_database(db)
    warm_scripts(db)
    yield


@pytest.fixture
def pair() -> tuple[Bike, Bike]:
    """Two bikes sharing a part, so every index holds other entries too."""
    return (
        Bike(parts=["wheel", "bell", "wheel", "seat"], sizes=[26, 28], chips=[b"\x00"]),
        Bike(parts=["wheel", "horn"], sizes=[20]),
    )


def other_parts(two: Bike) -> set[bytes]:
    return entries((b"wheel", two), (b"horn", two))


# -- reads ---------------------------------------------------------------------------------------


def test_reads(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.parts.lrange() == ["wheel", "bell", "wheel", "seat"]
    assert one.parts.lrange(1, 2) == ["bell", "wheel"]
    assert one.parts.lrange(-2, -1) == ["wheel", "seat"]
    assert one.parts.lrange(10, 20) == []
    sizes = one.sizes.lrange()
    assert sizes == [26, 28] and all(type(s) is int for s in sizes)
    assert one.chips.lrange() == [b"\x00"]
    assert two.chips.lrange() == []
    assert one.parts.lindex(0) == "wheel"
    assert one.parts.lindex(-1) == "seat"
    assert one.parts.lindex(99) is None
    assert one.sizes.lindex(1) == 28
    assert one.parts.llen() == 4
    assert two.extras.llen() == 0
    assert snapshot(db) == before
    assert stored(db, "parts", one) == [b"wheel", b"bell", b"wheel", b"seat"]
    assert stored(db, "sizes", one) == [b"26", b"28"]
    assert not key_exists(db, "chips", two)  # an empty list is no key


def test_created_values_are_indexed_once_each(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert index(db, "parts") == entries((b"wheel", one), (b"bell", one), (b"seat", one)) | other_parts(two)
    assert sorted(Bike.collection(parts="wheel")) == [one.pk_value, two.pk_value]
    assert list(Bike.collection(parts="horn")) == [two.pk_value]
    assert list(Bike.collection(parts="wheel", sizes=26)) == [one.pk_value]


# -- writes: reply, data, index, one round trip --------------------------------------------------


def test_lpush_and_rpush(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.parts.lpush("a", "b")) == 6
    assert stored(db, "parts", one) == [b"b", b"a", b"wheel", b"bell", b"wheel", b"seat"]
    assert one_trip(round_trips, lambda: one.parts.rpush("z", "wheel")) == 8
    assert stored(db, "parts", one) == [b"b", b"a", b"wheel", b"bell", b"wheel", b"seat", b"z", b"wheel"]
    assert index(db, "parts") == entries_of([b"a", b"b", b"wheel", b"bell", b"seat", b"z"], one) | other_parts(two)
    assert list(Bike.collection(parts="z")) == [one.pk_value]
    assert one_trip(round_trips, lambda: two.chips.rpush(b"\xff", b"\x00")) == 2
    assert stored(db, "chips", two) == [b"\xff", b"\x00"]
    assert index(db, "chips") == entries((b"\x00", one), (b"\xff", two), (b"\x00", two))
    before = snapshot(db)
    assert one.parts.lpush() == 8 and one.parts.rpush() == 8  # nothing to push: the length
    assert snapshot(db) == before


def test_lpushx_and_rpushx(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.parts.lpushx("a")) == 3
    assert one_trip(round_trips, lambda: two.parts.rpushx("z", "y")) == 5
    assert stored(db, "parts", two) == [b"a", b"wheel", b"horn", b"z", b"y"]
    assert index(db, "parts") == (entries((b"wheel", one), (b"bell", one), (b"seat", one))
                                  | entries_of([b"a", b"wheel", b"horn", b"z", b"y"], two))
    # on a missing list: nothing is created, nothing is indexed
    before = snapshot(db)
    assert one_trip(round_trips, lambda: two.chips.lpushx(b"c")) == 0
    assert one_trip(round_trips, lambda: two.chips.rpushx(b"c")) == 0
    assert not key_exists(db, "chips", two)
    assert snapshot(db) == before


def test_linsert(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.parts.linsert("BEFORE", "horn", "light")) == 3
    assert one_trip(round_trips, lambda: two.parts.linsert("AFTER", "horn", "basket")) == 4
    assert stored(db, "parts", two) == [b"wheel", b"light", b"horn", b"basket"]
    assert index(db, "parts") == (entries((b"wheel", one), (b"bell", one), (b"seat", one))
                                  | entries_of([b"wheel", b"light", b"horn", b"basket"], two))
    before = snapshot(db)
    assert one_trip(round_trips, lambda: two.parts.linsert("AFTER", "absent", "x")) == -1
    assert snapshot(db) == before
    with round_trips as rt, pytest.raises(ValueError, match="BEFORE"):
        two.parts.linsert("after", "horn", "x")  # type: ignore[arg-type]
    assert rt.count == 0
    assert snapshot(db) == before


def test_lpop_and_rpop(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.parts.lpop()) == "wheel"
    assert stored(db, "parts", one) == [b"bell", b"wheel", b"seat"]
    # another copy of "wheel" remains: still indexed
    assert index(db, "parts") == entries_of([b"bell", b"wheel", b"seat"], one) | other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.rpop()) == "seat"
    assert stored(db, "parts", one) == [b"bell", b"wheel"]
    assert index(db, "parts") == entries_of([b"bell", b"wheel"], one) | other_parts(two)
    popped = one_trip(round_trips, lambda: one.sizes.rpop())
    assert popped == 28 and type(popped) is int
    assert index(db, "sizes") == entries((b"26", one), (b"20", two))
    assert one_trip(round_trips, lambda: one.sizes.lpop()) == 26
    assert not key_exists(db, "sizes", one)
    assert index(db, "sizes") == entries((b"20", two))
    assert one_trip(round_trips, lambda: one.sizes.lpop()) is None
    assert one_trip(round_trips, lambda: one.sizes.rpop()) is None


def test_lpop_and_rpop_with_count(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    one.parts.rpush("x", "y")  # wheel bell wheel seat x y
    assert one_trip(round_trips, lambda: one.parts.lpop(2)) == ["wheel", "bell"]
    assert stored(db, "parts", one) == [b"wheel", b"seat", b"x", b"y"]
    assert index(db, "parts") == entries_of([b"wheel", b"seat", b"x", b"y"], one) | other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.rpop(3)) == ["y", "x", "seat"]
    assert stored(db, "parts", one) == [b"wheel"]
    assert index(db, "parts") == entries((b"wheel", one)) | other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.rpop(5)) == ["wheel"]
    assert not key_exists(db, "parts", one)
    assert index(db, "parts") == other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.lpop(2)) == []
    assert one_trip(round_trips, lambda: one.parts.rpop(2)) == []


def test_lrem(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    one.parts.rpush("bell", "wheel")  # wheel bell wheel seat bell wheel
    assert one_trip(round_trips, lambda: one.parts.lrem(1, "wheel")) == 1  # the first one
    assert stored(db, "parts", one) == [b"bell", b"wheel", b"seat", b"bell", b"wheel"]
    assert one_trip(round_trips, lambda: one.parts.lrem(-1, "bell")) == 1  # the last one
    assert stored(db, "parts", one) == [b"bell", b"wheel", b"seat", b"wheel"]
    assert index(db, "parts") == entries_of([b"bell", b"wheel", b"seat"], one) | other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.lrem(0, "wheel")) == 2  # all of them
    assert stored(db, "parts", one) == [b"bell", b"seat"]
    assert index(db, "parts") == entries_of([b"bell", b"seat"], one) | other_parts(two)
    assert list(Bike.collection(parts="wheel")) == [two.pk_value]
    assert one_trip(round_trips, lambda: one.parts.lrem(0, "absent")) == 0


def test_a_value_stays_indexed_while_one_copy_remains(db: Database, round_trips: RoundTrips) -> None:
    bike = Bike(parts=["x"])
    bike.parts.lpush("a")
    bike.parts.rpush("a")
    assert stored(db, "parts", bike) == [b"a", b"x", b"a"]
    assert index(db, "parts") == entries((b"a", bike), (b"x", bike))
    assert one_trip(round_trips, lambda: bike.parts.lrem(1, "a")) == 1
    assert stored(db, "parts", bike) == [b"x", b"a"]
    assert index(db, "parts") == entries((b"a", bike), (b"x", bike))
    assert list(Bike.collection(parts="a")) == [bike.pk_value]
    assert one_trip(round_trips, lambda: bike.parts.lrem(1, "a")) == 1
    assert stored(db, "parts", bike) == [b"x"]
    assert index(db, "parts") == entries((b"x", bike))
    assert list(Bike.collection(parts="a")) == []


def test_lset(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.parts.lset(0, "frame")) is True
    assert stored(db, "parts", one) == [b"frame", b"bell", b"wheel", b"seat"]
    assert index(db, "parts") == entries_of([b"frame", b"bell", b"wheel", b"seat"], one) | other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.lset(-2, "frame")) is True
    assert stored(db, "parts", one) == [b"frame", b"bell", b"frame", b"seat"]
    assert index(db, "parts") == entries_of([b"frame", b"bell", b"seat"], one) | other_parts(two)
    assert list(Bike.collection(parts="wheel")) == [two.pk_value]


def test_lset_out_of_range_raises_and_changes_nothing(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    before = snapshot(db)
    with pytest.raises(CommandError, match=r"Bike\.parts: Redis refused LSET: (ERR )?index out of range; nothing was written"):
        one.parts.lset(10, "x")
    assert snapshot(db) == before


def test_ltrim(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.parts.ltrim(1, 2)) is True
    assert stored(db, "parts", one) == [b"bell", b"wheel"]
    assert index(db, "parts") == entries_of([b"bell", b"wheel"], one) | other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.ltrim(5, 10)) is True
    assert not key_exists(db, "parts", one)
    assert index(db, "parts") == other_parts(two)


def test_delete(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.parts.delete()) is True
    assert not key_exists(db, "parts", one)
    assert one.parts.lrange() == []
    assert index(db, "parts") == other_parts(two)
    assert one_trip(round_trips, lambda: one.parts.delete()) is False
    assert stored(db, "sizes", one) == [b"26", b"28"]  # other fields untouched


def test_assignment_replaces_the_whole_list(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair

    def assign() -> None:
        one.parts = ["b", "a", "b", "horn"]

    def assign_tuple() -> None:
        two.sizes = (3, 1, 3)

    def clear() -> None:
        two.parts = []

    one_trip(round_trips, assign)
    assert stored(db, "parts", one) == [b"b", b"a", b"b", b"horn"]
    assert index(db, "parts") == entries_of([b"b", b"a", b"horn"], one) | other_parts(two)
    assert list(Bike.collection(parts="seat")) == []
    one_trip(round_trips, assign_tuple)
    assert stored(db, "sizes", two) == [b"3", b"1", b"3"]
    assert index(db, "sizes") == entries((b"26", one), (b"28", one), (b"3", two), (b"1", two))
    one_trip(round_trips, clear)
    assert not key_exists(db, "parts", two)
    assert index(db, "parts") == entries_of([b"b", b"a", b"horn"], one)


def test_writes_on_an_unindexed_list_leave_indexes_alone(db: Database, round_trips: RoundTrips,
                                                         pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    names = ("parts", "sizes", "chips", "plates")
    before = {name: index(db, name) for name in names}
    assert one_trip(round_trips, lambda: one.extras.rpush("x", "x")) == 2
    assert stored(db, "extras", one) == [b"x", b"x"]
    assert index(db, "extras") == set()
    assert {name: index(db, name) for name in names} == before


# -- awkward bytes -------------------------------------------------------------------------------

AWKWARD = [":", "*", "?", "[", "]", "{", "}", "->", "a b", " ", "line\nbreak", "", "\x00", "\x01", "a\x00b",
           "\x01\x01", "\x01\x02", "\x00\x01", "fo", "foo", "foo1", "foo\x00", "é", "x:*?[]{}->y"]
AWKWARD_BYTES = [b"\xff", b"\x80abc", b"\xc3", b"\x00\xff", b"\xfe\x00\x01", b"", b"\x00", b"\x01"]


def test_awkward_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    alone = [Bike(parts=[value]) for value in AWKWARD]
    together = Bike(parts=AWKWARD)
    later = Bike()
    later.parts.rpush(*AWKWARD)
    encoded = [v.encode() for v in AWKWARD]
    assert stored(db, "parts", together) == encoded
    assert stored(db, "parts", later) == encoded
    assert together.parts.lrange() == AWKWARD
    assert index(db, "parts") == (entries(*[(v.encode(), b) for v, b in zip(AWKWARD, alone)])
                                  | entries_of(encoded, together) | entries_of(encoded, later))
    for value, bike in zip(AWKWARD, alone):
        assert sorted(Bike.collection(parts=value)) == [bike.pk_value, together.pk_value, later.pk_value], value


def test_awkward_bytes_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(chips=[value]) for value in AWKWARD_BYTES]
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert stored(db, "chips", bike) == [value]
        assert bike.chips.lrange() == [value]
    assert index(db, "chips") == entries(*[(v, b) for v, b in zip(AWKWARD_BYTES, bikes)])
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert list(Bike.collection(chips=value)) == [bike.pk_value], value


# -- uniqueness ----------------------------------------------------------------------------------


def _assign_held(bike: Bike) -> None:
    bike.plates = ["CD-2", "AB-1"]


UNIQUE_CLASHES: list[tuple[str, Callable[[Bike], object]]] = [
    ("lpush", lambda b: b.plates.lpush("AB-1")),
    ("rpush", lambda b: b.plates.rpush("new", "AB-1")),
    ("lpushx", lambda b: b.plates.lpushx("AB-1")),
    ("rpushx", lambda b: b.plates.rpushx("AB-1")),
    ("linsert", lambda b: b.plates.linsert("BEFORE", "CD-1", "AB-1")),
    ("lset", lambda b: b.plates.lset(0, "AB-1")),
    ("assign", _assign_held),
]


@pytest.mark.parametrize("write", [c[1] for c in UNIQUE_CLASHES], ids=[c[0] for c in UNIQUE_CLASHES])
def test_unique_clash_is_refused_and_changes_nothing(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object]
) -> None:
    Bike(plates=["AB-1", "AB-2"])
    second = Bike(plates=["CD-1", "CD-1"])
    before = snapshot(db)
    with round_trips as rt, pytest.raises(UniquenessError) as caught:
        write(second)
    assert rt.count == 1
    message = str(caught.value)
    assert "Bike.plates" in message
    assert repr("AB-1") in message
    assert snapshot(db) == before


def test_unique_values_free_or_own_are_accepted(db: Database, round_trips: RoundTrips) -> None:
    first = Bike(plates=["AB-1", "AB-2"])
    second = Bike(plates=["CD-1"])
    assert one_trip(round_trips, lambda: second.plates.rpush("CD-1")) == 2  # its own value again
    assert one_trip(round_trips, lambda: first.plates.lpop()) == "AB-1"
    assert one_trip(round_trips, lambda: second.plates.lset(1, "AB-1")) is True  # freed
    assert stored(db, "plates", second) == [b"CD-1", b"AB-1"]
    assert index(db, "plates") == entries((b"AB-2", first), (b"CD-1", second), (b"AB-1", second))
    assert list(Bike.collection(plates="AB-1")) == [second.pk_value]


# -- writes on a deleted instance ----------------------------------------------------------------


def _assign(bike: Bike) -> None:
    bike.parts = ["y"]


WRITES: list[tuple[str, Callable[[Bike], object]]] = [
    ("lpush", lambda b: b.parts.lpush("y")),
    ("rpush", lambda b: b.parts.rpush("y")),
    ("lpushx", lambda b: b.parts.lpushx("y")),
    ("rpushx", lambda b: b.parts.rpushx("y")),
    ("linsert", lambda b: b.parts.linsert("AFTER", "wheel", "y")),
    ("lpop", lambda b: b.parts.lpop()),
    ("rpop-count", lambda b: b.parts.rpop(2)),
    ("lrem", lambda b: b.parts.lrem(0, "wheel")),
    ("lset", lambda b: b.parts.lset(0, "y")),
    ("ltrim", lambda b: b.parts.ltrim(0, 0)),
    ("delete", lambda b: b.parts.delete()),
    ("assign", _assign),
    ("unique-rpush", lambda b: b.plates.rpush("y")),
    ("unindexed-rpush", lambda b: b.extras.rpush("y")),
]


@pytest.mark.parametrize("write", [w[1] for w in WRITES], ids=[w[0] for w in WRITES])
def test_write_on_a_deleted_instance_raises_and_writes_nothing(db: Database, write: Callable[[Bike], object]) -> None:
    bike = Bike(parts=["wheel"])
    Bike(parts=["wheel"])
    Bike.get(bike.pk_value).delete()
    assert_deleted_instance_refuses(db, bike, write)


# -- wrong-typed writes --------------------------------------------------------------------------


def _assign_wrong_values(bike: Bike) -> None:
    bike.sizes = ["1"]  # type: ignore[list-item]


def _assign_a_str(bike: Bike) -> None:
    bike.parts = "abc"  # a str is an iterable of str, but not a list of values


# (id, write, field, the wrong value)
WRONG: list[tuple[str, Callable[[Bike], object], str, object]] = [
    ("lpush-int-in-str", lambda b: b.parts.lpush(1), "parts", 1),  # type: ignore[arg-type]
    ("rpush-mixed", lambda b: b.sizes.rpush(1, "2"), "sizes", "2"),  # type: ignore[arg-type]
    ("rpush-bool-in-int", lambda b: b.sizes.rpush(True), "sizes", True),
    ("lpushx-none", lambda b: b.parts.lpushx(None), "parts", None),  # type: ignore[arg-type]
    ("rpushx-str-in-bytes", lambda b: b.chips.rpushx("x"), "chips", "x"),  # type: ignore[arg-type]
    ("linsert-value", lambda b: b.sizes.linsert("AFTER", 26, "x"), "sizes", "x"),  # type: ignore[arg-type]
    ("linsert-pivot", lambda b: b.sizes.linsert("AFTER", "26", 1), "sizes", "26"),  # type: ignore[arg-type]
    ("lrem", lambda b: b.sizes.lrem(0, "26"), "sizes", "26"),  # type: ignore[arg-type]
    ("lset", lambda b: b.sizes.lset(0, "1"), "sizes", "1"),  # type: ignore[arg-type]
    ("assign-values", _assign_wrong_values, "sizes", "1"),
    ("assign-a-str", _assign_a_str, "parts", "abc"),
    ("unique", lambda b: b.plates.rpush(1), "plates", 1),  # type: ignore[arg-type]
    ("unindexed", lambda b: b.extras.rpush(1), "extras", 1),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("write", "name", "value"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_typed_write_raises_before_reaching_redis(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object], name: str, value: object
) -> None:
    bike = Bike(parts=["wheel"], sizes=[26])
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue) as caught:
        write(bike)
    assert rt.count == 0
    message = str(caught.value)
    assert f"Bike.{name}" in message
    assert repr(value) in message
    assert snapshot(db) == before
