"""InstanceHash fields against a real server: every command on a slot and on the instance hash.

Each write is checked for its reply, the raw slot in the instance hash, the exact index afterwards
and the round trips it costs (one script). Unique slots refuse a value held by another instance
and leave every key as it was; None deletes a slot and is never indexed; wrong-typed values never
reach Redis; a deleted instance is not resurrected by a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from limpyd_typed import (
    Database,
    DoesNotExist,
    InstanceHash,
    InvalidValue,
    Model,
    QueryError,
    UniquenessError,
    field,
    replies,
)
from tests.conftest import RoundTrips
from tests.integration.support import FieldKeys, entries, one_trip, snapshot, warm_scripts

NS = "itihash"


class Bike(Model, namespace=NS):
    name: InstanceHash[str] = field(indexable=True)
    color: InstanceHash[str | None] = field(indexable=True, default=None)
    wheels: InstanceHash[int] = field(indexable=True, default=2)
    weight: InstanceHash[float] = field(indexable=True, default=10.0)
    chip: InstanceHash[bytes | None] = field(indexable=True, default=None)
    note: InstanceHash[str | None] = field(default=None)  # not indexed


class Racer(Model, namespace=NS):
    name: InstanceHash[str] = field(unique=True)
    code: InstanceHash[str | None] = field(unique=True, default=None)
    serial: InstanceHash[int | None] = field(unique=True, default=None)
    ratio: InstanceHash[float | None] = field(unique=True, default=None)
    color: InstanceHash[str | None] = field(indexable=True, default=None)


# -- helpers (raw Redis reads, built independently of the library's key and index code) --------


def hash_key(model: type[Model[int]], instance: Model[int]) -> str:
    return f"lt:{{{NS}:{model.__name__}}}:obj:{instance.pk_value}"


def stored(db: Database, model: type[Model[int]], instance: Model[int]) -> dict[bytes, bytes]:
    """The whole instance hash, raw."""
    return replies.mapping(db.execute("HGETALL", hash_key(model, instance)))


def slot(db: Database, model: type[Model[int]], name: str, instance: Model[int]) -> bytes | None:
    return replies.optional_bytes(db.execute("HGET", hash_key(model, instance), name))


def index(db: Database, model: type[Model[int]], name: str) -> set[bytes]:
    """The members of a field's index (all scores must be 0)."""
    return FieldKeys(NS, model.__name__).index(db, name)


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Bike.use_database(db)
    Racer.use_database(db)
    warm_scripts(db)
    yield


@pytest.fixture
def pair() -> tuple[Bike, Bike]:
    """Two bikes sharing no value but wheels, so every index holds other entries too."""
    return (
        Bike(name="first", color="red", wheels=2, weight=1.5, chip=b"\x0f"),
        Bike(name="second", color="blue", wheels=2, weight=9.25),
    )


# -- reads ---------------------------------------------------------------------------------------


