"""String fields against a real server: every command, the data it leaves, the index it keeps.

Each write is checked for its reply, the raw bytes in Redis, the exact index afterwards and the
round trips it costs (one script). Unique fields refuse a value held by another instance and
leave every key as it was; wrong-typed values never reach Redis; a deleted instance is not
resurrected by a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from limpyd_typed import (
    Database,
    DoesNotExist,
    InvalidValue,
    Model,
    QueryError,
    String,
    UniquenessError,
    field,
    replies,
)
from tests.conftest import RoundTrips
from tests.integration.support import assert_deleted_instance_refuses, FieldKeys, entries, one_trip, pkb, snapshot, warm_scripts

NS = "itstring"


class Bike(Model, namespace=NS):
    name: String[str] = field(indexable=True)
    color: String[str | None] = field(indexable=True, default=None)
    wheels: String[int] = field(indexable=True, default=2)
    price: String[float] = field(indexable=True, default=0.0)
    chip: String[bytes | None] = field(indexable=True, default=None)
    note: String[str | None] = field(default=None)  # not indexed


class Racer(Model, namespace=NS):
    name: String[str] = field(unique=True)
    code: String[str | None] = field(unique=True, default=None)
    serial: String[int | None] = field(unique=True, default=None)
    ratio: String[float | None] = field(unique=True, default=None)
    chip: String[bytes | None] = field(unique=True, default=None)


# -- helpers (raw Redis reads, built independently of the library's key and index code) --------


def data_key(model: type[Model[int]], name: str, instance: Model[int]) -> str:
    return FieldKeys(NS, model.__name__).data_key(name, instance)


def raw(db: Database, model: type[Model[int]], name: str, instance: Model[int]) -> bytes | None:
    return replies.optional_bytes(db.execute("GET", data_key(model, name, instance)))


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
        Bike(name="first", color="red", wheels=2, price=1.5, chip=b"\x0f"),
        Bike(name="second", color="blue", wheels=2, price=9.25),
    )


# -- reads ---------------------------------------------------------------------------------------


def test_get_decodes_each_type_and_none(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.name.get() == "first"
    assert one.color.get() == "red"
    wheels = one.wheels.get()
    assert wheels == 2 and type(wheels) is int
    price = one.price.get()
    assert price == 1.5 and type(price) is float
    assert one.chip.get() == b"\x0f"
    assert two.chip.get() is None
    assert one.note.get() is None
    assert snapshot(db) == before
    assert raw(db, Bike, "wheels", one) == b"2"
    assert raw(db, Bike, "price", one) == b"1.5"
    assert raw(db, Bike, "note", one) is None


def test_strlen_and_getrange_count_bytes(db: Database) -> None:
    bike = Bike(name="héllo")
    before = snapshot(db)
    assert bike.name.strlen() == 6  # é is two bytes
    assert bike.name.getrange(0, 2) == "hé".encode()
    assert bike.name.getrange(-2, -1) == b"lo"
    assert bike.note.strlen() == 0
    assert bike.note.getrange(0, 10) == b""
    assert bike.wheels.strlen() == 1
    assert snapshot(db) == before


def test_getbit_and_bitcount(db: Database) -> None:
    bike = Bike(name="x", chip=b"\x80\x03")
    before = snapshot(db)
    assert [bike.chip.getbit(i) for i in (0, 1, 7, 14, 15, 99)] == [1, 0, 0, 1, 1, 0]
    assert bike.chip.bitcount() == 3
    assert bike.chip.bitcount(1, 1) == 2
    assert bike.chip.bitcount(0, 0) == 1
    assert bike.color.getbit(0) == 0
    assert bike.color.bitcount() == 0
    assert snapshot(db) == before


# -- writes: reply, data, index, one round trip --------------------------------------------------


def test_set(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.name.set("renamed")) is True
    assert one.name.get() == "renamed"
    assert raw(db, Bike, "name", one) == b"renamed"
    assert index(db, Bike, "name") == entries((b"renamed", one), (b"second", two))
    assert list(Bike.collection(name="renamed")) == [one.pk_value]
    assert list(Bike.collection(name="first")) == []

    assert one_trip(round_trips, lambda: one.wheels.set(3)) is True
    assert raw(db, Bike, "wheels", one) == b"3"
    assert index(db, Bike, "wheels") == entries((b"3", one), (b"2", two))

    assert one_trip(round_trips, lambda: one.price.set(0.1)) is True
    assert raw(db, Bike, "price", one) == b"0.1"
    assert index(db, Bike, "price") == entries((b"0.10000000000000001", one), (b"9.25", two))  # floats are indexed by their "%.17g" text

    assert one_trip(round_trips, lambda: two.chip.set(b"\x00\xff")) is True
    assert raw(db, Bike, "chip", two) == b"\x00\xff"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"\x00\xff", two))

    # the same value again: the index does not change, nor gets a duplicate
    assert one_trip(round_trips, lambda: one.wheels.set(3)) is True
    assert index(db, Bike, "wheels") == entries((b"3", one), (b"2", two))


def test_set_on_an_unindexed_field_leaves_indexes_alone(db: Database, round_trips: RoundTrips,
                                                        pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    indexes_before = {name: index(db, Bike, name) for name in ("name", "color", "wheels", "price", "chip")}
    assert one_trip(round_trips, lambda: one.note.set("a note")) is True
    assert raw(db, Bike, "note", one) == b"a note"
    assert index(db, Bike, "note") == set()
    assert {name: index(db, Bike, name) for name in indexes_before} == indexes_before


def test_setnx(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.chip.setnx(b"new")) is True
    assert raw(db, Bike, "chip", two) == b"new"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"new", two))

    assert one_trip(round_trips, lambda: two.chip.setnx(b"other")) is False
    assert raw(db, Bike, "chip", two) == b"new"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"new", two))


def test_getset(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.color.getset("green")) == "red"
    assert raw(db, Bike, "color", one) == b"green"
    assert index(db, Bike, "color") == entries((b"green", one), (b"blue", two))

    assert one_trip(round_trips, lambda: one.wheels.getset(7)) == 2
    assert raw(db, Bike, "wheels", one) == b"7"
    assert index(db, Bike, "wheels") == entries((b"7", one), (b"2", two))

    one.color.delete()
    assert one_trip(round_trips, lambda: one.color.getset("white")) is None
    assert raw(db, Bike, "color", one) == b"white"
    assert index(db, Bike, "color") == entries((b"white", one), (b"blue", two))


def test_append(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.name.append("-ly")) == len("first-ly")
    assert raw(db, Bike, "name", one) == b"first-ly"
    assert one.name.get() == "first-ly"
    assert index(db, Bike, "name") == entries((b"first-ly", one), (b"second", two))
    assert list(Bike.collection(name="first-ly")) == [one.pk_value]

    # on a missing value: creates it
    assert one_trip(round_trips, lambda: two.chip.append(b"\x00ab")) == 3
    assert raw(db, Bike, "chip", two) == b"\x00ab"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"\x00ab", two))


def test_setrange(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    one.chip.set(b"first")
    two.chip.set(b"second")
    assert one_trip(round_trips, lambda: one.chip.setrange(1, b"IR")) == 5
    assert raw(db, Bike, "chip", one) == b"fIRst"
    assert index(db, Bike, "chip") == entries((b"fIRst", one), (b"second", two))

    # past the end: Redis pads with NUL bytes, which the index escapes
    assert one_trip(round_trips, lambda: two.chip.setrange(8, b"!")) == 9
    assert raw(db, Bike, "chip", two) == b"second\x00\x00!"
    assert index(db, Bike, "chip") == entries((b"fIRst", one), (b"second\x00\x00!", two))
    assert list(Bike.collection(chip=b"second\x00\x00!")) == [two.pk_value]


def test_setrange_on_text_is_refused_before_any_write(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    # Overwriting bytes of UTF-8 text could cut a character in two and make the value unreadable.
    one, _ = pair
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue, match=r"Bike\.name holds str: setrange\(\) needs a bytes field"):
        one.name.setrange(1, "IR")  # type: ignore[misc, arg-type]
    assert rt.count == 0
    assert snapshot(db) == before


def test_incr_and_decr(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.wheels.incr()) == 3
    assert one_trip(round_trips, lambda: one.wheels.incr(5)) == 8
    assert raw(db, Bike, "wheels", one) == b"8"
    assert index(db, Bike, "wheels") == entries((b"8", one), (b"2", two))
    assert list(Bike.collection(wheels=8)) == [one.pk_value]

    assert one_trip(round_trips, lambda: one.wheels.decr()) == 7
    assert one_trip(round_trips, lambda: one.wheels.decr(10)) == -3
    assert raw(db, Bike, "wheels", one) == b"-3"
    assert one.wheels.get() == -3
    assert index(db, Bike, "wheels") == entries((b"-3", one), (b"2", two))
    assert list(Bike.collection(wheels=-3)) == [one.pk_value]
    assert sorted(Bike.collection(wheels=2)) == [two.pk_value]


def test_incrbyfloat(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    new = one_trip(round_trips, lambda: one.price.incrbyfloat(1.25))
    assert new == 2.75 and type(new) is float
    assert raw(db, Bike, "price", one) == b"2.75"
    assert one.price.get() == 2.75
    assert index(db, Bike, "price") == entries((b"2.75", one), (b"9.25", two))
    assert list(Bike.collection(price=2.75)) == [one.pk_value]


def test_incrbyfloat_to_a_whole_number_is_found_by_its_value(db: Database, pair: tuple[Bike, Bike]) -> None:
    """1.5 + 0.5 is 2.0: a filter on 2.0 must find it, as it finds an instance created with 2.0."""
    one, two = pair
    created = Bike(name="third", price=2.0)
    assert one.price.incrbyfloat(0.5) == 2.0
    assert one.price.get() == 2.0
    assert sorted(Bike.collection(price=2.0)) == sorted([one.pk_value, created.pk_value])
    assert sorted(Bike.collection(Bike.price == 2.0)) == sorted([one.pk_value, created.pk_value])
    assert list(Bike.collection(price=9.25)) == [two.pk_value]


def test_setbit(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.chip.setbit(1, 1)) == 0
    assert raw(db, Bike, "chip", two) == b"\x40"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"\x40", two))

    assert one_trip(round_trips, lambda: two.chip.setbit(1, 0)) == 1
    assert raw(db, Bike, "chip", two) == b"\x00"
    assert two.chip.get() == b"\x00"
    assert index(db, Bike, "chip") == entries((b"\x0f", one), (b"\x00", two))
    assert list(Bike.collection(chip=b"\x00")) == [two.pk_value]

    assert one_trip(round_trips, lambda: one.chip.setbit(15, 1)) == 0
    assert raw(db, Bike, "chip", one) == b"\x0f\x01"
    assert index(db, Bike, "chip") == entries((b"\x0f\x01", one), (b"\x00", two))


def test_delete(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.color.delete()) is True
    assert raw(db, Bike, "color", one) is None
    assert one.color.get() is None
    assert index(db, Bike, "color") == entries((b"blue", two))
    assert one_trip(round_trips, lambda: one.color.delete()) is False
    assert index(db, Bike, "color") == entries((b"blue", two))

    # a required field can lose its value too (the key goes, and its index entry)
    assert one_trip(round_trips, lambda: two.wheels.delete()) is True
    assert raw(db, Bike, "wheels", two) is None
    assert index(db, Bike, "wheels") == entries((b"2", one))


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
    assert raw(db, Bike, "name", one) == b"assigned"
    assert index(db, Bike, "name") == entries((b"assigned", one), (b"second", two))
    one_trip(round_trips, assign_wheels)
    assert raw(db, Bike, "wheels", two) == b"12"
    assert index(db, Bike, "wheels") == entries((b"2", one), (b"12", two))
    one_trip(round_trips, clear_color)
    assert raw(db, Bike, "color", one) is None
    assert index(db, Bike, "color") == entries((b"blue", two))


# -- None ----------------------------------------------------------------------------------------


def test_none_is_no_key_and_no_index_entry(db: Database, round_trips: RoundTrips) -> None:
    bike = Bike(name="x")  # color and chip default to None
    assert raw(db, Bike, "color", bike) is None
    assert index(db, Bike, "color") == set()
    assert index(db, Bike, "chip") == set()
    with pytest.raises(QueryError):
        Bike.collection(color=None)

    bike.color.set("red")
    assert index(db, Bike, "color") == entries((b"red", bike))
    assert one_trip(round_trips, lambda: bike.color.set(None)) is True
    assert raw(db, Bike, "color", bike) is None
    assert bike.color.get() is None
    assert index(db, Bike, "color") == set()


# -- awkward bytes -------------------------------------------------------------------------------

AWKWARD = [":", "*", "?", "[", "]", "{", "}", "->", "a b", " ", "line\nbreak", "", "\x00", "\x01", "a\x00b",
           "\x01\x01", "\x01\x02", "\x00\x01", "fo", "foo", "foo1", "foo\x00", "é", "x:*?[]{}->y"]
AWKWARD_BYTES = [b"\xff", b"\x80abc", b"\xc3", b"\x00\xff", b"\xfe\x00\x01", b"", b"\x00", b"\x01"]


def test_awkward_str_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(name=value) for value in AWKWARD]
    for value, bike in zip(AWKWARD, bikes):
        assert raw(db, Bike, "name", bike) == value.encode()
        assert bike.name.get() == value
    assert index(db, Bike, "name") == entries(*[(v.encode(), b) for v, b in zip(AWKWARD, bikes)])
    for value, bike in zip(AWKWARD, bikes):
        assert list(Bike.collection(name=value)) == [bike.pk_value], value
        assert list(Bike.collection(Bike.name == value)) == [bike.pk_value], value


def test_awkward_values_written_later_are_found_exactly(db: Database) -> None:
    bikes = [Bike(name="placeholder") for _ in AWKWARD]
    for value, bike in zip(AWKWARD, bikes):
        bike.name.set(value)
    assert index(db, Bike, "name") == entries(*[(v.encode(), b) for v, b in zip(AWKWARD, bikes)])
    for value, bike in zip(AWKWARD, bikes):
        assert list(Bike.collection(name=value)) == [bike.pk_value], value
    assert list(Bike.collection(name="placeholder")) == []


def test_awkward_bytes_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(name="b", chip=value) for value in AWKWARD_BYTES]
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert raw(db, Bike, "chip", bike) == value
        assert bike.chip.get() == value
    assert index(db, Bike, "chip") == entries(*[(v, b) for v, b in zip(AWKWARD_BYTES, bikes)])
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert list(Bike.collection(chip=value)) == [bike.pk_value], value


# -- uniqueness ----------------------------------------------------------------------------------


def _assign_name(racer: Racer) -> None:
    racer.name = "alice"


# (id, write on the second racer, field, the clashing value as the error shows it)
UNIQUE_CLASHES: list[tuple[str, Callable[[Racer], object], str, object]] = [
    ("set", lambda r: r.name.set("alice"), "name", "alice"),
    ("assign", _assign_name, "name", "alice"),
    ("setnx", lambda r: r.code.setnx("A1"), "code", "A1"),
    ("getset", lambda r: r.name.getset("alice"), "name", "alice"),
    ("append", lambda r: r.name.append("ce"), "name", "alice"),
    ("setrange", lambda r: r.chip.setrange(0, b"A"), "chip", b"A"),
    ("incr", lambda r: r.serial.incr(), "serial", 5),
    ("decr", lambda r: r.serial.decr(-1), "serial", 5),
    ("incrbyfloat", lambda r: r.ratio.incrbyfloat(1.0), "ratio", 2.5),
    ("setbit", lambda r: r.chip.setbit(7, 1), "chip", b"A"),
]


@pytest.mark.parametrize(("write", "name", "shown"), [c[1:] for c in UNIQUE_CLASHES], ids=[c[0] for c in UNIQUE_CLASHES])
def test_unique_clash_is_refused_and_changes_nothing(
    db: Database, round_trips: RoundTrips, write: Callable[[Racer], object], name: str, shown: object
) -> None:
    Racer(name="alice", code="A1", serial=5, ratio=2.5, chip=b"A")
    second = Racer(name="ali", serial=4, ratio=1.5, chip=b"@")
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
    assert one_trip(round_trips, lambda: second.name.set("bob")) is True  # its own value
    assert one_trip(round_trips, lambda: second.serial.incr(2)) == 6  # skips first's 5
    assert index(db, Racer, "serial") == entries((b"5", first), (b"6", second))
    first.name.delete()
    assert one_trip(round_trips, lambda: second.name.set("alice")) is True  # freed
    assert index(db, Racer, "name") == entries((b"alice", second))



def test_unique_clash_through_incrbyfloat_to_a_whole_number_is_refused(db: Database) -> None:
    """2.0 held by one racer, 1.0 + 1.0 asked by another: the same float, so a clash."""
    Racer(name="alice", ratio=2.0)
    second = Racer(name="bob", ratio=1.0)
    before = snapshot(db)
    with pytest.raises(UniquenessError):
        second.ratio.incrbyfloat(1.0)
    assert snapshot(db) == before

# -- writes on a deleted instance ----------------------------------------------------------------


def _assign_color(bike: Bike) -> None:
    bike.color = "pink"


WRITES: list[tuple[str, Callable[[Bike], object]]] = [
    ("set", lambda b: b.name.set("y")),
    ("set-none", lambda b: b.color.set(None)),
    ("assign", _assign_color),
    ("setnx", lambda b: b.chip.setnx(b"z")),
    ("getset", lambda b: b.name.getset("y")),
    ("append", lambda b: b.name.append("y")),
    ("setrange", lambda b: b.chip.setrange(0, b"y")),
    ("incr", lambda b: b.wheels.incr()),
    ("decr", lambda b: b.wheels.decr()),
    ("incrbyfloat", lambda b: b.price.incrbyfloat(1.0)),
    ("setbit", lambda b: b.chip.setbit(3, 1)),
    ("delete", lambda b: b.name.delete()),
    ("unindexed-set", lambda b: b.note.set("n")),
]


@pytest.mark.parametrize("write", [w[1] for w in WRITES], ids=[w[0] for w in WRITES])
def test_write_on_a_deleted_instance_raises_and_writes_nothing(db: Database, write: Callable[[Bike], object]) -> None:
    bike = Bike(name="x", color="red")
    Bike(name="other", color="red")
    Bike.get(bike.pk_value).delete()
    assert_deleted_instance_refuses(db, bike, write)


# -- wrong-typed writes --------------------------------------------------------------------------


def _assign_wrong(bike: Bike) -> None:
    bike.wheels = "4"  # type: ignore[assignment]


# (id, write, field, the wrong value)
WRONG: list[tuple[str, Callable[[Bike], object], str, object]] = [
    ("set-str-in-int", lambda b: b.wheels.set("x"), "wheels", "x"),  # type: ignore[arg-type]
    ("set-bool-in-int", lambda b: b.wheels.set(True), "wheels", True),
    ("set-none-in-required", lambda b: b.wheels.set(None), "wheels", None),  # type: ignore[arg-type]
    ("set-int-in-str", lambda b: b.name.set(3), "name", 3),  # type: ignore[arg-type]
    ("set-str-in-bytes", lambda b: b.chip.set("x"), "chip", "x"),  # type: ignore[arg-type]
    ("set-str-in-float", lambda b: b.price.set("1.5"), "price", "1.5"),  # type: ignore[arg-type]
    ("assign", _assign_wrong, "wheels", "4"),
    ("setnx", lambda b: b.wheels.setnx("x"), "wheels", "x"),  # type: ignore[arg-type]
    ("getset", lambda b: b.wheels.getset("x"), "wheels", "x"),  # type: ignore[arg-type]
    ("append-bytes-to-str", lambda b: b.name.append(b"x"), "name", b"x"),  # type: ignore[arg-type]
    ("append-str-to-bytes", lambda b: b.chip.append("x"), "chip", "x"),  # type: ignore[arg-type]
    ("setrange-str-in-bytes", lambda b: b.chip.setrange(0, "x"), "chip", "x"),  # type: ignore[arg-type]
    ("unindexed", lambda b: b.note.set(1), "note", 1),  # type: ignore[arg-type]
    ("incr-by-str", lambda b: b.wheels.incr("2"), "wheels", "2"),  # type: ignore[arg-type]
    ("incr-by-float", lambda b: b.wheels.incr(1.5), "wheels", 1.5),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("write", "name", "value"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_typed_write_raises_before_reaching_redis(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object], name: str, value: object
) -> None:
    bike = Bike(name="x", chip=b"c")
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue) as caught:
        write(bike)
    assert rt.count == 0
    message = str(caught.value)
    assert f"Bike.{name}" in message
    assert repr(value) in message
    assert snapshot(db) == before
