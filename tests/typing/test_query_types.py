"""Static types of query conditions, checked by mypy --strict and basedpyright, and run by pytest.

Every operator on a field attribute of model ``M`` gives a ``Condition[M]``; ``&``, ``|`` and
``~`` keep it; ``filter()`` keeps the collection's type. The ``# type: ignore[code]`` lines are
rejected by both checkers (see README.md here): an operator the field's type does not have
(``startswith`` on an int, ``<`` on a UUID, a bool or an Enum), an operand of another type, a
condition on another model, ``between`` with bounds of two types. Each also runs: where the
library refuses it at run time (when the collection is built) inside ``pytest.raises``; the few
that run time accepts are marked "static only".
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from typing_extensions import assert_type

from limpyd_typed import (
    Attr,
    Collection,
    Condition,
    Database,
    Hash,
    InstanceHash,
    InvalidValue,
    Model,
    QueryError,
    Set,
    String,
    ValueAttr,
    field,
)


class Mood(enum.Enum):
    HAPPY = 1
    GRUMPY = 2


class TPerson(Model, namespace="typing_queries"):
    name: InstanceHash[str] = field(index="text")
    nick: InstanceHash[str | None] = field(index="text", default=None)
    age: InstanceHash[int] = field(index="range")
    rank: String[int | None] = field(index="range", default=None)
    weight: String[float] = field(index="range", default=0.0)
    price: InstanceHash[Decimal] = field(index="range", default=Decimal(0))
    seen: InstanceHash[datetime | None] = field(index="range", default=None)
    born: String[date | None] = field(index="range", default=None)
    blob: String[bytes] = field(index="text", default=b"")
    city: InstanceHash[str | None] = field(indexable=True, default=None)
    uid: InstanceHash[uuid.UUID | None] = field(indexable=True, default=None)
    active: InstanceHash[bool] = field(indexable=True, default=True)
    mood: InstanceHash[Mood | None] = field(indexable=True, default=None)
    tags: Set[str] = field(index="text", default=())
    headers: Hash[str] = field(index="text", default={})


class TPet(Model, namespace="typing_queries"):
    age: InstanceHash[int] = field(index="range")
    name: InstanceHash[str] = field(index="text")


NOON = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    TPerson.use_database(db)
    TPet.use_database(db)
    yield


@pytest.fixture
def people() -> list[TPerson]:
    return [
        TPerson(name="John", age=34, city="Paris", seen=NOON, tags={"admin"}, headers={"from": "x"}),
        TPerson(name="Joan", age=28, city="Rome", weight=61.5, born=date(1996, 2, 3)),
        TPerson(name="Ann", age=45, city="Paris", price=Decimal("9.99"), tags={"admin", "ops"}),
    ]


def test_every_operator_gives_a_condition_of_its_model() -> None:
    assert_type(TPerson.age == 3, Condition[TPerson])
    assert_type(TPerson.age != 3, Condition[TPerson])
    assert_type(TPerson.age.in_([1, 2]), Condition[TPerson])
    assert_type(TPerson.age.in_(a for a in (1, 2)), Condition[TPerson])
    assert_type(TPerson.age < 3, Condition[TPerson])
    assert_type(TPerson.age <= 3, Condition[TPerson])
    assert_type(TPerson.age > 3, Condition[TPerson])
    assert_type(TPerson.age >= 3, Condition[TPerson])
    assert_type(TPerson.age.between(1, 3), Condition[TPerson])
    assert_type(TPerson.rank >= 3, Condition[TPerson])  # an optional field compares with its values
    assert_type(TPerson.rank.between(1, 3), Condition[TPerson])
    assert_type(TPerson.weight < 1.5, Condition[TPerson])
    assert_type(TPerson.weight < 2, Condition[TPerson])  # an int is a float to the type checkers
    assert_type(TPerson.weight.between(1, 2.5), Condition[TPerson])
    assert_type(TPerson.price >= Decimal("1.0"), Condition[TPerson])
    assert_type(TPerson.seen > NOON, Condition[TPerson])
    assert_type(TPerson.seen.between(NOON, NOON), Condition[TPerson])
    assert_type(TPerson.born <= date(2000, 1, 1), Condition[TPerson])
    assert_type(TPerson.name < "J", Condition[TPerson])
    assert_type(TPerson.name.between("A", "K"), Condition[TPerson])
    assert_type(TPerson.name.startswith("Jo"), Condition[TPerson])
    assert_type(TPerson.nick.startswith("Jo"), Condition[TPerson])
    assert_type(TPerson.nick == "Jo", Condition[TPerson])
    assert_type(TPerson.blob.startswith(b"\x00"), Condition[TPerson])
    assert_type(TPerson.blob >= b"a", Condition[TPerson])
    assert_type(TPerson.tags == "admin", Condition[TPerson])
    assert_type(TPerson.tags.startswith("adm"), Condition[TPerson])
    assert_type(TPerson.tags > "a", Condition[TPerson])
    assert_type(TPerson.tags.in_({"admin", "ops"}), Condition[TPerson])
    assert_type(TPerson.city.in_(["Paris"]), Condition[TPerson])
    assert_type(TPerson.city != "Paris", Condition[TPerson])
    assert_type(TPerson.uid == uuid.UUID(int=1), Condition[TPerson])
    assert_type(TPerson.active == True, Condition[TPerson])  # noqa: E712 - builds a condition
    assert_type(TPerson.mood.in_([Mood.HAPPY]), Condition[TPerson])
    assert_type(TPerson.pk == 1, Condition[TPerson])
    assert_type(TPerson.pk.in_([1, 2]), Condition[TPerson])
    assert_type(TPerson.pk != 1, Condition[TPerson])
    assert_type(TPet.age >= 3, Condition[TPet])
    assert_type(TPet.name.startswith("R"), Condition[TPet])


def test_and_or_not_keep_the_model() -> None:
    adult = TPerson.age >= 18
    assert_type(adult & (TPerson.city == "Paris"), Condition[TPerson])
    assert_type(adult | TPerson.name.startswith("Jo"), Condition[TPerson])
    assert_type(~adult, Condition[TPerson])
    assert_type(~(adult & ~TPerson.tags.in_(["ops"])) | (TPerson.seen < NOON), Condition[TPerson])
    assert_type((TPet.age > 1) & ~(TPet.name == "Rex"), Condition[TPet])


def test_filter_keeps_the_collection_type(people: list[TPerson]) -> None:
    adults = assert_type(TPerson.collection(TPerson.age >= 30), Collection[TPerson, int])
    assert list(adults) == [1, 3]
    johns = assert_type(adults.filter(TPerson.name.startswith("Jo")), Collection[TPerson, int])
    assert list(johns) == [1]
    assert assert_type(adults.filter(age__lt=40, city__in=["Paris"]), Collection[TPerson, int])[:] == [1]
    combined = assert_type(TPerson.collection((TPerson.city == "Rome") | ~TPerson.tags.in_(["ops"])), Collection[TPerson, int])
    assert list(combined) == [1, 2]
    sorted_adults = assert_type(adults.sort("-age").filter(TPerson.city != "Rome"), Collection[TPerson, int])
    assert list(sorted_adults) == [3, 1]
    instances = assert_type(adults.instances().filter(TPerson.tags.startswith("adm")), Collection[TPerson, int, TPerson])
    assert list(instances) == [people[0], people[2]]
    first = assert_type(instances.filter(TPerson.age.between(40, 50)).first(), TPerson | None)
    assert first == people[2]
    names = assert_type(adults.values_list(TPerson.name, flat=True).filter(TPerson.price > Decimal(1)),
                        Collection[TPerson, int, str | None])
    assert list(names) == ["Ann"]
    assert assert_type(adults.filter(TPerson.seen > NOON).first(), int | None) is None
    assert assert_type(adults.filter(TPerson.seen >= NOON).count(), int) == 1
    assert assert_type(TPerson.collection(TPerson.born < date(2000, 1, 1)).exists(), bool) is True
    assert assert_type(TPerson.collection(headers__from__startswith="x")[0], int) == 1


def test_get_by_pk_is_typed_by_the_collection(people: list[TPerson]) -> None:
    # get(pk) takes the model's pk type and gives what the collection yields.
    every = TPerson.collection()
    assert assert_type(every.get(1), int) == 1
    assert assert_type(every.instances().get(1), TPerson) == people[0]
    row = assert_type(every.values_list(TPerson.name, TPerson.age).get(1), tuple[str | None, int | None])
    assert row == (people[0].name.get(), people[0].age.get())
    six = every.values_list(TPerson.name, TPerson.age, TPerson.rank, TPerson.weight, TPerson.price, TPerson.active)
    wide = assert_type(six.get(1), tuple[str | None, int | None, int | None, float | None, Decimal | None, bool | None])
    assert wide == (people[0].name.get(), people[0].age.get(), people[0].rank.get(), people[0].weight.get(),
                    people[0].price.get(), people[0].active.get())
    assert assert_type(every.values_list(TPerson.price, flat=True).get(1), Decimal | None) == people[0].price.get()
    assert isinstance(assert_type(every.values("name").get(1), dict[str, object]), dict)
    with pytest.raises(InvalidValue):
        every.get("1x")  # type: ignore[arg-type]


def test_values_list_takes_single_value_fields_only(people: list[TPerson]) -> None:
    # A Set or Hash field is an Attr, not a ValueAttr: values_list() refuses it statically too.
    assert_type(TPerson.tags, Attr[TPerson, str])
    assert_type(TPerson.name, ValueAttr[TPerson, str])
    with pytest.raises(QueryError, match=r"TPerson\.tags holds several values"):
        TPerson.collection().values_list(TPerson.tags)  # type: ignore[call-overload]
    with pytest.raises(QueryError, match=r"TPerson\.headers holds several values"):
        TPerson.collection().values_list(TPerson.name, TPerson.headers)  # type: ignore[call-overload]


def test_rejected_conditions(people: list[TPerson]) -> None:
    # An operator the field's value type does not have: QueryError when the collection is built
    # (the index cannot answer it either: a range index is refused on bool, UUID and Enum).
    with pytest.raises(QueryError, match=r"TPerson\.age startswith"):
        TPerson.collection(TPerson.age.startswith("3"))  # type: ignore[misc]
    with pytest.raises(QueryError, match=r"TPerson\.rank startswith"):
        TPerson.collection(TPerson.rank.startswith("3"))  # type: ignore[misc]
    with pytest.raises(QueryError, match=r"TPerson\.uid lt"):
        TPerson.collection(TPerson.uid < uuid.UUID(int=1))  # type: ignore[operator, call-overload]
    with pytest.raises(QueryError, match=r"TPerson\.active lt"):
        TPerson.collection(TPerson.active < True)  # type: ignore[operator, call-overload]
    with pytest.raises(QueryError, match=r"TPerson\.active ge"):
        TPerson.collection(TPerson.active >= False)  # type: ignore[operator, call-overload]
    with pytest.raises(QueryError, match=r"TPerson\.mood gt"):
        TPerson.collection(TPerson.mood > Mood.HAPPY)  # type: ignore[misc, operator]
    with pytest.raises(QueryError, match=r"TPerson\.mood between"):
        TPerson.collection(TPerson.mood.between(Mood.HAPPY, Mood.GRUMPY))  # type: ignore[misc, call-overload]

    # An operand of another type: InvalidValue when the collection is built.
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age >= "30")  # type: ignore[operator]
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age < "30")  # type: ignore[operator]
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age == "30")  # type: ignore[call-overload]
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age != "30")  # type: ignore[call-overload]
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age.in_(["30"]))  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match=r"TPerson\.name"):
        TPerson.collection(TPerson.name < b"J")  # type: ignore[operator]
    with pytest.raises(InvalidValue, match=r"TPerson\.blob"):
        TPerson.collection(TPerson.blob.startswith("x"))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"TPerson\.weight"):
        TPerson.collection(TPerson.weight < Decimal("1"))  # type: ignore[operator]

    # between with bounds of two types.
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age.between(1, "9"))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age.between(1, 2.5))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"TPerson\.seen"):
        TPerson.collection(TPerson.seen.between(date(2000, 1, 1), NOON))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"TPerson\.price"):
        TPerson.collection(TPerson.price.between(Decimal(1), 2))  # type: ignore[arg-type]

    # A condition on another model: QueryError when the collection is built.
    with pytest.raises(QueryError, match=r"TPet\.age cannot filter TPerson"):
        TPerson.collection(TPet.age >= 3)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=r"TPet\.name cannot filter TPerson"):
        TPerson.collection(TPerson.age > 1).filter(TPet.name.startswith("R"))  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=r"TPet\.age cannot filter TPerson"):
        TPerson.collection().instances().filter(~(TPet.age < 3))  # type: ignore[arg-type]

    # Static only: combining conditions of two models builds a tree at run time; the collection
    # that gets it refuses it.
    mixed = (TPerson.age > 1) & (TPet.age > 1)  # type: ignore[operator]
    with pytest.raises(QueryError, match=r"TPet\.age cannot filter TPerson"):
        TPerson.collection(mixed)
    # Static only: startswith on an int field just builds a leaf until a collection checks it.
    TPerson.age.startswith("3")  # type: ignore[misc]


def test_accepted_statically_refused_at_run_time(people: list[TPerson]) -> None:
    # What the types cannot say: the kind of a field's index, the pk, a Hash's sub-key, and a
    # datetime, which is a date to the type checkers but not a value of a date field.
    with pytest.raises(QueryError, match=r"TPerson\.city startswith"):
        TPerson.collection(TPerson.city.startswith("P"))
    with pytest.raises(QueryError, match=r"TPerson\.city lt"):
        TPerson.collection(TPerson.city < "P")
    with pytest.raises(QueryError, match=r"TPerson\.pk gt"):
        TPerson.collection(TPerson.pk > 1)
    with pytest.raises(QueryError, match=r"TPerson\.headers is a Hash"):
        TPerson.collection(TPerson.headers == "x")
    with pytest.raises(InvalidValue, match=r"TPerson\.born"):
        TPerson.collection(TPerson.born.between(date(2000, 1, 1), NOON))
    with pytest.raises(InvalidValue, match=r"TPerson\.age"):
        TPerson.collection(TPerson.age >= True)  # a bool is an int to the type checkers
