"""db.transaction(func, *watches): WATCH, direct reads, multi(), queued calls, retries, against a real server.

Concurrency is real: threads with their own read-modify-write transactions on one watched counter,
and a competing client that changes a watched key between the read and EXEC.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from limpyd_typed import (
    Database,
    Deferred,
    InstanceHash,
    Model,
    Pipeline,
    PipelineError,
    String,
    TransactionError,
    field,
)
from tests.conftest import RoundTrips
from tests.integration.support import FieldKeys

NS = "ittx"


class Page(Model, namespace=NS):
    url: InstanceHash[str] = field(unique=True)
    hits: String[int | None] = field(default=None)
    label: InstanceHash[str | None] = field(indexable=True, default=None)

    def incr_hits(self) -> list[object]:
        """The seed's example: an increment without INCR, safe from races by WATCH."""

        def do_incr(pipeline: Pipeline) -> None:
            previous = self.hits.get()  # before multi(): read at once, on the watching connection
            pipeline.multi()
            pipeline.call(self.hits.set, (previous or 0) + 1)

        return self.database.transaction(do_incr, self.hits)


@pytest.fixture(autouse=True)
def models(db: Database) -> Iterator[None]:
    Page.use_database(db)
    yield


def test_seed_incr_hits_example(db: Database) -> None:
    page = Page(url="/")
    assert page.incr_hits() == [True]
    assert page.incr_hits() == [True]
    assert page.hits.get() == 2


def test_transaction_round_trips(db: Database, round_trips: RoundTrips) -> None:
    page = Page(url="/")
    with round_trips:
        page.incr_hits()
    # WATCH, the read, then MULTI + FUNCTION LOAD + FCALL + EXEC in one exchange.
    assert round_trips.count == 3


def test_results_and_deferreds_of_a_transaction(db: Database) -> None:
    page = Page(url="/a")
    queued: list[Deferred[object]] = []

    def func(p: Pipeline) -> None:
        label = page.label.get()
        p.multi()
        queued.append(p.call(page.label.hset, f"{label}!"))
        queued.append(p.call(page.url.get))
        queued.append(p.call(Page, url="/b", label="None!"))

    results = db.transaction(func, page.label, "some-other-key")
    created = results[2]
    assert isinstance(created, Page) and created == Page.get(url="/b")
    assert results[:2] == [1, "/a"]
    assert [d.value for d in queued] == results
    # The indexed write ran as its script: the index is exact.
    assert set(Page.collection(label="None!")) == {page.pk_value, created.pk_value}
    raw = FieldKeys(NS, "Page").index(db, "label")
    assert raw == {b"None!\x00" + str(page.pk_value).encode(), b"None!\x00" + str(created.pk_value).encode()}


def test_a_watched_key_changed_by_another_client_makes_func_run_again(db: Database, server_url: str) -> None:
    page = Page(url="/")
    other = redis.Redis.from_url(server_url)
    attempts: list[int | None] = []

    def func(p: Pipeline) -> None:
        previous = page.hits.get()
        attempts.append(previous)
        if len(attempts) == 1:  # another client writes between our read and EXEC: once
            other.set(page.hits.key, 10)
        p.multi()
        p.call(page.hits.set, (previous or 0) + 1)

    try:
        assert db.transaction(func, page.hits) == [True]
    finally:
        other.close()
    assert attempts == [None, 10]  # the first run was discarded, the second saw the other write
    assert page.hits.get() == 11


def test_retries_run_out_with_a_clear_error(db: Database, server_url: str) -> None:
    page = Page(url="/")
    other = redis.Redis.from_url(server_url)
    runs: list[Deferred[object]] = []

    def always_raced(p: Pipeline) -> None:
        other.incr(page.hits.key)
        p.multi()
        runs.append(p.call(page.hits.set, 0))

    try:
        with pytest.raises(TransactionError, match=r"transaction .*always_raced gave up after 3 attempts: "
                                                   r"a watched key changed every time \(lt:\{ittx:Page\}:f:hits:1\)"):
            db.transaction(always_raced, page.hits, retries=2)
    finally:
        other.close()
    assert page.hits.get() == 3 and len(runs) == 3
    with pytest.raises(PipelineError, match="its transaction was aborted: a watched key changed; nothing was run"):
        runs[0].value


def test_concurrent_read_modify_write_transactions_are_exact(db: Database) -> None:
    page = Page(url="/")
    attempts = [0]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def increment(p: Pipeline) -> None:
        with lock:
            attempts[0] += 1
        value = page.hits.get()
        p.multi()
        p.call(page.hits.set, (value or 0) + 1)

    def worker() -> None:
        try:
            for _ in range(50):
                db.transaction(increment, page.hits, retries=1000)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert page.hits.get() == 200
    assert attempts[0] >= 200  # each conflict costs one more run of the function
    print(f"200 increments took {attempts[0]} runs")


def test_func_errors_discard_the_transaction(db: Database) -> None:
    page = Page(url="/")

    def broken(p: Pipeline) -> None:
        p.multi()
        p.call(page.hits.set, 5)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        db.transaction(broken, page.hits)
    assert page.hits.get() is None
    assert page.hits.set(1) is True  # the connection was released, UNWATCHed


def test_misuse_is_refused_clearly(db: Database) -> None:
    page = Page(url="/")

    def call_before_multi(p: Pipeline) -> None:
        p.call(page.hits.get)

    with pytest.raises(PipelineError, match=r"call\(Page.hits.get\(\) of pk=1\) before multi\(\): call multi\(\) first"):
        db.transaction(call_before_multi, page.hits)

    def direct_after_multi(p: Pipeline) -> None:
        p.multi()
        page.hits.set(3)

    with pytest.raises(PipelineError, match="'FCALL' sent directly while a pipeline is open"):
        db.transaction(direct_after_multi, page.hits)
    assert page.hits.get() is None

    with pytest.raises(ValueError, match="retries must be an int >= 0"):
        db.transaction(direct_after_multi, page.hits, retries=-1)
    with pytest.raises(PipelineError, match="watch\\(\\) needs a transaction"):
        db.pipeline(transaction=False).watch(page.hits)


def test_a_func_that_queues_nothing_returns_no_result(db: Database) -> None:
    page = Page(url="/")
    assert db.transaction(lambda p: page.hits.get(), page.hits) == []
    assert db.transaction(lambda p: p.multi()) == []
