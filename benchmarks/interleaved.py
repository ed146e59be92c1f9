"""``python -m benchmarks.interleaved``: the write workloads of ours, the Lua floor and rom, interleaved.

The main benchmark runs one system after the other: on a shared machine, a burst of load during
one system's turn moves its ratio to the others (seen here: the same code at 0.25x and at 1.0x of
the floor an hour apart). Here the systems take turns by blocks of operations on one server, so
that load hits them alike and the ratios hold; the absolute numbers still move with the load.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable, Sequence

from limpyd_typed import Database

from .common import BULK, CREATE, DELETE, UPDATE, PersonRow, System, city_count, city_name, people
from .data import cities
from .systems import LUA, OURS, ROM, load

BLOCK = 100  # operations per turn
BATCH = 500  # bulk rows per turn (one batch)


def _turns(systems: dict[str, System], blocks: int, step: Callable[[str, System, int], None]) -> dict[str, float]:
    """Seconds spent by each system over ``blocks`` turns, the order of the systems rotating."""
    spent = dict.fromkeys(systems, 0.0)
    names = list(systems)
    for block in range(blocks):
        shift = block % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            step(name, systems[name], block)
            spent[name] += time.perf_counter() - start
    return spent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.interleaved",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objects", type=int, default=4000)
    parser.add_argument("--bulk-rows", type=int, default=50_000, help="cities500 rows for ours and the floor")
    parser.add_argument("--peer-bulk-rows", type=int, default=10_000, help="rows for rom (slow)")
    args = parser.parse_args(argv)
    database = Database.embedded()
    assert database.server is not None
    url = database.server.url
    names = [OURS, LUA] + ([ROM] if importlib.util.find_spec("rom") is not None else [])
    systems: dict[str, System] = {}
    for name in names:
        systems[name] = load(name)
        systems[name].connect(url)
    try:
        rows: list[PersonRow] = people(args.objects)
        count = city_count(args.objects)
        blocks = args.objects // BLOCK
        pks: dict[str, list[object]] = {name: [] for name in names}
        results: dict[str, dict[str, float]] = {}

        def create(name: str, system: System, block: int) -> None:
            pks[name].extend(system.create(row) for row in rows[block * BLOCK:(block + 1) * BLOCK])

        def update(name: str, system: System, block: int) -> None:
            for i in range(block * BLOCK, (block + 1) * BLOCK):
                system.update(pks[name][i], city_name((i * 31 + 1) % count))

        def delete(name: str, system: System, block: int) -> None:
            for pk in pks[name][block * BLOCK:(block + 1) * BLOCK]:
                system.delete(pk)

        for workload, step in ((CREATE, create), (UPDATE, update), (DELETE, delete)):
            spent = _turns(systems, blocks, step)
            results[workload] = {name: blocks * BLOCK / seconds for name, seconds in spent.items()}

        bulk_rows = cities(500, args.bulk_rows)
        peer_rows = args.peer_bulk_rows // BATCH * BATCH

        def bulk(name: str, system: System, block: int) -> None:
            if name == ROM and block * BATCH >= peer_rows:
                return
            system.bulk(bulk_rows[block * BATCH:(block + 1) * BATCH], BATCH, lambda: None)

        spent = _turns(systems, len(bulk_rows) // BATCH, bulk)
        done = {name: (peer_rows if name == ROM else len(bulk_rows) // BATCH * BATCH) for name in names}
        results[BULK] = {name: done[name] / seconds for name, seconds in spent.items()}
    finally:
        for system in systems.values():
            system.close()
        database.close()

    print(f"{'workload':22} " + " ".join(f"{n:>14}" for n in names) + "   ours/Lua  ours/rom")
    for workload, rates in results.items():
        ratio_rom = f"{rates[OURS] / rates[ROM]:8.2f}x" if ROM in rates else "       -"
        print(f"{workload:22} " + " ".join(f"{rates[n]:14,.0f}" for n in names)
              + f"   {rates[OURS] / rates[LUA]:7.2f}x {ratio_rom}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