def test_hget_and_get_decode_each_type_and_none(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.name.hget() == "first"
    assert one.name.get() == "first"
    assert one.color.hget() == "red"
    wheels = one.wheels.hget()
    assert wheels == 2 and type(wheels) is int
    weight = one.weight.get()
    assert weight == 1.5 and type(weight) is float
    assert one.chip.hget() == b"\x0f"
    assert two.chip.hget() is None
    assert two.note.get() is None
    assert snapshot(db) == before
    # every value is one slot of one hash; None is no slot
    assert stored(db, Bike, one) == {b"name": b"first", b"color": b"red", b"wheels": b"2", b"weight": b"1.5",
                                     b"chip": b"\x0f"}
    assert stored(db, Bike, two) == {b"name": b"second", b"color": b"blue", b"wheels": b"2", b"weight": b"9.25"}


def test_instance_reads_hmget_hgetall_hkeys_hvals_hlen(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.hmget("name", "wheels", "note", "weight") == ["first", 2, None, 1.5]
    assert one.hmget() == []
    assert two.hgetall() == {"name": "second", "color": "blue", "wheels": 2, "weight": 9.25}
    assert sorted(two.hkeys()) == ["color", "name", "weight", "wheels"]
    assert dict(zip(two.hkeys(), two.hvals())) == two.hgetall()
    assert one.hlen() == 5
    assert two.hlen() == 4
    assert snapshot(db) == before


def test_instance_reads_refuse_names_that_are_not_instance_hash_fields(pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    with pytest.raises(InvalidValue, match="Bike.nope"):
        one.hmget("name", "nope")
    with pytest.raises(InvalidValue, match="Bike.pk"):
        one.hmget("pk")


# -- writes: reply, data, index, one round trip --------------------------------------------------


def test_hset_and_set(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.name.hset("renamed")) == 0  # updated
    assert slot(db, Bike, "name", one) == b"renamed"
    assert index(db, Bike, "name") == entries((b"renamed", one), (b"second", two))
    assert list(Bike.collection(name="renamed")) == [one.pk_value]
    assert list(Bike.collection(name="first")) == []

    assert one_trip(round_trips, lambda: two.chip.hset(b"\x00new")) == 1  # created
    assert slot(db, Bike, "chip", two) == b"\x00new"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"\x00new", two))

    assert one_trip(round_trips, lambda: one.wheels.set(3)) == 0
    assert slot(db, Bike, "wheels", one) == b"3"
    assert index(db, Bike, "wheels") == entries((b"3", one), (b"2", two))

    assert one_trip(round_trips, lambda: two.weight.set(0.1)) == 0
    assert slot(db, Bike, "weight", two) == b"0.1"
    assert index(db, Bike, "weight") == entries((b"1.5", one), (b"0.10000000000000001", two))  # floats index as "%.17g"

    # the other slots are untouched
    assert stored(db, Bike, one) == {b"name": b"renamed", b"color": b"red", b"wheels": b"3", b"weight": b"1.5",
                                     b"chip": b"\x0f"}


def test_hset_of_an_unindexed_slot_leaves_indexes_alone(db: Database, round_trips: RoundTrips,
                                                        pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    names = ("name", "color", "wheels", "weight", "chip")
    indexes_before = {name: index(db, Bike, name) for name in names}
    assert one_trip(round_trips, lambda: one.note.hset("a note")) == 1
    assert slot(db, Bike, "note", one) == b"a note"
    assert index(db, Bike, "note") == set()
    assert {name: index(db, Bike, name) for name in names} == indexes_before


def test_hsetnx(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.chip.hsetnx(b"new")) == 1
    assert slot(db, Bike, "chip", two) == b"new"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"new", two))
    assert one_trip(round_trips, lambda: two.chip.hsetnx(b"other")) == 0
    assert slot(db, Bike, "chip", two) == b"new"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"new", two))


def test_hincrby(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.wheels.hincrby()) == 3
    assert one_trip(round_trips, lambda: one.wheels.hincrby(-10)) == -7
    assert slot(db, Bike, "wheels", one) == b"-7"
    assert one.wheels.hget() == -7
    assert index(db, Bike, "wheels") == entries((b"-7", one), (b"2", two))
    assert list(Bike.collection(wheels=-7)) == [one.pk_value]
    assert list(Bike.collection(wheels=2)) == [two.pk_value]


def test_hincrbyfloat(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    new = one_trip(round_trips, lambda: one.weight.hincrbyfloat(1.25))
    assert new == 2.75 and type(new) is float
    assert slot(db, Bike, "weight", one) == b"2.75"
    assert one.weight.get() == 2.75
    assert index(db, Bike, "weight") == entries((b"2.75", one), (b"9.25", two))
    assert list(Bike.collection(weight=2.75)) == [one.pk_value]


def test_hincrbyfloat_to_a_whole_number_is_found_by_its_value(db: Database, pair: tuple[Bike, Bike]) -> None:
    """1.5 + 0.5 is 2.0: a filter on 2.0 must find it, as it finds an instance created with 2.0."""
    one, _ = pair
    created = Bike(name="third", weight=2.0)
    assert one.weight.hincrbyfloat(0.5) == 2.0
    assert one.weight.get() == 2.0
    assert sorted(Bike.collection(weight=2.0)) == sorted([one.pk_value, created.pk_value])


def test_hdel_and_delete(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.color.hdel()) == 1
    assert slot(db, Bike, "color", one) is None
    assert one.color.hget() is None
    assert index(db, Bike, "color") == entries((b"blue", two))
    assert one_trip(round_trips, lambda: one.color.hdel()) == 0
    assert index(db, Bike, "color") == entries((b"blue", two))

    assert one_trip(round_trips, lambda: two.color.delete()) is True
    assert slot(db, Bike, "color", two) is None
    assert index(db, Bike, "color") == set()
    assert one_trip(round_trips, lambda: two.color.delete()) is False

    # a required field can lose its value too: the slot goes, and its index entry
    assert one_trip(round_trips, lambda: two.wheels.delete()) is True
    assert slot(db, Bike, "wheels", two) is None
    assert index(db, Bike, "wheels") == entries((b"2", one))
    assert stored(db, Bike, two) == {b"name": b"second", b"weight": b"9.25"}


def test_instance_hmset(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.hmset(name="renamed", wheels=4, color=None, note="n")) is True
    assert stored(db, Bike, one) == {b"name": b"renamed", b"wheels": b"4", b"weight": b"1.5", b"chip": b"\x0f",
                                     b"note": b"n"}
    assert index(db, Bike, "name") == entries((b"renamed", one), (b"second", two))
    assert index(db, Bike, "wheels") == entries((b"4", one), (b"2", two))
    assert index(db, Bike, "color") == entries((b"blue", two))
    assert index(db, Bike, "weight") == entries((b"1.5", one), (b"9.25", two))
    assert one_trip(round_trips, lambda: two.hmset(chip=b"\x01", color="blue")) is True
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"\x01", two))
    assert index(db, Bike, "color") == entries((b"blue", two))
    assert one.hmset() is True  # nothing to write


