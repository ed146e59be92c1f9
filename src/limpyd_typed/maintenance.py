"""Checking and repairing a model's indexes and keys: ``Model.check_indexes()`` / ``rebuild_indexes()``.

Everything streams in bounded batches, so memory does not grow with the model (reports keep at most
``keep`` items of each kind, and exact counts):

- each index is read in lex pages (ZRANGEBYLEX ... LIMIT: keyset pagination, so a member is seen
  once even while others are added or removed) and each page is checked against the data by one
  script: stale entries (the pk is not live, or does not hold the value) and, on unique fields,
  values held by several live instances;
- the pks set is read by SSCAN and each batch of pks is checked by one script that computes their
  entries from the data (the prelude's ``entries_of``, as every write does) and finds the missing ones;
- the model's keys are read by SCAN and each batch is checked by one script: data keys of pks that
  are not live are orphans.

Every check and every repair runs in those server-side scripts, on the state they read: a repair is
never computed from a client-side read that another client may have changed since, so both work
while other clients write. A duplicate unique value is reported but not repaired (which instance
keeps it is the user's decision); ``rebuild_indexes`` still indexes both holders, so queries see
the data as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from redis.exceptions import ResponseError

from . import replies, scripts
from .exceptions import CommandError
from .indexes import unescape
from .keys import split_key

if TYPE_CHECKING:
    from .database import Database
    from .fields.base import Field
    from .model import Model

# Called after each batch with its stage and how many items (index members, pks, keys) it read.
Progress = Callable[[Literal["entries", "instances", "keys"], int], None]

T = TypeVar("T")
K = TypeVar("K")  # the pk type of the model checked

DEFAULT_BATCH = 500
DEFAULT_KEEP = 1000


@dataclass(frozen=True, slots=True)
class StaleEntry:
    """An index entry that the data does not justify (removed by ``rebuild_indexes``)."""

    field: str
    value: bytes  # the indexed form of the value (a Hash field: sub-key, NUL, value)
    pk: bytes
    pk_live: bool  # True: the instance exists but does not hold this value

    def __str__(self) -> str:
        why = "does not hold it" if self.pk_live else "does not exist"
        return f"{self.field}: stale index entry {self.value!r} for pk={self.pk!r} (the instance {why})"


@dataclass(frozen=True, slots=True)
class MissingEntry:
    """A value a live instance holds that its field's index lacks (added by ``rebuild_indexes``)."""

    field: str
    value: bytes
    pk: bytes

    def __str__(self) -> str:
        return f"{self.field}: value {self.value!r} of pk={self.pk!r} is missing from the index"


@dataclass(frozen=True, slots=True)
class DuplicateUnique:
    """A unique value held by several live instances (never repaired: choose which keeps it)."""

    field: str
    value: bytes
    pks: tuple[bytes, ...]

    def __str__(self) -> str:
        return f"{self.field}: unique value {self.value!r} is held by pks {', '.join(repr(p) for p in self.pks)}"


@dataclass(frozen=True, slots=True)
class UnreadableValue:
    """A live instance's value its index cannot read (a value or a key of the wrong type, written
    outside the library): its entries cannot be checked. Never repaired: fix or delete the value."""

    field: str
    pk: bytes
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: the value of pk={self.pk!r} cannot be indexed ({self.reason})"


