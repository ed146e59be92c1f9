"""Helpers shared by the integration tests.

The raw Redis reads are built independently of the library's key and index code: key names are
spelled out from a model's namespace and class name, index members from the escaping rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

from limpyd_typed import Database, DoesNotExist, Model, replies, scripts
from tests.conftest import RoundTrips

R = TypeVar("R")

Snapshot = dict[bytes, tuple[bytes, object]]


def snapshot(db: Database) -> Snapshot:
    """Every key of the database with its type and full content."""
    out: Snapshot = {}
    for key in replies.bytes_list(db.execute("KEYS", "*")):
        kind = replies.optional_bytes(db.execute("TYPE", key)) or b""
        content: object
        if kind == b"string":
            content = replies.optional_bytes(db.execute("GET", key))
        elif kind == b"hash":
            content = replies.mapping(db.execute("HGETALL", key))
        elif kind == b"set":
            content = frozenset(replies.bytes_list(db.execute("SMEMBERS", key)))
        elif kind == b"list":
            content = replies.bytes_list(db.execute("LRANGE", key, 0, -1))
        elif kind == b"zset":
            content = replies.scored(db.execute("ZRANGE", key, 0, -1, "WITHSCORES"))
        else:
            raise AssertionError(f"unexpected key type {kind!r} for {key!r}")
        out[key] = (kind, content)
    return out


def esc(raw: bytes) -> bytes:
    """Index escaping: \\x01 -> \\x01\\x02, \\x00 -> \\x01\\x01."""
    return raw.replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01")


def pkb(instance: Model[int]) -> bytes:
    return str(instance.pk_value).encode()


def entries(*pairs: tuple[bytes, Model[int]]) -> set[bytes]:
    """The index members expected for these (stored value, instance) pairs."""
    return {esc(value) + b"\x00" + esc(pkb(instance)) for value, instance in pairs}


def entries_of(values: Iterable[bytes], instance: Model[int]) -> set[bytes]:
    return entries(*[(value, instance) for value in values])


class FieldKeys:
    """The raw keys of one model's fields and indexes, from its namespace and class name."""

    def __init__(self, namespace: str, model: str) -> None:
        self.prefix = f"lt:{{{namespace}:{model}}}"

    def data_key(self, name: str, instance: Model[int]) -> str:
        return f"{self.prefix}:f:{name}:{instance.pk_value}"

    def key_exists(self, db: Database, name: str, instance: Model[int]) -> bool:
        return replies.integer(db.execute("EXISTS", self.data_key(name, instance))) == 1

    def index(self, db: Database, name: str) -> set[bytes]:
        """The members of a field's index (all scores must be 0)."""
        found = replies.scored(db.execute("ZRANGE", f"{self.prefix}:idx:{name}", 0, -1, "WITHSCORES"))
        assert all(score == 0 for _, score in found)
        return {member for member, _ in found}


def one_trip(rt: RoundTrips, call: Callable[[], R]) -> R:
    with rt:
        result = call()
    assert rt.count == 1, f"{rt.count} round trips instead of 1"
    return result


def warm_scripts(db: Database) -> None:
    """Load the script library, so that each write is one FCALL."""
    scripts.load(db)
    assert db.execute("FUNCTION", "LIST", "LIBRARYNAME", scripts.LIBRARY_NAME), "the library did not load"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


I = TypeVar("I", bound="Model[Any]")


def assert_deleted_instance_refuses(db: Database, bike: I, write: Callable[[I], object]) -> None:
    """A write on a deleted instance raises DoesNotExist naming the model, and changes nothing."""
    before = snapshot(db)
    assert not any(key.endswith(b":" + pkb(bike)) for key in before)
    with pytest.raises(DoesNotExist) as caught:
        write(bike)
    assert "Bike" in str(caught.value)
    assert snapshot(db) == before


@contextmanager
def read_only_replica(db: Database) -> Iterator[None]:
    """The server made a read-only replica for the block (of a primary that does not answer: its data
    is kept), then a primary again."""
    db.execute("REPLICAOF", "127.0.0.1", "1")
    try:
        yield
    finally:
        db.execute("REPLICAOF", "NO", "ONE")