def test_instance_hdel(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.hdel("color", "wheels", "note")) == 2  # note had no value
    assert stored(db, Bike, one) == {b"name": b"first", b"weight": b"1.5", b"chip": b"\x0f"}
    assert index(db, Bike, "color") == entries((b"blue", two))
    assert index(db, Bike, "wheels") == entries((b"2", two))
    assert index(db, Bike, "name") == entries((b"first", one), (b"second", two))
    assert one.hdel() == 0
    with pytest.raises(InvalidValue, match="Bike.nope"):
        one.hdel("name", "nope")
    assert slot(db, Bike, "name", one) == b"first"


def test_assignment_sets_with_index_in_one_round_trip(db: Database, round_trips: RoundTrips,
                                                      pair: tuple[Bike, Bike]) -> None:
    one, two = pair

    def assign_name() -> None:
        one.name = "assigned"

    def assign_wheels() -> None:
        two.wheels = 12

    def clear_color() -> None:
        one.color = None

    one_trip(round_trips, assign_name)
    assert slot(db, Bike, "name", one) == b"assigned"
    assert index(db, Bike, "name") == entries((b"assigned", one), (b"second", two))
    one_trip(round_trips, assign_wheels)
    assert slot(db, Bike, "wheels", two) == b"12"
    assert index(db, Bike, "wheels") == entries((b"2", one), (b"12", two))
    one_trip(round_trips, clear_color)
    assert slot(db, Bike, "color", one) is None
    assert index(db, Bike, "color") == entries((b"blue", two))


# -- None ----------------------------------------------------------------------------------------


def test_none_deletes_the_slot_and_its_index_entry(db: Database, round_trips: RoundTrips) -> None:
    bike = Bike(name="x")  # color defaults to None: no slot, no entry
    assert b"color" not in stored(db, Bike, bike)
    assert index(db, Bike, "color") == set()
    with pytest.raises(QueryError):
        Bike.collection(color=None)

    bike.color.hset("red")
    assert index(db, Bike, "color") == entries((b"red", bike))
    assert one_trip(round_trips, lambda: bike.color.hset(None)) == 0
    assert b"color" not in stored(db, Bike, bike)
    assert bike.color.hget() is None
    assert index(db, Bike, "color") == set()

    bike.color.set("red")
    assert one_trip(round_trips, lambda: bike.color.set(None)) == 0
    assert index(db, Bike, "color") == set()

    bike.color.set("red")
    assert one_trip(round_trips, lambda: bike.hmset(color=None, name="y")) is True
    assert stored(db, Bike, bike) == {b"name": b"y", b"wheels": b"2", b"weight": b"10.0"}
    assert index(db, Bike, "color") == set()


# -- awkward bytes -------------------------------------------------------------------------------

AWKWARD = [":", "*", "?", "[", "]", "{", "}", "->", "a b", " ", "line\nbreak", "", "\x00", "\x01", "a\x00b",
           "\x01\x01", "\x01\x02", "\x00\x01", "fo", "foo", "foo1", "foo\x00", "é", "x:*?[]{}->y"]
AWKWARD_BYTES = [b"\xff", b"\x80abc", b"\xc3", b"\x00\xff", b"\xfe\x00\x01", b"", b"\x00", b"\x01"]


