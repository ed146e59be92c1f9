"""SortedSet fields against a real server: every command, the sorted set it leaves, the index it keeps.

Each member of a SortedSet is one index entry (its score is not indexed). Each write is checked
for its reply, the raw sorted set in Redis, the exact index afterwards and the round trips it costs
(one script). A unique SortedSet refuses a member held by another instance and leaves every key as
it was; wrong-typed members and scores never reach Redis; a deleted instance is not resurrected by
a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from limpyd_typed import (
    Database,
    DoesNotExist,
    InvalidValue,
    Model,
    SortedSet,
    UniquenessError,
    field,
    replies,
)
from tests.conftest import RoundTrips
from tests.integration.support import assert_deleted_instance_refuses, FieldKeys, entries, entries_of, one_trip, pkb, snapshot, warm_scripts

NS = "itzset"


class Bike(Model, namespace=NS):
    ranks: SortedSet[str] = field(indexable=True, default={})
    sizes: SortedSet[int] = field(indexable=True, default={})
    chips: SortedSet[bytes] = field(indexable=True, default={})
    plates: SortedSet[str] = field(unique=True, default={})
    extras: SortedSet[str] = field(default={})  # not indexed


# -- helpers (raw Redis reads, built independently of the library's key and index code) --------


_keys = FieldKeys(NS, "Bike")
data_key, key_exists, index = _keys.data_key, _keys.key_exists, _keys.index


def stored(db: Database, name: str, instance: Model[int]) -> list[tuple[bytes, float]]:
    """The raw members of a field's sorted set with their scores, by score (empty when no key)."""
    return replies.scored(db.execute("ZRANGE", data_key(name, instance), 0, -1, "WITHSCORES"))


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Bike.use_database(db)
    warm_scripts(db)
    yield


@pytest.fixture
def pair() -> tuple[Bike, Bike]:
    """Two bikes sharing a member, so every index holds other entries too."""
    return (
        Bike(ranks={"low": -1.0, "mid": 2.5, "high": 10.0, "top": 11.0}, sizes={26: 1.0, 28: 2.0},
             chips={b"\x00": 1.0}),
        Bike(ranks={"mid": 3.0, "other": 0.0}, sizes={20: 5.0}),
    )


ONE_RANKS = [b"low", b"mid", b"high", b"top"]


def other_ranks(two: Bike) -> set[bytes]:
    return entries((b"mid", two), (b"other", two))


# -- reads ---------------------------------------------------------------------------------------


