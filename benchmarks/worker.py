"""Run workloads of one system and print what each run measured as JSON (a subprocess per call).

``python -m benchmarks.worker '<config json>'``; the parent (``benchmarks.cli``) reads stdout and
summarises the runs of each system (``summary``), which it gathers over several calls: the systems
take turns run by run, so that a change of the machine's load between runs hits them alike.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TypedDict

import redis

from . import common
from .common import (BULK, CREATE, DELETE, GET, QUERY_EQ, QUERY_RANGE, RANGE_MIN_AGE, UPDATE, CityRow,
                     System, Unavailable, city_count, city_name, people)
from .data import cities


class Config(TypedDict):
    system: str
    url: str
    objects: int
    runs: int
    first_run: int  # the number of the first run (it seeds the order of gets, updates and deletes)
    parts: list[str]  # "people" (create ... delete) and/or "bulk"
    queries: int
    bulk_dataset: int
    bulk_rows: int | None
    batch_size: int


class RunData(TypedDict):
    """What one run of one workload measured (the parent summarises several)."""

    ops: int  # operations in the run (rows for the bulk load)
    seconds: float
    latencies: list[float]
    round_trips: int
    commands: int
    memory: int
    rows: list[int]
    commandstats: dict[str, int]


class Measure(TypedDict):
    """One workload of one system, over every run."""

    ops: int  # operations per run (rows for the bulk load)
    ops_per_s: float  # median over runs
    runs_ops_per_s: list[float]
    p50_ms: float
    p99_ms: float
    round_trips_per_op: float  # client requests (a pipeline or MULTI block is one), mean
    server_commands_per_op: float  # total_commands_processed delta, mean (MULTI/EXEC count)
    bytes_per_object: float | None  # used_memory delta per object created (create, bulk)
    rows_per_op: float | None  # rows a query returned, mean
    commandstats: dict[str, int]  # server command calls in the last run, scripts' inner calls included
    error: str | None


class _Stats:
    """Reads the server's counters on a connection of its own (never inside a timed section)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def info(self, section: str) -> dict[str, Any]:
        run: Callable[..., Any] = self.client.execute_command
        found: dict[str, Any] = run("INFO", section)
        return found

    def flush(self) -> None:
        """FLUSHDB SYNC: Valkey 8 frees a plain FLUSHDB in the background (lazyfree-lazy-user-flush),
        which would shrink used_memory in the middle of the next measure."""
        run: Callable[..., Any] = self.client.execute_command
        run("FLUSHDB", "SYNC")

    def snapshot(self) -> tuple[int, int, dict[str, int]]:
        """(total commands processed, used memory, calls per command)."""
        stats = self.info("stats")
        memory = self.info("memory")
        commands = {name.removeprefix("cmdstat_"): int(value["calls"])
                    for name, value in self.info("commandstats").items() if isinstance(value, dict)}
        return int(stats["total_commands_processed"]), int(memory["used_memory"]), commands


class _Run:
    """Times one workload of one run: latencies, round trips, server commands, memory."""

    def __init__(self, stats: _Stats) -> None:
        self.stats = stats
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.round_trips = 0
        self.commands = 0
        self.memory = 0
        self.commandstats: dict[str, int] = {}
        self.rows: list[int] = []

    def measure(self, body: Callable[[Callable[[], None]], None]) -> None:
        """Run ``body(tick)``: each tick closes one latency sample."""
        before_commands, before_memory, before_stats = self.stats.snapshot()
        sent = common.round_trips_sent()
        start = last = time.perf_counter()

        def tick() -> None:
            nonlocal last
            now = time.perf_counter()
            self.latencies.append(now - last)
            last = now

        body(tick)
        self.seconds = time.perf_counter() - start
        self.round_trips = common.round_trips_sent() - sent
        after_commands, after_memory, after_stats = self.stats.snapshot()
        # The three INFO calls of the first snapshot are counted in the second.
        self.commands = after_commands - before_commands - 3
        self.memory = after_memory - before_memory
        self.commandstats = {name: calls - before_stats.get(name, 0) for name, calls in after_stats.items()
                             if name != "info" and calls - before_stats.get(name, 0) > 0}

    def data(self, ops: int) -> RunData:
        return RunData(ops=ops, seconds=self.seconds, latencies=self.latencies, round_trips=self.round_trips,
                       commands=self.commands, memory=self.memory, rows=self.rows, commandstats=self.commandstats)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(runs: list[RunData], memory: bool, error: str | None = None) -> Measure:
    """One workload of one system over its runs (ops/s: the median run); ``error``: it failed."""
    if error is not None or not runs:
        return Measure(ops=0, ops_per_s=0.0, runs_ops_per_s=[], p50_ms=0.0, p99_ms=0.0, round_trips_per_op=0.0,
                       server_commands_per_op=0.0, bytes_per_object=None, rows_per_op=None, commandstats={},
                       error=error or "no run")
    ops = runs[0]["ops"]
    latencies = [x for run in runs for x in run["latencies"]]
    total_ops = max(1, ops * len(runs))
    rows = [r for run in runs for r in run["rows"]]
    return Measure(
        ops=ops,
        ops_per_s=statistics.median(ops / run["seconds"] for run in runs),
        runs_ops_per_s=[ops / run["seconds"] for run in runs],
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        round_trips_per_op=sum(run["round_trips"] for run in runs) / total_ops,
        server_commands_per_op=sum(run["commands"] for run in runs) / total_ops,
        bytes_per_object=statistics.median(run["memory"] / ops for run in runs) if memory else None,
        rows_per_op=statistics.mean(rows) if rows else None,
        commandstats=runs[-1]["commandstats"],
        error=None,
    )


