"""Bulk writes: Model.bulk_create() and Collection.update(), with the guarantees of single writes.

bulk_create sends one script call per batch, which checks each row before writing any of it;
update() one atomic script per instance, pipelined by batches. Indexes are read
back raw and through collections, and failures are checked against full keyspace snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limpyd_typed import (
    BulkCreateError,
    Database,
    InstanceHash,
    InvalidValue,
    Model,
    QueryError,
    Set,
    String,
    UniquenessError,
    field,
    scripts,
)
from tests.conftest import RoundTrips
from tests.integration.support import snapshot, warm_scripts


class City(Model, namespace="bulk"):
    name: InstanceHash[str] = field(unique=True)
    country: InstanceHash[str] = field(indexable=True)
    population: String[int] = field(index="range", default=0)
    tags: Set[str] = field(default=(), indexable=True)


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    City.use_database(db)
    yield


def _rows(count: int, start: int = 0) -> list[dict[str, object]]:
    return [{"name": f"city-{i}", "country": "FR" if i % 2 else "DE", "population": i * 1000}
            for i in range(start, start + count)]


def test_bulk_create_writes_every_row_with_its_indexes(db: Database, round_trips: RoundTrips) -> None:
    warm_scripts(db)
    with round_trips:
        pks = City.bulk_create(_rows(1200), batch_size=500)
    assert round_trips.count == 3  # one script call per batch of 500
    assert pks == list(range(1, 1201))
    french = {i for i in range(1200) if i % 2}
    assert set(City.collection(country="FR").values_list("name", flat=True)) == {f"city-{i}" for i in french}
    assert City.collection(City.population >= 1_190_000).count() == 10
    assert City.get(name="city-7").population.get() == 7000
    assert City.get(pks[3]).tags.smembers() == set()


def test_bulk_create_loads_its_script_when_the_server_does_not_know_it(db: Database) -> None:
    db.execute("FUNCTION", "DELETE", scripts.LIBRARY_NAME)
    assert City.bulk_create(_rows(3)) == [1, 2, 3]
    assert City.collection(country="DE").count() == 2


def test_rows_sharing_a_unique_value_are_refused_before_anything_is_written(db: Database) -> None:
    City(name="already", country="IT")
    before = snapshot(db)
    rows: list[dict[str, object]] = [*_rows(3), {"name": "city-1", "country": "ES"}]
    with pytest.raises(UniquenessError, match=r"City\.name: rows 1 and 3 of bulk_create both hold 'city-1'"):
        City.bulk_create(rows)
    assert snapshot(db) == before


def test_an_invalid_row_writes_nothing(db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(InvalidValue, match=r"City\.population: invalid value 'many'"):
        City.bulk_create([*_rows(5), {"name": "x", "country": "FR", "population": "many"}])
    with pytest.raises(TypeError, match="missing required keyword argument 'country'"):
        City.bulk_create([*_rows(5), {"name": "x"}])
    assert snapshot(db) == before


def test_a_row_clashing_with_stored_data_writes_nothing_and_stops_later_batches(db: Database) -> None:
    City(name="city-3", country="IT")  # pk 1
    with pytest.raises(BulkCreateError, match=r"row 3: City\.name: value 'city-3' is already held by City pk=1") as caught:
        City.bulk_create(_rows(10), batch_size=4)
    # The first batch (rows 0-3) was sent: rows 0, 1, 2 are created, row 3 is not; later batches
    # were never sent.
    assert caught.value.created == [2, 3, 4]
    assert set(City.collection().values_list(City.name, flat=True)) == {"city-0", "city-1", "city-2", "city-3"}
    assert City.get(name="city-3").country.get() == "IT"
    assert City.collection(country="DE").count() == 2  # city-0, city-2


def test_update_assigns_every_match_and_moves_index_entries(db: Database, round_trips: RoundTrips) -> None:
    City.bulk_create(_rows(20))
    warm_scripts(db)
    with round_trips:
        updated = City.collection(country="FR").update(country="BE", population=5, tags={"moved"})
    assert round_trips.count == 2  # the query, then one pipelined batch of writes
    assert updated == 10
    assert City.collection(country="FR").count() == 0
    assert set(City.collection(country="BE").values_list("name", flat=True)) == {f"city-{i}" for i in range(1, 20, 2)}
    assert City.collection(City.population == 5).count() == 10
    assert City.collection(tags="moved").count() == 10
    assert City.collection(country="DE").update() == 0


def test_update_refuses_bad_input_before_writing(db: Database) -> None:
    City.bulk_create(_rows(4))
    before = snapshot(db)
    with pytest.raises(InvalidValue, match=r"City\.population"):
        City.collection().update(population="lots")
    with pytest.raises(QueryError, match=r"City\.update\(\): no field 'nope'"):
        City.collection().update(nope=1)
    with pytest.raises(UniquenessError, match=r"City\.name is unique: update\(\) would give 4 instances the same value"):
        City.collection().update(name="same")
    with pytest.raises(UniquenessError, match=r"City\.name: value 'city-2' is already held"):
        City.collection(name="city-1").update(name="city-2")
    assert snapshot(db) == before
    assert City.collection(name="city-1").update(name="renamed") == 1
    assert City.get(name="renamed").pk.get() == 2


def test_the_create_script_checks_the_rows_of_one_call_against_each_other(db: Database) -> None:
    # bulk_create refuses such rows before sending them; the script does not rely on it.
    from limpyd_typed import templates, writes

    template = templates.create_template(City)
    rows = [City._to_store({"name": "same", "country": "FR"}), City._to_store({"name": "same", "country": "DE"}),
            City._to_store({"name": "other", "country": "DE"})]
    args = list(template.head)
    for pk, values in rows:
        args += writes._create_row(template, pk, values)
    answers = scripts.CREATE(db, template.keys, args)
    assert isinstance(answers, list)
    assert answers[0] == b"1"
    assert answers[1][:2] == [0, b"unique"] and answers[1][3:] == [b"same", b"1"]
    assert answers[2] == b"2"
    given = [(b"9", City._to_store({"name": "third", "country": "IT"})[1]),
             (b"9", City._to_store({"name": "fourth", "country": "IT"})[1])]
    args = list(template.head)
    for pk, values in given:
        args += writes._create_row(template, pk, values)
    assert scripts.CREATE(db, template.keys, args) == [b"9", [0, b"exists", b"9"]]
    assert City.collection(country="DE").count() == 1
    assert set(City.collection().values_list(City.name, flat=True)) == {"other", "same", "third"}
    assert City.check_indexes().ok
