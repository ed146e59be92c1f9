"""What the concurrency tests run in child processes (spawned: they import this module afresh).

The model has no database of its own: each process connects to the URL it is given.
"""

from __future__ import annotations

import random
from multiprocessing.synchronize import Event

from limpyd_typed import (
    Database,
    DoesNotExist,
    Hash,
    InstanceHash,
    List,
    Model,
    Set,
    String,
    UniquenessError,
    field,
    replies,
)
from limpyd_typed.testing import no_retry

# Small alphabets: writers keep colliding on the same index entries and unique values.
NAMES = [f"n{i}" for i in range(30)]
PLATES = [f"p{i}" for i in range(20)]
TEAMS = ["red", "blue", "green", None]
TAGS = ["a", "b", "c", "d"]


class Racer(Model, namespace="conc"):
    name: InstanceHash[str] = field(unique=True)
    team: InstanceHash[str | None] = field(indexable=True, default=None)
    score: String[int] = field(index="range", default=0)
    tags: Set[str] = field(indexable=True, default=())
    plates: List[str] = field(unique=True, default=())
    props: Hash[str] = field(indexable=True, default={})


def _some_racer(db: Database, rng: random.Random) -> Racer | None:
    pk = replies.optional_bytes(db.execute("SRANDMEMBER", Racer._keys.pks))
    return None if pk is None else Racer.lazy_connect(int(pk))


def _one_write(db: Database, rng: random.Random) -> None:
    # Creates outnumber deletes, so that the population grows to about as many names as there are.
    op = rng.randrange(20)
    if op < 5:
        Racer(name=rng.choice(NAMES), team=rng.choice(TEAMS), tags=set(rng.sample(TAGS, 2)),
              plates=rng.sample(PLATES, rng.randrange(3)), props={"k": rng.choice(TAGS)})
        return
    racer = _some_racer(db, rng)
    if racer is None:
        return
    if op < 7:
        racer.name.hset(rng.choice(NAMES))
    elif op < 9:
        racer.team.hset(rng.choice(TEAMS))
    elif op < 11:
        racer.score.incr(rng.randrange(-3, 4))
    elif op < 13:
        racer.tags.sadd(rng.choice(TAGS)) if rng.random() < 0.5 else racer.tags.srem(rng.choice(TAGS))
    elif op < 15:
        racer.plates.rpush(rng.choice(PLATES)) if rng.random() < 0.6 else racer.plates.lpop()
    elif op < 17:
        racer.props.hset(rng.choice(TAGS), rng.choice(TAGS))
    elif op < 19:
        racer.hmset(name=rng.choice(NAMES), team=rng.choice(TEAMS))
    else:
        racer.delete()


def write_randomly(url: str, seed: int, writes: int | None, writing: Event | None = None) -> int:
    """Random writes (``writes`` of them, or until killed); returns how many were refused.

    ``writing`` is set once the first write is done (the kill test waits for it).
    """
    db = Database(url, retry=no_retry())
    Racer.use_database(db)
    rng = random.Random(seed)
    refused, done = 0, 0
    while writes is None or done < writes:
        try:
            _one_write(db, rng)
        except (UniquenessError, DoesNotExist):  # a clash, or an instance another writer deleted
            refused += 1
        done += 1
        if writing is not None and done == 1:
            writing.set()
    return refused
