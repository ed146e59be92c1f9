"""Range queries and sorts on int fields stay exact where a double cannot tell ints apart.

A range tested on each candidate of a smaller leaf (query.lua's per-candidate plan), a sort and a
page cursor all compare stored ints; past 2**53 two ints share one double, and past 308 digits a
double overflows. The values here sit on both sides of those limits, and every answer is compared
with Python's own comparisons of the values written.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import cast

import pytest

from limpyd_typed import Collection, Database, InstanceHash, Model, String, field


class Reading(Model, namespace="exact"):
    site: InstanceHash[str] = field(indexable=True)
    level: InstanceHash[int | None] = field(index="range", default=None)
    count: String[int | None] = field(index="range", default=None)


EDGE = 2**53
VALUES: list[int | None] = [EDGE - 1, EDGE, EDGE + 1, EDGE + 2, -EDGE - 1, -EDGE, 10**400, -(10**400),
                            10**400 + 1, 0, 7, None]
SITES = 30  # 10 readings each: most ranges below hold more than 6 times as many (the per-candidate plan)


@pytest.fixture
def readings(db: Database) -> Iterator[dict[int, tuple[str, int | None, int | None]]]:
    Reading.use_database(db)
    rows: dict[int, tuple[str, int | None, int | None]] = {}
    for i in range(SITES * 10):
        site, level, count = f"s{i % SITES}", VALUES[(i * 7) % len(VALUES)], VALUES[(i * 5) % len(VALUES)]
        rows[Reading(site=site, level=level, count=count).pk_value] = (site, level, count)
    yield rows


# Model.collection with keyword filters built at run time.
collection_of = cast("Callable[..., Collection[Reading, int, int]]", Reading.collection)

Op = Callable[[int, int], bool]
OPS: list[tuple[str, Op]] = [("gt", operator.gt), ("gte", operator.ge), ("lt", operator.lt), ("lte", operator.le)]


@pytest.mark.parametrize("bound", [EDGE, EDGE + 1, -EDGE - 1, 10**400, 10**400 + 1, -(10**400), 0])
@pytest.mark.parametrize(("name", "holds"), OPS)
def test_a_range_tested_on_candidates_is_exact_past_a_double(
        readings: dict[int, tuple[str, int | None, int | None]], bound: int, name: str, holds: Op) -> None:
    for site in ("s0", "s7"):
        for field_name in ("level", "count"):
            values = {pk: row[1] if field_name == "level" else row[2] for pk, row in readings.items() if row[0] == site}
            expected = {pk for pk, value in values.items() if value is not None and holds(value, bound)}
            found = collection_of(Reading.site == site, **{f"{field_name}__{name}": bound})
            assert set(found) == expected, (site, field_name, name, bound)


def test_a_sort_by_the_field_gives_exact_values_and_order(readings: dict[int, tuple[str, int | None, int | None]]) -> None:
    for site in ("s1", "s2"):
        pks = [pk for pk, row in readings.items() if row[0] == site]
        order = sorted(pks, key=lambda pk: (readings[pk][1] is not None, readings[pk][1] or 0, pk))
        found = Reading.collection(Reading.site == site).sort(by=Reading.level)
        assert list(found.values_list(Reading.level, flat=True)) == [readings[pk][1] for pk in order]
        assert list(found) == order
        # Pages walk the same order (the cursor holds the last value, exact past 2**53).
        paged: list[int] = []
        cursor: str | None = None
        while True:
            page = found.page(3, cursor)
            paged += page.items
            cursor = page.cursor
            if cursor is None:
                break
        assert paged == order
