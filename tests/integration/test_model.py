"""Integration tests of models: creation, primary keys, uniqueness, lookups, deletion, the
instance hash commands, abstract models, namespaces, declaration errors and awkward pks.

Every test talks to the real server of the session (see tests/conftest.py).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, cast

import pytest

from limpyd_typed import (
    PK,
    AutoPK,
    Database,
    DoesNotExist,
    Hash,
    ImplementationError,
    InstanceHash,
    InvalidValue,
    List,
    Model,
    MultipleObjectsReturned,
    Set,
    SortedSet,
    String,
    UniquenessError,
    field,
    indexes,
    replies,
)
from limpyd_typed.keys import ROOT, escape_part
from limpyd_typed.testing import no_retry

# -- helpers ---------------------------------------------------------------------------------------


class Counter(Protocol):
    """What the ``round_trips`` fixture of tests/conftest.py gives."""

    count: int

    def __enter__(self) -> Counter: ...

    def __exit__(self, *exc: object) -> None: ...


Snapshot = dict[bytes, tuple[bytes, object]]


def snapshot(db: Database) -> Snapshot:
    """Every key of the database with its type and full content (order-insensitive where Redis is)."""
    out: Snapshot = {}
    cursor = 0
    while True:
        reply = db.execute("SCAN", cursor, "COUNT", 1000)
        assert isinstance(reply, (list, tuple))
        cursor = int(reply[0])
        for key in replies.bytes_list(reply[1]):
            kind = replies.optional_bytes(db.execute("TYPE", key)) or b""
            content: object
            if kind == b"string":
                content = replies.optional_bytes(db.execute("GET", key))
            elif kind == b"hash":
                content = sorted(replies.mapping(db.execute("HGETALL", key)).items())
            elif kind == b"set":
                content = sorted(replies.bytes_list(db.execute("SMEMBERS", key)))
            elif kind == b"list":
                content = replies.bytes_list(db.execute("LRANGE", key, 0, -1))
            elif kind == b"zset":
                content = sorted(replies.scored(db.execute("ZRANGE", key, 0, -1, "WITHSCORES")))
            else:
                raise AssertionError(f"unexpected key type {kind!r} for {key!r}")
            out[key] = (kind, content)
        if cursor == 0:
            return out


def without_counter(keys: Snapshot, model: type[Model[Any]]) -> Snapshot:
    """The snapshot without the AutoPK counter of ``model`` (a refused creation may advance it)."""
    counter = model._keys.next_pk.encode()
    return {k: v for k, v in keys.items() if k != counter}


def create(model: type[Model[Any]], **values: object) -> Model[Any]:
    """Call a model's constructor with arguments the type checkers cannot vet (to test the runtime)."""
    return model(**values)


def index_members(db: Database, model: type[Model[Any]], field_name: str) -> list[bytes]:
    reply = db.execute("ZRANGE", model._keys.index(field_name), 0, -1)
    return replies.bytes_list(reply)


def index_of(db: Database, model: type[Model[Any]], field_name: str) -> set[tuple[bytes, bytes]]:
    """The (stored value, pk) pairs of a field's index, both unescaped."""
    out: set[tuple[bytes, bytes]] = set()
    for m in index_members(db, model, field_name):
        value, _, escaped_pk = m.rpartition(b"\0")
        out.add((indexes.unescape(value), indexes.unescape(escaped_pk)))
    return out


# -- models ----------------------------------------------------------------------------------------


class MBike(Model):
    name: InstanceHash[str] = field(indexable=True, unique=True)
    color: InstanceHash[str | None] = field(default=None)
    wheels: String[int] = field(default=2)


class MFull(Model):
    """One field of every kind, with uniques, indexes and defaults."""

    code: InstanceHash[str] = field(unique=True)
    serial: String[str] = field(unique=True)
    label: InstanceHash[str] = field(indexable=True, default="none")
    size: String[int] = field(indexable=True, default=7)
    note: InstanceHash[str | None] = field(default=None)
    tags: Set[str] = field(indexable=True, default=())
    steps: List[int] = field(indexable=True, default=())
    ranking: SortedSet[str] = field(indexable=True, default={})
    headers: Hash[str] = field(indexable=True, default={})


