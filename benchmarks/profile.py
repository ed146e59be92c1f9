"""``python -m benchmarks.profile [--objects N]``: where limpyd_typed's time goes, per workload.

Runs create, get by pk, update, the two queries, delete and the bulk load under cProfile on a private server, and
splits each one's own time (tottime) into the layers it goes through, plus the server's time per
script call (INFO commandstats). On a unix socket a send wakes the server, so the socket line
holds most of the server's time too: read it beside the server column.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from limpyd_typed import Database

from .common import RANGE_MIN_AGE, city_count, city_name, people
from .data import cities as geonames_cities
from .systems.lua_floor import Lua
from .systems.typed import Typed

# (layer, what identifies its functions in cProfile's (file, line, name) keys)
LAYERS: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("socket I/O (and the server, woken by each send)", lambda f, n: "_socket.socket" in n),
    ("codecs (encode/decode values)", lambda f, n: f.endswith(("limpyd_typed/codecs.py", "limpyd_typed/sortable.py"))),
    ("fields and descriptors", lambda f, n: "limpyd_typed/fields/" in f or f.endswith("limpyd_typed/declaration.py")),
    ("script arguments (writes, planner, query, keys)", lambda f, n: f.endswith(
        ("limpyd_typed/writes.py", "limpyd_typed/planner.py", "limpyd_typed/keys.py", "limpyd_typed/expressions.py",
         "limpyd_typed/indexes.py", "limpyd_typed/scripts/__init__.py"))
     and "_result" not in n),
    ("query results (rows, shapes)", lambda f, n: f.endswith("limpyd_typed/query.py")),
    ("reply parsing (replies.py, hiredis)", lambda f, n: f.endswith("limpyd_typed/replies.py") or "hiredis" in f
     or "hiredis" in n),
    ("model (instances, pk)", lambda f, n: f.endswith(("limpyd_typed/model.py", "limpyd_typed/database.py"))),
    ("redis-py (command packing, pool, callbacks)", lambda f, n: "/redis/" in f),
)


def layers(profile: cProfile.Profile) -> dict[str, float]:
    """Seconds of own time per layer ("other": the benchmark loop, builtins...)."""
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = getattr(pstats.Stats(profile), "stats")
    out: dict[str, float] = {name: 0.0 for name, _ in LAYERS}
    out["other"] = 0.0
    for (filename, _, name), (_, _, tottime, _, _) in stats.items():
        for layer, test in LAYERS:
            if test(filename, name):
                out[layer] += tottime
                break
        else:
            out["other"] += tottime
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--bulk-rows", type=int, default=20_000, help="GeoNames rows of the bulk load (cities500)")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions of most own time per workload")
    parser.add_argument("--only", default="", help="comma-separated workloads to run (default: all), e.g. create,bulk")
    parser.add_argument("--floor", action="store_true",
                        help="profile the hand-written Lua floor instead: its server time per script call is the "
                             "yardstick of ours")
    args = parser.parse_args(argv)
    database = Database.embedded()
    system: Typed | Lua
    if args.floor:
        assert database.server is not None
        system = Lua()
        system.connect(database.server.url)
    else:
        system = Typed()
        system.use(database)
    rows = people(args.objects)
    cities = city_count(args.objects)
    pks: list[object] = []

    def create() -> None:
        pks.extend(system.create(row) for row in rows)

    def get() -> None:
        for pk in pks:
            system.get(pk)

    def update() -> None:
        for i, pk in enumerate(pks):
            system.update(pk, city_name((i * 31 + 1) % cities))

    def query_eq() -> None:
        for q in range(args.queries):
            system.query_eq(city_name(q % cities))

    def query_range() -> None:
        for q in range(args.queries):
            system.query_range(city_name(q % cities), RANGE_MIN_AGE)

    def delete() -> None:
        for pk in pks:
            system.delete(pk)

    bulk_rows = geonames_cities(500, args.bulk_rows)

    def bulk() -> None:
        system.bulk(bulk_rows, 500, lambda: None)

    work: list[tuple[str, int, Callable[[], None]]] = [
        ("create", len(rows), create),
        ("get by pk", len(rows), get),
        ("update indexed field", len(rows), update),
        ("query eq + values", args.queries, query_eq),
        ("query range+eq, sort, page 50", args.queries, query_range),
        ("delete", len(rows), delete),
        ("bulk load", len(bulk_rows), bulk),
    ]
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    if only:
        # create always runs: the other workloads need its instances.
        work = [w for w in work if w[0] == "create" or any(w[0].startswith(o) for o in only)]
    connection = database.connection
    try:
        for name, ops, body in work:
            connection.config_resetstat()
            profile = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            body()
            profile.disable()
            elapsed = time.perf_counter() - start
            stats = connection.info("commandstats")  # ours call FCALL, the floor EVALSHA
            script = stats.get("cmdstat_fcall") or stats.get("cmdstat_evalsha") or {}
            print(f"== {name}: {elapsed / ops * 1e6:,.0f} us/op under the profiler; "
                  f"server {float(script.get('usec_per_call', 0)):,.0f} us per script call")
            for layer, seconds in sorted(layers(profile).items(), key=lambda item: -item[1]):
                print(f"   {seconds / ops * 1e6:8.1f} us/op  {layer}")
            if args.top:
                pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(args.top)
    finally:
        database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
