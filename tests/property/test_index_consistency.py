"""Random sequences of writes keep indexes, data and keyspace exactly as a plain-Python model says.

Each example empties the database, creates a few instances, then applies a random sequence of
writes (every write method of every field kind, on indexed and unique fields, instance hmset/hdel,
field and instance deletes) to a small pool of instances, with values from small alphabets so that
shared values and unique clashes are frequent. Every write is mirrored in a plain-Python model
(dicts, lists, sets) that also predicts each reply and error. At the end:

- every index sorted set holds exactly the (value, pk) members the model gives (score 0);
- every field reads back as the model says;
- ``collection(field=v)`` answers what the model answers, for every value of the alphabet, and a
  collection sorted by the int range field gives the model's order and values;
- the keyspace holds exactly the keys the model accounts for.

It runs as a hypothesis state machine, so a failure shrinks to the shortest sequence that shows
it. Sizes come from the hypothesis profile (tests/property/conftest.py): max_examples, and
stateful_step_count for the length of a sequence.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field as dc_field
from typing import ClassVar, Literal, cast

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from limpyd_typed.sortable import sortable
from limpyd_typed import (
    CommandError,
    BoundList,
    BoundSet,
    BoundSortedSet,
    Collection,
    Database,
    DoesNotExist,
    Hash,
    InstanceHash,
    List,
    Model,
    Set,
    SortedSet,
    String,
    UniquenessError,
    field,
    indexes,
    replies,
)


class PropBike(Model, namespace="prop"):
    name: InstanceHash[str | None] = field(unique=True, default=None)
    color: InstanceHash[str | None] = field(indexable=True, default=None)
    wheels: InstanceHash[int | None] = field(indexable=True, default=None)
    weight: InstanceHash[float | None] = field(indexable=True, default=None)
    notes: InstanceHash[str | None] = field(default=None)
    code: String[str | None] = field(unique=True, default=None)
    label: String[str | None] = field(indexable=True, default=None)
    speed: String[int | None] = field(indexable=True, default=None)
    ratio: String[float | None] = field(indexable=True, default=None)
    flags: String[bytes | None] = field(indexable=True, default=None)
    tags: Set[str] = field(indexable=True, default=())
    serials: Set[str] = field(unique=True, default=())
    parts: List[str] = field(indexable=True, default=())
    plates: List[str] = field(unique=True, default=())
    props: Hash[str] = field(indexable=True, default={})
    counters: Hash[int] = field(indexable=True, default={})
    levels: Hash[float] = field(indexable=True, default={})
    ranks: SortedSet[str] = field(indexable=True, default={})
    medals: SortedSet[str] = field(unique=True, default={})
    # Range and text indexes: entries in the order-preserving encodings of sortable.py.
    age: InstanceHash[int | None] = field(index="range", default=None)
    size: String[float | None] = field(index="range", default=None)
    title: InstanceHash[str | None] = field(index="text", unique=True, default=None)


TAG = "lt:{prop:PropBike}"  # the documented key layout (keys.py), written out by hand

Scalar = str | int | float | bytes
Kind = Literal["islot", "string", "set", "list", "hash", "zset"]

STRS: tuple[str, ...] = ("a", "b", "ab", "", "a\x00")
# Unique fields draw from fewer values, so that clashes are frequent; values sharing a prefix
# check that a unique lookup matches its own value only.
UNIQUE_STRS: tuple[str, ...] = ("a", "ab", "a\x00")
# Ints past 2**53 too, where doubles no longer tell them apart.
INTS: tuple[int, ...] = (-1, 0, 1, 2, 2**53, 2**53 + 1, -(2**53) - 1)
FLOATS: tuple[float, ...] = (-2.0, -0.0, 0.5, 1.0, 1.5)  # -0.0 == 0.0: one index entry
BYTES: tuple[bytes, ...] = (b"", b"a", b"\x00", b"\xff\x01")
SUB_KEYS: tuple[str, ...] = ("k", "j", "k\x00")
SCORES: tuple[float, ...] = (-1.0, 0.0, 1.0, 2.5)


@dataclass(frozen=True)
class Spec:
    name: str
    kind: Kind
    values: tuple[Scalar, ...]
    mode: int  # 0 not indexed, 1 indexed, 2 unique
    index: str = "eq"  # "eq", "text" (entries as eq), or "range" (entries in sortable.py's encoding)


SPECS: tuple[Spec, ...] = (
    Spec("name", "islot", UNIQUE_STRS, 2),
    Spec("color", "islot", STRS, 1),
    Spec("wheels", "islot", INTS, 1),
    Spec("weight", "islot", FLOATS, 1),
    Spec("notes", "islot", STRS, 0),
    Spec("code", "string", UNIQUE_STRS, 2),
    Spec("label", "string", STRS, 1),
    Spec("speed", "string", INTS, 1),
    Spec("ratio", "string", FLOATS, 1),
    Spec("flags", "string", BYTES, 1),
    Spec("tags", "set", STRS, 1),
    Spec("serials", "set", UNIQUE_STRS, 2),
    Spec("parts", "list", STRS, 1),
    Spec("plates", "list", UNIQUE_STRS, 2),
    Spec("props", "hash", STRS, 1),
    Spec("counters", "hash", INTS, 1),
    Spec("levels", "hash", FLOATS, 1),
    Spec("ranks", "zset", STRS, 1),
    Spec("medals", "zset", UNIQUE_STRS, 2),
    Spec("age", "islot", INTS, 1, "range"),
    Spec("size", "string", FLOATS, 1, "range"),
    Spec("title", "islot", UNIQUE_STRS, 2, "text"),
)
SPEC = {spec.name: spec for spec in SPECS}
ISLOTS = tuple(spec.name for spec in SPECS if spec.kind == "islot")


def enc(value: Scalar) -> bytes:
    """The stored bytes of a value, as the codecs document them (written independently here)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int):
        return str(value).encode()
    return repr(value).encode()


