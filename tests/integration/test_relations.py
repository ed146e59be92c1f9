"""Relations (seed section 2.6.1): FK and M2M fields, reverse collections, deletion propagation.

After every delete the raw index of each relation field is compared with the entries computed
here from the raw data left in Redis, so a stale or missing index entry fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from typing_extensions import assert_type

from limpyd_typed import (
    FK,
    M2M,
    PK,
    Collection,
    Database,
    ImplementationError,
    InstanceHash,
    InvalidValue,
    M2MList,
    M2MSortedSet,
    Model,
    ProtectedError,
    Related,
    String,
    field,
    relation,
    replies,
)
from limpyd_typed.testing import no_retry
from tests.conftest import RoundTrips
from tests.integration.support import esc, snapshot, warm_scripts

NS = "relations"


# The seed's first example: pks are names.
class Person(Model[str], namespace=NS):
    name: PK[str]
    group_set: ClassVar[Related[Group]]
    membership: ClassVar[Related[Group]]


class Group(Model[str], namespace=NS):
    name: PK[str]
    private: InstanceHash[int] = field(default=0, indexable=True)
    owner: FK[Person] = relation(default=None)
    members: M2M[Person] = relation(default=(), related_name="membership")


# Every storage and on_delete flavour, pointing to Author (int pks); Book declared before Author
# (a forward reference) and Chapter refers to Book by name.
class Book(Model, namespace=NS):
    title: InstanceHash[str] = field(unique=True)
    author: FK[Author] = relation(default=None, related_name="books")
    editor: FK[Author] = relation(default=None, store="string", related_name="edited", on_delete="cascade")
    reviewers: M2MList[Author] = relation(default=(), related_name="reviewed")
    fans: M2MSortedSet[Author] = relation(default={}, related_name="liked")
    guards: M2M[Author] = relation(default=(), related_name="guarded", on_delete="protect")


class Author(Model, namespace=NS):
    name: InstanceHash[str] = field(indexable=True)
    mentor: FK[Author] = relation(to="self", default=None, related_name="students", on_delete="cascade")
    books: ClassVar[Related[Book]]
    reviewed: ClassVar[Related[Book]]
    students: ClassVar[Related[Author]]


class Chapter(Model, namespace=NS):
    number: String[int] = field(indexable=True)
    book: FK[Book] = relation(to="Book", on_delete="cascade")


RELATION_FIELDS = {
    "Book": ["author", "editor", "reviewers", "fans", "guards"],
    "Author": ["mentor"],
    "Chapter": ["book"],
}


@pytest.fixture(autouse=True)
def _models(db: Database) -> Iterator[None]:
    for model in (Person, Group, Book, Author, Chapter):
        model.use_database(db)
    yield


def _raw_values(db: Database, model: str, name: str, kind: str, pk: bytes) -> list[bytes]:
    """What an instance's relation field holds, read raw (key names spelled out)."""
    prefix = f"lt:{{{NS}:{model}}}"
    pk_part = pk.decode()
    if kind == "islot":
        value = replies.optional_bytes(db.execute("HGET", f"{prefix}:obj:{pk_part}", name))
        return [] if value is None else [value]
    key = f"{prefix}:f:{name}:{pk_part}"
    if kind == "string":
        value = replies.optional_bytes(db.execute("GET", key))
        return [] if value is None else [value]
    if kind == "set":
        return replies.bytes_list(db.execute("SMEMBERS", key))
    if kind == "list":
        return replies.bytes_list(db.execute("LRANGE", key, 0, -1))
    return replies.bytes_list(db.execute("ZRANGE", key, 0, -1))


KINDS = {("Book", "author"): "islot", ("Book", "editor"): "string", ("Book", "reviewers"): "list",
         ("Book", "fans"): "zset", ("Book", "guards"): "set", ("Author", "mentor"): "islot",
         ("Chapter", "book"): "islot"}


def assert_relation_indexes_exact(db: Database) -> None:
    """Every relation index equals the entries of the raw data of the live instances."""
    for model, names in RELATION_FIELDS.items():
        prefix = f"lt:{{{NS}:{model}}}"
        pks = replies.bytes_list(db.execute("SMEMBERS", f"{prefix}:pks"))
        for name in names:
            expected = {esc(value) + b"\x00" + esc(pk)
                        for pk in pks for value in _raw_values(db, model, name, KINDS[(model, name)], pk)}
            found = set(replies.bytes_list(db.execute("ZRANGE", f"{prefix}:idx:{name}", 0, -1)))
            assert found == expected, f"{model}.{name}"


