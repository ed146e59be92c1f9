"""The benchmark report's ratios: run i of one system against run i of the other (the same round),
the median of those; so a slow round, which slows every system in it, does not move the ratio."""

from __future__ import annotations

from benchmarks.report import Run, SystemResult, targets
from benchmarks.systems import LUA, OURS
from benchmarks.worker import Measure


def _measure(runs_ops_per_s: list[float]) -> Measure:
    ordered = sorted(runs_ops_per_s)
    return Measure(ops=100, ops_per_s=ordered[len(ordered) // 2], runs_ops_per_s=runs_ops_per_s, p50_ms=1.0,
                   p99_ms=1.0, round_trips_per_op=1.0, server_commands_per_op=1.0, bytes_per_object=None,
                   rows_per_op=None, commandstats={}, error=None)


def _run(ours: list[float], lua: list[float]) -> Run:
    def system(name: str, ops: list[float]) -> SystemResult:
        return SystemResult(system=name, unavailable=None, results={"create": _measure(ops)})

    return Run(command="", machine={}, config={}, systems=[system(OURS, ours), system(LUA, lua)])


def _lua_ratio(run: Run) -> str:
    (found,) = [t for t in targets(run) if t["target"] == "create: >= 0.9x the Lua floor"]
    return found["value"]


def test_ratios_pair_the_runs_of_one_round() -> None:
    # The machine slowed down round by round, and a spike hit the floor's run of round 3. Each
    # round says 0.90; the medians of each system (720 / 700) would say 1.03.
    run = _run(ours=[900.0, 810.0, 720.0, 630.0, 540.0], lua=[1000.0, 900.0, 400.0, 700.0, 600.0])
    assert _lua_ratio(run) == "0.90x"


def test_runs_that_cannot_be_paired_compare_their_medians() -> None:
    run = _run(ours=[900.0], lua=[500.0, 1000.0, 1000.0])  # not 900 / 500: run 1 of the floor alone
    assert _lua_ratio(run) == "0.90x"
