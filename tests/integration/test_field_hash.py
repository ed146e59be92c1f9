"""Hash fields against a real server: every command, the dict it leaves, the index it keeps.

A Hash is indexed by (sub-key, value): ``Email.collection(headers__from="x")``. Each write is
checked for its reply, the raw hash in Redis, the exact index afterwards and the round trips it
costs (one script). Wrong-typed values and sub-keys never reach Redis; a deleted instance is not
resurrected by a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from limpyd_typed import (
    Database,
    DoesNotExist,
    Hash,
    ImplementationError,
    InvalidValue,
    Model,
    QueryError,
    field,
    replies,
)
from tests.conftest import RoundTrips
from tests.integration.support import FieldKeys, esc, one_trip, pkb, snapshot, warm_scripts

NS = "ithash"


class Email(Model, namespace=NS):
    headers: Hash[str] = field(indexable=True, default={})
    counters: Hash[int] = field(indexable=True, default={})
    rates: Hash[float] = field(indexable=True, default={})
    blobs: Hash[bytes] = field(indexable=True, default={})
    notes: Hash[str] = field(default={})  # not indexed


# -- helpers (raw Redis reads, built independently of the library's key and index code) --------


_keys = FieldKeys(NS, "Email")
data_key, key_exists, index = _keys.data_key, _keys.key_exists, _keys.index


def stored(db: Database, name: str, instance: Model[int]) -> dict[bytes, bytes]:
    """The raw hash of a field ({} when the key does not exist)."""
    return replies.mapping(db.execute("HGETALL", data_key(name, instance)))


def entries(*items: tuple[bytes, bytes, Model[int]]) -> set[bytes]:
    """The index members expected for these (sub-key, stored value, instance) items."""
    return {esc(sub) + b"\x00" + esc(value) + b"\x00" + esc(pkb(instance)) for sub, value, instance in items}


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Email.use_database(db)
    warm_scripts(db)
    yield


@pytest.fixture
def pair() -> tuple[Email, Email]:
    """Two emails sharing a sub-key value, so every index holds other entries too."""
    return (
        Email(headers={"from": "a@x", "to": "b@x"}, counters={"seen": 1}, rates={"spam": 0.5},
              blobs={"sig": b"\x00\xff"}),
        Email(headers={"from": "c@x", "to": "b@x"}, counters={"seen": 3}),
    )


# -- reads ---------------------------------------------------------------------------------------


def test_reads(db: Database, pair: tuple[Email, Email]) -> None:
    one, two = pair
    before = snapshot(db)
    assert one.headers.hget("from") == "a@x"
    assert one.headers.hget("cc") is None
    seen = one.counters.hget("seen")
    assert seen == 1 and type(seen) is int
    spam = one.rates.hget("spam")
    assert spam == 0.5 and type(spam) is float
    assert one.blobs.hget("sig") == b"\x00\xff"
    assert one.headers.hgetall() == {"from": "a@x", "to": "b@x"}
    assert two.rates.hgetall() == {}
    assert one.headers.hmget("to", "cc", "from") == ["b@x", None, "a@x"]
    assert one.headers.hmget() == []
    assert sorted(one.headers.hkeys()) == ["from", "to"]
    assert dict(zip(one.headers.hkeys(), one.headers.hvals())) == {"from": "a@x", "to": "b@x"}
    assert two.rates.hkeys() == [] and two.rates.hvals() == []
    assert one.headers.hexists("to") is True
    assert one.headers.hexists("cc") is False
    assert one.headers.hlen() == 2
    assert two.notes.hlen() == 0
    assert snapshot(db) == before
    assert stored(db, "headers", one) == {b"from": b"a@x", b"to": b"b@x"}
    assert stored(db, "counters", two) == {b"seen": b"3"}
    assert stored(db, "rates", one) == {b"spam": b"0.5"}
    assert not key_exists(db, "rates", two)  # an empty dict is no key


def test_index_is_by_sub_key_and_value(db: Database, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert index(db, "headers") == entries((b"from", b"a@x", one), (b"to", b"b@x", one),
                                           (b"from", b"c@x", two), (b"to", b"b@x", two))
    assert list(Email.collection(headers__from="a@x")) == [one.pk_value]
    assert sorted(Email.collection(headers__to="b@x")) == [one.pk_value, two.pk_value]
    assert list(Email.collection(headers__from="b@x")) == []  # a value under another sub-key
    assert list(Email.collection(headers__from="c@x", headers__to="b@x")) == [two.pk_value]
    assert list(Email.collection(counters__seen=3)) == [two.pk_value]
    with pytest.raises(QueryError):
        Email.collection(headers="a@x")


# -- writes: reply, data, index, one round trip --------------------------------------------------


def test_hset(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.headers.hset("from", "z@x")) == 0  # updated
    assert one_trip(round_trips, lambda: one.headers.hset("cc", "d@x")) == 1  # created
    assert stored(db, "headers", one) == {b"from": b"z@x", b"to": b"b@x", b"cc": b"d@x"}
    assert index(db, "headers") == entries((b"from", b"z@x", one), (b"to", b"b@x", one), (b"cc", b"d@x", one),
                                           (b"from", b"c@x", two), (b"to", b"b@x", two))
    assert list(Email.collection(headers__from="z@x")) == [one.pk_value]
    assert list(Email.collection(headers__from="a@x")) == []
    assert list(Email.collection(headers__cc="d@x")) == [one.pk_value]

    assert one_trip(round_trips, lambda: two.rates.hset("spam", 0.25)) == 1
    assert stored(db, "rates", two) == {b"spam": b"0.25"}
    assert index(db, "rates") == entries((b"spam", b"0.5", one), (b"spam", b"0.25", two))


def test_hmset_dict_and_keyword_forms(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.headers.hmset({"from": "z@x", "cc": "d@x"})) is True
    assert stored(db, "headers", one) == {b"from": b"z@x", b"to": b"b@x", b"cc": b"d@x"}
    assert one_trip(round_trips, lambda: two.headers.hmset(to="e@x", subject="hi")) is True
    assert stored(db, "headers", two) == {b"from": b"c@x", b"to": b"e@x", b"subject": b"hi"}
    assert one_trip(round_trips, lambda: two.headers.hmset({"from": "f@x"}, cc="g@x")) is True
    assert stored(db, "headers", two) == {b"from": b"f@x", b"to": b"e@x", b"subject": b"hi", b"cc": b"g@x"}
    assert index(db, "headers") == entries(
        (b"from", b"z@x", one), (b"to", b"b@x", one), (b"cc", b"d@x", one),
        (b"from", b"f@x", two), (b"to", b"e@x", two), (b"subject", b"hi", two), (b"cc", b"g@x", two),
    )
    assert list(Email.collection(headers__subject="hi")) == [two.pk_value]
    before = snapshot(db)
    assert two.headers.hmset() is True  # nothing to write
    assert snapshot(db) == before


def test_hsetnx(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.headers.hsetnx("from", "z@x")) == 0
    assert one_trip(round_trips, lambda: one.headers.hsetnx("cc", "d@x")) == 1
    assert stored(db, "headers", one) == {b"from": b"a@x", b"to": b"b@x", b"cc": b"d@x"}
    assert index(db, "headers") == entries((b"from", b"a@x", one), (b"to", b"b@x", one), (b"cc", b"d@x", one),
                                           (b"from", b"c@x", two), (b"to", b"b@x", two))


def test_hincrby(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.counters.hincrby("seen")) == 2
    assert one_trip(round_trips, lambda: one.counters.hincrby("seen", -7)) == -5
    assert one_trip(round_trips, lambda: one.counters.hincrby("new", 4)) == 4
    assert stored(db, "counters", one) == {b"seen": b"-5", b"new": b"4"}
    assert index(db, "counters") == entries((b"seen", b"-5", one), (b"new", b"4", one), (b"seen", b"3", two))
    assert list(Email.collection(counters__seen=-5)) == [one.pk_value]


def test_hincrbyfloat(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    new = one_trip(round_trips, lambda: one.rates.hincrbyfloat("spam", 0.25))
    assert new == 0.75 and type(new) is float
    assert stored(db, "rates", one) == {b"spam": b"0.75"}
    assert index(db, "rates") == entries((b"spam", b"0.75", one))
    assert list(Email.collection(rates__spam=0.75)) == [one.pk_value]
    assert one_trip(round_trips, lambda: two.rates.hincrbyfloat("ham", 1.5)) == 1.5
    assert index(db, "rates") == entries((b"spam", b"0.75", one), (b"ham", b"1.5", two))


def test_hincrbyfloat_to_a_whole_number_is_found_by_its_value(db: Database, pair: tuple[Email, Email]) -> None:
    """0.5 + 0.5 is 1.0: a filter on 1.0 must find it, as it finds an email created with 1.0."""
    one, _ = pair
    created = Email(rates={"spam": 1.0})
    assert one.rates.hincrbyfloat("spam", 0.5) == 1.0
    assert one.rates.hget("spam") == 1.0
    assert sorted(Email.collection(rates__spam=1.0)) == sorted([one.pk_value, created.pk_value])


def test_hdel(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.headers.hdel("to", "cc")) == 1
    assert stored(db, "headers", one) == {b"from": b"a@x"}
    assert index(db, "headers") == entries((b"from", b"a@x", one), (b"from", b"c@x", two), (b"to", b"b@x", two))
    assert list(Email.collection(headers__to="b@x")) == [two.pk_value]
    assert one_trip(round_trips, lambda: one.headers.hdel("from")) == 1
    assert not key_exists(db, "headers", one)
    assert index(db, "headers") == entries((b"from", b"c@x", two), (b"to", b"b@x", two))
    assert one.headers.hdel() == 0


def test_delete(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair
    assert one_trip(round_trips, lambda: one.headers.delete()) is True
    assert not key_exists(db, "headers", one)
    assert one.headers.hgetall() == {}
    assert index(db, "headers") == entries((b"from", b"c@x", two), (b"to", b"b@x", two))
    assert one_trip(round_trips, lambda: one.headers.delete()) is False
    assert stored(db, "counters", one) == {b"seen": b"1"}  # other fields untouched


def test_assignment_replaces_the_whole_dict(db: Database, round_trips: RoundTrips, pair: tuple[Email, Email]) -> None:
    one, two = pair

    def assign() -> None:
        one.headers = {"to": "b@x", "cc": "d@x"}

    def clear() -> None:
        two.headers = {}

    one_trip(round_trips, assign)
    assert stored(db, "headers", one) == {b"to": b"b@x", b"cc": b"d@x"}
    assert index(db, "headers") == entries((b"to", b"b@x", one), (b"cc", b"d@x", one),
                                           (b"from", b"c@x", two), (b"to", b"b@x", two))
    assert list(Email.collection(headers__from="a@x")) == []
    one_trip(round_trips, clear)
    assert not key_exists(db, "headers", two)
    assert index(db, "headers") == entries((b"to", b"b@x", one), (b"cc", b"d@x", one))


def test_writes_on_an_unindexed_hash_leave_indexes_alone(db: Database, round_trips: RoundTrips,
                                                         pair: tuple[Email, Email]) -> None:
    one, _ = pair
    names = ("headers", "counters", "rates", "blobs")
    before = {name: index(db, name) for name in names}
    assert one_trip(round_trips, lambda: one.notes.hset("k", "v")) == 1
    assert stored(db, "notes", one) == {b"k": b"v"}
    assert index(db, "notes") == set()
    assert {name: index(db, name) for name in names} == before


def test_a_hash_cannot_be_unique() -> None:
    with pytest.raises(ImplementationError, match="unique"):

        class UniqueHeaders(Model, namespace=NS):
            headers: Hash[str] = field(unique=True, default={})


# -- awkward bytes -------------------------------------------------------------------------------

# (sub-key, value): separators, globs, braces, NUL and \x01 in either part, prefixes of each other.
AWKWARD: list[tuple[str, str]] = [
    (":", "*"), ("?", "["), ("]", "{"), ("}", "->"), ("a b", "line\nbreak"), ("k", ""), ("k", "\x00"),
    ("k", "\x01"), ("a", "b\x00c"), ("a\x00b", "c"), ("a", "\x01\x01"), ("a\x01", "\x01"), ("fo", "o"),
    ("foo", ""), ("f", "oo"), ("é", "ü"), ("x:*?[]{}->y", "x:*?[]{}->y"),
]


def test_awkward_sub_keys_and_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    emails = [Email(headers={sub: value}) for sub, value in AWKWARD]
    emails.append(Email(headers={"": "empty sub-key"}))
    for (sub, value), email in zip(AWKWARD, emails):
        assert stored(db, "headers", email) == {sub.encode(): value.encode()}
        assert email.headers.hget(sub) == value
    expected = [(sub.encode(), value.encode(), email) for (sub, value), email in zip(AWKWARD, emails)]
    assert index(db, "headers") == entries(*expected, (b"", b"empty sub-key", emails[-1]))
    for (sub, value), email in zip(AWKWARD, emails):
        filters: dict[str, object] = {f"headers__{sub}": value}
        assert list(Email.collection().filter(**filters)) == [email.pk_value], (sub, value)


def test_awkward_values_written_later_are_found_exactly(db: Database) -> None:
    emails = [Email(headers={"placeholder": "x"}) for _ in AWKWARD]
    for (sub, value), email in zip(AWKWARD, emails):
        email.headers.hset(sub, value)
        email.headers.hdel("placeholder")
    expected = [(sub.encode(), value.encode(), email) for (sub, value), email in zip(AWKWARD, emails)]
    assert index(db, "headers") == entries(*expected)
    for (sub, value), email in zip(AWKWARD, emails):
        filters: dict[str, object] = {f"headers__{sub}": value}
        assert list(Email.collection().filter(**filters)) == [email.pk_value], (sub, value)


def test_awkward_bytes_values_are_stored_indexed_and_found_exactly(db: Database) -> None:
    values = [b"\xff", b"\x80abc", b"\xc3", b"\x00\xff", b"\xfe\x00\x01", b"", b"\x00", b"\x01"]
    emails = [Email(blobs={"sig": value}) for value in values]
    for value, email in zip(values, emails):
        assert stored(db, "blobs", email) == {b"sig": value}
        assert email.blobs.hget("sig") == value
    assert index(db, "blobs") == entries(*[(b"sig", v, e) for v, e in zip(values, emails)])
    for value, email in zip(values, emails):
        assert list(Email.collection(blobs__sig=value)) == [email.pk_value], value


# -- writes on a deleted instance ----------------------------------------------------------------


def _assign(email: Email) -> None:
    email.headers = {"from": "y"}


WRITES: list[tuple[str, Callable[[Email], object]]] = [
    ("hset", lambda e: e.headers.hset("from", "y")),
    ("hmset", lambda e: e.headers.hmset({"from": "y"}, to="z")),
    ("hsetnx", lambda e: e.headers.hsetnx("cc", "y")),
    ("hincrby", lambda e: e.counters.hincrby("seen")),
    ("hincrbyfloat", lambda e: e.rates.hincrbyfloat("spam", 1.0)),
    ("hdel", lambda e: e.headers.hdel("from")),
    ("delete", lambda e: e.headers.delete()),
    ("assign", _assign),
    ("unindexed-hset", lambda e: e.notes.hset("k", "v")),
]


@pytest.mark.parametrize("write", [w[1] for w in WRITES], ids=[w[0] for w in WRITES])
def test_write_on_a_deleted_instance_raises_and_writes_nothing(db: Database, write: Callable[[Email], object]) -> None:
    email = Email(headers={"from": "x"}, counters={"seen": 1})
    Email(headers={"from": "x"})
    Email.get(email.pk_value).delete()
    before = snapshot(db)
    assert not any(key.endswith(b":" + pkb(email)) for key in before)
    with pytest.raises(DoesNotExist) as caught:
        write(email)
    assert "Email" in str(caught.value)
    assert snapshot(db) == before


# -- wrong-typed writes --------------------------------------------------------------------------


def _assign_wrong_value(email: Email) -> None:
    email.counters = {"seen": "2"}  # type: ignore[dict-item]


def _assign_not_a_mapping(email: Email) -> None:
    email.headers = ["from"]  # type: ignore[assignment]


# (id, write, field, the wrong value)
WRONG: list[tuple[str, Callable[[Email], object], str, object]] = [
    ("hset-int-in-str", lambda e: e.headers.hset("from", 1), "headers", 1),  # type: ignore[arg-type]
    ("hset-str-in-int", lambda e: e.counters.hset("seen", "2"), "counters", "2"),  # type: ignore[arg-type]
    ("hset-bool-in-int", lambda e: e.counters.hset("seen", True), "counters", True),
    ("hset-none", lambda e: e.headers.hset("from", None), "headers", None),  # type: ignore[arg-type]
    ("hset-str-in-bytes", lambda e: e.blobs.hset("sig", "x"), "blobs", "x"),  # type: ignore[arg-type]
    ("hset-int-sub-key", lambda e: e.headers.hset(1, "x"), "headers", 1),  # type: ignore[arg-type]
    ("hmset", lambda e: e.counters.hmset({"seen": 2, "other": "x"}), "counters", "x"),  # type: ignore[dict-item]
    ("hmset-keyword", lambda e: e.counters.hmset(seen=2, other="x"), "counters", "x"),  # type: ignore[arg-type]
    ("hsetnx", lambda e: e.counters.hsetnx("new", "x"), "counters", "x"),  # type: ignore[arg-type]
    ("assign-value", _assign_wrong_value, "counters", "2"),
    ("assign-not-a-mapping", _assign_not_a_mapping, "headers", ["from"]),
    ("unindexed", lambda e: e.notes.hset("k", 1), "notes", 1),  # type: ignore[arg-type]
    ("hincrby-by-str", lambda e: e.counters.hincrby("seen", "2"), "counters", "2"),  # type: ignore[arg-type]
    ("hincrby-by-float", lambda e: e.counters.hincrby("seen", 1.5), "counters", 1.5),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("write", "name", "value"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_typed_write_raises_before_reaching_redis(
    db: Database, round_trips: RoundTrips, write: Callable[[Email], object], name: str, value: object
) -> None:
    email = Email(headers={"from": "x"}, counters={"seen": 1})
    before = snapshot(db)
    with round_trips as rt, pytest.raises(InvalidValue) as caught:
        write(email)
    assert rt.count == 0
    message = str(caught.value)
    assert f"Email.{name}" in message
    assert repr(value) in message
    assert snapshot(db) == before