def indexed(value: Scalar) -> bytes:
    """The form under which a value is indexed: its stored bytes, except floats, which are indexed
    by their "%.17g" text so that INCRBYFLOAT's "2" and the client's "2.0" meet, and -0.0 meets
    0.0 (codecs.py)."""
    if isinstance(value, float):
        return format(0.0 if value == 0 else value, ".17g").encode()
    return enc(value)


# -- the plain-Python model ----------------------------------------------------------------------

@dataclass
class Instance:
    """What one live instance holds; absent scalars and empty collections mean "no value"."""

    scalars: dict[str, Scalar] = dc_field(default_factory=dict)
    sets: dict[str, set[str]] = dc_field(default_factory=dict)
    lists: dict[str, list[str]] = dc_field(default_factory=dict)
    hashes: dict[str, dict[str, Scalar]] = dc_field(default_factory=dict)
    zsets: dict[str, dict[str, float]] = dc_field(default_factory=dict)

    def has_value(self, spec: Spec) -> bool:
        if spec.kind in ("islot", "string"):
            return spec.name in self.scalars
        return bool(self.entry_parts(spec))

    def values_of(self, spec: Spec) -> list[Scalar]:
        """Values of a non-hash field (a scalar gives one or none)."""
        if spec.kind in ("islot", "string"):
            return [self.scalars[spec.name]] if spec.name in self.scalars else []
        if spec.kind == "set":
            return list(self.sets.get(spec.name, set()))
        if spec.kind == "list":
            return list(self.lists.get(spec.name, []))
        if spec.kind == "zset":
            return list(self.zsets.get(spec.name, {}))
        raise AssertionError(spec)

    def entry_parts(self, spec: Spec) -> set[tuple[bytes, ...]]:
        """The index entries of a field, as the raw parts indexes.entry escapes and joins."""
        if spec.kind == "hash":
            return {(k.encode(), indexed(v)) for k, v in self.hashes.get(spec.name, {}).items()}
        if spec.index == "range":  # sortable.py's encodings are mirror-tested against the Lua ones
            how = "int" if spec.values is INTS else "float"
            return {(sortable(indexed(v), how),) for v in self.values_of(spec)}
        return {(indexed(v),) for v in self.values_of(spec)}


@dataclass
class World:
    live: dict[int, Instance] = dc_field(default_factory=dict)
    counter: int = 0  # the AutoPK counter: pks given so far


def unique_clash(world: World, pk: int | None, new: Instance, old: Instance) -> bool:
    """Whether ``new`` adds, to a unique field, an entry another live instance holds."""
    for spec in SPECS:
        if spec.mode != 2:
            continue
        added = new.entry_parts(spec) - old.entry_parts(spec)
        for other_pk, other in world.live.items():
            if other_pk != pk and added & other.entry_parts(spec):
                return True
    return False


class CommandFails(Exception):
    """The model says Redis refuses this command (an error reply; nothing changes)."""


def _int(value: object) -> int:
    assert isinstance(value, int) and not isinstance(value, bool), value
    return value


def _float(value: object) -> float:
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value
    return float(value)


def _str(value: object) -> str:
    assert isinstance(value, str), value
    return value


def _strs(value: object) -> list[str]:
    assert isinstance(value, (list, tuple))
    return [_str(v) for v in value]


def _scalar(value: object) -> Scalar:
    assert isinstance(value, (str, int, float, bytes)) and not isinstance(value, bool), value
    return value


def _optional(value: object) -> Scalar | None:
    return None if value is None else _scalar(value)


def _bytes_of(value: Scalar | None) -> bytes:
    return b"" if value is None else enc(value)