class MNamed(Model[str]):
    name: PK[str]
    age: InstanceHash[int] = field(indexable=True, default=0)


class MWithId(Model):
    id: AutoPK = field(init=False)
    title: String[str] = field(default="")


class MMulti(Model):
    """The model of the seed's section 2.4 InstanceHashField "Multi" examples."""

    foo: InstanceHash[str | None] = field(default=None)
    bar: InstanceHash[str | None] = field(default=None)
    baz: InstanceHash[str | None] = field(default=None)
    qux: InstanceHash[str | None] = field(default=None)
    other: String[str | None] = field(default=None)


class MContent(Model, abstract=True, namespace="content"):
    title: InstanceHash[str] = field(indexable=True)
    pub_date: InstanceHash[str | None] = field(default=None)


class MArticle(MContent):
    content: String[str] = field(default="")


class MImage(MContent):
    path: InstanceHash[str] = field(default="")


class NamespaceA:
    class Thing(Model, namespace="ns_a"):
        label: InstanceHash[str] = field(indexable=True)


class NamespaceB:
    class Thing(Model, namespace="ns_b"):
        label: InstanceHash[str] = field(indexable=True)


class SameNameOne:
    class Clash(Model, namespace="same"):
        x: InstanceHash[str] = field(default="")


class SameNameTwo:
    class Clash(Model, namespace="same"):
        x: InstanceHash[str] = field(default="")


class MOther(Model):
    """Another model whose pks are the same ints as MBike's."""

    name: InstanceHash[str] = field(default="")


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[Database]:
    for model in (MBike, MFull, MNamed, MWithId, MMulti, MOther, NamespaceA.Thing, NamespaceB.Thing):
        model.use_database(db)
    MContent.use_database(db)
    yield db


# -- creation --------------------------------------------------------------------------------------


def test_creation_with_every_kind_of_field_is_one_round_trip(db: Database, round_trips: Counter) -> None:
    MFull(code="warm-up", serial="warm-up")  # loads the script
    with round_trips as rt:
        full = MFull(
            code="c1", serial="s1", label="big", size=12, note="hello",
            tags={"red", "blue"}, steps=[3, 1, 3], ranking={"gold": 1.5, "silver": 0.5},
            headers={"from": "ann", "to": "bob"},
        )
    assert rt.count == 1
    # Everything is really stored, with its index entries.
    pk = str(full.pk.get()).encode()
    assert full.code.get() == "c1"
    assert full.serial.get() == "s1"
    assert full.label.get() == "big"
    assert full.size.get() == 12
    assert full.note.get() == "hello"
    assert full.tags.smembers() == {"red", "blue"}
    assert full.steps.lrange() == [3, 1, 3]
    assert full.ranking.zrange(withscores=True) == [("silver", 0.5), ("gold", 1.5)]
    assert full.headers.hgetall() == {"from": "ann", "to": "bob"}
    assert (b"c1", pk) in index_of(db, MFull, "code")
    assert (b"s1", pk) in index_of(db, MFull, "serial")
    assert (b"big", pk) in index_of(db, MFull, "label")
    assert (b"12", pk) in index_of(db, MFull, "size")
    assert {(b"red", pk), (b"blue", pk)} <= index_of(db, MFull, "tags")
    assert {(b"3", pk), (b"1", pk)} <= index_of(db, MFull, "steps")
    assert {(b"gold", pk), (b"silver", pk)} <= index_of(db, MFull, "ranking")
    assert {(b"from\0ann", pk), (b"to\0bob", pk)} <= index_of(db, MFull, "headers")


def test_creation_with_defaults_only_is_one_round_trip_and_stores_defaults(db: Database, round_trips: Counter) -> None:
    MFull(code="warm-up", serial="warm-up")
    with round_trips as rt:
        full = MFull(code="c2", serial="s2")
    assert rt.count == 1
    pk = str(full.pk.get()).encode()
    assert full.label.get() == "none"
    assert full.size.get() == 7
    assert full.note.get() is None
    assert full.tags.smembers() == set()
    assert full.steps.lrange() == []
    assert full.headers.hgetall() == {}
    assert (b"none", pk) in index_of(db, MFull, "label")
    assert (b"7", pk) in index_of(db, MFull, "size")
    # An empty multi-value default and a None default store no key at all.
    assert db.execute("EXISTS", full.tags.key, full.steps.key, full.ranking.key, full.headers.key) == 0
    assert db.execute("HEXISTS", full.note.key, "note") == 0