def test_the_seed_example(db: Database) -> None:
    core_devs = Group(name="limpyd core devs", private=0)
    ybon = Person(name="ybon")
    twidi = Person(name="twidi")
    core_devs.owner.hset(ybon)
    assert core_devs.members.sadd(twidi, ybon.pk.get()) == 2  # an instance, or a pk
    assert assert_type(core_devs.members.smembers(), set[str]) == {"ybon", "twidi"}
    assert list(assert_type(ybon.group_set(private=0), Collection[Group, str, str])) == ["limpyd core devs"]
    assert list(twidi.membership()) == ["limpyd core devs"]
    assert assert_type(core_devs.owner.hget(), str | None) == "ybon"
    assert assert_type(core_devs.owner.instance(), Person | None) == ybon
    # A related collection is a collection: it chains.
    Group(name="secret", private=1, owner=ybon)
    assert list(ybon.group_set().filter(private=1)) == ["secret"]
    assert list(ybon.group_set().sort(by="-name")) == ["secret", "limpyd core devs"]
    # The M2M is callable too, and gives a collection of the related model.
    assert sorted(assert_type(core_devs.members(), Collection[Person, str, str])) == ["twidi", "ybon"]
    assert list(core_devs.members.collection().sort(desc=True).instances()) == [ybon, twidi]


def test_changing_an_fk_moves_the_instance_between_reverse_collections(db: Database) -> None:
    a, b = Person(name="a"), Person(name="b")
    group = Group(name="g", owner=a)
    group.owner = b  # assignment, as set()
    assert list(a.group_set()) == [] and list(b.group_set()) == ["g"]
    group.owner.set(None)
    assert group.owner.get() is None and list(b.group_set()) == []


def test_values_are_instances_of_the_target_or_its_pks() -> None:
    author = Author(name="Ann")
    book = Book(title="t", author=author, reviewers=[author, author.pk.get()], fans={author: 2.5})
    assert assert_type(book.author.get(), int | None) == author.pk.get()
    assert assert_type(book.reviewers.lrange(), list[int]) == [1, 1]
    assert assert_type(book.fans.zscore(author), float | None) == 2.5
    with pytest.raises(InvalidValue, match=r"Book\.author: invalid value .*expected an Author or its pk, got a Person"):
        Book(title="u", author=Person(name="p"))  # type: ignore[arg-type]  # also refused statically
    with pytest.raises(InvalidValue, match=r"Book\.guards: invalid value 'x': expected an Author or its pk"):
        Book(title="u", guards=["x"])
    assert Book.collection(title="u").count() == 0


def test_reverse_collections_and_m2m_flavours(db: Database) -> None:
    ann, bob = Author(name="Ann"), Author(name="Bob")
    book = Book(title="one", author=ann, reviewers=[bob, ann, bob], fans={bob: 2, ann: 1})
    Book(title="two", author=ann)
    assert list(ann.books()) == [1, 2]
    assert list(ann.books(title="two")) == [2]
    assert list(assert_type(bob.reviewed(), Collection[Book, int, int])) == [1]
    assert list(getattr(ann, "liked")()) == [1]  # undeclared accessors exist too, untyped
    assert book.fans.zrange() == [ann.pk.get(), bob.pk.get()]
    assert [a.name.get() for a in book.fans.instances()] == ["Ann", "Bob"]
    assert book.reviewers.count() == 3
    assert book.reviewers.lrem(0, bob) == 2
    assert book.reviewers.pks() == [ann.pk.get()]
    assert sorted(book.fans().values_list(Author.name, flat=True), key=str) == ["Ann", "Bob"]
    assert_relation_indexes_exact(db)


def test_deleting_a_target_drops_it_from_every_referencing_field(db: Database, round_trips: RoundTrips) -> None:
    ann, bob = Author(name="Ann"), Author(name="Bob")
    b1 = Book(title="one", author=bob, reviewers=[bob, ann, bob], fans={bob: 1, ann: 2})
    b2 = Book(title="two", author=ann, reviewers=[bob])
    warm_scripts(db)
    with round_trips:
        bob.delete()
    assert round_trips.count == 1  # the delete and its whole propagation: one script
    assert b1.author.get() is None and b2.author.get() == ann.pk.get()
    assert b1.reviewers.pks() == [ann.pk.get()]  # every occurrence removed from the list
    assert b2.reviewers.pks() == []
    assert b1.fans.zrange() == [ann.pk.get()]
    assert list(Book.collection(author=bob.pk.get())) == []
    assert_relation_indexes_exact(db)


