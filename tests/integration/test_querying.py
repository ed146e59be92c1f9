"""Querying against a real server: every operator, with the exact pks each query must return.

Operators: == != in_ < <= > >= between startswith, combined with & | ~, in the typed form
(``Folk.age >= 30``) and the keyword form (``age__gte=30``, ``headers__from__startswith="jo"``).
Then the exactness cases: text bounds ('foo' vs 'foo1'), ints around 2**53, Decimal('1.0') ==
Decimal('1'), one instant at several UTC offsets, indexes kept exact by INCRBY & co; a query
the index cannot answer refused when the collection is built; one round trip per query whatever
its size; ``count()`` exact.

Expected pks are written out from the data each test creates, never read back from a collection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from limpyd_typed import (
    PK,
    Collection,
    Condition,
    Database,
    Hash,
    InstanceHash,
    InvalidValue,
    List,
    Model,
    QueryError,
    Set,
    SortedSet,
    String,
    field,
    replies,
    scripts,
)
from tests.conftest import RoundTrips
from tests.integration.support import FieldKeys, one_trip


class Folk(Model, namespace="querying"):
    name: InstanceHash[str] = field(index="text")
    age: InstanceHash[int | None] = field(index="range", default=None)
    city: InstanceHash[str | None] = field(indexable=True, default=None)  # eq index
    level: InstanceHash[int | None] = field(index="eq", default=None)  # an int with an eq index
    nick: InstanceHash[str | None] = field(default=None)  # not indexed
    tags: Set[str] = field(index="text", default=())
    headers: Hash[str] = field(index="text", default={})


class Num(Model, namespace="querying"):
    big: InstanceHash[int | None] = field(index="range", default=None)
    score: String[int | None] = field(index="range", default=None)
    ratio: String[float | None] = field(index="range", default=None)
    amount: InstanceHash[float | None] = field(index="range", default=None)
    price: InstanceHash[Decimal | None] = field(index="range", default=None)
    seen: InstanceHash[datetime | None] = field(index="range", default=None)
    born: String[date | None] = field(index="range", default=None)
    blob: String[bytes | None] = field(index="text", default=None)
    counters: Hash[int] = field(index="range", default={})
    levels: Hash[float] = field(index="range", default={})
    marks: List[int] = field(index="range", default=())
    medals: SortedSet[str] = field(index="text", default={})


class Code(Model[str], namespace="querying"):
    code: PK[str]
    label: InstanceHash[str] = field(index="text", default="")


NUM_KEYS = FieldKeys("querying", "Num")


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[Database]:
    for model in (Folk, Num, Code):
        model.use_database(db)
    yield db


@pytest.fixture
def folks() -> list[Folk]:
    return [
        Folk(name="John", age=34, city="Paris", level=1, tags={"admin"},
             headers={"from": "john@x.org", "to": "ann@x.org"}),  # 1
        Folk(name="Joan", age=28, city="Rome", level=2, headers={"from": "joan@y.org"}),  # 2
        Folk(name="Ann", age=45, city="Paris", tags={"admin", "ops"}),  # 3
        Folk(name="Bob", level=1, tags={"ops"}, headers={"to": "john@x.org"}),  # 4: no age, no city
        Folk(name="Jo", age=30, city="Lyon", level=3, tags={"admin!"}, headers={"from": "jo@x.org"}),  # 5
    ]


def pks(collection: Collection[Any, int]) -> list[int]:
    return list(collection)


def folks_where(*conditions: Condition[Folk], **filters: Any) -> list[int]:
    return pks(Folk.collection(*conditions, **filters))


def nums_where(*conditions: Condition[Num], **filters: Any) -> list[int]:
    return pks(Num.collection(*conditions, **filters))


# -- every operator ----------------------------------------------------------------------------------


def test_equality(folks: list[Folk]) -> None:
    assert folks_where(Folk.age == 30) == [5]
    assert folks_where(Folk.city == "Paris") == [1, 3]
    assert folks_where(Folk.name == "Jo") == [5]  # not John, not Joan
    assert folks_where(Folk.level == 1) == [1, 4]
    assert folks_where(Folk.tags == "admin") == [1, 3]  # a Set holds it among others
    assert folks_where(city="Paris") == [1, 3]
    assert folks_where(city__eq="Paris") == [1, 3]
    assert folks_where(name__eq="Jo") == [5]
    assert folks_where(age=30) == [5]
    assert folks_where(Folk.age == 31) == []


def test_not_equal_includes_instances_without_a_value(folks: list[Folk]) -> None:
    assert folks_where(Folk.city != "Paris") == [2, 4, 5]  # 4 has no city
    assert folks_where(Folk.age != 30) == [1, 2, 3, 4]  # 4 has no age
    assert folks_where(Folk.level != 1) == [2, 3, 5]  # 3 has no level
    assert folks_where(Folk.tags != "admin") == [2, 4, 5]  # 2 has no tag at all
    assert folks_where(Folk.name != "Jo") == [1, 2, 3, 4]
    assert folks_where(~(Folk.city == "Paris")) == [2, 4, 5]


def test_in(folks: list[Folk]) -> None:
    assert folks_where(Folk.city.in_(["Paris", "Lyon"])) == [1, 3, 5]
    assert folks_where(Folk.city.in_({"Rome", "Oslo"})) == [2]
    assert folks_where(Folk.age.in_(a for a in (28, 45, 99))) == [2, 3]
    assert folks_where(Folk.tags.in_(["ops", "x"])) == [3, 4]
    assert folks_where(Folk.city.in_([])) == []
    assert folks_where(~Folk.city.in_([])) == [1, 2, 3, 4, 5]
    assert folks_where(~Folk.city.in_(["Paris"])) == [2, 4, 5]
    assert folks_where(city__in=["Rome", "Oslo"]) == [2]
    assert folks_where(age__in=(30, 34)) == [1, 5]
    assert folks_where(Folk.pk.in_([2, 5, 99])) == [2, 5]
    assert folks_where(pk__in=[4]) == [4]


def test_order_operators_on_a_range_index(folks: list[Folk]) -> None:
    # ages: 1: 34, 2: 28, 3: 45, 4: none, 5: 30; an instance without a value matches no bound.
    assert folks_where(Folk.age >= 30) == [1, 3, 5]
    assert folks_where(Folk.age > 30) == [1, 3]
    assert folks_where(Folk.age <= 30) == [2, 5]
    assert folks_where(Folk.age < 30) == [2]
    assert folks_where(Folk.age.between(28, 34)) == [1, 2, 5]
    assert folks_where(Folk.age.between(30, 30)) == [5]
    assert folks_where(Folk.age.between(34, 28)) == []
    assert folks_where(Folk.age < -(2**70)) == []
    assert folks_where(Folk.age > -(2**70)) == [1, 2, 3, 5]
    assert folks_where(age__gte=30) == [1, 3, 5]
    assert folks_where(age__gt=30) == [1, 3]
    assert folks_where(age__lte=30) == [2, 5]
    assert folks_where(age__lt=30) == [2]
    assert folks_where(age__between=(28, 34)) == [1, 2, 5]
    assert folks_where(age__between=[45, 100]) == [3]


def test_order_operators_on_a_text_index(folks: list[Folk]) -> None:
    # names: John, Joan, Ann, Bob, Jo
    assert folks_where(Folk.name < "Jo") == [3, 4]
    assert folks_where(Folk.name >= "Jo") == [1, 2, 5]
    assert folks_where(Folk.name > "Jo") == [1, 2]
    assert folks_where(Folk.name <= "Joan") == [2, 3, 4, 5]
    assert folks_where(Folk.name.between("Jo", "Joan")) == [2, 5]  # "John" > "Joan"
    assert folks_where(name__gt="Joan") == [1]
    assert folks_where(Folk.name < "a") == [1, 2, 3, 4, 5]  # byte order: upper case first


def test_startswith(folks: list[Folk]) -> None:
    assert folks_where(Folk.name.startswith("Jo")) == [1, 2, 5]
    assert folks_where(Folk.name.startswith("Joh")) == [1]
    assert folks_where(Folk.name.startswith("John")) == [1]
    assert folks_where(Folk.name.startswith("Johnny")) == []
    assert folks_where(Folk.name.startswith("")) == [1, 2, 3, 4, 5]
    assert folks_where(Folk.name.startswith("jo")) == []  # case matters
    assert folks_where(name__startswith="Jo") == [1, 2, 5]
    assert folks_where(~Folk.name.startswith("Jo")) == [3, 4]


def test_multi_value_fields_match_when_any_value_does(folks: list[Folk]) -> None:
    # tags: 1 {admin}, 2 {}, 3 {admin, ops}, 4 {ops}, 5 {admin!}
    assert folks_where(Folk.tags.startswith("admin")) == [1, 3, 5]
    assert folks_where(Folk.tags >= "ops") == [3, 4]
    assert folks_where(Folk.tags < "b") == [1, 3, 5]
    assert folks_where(Folk.tags.between("admin", "admin")) == [1, 3]
    assert folks_where(~Folk.tags.startswith("admin")) == [2, 4]
    assert folks_where(~(Folk.tags > "admin")) == [1, 2]  # 2 holds nothing, 1 only "admin"
    assert folks_where((Folk.tags == "admin") & (Folk.tags == "ops")) == [3]
    assert folks_where(tags__startswith="adm") == [1, 3, 5]


def test_hash_sub_keys_by_keyword(folks: list[Folk]) -> None:
    # from: 1 john@x.org, 2 joan@y.org, 5 jo@x.org; to: 1 ann@x.org, 4 john@x.org
    assert folks_where(headers__from="john@x.org") == [1]
    assert folks_where(headers__from__eq="jo@x.org") == [5]
    assert folks_where(headers__to="john@x.org") == [4]
    assert folks_where(headers__from__startswith="jo") == [1, 2, 5]
    assert folks_where(headers__from__startswith="joh") == [1]
    assert folks_where(headers__to__startswith="") == [1, 4]
    assert folks_where(headers__from__gte="joan") == [1, 2]  # "jo@" < "joan"
    assert folks_where(headers__from__gt="joan@y.org") == [1]
    assert folks_where(headers__from__lt="joan") == [5]
    assert folks_where(headers__from__lte="joan@y.org") == [2, 5]
    assert folks_where(headers__from__between=("jo", "joan~")) == [2, 5]
    assert folks_where(headers__from__in=["jo@x.org", "ann@x.org"]) == [5]
    assert folks_where(headers__cc__startswith="") == []
    assert folks_where(Folk.age > 29, headers__from__startswith="jo") == [1, 5]


def test_and_or_not(folks: list[Folk]) -> None:
    assert folks_where((Folk.age >= 30) & (Folk.city == "Paris")) == [1, 3]
    assert folks_where(Folk.age >= 30, Folk.city == "Paris") == [1, 3]  # ANDed
    assert folks_where((Folk.city == "Rome") | ~Folk.tags.in_(["admin"])) == [2, 4, 5]  # 5 holds "admin!"
    assert folks_where(~((Folk.age < 30) | (Folk.city == "Paris"))) == [4, 5]
    assert folks_where((Folk.name.startswith("Jo") & ~(Folk.level == 2)) | (Folk.tags == "ops")) == [1, 3, 4, 5]
    assert folks_where(~~(Folk.age > 30)) == [1, 3]
    assert folks_where((Folk.age > 100) | (Folk.pk == 4)) == [4]
    assert folks_where(Folk.pk != 4) == [1, 2, 3, 5]
    assert folks_where(Folk.pk == 99) == []
    assert folks_where(~(Folk.age > 0) & ~(Folk.age <= 0)) == [4]  # only the one without an age


def test_filter_chains_typed_and_keyword_forms(folks: list[Folk]) -> None:
    adults = Folk.collection(Folk.age >= 30)
    assert pks(adults.filter(city="Paris")) == [1, 3]
    assert pks(adults.filter(Folk.name.startswith("Jo"))) == [1, 5]
    assert pks(adults.filter(~Folk.tags.startswith("adm"), age__lt=100)) == []
    assert pks(adults.filter(Folk.city.in_(["Lyon"]) | (Folk.level == 1))) == [1, 5]
    assert pks(adults) == [1, 3, 5]  # unchanged: filter() returns a new collection


# -- exactness -----------------------------------------------------------------------------------------


def test_text_bounds_are_exact() -> None:
    foo, foo1 = Folk(name="foo"), Folk(name="foo1")
    assert folks_where(Folk.name <= "foo") == [foo.pk_value]
    assert folks_where(Folk.name < "foo1") == [foo.pk_value]
    assert folks_where(Folk.name < "foo") == []
    assert folks_where(Folk.name > "foo") == [foo1.pk_value]
    assert folks_where(Folk.name >= "foo1") == [foo1.pk_value]
    assert folks_where(Folk.name == "foo") == [foo.pk_value]
    assert folks_where(Folk.name.between("foo", "foo")) == [foo.pk_value]
    assert folks_where(Folk.name.startswith("foo")) == [foo.pk_value, foo1.pk_value]
    assert folks_where(Folk.name.startswith("foo1")) == [foo1.pk_value]


def test_text_bounds_with_neighbours_and_nul_bytes() -> None:
    names = ["fo", "foo", "foo!", "foo1", "foo\x00", "foo\x00a", "fop", "", "\x00"]
    created = {name: Folk(name=name).pk_value for name in names}

    def named(*chosen: str) -> list[int]:
        return sorted(created[name] for name in chosen)

    assert folks_where(Folk.name <= "foo") == named("fo", "foo", "", "\x00")
    assert folks_where(Folk.name < "foo1") == named("fo", "foo", "foo!", "foo\x00", "foo\x00a", "", "\x00")
    assert folks_where(Folk.name > "foo") == named("foo!", "foo1", "foo\x00", "foo\x00a", "fop")
    assert folks_where(Folk.name <= "foo\x00") == named("fo", "foo", "foo\x00", "", "\x00")
    assert folks_where(Folk.name.startswith("foo")) == named("foo", "foo!", "foo1", "foo\x00", "foo\x00a")
    assert folks_where(Folk.name.startswith("foo\x00")) == named("foo\x00", "foo\x00a")
    assert folks_where(Folk.name.startswith("fo")) == named("fo", "foo", "foo!", "foo1", "foo\x00", "foo\x00a", "fop")
    assert folks_where(Folk.name == "") == named("")
    assert folks_where(Folk.name < "\x00") == named("")
    assert folks_where(Folk.name.startswith("\x00")) == named("\x00")


def test_bytes_text_index_is_in_byte_order() -> None:
    blobs = [b"", b"\x00", b"\x00\x01", b"\x01", b"fo", b"foo", b"foo\xff", b"\xff", b"\xff\xff"]
    created = {blob: Num(blob=blob).pk_value for blob in blobs}

    def having(*chosen: bytes) -> list[int]:
        return sorted(created[blob] for blob in chosen)

    assert nums_where(Num.blob.startswith(b"\xff")) == having(b"\xff", b"\xff\xff")
    assert nums_where(Num.blob.startswith(b"\x00")) == having(b"\x00", b"\x00\x01")
    assert nums_where(Num.blob.startswith(b"foo")) == having(b"foo", b"foo\xff")
    assert nums_where(Num.blob > b"foo") == having(b"foo\xff", b"\xff", b"\xff\xff")
    assert nums_where(Num.blob < b"\x01") == having(b"", b"\x00", b"\x00\x01")
    assert nums_where(Num.blob.between(b"\x00", b"\x01")) == having(b"\x00", b"\x00\x01", b"\x01")
    assert nums_where(blob__startswith=b"\xff\xff") == having(b"\xff\xff")


def test_int_bounds_are_exact_beyond_2_53() -> None:
    values = [2**53 - 1, 2**53, 2**53 + 1, 2**53 + 2, -(2**53) - 1, 2**64, 2**64 + 1, -(2**64) - 1]
    created = {value: Num(big=value).pk_value for value in values}

    def having(*chosen: int) -> list[int]:
        return sorted(created[value] for value in chosen)

    assert nums_where(Num.big <= 2**53) == having(2**53 - 1, 2**53, -(2**53) - 1, -(2**64) - 1)
    assert nums_where(Num.big > 2**53) == having(2**53 + 1, 2**53 + 2, 2**64, 2**64 + 1)
    assert nums_where(Num.big == 2**53 + 1) == having(2**53 + 1)
    assert nums_where(Num.big.between(2**53 + 1, 2**53 + 1)) == having(2**53 + 1)
    assert nums_where(Num.big.between(2**53, 2**53 + 1)) == having(2**53, 2**53 + 1)
    assert nums_where(Num.big < 2**53 + 1) == having(2**53 - 1, 2**53, -(2**53) - 1, -(2**64) - 1)
    assert nums_where(Num.big >= 2**64 + 1) == having(2**64 + 1)
    assert nums_where(Num.big < -(2**53)) == having(-(2**53) - 1, -(2**64) - 1)
    assert nums_where(Num.big < -(2**64)) == having(-(2**64) - 1)
    assert nums_where(big__gt=2**64) == having(2**64 + 1)


def test_float_bounds_are_exact() -> None:
    values = [2.0**53, 2.0**53 + 2, -0.0, 0.5, 5e-324, float("inf"), float("-inf"), -1e308]
    created = [Num(amount=value).pk_value for value in values]

    def having(*indexes: int) -> list[int]:
        return sorted(created[i] for i in indexes)

    assert nums_where(Num.amount <= 2.0**53) == having(0, 2, 3, 4, 6, 7)
    assert nums_where(Num.amount > 2.0**53) == having(1, 5)
    assert nums_where(Num.amount == 0.0) == having(2)  # -0.0 == 0.0
    assert nums_where(Num.amount > 0.0) == having(0, 1, 3, 4, 5)  # 5e-324 > 0
    assert nums_where(Num.amount < 0) == having(6, 7)  # an int operand of a float field
    assert nums_where(Num.amount.between(-1e308, 5e-324)) == having(2, 4, 7)


def test_decimal_one_point_zero_equals_one() -> None:
    texts = ["1.0", "1", "1.00", "0.999", "1.001", "10", "1E+1", "-1", "-1.0"]
    created = {text: Num(price=Decimal(text)).pk_value for text in texts}
    Num(big=1)  # no price

    def having(*chosen: str) -> list[int]:
        return sorted(created[text] for text in chosen)

    assert nums_where(Num.price == Decimal("1")) == having("1.0", "1", "1.00")
    assert nums_where(Num.price == Decimal("1.000")) == having("1.0", "1", "1.00")
    assert nums_where(Num.price.in_([Decimal("10.0")])) == having("10", "1E+1")
    assert nums_where(Num.price > Decimal("1")) == having("1.001", "10", "1E+1")
    assert nums_where(Num.price <= Decimal("1.0")) == having("1.0", "1", "1.00", "0.999", "-1", "-1.0")
    assert nums_where(Num.price < Decimal("1")) == having("0.999", "-1", "-1.0")
    assert nums_where(Num.price.between(Decimal("1.00"), Decimal("1E+0"))) == having("1.0", "1", "1.00")
    assert nums_where(Num.price == Decimal("-1.00")) == having("-1", "-1.0")
    assert nums_where(Num.price != Decimal("1")) == having("0.999", "1.001", "10", "1E+1", "-1", "-1.0") + [10]
    assert nums_where(price__gte=Decimal("10")) == having("10", "1E+1")


def test_one_instant_at_several_offsets_is_one_value() -> None:
    instant = datetime(2000, 1, 1, tzinfo=timezone.utc)
    offsets = [timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(seconds=-1)]
    same = [Num(seen=instant.astimezone(timezone(offset))).pk_value for offset in offsets]
    later = Num(seen=(instant + timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=14)))).pk_value
    earlier = Num(seen=(instant - timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=-23)))).pk_value
    at_plus_14 = instant.astimezone(timezone(timedelta(hours=14)))
    assert nums_where(Num.seen == instant) == same
    assert nums_where(Num.seen == at_plus_14) == same
    assert nums_where(Num.seen > at_plus_14) == [later]
    assert nums_where(Num.seen < instant.astimezone(timezone(timedelta(hours=-1)))) == [earlier]
    assert nums_where(Num.seen >= instant) == same + [later]
    assert nums_where(Num.seen.between(at_plus_14, instant)) == same
    assert nums_where(Num.seen.in_([at_plus_14])) == same
    assert nums_where(seen__lte=at_plus_14) == same + [earlier]
    # Sorting by the field orders by instant too (the README), ties by pk.
    assert pks(Num.collection(Num.seen >= instant - timedelta(1)).sort("seen")) == [earlier] + same + [later]


def test_date_bounds() -> None:
    days = [date(1, 1, 1), date(1999, 12, 31), date(2000, 1, 1), date(2000, 1, 2), date(9999, 12, 31)]
    created = [Num(born=day).pk_value for day in days]
    assert nums_where(Num.born < date(2000, 1, 1)) == created[:2]
    assert nums_where(Num.born >= date(2000, 1, 1)) == created[2:]
    assert nums_where(Num.born.between(date(1999, 12, 31), date(2000, 1, 1))) == created[1:3]
    assert nums_where(born__gt=date(2000, 1, 2)) == created[4:]


def test_list_and_sorted_set_fields_match_any_value() -> None:
    one = Num(marks=[5, 5, -3], medals={"gold": 1.0, "silver": 2.0}).pk_value
    two = Num(marks=[10], medals={"bronze": 3.0}).pk_value
    Num(big=0)
    assert nums_where(Num.marks > 4) == [one, two]
    assert nums_where(Num.marks < 0) == [one]
    assert nums_where(Num.marks.between(6, 10)) == [two]
    assert Num.collection(Num.marks == 5).count() == 1  # two copies, one instance
    assert nums_where(Num.medals.startswith("s")) == [one]
    assert nums_where(Num.medals < "c") == [two]
    assert nums_where(~(Num.medals >= "c")) == [two, 3]


# -- indexes follow every write ----------------------------------------------------------------------


def test_a_range_index_follows_incr_decr_and_incrbyfloat() -> None:
    num = Num(score=5, ratio=1.5, big=10, amount=0.25, counters={"n": 1}, levels={"x": 0.5})
    pk = num.pk_value
    num.score.incr(2**62)
    assert num.score.get() == 5 + 2**62
    assert nums_where(Num.score == 5 + 2**62) == [pk]
    assert nums_where(Num.score == 5) == []
    assert nums_where(Num.score > 2**62 + 4) == [pk]
    assert nums_where(Num.score > 2**62 + 5) == []
    num.score.decr(2**62 + 6)
    assert num.score.get() == -1
    assert nums_where(Num.score < 0) == [pk]
    assert nums_where(Num.score >= 0) == []
    assert num.ratio.incrbyfloat(1.5) == 3.0  # Redis now stores "3"
    assert nums_where(Num.ratio == 3.0) == [pk]
    assert nums_where(Num.ratio.between(2.9, 3.1)) == [pk]
    assert nums_where(Num.ratio == 1.5) == []
    assert num.big.hincrby(-20) == -10
    assert nums_where(Num.big == -10) == [pk]
    assert nums_where(Num.big > 0) == []
    assert num.amount.hincrbyfloat(0.5) == 0.75
    assert nums_where(Num.amount == 0.75) == [pk]
    assert nums_where(Num.amount <= 0.25) == []
    num.counters.hincrby("n", 2**53)
    assert num.counters.hget("n") == 2**53 + 1
    assert nums_where(counters__n=2**53 + 1) == [pk]
    assert nums_where(counters__n__gt=2**53) == [pk]
    assert nums_where(counters__n=1) == []
    assert num.levels.hincrbyfloat("x", -1.0) == -0.5
    assert nums_where(levels__x__lt=0) == [pk]
    assert nums_where(levels__x=0.5) == []


def test_increments_return_the_exact_new_value_beyond_2_53() -> None:
    # The write script runs the increment: its reply must not go through a Lua number (a double).
    num = Num(score=5, big=5, counters={"n": 5})
    assert num.score.incr(2**62) == 2**62 + 5 == num.score.get()
    assert num.score.decr(2**62) == 5
    assert num.score.decr(2**53 + 6) == -(2**53) - 1 == num.score.get()
    assert num.big.hincrby(2**53 + 2) == 2**53 + 7 == num.big.get()
    assert num.counters.hincrby("n", 2**60) == 2**60 + 5 == num.counters.hget("n")


def test_index_entries_stay_one_per_value_after_increments(db: Database) -> None:
    num = Num(score=1, big=1, counters={"n": 1, "m": 2})
    for _ in range(3):
        num.score.incr()
        num.big.hincrby(2)
        num.counters.hincrby("n", 5)
    assert len(NUM_KEYS.index(db, "score")) == 1
    assert len(NUM_KEYS.index(db, "big")) == 1
    assert len(NUM_KEYS.index(db, "counters")) == 2
    assert nums_where(Num.score.between(1, 3)) == []
    assert nums_where(Num.score == 4) == [num.pk_value]
    assert nums_where(counters__n__between=(15, 16), counters__m=2) == [num.pk_value]


# -- refusals, when the collection is built ------------------------------------------------------------


def test_queries_the_index_cannot_answer_raise_at_build_time(folks: list[Folk], round_trips: RoundTrips) -> None:
    refused: list[tuple[Callable[[], object], str]] = [
        (lambda: Folk.collection(Folk.city.startswith("Pa")), r"Folk\.city startswith"),
        (lambda: Folk.collection(city__startswith="Pa"), r"Folk\.city startswith"),
        (lambda: Folk.collection(Folk.city < "Rome"), r"Folk\.city lt"),
        (lambda: Folk.collection(Folk.level < 3), r"Folk\.level lt"),
        (lambda: Folk.collection(Folk.level >= 3), r"Folk\.level ge"),
        (lambda: Folk.collection(Folk.level.between(1, 2)), r"Folk\.level between"),
        (lambda: Folk.collection(level__gt=2), r"Folk\.level gt"),
        (lambda: Folk.collection(level__lte=2), r"Folk\.level le"),
        (lambda: Folk.collection(age__startswith="3"), r"Folk\.age startswith"),
        (lambda: Folk.collection(Folk.pk >= 2), r"Folk\.pk ge"),
        (lambda: Folk.collection(Folk.pk.between(1, 2)), r"Folk\.pk between"),
        (lambda: Folk.collection(pk__lt=3), r"Folk\.pk lt"),
        (lambda: Code.collection(Code.code > "a"), r"Code\.code gt"),
        (lambda: Code.collection(Code.code.startswith("a")), r"Code\.code startswith"),
        (lambda: Code.collection(code__startswith="a"), r"Code\.code startswith"),
        (lambda: Folk.collection(nick__startswith="J"), r"Folk\.nick is not indexed"),
        # Deep inside a tree, in filter(), after valid conditions: still refused at once.
        (lambda: Folk.collection((Folk.age > 1) | ~((Folk.name == "x") & (Folk.city < "x"))), r"Folk\.city lt"),
        (lambda: Folk.collection(Folk.age > 1).filter(Folk.level > 1), r"Folk\.level gt"),
        (lambda: Folk.collection().sort("name").filter(Folk.pk <= 1), r"Folk\.pk le"),
    ]
    with round_trips as rt:
        for build, message in refused:
            with pytest.raises(QueryError, match=message):
                build()
    assert rt.count == 0


def test_wrong_operands_raise_at_build_time(folks: list[Folk], round_trips: RoundTrips) -> None:
    with round_trips as rt:
        with pytest.raises(InvalidValue, match=r"Folk\.age"):
            Folk.collection(age__gte="30")
        with pytest.raises(InvalidValue, match=r"Folk\.age"):
            Folk.collection(age__between=(1, 2.5))
        with pytest.raises(InvalidValue, match=r"Num\.seen"):
            Num.collection(seen__lt=datetime(2000, 1, 1))  # naive
        with pytest.raises(InvalidValue, match=r"Num\.born"):
            Num.collection(born__lt=datetime(2000, 1, 1, tzinfo=timezone.utc))  # a datetime is not a date
        with pytest.raises(QueryError, match="None"):
            Folk.collection(age__lt=None)
        with pytest.raises(QueryError, match="pair"):
            Folk.collection(age__between=30)
        with pytest.raises(QueryError, match="collection of values"):
            Folk.collection(city__in="Paris")
        with pytest.raises(QueryError, match="unknown filter"):
            Folk.collection(age__ne=3)
    assert rt.count == 0


def test_in_refuses_a_single_text_like_the_keyword_form(round_trips: RoundTrips) -> None:
    # city__in="Paris" is refused ("takes a collection of values"); the typed in_("Paris") type
    # checks (a str is an Iterable[str]) but must not silently become in_(["P", "a", "r", "i", "s"]).
    Folk(name="p", city="P")
    Folk(name="a", city="a")
    with pytest.raises(QueryError, match="collection of values"):
        Folk.collection(city__in="Paris")
    with round_trips as rt, pytest.raises(QueryError, match="collection of values"):
        Folk.collection(Folk.city.in_("Paris"))
    assert rt.count == 0


# -- one round trip, exact counts ----------------------------------------------------------------------


def _big_condition() -> Condition[Folk]:
    """Dozens of leaves of every operator, nested: it matches John (1) and Jo (5) only."""
    condition = Folk.name.startswith("Jo")
    for i in range(6):
        condition = condition & (
            ((Folk.age >= 29 - i) | (Folk.city == "Paris"))
            & ~(Folk.level == 2)
            & (Folk.tags.startswith("adm") | Folk.city.in_(["Lyon", f"x{i}"]))
            & (Folk.name.between("A", "Z") | (Folk.age < 0))
        )
    return condition


def test_each_query_is_one_round_trip_whatever_its_size(db: Database, folks: list[Folk], round_trips: RoundTrips) -> None:
    scripts.load(db)
    small = Folk.collection(Folk.age >= 30)
    big = Folk.collection(_big_condition(), headers__from__startswith="jo").sort("-age")
    assert one_trip(round_trips, lambda: list(small)) == [1, 3, 5]
    assert one_trip(round_trips, lambda: list(big)) == [1, 5]
    for collection, expected in ((small, [1, 3, 5]), (big, [1, 5])):
        fresh = collection.filter()  # a clone: nothing cached
        assert one_trip(round_trips, lambda: fresh.count()) == len(expected)
        assert one_trip(round_trips, lambda: collection.filter().first()) == expected[0]
        assert one_trip(round_trips, lambda: collection.filter().exists()) is True
        assert one_trip(round_trips, lambda: collection.filter()[0]) == expected[0]
        assert one_trip(round_trips, lambda: collection.filter()[-1]) == expected[-1]
        assert one_trip(round_trips, lambda: collection.filter()[::-1]) == expected[::-1]
        assert one_trip(round_trips, lambda: len(collection.filter())) == len(expected)
        assert one_trip(round_trips, lambda: list(collection.filter().instances())) == [Folk.lazy_connect(pk) for pk in expected]


def test_building_sends_nothing(folks: list[Folk], round_trips: RoundTrips) -> None:
    with round_trips as rt:
        Folk.collection(_big_condition(), headers__from__startswith="jo").sort("-age").filter(age__lt=99)
    assert rt.count == 0


def test_count_is_exact(folks: list[Folk]) -> None:
    cases: list[tuple[Collection[Folk, int], int]] = [
        (Folk.collection(), 5),
        (Folk.collection(Folk.tags.startswith("admin")), 3),  # 3 holds two values that match: counted once
        (Folk.collection(Folk.tags < "z"), 4),
        (Folk.collection((Folk.age > 29) | (Folk.city == "Paris")), 3),  # overlapping branches
        (Folk.collection(~(Folk.age > 29)), 2),
        (Folk.collection(Folk.city != "Paris"), 3),
        (Folk.collection(Folk.level == 1), 2),
        (Folk.collection(Folk.pk.in_([1, 1, 2, 99])), 2),
        (Folk.collection(Folk.age.in_([30, 30, 34])), 2),
        (Folk.collection(headers__from__startswith="jo"), 3),
        (Folk.collection(Folk.age > 100), 0),
    ]
    for collection, expected in cases:
        assert collection.count() == expected, collection
        assert len(list(collection)) == expected, collection


def test_count_asks_the_server_even_after_the_collection_has_run(folks: list[Folk]) -> None:
    # README: "A collection that has run keeps its results: iterating it again, len() and indexing
    # reuse them (count() always asks the server)"; count(): "counted on the server (exact...)".
    adults = Folk.collection(Folk.age >= 30)
    assert list(adults) == [1, 3, 5]
    Folk(name="Zoe", age=60)  # 6
    assert list(adults) == [1, 3, 5] and len(adults) == 3  # the kept results, as documented
    assert adults.filter().count() == 4  # a fresh clone asks the server: [1, 3, 5, 6]
    assert adults.count() == 4  # so must the collection that has run
    folks[2].delete()
    folks[4].delete()
    assert adults.count() == 2  # [1, 6]
    assert adults.exists()
