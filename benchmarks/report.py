"""The results of one run: the table (markdown), the targets, the chart (PNG) and the JSON."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, TypedDict

from .common import BULK, CREATE, DELETE, GET, QUERY_EQ, QUERY_RANGE, UPDATE, WORKLOADS
from .systems import LUA, OURS, RAW, ROM
from .worker import Measure


class SystemResult(TypedDict):
    system: str
    unavailable: str | None  # why it has no numbers ("not installed ..."), else None
    results: dict[str, Measure]


class Run(TypedDict):
    command: str
    machine: dict[str, str]
    config: dict[str, Any]
    systems: list[SystemResult]


class Target(TypedDict):
    target: str
    value: str
    passed: bool | None  # None: could not be measured in this run


def _measure(run: Run, system: str, workload: str) -> Measure | None:
    for entry in run["systems"]:
        if entry["system"] == system and entry["unavailable"] is None:
            found = entry["results"].get(workload)
            if found is not None and found["error"] is None and found["ops_per_s"] > 0:
                return found
    return None


def _ratio(run: Run, system: str, workload: str, floor: str) -> float | None:
    """``system``'s speed against ``floor``'s: the median of the ratios run by run. Run i of every
    system ran in round i, one after the other, so each pair met the same load on a shared
    machine; a ratio of the two medians would pair runs minutes apart."""
    mine, other = _measure(run, system, workload), _measure(run, floor, workload)
    if mine is None or other is None:
        return None
    pairs = list(zip(mine["runs_ops_per_s"], other["runs_ops_per_s"]))
    if pairs and len(mine["runs_ops_per_s"]) == len(other["runs_ops_per_s"]):
        return statistics.median(a / b for a, b in pairs)
    return mine["ops_per_s"] / other["ops_per_s"]


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rt(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


def table(run: Run) -> str:
    """One row per workload and system: speed, latency, round trips, server work, memory, ratios."""
    lines = [
        "| workload | system | ops/s | p50 ms | p99 ms | round trips/op | server cmds/op | bytes/object | × redis-py | × Lua |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for workload in WORKLOADS:
        for entry in run["systems"]:
            name = entry["system"]
            shown = f"**{name}**" if name == OURS else name
            if entry["unavailable"] is not None:
                lines.append(f"| {workload} | {shown} | {entry['unavailable']} | | | | | | | |")
                continue
            m = entry["results"].get(workload)
            if m is None or m["error"] is not None:
                why = "not run" if m is None else m["error"]
                lines.append(f"| {workload} | {shown} | {why} | | | | | | | |")
                continue
            raw, lua = _ratio(run, name, workload, RAW), _ratio(run, name, workload, LUA)
            lines.append(
                f"| {workload} | {shown} | {_num(m['ops_per_s'])} | {m['p50_ms']:.3f} | {m['p99_ms']:.3f} "
                f"| {_rt(m['round_trips_per_op'])} | {m['server_commands_per_op']:.1f} "
                f"| {_num(m['bytes_per_object'])} | {_num(raw, 2)} | {_num(lua, 2)} |"
            )
    return "\n".join(lines)


def targets(run: Run) -> list[Target]:
    """The targets of issue 6, each with its measured value; passed is None when it was not measured."""
    out: list[Target] = []

    def ratio_target(label: str, value: float | None, at_least: float) -> None:
        out.append(Target(target=label, value=_num(value, 2) + "x",
                          passed=None if value is None else value >= at_least))

    for workload in WORKLOADS:
        ratio_target(f"{workload}: >= 0.9x the Lua floor", _ratio(run, OURS, workload, LUA), 0.9)
    for workload in WORKLOADS:
        ratio_target(f"{workload}: >= 3x rom", _ratio(run, OURS, workload, ROM), 3.0)
    ratio_target(f"{GET}: >= 0.9x the pipelined SISMEMBER+HGETALL of redis-py", _ratio(run, OURS, GET, RAW), 0.9)
    bulk = _measure(run, OURS, BULK)
    out.append(Target(target=f"{BULK}: >= 25,000 rows/s", value=_num(None if bulk is None else bulk["ops_per_s"]) + " rows/s",
                      passed=None if bulk is None else bulk["ops_per_s"] >= 25_000))
    for workload, most in ((CREATE, 1.0), (UPDATE, 1.0), (DELETE, 1.0), (QUERY_EQ, 2.0), (QUERY_RANGE, 2.0)):
        m = _measure(run, OURS, workload)
        out.append(Target(target=f"{workload}: <= {most:g} round trip(s)/op",
                          value="-" if m is None else _rt(m["round_trips_per_op"]),
                          passed=None if m is None else m["round_trips_per_op"] <= most + 1e-9))
    return out


def targets_text(found: list[Target]) -> str:
    word = {True: "PASS", False: "FAIL", None: "N/A "}
    return "\n".join(f"{word[t['passed']]}  {t['target']}: {t['value']}" for t in found)


def machine_line(run: Run) -> str:
    m = run["machine"]
    return f"{m['cores']} cores, {m['cpu']}, Python {m['python']}, {m['server']}, redis-py {m['redis_py']}, hiredis {m['hiredis']}"


def markdown(run: Run) -> str:
    config = run["config"]
    return "\n".join([
        "# limpyd_typed benchmarks",
        "",
        f"Command: `{run['command']}`  ",
        f"Machine: {machine_line(run)}  ",
        f"Objects: {config['objects']:,} per run, {config['runs']} runs (ops/s is the median run; the "
        f"systems take turns run by run), "
        f"{config['queries']} queries of each kind per run; bulk load: {config['bulk_note']}.",
        "",
        table(run),
        "",
        "Round trips: requests sent by the client (a pipeline or a MULTI block is one). Server cmds: "
        "`total_commands_processed` delta per op (MULTI, EXEC and the commands scripts call count). "
        "Ratios: ops/s against the same workload of the hand-written floors in the same run, run by run "
        "(run i of each system in the same round), the median of those.",
        "",
        "## Targets",
        "",
        "```",
        targets_text(targets(run)),
        "```",
        "",
    ])


def chart(run: Run, path: Path) -> bool:
    """Ops/s per workload and system, log scale; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    systems = [e["system"] for e in run["systems"] if e["unavailable"] is None]
    width = 0.8 / max(1, len(systems))
    figure, axes = plt.subplots(figsize=(13, 5.5))
    for i, name in enumerate(systems):
        heights = []
        for workload in WORKLOADS:
            m = _measure(run, name, workload)
            heights.append(0.0 if m is None else m["ops_per_s"])
        positions = [w + i * width for w in range(len(WORKLOADS))]
        axes.bar(positions, heights, width, label=name, edgecolor="black" if name == OURS else None)
    axes.set_xticks([w + width * (len(systems) - 1) / 2 for w in range(len(WORKLOADS))])
    axes.set_xticklabels(WORKLOADS, rotation=15, ha="right", fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("operations per second (log; bulk load: rows/s)")
    axes.set_title(f"limpyd_typed and peers, one server ({run['machine']['server']})")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def write(run: Run, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "results.json", folder / "results.md"]
    written[0].write_text(json.dumps(run, indent=2) + "\n")
    written[1].write_text(markdown(run))
    if chart(run, folder / "results.png"):
        written.append(folder / "results.png")
    return written
