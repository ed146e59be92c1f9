"""check_indexes() finds every kind of damage an index can suffer; rebuild_indexes() repairs it.

The damage is done with raw Redis commands (as a crashed older client, a manual edit or a bug
would leave it); key names and index members are spelled out by hand from the documented layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from limpyd_typed import FK, M2M, Database, Hash, InstanceHash, List, Model, Set, SortedSet, String, field, relation
from limpyd_typed.maintenance import DuplicateUnique, MissingEntry, OrphanKey, StaleEntry, UnreadableValue

TAG = "lt:{maint:Gear}"


class Gear(Model, namespace="maint"):
    name: InstanceHash[str] = field(unique=True)
    size: InstanceHash[int] = field(index="range", default=0)
    born: InstanceHash[date | None] = field(index="range", default=None)
    weight: String[float | None] = field(indexable=True, default=None)
    tags: Set[str] = field(indexable=True, default=())
    serials: List[str] = field(unique=True, default=())
    props: Hash[str] = field(indexable=True, default={})
    ranks: SortedSet[str] = field(indexable=True, default={})
    notes: String[str | None] = field(default=None)


@pytest.fixture
def gears(db: Database) -> Iterator[Database]:
    Gear.use_database(db)
    yield db


def populate(count: int) -> list[Gear]:
    return [
        Gear(name=f"g{i}", size=i % 5, born=date(2000, 1, 1 + i % 28), weight=i / 2, tags={"t", f"t{i % 3}"},
             serials=[f"s{i}"], props={"k": f"v\x00{i % 2}"}, ranks={f"r{i % 4}": 1.5}, notes="x")
        for i in range(count)
    ]


def test_a_model_written_by_the_library_is_consistent(gears: Database) -> None:
    populate(30)
    Gear.get(name="g3").delete()
    Gear.get(name="g4").tags.srem("t")
    report = Gear.check_indexes(batch=7)  # small batches: pages and SSCAN/SCAN cursors are exercised
    assert report.ok and report.problems == 0
    assert report.instances_read == 29
    assert report.entries_read == 29 * 9 - 1  # 9 entries per instance (tags has 2), one tag removed


def test_a_stale_entry_of_a_deleted_pk_is_found_and_removed(gears: Database) -> None:
    populate(3)
    gears.connection.zadd(f"{TAG}:idx:tags", {b"ghost\x00" + b"99": 0})
    report = Gear.check_indexes()
    assert report.stale == (StaleEntry("Gear.tags", b"ghost", b"99", pk_live=False),)
    assert report.counts == {"stale": 1, "missing": 0, "duplicates": 0, "orphans": 0, "unreadable": 0} and not report.ok
    assert "Gear.tags: stale index entry b'ghost' for pk=b'99' (the instance does not exist)" in list(report.lines())
    assert Gear.rebuild_indexes().stale_count == 1
    assert Gear.check_indexes().ok
    assert list(Gear.collection(tags="ghost")) == []


def test_a_value_changed_behind_the_index_gives_a_stale_and_a_missing_entry(gears: Database) -> None:
    gear = populate(3)[1]
    gears.connection.hset(f"{TAG}:obj:2", "name", "renamed")  # raw HSET: no index update
    report = Gear.check_indexes()
    assert report.stale == (StaleEntry("Gear.name", b"g1", b"2", pk_live=True),)
    assert report.missing == (MissingEntry("Gear.name", b"renamed", b"2"),)
    repaired = Gear.rebuild_indexes()
    assert (repaired.stale_count, repaired.missing_count) == (1, 1)
    assert Gear.check_indexes().ok
    assert Gear.get(name="renamed") == gear and not Gear.exists(name="g1")


def test_missing_entries_of_every_field_kind_are_added_back(gears: Database) -> None:
    populate(4)
    for name in ("name", "size", "born", "weight", "tags", "serials", "props", "ranks"):
        gears.connection.delete(f"{TAG}:idx:{name}")
    report = Gear.check_indexes()
    assert report.missing_count == 4 * 9 and report.stale_count == 0
    assert {m.field for m in report.missing} == {f"Gear.{n}" for n in
                                                 ("name", "size", "born", "weight", "tags", "serials", "props", "ranks")}
    assert Gear.rebuild_indexes().missing_count == 36
    assert Gear.check_indexes().ok
    assert list(Gear.collection(Gear.size >= 2)) == [3, 4]
    assert list(Gear.collection(props__k="v\x001")) == [2, 4]
    assert list(Gear.collection(weight=1.5)) == [4]  # the float index form (%.17g) is the prelude's


def test_a_unique_value_held_twice_is_reported_not_repaired(gears: Database) -> None:
    populate(3)
    gears.connection.hset(f"{TAG}:obj:3", "name", "g0")
    gears.connection.zadd(f"{TAG}:idx:name", {b"g0\x00" + b"3": 0})
    gears.connection.zrem(f"{TAG}:idx:name", b"g2\x00" + b"3")
    report = Gear.check_indexes()
    assert report.duplicates == (DuplicateUnique("Gear.name", b"g0", (b"1", b"3")),)
    assert report.duplicate_count == 1 and report.problems == 1
    assert Gear.rebuild_indexes().duplicate_count == 1
    assert Gear.check_indexes().duplicate_count == 1  # still there: which instance keeps it is the user's call
    Gear.get(3).name.hset("g2")
    assert Gear.check_indexes().ok


def test_a_check_finds_a_duplicate_behind_a_missing_entry(gears: Database) -> None:
    populate(3)
    gears.connection.rpush(f"{TAG}:f:serials:3", "s0")  # raw: the index does not know pk 3 holds s0
    report = Gear.check_indexes()
    assert report.missing == (MissingEntry("Gear.serials", b"s0", b"3"),)
    assert report.duplicates == (DuplicateUnique("Gear.serials", b"s0", (b"1", b"3")),)
    repaired = Gear.rebuild_indexes()
    assert repaired.missing_count == 1
    assert repaired.duplicates == (DuplicateUnique("Gear.serials", b"s0", (b"1", b"3")),)


def test_a_check_finds_a_value_held_twice_where_neither_holder_is_indexed(gears: Database) -> None:
    populate(4)
    for pk in (b"2", b"4"):  # raw HSETs: both hold "hacked", the index still has their old names
        gears.connection.hset(f"{TAG}:obj:{pk.decode()}", "name", "hacked")
    report = Gear.check_indexes(batch=1)  # one pk per script: the second holder is met in another call
    assert report.duplicates == (DuplicateUnique("Gear.name", b"hacked", (b"2", b"4")),)
    assert (report.stale_count, report.missing_count, report.duplicate_count) == (2, 2, 1)
    assert gears.connection.keys(f"{TAG}:check:*") == []  # the check's scratch set is gone
    assert Gear.check_indexes().duplicate_count == 1  # a check changes nothing


def test_orphan_keys_of_dead_pks_are_found_and_deleted(gears: Database) -> None:
    populate(2)
    gears.connection.sadd(f"{TAG}:f:tags:7", "x")
    gears.connection.hset(f"{TAG}:obj:a%3Ab", "name", "y")  # pk 'a:b', escaped in the key
    gears.connection.set(f"{TAG}:stored:abc", "kept")  # a stored collection: the model's own key
    report = Gear.check_indexes()
    assert sorted(report.orphans, key=lambda o: o.key) == [
        OrphanKey(f"{TAG}:f:tags:7", "Gear.tags", b"7"),
        OrphanKey(f"{TAG}:obj:a%3Ab", "", b"a:b"),
    ]
    assert Gear.rebuild_indexes().orphan_count == 2
    assert gears.connection.exists(f"{TAG}:f:tags:7", f"{TAG}:obj:a%3Ab") == 0
    assert gears.connection.get(f"{TAG}:stored:abc") == b"kept"
    assert Gear.check_indexes().ok


def test_reports_keep_a_bounded_sample_and_exact_counts(gears: Database) -> None:
    from limpyd_typed.maintenance import check_indexes

    populate(20)
    gears.connection.delete(f"{TAG}:idx:tags")
    report = check_indexes(Gear, keep=5, batch=3)
    assert report.missing_count == 40 and len(report.missing) == 5


def test_progress_reports_every_item_read(gears: Database) -> None:
    populate(10)
    seen: dict[str, int] = {}

    def progress(stage: str, done: int) -> None:
        seen[stage] = seen.get(stage, 0) + done

    report = Gear.check_indexes(batch=4, progress=progress)
    assert seen["entries"] == report.entries_read and seen["keys"] == report.keys_read
    assert seen["instances"] == 10


def test_a_bad_batch_size_is_refused_naming_the_model(gears: Database) -> None:
    with pytest.raises(ValueError, match="Gear: batch must be at least 1"):
        Gear.check_indexes(batch=0)


def test_a_member_that_is_no_entry_at_all_is_stale(gears: Database) -> None:
    populate(1)
    gears.connection.zadd(f"{TAG}:idx:size", {b"garbage": 0})
    report = Gear.check_indexes()
    assert report.stale_count == 1 and report.stale[0].field == "Gear.size" and not report.stale[0].pk_live
    assert Gear.rebuild_indexes().stale_count == 1 and Gear.check_indexes().ok


def test_a_hash_entry_names_sub_key_and_value(gears: Database) -> None:
    populate(1)
    gears.connection.hset(f"{TAG}:f:props:1", "k", "other")
    report = Gear.check_indexes()
    assert report.stale == (StaleEntry("Gear.props", b"k\x00v\x000", b"1", pk_live=True),)
    assert report.missing == (MissingEntry("Gear.props", b"k\x00other", b"1"),)


class Crew(Model, namespace="maint"):
    title: InstanceHash[str] = field(unique=True)
    leader: FK[Gear] = relation(default=None, related_name="led_crews", on_delete="set_null")
    members: M2M[Gear] = relation(default=(), related_name="crews")


def test_relation_fields_are_checked_and_repaired_like_any_indexed_field(gears: Database) -> None:
    Crew.use_database(gears)
    a, b = populate(2)
    crew = Crew(title="c", leader=a, members=[a, b])
    b.delete()  # set_null / removal from the M2M, with their index entries
    assert Crew.check_indexes().ok and Gear.check_indexes().ok
    gears.connection.sadd("lt:{maint:Crew}:f:members:1", "7")  # raw: the M2M index does not know it
    gears.connection.zadd("lt:{maint:Crew}:idx:leader", {b"9\x00" + b"1": 0})
    report = Crew.check_indexes()
    assert report.missing == (MissingEntry("Crew.members", b"7", b"1"),)
    assert report.stale == (StaleEntry("Crew.leader", b"9", b"1", pk_live=True),)
    assert Crew.rebuild_indexes().problems == 2 and Crew.check_indexes().ok
    assert list(Crew.collection(members=7)) == [crew.pk_value]


def test_a_value_no_index_can_read_is_reported_and_left_alone(gears: Database) -> None:
    populate(2)
    gears.execute("HSET", f"{TAG}:obj:1", "size", "big")  # not an int: its range index cannot order it
    gears.execute("DEL", f"{TAG}:f:tags:2")
    gears.execute("SET", f"{TAG}:f:tags:2", "not a set")  # a key of the wrong type
    entries_before = gears.execute("ZRANGE", f"{TAG}:idx:size", 0, -1)
    report = Gear.check_indexes()
    assert {(u.field, u.pk) for u in report.unreadable} == {("Gear.size", b"1"), ("Gear.tags", b"2")}
    reasons = {u.field: u.reason for u in report.unreadable}
    assert reasons["Gear.size"] == "not a stored int value: 'big'"
    assert reasons["Gear.tags"].startswith("WRONGTYPE")
    assert report.counts["unreadable"] == 2 and not report.ok
    repaired = Gear.rebuild_indexes()
    assert repaired.unreadable_count == 2
    # Its entries are left as they were: an unreadable value is the user's to fix, not the index's.
    assert gears.execute("ZRANGE", f"{TAG}:idx:size", 0, -1) == entries_before
    gears.execute("HSET", f"{TAG}:obj:1", "size", "1")
    gears.execute("DEL", f"{TAG}:f:tags:2")
    assert Gear.rebuild_indexes().unreadable_count == 0 and Gear.check_indexes().ok


class Badge(Model, namespace="maint"):
    number: InstanceHash[int] = field(index="range", unique=True)


def test_an_unreadable_holder_of_a_unique_value_does_not_stop_the_check(db: Database) -> None:
    Badge.use_database(db)
    Badge(number=7)
    Badge(number=8)
    tag = "lt:{maint:Badge}"
    db.execute("HSET", f"{tag}:obj:2", "number", "7")  # pk 2 holds 7 too, behind the index's back
    db.execute("HSET", f"{tag}:obj:1", "number", "abc")  # and pk 1, still indexed under 7, unreadable
    report = Badge.check_indexes()
    assert {(u.field, u.pk) for u in report.unreadable} == {("Badge.number", b"1")}
    assert [(m.pk, m.value) for m in report.missing] == [(b"2", Badge._fields["number"].index_value(b"7"))]
    assert report.duplicates == ()  # pk 1's value cannot be read: not counted as a holder