def test_awkward_str_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(name=value) for value in AWKWARD]
    for value, bike in zip(AWKWARD, bikes):
        assert slot(db, Bike, "name", bike) == value.encode()
        assert bike.name.hget() == value
    assert index(db, Bike, "name") == entries(*[(v.encode(), b) for v, b in zip(AWKWARD, bikes)])
    for value, bike in zip(AWKWARD, bikes):
        assert list(Bike.collection(name=value)) == [bike.pk_value], value
        assert list(Bike.collection(Bike.name == value)) == [bike.pk_value], value


def test_awkward_values_written_later_are_found_exactly(db: Database) -> None:
    bikes = [Bike(name="placeholder") for _ in AWKWARD]
    for value, bike in zip(AWKWARD, bikes):
        bike.hmset(name=value)
    assert index(db, Bike, "name") == entries(*[(v.encode(), b) for v, b in zip(AWKWARD, bikes)])
    for value, bike in zip(AWKWARD, bikes):
        assert list(Bike.collection(name=value)) == [bike.pk_value], value
    assert list(Bike.collection(name="placeholder")) == []


def test_awkward_bytes_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(name="b") for _ in AWKWARD_BYTES]
    for value, bike in zip(AWKWARD_BYTES, bikes):
        bike.chip.hset(value)
        assert slot(db, Bike, "chip", bike) == value
        assert bike.chip.hget() == value
    assert index(db, Bike, "chip") == entries(*[(v, b) for v, b in zip(AWKWARD_BYTES, bikes)])
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert list(Bike.collection(chip=value)) == [bike.pk_value], value


# -- uniqueness ----------------------------------------------------------------------------------


def _assign_name(racer: Racer) -> None:
    racer.name = "alice"


# (id, write on the second racer, field, the clashing value as the error shows it)
UNIQUE_CLASHES: list[tuple[str, Callable[[Racer], object], str, object]] = [
    ("hset", lambda r: r.name.hset("alice"), "name", "alice"),
    ("set", lambda r: r.name.set("alice"), "name", "alice"),
    ("assign", _assign_name, "name", "alice"),
    ("hsetnx", lambda r: r.code.hsetnx("A1"), "code", "A1"),
    ("hincrby", lambda r: r.serial.hincrby(), "serial", 5),
    ("hincrby-negative", lambda r: r.serial.hincrby(-3), "serial", 1),
    ("hincrbyfloat", lambda r: r.ratio.hincrbyfloat(1.0), "ratio", 2.5),
    ("hmset", lambda r: r.hmset(color="green", name="alice", serial=9), "name", "alice"),
    ("hmset-second-field", lambda r: r.hmset(code="B", serial=5), "serial", 5),
]


@pytest.mark.parametrize(("write", "name", "shown"), [c[1:] for c in UNIQUE_CLASHES], ids=[c[0] for c in UNIQUE_CLASHES])
def test_unique_clash_is_refused_and_changes_nothing(
    db: Database, round_trips: RoundTrips, write: Callable[[Racer], object], name: str, shown: object
) -> None:
    Racer(name="alice", code="A1", serial=5, ratio=2.5)
    Racer(name="carol", serial=1)
    second = Racer(name="ali", serial=4, ratio=1.5, color="red")
    before = snapshot(db)
    with round_trips as rt, pytest.raises(UniquenessError) as caught:
        write(second)
    assert rt.count == 1
    message = str(caught.value)
    assert f"Racer.{name}" in message
    assert repr(shown) in message
    assert snapshot(db) == before


def test_unique_write_of_a_free_value_or_of_its_own_value_passes(db: Database, round_trips: RoundTrips) -> None:
    first = Racer(name="alice", serial=5)
    second = Racer(name="bob", serial=4)
    assert one_trip(round_trips, lambda: second.name.hset("bob")) == 0  # its own value
    assert one_trip(round_trips, lambda: second.serial.hincrby(2)) == 6
    assert one_trip(round_trips, lambda: second.hmset(name="bob", serial=7)) is True
    assert index(db, Racer, "serial") == entries((b"5", first), (b"7", second))
    first.name.hdel()
    assert one_trip(round_trips, lambda: second.name.hset("alice")) == 0  # freed
    assert index(db, Racer, "name") == entries((b"alice", second))


