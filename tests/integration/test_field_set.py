"""Set fields against a real server: every command, the set it leaves, the index it keeps.

Each value of a Set is one index entry. Each write is checked for its reply, the raw set in Redis,
the exact index afterwards and the round trips it costs (one script). A unique Set refuses a value
held by another instance and leaves every key as it was; wrong-typed values never reach Redis; a
deleted instance is not resurrected by a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from limpyd_typed import (
    Database,
    DoesNotExist,
    InvalidValue,
    Model,
    Set,
    UniquenessError,
    field,
    replies,
)
from tests.conftest import RoundTrips
from tests.integration.support import assert_deleted_instance_refuses, FieldKeys, entries, entries_of, one_trip, pkb, snapshot, warm_scripts

NS = "itset"


class Bike(Model, namespace=NS):
    tags: Set[str] = field(indexable=True, default=())
    sizes: Set[int] = field(indexable=True, default=())
    chips: Set[bytes] = field(indexable=True, default=())
    plates: Set[str] = field(unique=True, default=())
    extras: Set[str] = field(default=())  # not indexed


# -- helpers (raw Redis reads, built independently of the library's key and index code) --------


_keys = FieldKeys(NS, "Bike")
data_key, key_exists, index = _keys.data_key, _keys.key_exists, _keys.index


def stored(db: Database, name: str, instance: Model[int]) -> set[bytes]:
    """The raw members of a field's set (empty when the key does not exist)."""
    return set(replies.bytes_list(db.execute("SMEMBERS", data_key(name, instance))))


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Bike.use_database(db)
    warm_scripts(db)
    yield


@pytest.fixture
def pair() -> tuple[Bike, Bike]:
    """Two bikes sharing a tag, so every index holds other entries too."""
    return (
        Bike(tags={"red", "fast"}, sizes={26, 28}, chips={b"\x00"}, plates={"AB-1"}),
        Bike(tags={"red", "old"}, sizes={20}),
    )


# -- reads ---------------------------------------------------------------------------------------