def _like(spec: Spec, raw: bytes) -> Scalar:
    """A str or bytes field's value from its bytes (only str and bytes fields take APPEND & co)."""
    return raw.decode("utf-8") if isinstance(spec.values[0], str) else raw


def _redis_range(start: int, end: int, length: int) -> range:
    """The positions LTRIM / ZREMRANGEBYRANK address (Redis clamps, negative from the end)."""
    if start < 0:
        start += length
    if end < 0:
        end += length
    start = max(start, 0)
    if start > end or start >= length:
        return range(0)
    return range(start, min(end, length - 1) + 1)


def model_scalar(spec: Spec, method: str, args: tuple[object, ...], cur: Scalar | None) -> tuple[Scalar | None, object]:
    """InstanceHash and String writes: (new value, expected reply)."""
    islot = spec.kind == "islot"
    if method in ("set", "hset", "assign"):
        value = _optional(args[0])
        if method == "assign":
            return value, None
        if value is None:
            return None, 0 if islot else True
        return value, (1 if cur is None else 0) if islot else True
    if method in ("setnx", "hsetnx"):
        value = _scalar(args[0])
        created = cur is None
        new = value if created else cur
        return new, (int(created) if islot else created)
    if method == "getset":
        return _scalar(args[0]), cur
    if method in ("incr", "hincrby"):
        new_int = (0 if cur is None else _int(cur)) + _int(args[0])
        return new_int, new_int
    if method == "decr":
        new_int = (0 if cur is None else _int(cur)) - _int(args[0])
        return new_int, new_int
    if method in ("incrbyfloat", "hincrbyfloat"):
        new_float = (0.0 if cur is None else _float(cur)) + _float(args[0])
        return new_float, new_float
    if method == "hdel":
        return None, 0 if cur is None else 1
    if method == "delete":
        return None, cur is not None
    if method == "append":
        raw = _bytes_of(cur) + enc(_scalar(args[0]))
        return _like(spec, raw), len(raw)
    if method == "setrange":
        offset, piece = _int(args[0]), enc(_scalar(args[1]))
        if not piece:
            return cur, len(_bytes_of(cur))
        old = _bytes_of(cur).ljust(offset, b"\x00")
        raw = old[:offset] + piece + old[offset + len(piece):]
        return _like(spec, raw), len(raw)
    if method == "setbit":
        offset, bit = _int(args[0]), _int(args[1])
        data = bytearray(_bytes_of(cur).ljust(offset // 8 + 1, b"\x00"))
        mask = 1 << (7 - offset % 8)
        previous = 1 if data[offset // 8] & mask else 0
        data[offset // 8] = (data[offset // 8] | mask) if bit else (data[offset // 8] & ~mask)
        return bytes(data), previous
    raise AssertionError(method)


def model_set(method: str, args: tuple[object, ...], cur: set[str], actual: object) -> tuple[set[str], object]:
    if method == "sadd":
        added = set(_strs(args)) - cur
        return cur | added, len(added)
    if method == "srem":
        removed = set(_strs(args)) & cur
        return cur - removed, len(removed)
    if method == "spop":
        if not args:
            if not cur:
                return cur, None
            # Redis picks at random: the reply must be a member, and it leaves the set.
            chosen = actual if isinstance(actual, str) and actual in cur else min(cur)
            return cur - {chosen}, chosen
        count = _int(args[0])
        valid = (isinstance(actual, list) and len(actual) == min(count, len(cur))
                 and len(set(actual)) == len(actual) and set(actual) <= cur)
        popped = cast("list[str]", actual) if valid else sorted(cur)[:count]
        return cur - set(popped), popped
    if method == "delete":
        return set(), bool(cur)
    if method == "assign":
        return set(_strs(args[0])), None
    raise AssertionError(method)


def model_list(method: str, args: tuple[object, ...], cur: list[str]) -> tuple[list[str], object]:
    if method in ("lpush", "lpushx"):
        if method == "lpushx" and not cur:
            return cur, 0
        new = list(reversed(_strs(args))) + cur
        return new, len(new)
    if method in ("rpush", "rpushx"):
        if method == "rpushx" and not cur:
            return cur, 0
        new = cur + _strs(args)
        return new, len(new)
    if method == "linsert":
        where, pivot, value = _str(args[0]), _str(args[1]), _str(args[2])
        if not cur:
            return cur, 0
        if pivot not in cur:
            return cur, -1
        at = cur.index(pivot) + (1 if where == "AFTER" else 0)
        new = cur[:at] + [value] + cur[at:]
        return new, len(new)
    if method in ("lpop", "rpop"):
        ordered = cur if method == "lpop" else list(reversed(cur))
        if not args:
            if not cur:
                return cur, None
            rest = ordered[1:]
            return (rest if method == "lpop" else list(reversed(rest))), ordered[0]
        count = _int(args[0])
        popped, rest = ordered[:count], ordered[count:]
        return (rest if method == "lpop" else list(reversed(rest))), popped
    if method == "lrem":
        count, value = _int(args[0]), _str(args[1])
        positions = [i for i, v in enumerate(cur) if v == value]
        if count > 0:
            positions = positions[:count]
        elif count < 0:
            positions = positions[count:]
        return [v for i, v in enumerate(cur) if i not in positions], len(positions)
    if method == "lset":
        index, value = _int(args[0]), _str(args[1])
        if not cur:
            raise CommandFails("no such key")
        position = index + len(cur) if index < 0 else index
        if not 0 <= position < len(cur):
            raise CommandFails("index out of range")
        new = list(cur)
        new[position] = value
        return new, True
    if method == "ltrim":
        kept = _redis_range(_int(args[0]), _int(args[1]), len(cur))
        return [cur[i] for i in kept], True
    if method == "delete":
        return [], bool(cur)
    if method == "assign":
        return _strs(args[0]), None
    raise AssertionError(method)


def model_hash(method: str, args: tuple[object, ...], cur: dict[str, Scalar]) -> tuple[dict[str, Scalar], object]:
    new = dict(cur)
    if method == "hset":
        key, value = _str(args[0]), _scalar(args[1])
        new[key] = value
        return new, int(key not in cur)
    if method == "hmset":
        assert isinstance(args[0], dict)
        new.update({_str(k): _scalar(v) for k, v in args[0].items()})
        return new, True
    if method == "hsetnx":
        key, value = _str(args[0]), _scalar(args[1])
        if key in cur:
            return new, 0
        new[key] = value
        return new, 1
    if method == "hincrby":
        key = _str(args[0])
        new[key] = _int(cur.get(key, 0)) + _int(args[1])
        return new, new[key]
    if method == "hincrbyfloat":
        key = _str(args[0])
        new[key] = _float(cur.get(key, 0.0)) + _float(args[1])
        return new, new[key]
    if method == "hdel":
        removed = set(_strs(args)) & set(cur)
        return {k: v for k, v in cur.items() if k not in removed}, len(removed)
    if method == "delete":
        return {}, bool(cur)
    if method == "assign":
        assert isinstance(args[0], dict)
        return {_str(k): _scalar(v) for k, v in args[0].items()}, None
    raise AssertionError(method)


def zset_order(zset: dict[str, float]) -> list[str]:
    """Members by ascending score, ties in byte order (Redis's order)."""
    return sorted(zset, key=lambda m: (zset[m], m.encode()))


def model_zset(method: str, args: tuple[object, ...], cur: dict[str, float]) -> tuple[dict[str, float], object]:
    new = dict(cur)
    if method == "zadd":
        assert isinstance(args[0], dict)
        scores = {_str(k): _float(v) for k, v in args[0].items()}
        new.update(scores)
        return new, len(set(scores) - set(cur))
    if method == "zincrby":
        member = _str(args[0])
        new[member] = cur.get(member, 0.0) + _float(args[1])
        return new, new[member]
    if method == "zrem":
        removed = set(_strs(args)) & set(cur)
        return {k: v for k, v in cur.items() if k not in removed}, len(removed)
    if method == "zremrangebyrank":
        order = zset_order(cur)
        removed = {order[i] for i in _redis_range(_int(args[0]), _int(args[1]), len(order))}
        return {k: v for k, v in cur.items() if k not in removed}, len(removed)
    if method == "zremrangebyscore":
        low, high = _float(args[0]), _float(args[1])
        removed = {k for k, v in cur.items() if low <= v <= high}
        return {k: v for k, v in cur.items() if k not in removed}, len(removed)
    if method == "delete":
        return {}, bool(cur)
    if method == "assign":
        assert isinstance(args[0], dict)
        return {_str(k): _float(v) for k, v in args[0].items()}, None
    raise AssertionError(method)


# -- steps ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Create:
    values: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Write:
    """``method`` on field ``target`` of the instance in pool slot ``slot`` (``target`` "" is the
    instance itself: hmset, hdel, delete). ``assign`` is ``instance.target = args[0]``."""

    slot: int
    target: str
    method: str
    args: tuple[object, ...] = ()


Step = Create | Write


def model_write(op: Write, state: Instance, actual: object) -> object:
    """Apply ``op`` to ``state`` (a copy) and return the reply it should get."""
    if op.target == "":
        if op.method == "hmset":
            assert isinstance(op.args[0], dict)
            for name, value in op.args[0].items():
                if value is None:
                    state.scalars.pop(_str(name), None)
                else:
                    state.scalars[_str(name)] = _scalar(value)
            return True
        if op.method == "hdel":
            present = {name for name in _strs(op.args) if name in state.scalars}
            for name in present:
                del state.scalars[name]
            return len(present)
        raise AssertionError(op)
    spec = SPEC[op.target]
    name = spec.name
    reply: object
    if spec.kind in ("islot", "string"):
        new_scalar, reply = model_scalar(spec, op.method, op.args, state.scalars.get(name))
        if new_scalar is None:
            state.scalars.pop(name, None)
        else:
            state.scalars[name] = new_scalar
    elif spec.kind == "set":
        state.sets[name], reply = model_set(op.method, op.args, state.sets.get(name, set()), actual)
    elif spec.kind == "list":
        state.lists[name], reply = model_list(op.method, op.args, state.lists.get(name, []))
    elif spec.kind == "hash":
        state.hashes[name], reply = model_hash(op.method, op.args, state.hashes.get(name, {}))
    else:
        state.zsets[name], reply = model_zset(op.method, op.args, state.zsets.get(name, {}))
    return reply


def instance_from(values: tuple[tuple[str, object], ...]) -> Instance:
    state = Instance()
    for name, value in values:
        spec = SPEC[name]
        if spec.kind in ("islot", "string"):
            if value is not None:
                state.scalars[name] = _scalar(value)
        elif spec.kind == "set":
            state.sets[name] = set(_strs(value))
        elif spec.kind == "list":
            state.lists[name] = _strs(value)
        elif spec.kind == "hash":
            assert isinstance(value, dict)
            state.hashes[name] = {_str(k): _scalar(v) for k, v in value.items()}
        else:
            assert isinstance(value, dict)
            state.zsets[name] = {_str(k): _float(v) for k, v in value.items()}
    return state


Outcome = tuple[str, object]


def same_outcome(got: Outcome, expected: Outcome) -> bool:
    """Same error, or same reply of the same type (1 is not True, 1.0 is not 1)."""

    def same(a: object, b: object) -> bool:
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    return got[0] == expected[0] and same(got[1], expected[1])


def run(op: Write, bike: PropBike) -> Outcome:
    """Run a write on the server; its reply, or which error it raised."""
    try:
        if op.target == "":
            if op.method == "hmset":
                return "ok", bike.hmset(**cast("dict[str, object]", op.args[0]))
            if op.method == "hdel":
                return "ok", bike.hdel(*_strs(op.args))
            bike.delete()
            return "ok", None
        if op.method == "assign":
            setattr(bike, op.target, op.args[0])
            return "ok", None
        method: Callable[..., object] = getattr(getattr(bike, op.target), op.method)
        return "ok", method(*op.args)
    except UniquenessError:
        return "unique", None
    except DoesNotExist:
        return "missing", None
    except CommandError:  # Redis refused the command (LSET on a missing list...): nothing written
        return "error", None


def apply_step(step: Step, world: World, pool: list[tuple[PropBike, int]]) -> None:
    if isinstance(step, Create):
        state = instance_from(step.values)
        expected: Outcome = ("unique", None) if unique_clash(world, None, state, Instance()) else ("ok", world.counter + 1)
        make = cast("Callable[..., PropBike]", PropBike)  # values of every field type, by name
        created: PropBike | None = None
        try:
            created = make(**dict(step.values))
            outcome: Outcome = ("ok", created.pk_value)
        except UniquenessError:
            outcome = ("unique", None)
        assert same_outcome(outcome, expected), f"{step}: got {outcome}, expected {expected}"
        event(f"create outcome: {outcome[0]}")
        if created is not None:
            world.counter += 1
            world.live[world.counter] = state
            pool.append((created, world.counter))
        return
    bike, pk = pool[step.slot % len(pool)]
    outcome = run(step, bike)
    old = world.live.get(pk)
    new: Instance | None = None
    if old is None:
        expected = ("missing", None)
    elif step.target == "" and step.method == "delete":
        expected = ("ok", None)
    else:
        new = copy.deepcopy(old)
        try:
            reply = model_write(step, new, outcome[1])
        except CommandFails:
            expected = ("error", None)
            new = None
        else:
            if unique_clash(world, pk, new, old):
                expected = ("unique", None)
                new = None
            else:
                expected = ("ok", reply)
    assert same_outcome(outcome, expected), f"{step} on pk={pk}: got {outcome}, expected {expected}"
    event(f"write outcome: {outcome[0]}")
    if step.target == "" and step.method == "delete" and old is not None:
        del world.live[pk]
    elif new is not None:
        world.live[pk] = new


# -- strategies ----------------------------------------------------------------------------------

SLOTS = st.integers(0, 7)
AMOUNTS_INT = st.sampled_from([1, -1, 2])
AMOUNTS_FLOAT = st.sampled_from([0.5, 1.0, -1.5])


def _values(spec: Spec) -> st.SearchStrategy[Scalar]:
    return st.sampled_from(spec.values)


def _members(spec: Spec) -> st.SearchStrategy[str]:
    return st.sampled_from([_str(v) for v in spec.values])


def _write(spec: Spec, method: str, *args: st.SearchStrategy[object]) -> st.SearchStrategy[Write]:
    return st.builds(Write, slot=SLOTS, target=st.just(spec.name), method=st.just(method), args=st.tuples(*args))


def _variadic(spec: Spec, method: str, items: st.SearchStrategy[object]) -> st.SearchStrategy[Write]:
    return st.builds(Write, slot=SLOTS, target=st.just(spec.name), method=st.just(method),
                     args=st.lists(items, min_size=1, max_size=3).map(tuple))


def _field_value(spec: Spec) -> st.SearchStrategy[object]:
    """A whole value for a field: what the constructor and ``instance.field = ...`` take."""
    if spec.kind in ("islot", "string"):
        return st.none() | _values(spec)
    if spec.kind in ("set", "list"):
        return st.lists(_members(spec), max_size=3)
    if spec.kind == "hash":
        return st.dictionaries(st.sampled_from(SUB_KEYS), _values(spec), max_size=3)
    return st.dictionaries(_members(spec), st.sampled_from(SCORES), max_size=3)


def field_writes(spec: Spec) -> list[st.SearchStrategy[Write]]:
    value = _values(spec)
    optional = st.none() | value
    kind = spec.kind
    out = [_write(spec, "delete"), _write(spec, "assign", _field_value(spec))]
    if kind == "islot":
        out += [_write(spec, "hset", optional), _write(spec, "set", optional), _write(spec, "hsetnx", value),
                _write(spec, "hdel")]
        if spec.values is INTS:
            out.append(_write(spec, "hincrby", AMOUNTS_INT))
        if spec.values is FLOATS:
            out.append(_write(spec, "hincrbyfloat", AMOUNTS_FLOAT))
    elif kind == "string":
        out += [_write(spec, "set", optional), _write(spec, "setnx", value), _write(spec, "getset", value)]
        if isinstance(spec.values[0], (str, bytes)):
            out.append(_write(spec, "append", value))
        if spec.values is BYTES:  # setrange and setbit could cut a UTF-8 character: bytes fields only
            out.append(_write(spec, "setrange", st.integers(0, 3), value))
            out.append(_write(spec, "setbit", st.integers(0, 15), st.integers(0, 1)))
        if spec.values is INTS:
            out += [_write(spec, "incr", AMOUNTS_INT), _write(spec, "decr", AMOUNTS_INT)]
        if spec.values is FLOATS:
            out.append(_write(spec, "incrbyfloat", AMOUNTS_FLOAT))
    elif kind == "set":
        out += [_variadic(spec, "sadd", _members(spec)), _variadic(spec, "srem", _members(spec)), _write(spec, "spop"),
                _write(spec, "spop", st.integers(1, 2))]
    elif kind == "list":
        out += [_variadic(spec, method, _members(spec)) for method in ("lpush", "rpush", "lpushx", "rpushx")]
        out += [
            _write(spec, "linsert", st.sampled_from(["BEFORE", "AFTER"]), _members(spec), _members(spec)),
            _write(spec, "lpop"), _write(spec, "lpop", st.integers(0, 2)),
            _write(spec, "rpop"), _write(spec, "rpop", st.integers(0, 2)),
            _write(spec, "lrem", st.integers(-2, 2), _members(spec)),
            _write(spec, "lset", st.integers(-3, 3), _members(spec)),
            _write(spec, "ltrim", st.integers(-3, 3), st.integers(-3, 3)),
        ]
    elif kind == "hash":
        sub_key = st.sampled_from(SUB_KEYS)
        out += [
            _write(spec, "hset", sub_key, value),
            _write(spec, "hmset", st.dictionaries(sub_key, value, min_size=1, max_size=3)),
            _write(spec, "hsetnx", sub_key, value),
            _variadic(spec, "hdel", sub_key),
        ]
        if spec.values is INTS:
            out.append(_write(spec, "hincrby", sub_key, AMOUNTS_INT))
        if spec.values is FLOATS:
            out.append(_write(spec, "hincrbyfloat", sub_key, AMOUNTS_FLOAT))
    else:
        scores = st.sampled_from(SCORES)
        out += [
            _write(spec, "zadd", st.dictionaries(_members(spec), scores, min_size=1, max_size=3)),
            _write(spec, "zincrby", _members(spec), AMOUNTS_FLOAT),
            _variadic(spec, "zrem", _members(spec)),
            _write(spec, "zremrangebyrank", st.integers(-3, 3), st.integers(-3, 3)),
            _write(spec, "zremrangebyscore", scores, scores),
        ]
    return out


def creates() -> st.SearchStrategy[Create]:
    # Each field is given or left to its default, independently.
    values = st.fixed_dictionaries({}, optional={spec.name: _field_value(spec) for spec in SPECS})
    return st.builds(Create, values=values.map(lambda given: tuple(given.items())))


def _instance_write(method: str, args: st.SearchStrategy[tuple[object, ...]]) -> st.SearchStrategy[Write]:
    return st.builds(Write, slot=SLOTS, target=st.just(""), method=st.just(method), args=args)


def instance_writes() -> st.SearchStrategy[Write]:
    slot_values = st.sampled_from(ISLOTS).flatmap(lambda name: st.tuples(st.just(name), st.none() | _values(SPEC[name])))
    hmset_args = st.lists(slot_values, min_size=1, max_size=3, unique_by=lambda item: item[0])
    return st.one_of(
        _instance_write("hmset", hmset_args.map(lambda items: (dict(items),))),
        _instance_write("hdel", st.lists(st.sampled_from(ISLOTS), min_size=1, max_size=3).map(tuple)),
    )


def steps() -> st.SearchStrategy[Step]:
    writes = st.one_of([strategy for spec in SPECS for strategy in field_writes(spec)])
    unique_writes = st.one_of([strategy for spec in SPECS if spec.mode == 2 for strategy in field_writes(spec)])
    deletes = _instance_write("delete", st.just(()))
    # one_of draws its branches about evenly: creates and deletes near 10% each, and writes to
    # unique fields get extra weight so that clashes are frequent.
    return st.one_of(creates(), deletes, instance_writes(), writes, writes, writes, writes, writes,
                     unique_writes, unique_writes)


# -- checks --------------------------------------------------------------------------------------

def scan_keys(db: Database) -> set[bytes]:
    found: set[bytes] = set()
    cursor = b"0"
    while True:
        reply = db.execute("SCAN", cursor, "MATCH", "*", "COUNT", 1000)
        assert isinstance(reply, (list, tuple))
        cursor = str(reply[0]).encode() if isinstance(reply[0], int) else replies.optional_bytes(reply[0]) or b"0"
        found.update(replies.bytes_list(reply[1]))
        if cursor == b"0":
            return found


def expected_keys(world: World) -> set[bytes]:
    keys: set[str] = set()
    if world.live:
        keys.add(f"{TAG}:pks")
    if world.counter:
        keys.add(f"{TAG}:next_pk")
    for pk, state in world.live.items():
        if any(name in state.scalars for name in ISLOTS):
            keys.add(f"{TAG}:obj:{pk}")
        for spec in SPECS:
            if spec.kind != "islot" and state.has_value(spec):
                keys.add(f"{TAG}:f:{spec.name}:{pk}")
    for spec in SPECS:
        if spec.mode and any(state.entry_parts(spec) for state in world.live.values()):
            keys.add(f"{TAG}:idx:{spec.name}")
    return {key.encode() for key in keys}


def check_indexes(db: Database, world: World) -> None:
    for spec in SPECS:
        key = f"{TAG}:idx:{spec.name}"
        stored = replies.scored(db.execute("ZRANGE", key, 0, -1, "WITHSCORES"))
        expected = {
            indexes.member(indexes.entry(parts), str(pk).encode())
            for pk, state in world.live.items()
            for parts in (state.entry_parts(spec) if spec.mode else set())
        }
        assert {member for member, _ in stored} == expected, f"index of {spec.name}"
        assert len(stored) == len(expected)
        assert all(score == 0 for _, score in stored), f"index of {spec.name}: scores {stored}"


def check_data(db: Database, world: World) -> None:
    assert set(PropBike.collection()) == set(world.live)
    assert {int(pk) for pk in replies.bytes_list(db.execute("SMEMBERS", f"{TAG}:pks"))} == set(world.live)
    if world.counter:
        assert replies.integer(db.execute("GET", f"{TAG}:next_pk")) == world.counter
    for pk, state in world.live.items():
        bike = PropBike.get(pk)
        assert bike.hgetall() == {name: value for name, value in state.scalars.items() if name in ISLOTS}
        for spec in SPECS:
            what = f"pk={pk} {spec.name}"
            if spec.kind in ("islot", "string"):
                scalar: Callable[[], object] = getattr(bike, spec.name).get
                assert scalar() == state.scalars.get(spec.name), what
            elif spec.kind == "set":
                assert bike_set(bike, spec.name).smembers() == state.sets.get(spec.name, set()), what
            elif spec.kind == "list":
                assert bike_list(bike, spec.name).lrange() == state.lists.get(spec.name, []), what
            elif spec.kind == "hash":
                hgetall: Callable[[], dict[str, object]] = getattr(bike, spec.name).hgetall
                assert hgetall() == state.hashes.get(spec.name, {}), what
            else:
                zset = state.zsets.get(spec.name, {})
                expected = [(member, zset[member]) for member in zset_order(zset)]
                assert bike_zset(bike, spec.name).zrange(withscores=True) == expected, what


def bike_set(bike: PropBike, name: str) -> BoundSet[str]:
    bound: BoundSet[str] = getattr(bike, name)
    return bound


def bike_list(bike: PropBike, name: str) -> BoundList[str]:
    bound: BoundList[str] = getattr(bike, name)
    return bound


def bike_zset(bike: PropBike, name: str) -> BoundSortedSet[str]:
    bound: BoundSortedSet[str] = getattr(bike, name)
    return bound


# Model.collection with keyword filters built at run time (field names from SPECS).
collection_of = cast("Callable[..., Collection[PropBike, int, int]]", PropBike.collection)


def check_collections(world: World) -> None:
    for spec in SPECS:
        if not spec.mode:
            continue
        if spec.kind == "hash":
            present = {v for state in world.live.values() for v in state.hashes.get(spec.name, {}).values()}
            for sub_key in SUB_KEYS:
                for value in set(spec.values) | present:
                    expected = {pk for pk, state in world.live.items()
                                if sub_key in state.hashes.get(spec.name, {})
                                and state.hashes[spec.name][sub_key] == value}
                    got = set(collection_of(**{f"{spec.name}__{sub_key}": value}))
                    assert got == expected, f"collection({spec.name}__{sub_key}={value!r})"
            continue
        present = {v for state in world.live.values() for v in state.values_of(spec)}
        for value in set(spec.values) | present:
            expected = {pk for pk, state in world.live.items() if value in state.values_of(spec)}
            collection = collection_of(**{spec.name: value})
            assert collection.count() == len(expected), f"collection({spec.name}={value!r}).count()"
            assert set(collection) == expected, f"collection({spec.name}={value!r})"
    # Order operators on the range and text indexes, against Python's own comparisons.
    for spec in SPECS:
        if spec.index == "eq":
            continue
        present = {v for state in world.live.values() for v in state.values_of(spec)}
        for bound in set(spec.values) | present:
            for op, holds in (("lt", operator.lt), ("gte", operator.ge)):
                expected = {pk for pk, state in world.live.items()
                            if any(holds(v, bound) for v in state.values_of(spec))}
                got = set(collection_of(**{f"{spec.name}__{op}": bound}))
                assert got == expected, f"collection({spec.name}__{op}={bound!r})"
    # Sorted by the int range field: missing values first, then by value, ties by pk (exact past
    # 2**53, where doubles tie); the values it returns are the exact ints.
    ages = {pk: cast("int | None", state.scalars.get("age")) for pk, state in world.live.items()}
    order = sorted(ages, key=lambda pk: (ages[pk] is not None, ages[pk] or 0, pk))
    assert list(PropBike.collection().sort(by=PropBike.age)) == order
    assert list(PropBike.collection().sort(by=PropBike.age).values_list(PropBike.age, flat=True)) == [ages[pk] for pk in order]
    # Two filters at once: the query script intersects an index with another.
    for color in STRS:
        for tag in STRS:
            expected = {pk for pk, state in world.live.items()
                        if state.scalars.get("color") == color and tag in state.sets.get("tags", set())}
            assert set(PropBike.collection(PropBike.color == color, tags=tag)) == expected, (color, tag)


def check_everything(db: Database, world: World) -> None:
    check_indexes(db, world)
    check_data(db, world)
    check_collections(world)
    assert scan_keys(db) == expected_keys(world)


# -- the tests -----------------------------------------------------------------------------------

class IndexMachine(RuleBasedStateMachine):
    """One example: an emptied database, a few creates, then ``stateful_step_count`` random steps
    (fewer once hypothesis shrinks a failure); the checks run once the sequence is over."""

    db: ClassVar[Database]  # set by the test, on a subclass

    def __init__(self) -> None:
        super().__init__()
        self.db.connection.flushdb()
        self.world = World()
        self.pool: list[tuple[PropBike, int]] = []
        self.failed = False

    def _apply(self, step: Step) -> None:
        try:
            apply_step(step, self.world, self.pool)
        except BaseException:
            self.failed = True  # the failing step is the report: skip the final checks
            raise

    @initialize(first=st.lists(creates(), min_size=1, max_size=4))
    def create_first(self, first: list[Create]) -> None:
        for step in first:
            self._apply(step)

    @rule(step=steps())
    def write(self, step: Step) -> None:
        self._apply(step)

    def teardown(self) -> None:
        if not self.failed:
            check_everything(self.db, self.world)


@pytest.fixture
def bikes(db: Database) -> Iterator[Database]:
    PropBike.use_database(db)
    yield db


def test_random_writes_keep_indexes_data_and_keyspace_exact(bikes: Database) -> None:
    # max_examples and stateful_step_count come from the profile (tests/property/conftest.py).
    class Machine(IndexMachine):
        db = bikes

    run_state_machine_as_test(Machine, settings=settings(deadline=None))
