"""``python -m limpyd_typed check|rebuild|inspect module:Model [--url URL]``.

Exit codes: 0 fine, 1 problems found (check) or left (rebuild: duplicate unique values), 2 usage
error or unreachable server.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TextIO

import redis
from tqdm import tqdm

from .database import Database
from .inspection import inspect_model
from .maintenance import IndexReport, check_indexes, rebuild_indexes
from .model import Model

STAGES = {"instances": "instances", "entries": "index entries", "keys": "keys"}


class UsageError(Exception):
    """A bad model path or option: reported with exit code 2."""


def load_model(path: str) -> type[Model[Any]]:
    """The model class named by ``package.module:Model``."""
    module_name, _, name = path.partition(":")
    if not module_name or not name:
        raise UsageError(f"{path!r}: expected module:Model, e.g. myapp.models:Person")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"{path!r}: cannot import {module_name}: {exc}") from None
    except Exception as exc:  # the module's own code failed (e.g. it starts an embedded server already running)
        raise UsageError(f"{path!r}: importing {module_name} failed: {type(exc).__name__}: {exc}") from None
    found = getattr(module, name, None)
    if not (isinstance(found, type) and issubclass(found, Model)) or found.abstract:
        raise UsageError(f"{path!r}: {module_name}.{name} is not a concrete Model class")
    return found


def _database(model: type[Model[Any]], url: str | None) -> Database:
    # --url wins; else the model's own database (Database() reads REDIS_URL itself).
    if url is not None:
        database = Database(url)
        model.use_database(database)  # this process only: the model may have no database of its own
        return database
    if getattr(model, "database", None) is None:
        raise UsageError(f"{model.__name__} has no database: give --url")
    return model.database


class _Bars:
    """One tqdm bar per stage, sized by what the stage will read (keys: unknown in advance)."""

    def __init__(self, model: type[Model[Any]], database: Database, out: TextIO, enabled: bool) -> None:
        self.out, self.enabled = out, enabled
        pks = database.execute("SCARD", model._keys.pks)
        self.totals: dict[str, int | None] = {"instances": int(pks) if isinstance(pks, int) else None, "keys": None}
        entries = 0
        for f in model._fields.values():
            if f.index_key:
                size = database.execute("ZCARD", f.index_key)
                entries += size if isinstance(size, int) else 0
        self.totals["entries"] = entries
        self.bars: dict[str, tqdm[object]] = {}

    def __call__(self, stage: Literal["entries", "instances", "keys"], done: int) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = tqdm(total=self.totals.get(stage), desc=STAGES[stage], unit="", file=self.out, dynamic_ncols=True)
            self.bars[stage] = bar
        bar.update(done)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _summary(report: IndexReport, verb: str, out: TextIO, *, left: tuple[str, ...] = ()) -> None:
    print(f"{report.model}: read {_n(report.instances_read, 'instance', 'instances')}, "
          f"{_n(report.entries_read, 'index entry', 'index entries')}, {_n(report.keys_read, 'key', 'keys')}", file=out)
    for line in report.lines():
        print(f"  {line}", file=out)
    kept = sum(len(items) for items in (report.stale, report.missing, report.duplicates, report.orphans, report.unreadable))
    if kept < report.problems:
        print(f"  ... and {report.problems - kept} more", file=out)
    counts = ", ".join(f"{n} {k}" for k, n in report.counts.items() if k not in left)
    print(f"{report.model}: {verb} {counts}", file=out)


def _maintain(model: type[Model[Any]], database: Database, fix: bool, progress: bool, out: TextIO) -> int:
    bars = _Bars(model, database, sys.stderr, progress)
    run: Callable[..., IndexReport] = rebuild_indexes if fix else check_indexes
    try:
        report = run(model, database=database, progress=bars)
    finally:
        bars.close()
    if fix:
        _summary(report, "repaired", out, left=("duplicates", "unreadable"))
        if report.duplicate_count:
            print(f"{report.model}: {report.duplicate_count} unique value(s) held by several instances were "
                  "left as they are: change or delete the extra holders, then check again", file=out)
        if report.unreadable_count:
            print(f"{report.model}: {report.unreadable_count} value(s) no index can read were left as they "
                  "are: fix or delete them, then rebuild again", file=out)
        return 1 if report.duplicate_count or report.unreadable_count else 0
    _summary(report, "found", out)
    print(f"{report.model}: {'OK' if report.ok else f'{report.problems} problem(s)'}", file=out)
    return 0 if report.ok else 1


def _inspect(model: type[Model[Any]], database: Database, progress: bool, out: TextIO) -> int:
    bar: tqdm[object] = tqdm(desc="keys", unit="", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    try:
        layout = inspect_model(model, database=database, progress=bar.update)
    finally:
        bar.close()
    print(f"{layout.model}: {_n(layout.instances, 'instance', 'instances')}, {_n(layout.keys, 'key', 'keys')}, "
          f"{layout.memory_bytes} bytes "
          f"(MEMORY USAGE summed over every key)", file=out)
    print(f"  all keys       {layout.pattern}", file=out)
    print(f"  pks            {layout.pks_key}", file=out)
    print(f"  instance hash  {model._keys.instance_prefix}<pk>   {_n(layout.instance_hashes, 'key', 'keys')}", file=out)
    for f in layout.fields:
        where = "(the pk names every key)" if f.kind == "pk" else \
            "(a slot of the instance hash)" if f.kind == "islot" else f"{f.pattern}   {_n(f.keys, 'key', 'keys')}"
        print(f"  {f.name:<14} {f.kind:<6} {where}", file=out)
        if f.index_key:
            print(f"  {'':<14} index  {f.index_key}   {_n(f.index_size, 'entry', 'entries')}", file=out)
    if layout.other_keys:
        print(f"  {_n(layout.other_keys, 'key', 'keys')} outside the layout (a field no longer declared?)", file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m limpyd_typed",
                                     description="Check, rebuild or inspect the indexes and keys of a model.")
    parser.add_argument("command", choices=("check", "rebuild", "inspect"),
                        help="check: report index problems; rebuild: repair them; inspect: key layout, counts, memory")
    parser.add_argument("model", help="the model class, as module:Model")
    parser.add_argument("--url", help="the Redis server (default: the model's database, which reads REDIS_URL)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bars on stderr (default: when stderr is a terminal)")
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    try:
        model = load_model(args.model)
        database = _database(model, args.url)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        if args.command == "inspect":
            return _inspect(model, database, progress, stream)
        return _maintain(model, database, args.command == "rebuild", progress, stream)
    except redis.ConnectionError as exc:
        print(f"error: {model.__name__}: cannot reach the server: {exc}", file=sys.stderr)
        return 2