def test_unique_clash_through_hincrbyfloat_to_a_whole_number_is_refused(db: Database) -> None:
    """2.0 held by one racer, 1.0 + 1.0 asked by another: the same float, so a clash."""
    Racer(name="alice", ratio=2.0)
    second = Racer(name="bob", ratio=1.0)
    before = snapshot(db)
    with pytest.raises(UniquenessError):
        second.ratio.hincrbyfloat(1.0)
    assert snapshot(db) == before


# -- writes on a deleted instance ----------------------------------------------------------------


def _assign_color(bike: Bike) -> None:
    bike.color = "pink"


WRITES: list[tuple[str, Callable[[Bike], object]]] = [
    ("hset", lambda b: b.name.hset("y")),
    ("set", lambda b: b.name.set("y")),
    ("hset-none", lambda b: b.color.hset(None)),
    ("assign", _assign_color),
    ("hsetnx", lambda b: b.chip.hsetnx(b"z")),
    ("hincrby", lambda b: b.wheels.hincrby()),
    ("hincrbyfloat", lambda b: b.weight.hincrbyfloat(1.0)),
    ("hdel", lambda b: b.name.hdel()),
    ("delete", lambda b: b.name.delete()),
    ("unindexed-hset", lambda b: b.note.hset("n")),
    ("instance-hmset", lambda b: b.hmset(name="y", note="n")),
    ("instance-hdel", lambda b: b.hdel("name", "color")),
]


@pytest.mark.parametrize("write", [w[1] for w in WRITES], ids=[w[0] for w in WRITES])
def test_write_on_a_deleted_instance_raises_and_writes_nothing(db: Database, write: Callable[[Bike], object]) -> None:
    bike = Bike(name="x", color="red")
    Bike(name="other", color="red")
    Bike.get(bike.pk_value).delete()
    before = snapshot(db)
    assert hash_key(Bike, bike).encode() not in before
    with pytest.raises(DoesNotExist) as caught:
        write(bike)
    assert "Bike" in str(caught.value)
    assert snapshot(db) == before


# -- wrong-typed writes --------------------------------------------------------------------------


def _assign_wrong(bike: Bike) -> None:
    bike.wheels = "4"  # type: ignore[assignment]


# (id, write, field, the wrong value)
WRONG: list[tuple[str, Callable[[Bike], object], str, object]] = [
    ("hset-str-in-int", lambda b: b.wheels.hset("x"), "wheels", "x"),  # type: ignore[arg-type]
    ("set-str-in-int", lambda b: b.wheels.set("x"), "wheels", "x"),  # type: ignore[arg-type]
    ("hset-bool-in-int", lambda b: b.wheels.hset(True), "wheels", True),
    ("hset-none-in-required", lambda b: b.wheels.hset(None), "wheels", None),  # type: ignore[arg-type]
    ("hset-int-in-str", lambda b: b.name.hset(3), "name", 3),  # type: ignore[arg-type]
    ("hset-str-in-bytes", lambda b: b.chip.hset("x"), "chip", "x"),  # type: ignore[arg-type]
    ("hset-str-in-float", lambda b: b.weight.hset("1.5"), "weight", "1.5"),  # type: ignore[arg-type]
    ("assign", _assign_wrong, "wheels", "4"),
    ("hsetnx", lambda b: b.wheels.hsetnx("x"), "wheels", "x"),  # type: ignore[arg-type]
    ("unindexed", lambda b: b.note.hset(1), "note", 1),  # type: ignore[arg-type]
    ("hmset", lambda b: b.hmset(name="fine", wheels="x"), "wheels", "x"),
    ("hmset-none-in-required", lambda b: b.hmset(color=None, name=None), "name", None),
    ("hincrby-by-str", lambda b: b.wheels.hincrby("2"), "wheels", "2"),  # type: ignore[arg-type]
    ("hincrby-by-float", lambda b: b.wheels.hincrby(1.5), "wheels", 1.5),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("write", "name", "value"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_typed_write_raises_before_reaching_redis(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object], name: str, value: object
) -> None:
    bike = Bike(name="x", color="red", chip=b"c")
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue) as caught:
        write(bike)
    assert rt.count == 0
    message = str(caught.value)
    assert f"Bike.{name}" in message
    assert repr(value) in message
    assert snapshot(db) == before


def test_instance_hmset_of_a_name_that_is_not_an_instance_hash_field_writes_nothing(
    db: Database, round_trips: RoundTrips
) -> None:
    bike = Bike(name="x")
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue, match="Bike.nope"):
        bike.hmset(name="y", nope=1)
    assert rt.count == 0
    assert snapshot(db) == before