def test_autopk_allocates_1_2_3() -> None:
    bikes = [MBike(name=f"bike{i}") for i in range(3)]
    assert [b.pk.get() for b in bikes] == [1, 2, 3]
    assert all(type(b.pk.get()) is int for b in bikes)
    assert [b.name.get() for b in bikes] == ["bike0", "bike1", "bike2"]


def test_custom_pk_must_be_given() -> None:
    with pytest.raises(TypeError, match="name"):
        create(MNamed, age=3)


def test_duplicate_custom_pk_raises_and_writes_nothing(db: Database) -> None:
    first = MNamed(name="alice", age=30)
    before = snapshot(db)
    with pytest.raises(UniquenessError, match="alice"):
        MNamed(name="alice", age=99)
    assert snapshot(db) == before
    assert first.age.get() == 30


def test_autopk_may_not_be_given() -> None:
    with pytest.raises(TypeError, match="pk"):
        create(MBike, pk=5, name="x")
    with pytest.raises(TypeError, match="id"):
        create(MWithId, id=5)


def test_pk_reaches_the_primary_key_whatever_its_name() -> None:
    with_id = MWithId(title="t")
    assert with_id.id.get() == 1
    assert with_id.pk.get() == 1
    MWithId()
    third = MWithId()
    assert third.id.get() == 3
    assert third.pk.get() == 3

    named = MNamed(name="bob")
    assert named.name.get() == "bob"
    assert named.pk.get() == "bob"
    assert named.pk_value == "bob"


def test_unique_violation_at_creation_leaves_nothing_behind(db: Database) -> None:
    MFull(code="c1", serial="s1", tags={"a"}, headers={"k": "v"})
    before = snapshot(db)
    # The clash is on the second unique field: the first one (and everything else) must not be written.
    with pytest.raises(UniquenessError) as raised:
        MFull(code="c2", serial="s1", label="L", size=3, note="n", tags={"b"}, steps=[1],
              ranking={"r": 1.0}, headers={"x": "y"})
    message = str(raised.value)
    assert "MFull" in message
    assert "serial" in message
    assert "s1" in message
    after = snapshot(db)
    assert without_counter(after, MFull) == without_counter(before, MFull)
    # No ghost: the next instance is a real one, with only its own data.
    created = MFull(code="c2", serial="s2")
    assert MFull.collection(code="c2")[:] == [created.pk.get()]
    assert len(MFull.collection()) == 2


def test_unique_violation_on_instance_hash_names_model_field_value(db: Database) -> None:
    MBike(name="tricycle")
    before = snapshot(db)
    with pytest.raises(UniquenessError) as raised:
        MBike(name="tricycle", color="red", wheels=3)
    message = str(raised.value)
    assert "MBike" in message and "name" in message and "tricycle" in message
    assert without_counter(snapshot(db), MBike) == without_counter(before, MBike)
    assert MBike.collection()[:] == [1]