@dataclass(frozen=True, slots=True)
class OrphanKey:
    """A data key of an instance that is not live (deleted by ``rebuild_indexes``)."""

    key: str
    field: str  # the field whose key it is ("" for the instance hash)
    pk: bytes

    def __str__(self) -> str:
        return f"{self.key}: orphan key of {self.field or 'the instance hash'} for pk={self.pk!r}, which does not exist"


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What ``check_indexes`` found (or, from ``rebuild_indexes``, what it repaired).

    The tuples keep the first ``keep`` items of each kind; the counts include every item (see
    ``_Collector`` for the one way one can be counted twice).
    """

    model: str
    stale: tuple[StaleEntry, ...]
    missing: tuple[MissingEntry, ...]
    duplicates: tuple[DuplicateUnique, ...]
    orphans: tuple[OrphanKey, ...]
    stale_count: int
    missing_count: int
    duplicate_count: int
    orphan_count: int
    entries_read: int  # index members
    instances_read: int  # live pks
    keys_read: int
    unreadable: tuple[UnreadableValue, ...] = ()
    unreadable_count: int = 0

    @property
    def problems(self) -> int:
        return self.stale_count + self.missing_count + self.duplicate_count + self.orphan_count + self.unreadable_count

    @property
    def ok(self) -> bool:
        return self.problems == 0

    @property
    def counts(self) -> dict[str, int]:
        return {"stale": self.stale_count, "missing": self.missing_count,
                "duplicates": self.duplicate_count, "orphans": self.orphan_count, "unreadable": self.unreadable_count}

    def lines(self) -> Iterator[str]:
        """One line per kept item."""
        for items in (self.stale, self.missing, self.duplicates, self.orphans, self.unreadable):
            for item in items:
                yield str(item)


class _Collector(Generic[T]):
    """Counts every item of a kind, keeps the first ``keep`` (memory bounded).

    SCAN and SSCAN may return an element twice (when Redis resizes the table meanwhile): a kept
    item is counted once; beyond ``keep``, such a repeat would be counted again (memory stays bounded).
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.items: list[T] = []
        self._kept: set[T] = set()
        self.count = 0

    def add(self, item: T) -> None:
        if item in self._kept:
            return
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append(item)
            self._kept.add(item)


def _indexed(model: type[Model[Any]]) -> list[Field[Any, Any, Any]]:
    return [f for f in model._fields.values() if f.indexed and not f.is_pk]


def _fix_flag(fix: bool) -> str:
    return "1" if fix else "0"


class _Duplicates(_Collector[DuplicateUnique]):
    """Duplicates, each (field, value) reported once with every holder seen: the instance scan and
    the index scan of a check may each see a value's holders, or some of them, several times
    (remembered values are as many as the duplicates, which are problems)."""

    def __init__(self, keep: int) -> None:
        super().__init__(keep)
        self._seen: dict[tuple[str, bytes], int | None] = {}  # its place in items, None if not kept

    def add(self, item: DuplicateUnique) -> None:
        key = (item.field, item.value)
        if key not in self._seen:
            self._seen[key] = len(self.items) if len(self.items) < self.keep else None
            super().add(item)
            return
        place = self._seen[key]
        if place is not None:
            known = self.items[place]
            pks = tuple(sorted(set(known.pks) | set(item.pks)))
            self.items[place] = DuplicateUnique(item.field, item.value, pks)


def _scan_index(database: Database, model: type[Model[Any]], field: Field[Any, Any, Any], fix: bool,
                batch: int, stale: _Collector[StaleEntry], duplicates: _Duplicates, progress: Progress | None) -> int:
    """Check (and fix) one field's index, page by page; returns how many members were read."""
    bound, read = b"-", 0
    script = scripts.MAINT_ENTRIES if fix else scripts.MAINT_ENTRIES_READ  # the latter runs on a replica
    while bound:
        reply = _maintenance_call(script, database, field.qualname, [model._keys.pks, field.index_key], [
            _fix_flag(fix), bound, batch, field.kind, field.key_prefix, field.slot, field.index_form,
            "1" if field.index_mode == 2 else "0",
        ])
        assert isinstance(reply, list)
        bound = replies.optional_bytes(reply[0]) or b""
        read += replies.integer(reply[1])
        flat = replies.bytes_list(reply[2])
        for member, live in zip(flat[::2], flat[1::2]):
            value, _, pk = member.rpartition(b"\x00")
            stale.add(StaleEntry(field.qualname, unescape(value), unescape(pk), live == b"1"))
        for group in reply[3]:  # a value straddling two pages comes twice: _Duplicates merges it
            parts = replies.bytes_list(group)
            duplicates.add(DuplicateUnique(field.qualname, unescape(parts[0]), tuple(sorted(parts[1:]))))
        if progress:
            progress("entries", replies.integer(reply[1]))
    return read


