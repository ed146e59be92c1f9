"""limpyd_typed.testing: the pytest plugin's fixtures and the hypothesis strategies, as a user's tests use them."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from limpyd_typed import FK, M2M, Database, Hash, UniquenessError, InstanceHash, List, Model, PK, Set, SortedSet, String, field, relation
from limpyd_typed.testing.plugin import ModelsBinder
from limpyd_typed.testing.strategies import Kwargs, instances_of, kwargs_for, values_for

# A function-scoped fixture under @given is shared by the examples of one test: fine here, since
# each example starts by deleting what the previous one stored.
EXAMPLES = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


class Mood(enum.Enum):
    CALM = 1
    ANGRY = "angry"


class Every(Model, namespace="strategies"):
    code: InstanceHash[str] = field(unique=True)
    blob: String[bytes] = field(indexable=True)
    count: InstanceHash[int] = field(index="range")
    ratio: InstanceHash[float] = field(index="range")
    flag: InstanceHash[bool] = field(indexable=True)
    price: InstanceHash[Decimal] = field(index="range")
    seen: InstanceHash[datetime] = field(index="range")
    born: InstanceHash[date | None] = field(index="range", default=None)
    ident: String[uuid.UUID] = field(unique=True)
    mood: InstanceHash[Mood | None] = field(indexable=True, default=None)
    note: InstanceHash[str | None] = field(default=None)
    tags: Set[str] = field(indexable=True, default=())
    serials: List[int] = field(unique=True, default=())
    props: Hash[float] = field(indexable=True, default={})
    ranks: SortedSet[str] = field(unique=True, default={})


class Named(Model[str], namespace="strategies"):
    name: PK[str]
    size: InstanceHash[int] = field(default=0)


class Linked(Model, namespace="strategies"):
    owner: FK[Named] = relation(default=None, related_name="linked_owned")
    boss: FK[Every] = relation(unique=True, related_name="linked_bossed")
    peers: M2M[Linked] = relation(to="self", default=())


@EXAMPLES
@given(kwargs=kwargs_for(Linked))
def test_relation_fields_draw_pks_of_their_target(limpyd_models: ModelsBinder, kwargs: Kwargs) -> None:
    limpyd_models(Linked, Named, Every)
    Linked.collection().delete()
    linked = Linked(**kwargs)  # drawn pks need not exist: a relation is not checked for existence
    assert kwargs["boss"] is None or isinstance(kwargs["boss"], int)  # an FK may always be None
    assert linked.boss.get() == kwargs["boss"]
    assert linked.owner.get() == kwargs.get("owner")
    assert linked.peers.smembers() == kwargs.get("peers", set())
    if kwargs["boss"] is not None:
        assert list(Linked.collection(boss=kwargs["boss"])) == [linked.pk_value]


def test_an_optional_fk_draws_none_sometimes_and_str_pks_otherwise() -> None:
    assert find(values_for(Linked.owner), lambda v: v is None) is None
    assert isinstance(find(values_for(Linked.owner), lambda v: v is not None), str)


@EXAMPLES
@given(kwargs=kwargs_for(Every))
def test_drawn_kwargs_create_instances_that_read_back_as_given(limpyd_models: ModelsBinder, kwargs: Kwargs) -> None:
    limpyd_models(Every)
    Every.collection().delete()  # the fixture's database is shared by the examples of this test
    every = Every(**kwargs)
    for name in ("code", "count", "ratio", "flag", "price", "seen", "mood", "note"):
        if name in kwargs:
            assert every.hgetall().get(name) == kwargs[name]
    assert every.blob.get() == kwargs["blob"]
    assert every.tags.smembers() == kwargs.get("tags", set())
    assert Every.check_indexes().ok


@EXAMPLES
@given(data=st.data())
def test_instances_of_never_clashes_within_an_example(limpyd_models: ModelsBinder, data: st.DataObject) -> None:
    limpyd_models(Every, Named)
    Every.collection().delete()
    Named.collection().delete()
    created = data.draw(st.lists(instances_of(Every), min_size=1, max_size=4))
    named = data.draw(st.lists(instances_of(Named), max_size=3))
    assert sorted(Every.collection()) == sorted(e.pk_value for e in created)
    assert sorted(Named.collection()) == sorted(n.pk_value for n in named)
    assert Every.check_indexes().ok and Named.check_indexes().ok


def test_a_clash_with_an_earlier_example_says_how_to_avoid_it(limpyd_models: ModelsBinder) -> None:
    limpyd_models(Named)
    Named(name="")  # as an earlier example would have left it; the first pk drawn is ""
    with pytest.raises(UniquenessError, match=r"start each example with no Named stored \(Named.collection\(\).delete\(\)\)"):
        find(instances_of(Named), lambda named: True)


@given(st.lists(values_for(Every.code), min_size=5, max_size=20), st.lists(values_for(Every.ratio), min_size=5))
def test_unique_values_are_distinct_within_an_example(codes: list[str], ratios: list[float]) -> None:
    assert len(set(codes)) == len(codes)
    assert all(isinstance(r, float) and r == r and abs(r) != float("inf") for r in ratios)


@given(values_for(Every.count), values_for(Every.seen), values_for(Every.serials))
def test_values_honour_the_codec(count: int, seen: datetime, serial: int) -> None:
    assert -(2**63) <= count < 2**63 and -(2**63) <= serial < 2**63
    assert seen.utcoffset() is not None


def test_optional_fields_draw_none_sometimes_and_enums_draw_members() -> None:
    assert find(values_for(Every.born), lambda v: v is None) is None
    assert isinstance(find(values_for(Every.born), lambda v: v is not None), date)
    assert find(values_for(Every.mood), lambda v: v is Mood.ANGRY) is Mood.ANGRY


def test_values_for_refuses_what_is_not_a_field_attribute() -> None:
    with pytest.raises(TypeError, match="takes a field attribute of a model class"):
        values_for("code")  # type: ignore[arg-type]


def test_limpyd_db_is_emptied_and_models_go_back_to_their_database(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server_url: str
) -> None:
    pytester.makepyfile(test_user="""
        from limpyd_typed import Database, InstanceHash, Model, field

        own = Database("unix:///nowhere.sock")

        class Thing(Model):
            database = own
            name: InstanceHash[str] = field(unique=True)

        def test_first(limpyd_db, limpyd_models):
            limpyd_models(Thing)
            assert Thing.database is limpyd_db
            Thing(name="a")

        def test_second(limpyd_db):
            assert Thing.database is own
            assert limpyd_db.connection.dbsize() == 0
    """)
    monkeypatch.setenv("LIMPYD_TEST_REDIS_URL", server_url)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