def test_unknown_keyword_is_a_type_error(db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(TypeError, match="nme"):
        create(MBike, nme="x")
    with pytest.raises(TypeError, match="nme"):
        create(MBike, name="x", nme="x")
    assert snapshot(db) == before


def test_missing_required_field_is_a_type_error(db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(TypeError, match="name"):
        create(MBike)
    with pytest.raises(TypeError, match="code"):
        create(MFull, serial="s")
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("values", "field_name", "shown"),
    [
        ({"name": 3}, "name", "3"),
        ({"name": "ok", "wheels": "three"}, "wheels", "'three'"),
        ({"name": "ok", "wheels": True}, "wheels", "True"),
        ({"name": "ok", "color": 1.5}, "color", "1.5"),
        ({"name": None}, "name", "None"),
    ],
)
def test_wrong_typed_value_raises_invalid_value_and_writes_nothing(
    db: Database, values: dict[str, object], field_name: str, shown: str
) -> None:
    MBike(name="existing")
    before = snapshot(db)
    with pytest.raises(InvalidValue) as raised:
        create(MBike, **values)
    message = str(raised.value)
    assert f"MBike.{field_name}" in message
    assert shown in message
    assert snapshot(db) == before


def test_wrong_typed_value_in_multi_value_field_writes_nothing(db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(InvalidValue, match=r"MFull\.steps.*'x'"):
        create(MFull, code="c", serial="s", steps=[1, "x"])
    with pytest.raises(InvalidValue, match=r"MFull\.tags"):
        create(MFull, code="c", serial="s", tags="abc")  # a str is not a collection of values
    with pytest.raises(InvalidValue, match=r"MFull\.ranking"):
        create(MFull, code="c", serial="s", ranking={"a": "high"})
    assert snapshot(db) == before


# -- lookups ---------------------------------------------------------------------------------------


def test_get_by_pk() -> None:
    MBike(name="a")
    second = MBike(name="b")
    got = MBike.get(2)
    assert got == second
    assert got.name.get() == "b"
    untyped = cast("type[Model[Any]]", MBike)  # limpyd gave pks as str: "2" still names AutoPK 2
    assert untyped.get("2") == second
    with pytest.raises(DoesNotExist):
        MBike.get(3)
    assert MNamed(name="x y").pk_value == MNamed.get("x y").pk_value
    with pytest.raises(DoesNotExist):
        MNamed.get("nobody")


def test_get_by_filters() -> None:
    MBike(name="a", color="red")
    b = MBike(name="b", color="blue")
    assert MBike.get(name="b") == b
    with pytest.raises(DoesNotExist):
        MBike.get(name="c")
    MNamed(name="p1", age=40)
    MNamed(name="p2", age=40)
    p3 = MNamed(name="p3", age=41)
    with pytest.raises(MultipleObjectsReturned):
        MNamed.get(age=40)
    assert MNamed.get(age=41) == p3
    get_any = cast("Callable[..., object]", MBike.get)  # the type checkers refuse the call below
    with pytest.raises(TypeError, match="not both"):
        get_any(1, name="a")


def test_exists() -> None:
    MNamed(name="p1", age=40)
    MNamed(name="p2", age=40)
    assert MNamed.exists("p1")
    assert not MNamed.exists("p9")
    assert MNamed.exists(age=40)  # several match: they exist
    assert not MNamed.exists(age=50)
    assert not MBike.exists(1)


def test_get_or_connect() -> None:
    first, created = MBike.get_or_connect(name="a")
    assert created is True
    assert first.pk.get() == 1
    again, created_again = MBike.get_or_connect(name="a")
    assert created_again is False
    assert again == first
    other, created_other = MBike.get_or_connect(name="b")
    assert created_other is True
    assert other.pk.get() == 2
    assert MBike.collection()[:] == [1, 2]


def test_lazy_connect_costs_nothing_and_writes_check(round_trips: Counter) -> None:
    bike = MBike(name="a")
    with round_trips as rt:
        lazy = MBike.lazy_connect(1)
        ghost = MBike.lazy_connect(42)
    assert rt.count == 0
    assert lazy == bike
    assert lazy.name.get() == "a"
    assert ghost.pk.get() == 42
    assert ghost.name.get() is None
    with pytest.raises(DoesNotExist):
        ghost.name.set("ghost")
    with pytest.raises(DoesNotExist):
        ghost.wheels.incr()
    assert not MBike.exists(42)
    assert MBike.collection(name="ghost")[:] == []


# -- deletion --------------------------------------------------------------------------------------


def test_delete_removes_every_key_and_index_entry(db: Database, round_trips: Counter) -> None:
    MFull(code="warm", serial="warm", tags={"t"}).delete()  # loads the delete script
    keep = MFull(code="keep", serial="keep", label="L", size=1, tags={"a", "b"}, steps=[1, 2],
                 ranking={"r": 2.0}, headers={"h": "1"})
    before = snapshot(db)
    doomed = MFull(code="doomed", serial="doomed", label="L", size=1, note="n", tags={"a", "c"},
                   steps=[2, 3], ranking={"r": 1.0, "s": 3.0}, headers={"h": "1", "i": "2"})
    assert snapshot(db) != before
    with round_trips as rt:
        doomed.delete()
    assert rt.count == 1
    assert without_counter(snapshot(db), MFull) == without_counter(before, MFull)
    assert not MFull.exists(doomed.pk.get())
    assert MFull.collection(label="L")[:] == [keep.pk.get()]
    assert MFull.collection(tags="a")[:] == [keep.pk.get()]
    with pytest.raises(DoesNotExist):
        doomed.delete()


def test_delete_last_instance_empties_the_model_keys(db: Database) -> None:
    bike = MBike(name="solo", color="red", wheels=3)
    bike.delete()
    assert set(snapshot(db)) <= {MBike._keys.next_pk.encode()}


# -- the instance hash, several InstanceHash fields at once (seed section 2.4 "Multi") --------------


def test_hmget(round_trips: Counter) -> None:
    example = MMulti(foo="FOO", bar="BAR")
    assert example.hmget("foo", "bar") == ["FOO", "BAR"]
    assert example.hmget("bar", "baz", "foo") == ["BAR", None, "FOO"]
    with round_trips as rt:
        assert example.hmget() == []  # no names: nothing is fetched
    assert rt.count == 0
    with pytest.raises(InvalidValue, match="other"):
        example.hmget("other")  # a String field is not in the instance hash
    with pytest.raises(InvalidValue, match="nope"):
        example.hmget("nope")


def test_hmset() -> None:
    example = MMulti()
    assert example.hmset(foo="FOO", bar="BAR") is True
    assert example.hmget("foo", "bar") == ["FOO", "BAR"]
    assert example.hmset(foo=None, baz="BAZ") is True  # None removes a nullable slot
    assert example.hmget("foo", "bar", "baz") == [None, "BAR", "BAZ"]
    with pytest.raises(InvalidValue, match="MMulti.foo"):
        example.hmset(foo=1, bar="changed")
    assert example.hmget("foo", "bar") == [None, "BAR"]


def test_hmset_keeps_indexes_and_uniqueness() -> None:
    bike = MBike(name="a")
    other = MBike(name="b")
    assert bike.hmset(name="c", color="green")
    assert MBike.collection(name="c")[:] == [1]
    assert MBike.collection(name="a")[:] == []
    with pytest.raises(UniquenessError, match="'c'.*pk=1"):
        other.hmset(name="c", color="pink")
    assert other.hmget("name", "color") == ["b", None]


def test_hdel() -> None:
    example = MMulti()
    example.hmset(foo="FOO", bar="BAR", baz="BAZ")
    assert example.hmget("foo", "bar", "baz") == ["FOO", "BAR", "BAZ"]
    assert example.hdel("foo", "bar", "qux") == 2
    assert example.hmget("foo", "bar", "baz") == [None, None, "BAZ"]
    assert example.baz.hdel() == 1
    assert example.baz.hdel() == 0
    assert example.hmget("baz") == [None]


def test_hgetall_hkeys_hvals_hlen() -> None:
    example = MMulti(foo="FOO", bar="BAR", other="not in the hash")
    assert example.hgetall() == {"foo": "FOO", "bar": "BAR"}
    assert sorted(example.hkeys()) == ["bar", "foo"]
    assert sorted(str(v) for v in example.hvals()) == ["BAR", "FOO"]
    assert example.hlen() == 2
    example.foo.hdel()
    assert example.hgetall() == {"bar": "BAR"}
    assert example.hkeys() == ["bar"]
    assert example.hvals() == ["BAR"]
    assert example.hlen() == 1


def test_hgetall_decodes_typed_values() -> None:
    MNamed(name="n", age=33)
    assert MNamed.get("n").hgetall() == {"age": 33}
    assert MNamed.get("n").hmget("age") == [33]


# -- abstract models and namespaces ----------------------------------------------------------------


def test_abstract_model_fields_are_inherited(db: Database) -> None:
    article = MArticle(title="news", content="body")
    image = MImage(title="pic", path="/a.png")
    assert article.title.get() == "news"
    assert article.content.get() == "body"
    assert image.title.get() == "pic"
    assert image.path.get() == "/a.png"
    assert MArticle.collection(title="news")[:] == [1]
    assert MImage.collection(title="news")[:] == []
    # Namespace inherited: keys of both live under "content", each model on its own.
    assert MArticle._keys.pks == f"{ROOT}:{{content:MArticle}}:pks"
    assert db.execute("SISMEMBER", MImage._keys.pks, b"1") == 1
    assert set(MArticle._fields) == {"pk", "title", "pub_date", "content"}
    assert set(MImage._fields) == {"pk", "title", "pub_date", "path"}


def test_abstract_model_cannot_be_instantiated(db: Database) -> None:
    with pytest.raises(ImplementationError, match="abstract"):
        MContent(title="x")
    with pytest.raises(ImplementationError, match="abstract"):
        MContent.collection()
    assert snapshot(db) == {}


def test_same_name_in_two_namespaces_coexist(db: Database) -> None:
    a = NamespaceA.Thing(label="in a")
    b = NamespaceB.Thing(label="in b")
    assert a.pk.get() == 1 and b.pk.get() == 1  # separate counters
    assert NamespaceA.Thing.get(1).label.get() == "in a"
    assert NamespaceB.Thing.get(1).label.get() == "in b"
    assert NamespaceA.Thing.collection(label="in b")[:] == []
    assert NamespaceB.Thing.collection(label="in b")[:] == [1]
    keys = set(snapshot(db))
    assert f"{ROOT}:{{ns_a:Thing}}:obj:1".encode() in keys
    assert f"{ROOT}:{{ns_b:Thing}}:obj:1".encode() in keys


def test_same_name_and_namespace_on_one_database_is_refused(db: Database) -> None:
    SameNameOne.Clash.use_database(db)
    with pytest.raises(ImplementationError, match="Clash"):
        SameNameTwo.Clash.use_database(db)


# -- declaration errors ----------------------------------------------------------------------------


def declare(name: str, annotations: Mapping[str, object], **attributes: object) -> type[Model[Any]]:
    """Declare a model at runtime (for declarations the type checkers rightly refuse)."""
    body = {"__module__": __name__, "__annotations__": dict(annotations), **attributes}
    return types.new_class(name, (Model,), {}, lambda ns: ns.update(body))


def test_unique_hash_field_is_refused() -> None:
    with pytest.raises(ImplementationError, match=r"BadHash\.headers.*unique"):
        class BadHash(Model):
            headers: Hash[str] = field(unique=True)


def test_field_named_like_a_model_method_is_refused() -> None:
    for method in ("get", "delete", "collection", "hmget"):
        with pytest.raises(ImplementationError, match=method):
            declare("BadName", {method: InstanceHash[str]})


def test_two_pks_are_refused() -> None:
    with pytest.raises(ImplementationError, match="primary key"):
        class TwoPKs(Model):
            first: PK[str]
            second: PK[str]
    with pytest.raises(ImplementationError, match="primary key"):
        class TwoAutoPKs(Model):
            one: AutoPK = field(init=False)
            two: AutoPK = field(init=False)


def test_unsupported_value_type_is_refused() -> None:
    with pytest.raises(ImplementationError, match="unsupported value type"):
        class BadType(Model):
            numbers: String[list[int]]
    with pytest.raises(ImplementationError, match="unsupported value type"):
        class BadUnion(Model):
            either: InstanceHash[int | str]


def test_bad_default_is_refused() -> None:
    with pytest.raises(ImplementationError, match=r"BadDefault\.count.*default"):
        class BadDefault(Model):
            count: String[int] = field(default="nope")
    with pytest.raises(ImplementationError, match=r"BadSetDefault\.tags.*default"):
        class BadSetDefault(Model):
            tags: Set[int] = field(default=["a"])


def test_field_without_value_type_is_refused() -> None:
    with pytest.raises(ImplementationError, match="NoType.name"):
        declare("NoType", {"name": InstanceHash})


# -- identity --------------------------------------------------------------------------------------


def test_equality_and_hash_by_class_and_pk() -> None:
    bike = MBike(name="a")
    other_bike = MBike(name="b")
    same = MBike.get(1)
    not_a_bike = MOther()
    assert not_a_bike.pk.get() == bike.pk.get() == 1
    assert bike == same
    assert hash(bike) == hash(same)
    assert bike != other_bike
    assert bike != not_a_bike  # same pk, another model
    assert len({bike, same, other_bike, not_a_bike, MBike.lazy_connect(2)}) == 3
    assert {bike: "x"}[same] == "x"


# -- awkward pks -----------------------------------------------------------------------------------

AWKWARD_PKS = ["a:b", "a%3Ab", "*", "?", "[x]", "->", "a->b", "a b", " ", "{x}", "{", "}", "", "\0", "é", "1", "01"]


def test_awkward_pks_create_get_collect_delete(db: Database) -> None:
    created = [MNamed(name=pk, age=i) for i, pk in enumerate(AWKWARD_PKS)]
    assert [c.pk_value for c in created] == AWKWARD_PKS
    for i, pk in enumerate(AWKWARD_PKS):
        got = MNamed.get(pk)
        assert got.pk_value == pk
        assert got.age.get() == i
        assert MNamed.collection(age=i)[:] == [pk]
        assert MNamed.collection(name=pk)[:] == [pk]  # pk filter
    assert sorted(str(pk) for pk in MNamed.collection()) == sorted(AWKWARD_PKS)
    # Each pk has an instance hash of its own, and index members give the pk back exactly.
    hashes = {k for k in snapshot(db) if k.startswith(MNamed._keys.instance_prefix.encode())}
    assert hashes == {MNamed._keys.instance_hash(pk.encode()).encode() for pk in AWKWARD_PKS}
    assert len(hashes) == len(AWKWARD_PKS)
    assert sorted(indexes.pk_of(m) for m in index_members(db, MNamed, "age")) == sorted(p.encode() for p in AWKWARD_PKS)
    # Key parts hold no glob, separator or hash-tag character.
    for key in hashes:
        part = key[len(MNamed._keys.instance_prefix):]
        assert not set(part) & set(b":*?[]{}> \0")
    for i, pk in enumerate(AWKWARD_PKS):
        MNamed.get(pk).delete()
        assert not MNamed.exists(pk)
        remaining = AWKWARD_PKS[i + 1:]
        assert sorted(str(p) for p in MNamed.collection()) == sorted(remaining)
    assert snapshot(db) == {}


def test_escaped_pk_does_not_collide_with_its_escape() -> None:
    assert escape_part("a:b") != escape_part("a%3Ab")
    first = MNamed(name="a:b", age=1)
    second = MNamed(name="a%3Ab", age=2)
    assert first.age.get() == 1
    assert second.age.get() == 2
    first.delete()
    assert second.age.get() == 2
    assert MNamed.collection()[:] == ["a%3Ab"]


def test_use_database_moves_the_subclasses_that_inherit_it_and_only_those(server_url: str) -> None:
    first, second, third = (Database(server_url, retry=no_retry()) for _ in range(3))
    try:
        class Base(Model, namespace="hosting", database=first):
            name: InstanceHash[str] = field(default="")

        class Heir(Base):
            pass

        class Own(Base, database=second):  # a database of its own: its subclasses follow it
            pass

        class OwnHeir(Own):
            pass

        Base.use_database(third)
        assert (Heir.database, Own.database, OwnHeir.database) == (third, second, second)
        assert set(third._models.values()) == {Base, Heir}
        assert set(second._models.values()) == {Own, OwnHeir} and first._models == {}
        Heir.use_database(first)
        Heir._rehost(None)  # back to inheriting Base's (what the testing plugin does after a test)
        assert Heir.database is third and "database" not in Heir.__dict__
        assert set(third._models.values()) == {Base, Heir} and first._models == {}
    finally:
        for database in (first, second, third):
            database.close()


class Declared(Model, namespace="declared"):
    name: InstanceHash[str] = field(unique=True)
    note: InstanceHash[str]
    code: String[str] = field(indexable=True)
    tags: Set[str] = field(default=(), indexable=True)


def test_delete_declares_every_key_it_changes_in_its_keys(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.support import snapshot as full_snapshot, warm_scripts

    Declared.use_database(db)
    warm_scripts(db)
    one = Declared(name="a", note="n", code="c", tags={"x", "y"})
    Declared(name="b", note="m", code="d", tags={"y"})
    before = full_snapshot(db)
    sent: list[tuple[object, ...]] = []
    send = db.send

    def spy(args: Any) -> object:
        sent.append(tuple(args))
        return send(args)

    monkeypatch.setattr(db, "send", spy)
    one.delete()
    monkeypatch.undo()
    after = full_snapshot(db)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    (command,) = sent
    assert command[0] == "FCALL"
    declared = {str(key).encode() for key in command[3:3 + int(str(command[2]))]}
    assert changed and changed <= declared