def _scan_instances(database: Database, model: type[Model[Any]], fix: bool, batch: int,
                    missing: _Collector[MissingEntry], duplicates: _Duplicates,
                    unreadable: _Collector[UnreadableValue], progress: Progress | None) -> int:
    """Check (and fix) the entries of every live instance, SSCAN batch by batch; returns how many."""
    fields = _indexed(model)
    # Without fix, the script notes unindexed unique values here to find those held twice; removed
    # at the end (and it expires, should this client die first). A replica, or a server out of
    # memory, takes no writes: there the other holders of such a value are found by the index alone.
    scratch = model._keys.scratch()
    keys = [model._keys.pks, *(f.index_key for f in fields), scratch]
    # The script's modes: "1" fix, "0" check (noting in the scratch set), "r" check writing nothing.
    mode = "1" if fix else "r" if _takes_no_writes(database) else "0"
    script = scripts.MAINT_INSTANCES_READ if mode == "r" else scripts.MAINT_INSTANCES
    head: list[scripts.ScriptArg] = [mode, len(fields)]
    for f in fields:
        head += [f.kind, f.key_prefix, f.slot, f.index_form, "1" if f.index_mode == 2 else "0"]
    live = 0
    try:
        for pks in database.scan_members(model._keys.pks, count=batch):
            if pks and fields:
                answer = _maintenance_call(script, database, f"{model.__name__} indexes", keys,
                                           [*head, *pks])
                assert isinstance(answer, list)
                live += replies.integer(answer[0])
                flat = replies.bytes_list(answer[1])
                for n, entry, pk in zip(flat[::3], flat[1::3], flat[2::3]):
                    missing.add(MissingEntry(fields[int(n) - 1].qualname, unescape(entry), pk))
                for group in answer[2]:
                    parts = replies.bytes_list(group)
                    duplicates.add(DuplicateUnique(fields[int(parts[0]) - 1].qualname, unescape(parts[1]),
                                                   tuple(sorted(parts[2:]))))
                flat = replies.bytes_list(answer[3])
                for n, pk, reason in zip(flat[::3], flat[1::3], flat[2::3]):
                    unreadable.add(UnreadableValue(fields[int(n) - 1].qualname, pk, scripts.error_reason(reason)))
            elif pks:
                live += len(pks)
            if progress:
                progress("instances", len(pks))
        return live
    finally:
        if mode == "0":
            database.execute("DEL", scratch)


def _maintenance_call(script: scripts.Script, database: Database, what: str,
                      keys: list[str], args: list[scripts.ScriptArg]) -> object:
    """A check script's reply; a key it cannot read (an index of the wrong type, written by hand)
    is a CommandError naming what was checked (a field, or a model's indexes), not a bare Redis error."""
    try:
        return script(database, keys, args)
    except ResponseError as exc:
        if "maxmemory" in str(exc):  # a repair writes: refused whole on a full server
            raise CommandError(f"{what}: the server is out of memory and refused the repair: "
                               f"{scripts.error_reason(exc)}") from None
        raise CommandError(f"{what}: the check could not read a key ({', '.join(keys[1:])}): "
                           f"{scripts.error_reason(exc)}") from None


def _is_replica(database: Database) -> bool:
    """Whether the server is a replica (read-only: a check there must write nothing)."""
    role = database.execute("ROLE")
    return isinstance(role, (list, tuple)) and bool(role) and role[0] == b"slave"


def _takes_no_writes(database: Database) -> bool:
    """Whether a check must write nothing: on a replica, or on a server out of memory (where a
    script that may write is refused whole)."""
    if _is_replica(database):
        return True
    memory = database.execute("INFO", "memory")  # a dict: redis-py parses INFO
    limit = int(memory.get("maxmemory", 0)) if isinstance(memory, dict) else 0
    return 0 < limit <= (int(memory.get("used_memory", 0)) if isinstance(memory, dict) else 0)