def run_people(system: System, stats: _Stats, config: Config) -> dict[str, list[RunData]]:
    """create, get, update, both queries and delete, ``runs`` times on an emptied database."""
    rows = people(config["objects"])
    cities = city_count(config["objects"])
    names = (CREATE, GET, UPDATE, QUERY_EQ, QUERY_RANGE, DELETE)
    ops = {CREATE: len(rows), GET: len(rows), UPDATE: len(rows), QUERY_EQ: config["queries"],
           QUERY_RANGE: config["queries"], DELETE: len(rows)}
    runs: dict[str, list[RunData]] = {name: [] for name in names}
    for number in range(config["first_run"], config["first_run"] + config["runs"]):
        stats.flush()
        shuffle = random.Random(number)
        pks: list[object] = []

        def create(tick: Callable[[], None]) -> None:
            for row in rows:
                pks.append(system.create(row))
                tick()

        order = list(range(len(rows)))
        shuffle.shuffle(order)

        def get(tick: Callable[[], None]) -> None:
            for i in order:
                if system.get(pks[i]) is None:
                    raise AssertionError(f"{system.name}: pk {pks[i]!r} not found")
                tick()

        def update(tick: Callable[[], None]) -> None:
            for i in order:
                system.update(pks[i], city_name((i * 31 + 1) % cities))
                tick()

        def query_eq(run: _Run) -> Callable[[Callable[[], None]], None]:
            def body(tick: Callable[[], None]) -> None:
                for q in range(config["queries"]):
                    run.rows.append(len(system.query_eq(city_name(q % cities))))
                    tick()
            return body

        def query_range(run: _Run) -> Callable[[Callable[[], None]], None]:
            def body(tick: Callable[[], None]) -> None:
                for q in range(config["queries"]):
                    run.rows.append(len(system.query_range(city_name(q % cities), RANGE_MIN_AGE)))
                    tick()
            return body

        def delete(tick: Callable[[], None]) -> None:
            for i in order:
                system.delete(pks[i])
                tick()

        bodies: dict[str, Callable[[_Run], Callable[[Callable[[], None]], None]]] = {
            CREATE: lambda _: create, GET: lambda _: get, UPDATE: lambda _: update,
            QUERY_EQ: query_eq, QUERY_RANGE: query_range, DELETE: lambda _: delete,
        }
        for name in names:
            run = _Run(stats)
            run.measure(bodies[name](run))
            runs[name].append(run.data(ops[name]))
    return runs


def run_bulk(system: System, stats: _Stats, config: Config) -> RunData:
    rows: list[CityRow] = cities(config["bulk_dataset"], config["bulk_rows"])
    stats.flush()
    run = _Run(stats)
    written = [0]

    def body(tick: Callable[[], None]) -> None:
        written[0] = system.bulk(rows, config["batch_size"], tick)

    run.measure(body)
    if written[0] != len(rows):
        raise AssertionError(f"wrote {written[0]} of {len(rows)} rows")
    return run.data(len(rows))


def main(argv: list[str]) -> int:
    """Print {"runs": {workload: [RunData, ...]}, "errors": {workload: why it failed}}."""
    config: Config = json.loads(argv[0])
    from .systems import load

    common.count_round_trips()
    runs: dict[str, list[RunData]] = {}
    errors: dict[str, str] = {}
    try:
        system = load(config["system"])
    except ImportError as exc:
        print(json.dumps({"unavailable": f"not installed ({exc})"}))
        return 0
    system.connect(config["url"])
    stats = _Stats(config["url"])
    try:
        if "people" in config["parts"]:
            try:
                runs.update(run_people(system, stats, config))
            except Exception as exc:  # a peer failing a workload: said in its row, the others go on
                traceback.print_exc()
                for name in (CREATE, GET, UPDATE, QUERY_EQ, QUERY_RANGE, DELETE):
                    errors[name] = f"{type(exc).__name__}: {exc}"[:200]
        if "bulk" in config["parts"]:
            try:
                runs[BULK] = [run_bulk(system, stats, config)]
            except Unavailable as exc:
                errors[BULK] = str(exc)
            except Exception as exc:
                traceback.print_exc()
                errors[BULK] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        stats.flush()
        system.close()
    print(json.dumps({"runs": runs, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
