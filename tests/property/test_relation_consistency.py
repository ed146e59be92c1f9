"""Random relation writes and deletes keep relations, indexes and keyspace exact.

A hypothesis state machine over a target model (Person, with a self FK that cascades) and a
source model (Club) holding every relation flavour: FK in the instance hash (set null), FK in its
own key (cascade), M2M set (set null), M2M list with repeats (set null), M2M sorted set (protect).
Every step is mirrored in a plain-Python model that predicts which deletes cascade and which are
refused; after each step:

- every relation field reads back as the model says (no pk of a deleted instance anywhere);
- every relation index holds exactly the (pk, holder) entries the model gives;
- reverse collections (``person.clubs()``) answer what the model answers;
- the keyspace holds exactly the keys the model accounts for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field as dc_field
from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from limpyd_typed import (
    FK,
    M2M,
    Database,
    DoesNotExist,
    InstanceHash,
    M2MList,
    M2MSortedSet,
    Model,
    ProtectedError,
    Related,
    field,
    relation,
    replies,
)
from tests.integration.support import esc

NS = "proprel"


class Person(Model, namespace=NS):
    name: InstanceHash[str] = field(default="p")
    boss: FK[Person] = relation(to="self", default=None, related_name="staff", on_delete="cascade")
    clubs: ClassVar[Related[Club]]


class Club(Model, namespace=NS):
    owner: FK[Person] = relation(default=None, related_name="clubs")
    sponsor: FK[Person] = relation(default=None, store="string", related_name="sponsored", on_delete="cascade")
    members: M2M[Person] = relation(default=(), related_name="membership")
    queue: M2MList[Person] = relation(default=(), related_name="queued")
    honours: M2MSortedSet[Person] = relation(default={}, related_name="honoured", on_delete="protect")


@dataclass
class World:
    """The plain-Python model: live pks and what each relation holds."""

    people: dict[int, int | None] = dc_field(default_factory=dict)  # pk -> boss
    clubs: dict[int, dict[str, object]] = dc_field(default_factory=dict)
    next_person: int = 1
    next_club: int = 1

    def new_club(self) -> dict[str, object]:
        return {"owner": None, "sponsor": None, "members": set(), "queue": [], "honours": {}}

    def doomed_by(self, pk: int) -> tuple[set[int], set[int]]:
        """The people and clubs a delete of person ``pk`` removes (cascades followed)."""
        people, clubs = {pk}, set()
        frontier = [pk]
        while frontier:
            current = frontier.pop()
            for other, boss in self.people.items():
                if boss == current and other not in people:
                    people.add(other)
                    frontier.append(other)
            for club, rel in self.clubs.items():
                if rel["sponsor"] == current:
                    clubs.add(club)
        return people, clubs

    def delete_person(self, pk: int) -> bool:
        """Apply the delete of person ``pk``; False if a protected reference refuses it."""
        people, clubs = self.doomed_by(pk)
        for club, rel in self.clubs.items():
            honours = rel["honours"]
            assert isinstance(honours, dict)
            if club not in clubs and people & set(honours):
                return False
        for person in people:
            del self.people[person]
        for club in clubs:
            del self.clubs[club]
        for rel in self.clubs.values():
            for name in ("owner", "sponsor"):
                if rel[name] in people:
                    rel[name] = None
            members, queue = rel["members"], rel["queue"]
            assert isinstance(members, set) and isinstance(queue, list)
            rel["members"] = members - people
            rel["queue"] = [p for p in queue if p not in people]
        return True


def _raw_list(db: Database, command: str, key: str) -> list[bytes]:
    if command == "LRANGE" or command == "ZRANGE":
        return replies.bytes_list(db.execute(command, key, 0, -1))
    return replies.bytes_list(db.execute(command, key))


class RelationMachine(RuleBasedStateMachine):
    db: ClassVar[Database]

    def __init__(self) -> None:
        super().__init__()
        self.db.connection.flushdb()
        self.world = World()

    people = st.integers(min_value=1, max_value=6)
    clubs = st.integers(min_value=1, max_value=4)

    @rule(boss=st.none() | st.integers(min_value=1, max_value=6))
    def create_person(self, boss: int | None) -> None:
        pk = self.world.next_person
        Person(boss=boss)  # the boss may not exist: relations are not checked for existence
        self.world.people[pk] = boss
        self.world.next_person += 1

    @rule(owner=st.none() | people, sponsor=st.none() | people, members=st.lists(people, max_size=3),
          queue=st.lists(people, max_size=4), honours=st.dictionaries(people, st.integers(0, 3), max_size=2))
    def create_club(self, owner: int | None, sponsor: int | None, members: list[int], queue: list[int],
                    honours: dict[int, int]) -> None:
        live = self.world.people
        # References to people that do not exist (anymore) are allowed; keep them to live ones so
        # that the model's predictions about deletes stay those of a real application.
        owner = owner if owner in live else None
        sponsor = sponsor if sponsor in live else None
        members = [m for m in members if m in live]
        queue = [q for q in queue if q in live]
        honours = {h: s for h, s in honours.items() if h in live}
        Club(owner=owner, sponsor=sponsor, members=members, queue=queue, honours={h: float(s) for h, s in honours.items()})
        self.world.clubs[self.world.next_club] = {"owner": owner, "sponsor": sponsor, "members": set(members),
                                                  "queue": queue, "honours": dict(honours)}
        self.world.next_club += 1

    @precondition(lambda self: bool(self.world.clubs) and bool(self.world.people))
    @rule(data=st.data())
    def relate(self, data: st.DataObject) -> None:
        club_pk = data.draw(st.sampled_from(sorted(self.world.clubs)))
        person = data.draw(st.sampled_from(sorted(self.world.people)))
        club, rel = Club.get(club_pk), self.world.clubs[club_pk]
        what = data.draw(st.sampled_from(["owner", "sponsor", "sadd", "srem", "rpush", "lrem", "zadd", "zrem"]))
        members, queue, honours = rel["members"], rel["queue"], rel["honours"]
        assert isinstance(members, set) and isinstance(queue, list) and isinstance(honours, dict)
        if what == "owner":
            club.owner.set(person)
            rel["owner"] = person
        elif what == "sponsor":
            club.sponsor = Person.get(person)
            rel["sponsor"] = person
        elif what == "sadd":
            assert club.members.sadd(person) == (person not in members)
            members.add(person)
        elif what == "srem":
            assert club.members.srem(person) == (person in members)
            members.discard(person)
        elif what == "rpush":
            assert club.queue.rpush(person) == len(queue) + 1
            queue.append(person)
        elif what == "lrem":
            assert club.queue.lrem(0, person) == queue.count(person)
            rel["queue"] = [p for p in queue if p != person]
        elif what == "zadd":
            club.honours.zadd({person: 1.0})
            honours[person] = 1
        else:
            assert club.honours.zrem(person) == (person in honours)
            honours.pop(person, None)

    @precondition(lambda self: bool(self.world.people))
    @rule(data=st.data())
    def delete_person(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.world.people)))
        allowed = self.world.delete_person(pk)
        if allowed:
            Person.get(pk).delete()
        else:
            with pytest.raises(ProtectedError):
                Person.get(pk).delete()

    @precondition(lambda self: bool(self.world.clubs))
    @rule(data=st.data())
    def delete_club(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.world.clubs)))
        Club.get(pk).delete()
        del self.world.clubs[pk]
        with pytest.raises(DoesNotExist):
            Club.get(pk)

    @invariant()
    def relations_and_indexes_are_exact(self) -> None:
        world = self.world
        assert set(Person.collection()) == set(world.people)
        assert set(Club.collection()) == set(world.clubs)
        index: dict[str, set[bytes]] = {name: set() for name in ("owner", "sponsor", "members", "queue", "honours")}
        for pk, rel in world.clubs.items():
            club = Club.lazy_connect(pk)
            assert club.owner.get() == rel["owner"]
            assert club.sponsor.get() == rel["sponsor"]
            assert club.members.smembers() == rel["members"]
            assert club.queue.lrange() == rel["queue"]
            honours = rel["honours"]
            assert isinstance(honours, dict)
            assert set(club.honours.zrange()) == set(honours)
            for name in index:
                held = rel[name]
                values = [] if held is None else [held] if isinstance(held, int) else list(held)  # type: ignore[call-overload]
                index[name] |= {esc(str(v).encode()) + b"\x00" + str(pk).encode() for v in values}
        for name, expected in index.items():
            found = set(_raw_list(self.db, "ZRANGE", f"lt:{{{NS}:Club}}:idx:{name}"))
            assert found == expected, name
        bosses = {esc(str(b).encode()) + b"\x00" + str(p).encode() for p, b in world.people.items() if b is not None}
        assert set(_raw_list(self.db, "ZRANGE", f"lt:{{{NS}:Person}}:idx:boss")) == bosses
        for person in world.people:
            owned = {c for c, rel in world.clubs.items() if rel["owner"] == person}
            assert set(Person.lazy_connect(person).clubs()) == owned
        self._keyspace_is_accounted_for()

    def _keyspace_is_accounted_for(self) -> None:
        world = self.world
        expected = {f"lt:{{{NS}:Person}}:next_pk"} if world.next_person > 1 else set()
        if world.next_club > 1:
            expected.add(f"lt:{{{NS}:Club}}:next_pk")
        if world.people:
            expected.add(f"lt:{{{NS}:Person}}:pks")
        expected |= {f"lt:{{{NS}:Person}}:obj:{pk}" for pk in world.people}
        if any(boss is not None for boss in world.people.values()):
            expected.add(f"lt:{{{NS}:Person}}:idx:boss")
        if world.clubs:
            expected.add(f"lt:{{{NS}:Club}}:pks")
        for pk, rel in world.clubs.items():
            if rel["owner"] is not None:
                expected.add(f"lt:{{{NS}:Club}}:obj:{pk}")
            if rel["sponsor"] is not None:
                expected.add(f"lt:{{{NS}:Club}}:f:sponsor:{pk}")
            for name in ("members", "queue", "honours"):
                if rel[name]:
                    expected.add(f"lt:{{{NS}:Club}}:f:{name}:{pk}")
        for name in ("owner", "sponsor", "members", "queue", "honours"):
            if any(rel[name] not in (None, set(), [], {}) for rel in world.clubs.values()):
                expected.add(f"lt:{{{NS}:Club}}:idx:{name}")
        found = {key.decode() for key in replies.bytes_list(self.db.execute("KEYS", "*"))}
        assert found == expected


@pytest.fixture
def relation_models(db: Database) -> Iterator[Database]:
    Person.use_database(db)
    Club.use_database(db)
    yield db


def test_random_relation_writes_and_deletes_keep_everything_exact(relation_models: Database) -> None:
    class Machine(RelationMachine):
        db = relation_models

    run_state_machine_as_test(Machine, settings=settings(deadline=None))
