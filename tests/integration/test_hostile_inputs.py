"""Regressions from an adversarial review: each test is an attack that once broke a promise."""

from __future__ import annotations

import enum
from typing import cast
from collections.abc import Callable, Iterator

import pytest

from limpyd_typed import (
    PK,
    CommandError,
    Database,
    Hash,
    ImplementationError,
    InstanceHash,
    InvalidValue,
    Model,
    QueryError,
    Set,
    SortedSet,
    String,
    UniquenessError,
    field,
)

NS = "hostile"


class Team(Model[str], namespace=NS):
    slug: PK[str]
    name: InstanceHash[str] = field(unique=True)


class Player(Model, namespace=NS):
    name: InstanceHash[str] = field(indexable=True, default="p")
    level: InstanceHash[int] = field(default=0)
    ratio: String[float] = field(default=1.0)
    scores: SortedSet[str] = field(indexable=True, default={})
    tags: Set[str] = field(indexable=True, default=())
    meta: Hash[str] = field(indexable=True, default={})
    hidden: String[int] = field(default=42, init=False)


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    Team.use_database(db)
    Player.use_database(db)
    yield


def _keys(db: Database) -> set[object]:
    return set(db.connection.keys("*"))


def test_a_unique_value_held_by_the_instance_with_an_empty_pk_is_still_taken(db: Database) -> None:
    Team(slug="", name="x")
    with pytest.raises(UniquenessError, match="already held by Team pk=''"):
        Team(slug="other", name="x")
    assert list(Team.collection(name="x")) == [""]


@pytest.mark.parametrize("score", [float("nan"), 10**400, "1", True])
def test_a_bad_score_is_refused_before_anything_is_written(db: Database, score: object) -> None:
    before = _keys(db)
    make = cast("Callable[..., Player]", Player)  # the scores are wrong on purpose
    with pytest.raises(InvalidValue, match=r"Player\.scores: score of 'a' must be a number"):
        make(scores={"a": score})
    assert _keys(db) == before
    player = Player(scores={"keep": 1.0})
    with pytest.raises(InvalidValue):
        setattr(player, "scores", {"b": score})
    assert player.scores.zrange() == ["keep"]
    assert list(Player.collection(scores="keep")) == [player.pk_value]


def test_assigning_thousands_of_values_replaces_them_all_with_their_index(db: Database) -> None:
    player = Player(tags={"keep"})
    player.tags = {f"t{i}" for i in range(8000)}  # beyond Lua's unpack limit: sent in chunks
    assert player.tags.scard() == 8000
    assert list(Player.collection(tags="keep")) == []
    assert list(Player.collection(tags="t7999")) == [player.pk_value]
    assert db.connection.zcard(Player._keys.index("tags")) == 8000
    assert player.tags.sadd(*[f"u{i}" for i in range(5000)]) == 5000  # counts add up across chunks


def test_comparing_a_hash_field_without_a_sub_key_is_refused(db: Database) -> None:
    Player(meta={"from": "alice"})
    with pytest.raises(QueryError, match=r"Player\.meta is a Hash: filter on one of its keys"):
        Player.collection(Player.meta == {"from": "alice"})  # type: ignore[call-overload]
    assert len(Player.collection(meta__from="alice")) == 1


def test_a_long_indexed_value_is_found(db: Database) -> None:
    # Reading the pk out of an index member once scanned the whole value, quadratically.
    long_name = "x" * 100_000
    player = Player(name=long_name)
    assert list(Player.collection(name=long_name)) == [player.pk_value]
    Team(slug="a", name=long_name)
    with pytest.raises(UniquenessError):
        Team(slug="b", name=long_name)


def test_ints_beyond_a_double_sort_exactly(db: Database) -> None:
    big = Player(level=2**53 + 1)
    small = Player(level=2**53)
    huge = Player(level=10**40)
    negative = Player(level=-(10**40))
    expected = [negative.pk_value, small.pk_value, big.pk_value, huge.pk_value]
    assert list(Player.collection().sort(by="level")) == expected
    assert list(Player.collection().sort(by="-level")) == expected[::-1]


def test_incrbyfloat_beyond_a_double_is_undone(db: Database) -> None:
    player = Player(ratio=1e308)
    with pytest.raises(CommandError, match=r"Player\.ratio: the result .* beyond a float's range; nothing was written"):
        player.ratio.incrbyfloat(1e308)
    assert player.ratio.get() == 1e308


