"""Indexes stay exact under concurrent writers, and when writers are killed mid-work.

Writers are separate processes (spawned: nothing shared but the server) doing random writes on
shared indexed and unique values, so that they constantly race on the same index entries. The
checks are ``check_indexes()`` (which reads every index, instance and key) and a direct read of
every unique value. Everything here takes a few seconds.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from limpyd_typed import Database
from tests.integration.concurrency_workers import Racer, write_randomly

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def racers(db: Database) -> Iterator[Database]:
    Racer.use_database(db)
    yield db


def assert_unique_values_held_once() -> None:
    names = [name for name in Racer.collection().values_list(Racer.name, flat=True)]
    assert not [v for v, n in Counter(names).items() if n > 1]
    plates = [p for racer in Racer.collection().instances() for p in set(racer.plates.lrange(0, -1))]
    assert not [v for v, n in Counter(plates).items() if n > 1]


def test_four_writers_racing_on_shared_values_leave_exact_indexes(racers: Database, server_url: str) -> None:
    with SPAWN.Pool(4) as pool:
        pending = pool.starmap_async(write_randomly, [(server_url, seed, 400) for seed in range(4)])
        # While they write, a check sees no problem: its scripts are atomic, like the writes.
        checks = 0
        while not pending.ready():
            report = Racer.check_indexes(batch=16)
            assert report.ok, list(report.lines())
            checks += 1
            time.sleep(0.05)
        refused = pending.get(timeout=60)
    assert checks > 0
    assert sum(refused) > 0  # the writers did clash on unique values
    report = Racer.check_indexes(batch=16)
    assert report.ok, list(report.lines())
    assert report.instances_read == len(Racer.collection()) > 0
    assert_unique_values_held_once()


def test_writers_killed_mid_work_leave_no_inconsistency(racers: Database, server_url: str) -> None:
    rng = random.Random(5)
    for round_ in range(10):
        writing = [SPAWN.Event() for _ in range(2)]
        writers = [SPAWN.Process(target=write_randomly, args=(server_url, 100 * round_ + i, None, writing[i]))
                   for i in range(2)]
        for writer in writers:
            writer.start()
        for event in writing:
            assert event.wait(timeout=30)
        time.sleep(rng.uniform(0.01, 0.3))  # killed at a random point of their work
        for writer in writers:
            assert writer.pid is not None
            os.kill(writer.pid, signal.SIGKILL)
            writer.join()
            assert writer.exitcode == -signal.SIGKILL
    assert int(racers.connection.get("lt:{conc:Racer}:next_pk") or 0) > 20  # the writers did write
    report = Racer.check_indexes(batch=16)
    assert report.ok, list(report.lines())
    assert_unique_values_held_once()


def test_rebuild_repairs_damage_while_writers_write(racers: Database, server_url: str) -> None:
    write_randomly(server_url, 42, 300)
    # Stale entries and orphan keys of pks AutoPK will not reach here...
    for i in range(50):
        racers.connection.zadd("lt:{conc:Racer}:idx:tags", {f"a\x00{10**9 + i}".encode(): 0})
        racers.connection.sadd(f"lt:{{conc:Racer}}:f:tags:{10**9 + i}", "a")
    # ... and every entry of two indexes lost, on the instances the writers are changing.
    racers.connection.delete("lt:{conc:Racer}:idx:team", "lt:{conc:Racer}:idx:score")
    before = Racer.check_indexes()
    assert (before.stale_count, before.orphan_count) == (50, 50) and before.missing_count > 10
    with SPAWN.Pool(4) as pool:
        pending = pool.starmap_async(write_randomly, [(server_url, seed, 300) for seed in range(10, 14)])
        repaired = Racer.rebuild_indexes(batch=8)
        pending.get(timeout=60)
    assert (repaired.stale_count, repaired.orphan_count) == (50, 50) and repaired.missing_count > 0
    # A write only moves the entries it changes, so the lost ones stayed lost until the rebuild
    # re-created them from the data, atomically per batch: now every index is exact.
    report = Racer.check_indexes()
    assert report.ok, list(report.lines())