def test_cascade_deletes_referencing_instances_and_what_refers_to_them(db: Database) -> None:
    ann, bob = Author(name="Ann"), Author(name="Bob")
    carl = Author(name="Carl", mentor=bob)
    Author(name="Dora", mentor=carl)  # a cascade of cascades
    book = Book(title="one", editor=bob, author=ann)
    Chapter(number=1, book=book)
    Chapter(number=2, book=book)
    kept = Book(title="two", editor=ann, reviewers=[bob])
    bob.delete()
    assert [a.name.get() for a in Author.collection().instances()] == ["Ann"]
    assert list(Book.collection()) == [kept.pk.get()]
    assert list(Chapter.collection()) == []
    assert kept.reviewers.pks() == []
    assert_relation_indexes_exact(db)
    # Nothing of the deleted instances is left in Redis.
    gone = [f"{{{NS}:Author}}:obj:{pk}" for pk in (2, 3, 4)] + [f"{{{NS}:Book}}:obj:1", f"{{{NS}:Book}}:f:editor:1"]
    gone += [f"{{{NS}:Chapter}}:obj:{pk}" for pk in (1, 2)] + [f"{{{NS}:Chapter}}:f:number:{pk}" for pk in (1, 2)]
    keys = {key.decode() for key in replies.bytes_list(db.execute("KEYS", "*"))}
    assert not {key for key in keys if key.endswith(tuple(gone))}
    assert any(key.endswith(f"{{{NS}:Book}}:f:editor:2") for key in keys)


def test_protect_refuses_the_whole_delete(db: Database) -> None:
    ann, bob = Author(name="Ann"), Author(name="Bob")
    Book(title="one", editor=bob, guards=[ann])  # cascading from Bob reaches a book guarded by Ann
    student = Author(name="Stu", mentor=ann)
    before = snapshot(db)
    with pytest.raises(ProtectedError, match=r"Author pk=1 was not deleted: Book pk=1 points to Author pk=1 by Book\.guards \(on_delete='protect'\)"):
        ann.delete()
    assert snapshot(db) == before
    assert student.mentor.get() == ann.pk.get()
    # A protected reference held by an instance deleted in the same cascade does not protect.
    lone = Author(name="Lone")
    Book(title="two", editor=lone, guards=[lone])
    lone.delete()
    assert Book.collection(title="two").count() == 0
    assert_relation_indexes_exact(db)


def test_collection_delete_propagates_too(db: Database) -> None:
    authors = [Author(name=f"a{i}") for i in range(5)]
    book = Book(title="one", reviewers=authors, fans={a: i for i, a in enumerate(authors)})
    assert Author.collection(name="a1").delete() == 1
    assert Author.collection().filter(Author.name.in_(["a2", "a3"])).delete() == 2
    assert book.reviewers.pks() == [authors[0].pk.get(), authors[4].pk.get()]
    assert book.fans.zrange() == [authors[0].pk.get(), authors[4].pk.get()]
    assert_relation_indexes_exact(db)


def test_declaration_errors() -> None:
    with pytest.raises(ImplementationError, match=r"Bad\.owner: related_name 'not valid' is not a valid attribute name"):
        class Bad(Model, namespace=NS):
            owner: FK[Person] = relation(related_name="not valid")
    with pytest.raises(ImplementationError, match=r"Clash\.owner: related_name 'name' clashes with Person\.name"):
        class Clash(Model, namespace=NS):
            owner: FK[Person] = relation(related_name="name")
    with pytest.raises(ImplementationError, match=r"Odd\.owner has on_delete='explode': use one of set_null, cascade, protect"):
        class Odd(Model, namespace=NS):
            owner: FK[Person] = relation(on_delete="explode")  # type: ignore[arg-type]
    with pytest.raises(ImplementationError, match=r"cannot be unique"):
        class Many(Model, namespace=NS):
            people: M2M[Person] = relation(unique=True)


def test_an_unknown_target_is_an_error_when_used(db: Database) -> None:
    class Orphan(Model, namespace=NS):
        parent: FK[Nowhere] = relation(default=None)  # type: ignore[name-defined]  # noqa: F821

    Orphan.use_database(db)
    with pytest.raises(ImplementationError, match=r"Orphan\.parent points to 'Nowhere': no such model"):
        Orphan(parent=1)