def test_reads(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.ranks.zcard() == 4
    assert two.extras.zcard() == 0
    assert one.ranks.zcount(0, 10) == 2
    assert one.ranks.zcount("-inf", "+inf") == 4
    assert one.ranks.zcount("(2.5", 11) == 2
    assert one.ranks.zscore("mid") == 2.5
    assert one.ranks.zscore("absent") is None
    assert one.ranks.zrank("low") == 0
    assert one.ranks.zrank("top") == 3
    assert one.ranks.zrevrank("low") == 3
    assert one.ranks.zrank("absent") is None and one.ranks.zrevrank("absent") is None
    assert one.ranks.zrange() == ["low", "mid", "high", "top"]
    assert one.ranks.zrange(1, 2) == ["mid", "high"]
    assert one.ranks.zrange(0, 1, withscores=True) == [("low", -1.0), ("mid", 2.5)]
    assert one.ranks.zrevrange() == ["top", "high", "mid", "low"]
    assert one.ranks.zrevrange(0, 0, withscores=True) == [("top", 11.0)]
    assert one.ranks.zrangebyscore(0, 10) == ["mid", "high"]
    assert one.ranks.zrangebyscore("-inf", "+inf", 1, 2) == ["mid", "high"]
    assert one.ranks.zrangebyscore("(2.5", "+inf", withscores=True) == [("high", 10.0), ("top", 11.0)]
    assert one.ranks.zrevrangebyscore(10, 0) == ["high", "mid"]
    assert one.ranks.zrevrangebyscore("+inf", "-inf", 0, 1) == ["top"]
    assert one.ranks.zrevrangebyscore(2.5, "-inf", withscores=True) == [("mid", 2.5), ("low", -1.0)]
    with pytest.raises(ValueError, match="start and num"):
        one.ranks.zrangebyscore(0, 10, 1)
    sizes = one.sizes.zrange(withscores=True)
    assert sizes == [(26, 1.0), (28, 2.0)] and all(type(m) is int for m, _ in sizes)
    assert one.chips.zrange() == [b"\x00"]
    assert two.chips.zrange() == []
    assert snapshot(db) == before
    assert stored(db, "ranks", one) == [(b"low", -1.0), (b"mid", 2.5), (b"high", 10.0), (b"top", 11.0)]
    assert stored(db, "sizes", two) == [(b"20", 5.0)]
    assert not key_exists(db, "chips", two)  # an empty sorted set is no key


def test_created_members_are_indexed_not_scores(db: Database, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert index(db, "ranks") == entries_of(ONE_RANKS, one) | other_ranks(two)
    assert index(db, "sizes") == entries((b"26", one), (b"28", one), (b"20", two))
    assert sorted(Bike.collection(ranks="mid")) == [one.pk_value, two.pk_value]
    assert list(Bike.collection(ranks="top")) == [one.pk_value]
    assert list(Bike.collection(ranks="mid", sizes=20)) == [two.pk_value]


# -- writes: reply, data, index, one round trip --------------------------------------------------


def test_zadd_dict_form(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.ranks.zadd({"new": 1.5, "other": 7.0})) == 1
    assert stored(db, "ranks", two) == [(b"new", 1.5), (b"mid", 3.0), (b"other", 7.0)]
    assert index(db, "ranks") == entries_of(ONE_RANKS, one) | entries_of([b"mid", b"other", b"new"], two)
    assert list(Bike.collection(ranks="new")) == [two.pk_value]
    assert one_trip(round_trips, lambda: two.sizes.zadd({30: 0.5, 20: 5.0})) == 1
    assert stored(db, "sizes", two) == [(b"30", 0.5), (b"20", 5.0)]
    assert index(db, "sizes") == entries((b"26", one), (b"28", one), (b"20", two), (b"30", two))
    assert one_trip(round_trips, lambda: two.chips.zadd({b"\xff\x00": 2})) == 1  # an int score is a number
    assert stored(db, "chips", two) == [(b"\xff\x00", 2.0)]
    assert index(db, "chips") == entries((b"\x00", one), (b"\xff\x00", two))
    before = snapshot(db)
    assert two.ranks.zadd({}) == 0
    assert two.ranks.zadd() == 0
    assert snapshot(db) == before


def test_zadd_keyword_form(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: two.ranks.zadd(new=1.5, other=-2.0)) == 1
    assert stored(db, "ranks", two) == [(b"other", -2.0), (b"new", 1.5), (b"mid", 3.0)]
    assert one_trip(round_trips, lambda: two.ranks.zadd({"a b": 4.0}, last=9.0)) == 2
    assert stored(db, "ranks", two) == [(b"other", -2.0), (b"new", 1.5), (b"mid", 3.0), (b"a b", 4.0),
                                        (b"last", 9.0)]
    assert index(db, "ranks") == entries_of(ONE_RANKS, one) | entries_of(
        [b"mid", b"other", b"new", b"a b", b"last"], two)
    assert list(Bike.collection(ranks="a b")) == [two.pk_value]


def test_zincrby(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    new = one_trip(round_trips, lambda: one.ranks.zincrby("low", 5.5))
    assert new == 4.5 and type(new) is float
    assert stored(db, "ranks", one) == [(b"mid", 2.5), (b"low", 4.5), (b"high", 10.0), (b"top", 11.0)]
    assert index(db, "ranks") == entries_of(ONE_RANKS, one) | other_ranks(two)
    assert one_trip(round_trips, lambda: one.ranks.zincrby("fresh")) == 1.0  # a new member
    assert one.ranks.zscore("fresh") == 1.0
    assert index(db, "ranks") == entries_of([*ONE_RANKS, b"fresh"], one) | other_ranks(two)
    assert list(Bike.collection(ranks="fresh")) == [one.pk_value]


def test_zrem(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.ranks.zrem("mid", "absent", "top")) == 2
    assert stored(db, "ranks", one) == [(b"low", -1.0), (b"high", 10.0)]
    assert index(db, "ranks") == entries((b"low", one), (b"high", one)) | other_ranks(two)
    assert list(Bike.collection(ranks="mid")) == [two.pk_value]
    assert one_trip(round_trips, lambda: two.sizes.zrem(20)) == 1
    assert not key_exists(db, "sizes", two)
    assert index(db, "sizes") == entries((b"26", one), (b"28", one))
    assert one.ranks.zrem() == 0


def test_zremrangebyrank(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.ranks.zremrangebyrank(0, 1)) == 2
    assert stored(db, "ranks", one) == [(b"high", 10.0), (b"top", 11.0)]
    assert index(db, "ranks") == entries((b"high", one), (b"top", one)) | other_ranks(two)
    assert one_trip(round_trips, lambda: one.ranks.zremrangebyrank(-1, -1)) == 1
    assert stored(db, "ranks", one) == [(b"high", 10.0)]
    assert index(db, "ranks") == entries((b"high", one)) | other_ranks(two)
    assert one_trip(round_trips, lambda: one.ranks.zremrangebyrank(5, 9)) == 0


def test_zremrangebyscore(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.ranks.zremrangebyscore(10, "+inf")) == 2
    assert stored(db, "ranks", one) == [(b"low", -1.0), (b"mid", 2.5)]
    assert index(db, "ranks") == entries((b"low", one), (b"mid", one)) | other_ranks(two)
    assert one_trip(round_trips, lambda: one.ranks.zremrangebyscore("-inf", "(2.5")) == 1
    assert stored(db, "ranks", one) == [(b"mid", 2.5)]
    assert index(db, "ranks") == entries((b"mid", one)) | other_ranks(two)
    assert one_trip(round_trips, lambda: one.ranks.zremrangebyscore(0, 5)) == 1
    assert not key_exists(db, "ranks", one)
    assert index(db, "ranks") == other_ranks(two)


def test_delete(db: Database, round_trips: RoundTrips, pair: tuple[Bike, Bike]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.ranks.delete()) is True
    assert not key_exists(db, "ranks", one)
    assert one.ranks.zrange() == []
    assert index(db, "ranks") == other_ranks(two)
    assert one_trip(round_trips, lambda: one.ranks.delete()) is False
    assert stored(db, "sizes", one) == [(b"26", 1.0), (b"28", 2.0)]  # other fields untouched


def test_assignment_replaces_the_whole_sorted_set(db: Database, round_trips: RoundTrips,
                                                  pair: tuple[Bike, Bike]) -> None:
    one, two = pair

    def assign() -> None:
        one.ranks = {"b": 2.0, "a": 1.0, "mid": 0.0}

    def clear() -> None:
        two.ranks = {}

    one_trip(round_trips, assign)
    assert stored(db, "ranks", one) == [(b"mid", 0.0), (b"a", 1.0), (b"b", 2.0)]
    assert index(db, "ranks") == entries((b"a", one), (b"b", one), (b"mid", one)) | other_ranks(two)
    assert list(Bike.collection(ranks="top")) == []
    one_trip(round_trips, clear)
    assert not key_exists(db, "ranks", two)
    assert index(db, "ranks") == entries((b"a", one), (b"b", one), (b"mid", one))


def test_writes_on_an_unindexed_sorted_set_leave_indexes_alone(db: Database, round_trips: RoundTrips,
                                                               pair: tuple[Bike, Bike]) -> None:
    one, _ = pair
    names = ("ranks", "sizes", "chips", "plates")
    before = {name: index(db, name) for name in names}
    assert one_trip(round_trips, lambda: one.extras.zadd({"x": 1.0})) == 1
    assert stored(db, "extras", one) == [(b"x", 1.0)]
    assert index(db, "extras") == set()
    assert {name: index(db, name) for name in names} == before


# -- awkward bytes -------------------------------------------------------------------------------

AWKWARD = [":", "*", "?", "[", "]", "{", "}", "->", "a b", " ", "line\nbreak", "", "\x00", "\x01", "a\x00b",
           "\x01\x01", "\x01\x02", "\x00\x01", "fo", "foo", "foo1", "foo\x00", "é", "x:*?[]{}->y"]
AWKWARD_BYTES = [b"\xff", b"\x80abc", b"\xc3", b"\x00\xff", b"\xfe\x00\x01", b"", b"\x00", b"\x01"]


def test_awkward_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    scores = {value: float(i) for i, value in enumerate(AWKWARD)}
    alone = [Bike(ranks={value: 1.0}) for value in AWKWARD]
    together = Bike(ranks=scores)
    later = Bike()
    later.ranks.zadd(scores)
    encoded = [v.encode() for v in AWKWARD]
    expected_data = [(v, float(i)) for i, v in enumerate(encoded)]
    assert stored(db, "ranks", together) == expected_data
    assert stored(db, "ranks", later) == expected_data
    assert together.ranks.zrange() == AWKWARD
    assert index(db, "ranks") == (entries(*[(v.encode(), b) for v, b in zip(AWKWARD, alone)])
                                  | entries_of(encoded, together) | entries_of(encoded, later))
    for value, bike in zip(AWKWARD, alone):
        assert sorted(Bike.collection(ranks=value)) == [bike.pk_value, together.pk_value, later.pk_value], value


def test_awkward_bytes_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    bikes = [Bike(chips={value: 0.0}) for value in AWKWARD_BYTES]
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert stored(db, "chips", bike) == [(value, 0.0)]
        assert bike.chips.zrange() == [value]
    assert index(db, "chips") == entries(*[(v, b) for v, b in zip(AWKWARD_BYTES, bikes)])
    for value, bike in zip(AWKWARD_BYTES, bikes):
        assert list(Bike.collection(chips=value)) == [bike.pk_value], value


# -- uniqueness ----------------------------------------------------------------------------------


def _assign_held(bike: Bike) -> None:
    bike.plates = {"CD-2": 1.0, "AB-1": 2.0}


UNIQUE_CLASHES: list[tuple[str, Callable[[Bike], object]]] = [
    ("zadd-dict", lambda b: b.plates.zadd({"new": 1.0, "AB-1": 2.0})),
    ("zadd-keyword", lambda b: b.plates.zadd(**{"AB-1": 2.0})),
    ("zincrby", lambda b: b.plates.zincrby("AB-1", 1.0)),
    ("assign", _assign_held),
]


@pytest.mark.parametrize("write", [c[1] for c in UNIQUE_CLASHES], ids=[c[0] for c in UNIQUE_CLASHES])
def test_unique_clash_is_refused_and_changes_nothing(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object]
) -> None:
    Bike(plates={"AB-1": 1.0, "AB-2": 2.0})
    second = Bike(plates={"CD-1": 1.0})
    before = snapshot(db)
    with round_trips as rt, pytest.raises(UniquenessError) as caught:
        write(second)
    assert rt.count == 1
    message = str(caught.value)
    assert "Bike.plates" in message
    assert repr("AB-1") in message
    assert snapshot(db) == before


def test_unique_values_free_or_own_are_accepted(db: Database, round_trips: RoundTrips) -> None:
    first = Bike(plates={"AB-1": 1.0, "AB-2": 2.0})
    second = Bike(plates={"CD-1": 1.0})
    assert one_trip(round_trips, lambda: second.plates.zadd({"CD-1": 5.0})) == 0  # its own member, new score
    assert one_trip(round_trips, lambda: second.plates.zincrby("CD-1", 1.0)) == 6.0
    assert one_trip(round_trips, lambda: first.plates.zrem("AB-1")) == 1
    assert one_trip(round_trips, lambda: second.plates.zadd(**{"AB-1": 0.0})) == 1  # freed
    assert index(db, "plates") == entries((b"AB-2", first), (b"CD-1", second), (b"AB-1", second))
    assert list(Bike.collection(plates="AB-1")) == [second.pk_value]


# -- writes on a deleted instance ----------------------------------------------------------------


def _assign(bike: Bike) -> None:
    bike.ranks = {"y": 1.0}


WRITES: list[tuple[str, Callable[[Bike], object]]] = [
    ("zadd", lambda b: b.ranks.zadd({"y": 1.0})),
    ("zadd-keyword", lambda b: b.ranks.zadd(y=1.0)),
    ("zincrby", lambda b: b.ranks.zincrby("mid")),
    ("zrem", lambda b: b.ranks.zrem("mid")),
    ("zremrangebyrank", lambda b: b.ranks.zremrangebyrank(0, -1)),
    ("zremrangebyscore", lambda b: b.ranks.zremrangebyscore("-inf", "+inf")),
    ("delete", lambda b: b.ranks.delete()),
    ("assign", _assign),
    ("unique-zadd", lambda b: b.plates.zadd(y=1.0)),
    ("unindexed-zadd", lambda b: b.extras.zadd(y=1.0)),
]


@pytest.mark.parametrize("write", [w[1] for w in WRITES], ids=[w[0] for w in WRITES])
def test_write_on_a_deleted_instance_raises_and_writes_nothing(db: Database, write: Callable[[Bike], object]) -> None:
    bike = Bike(ranks={"mid": 1.0})
    Bike(ranks={"mid": 1.0})
    Bike.get(bike.pk_value).delete()
    assert_deleted_instance_refuses(db, bike, write)


# -- wrong-typed writes --------------------------------------------------------------------------


def _assign_wrong_members(bike: Bike) -> None:
    bike.sizes = {"1": 1.0}  # type: ignore[dict-item]


def _assign_not_a_mapping(bike: Bike) -> None:
    bike.ranks = ["a"]  # type: ignore[assignment]


# (id, write, field, the wrong value)
WRONG: list[tuple[str, Callable[[Bike], object], str, object]] = [
    ("zadd-int-member-in-str", lambda b: b.ranks.zadd({1: 1.0}), "ranks", 1),  # type: ignore[dict-item]
    ("zadd-str-member-in-int", lambda b: b.sizes.zadd({26: 1.0, "x": 2.0}), "sizes", "x"),  # type: ignore[dict-item]
    ("zadd-keyword-in-int", lambda b: b.sizes.zadd(x=1.0), "sizes", "x"),
    ("zadd-str-member-in-bytes", lambda b: b.chips.zadd({"x": 1.0}), "chips", "x"),  # type: ignore[dict-item]
    ("zadd-str-score", lambda b: b.ranks.zadd({"a": "1"}), "ranks", "1"),  # type: ignore[dict-item]
    ("zadd-bool-score", lambda b: b.ranks.zadd({"a": True}), "ranks", True),
    ("zadd-none-score", lambda b: b.ranks.zadd(a=None), "ranks", None),  # type: ignore[arg-type]
    ("zincrby-member", lambda b: b.sizes.zincrby("26"), "sizes", "26"),  # type: ignore[arg-type]
    ("zincrby-amount", lambda b: b.ranks.zincrby("mid", "x"), "ranks", "x"),  # type: ignore[arg-type]
    ("zrem", lambda b: b.sizes.zrem("26"), "sizes", "26"),  # type: ignore[arg-type]
    ("assign-members", _assign_wrong_members, "sizes", "1"),
    ("assign-not-a-mapping", _assign_not_a_mapping, "ranks", ["a"]),
    ("unique", lambda b: b.plates.zadd({1: 1.0}), "plates", 1),  # type: ignore[dict-item]
    ("unindexed", lambda b: b.extras.zadd({1: 1.0}), "extras", 1),  # type: ignore[dict-item]
]


@pytest.mark.parametrize(("write", "name", "value"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_typed_write_raises_before_reaching_redis(
    db: Database, round_trips: RoundTrips, write: Callable[[Bike], object], name: str, value: object
) -> None:
    bike = Bike(ranks={"mid": 1.0}, sizes={26: 1.0})
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue) as caught:
        write(bike)
    assert rt.count == 0
    message = str(caught.value)
    assert f"Bike.{name}" in message
    assert repr(value) in message
    assert snapshot(db) == before
