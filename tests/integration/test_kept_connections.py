"""Each thread keeps the connection it sends script calls on (wire.Lane): what that must not change
for a user. A connection the server closed is replaced before anything is sent; a reply not read
(a timeout) never becomes the reply of the next call; a thread gives its connection back when it
ends or sends any other command; a forked child never writes on its parent's socket.
"""
from __future__ import annotations

import os
import threading
import time

import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from limpyd_typed import Database, InstanceHash, Model, field, replies
from limpyd_typed.testing import no_retry


class Tally(Model, namespace="lanes"):
    name: InstanceHash[str] = field(unique=True)
    kind: InstanceHash[str] = field(indexable=True, default="x")


def _clients(db: Database) -> int:
    """How many clients the server has (this test's connections, and the one asking)."""
    return len((replies.optional_bytes(db.execute("CLIENT", "LIST")) or b"").splitlines())


def test_a_connection_closed_by_the_server_is_replaced_before_the_call(db: Database, server_url: str) -> None:
    Tally.use_database(db)
    Tally(name="a")  # this thread now keeps a connection
    other = Database(server_url, retry=no_retry())
    try:
        other.execute("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")  # every client but the killer's
    finally:
        other.close()
    time.sleep(0.05)  # the server has closed the socket
    Tally(name="b")  # sent on a new connection, once
    assert set(Tally.collection().values_list(Tally.name, flat=True)) == {"a", "b"}


def test_a_reply_not_read_in_time_is_never_read_as_the_next_reply(server_url: str, db: Database) -> None:
    slow = Database(server_url, retry=no_retry(), socket_timeout=0.2)
    Tally.use_database(slow)
    try:
        first = Tally(name="first")
        db.execute("CLIENT", "PAUSE", 600, "WRITE")  # the next write waits: its reply comes late
        with pytest.raises(RedisTimeoutError):
            Tally(name="late")
        time.sleep(0.6)  # the pause is over
        assert Tally.collection().values_list(Tally.name).get(first.pk_value) == ("first",)  # not late's reply
        # The outcome of "late" is unknown to the caller (the server drops a paused command whose
        # client left); whatever it is, the index agrees with the data.
        assert set(Tally.collection().values_list(Tally.name, flat=True)) in ({"first"}, {"first", "late"})
        assert Tally.check_indexes().ok
    finally:
        db.execute("CLIENT", "UNPAUSE")
        Tally.use_database(db)
        slow.close()


def test_threads_give_their_connection_back_when_they_end(db: Database) -> None:
    Tally.use_database(db)
    Tally(name="warm")
    before = _clients(db)

    def write(n: int) -> None:
        Tally(name=f"t{n}")

    for n in range(20):  # one after the other: each can reuse the connection of the one before
        thread = threading.Thread(target=write, args=(n,))
        thread.start()
        thread.join()
    assert _clients(db) <= before + 1  # kept for good, 20 threads would leave 20 connections open
    assert len(Tally.collection()) == 21


def test_a_thread_holds_one_connection_at_a_time(db: Database) -> None:
    Tally.use_database(db)
    before = _clients(db)
    tally = Tally(name="a")  # a script call: the kept connection
    assert tally.name.hget() == "a"  # another command: the kept one goes back first, and is reused
    tally.kind.hset("y")
    assert _clients(db) == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX only")
def test_a_forked_child_writes_on_its_own_connection(db: Database) -> None:
    Tally.use_database(db)
    Tally(name="parent-before")
    pid = os.fork()
    if pid == 0:  # the child: writes, then leaves at once (no pytest teardown here)
        code = 1
        try:
            Tally(name="child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    Tally(name="parent-after")  # on the parent's connection, untouched by the child
    assert set(Tally.collection().values_list(Tally.name, flat=True)) == {"child", "parent-after", "parent-before"}
    assert Tally.check_indexes().ok


def test_idle_threads_never_keep_more_than_half_the_pool(server_url: str, db: Database) -> None:
    small = Database(server_url, retry=no_retry(), max_connections=4)
    Tally.use_database(small)
    done, idle = threading.Event(), threading.Barrier(5)

    def write_then_idle(n: int) -> None:
        Tally(name=f"t{n}")
        idle.wait()
        done.wait(5)

    threads = [threading.Thread(target=write_then_idle, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        idle.wait()  # four threads made their call and sit idle: two keep a connection, two gave theirs back
        Tally(name="main")  # a connection of the pool: the idle threads left two
        assert small.execute("DBSIZE") is not None
        assert _clients(db) <= 2 + 2 + 1  # two kept, main's, this count's own: the pool never ran dry
    finally:
        done.set()
        for thread in threads:
            thread.join()
        Tally.use_database(db)
        small.close()
    assert len(Tally.collection()) == 5