def test_related_names_of_an_abstract_base_name_each_concrete_model(db: Database) -> None:
    class BaseGroup(Model, namespace="groups", abstract=True):
        owner: FK[Person] = relation(to=f"{NS}:Person", default=None, related_name="%(namespace)s_%(model)s_set")

    class PublicGroup(BaseGroup):
        pass

    class PrivateGroup(BaseGroup):
        pass

    PublicGroup.use_database(db)
    PrivateGroup.use_database(db)
    owner = Person(name="o")
    PublicGroup(owner=owner)
    PrivateGroup(owner=owner)
    PrivateGroup(owner=owner)
    assert list(getattr(owner, "groups_publicgroup_set")()) == [1]
    assert list(getattr(owner, "groups_privategroup_set")()) == [1, 2]


# -- hostile inputs (found by an adversarial review) --------------------------------------------


def test_a_subclass_of_the_target_is_another_model(db: Database) -> None:
    class Base(Model, namespace=NS):
        name: InstanceHash[str] = field(indexable=True)

    class Sub(Base):
        pass

    class Ref(Model, namespace=NS):
        base: FK[Base] = relation(default=None, related_name="refs", on_delete="cascade")

    for model in (Base, Sub, Ref):
        model.use_database(db)
    base, sub = Base(name="base"), Sub(name="sub")  # both pk 1, in their own pk sets
    ref = Ref(base=base)
    with pytest.raises(InvalidValue, match=r"Ref\.base: invalid value <Sub pk=1>: expected a Base or its pk, got a Sub"):
        Ref(base=sub)
    with pytest.raises(ImplementationError, match=r"Sub has no reverse side of Ref\.base"):
        getattr(sub, "refs")
    sub.delete()  # not the Base the Ref points to
    assert Ref.exists(ref.pk.get()) and ref.base.get() == 1
    base.delete()
    assert not Ref.exists(ref.pk.get())


def test_a_relation_stays_within_one_database(db: Database) -> None:
    other = Database.embedded()
    try:
        class Far(Model, namespace=NS):
            name: InstanceHash[str] = field(indexable=True)

        class Near(Model, namespace=NS):
            far: FK[Far] = relation(default=None, on_delete="protect", related_name="nears")

        Far.use_database(other)
        Near.use_database(db)
        far = Far(name="x")
        before = snapshot(db)
        with pytest.raises(InvalidValue, match=r"Near\.far: .*Far is hosted on another database"):
            Near(far=far)
        assert snapshot(db) == before
        Near.use_database(other)
        Near(far=far)
        Far(name="spare").delete()  # a delete of Far, its plan computed with both on `other`
        Near.use_database(db)  # moved away afterwards: deleting Far can no longer propagate
        with pytest.raises(ImplementationError, match=r"Near\.far points to Far from another database"):
            far.delete()
        assert Far.exists(far.pk.get())
    finally:
        other.close()


def test_a_relation_declared_after_deletes_is_followed_by_the_next_one(db: Database) -> None:
    class Owner(Model, namespace=NS):
        name: InstanceHash[str] = field(default="")

    Owner.use_database(db)
    Owner().delete()  # a delete of Owner before any relation points to it

    class Pet(Model, namespace=NS):
        owner: FK[Owner] = relation(default=None, on_delete="cascade", related_name="pets")

    Pet.use_database(db)
    owner = Owner()
    Pet(owner=owner)
    owner.delete()
    assert list(Pet.collection()) == []  # cascaded: the new relation is known to the delete


def test_a_delete_follows_a_database_that_moved_to_another_server(db: Database, server_url: str) -> None:
    near_db = Database(server_url, retry=no_retry())
    other = Database.embedded()
    try:
        class Dock(Model, namespace=NS):
            name: InstanceHash[str] = field(default="")

        class Boat(Model, namespace=NS, database=near_db):
            dock: FK[Dock] = relation(default=None, related_name="boats")

        Dock.use_database(db)
        Dock().delete()  # a plan computed while both databases are one place
        dock = Dock()
        assert other.server is not None
        near_db.connect(other.server.url)  # the same Database object, on another server now
        with pytest.raises(ImplementationError, match=r"Boat\.dock points to Dock from another database"):
            dock.delete()
    finally:
        near_db.close()
        other.close()


