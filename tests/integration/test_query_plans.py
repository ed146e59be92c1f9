"""The query script's plans for an AND: the smallest leaf walked, the others tested per candidate.

A leaf much larger than the walked one is not read whole: an equality is tested with one ZSCORE
per candidate, a range on a single-value field by reading the candidate's value and placing its
index entry against the range's bounds (query.lua). The data here is large enough for each of
these plans to be the one chosen, and every answer is compared with a plain-Python evaluation of
the values written (values sorted by value, ties by pk, as the README says).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from limpyd_typed import Database, InstanceHash, Model, String, field, replies
from tests.conftest import RoundTrips


class Member(Model, namespace="plans"):
    city: InstanceHash[str] = field(indexable=True)
    team: InstanceHash[str] = field(indexable=True)
    age: InstanceHash[int | None] = field(index="range", default=None)
    name: InstanceHash[str] = field(index="text")
    joined: String[date | None] = field(index="range", default=None)
    balance: InstanceHash[Decimal] = field(index="range", default=Decimal(0))
    ratio: String[float] = field(index="range", default=0.0)


Row = dict[str, Any]
Keep = Callable[[Row], bool]

COUNT = 240
CITIES = 24  # 10 members each: every range below holds many times more


def _values(i: int) -> Row:
    return {
        "city": f"c{i % CITIES}",
        "team": "big" if i % 8 else "small",
        "age": None if i % 17 == 0 else (i * 37) % 90 - 5,  # negative ones too, and missing ones
        "name": ["ann", "anna", "bob", "a\x00b", "\x01z", "é"][i % 6] + str(i % 5),
        "joined": None if i % 11 == 0 else date(2000, 1, 1) + timedelta(days=(i * 13) % 400),
        "balance": [Decimal("1.0"), Decimal("1"), Decimal("-2.5"), Decimal("1E+2"), Decimal("0.1")][i % 5],
        "ratio": [0.5, -0.0, 0.0, 1e300, -3.25, float("inf")][i % 6],
    }


ROWS: dict[int, Row] = {}


@pytest.fixture(autouse=True)
def members(db: Database) -> Iterator[None]:
    Member.use_database(db)
    ROWS.clear()
    for i in range(COUNT):
        values = _values(i)
        member = Member(**values)
        ROWS[member.pk_value] = values
    yield


def _expected(keep: Keep, by: str | None = None, desc: bool = False) -> list[int]:
    found = [pk for pk, row in ROWS.items() if keep(row)]
    if by is None:
        return sorted(found, reverse=desc)

    def key(pk: int) -> tuple[bool, Any, int]:
        value = ROWS[pk][by]
        return (value is not None, value if value is not None else 0, pk)

    return sorted(found, key=key, reverse=desc)


def test_equality_and_a_large_int_range_sorted_by_it() -> None:
    for city in ("c0", "c5", "c23"):
        for low in (-5, 0, 30, 84, 85, 200):
            query = Member.collection(Member.city == city, Member.age >= low)
            def keep(row: Row, low: int = low, city: str = city) -> bool:
                return bool(row["city"] == city and row["age"] is not None and row["age"] >= low)
            assert list(query) == _expected(keep)
            assert list(query.sort(by="age")) == _expected(keep, "age")
            assert query.sort(by="-age")[:3] == _expected(keep, "age", desc=True)[:3]
            assert query.count() == len(_expected(keep))
            rows = list(query.sort(by="age").values_list(Member.age, Member.name)[:4])
            assert rows == [(ROWS[pk]["age"], ROWS[pk]["name"]) for pk in _expected(keep, "age")[:4]]


def test_every_bound_of_a_range_tested_per_candidate() -> None:
    def ages(test: Callable[[int], bool]) -> Keep:
        return lambda row: bool(row["city"] == "c7" and row["age"] is not None and test(row["age"]))

    cases: list[tuple[Any, Keep]] = [
        (Member.age < 40, ages(lambda a: a < 40)),
        (Member.age <= 40, ages(lambda a: a <= 40)),
        (Member.age > 40, ages(lambda a: a > 40)),
        (Member.age.between(-5, 12), ages(lambda a: -5 <= a <= 12)),
        (Member.age.between(13, 12), ages(lambda a: False)),
    ]
    for condition, keep in cases:
        assert list(Member.collection(Member.city == "c7", condition).sort(by="age")) == _expected(keep, "age")


def test_ranges_of_every_kind_of_value_tested_per_candidate() -> None:
    cases: list[tuple[Any, Keep]] = [
        (Member.name.startswith("an"), lambda row: bool(row["name"].startswith("an"))),
        (Member.name >= "a\x00", lambda row: bool(row["name"].encode() >= b"a\x00")),
        (Member.name < "b", lambda row: bool(row["name"].encode() < b"b")),
        (Member.joined >= date(2000, 6, 1), lambda row: row["joined"] is not None and row["joined"] >= date(2000, 6, 1)),
        (Member.balance >= Decimal("1"), lambda row: bool(row["balance"] >= Decimal(1))),
        (Member.balance < Decimal("1.00"), lambda row: bool(row["balance"] < Decimal(1))),
        (Member.ratio >= 0.0, lambda row: bool(row["ratio"] >= 0.0)),
        (Member.ratio > 0.0, lambda row: bool(row["ratio"] > 0.0)),
    ]
    for city in ("c1", "c2", "c3"):
        for condition, test in cases:
            def keep(row: Row, test: Keep = test, city: str = city) -> bool:
                return row["city"] == city and test(row)
            assert list(Member.collection(Member.city == city, condition)) == _expected(keep)


def test_a_large_equality_tested_per_candidate() -> None:
    query = Member.collection(Member.city == "c4", Member.team == "big", Member.age >= 0)
    def keep(row: Row) -> bool:
        return bool(row["city"] == "c4" and row["team"] == "big" and row["age"] is not None and row["age"] >= 0)

    assert list(query.sort(by="age")) == _expected(keep, "age")
    assert list(Member.collection(Member.city == "c4", ~(Member.team == "big"))) == _expected(
        lambda row: row["city"] == "c4" and row["team"] != "big")


def test_a_value_changed_or_deleted_is_seen_by_the_next_query(db: Database) -> None:
    pk = _expected(lambda row: row["city"] == "c9" and row["age"] is not None and row["age"] >= 10)[0]
    Member.lazy_connect(pk).age.hset(3)
    assert pk not in list(Member.collection(Member.city == "c9", Member.age >= 10))
    assert pk in list(Member.collection(Member.city == "c9", Member.age < 10))
    Member.lazy_connect(pk).delete()
    assert pk not in list(Member.collection(Member.city == "c9", Member.age < 10))
    assert replies.integer(db.execute("EXISTS", Member._keys.instance_prefix + str(pk))) == 0


def test_one_round_trip_and_no_key_left(db: Database, round_trips: RoundTrips) -> None:
    before = replies.integer(db.execute("DBSIZE"))
    list(Member.collection(Member.city == "c3", Member.age >= 10))  # load the script library
    with round_trips as rt:
        names = Member.collection(Member.city == "c3", Member.age >= 10).sort(by="age").values_list(
            Member.name, flat=True)[:5]
    assert rt.count == 1
    assert names == [ROWS[pk]["name"] for pk in _expected(
        lambda row: row["city"] == "c3" and row["age"] is not None and row["age"] >= 10, "age")[:5]]
    assert replies.integer(db.execute("DBSIZE")) == before