def _scan_keys(database: Database, model: type[Model[Any]], fix: bool, batch: int,
               orphans: _Collector[OrphanKey], progress: Progress | None) -> int:
    """Check (and delete) orphan data keys, SCAN batch by batch; returns how many keys were read."""
    read = 0
    for found in database.scan_keys(model._keys.pattern, count=batch):
        names = [k.decode() for k in found]
        read += len(names)
        candidates: list[tuple[str, str, bytes]] = []
        for name in names:
            parsed = split_key(model._keys, name)
            if parsed is not None and parsed[0] in ("obj", "f"):  # pks, next_pk, idx, stored: the model's own
                candidates.append((name, parsed[1], parsed[2]))
        if candidates:
            script = scripts.MAINT_KEYS if fix else scripts.MAINT_KEYS_READ  # the latter runs on a replica
            positions = script(database, [model._keys.pks, *(c[0] for c in candidates)],
                               [_fix_flag(fix), *(c[2] for c in candidates)])
            for position in replies.bytes_list(positions):
                name, field_name, pk = candidates[int(position) - 1]
                orphans.add(OrphanKey(name, f"{model.__name__}.{field_name}" if field_name else "", pk))
        if progress:
            progress("keys", len(names))
    return read


def scan(model: type[Model[K]], *, fix: bool, database: Database | None = None, batch: int = DEFAULT_BATCH,
         keep: int = DEFAULT_KEEP, progress: Progress | None = None) -> IndexReport:
    """Check every index and key of ``model`` (``fix``: and repair what can be repaired)."""
    model._check_usable()
    if batch < 1:
        raise ValueError(f"{model.__name__}: batch must be at least 1, got {batch}")
    db = database or model.database
    if fix and _is_replica(db):
        raise CommandError(f"{model.__name__}.rebuild_indexes: the server is a read-only replica; "
                           f"rebuild on its primary (check_indexes runs here)")
    stale: _Collector[StaleEntry] = _Collector(keep)
    missing: _Collector[MissingEntry] = _Collector(keep)
    duplicates = _Duplicates(keep)
    orphans: _Collector[OrphanKey] = _Collector(keep)
    unreadable: _Collector[UnreadableValue] = _Collector(keep)
    # Missing entries first: a repair then finds a unique value that the added entries show held twice.
    instances = _scan_instances(db, model, fix, batch, missing, duplicates, unreadable, progress)
    entries = sum(_scan_index(db, model, f, fix, batch, stale, duplicates, progress) for f in _indexed(model))
    keys = _scan_keys(db, model, fix, batch, orphans, progress)
    return IndexReport(
        model.__name__, tuple(stale.items), tuple(missing.items), tuple(duplicates.items), tuple(orphans.items),
        stale.count, missing.count, duplicates.count, orphans.count, entries, instances, keys,
        tuple(unreadable.items), unreadable.count,
    )


def check_indexes(model: type[Model[K]], *, database: Database | None = None, batch: int = DEFAULT_BATCH,
                  keep: int = DEFAULT_KEEP, progress: Progress | None = None) -> IndexReport:
    """Report stale and missing index entries, duplicate unique values, orphan keys and values no
    index can read; change nothing."""
    return scan(model, fix=False, database=database, batch=batch, keep=keep, progress=progress)


def rebuild_indexes(model: type[Model[K]], *, database: Database | None = None, batch: int = DEFAULT_BATCH,
                    keep: int = DEFAULT_KEEP, progress: Progress | None = None) -> IndexReport:
    """Remove stale entries, add missing ones, delete orphan keys; returns what it repaired.

    Duplicate unique values (``duplicates``) and values no index can read (``unreadable``) are
    reported, not repaired.
    """
    return scan(model, fix=True, database=database, batch=batch, keep=keep, progress=progress)