def test_a_relation_to_self_may_have_a_default_pk(db: Database) -> None:
    class Node(Model, namespace=NS):
        parent: FK[Node] = relation(to="self", default=1, related_name="children")

    Node.use_database(db)
    root = Node()
    assert root.parent.get() == 1 and Node().parent.instance() == root


def test_two_connections_to_one_place_are_one_database(db: Database, server_url: str) -> None:
    again = Database(server_url, retry=no_retry())  # another object, the same server and number
    try:
        class Home(Model, namespace=NS):
            name: InstanceHash[str] = field(indexable=True)

        class Guest(Model, namespace=NS):
            home: FK[Home] = relation(default=None, related_name="guests")

        Home.use_database(db)
        Guest.use_database(again)
        home = Home(name="h")
        guest = Guest(home=home)
        home.delete()  # propagates: the keys Guest writes through `again` are the ones `db` sees
        assert guest.home.get() is None
        assert list(Guest.collection(home=home.pk_value)) == []
    finally:
        again.close()


def test_a_bulk_delete_stopped_by_protect_says_what_it_deleted(db: Database) -> None:
    authors = [Author(name="n") for _ in range(4)]
    Book(title="b", guards=[authors[1]])
    with pytest.raises(ProtectedError, match=r"Author pk=2 was not deleted.*; 3 other matching instance\(s\) were deleted") as caught:
        Author.collection(name="n").delete()
    assert caught.value.deleted == 3
    assert list(Author.collection()) == [2]


def test_a_refused_class_leaves_no_trace(db: Database) -> None:
    def declare_clashing() -> None:
        class Staffer(Model, namespace=NS, database=db):
            boss: FK[Person] = relation(default=None)
            mentor: FK[Person] = relation(default=None)  # the same default related_name

    with pytest.raises(ImplementationError, match=r"related_name 'staffer_set' clashes"):
        declare_clashing()
    assert "staffer_set" not in vars(Person)

    class Staffer(Model, namespace=NS, database=db):  # declared again, fixed: accepted
        boss: FK[Person] = relation(default=None)
        mentor: FK[Person] = relation(default=None, related_name="mentees")

    assert getattr(Person(name="boss"), "staffer_set")().count() == 0


def test_bad_relation_options_and_related_names_are_refused() -> None:
    with pytest.raises(ImplementationError, match=r"Plain\.n is not a relation: relation\(\) is for FK and M2M fields"):
        class Plain(Model, namespace=NS):
            n: String[int] = relation(default=0)
    with pytest.raises(ImplementationError, match=r"Stored\.f has store='bogus': use 'hash' .* or 'string'"):
        class Stored(Model, namespace=NS):
            f: FK[Person] = relation(store="bogus")  # type: ignore[arg-type]
    with pytest.raises(ImplementationError, match=r"ManyStored\.m has store='string': an M2M is always one structure of its own"):
        class ManyStored(Model, namespace=NS):
            m: M2M[Person] = relation(store="string")
    for name, problem in [("pk_value", "clashes"), ("class", "not a valid attribute name"),
                          ("%(bogus)s", "not a valid pattern"), ("x%", "not a valid pattern"),
                          ("collection", "clashes")]:
        with pytest.raises(ImplementationError, match=problem):
            class Named(Model, namespace=NS):
                f: FK[Person] = relation(related_name=name)


def test_an_ambiguous_target_name_is_an_error() -> None:
    first, second = Database.embedded(), Database.embedded()
    try:
        class Dup(Model, namespace="dups", database=first):
            pass

        class Dup2(Model, namespace="dups", database=second):
            pass

        Dup2.__name__ = "Dup"  # two models named dups:Dup, on two databases
        with pytest.raises(ImplementationError, match=r"points to 'dups:Dup', which names 2 models"):
            class Holder(Model, namespace="dups"):
                dup: FK[Dup] = relation(to="dups:Dup", default=None)
    finally:
        first.close()
        second.close()


def test_bulk_create_refuses_rows_that_are_not_mappings(db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(TypeError, match=r"Author\.bulk_create: row 1 is a str, not a mapping"):
        Author.bulk_create([{"name": "a"}, "name"])  # type: ignore[list-item]
    assert snapshot(db) == before


def test_none_in_an_m2m_is_refused_clearly() -> None:
    with pytest.raises(InvalidValue, match=r"Book\.guards: invalid value None: give Author instances or their pks"):
        Book(title="x", guards=[None])  # type: ignore[list-item]  # also refused statically