def test_increments_out_of_the_64_bit_range_are_refused_before_redis(db: Database) -> None:
    player = Player()
    with pytest.raises(InvalidValue, match=r"Player\.level\.hincrby: amount must be a signed 64-bit int"):
        player.level.hincrby(2**64)
    player.level.hset(2**63 - 1)
    with pytest.raises(CommandError, match=r"Player\.level: Redis refused HINCRBY: .*overflow"):
        player.level.hincrby(1)
    assert player.level.get() == 2**63 - 1


def test_an_error_about_a_huge_int_still_names_model_and_field(db: Database) -> None:
    player = Player()
    with pytest.raises(InvalidValue, match=r"Player\.name: invalid value <int too large to show>"):
        player.name.hset(10**5000)  # type: ignore[arg-type]


def test_lone_surrogates_in_hash_sub_keys_are_invalid_values(db: Database) -> None:
    player = Player()
    with pytest.raises(InvalidValue, match="lone surrogate"):
        player.meta.hset("\ud800", "v")
    with pytest.raises(InvalidValue, match="lone surrogate"):
        Player.collection(manager=None, **{"meta__\ud800": "v"})


class Perm(enum.Flag):
    R = 1
    W = 2


def test_flag_enums_are_refused_at_declaration() -> None:
    # A combined member (R|W) has no name to store.
    with pytest.raises(ImplementationError, match="Perm is a Flag"):

        class Holder(Model, namespace=NS):
            perm: InstanceHash[Perm]


@pytest.mark.parametrize("bad", [slice(0.5, 3), slice("a", "b"), slice(True, None), slice(None, None, 1.0)])
def test_non_int_slices_raise_type_error(db: Database, bad: slice) -> None:
    Player()
    with pytest.raises(TypeError, match="slice indices must be integers or None"):
        Player.collection()[bad]


def test_a_field_out_of_the_constructor_still_gets_its_default(db: Database) -> None:
    assert Player().hidden.get() == 42


def test_a_positional_argument_says_how_to_read_an_instance(db: Database) -> None:
    with pytest.raises(TypeError, match=r"Player\(\) takes field values as keywords; to read an instance use Player\.get\(1\)"):
        make = cast("Callable[..., Player]", Player)
        make(1)


def test_a_field_named_manager_is_refused_at_declaration() -> None:
    with pytest.raises(ImplementationError, match="manager: this name is taken"):

        class Boss(Model, namespace=NS):
            manager: InstanceHash[str]


def test_an_unicode_digit_is_not_an_autopk(db: Database) -> None:
    with pytest.raises(InvalidValue):
        get = cast("Callable[[object], Player]", Player.get)
        get("²")


def _calls(db: Database, command: str) -> int:
    stats = db.connection.info("commandstats")
    entry = stats.get(f"cmdstat_{command}", {"calls": 0})
    return int(entry["calls"])


def test_writes_naming_their_members_do_not_read_the_whole_field(db: Database) -> None:
    # The index is kept exact by reading only the members a write names, so a write on a field of
    # 20,000 members costs what the write costs, not what the field holds.
    player = Player(tags={f"t{i}" for i in range(2000)}, meta={f"k{i}": "v" for i in range(2000)},
                    scores={f"s{i}": float(i) for i in range(2000)})
    before = {cmd: _calls(db, cmd) for cmd in ("smembers", "hgetall", "zrange")}
    player.tags.sadd("new")
    player.tags.srem("t1")
    player.meta.hset("k1", "w")
    player.meta.hdel("k2")
    player.scores.zadd({"s1": 5.0, "new": 1.0})
    player.scores.zincrby("s3", 1.0)
    player.scores.zrem("s4")
    assert {cmd: _calls(db, cmd) for cmd in before} == before
    assert list(Player.collection(tags="new")) == [player.pk_value]
    assert list(Player.collection(tags="t1")) == []
    assert list(Player.collection(meta__k1="w")) == [player.pk_value]
    assert list(Player.collection(meta__k2="v")) == []
    assert list(Player.collection(scores="s4")) == []
    assert list(Player.collection(scores="new")) == [player.pk_value]
