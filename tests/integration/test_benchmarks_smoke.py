"""The benchmarks run, at tiny sizes, and each limpyd_typed operation keeps its round trips.

Round trips are counted, never wall time: create, update and delete are one round trip each, a
query with its values at most two (one today).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common import PAGE, RANGE_MIN_AGE, city_name, people
from benchmarks.systems import LUA, OURS, RAW, load
from benchmarks.systems.typed import Typed
from benchmarks.worker import Config, summary
from limpyd_typed import Database

from ..conftest import RoundTrips

ROOT = Path(__file__).resolve().parents[2]


def test_each_limpyd_typed_operation_keeps_its_round_trips(db: Database, round_trips: RoundTrips) -> None:
    system = Typed()
    system.use(db)
    rows = people(300)  # 3 cities of 100
    pks = []
    for row in rows[:250]:
        with round_trips as rt:
            pks.append(system.create(row))
        assert rt.count == 1
    for row in rows[250:]:
        pks.append(system.create(row))
    with round_trips as rt:
        assert system.get(pks[0]) == (rows[0].name, rows[0].city, rows[0].age, rows[0].email, rows[0].score)
    assert rt.count <= 2  # Model.get (exists) + hgetall
    with round_trips as rt:
        system.update(pks[0], city_name(1))
    assert rt.count == 1
    with round_trips as rt:
        found = system.query_eq(city_name(2))
    assert rt.count <= 2 and len(found) == 100
    with round_trips as rt:
        page = system.query_range(city_name(2), RANGE_MIN_AGE)
    assert rt.count <= 2 and len(page) == PAGE
    ages = [age for _, _, age, _, _ in page if isinstance(age, int)]
    assert len(ages) == PAGE and ages == sorted(ages) and min(ages) >= RANGE_MIN_AGE
    for pk in pks:
        with round_trips as rt:
            system.delete(pk)
        assert rt.count == 1
    assert db.connection.dbsize() <= 1  # the AutoPK counter is all that is left


@pytest.mark.parametrize("name", [RAW, LUA])
def test_the_floors_answer_as_limpyd_typed_does(server_url: str, db: Database, name: str) -> None:
    ours, floor = Typed(), load(name)
    ours.use(db)
    floor.connect(server_url)
    try:
        rows = people(200)
        for row in rows:
            ours.create(row)
            floor.create(row)
        assert floor.query_eq(city_name(1)) == ours.query_eq(city_name(1))
        # Ties of age may come in another order: compare the ages and the set of people.
        mine, theirs = ours.query_range(city_name(0), RANGE_MIN_AGE), floor.query_range(city_name(0), RANGE_MIN_AGE)
        assert [v[2] for v in mine] == [v[2] for v in theirs]
        assert floor.get(1) == ours.get(1)
    finally:
        floor.close()


def test_the_worker_measures_every_workload(server_url: str, db: Database) -> None:
    config = Config(system=OURS, url=server_url, objects=200, runs=2, first_run=0, parts=["people", "bulk"],
                    queries=3, bulk_dataset=15000, bulk_rows=120, batch_size=50)
    done = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["errors"] == {}
    assert {workload: len(runs) for workload, runs in out["runs"].items()} == {
        "create": 2, "get by pk": 2, "update indexed field": 2, "query eq + values": 2,
        "query range+eq, sort, page 50": 2, "delete": 2, "bulk load": 1}
    results = {workload: summary(runs, memory=workload in ("create", "bulk load"))
               for workload, runs in out["runs"].items()}
    expected = {"create": 1, "update indexed field": 1, "delete": 1}
    for workload, most in expected.items():
        assert results[workload]["error"] is None
        assert results[workload]["round_trips_per_op"] == most, workload
    for workload in ("query eq + values", "query range+eq, sort, page 50"):
        assert results[workload]["round_trips_per_op"] <= 2
        rows = results[workload]["rows_per_op"]
        assert rows is not None and rows > 0
    bulk = results["bulk load"]
    assert bulk["error"] is None and bulk["ops"] == 120
    assert bulk["round_trips_per_op"] <= 3 / 50  # at most 3 round trips per batch of 50 rows