def test_reads(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.tags.smembers() == {"red", "fast"}
    sizes = one.sizes.smembers()
    assert sizes == {26, 28} and all(type(s) is int for s in sizes)
    assert one.chips.smembers() == {b"\x00"}
    assert two.chips.smembers() == set()
    assert one.tags.scard() == 2
    assert two.extras.scard() == 0
    assert one.tags.sismember("fast") is True
    assert one.tags.sismember("old") is False
    assert one.sizes.sismember(26) is True
    assert one.tags.srandmember() in {"red", "fast"}
    assert two.chips.srandmember() is None
    picked = one.sizes.srandmember(5)
    assert sorted(picked) == [26, 28]
    assert len(one.tags.srandmember(1)) == 1
    assert set(one.tags.srandmember(-3)) <= {"red", "fast"} and len(one.tags.srandmember(-3)) == 3
    assert two.chips.srandmember(2) == []
    assert snapshot(db) == before
    assert stored(db, "tags", one) == {b"red", b"fast"}
    assert stored(db, "sizes", one) == {b"26", b"28"}
    assert not key_exists(db, "chips", two)  # an empty set is no key


def test_created_values_are_indexed(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert index(db, "tags") == entries((b"red", one), (b"fast", one), (b"red", two), (b"old", two))
    assert sorted(Bike.collection(tags="red")) == [one.pk_value, two.pk_value]
    assert list(Bike.collection(tags="fast")) == [one.pk_value]
    assert list(Bike.collection(tags="red", sizes=20)) == [two.pk_value]
    assert index(db, "extras") == set()


# -- writes: reply, data, index, one round trip --------------------------------------------------


def test_sadd(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.tags.sadd("fast", "new", "newer")) == 2
    assert stored(db, "tags", one) == {b"red", b"fast", b"new", b"newer"}
    assert index(db, "tags") == entries((b"red", one), (b"fast", one), (b"new", one), (b"newer", one),
                                        (b"red", two), (b"old", two))
    assert list(Bike.collection(tags="new")) == [one.pk_value]
    assert one_trip(round_trips, lambda: two.chips.sadd(b"\x00", b"\xff")) == 2
    assert stored(db, "chips", two) == {b"\x00", b"\xff"}
    assert index(db, "chips") == entries((b"\x00", one), (b"\x00", two), (b"\xff", two))
    assert one_trip(round_trips, lambda: two.sizes.sadd(20)) == 0
    assert index(db, "sizes") == entries((b"26", one), (b"28", one), (b"20", two))
    before = snapshot(db)
    assert two.sizes.sadd() == 0
    assert snapshot(db) == before


def test_srem(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.tags.srem("red", "absent")) == 1
    assert stored(db, "tags", one) == {b"fast"}
    assert index(db, "tags") == entries((b"fast", one), (b"red", two), (b"old", two))
    assert list(Bike.collection(tags="red")) == [two.pk_value]
    assert one_trip(round_trips, lambda: one.tags.srem("fast")) == 1
    assert not key_exists(db, "tags", one)
    assert index(db, "tags") == entries((b"red", two), (b"old", two))
    assert one_trip(round_trips, lambda: one.tags.srem("fast")) == 0
    assert one.tags.srem() == 0


def test_spop_one(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    popped = one_trip(round_trips, lambda: one.sizes.spop())
    assert popped in {26, 28} and type(popped) is int
    left = {26, 28} - {popped}
    assert stored(db, "sizes", one) == {str(v).encode() for v in left}
    assert index(db, "sizes") == entries(*[(str(v).encode(), one) for v in left], (b"20", two))
    assert list(Bike.collection(sizes=popped)) == []
    assert one_trip(round_trips, lambda: one.sizes.spop()) in left
    assert not key_exists(db, "sizes", one)
    assert index(db, "sizes") == entries((b"20", two))
    assert one_trip(round_trips, lambda: one.sizes.spop()) is None


def test_spop_with_count(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    one.tags.sadd("a", "b", "c")
    everything = {"red", "fast", "a", "b", "c"}
    popped = one_trip(round_trips, lambda: one.tags.spop(3))
    assert len(popped) == 3 and set(popped) <= everything and len(set(popped)) == 3
    left = everything - set(popped)
    assert stored(db, "tags", one) == {v.encode() for v in left}
    assert index(db, "tags") == entries(*[(v.encode(), one) for v in left], (b"red", two), (b"old", two))
    rest = one_trip(round_trips, lambda: one.tags.spop(10))
    assert set(rest) == left
    assert not key_exists(db, "tags", one)
    assert index(db, "tags") == entries((b"red", two), (b"old", two))
    assert one_trip(round_trips, lambda: one.tags.spop(2)) == []


def test_delete(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.tags.delete()) is True
    assert not key_exists(db, "tags", one)
    assert one.tags.smembers() == set()
    assert index(db, "tags") == entries((b"red", two), (b"old", two))
    assert one_trip(round_trips, lambda: one.tags.delete()) is False
    assert stored(db, "sizes", one) == {b"26", b"28"}  # other fields untouched


def test_assignment_replaces_the_whole_set(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair

    def assign() -> None:
        one.tags = {"a", "b", "red"}

    def assign_list_with_duplicates() -> None:
        two.sizes = [1, 1, 2]

    def clear() -> None:
        two.tags = set()

    one_trip(round_trips, assign)
    assert stored(db, "tags", one) == {b"a", b"b", b"red"}
    assert index(db, "tags") == entries((b"a", one), (b"b", one), (b"red", one), (b"red", two), (b"old", two))
    assert list(Bike.collection(tags="fast")) == []
    one_trip(round_trips, assign_list_with_duplicates)
    assert stored(db, "sizes", two) == {b"1", b"2"}
    assert index(db, "sizes") == entries((b"26", one), (b"28", one), (b"1", two), (b"2", two))
    one_trip(round_trips, clear)
    assert not key_exists(db, "tags", two)
    assert index(db, "tags") == entries((b"a", one), (b"b", one), (b"red", one))


def test_writes_on_an_unindexed_set_leave_indexes_alone(db: Database, round_trips: RoundTrips,
                                                        pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    names = ("tags", "sizes", "chips", "plates")
    before = {name: index(db, name) for name in names}
    assert one_trip(round_trips, lambda: one.extras.sadd("x", "y")) == 2
    assert stored(db, "extras", one) == {b"x", b"y"}
    assert index(db, "extras") == set()
    assert {name: index(db, name) for name in names} == before


# -- awkward bytes -------------------------------------------------------------------------------

AWKWARD = [":", "*", "?", "[", "]", "{", "}", "->", "a b", " ", "line\nbreak", "", "\x00", "\x01", "a\x00b",
           "\x01\x01", "\x01\x02", "\x00\x01", "fo", "foo", "foo1", "foo\x00", "é", "x:*?[]{}->y"]
AWKWARD_BYTES = [b"\xff", b"\x80abc", b"\xc3", b"\x00\xff", b"\xfe\x00\x01", b"", b"\x00", b"\x01"]


def test_awkward_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    alone = [Bike(tags={value}) for value in AWKWARD]
    together = Bike(tags=AWKWARD)
    later = Bike()
    later.tags.sadd(*AWKWARD)
    encoded = {v.encode() for v in AWKWARD}
    assert stored(db, "tags", together) == encoded
    assert stored(db, "tags", later) == encoded
    assert together.tags.smembers() == set(AWKWARD)
    assert index(db, "tags") == (entries(*[(v.encode(), b) for v, b in zip(AWKWARD, alone)])
                                 | entries_of(encoded, together) | entries_of(encoded, later))
    for value, bike in zip(AWKWARD, alone):
        assert sorted(Bike.collection(tags=value)) == [bike.pk_value, together.pk_value, later.pk_value], value


def test_awkward_bytes_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(chips={value}) for value in AWKWARD_BYTES]
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert stored(db, "chips", bike) == {value}
        assert bike.chips.smembers() == {value}
    assert index(db, "chips") == entries(*[(v, b) for v, b in zip(AWKWARD_BYTES, bikes)])
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert list(Bike.collection(chips=value)) == [bike.pk_value], value


# -- uniqueness ----------------------------------------------------------------------------------


def _assign_held(bike: Bike) -> None:
    bike.plates = {"CD-2", "AB-1"}


UNIQUE_CLASHES: list[tuple[str, Callable[[Bike], object]]] = [
    ("sadd", lambda b: b.plates.sadd("AB-1")),
    ("sadd-with-free-values", lambda b: b.plates.sadd("new", "AB-1", "newer")),
    ("assign", _assign_held),
]


@pytest.mark.parametrize("write", [c[1] for c in UNIQUE_CLASHES], ids=[c[0] for c in UNIQUE_CLASHES])
def test_unique_clash_is_refused_and_changes_nothing(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object]
) -> None:
    Bike(plates={"AB-1", "AB-2"})
    second = Bike(plates={"CD-1"})
    before = snapshot(db)
    with round_trips as rt, pytest.raises(UniquenessError) as caught:
        write(second)
    assert rt.count == 1
    message = str(caught.value)
    assert "Bike.plates" in message
    assert repr("AB-1") in message
    assert snapshot(db) == before


def test_unique_values_free_or_own_are_accepted(db: Database, round_trips: RoundTrips) -> None:
    first = Bike(plates={"AB-1", "AB-2"})
    second = Bike(plates={"CD-1"})
    assert one_trip(round_trips, lambda: second.plates.sadd("CD-1", "CD-2")) == 1
    assert one_trip(round_trips, lambda: first.plates.srem("AB-1")) == 1
    assert one_trip(round_trips, lambda: second.plates.sadd("AB-1")) == 1  # freed
    assert index(db, "plates") == entries((b"AB-2", first), (b"CD-1", second), (b"CD-2", second), (b"AB-1", second))
    assert one_trip(round_trips, lambda: first.plates.spop()) == "AB-2"
    assert index(db, "plates") == entries((b"CD-1", second), (b"CD-2", second), (b"AB-1", second))
    assert list(Bike.collection(plates="AB-1")) == [second.pk_value]


# -- writes on a deleted instance ----------------------------------------------------------------


def _assign(bike: Bike) -> None:
    bike.tags = {"y"}


WRITES: list[tuple[str, Callable[[Bike], object]]] = [
    ("sadd", lambda b: b.tags.sadd("y")),
    ("srem", lambda b: b.tags.srem("red")),
    ("spop", lambda b: b.tags.spop()),
    ("spop-count", lambda b: b.tags.spop(2)),
    ("delete", lambda b: b.tags.delete()),
    ("assign", _assign),
    ("unique-sadd", lambda b: b.plates.sadd("y")),
    ("unindexed-sadd", lambda b: b.extras.sadd("y")),
]


@pytest.mark.parametrize("write", [w[1] for w in WRITES], ids=[w[0] for w in WRITES])
def test_write_on_a_deleted_instance_raises_and_writes_nothing(db: Database, write: Callable[[Bike], object]) -> None:
    bike = Bike(tags={"red"})
    Bike(tags={"red"})
    Bike.get(bike.pk_value).delete()
    assert_deleted_instance_refuses(db, bike, write)


# -- wrong-typed writes --------------------------------------------------------------------------


def _assign_wrong_values(bike: Bike) -> None:
    bike.sizes = {"1"}  # type: ignore[arg-type]


def _assign_a_str(bike: Bike) -> None:
    bike.tags = "abc"  # a str is an iterable of str, but not a set of values


# (id, write, field, the wrong value)
WRONG: list[tuple[str, Callable[[Bike], object], str, object]] = [
    ("sadd-int-in-str", lambda b: b.tags.sadd(1), "tags", 1),  # type: ignore[arg-type]
    ("sadd-mixed", lambda b: b.sizes.sadd(1, "2"), "sizes", "2"),  # type: ignore[arg-type]
    ("sadd-bool-in-int", lambda b: b.sizes.sadd(True), "sizes", True),
    ("sadd-none", lambda b: b.tags.sadd(None), "tags", None),  # type: ignore[arg-type]
    ("sadd-str-in-bytes", lambda b: b.chips.sadd("x"), "chips", "x"),  # type: ignore[arg-type]
    ("srem", lambda b: b.sizes.srem("26"), "sizes", "26"),  # type: ignore[arg-type]
    ("assign-values", _assign_wrong_values, "sizes", "1"),
    ("assign-a-str", _assign_a_str, "tags", "abc"),
    ("unique", lambda b: b.plates.sadd(1), "plates", 1),  # type: ignore[arg-type]
    ("unindexed", lambda b: b.extras.sadd(1), "extras", 1),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("write", "name", "value"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_typed_write_raises_before_reaching_redis(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object], name: str, value: object
) -> None:
    bike = Bike(tags={"red"}, sizes={26})
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue) as caught:
        write(bike)
    assert rt.count == 0
    message = str(caught.value)
    assert f"Bike.{name}" in message
    assert repr(value) in message
    assert snapshot(db) == before
