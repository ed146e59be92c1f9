"""Integration tests of collections (seed section 2.5): filtering, laziness, sorting, slicing,
indexing, instances, chaining, Hash sub-key filters and custom collection classes.

Expected results are computed in Python from the data each test creates, never read back from
the collection under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import pytest

from limpyd_typed import (
    PK,
    Collection,
    Database,
    Hash,
    InstanceHash,
    InvalidValue,
    List,
    Model,
    QueryError,
    Set,
    String,
    field,
)


class Counter(Protocol):
    """What the ``round_trips`` fixture of tests/conftest.py gives."""

    count: int

    def __enter__(self) -> Counter: ...

    def __exit__(self, *exc: object) -> None: ...


M = TypeVar("M", bound="Model[Any]")
R = TypeVar("R")


class TaggedCollection(Collection[M, R]):
    """A collection subclass, as a user would write one."""

    tag = "tagged"

    def first_or_none(self) -> R | None:
        found = self[:1]
        return found[0] if found else None


class CPerson(Model):
    firstname: InstanceHash[str] = field(indexable=True)
    lastname: InstanceHash[str] = field(indexable=True)
    birth_year: InstanceHash[int] = field(indexable=True)
    nickname: InstanceHash[str | None] = field(default=None)  # not indexed


class CScore(Model):
    points: String[int | None] = field(indexable=True, default=None)
    ratio: InstanceHash[float | None] = field(default=None)
    word: InstanceHash[str | None] = field(default=None)
    tags: Set[str] = field(indexable=True, default=())
    steps: List[int] = field(default=())


class CNamed(Model[str]):
    name: PK[str]
    rank: InstanceHash[int] = field(indexable=True, default=0)


class CMail(Model):
    subject: InstanceHash[str] = field(default="")
    headers: Hash[str] = field(indexable=True, default={})


class CManaged(Model):
    collection_manager = TaggedCollection
    kind: InstanceHash[str] = field(indexable=True)


PEOPLE = [  # the seed's four people, then more to make slices interesting
    ("John", "Smith", 1960),
    ("John", "Doe", 1965),
    ("Emily", "Smith", 1950),
    ("Susan", "Doe", 1960),
    ("Paul", "Martin", 1999),
    ("Anna", "Zed", 1902),
    ("John", "Adams", 1735),
]


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[Database]:
    for model in (CPerson, CScore, CNamed, CMail, CManaged):
        model.use_database(db)
    yield db


@pytest.fixture
def people() -> list[CPerson]:
    return [CPerson(firstname=f, lastname=l, birth_year=y) for f, l, y in PEOPLE]


def pks_where(predicate: Callable[[str, str, int], bool]) -> list[int]:
    """The pks (1-based positions in PEOPLE) of the people matching ``predicate``, in pk order."""
    return [i + 1 for i, person in enumerate(PEOPLE) if predicate(*person)]


# -- filtering -------------------------------------------------------------------------------------


def test_filter_with_keywords(people: list[CPerson]) -> None:
    assert list(CPerson.collection(firstname="John")) == pks_where(lambda first, last, year: first == "John")
    assert list(CPerson.collection(lastname="Smith")) == pks_where(lambda first, last, year: last == "Smith")
    assert list(CPerson.collection(birth_year=1960)) == pks_where(lambda first, last, year: year == 1960)
    assert list(CPerson.collection(firstname="Nobody")) == []
    assert list(CPerson.collection(firstname="john")) == []  # full, exact values only
    assert list(CPerson.collection(firstname__eq="Emily")) == [3]


def test_filter_with_conditions(people: list[CPerson]) -> None:
    assert list(CPerson.collection(CPerson.firstname == "John")) == pks_where(lambda first, last, year: first == "John")
    assert list(CPerson.collection(CPerson.birth_year == 1965)) == [2]


def test_filters_are_anded(people: list[CPerson]) -> None:
    expected = pks_where(lambda first, last, year: first == "John" and last == "Smith")
    assert expected == [1]
    assert list(CPerson.collection(firstname="John", lastname="Smith")) == expected
    assert list(CPerson.collection(CPerson.firstname == "John", lastname="Smith")) == expected
    assert list(CPerson.collection(CPerson.firstname == "John", CPerson.lastname == "Smith")) == expected
    assert list(CPerson.collection(firstname="John").filter(lastname="Smith")) == expected
    assert list(CPerson.collection(birth_year=1965, lastname="Smith")) == []
    assert list(CPerson.collection(birth_year=1960, lastname="Doe", firstname="Susan")) == [4]
    # The same field twice: both values must hold, which a single-value field never does.
    assert list(CPerson.collection(CPerson.firstname == "John", CPerson.firstname == "Susan")) == []
    assert list(CPerson.collection(CPerson.firstname == "John", CPerson.firstname == "John")) == [1, 2, 7]


def test_filter_on_multi_value_field() -> None:
    CScore(tags={"a", "b"})
    CScore(tags={"b"})
    CScore()
    assert list(CScore.collection(tags="b")) == [1, 2]
    assert list(CScore.collection(tags="a")) == [1]
    assert list(CScore.collection(tags="a").filter(tags="b")) == [1]
    assert list(CScore.collection(tags="c")) == []


def test_filter_by_pk() -> None:
    CNamed(name="x", rank=1)
    CNamed(name="y", rank=1)
    assert list(CNamed.collection(name="y")) == ["y"]
    assert list(CNamed.collection(name="z")) == []
    assert list(CNamed.collection(name="y", rank=1)) == ["y"]
    assert list(CNamed.collection(name="y", rank=2)) == []


def test_filter_on_non_indexed_field_raises_at_build_time(round_trips: Counter) -> None:
    with round_trips as rt:
        with pytest.raises(QueryError, match=r"CPerson\.nickname"):
            CPerson.collection(nickname="Johnny")
        with pytest.raises(QueryError, match=r"CPerson\.nickname"):
            CPerson.collection(CPerson.nickname == "Johnny")
        with pytest.raises(QueryError, match=r"CPerson\.nickname"):
            CPerson.collection(firstname="John").filter(nickname="Johnny")
        with pytest.raises(QueryError, match=r"CScore\.steps"):
            CScore.collection(steps=1)
    assert rt.count == 0


def test_filter_on_unknown_field_raises() -> None:
    with pytest.raises(QueryError, match="surname"):
        CPerson.collection(surname="Smith")
    with pytest.raises(QueryError, match="surname"):
        CPerson.collection(firstname="John").filter(surname="Smith")


def test_none_filter_raises() -> None:
    with pytest.raises(QueryError, match="None"):
        CPerson.collection(firstname=None)
    with pytest.raises(QueryError, match="None"):
        CScore.collection(CScore.points == None)  # noqa: E711 - builds a condition


def test_filter_value_of_wrong_type_raises() -> None:
    with pytest.raises(InvalidValue, match="birth_year"):
        CPerson.collection(birth_year="1960")


def test_condition_on_another_model_raises() -> None:
    with pytest.raises(QueryError):
        CScore.collection(CPerson.firstname == "John")  # type: ignore[arg-type]


def test_hash_sub_key_filter() -> None:
    CMail(subject="one", headers={"from": "x", "to": "y"})
    CMail(subject="two", headers={"from": "y", "to": "x"})
    CMail(subject="three", headers={"from": "x"})
    assert list(CMail.collection(headers__from="x")) == [1, 3]
    assert list(CMail.collection(headers__to="x")) == [2]
    assert list(CMail.collection(headers__from="x", headers__to="y")) == [1]
    assert list(CMail.collection(headers__cc="x")) == []
    with pytest.raises(QueryError, match="headers"):
        CMail.collection(headers="x")


# -- laziness --------------------------------------------------------------------------------------


def test_building_is_lazy_and_running_is_one_round_trip(people: list[CPerson], round_trips: Counter) -> None:
    [pk for pk in CPerson.collection(firstname="John").sort(by="lastname")]  # loads the query script
    with round_trips as rt:
        collection = CPerson.collection(firstname="John").filter(CPerson.lastname == "Doe").sort(by="-birth_year")
        with_instances = collection.instances()
        back_to_pks = with_instances.primary_keys()
    assert rt.count == 0
    with round_trips as rt:
        assert [pk for pk in collection] == [2]
    assert rt.count == 1
    with round_trips as rt:
        found = [person for person in with_instances]
    assert rt.count == 1
    assert found == [people[1]]
    with round_trips as rt:
        assert len(back_to_pks) == 1
    assert rt.count == 1
    by_lastname = [pk for _, pk in sorted((last, i + 1) for i, (_, last, _) in enumerate(PEOPLE))]
    with round_trips as rt:
        assert CPerson.collection().sort(by="lastname")[1:3] == by_lastname[1:3]
    assert rt.count == 1
    with round_trips as rt:
        assert CPerson.collection().sort(by="lastname")[-1] == by_lastname[-1]
    assert rt.count == 1


def test_list_of_a_collection_is_one_round_trip(people: list[CPerson], round_trips: Counter) -> None:
    # list() asks len() first (a length hint), then iterates: both must not each run the query.
    list(CPerson.collection(firstname="John"))  # loads the query script
    with round_trips as rt:
        pks = list(CPerson.collection(firstname="John"))
    assert pks == [1, 2, 7]
    assert rt.count == 1
    with round_trips as rt:
        instances = list(CPerson.collection(firstname="John").instances())
    assert instances == [people[0], people[1], people[6]]
    assert rt.count == 1


def test_collection_runs_when_used_not_when_built(people: list[CPerson]) -> None:
    johns = CPerson.collection(firstname="John")
    CPerson(firstname="John", lastname="New", birth_year=2000)
    people[0].firstname.set("Jack")
    assert [pk for pk in johns] == [2, 7, len(PEOPLE) + 1]


# -- sorting ---------------------------------------------------------------------------------------


def test_sort_by_field_name(people: list[CPerson]) -> None:
    by_lastname = [pk for _, pk in sorted((PEOPLE[pk - 1][1], pk) for pk in range(1, len(PEOPLE) + 1))]
    assert list(CPerson.collection().sort(by="lastname")) == by_lastname
    assert list(CPerson.collection().sort(by="lastname", alpha=True)) == by_lastname
    assert list(CPerson.collection().sort(by=CPerson.lastname)) == by_lastname


def test_sort_descending(people: list[CPerson]) -> None:
    # Descending: by value, ties by pk descending too (the exact reverse of ascending).
    ascending = [pk for _, pk in sorted((PEOPLE[pk - 1][1], pk) for pk in range(1, len(PEOPLE) + 1))]
    descending = ascending[::-1]
    assert list(CPerson.collection().sort(by="-lastname")) == descending
    assert list(CPerson.collection().sort(by="lastname", desc=True)) == descending
    assert list(CPerson.collection().sort(by=CPerson.lastname, desc=True)) == descending
    assert list(CPerson.collection().sort(by="-lastname", desc=True)) == ascending  # two negations


def test_sort_with_filter(people: list[CPerson]) -> None:
    johns = [pk for pk in range(1, len(PEOPLE) + 1) if PEOPLE[pk - 1][0] == "John"]
    expected = sorted(johns, key=lambda pk: PEOPLE[pk - 1][1])
    assert list(CPerson.collection(firstname="John").sort(by="lastname", alpha=True)) == expected


def test_numeric_sort_of_int_fields() -> None:
    values = [10, 9, 100, 2, -5, 9]
    for v in values:
        CScore(points=v)
    numeric = [pk for _, pk in sorted((v, i + 1) for i, v in enumerate(values))]
    alpha = [pk for _, pk in sorted((str(v).encode(), i + 1) for i, v in enumerate(values))]
    assert numeric != alpha
    assert list(CScore.collection().sort(by="points")) == numeric
    assert list(CScore.collection().sort(by="-points")) == numeric[::-1]
    assert list(CScore.collection().sort(by="points", alpha=True)) == alpha


def test_numeric_sort_of_instance_hash_int_and_float(people: list[CPerson]) -> None:
    by_year = [pk for _, pk in sorted((PEOPLE[pk - 1][2], pk) for pk in range(1, len(PEOPLE) + 1))]
    assert list(CPerson.collection().sort(by="birth_year")) == by_year  # 1735 before 1902
    ratios = [0.5, 10.25, 2.0, -1e-3, 1e10]
    for r in ratios:
        CScore(ratio=r)
    assert list(CScore.collection().sort(by="ratio")) == [pk for _, pk in sorted((r, i + 1) for i, r in enumerate(ratios))]


def test_missing_values_sort_first_then_last_when_descending() -> None:
    values: list[int | None] = [5, None, 1, None, 3]
    for v in values:
        CScore(points=v)
    missing = [i + 1 for i, v in enumerate(values) if v is None]
    present = [pk for _, pk in sorted((v, i + 1) for i, v in enumerate(values) if v is not None)]
    assert list(CScore.collection().sort(by="points")) == missing + present
    assert list(CScore.collection().sort(by="points", desc=True)) == present[::-1] + missing[::-1]


def test_alpha_sort_of_strings_is_byte_order() -> None:
    words = ["b", "B", "a", "é", "ab", "", "Z"]
    for w in words:
        CScore(word=w)
    expected = [pk for _, pk in sorted((w.encode(), i + 1) for i, w in enumerate(words))]
    assert list(CScore.collection().sort(by="word", alpha=True)) == expected
    assert list(CScore.collection().sort(by="word")) == expected  # str fields sort by bytes anyway


def test_sort_by_autopk_is_numeric() -> None:
    for _ in range(12):
        CScore()
    assert list(CScore.collection().sort()) == list(range(1, 13))  # 10 after 9
    assert list(CScore.collection().sort(desc=True)) == list(range(12, 0, -1))
    assert list(CScore.collection().sort(by="pk")) == list(range(1, 13))
    assert list(CScore.collection()) == list(range(1, 13))  # unsorted: by pk too


def test_sort_by_non_numeric_pk() -> None:
    names = ["b", "a", "10", "9", "B", "a b", "é"]
    for n in names:
        CNamed(name=n)
    by_bytes = sorted(names, key=str.encode)
    assert list(CNamed.collection().sort()) == by_bytes
    assert list(CNamed.collection().sort(desc=True)) == by_bytes[::-1]
    assert list(CNamed.collection().sort(by="name")) == by_bytes
    assert list(CNamed.collection()) == by_bytes


def test_ties_are_ordered_by_pk() -> None:
    ranks = [3, 1, 3, 1, 3]
    names = ["e", "d", "c", "b", "a"]
    for n, r in zip(names, ranks):
        CNamed(name=n, rank=r)
    expected = [n for _, n in sorted(zip(ranks, names))]
    assert list(CNamed.collection().sort(by="rank")) == expected
    assert list(CNamed.collection().sort(by="rank", desc=True)) == expected[::-1]


def test_ties_are_ordered_by_numeric_autopk() -> None:
    # Ties by pk follow the pk's order: numeric for an AutoPK (10 after 9), as sort() does.
    points = [7, 7, 3, 7, 3, 7, 7, 3, 7, 7, 7, 3]
    for p in points:
        CScore(points=p)
    expected = [pk for _, pk in sorted((p, i + 1) for i, p in enumerate(points))]
    assert list(CScore.collection().sort(by="points")) == expected
    assert list(CScore.collection().sort(by="points", desc=True)) == expected[::-1]
    assert list(CScore.collection(tags="none").sort(by="points")) == []


def test_sort_errors() -> None:
    with pytest.raises(QueryError, match="tags"):
        CScore.collection().sort(by="tags")  # several values per instance
    with pytest.raises(QueryError, match="nothing"):
        CScore.collection().sort(by="nothing")
    with pytest.raises(QueryError, match="nothing"):
        CScore.collection().sort(by="-nothing")
    with pytest.raises(QueryError):
        CScore.collection().sort(by=CPerson.lastname)  # type: ignore[arg-type]


# -- slicing, indexing, len ------------------------------------------------------------------------

# With 7 items: out of range both ways, the exact ends, and steps longer than the collection.
BOUNDS: list[int | None] = [None, -20, -7, -6, -3, -1, 0, 1, 2, 6, 7, 8, 20]
STEPS: list[int | None] = [None, 1, 2, 3, 7, -1, -2, -3, -8]


def test_slicing_follows_python_list_semantics(people: list[CPerson]) -> None:
    collections: list[Collection[CPerson, int]] = [
        CPerson.collection(),
        CPerson.collection().sort(by="-birth_year"),
    ]
    for collection in collections:
        full = list(collection)
        assert len(full) == len(PEOPLE)
        for start, stop, step in itertools.product(BOUNDS, BOUNDS, STEPS):
            s = slice(start, stop, step)
            assert collection[s] == full[s], s


def test_slicing_a_filtered_collection(people: list[CPerson]) -> None:
    johns = CPerson.collection(firstname="John").sort(by="lastname")
    full = list(johns)
    assert len(full) == 3
    for start, stop, step in itertools.product(BOUNDS, BOUNDS, [None, 2, -1, -2]):
        s = slice(start, stop, step)
        assert johns[s] == full[s], s


def test_slicing_an_empty_collection() -> None:
    empty = CPerson.collection()
    for start, stop, step in itertools.product([None, -1, 0, 1], [None, -1, 0, 1], [None, 1, -1]):
        assert empty[start:stop:step] == []
    with pytest.raises(IndexError):
        empty[0]
    with pytest.raises(IndexError):
        empty[-1]
    assert len(empty) == 0


def test_zero_slice_step_raises_value_error(people: list[CPerson]) -> None:
    with pytest.raises(ValueError):
        [1, 2][::0]  # what a list does
    with pytest.raises(ValueError):
        CPerson.collection()[::0]


def test_indexing(people: list[CPerson]) -> None:
    collection = CPerson.collection().sort(by="lastname")
    full = list(collection)
    n = len(full)
    for i in range(-n, n):
        assert collection[i] == full[i], i
    for i in (n, n + 1, 100, -n - 1, -100):
        with pytest.raises(IndexError):
            collection[i]


def test_len_and_count(people: list[CPerson]) -> None:
    assert len(CPerson.collection()) == len(PEOPLE)
    assert CPerson.collection().count() == len(PEOPLE)
    assert len(CPerson.collection(firstname="John")) == len(pks_where(lambda first, last, year: first == "John"))
    assert len(CPerson.collection(firstname="John", lastname="Zed")) == 0
    people[0].delete()
    assert len(CPerson.collection()) == len(PEOPLE) - 1
    assert len(CPerson.collection(firstname="John")) == len(pks_where(lambda first, last, year: first == "John")) - 1


# -- instances, primary keys, chaining -------------------------------------------------------------


def test_instances_yields_typed_instances(people: list[CPerson]) -> None:
    found = list(CPerson.collection(firstname="John").instances())
    assert found == [people[0], people[1], people[6]]
    for person in found:
        assert type(person) is CPerson
        firstname: str | None = person.firstname.get()
        assert firstname == "John"
    first: CPerson = CPerson.collection(firstname="John").sort(by="lastname").instances()[0]
    assert first.lastname.get() == "Adams"
    assert [p.lastname.get() for p in CPerson.collection(lastname="Doe").instances()[:]] == ["Doe", "Doe"]


def test_primary_keys_goes_back_to_pks(people: list[CPerson]) -> None:
    collection = CPerson.collection(firstname="John").instances().primary_keys()
    assert list(collection) == [1, 2, 7]
    assert all(type(pk) is int for pk in collection)
    named = CNamed(name="n")
    assert list(CNamed.collection().instances()) == [named]
    assert list(CNamed.collection().instances().primary_keys()) == ["n"]


def test_chaining_returns_new_collections(people: list[CPerson]) -> None:
    base = CPerson.collection(firstname="John")
    narrowed = base.filter(lastname="Doe")
    sorted_ = base.sort(by="lastname")
    as_instances = base.instances()
    assert narrowed is not base and sorted_ is not base
    assert list(base) == [1, 2, 7]  # unchanged by any of the above
    assert list(narrowed) == [2]
    assert list(sorted_) == [7, 2, 1]
    assert list(as_instances) == [people[0], people[1], people[6]]
    # Filtering a sorted collection keeps its sort; sorting again replaces it.
    assert list(sorted_.filter(CPerson.birth_year == 1960)) == [1]
    assert list(sorted_.sort(by="-birth_year")) == [2, 1, 7]
    assert list(sorted_) == [7, 2, 1]


# -- custom collection classes (seed 2.5.6) --------------------------------------------------------


def test_collection_manager_on_the_model() -> None:
    CManaged(kind="a")
    CManaged(kind="b")
    collection = CManaged.collection(kind="b")
    assert isinstance(collection, TaggedCollection)
    assert list(collection) == [2]
    assert isinstance(collection.sort().filter(kind="b"), TaggedCollection)
    assert isinstance(collection.instances(), TaggedCollection)
    assert CManaged.get(kind="a").pk.get() == 1  # get() works through the manager


def test_manager_argument(people: list[CPerson]) -> None:
    default = CPerson.collection(firstname="John")
    assert type(default) is Collection
    custom = CPerson.collection(firstname="John", manager=TaggedCollection)
    assert isinstance(custom, TaggedCollection)
    assert custom.tag == "tagged"
    assert custom.first_or_none() == 1
    assert list(custom.sort(by="lastname")) == [7, 2, 1]
    assert isinstance(custom.sort(by="lastname"), TaggedCollection)
    nobody = CPerson.collection(firstname="Nobody", manager=TaggedCollection)
    assert isinstance(nobody, TaggedCollection)
    assert nobody.first_or_none() is None
