"""Inputs found by trying to break the library: each test failed before its fix.

Pages over pks equal in value, duplicate reports of check_indexes (every holder, never a pk as its
own duplicate, nothing written on a read-only replica), reverse accessors given a filter on their
own field or something that is not a condition, and relation defaults naming a model defined later.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

from limpyd_typed import FK, PK, Collection, Database, InstanceHash, List, Model, Related, field, relation
from tests.integration.support import read_only_replica


# -- 1. page() loses results whose pks differ but compare equal in the pk order ----------------

class Price(Model[Decimal], namespace="adv1"):
    id: PK[Decimal]


class Event(Model[datetime], namespace="adv1"):
    id: PK[datetime]


def _all_pages(collection: Collection[Any, Any, Any], size: int) -> list[Any]:
    out: list[Any] = []
    cursor: str | None = None
    while True:
        page = collection.page(size, cursor)
        out += page.items
        cursor = page.cursor
        if cursor is None:
            return out


def test_page_keeps_pks_equal_in_value_decimal(db: Database) -> None:
    Price.use_database(db)
    for pk in (Decimal("1"), Decimal("1.0"), Decimal("2")):
        Price(id=pk)
    assert len(list(Price.collection())) == 3
    assert sorted(map(str, _all_pages(Price.collection(), 1))) == ["1", "1.0", "2"]


def test_page_keeps_pks_equal_in_value_datetime(db: Database) -> None:
    Event.use_database(db)
    utc = datetime(2020, 1, 1, 12, tzinfo=timezone.utc)
    Event(id=utc)
    Event(id=utc.astimezone(timezone(timedelta(hours=1))))  # same instant, another offset: another pk
    assert len(_all_pages(Event.collection(), 1)) == 2


# -- 2. check_indexes: a unique value held by three instances is reported with two -------------

class Handle(Model[str], namespace="adv2"):
    id: PK[str]
    tags: List[str] = field(unique=True, default=())


def test_check_reports_every_holder_of_a_duplicate(db: Database) -> None:
    Handle.use_database(db)
    Handle(id="a", tags=["x"])
    Handle(id="b", tags=["b"])
    Handle(id="c", tags=["c"])
    prefix = Handle._fields["tags"].key_prefix
    db.execute("RPUSH", prefix + "b", "x")  # b and c hold "x" too, behind the index's back
    db.execute("RPUSH", prefix + "c", "x")
    checked = Handle.check_indexes()
    rebuilt = Handle.rebuild_indexes()
    assert [d.pks for d in rebuilt.duplicates] == [(b"a", b"b", b"c")]
    assert [d.pks for d in checked.duplicates] == [(b"a", b"b", b"c")]


# -- 3. check_indexes: a pk that SSCAN returns twice is reported as a duplicate of itself --------

class Login(Model[str], namespace="adv3"):
    id: PK[str]
    email: InstanceHash[str] = field(unique=True)


def test_check_script_never_reports_a_pk_as_its_own_duplicate(db: Database) -> None:
    """The same, deterministic: the pk given twice to the instances script, as two SSCAN batches
    that both return it give it (the scratch set lives across the batches of one check)."""
    from limpyd_typed import scripts

    Login.use_database(db)
    Login(id="p1", email="e1")
    f = Login._fields["email"]
    db.execute("DEL", f.index_key)  # its entry missing
    scratch = Login._keys.scratch()
    keys = [Login._keys.pks, f.index_key, scratch]
    head: list[scripts.ScriptArg] = ["0", 1, f.kind, f.key_prefix, f.slot, f.index_form, "1"]
    try:
        scripts.MAINT_INSTANCES(db, keys, [*head, "p1"])  # first batch
        answer = scripts.MAINT_INSTANCES(db, keys, [*head, "p1"])  # a later batch repeating it
    finally:
        db.execute("DEL", scratch)
    assert isinstance(answer, list)
    assert answer[2] == []  # got [[b"1", b"e1", b"p1", b"p1"]]


# -- 4. a reverse accessor drops a keyword filter on the relation's own field -------------------

class Shop(Model, namespace="adv4"):
    name: InstanceHash[str] = field(indexable=True)
    staff: ClassVar[Related[Clerk]]


class Clerk(Model, namespace="adv4"):
    name: InstanceHash[str] = field(indexable=True)
    shop: FK[Shop] = relation(default=None, related_name="staff")


def test_reverse_accessor_keeps_a_filter_on_its_own_field(db: Database) -> None:
    Shop.use_database(db)
    Clerk.use_database(db)
    a, b = Shop(name="a"), Shop(name="b")
    Clerk(name="ann", shop=a)
    assert list(a.staff(Clerk.shop == b)) == []  # ANDed: holds
    assert list(a.staff(shop=b)) == []  # the same as a keyword: a's staff are returned


# -- 5. a relation to a model defined later cannot have a default ------------------------------

def test_forward_relation_with_a_default_pk_is_accepted(db: Database) -> None:
    class Order(Model, namespace="adv5"):
        customer: FK["Customer"] = relation(default=1)  # noqa: F821 - defined below, as the README allows

    class Customer(Model, namespace="adv5"):
        name: InstanceHash[str] = field(default="x")

    Order.use_database(db)
    Customer.use_database(db)
    Customer()
    assert Order().customer.get() == 1


def test_forward_relation_with_a_bad_default_is_refused_when_its_target_is_defined() -> None:
    import pytest

    from limpyd_typed import ImplementationError

    class Invoice(Model, namespace="adv5b"):
        payer: FK["Payer"] = relation(default="not a pk")  # noqa: F821

    def declare_int_payer() -> None:
        class Payer(Model, namespace="adv5b"):
            pass

    with pytest.raises(ImplementationError, match=r"Invoice\.payer: invalid default 'not a pk'"):
        declare_int_payer()

    class Unrelated(Model, namespace="adv5b"):  # the refused Payer is not found again meanwhile
        pass

    class Payer(Model[str], namespace="adv5b"):  # declared again, fixed: the default is a str pk
        id: PK[str]

    assert Invoice._fields["payer"].stored_default == [b"not a pk"]


# -- 6. a positional argument that is not a condition: ignored (None) or a bare TypeError -------

def test_reverse_accessor_refuses_what_is_not_a_condition(db: Database) -> None:
    import pytest

    from limpyd_typed import QueryError

    Shop.use_database(db)
    Clerk.use_database(db)
    a = Shop(name="a")
    Clerk(name="ann", shop=a)
    with pytest.raises(QueryError):  # TypeError: unsupported operand type(s) for &: 'str' and 'Condition'
        a.staff("ann")  # type: ignore[arg-type]
    with pytest.raises(QueryError):  # nothing raised: None is dropped, every clerk of a returned
        a.staff(None)  # type: ignore[arg-type]


# -- 7. check_indexes ("changes nothing") no longer runs on a read-only replica -----------------

class Acct(Model[str], namespace="adv7"):
    id: PK[str]
    email: InstanceHash[str] = field(unique=True)


def test_check_indexes_runs_on_a_read_only_replica(db: Database) -> None:
    Acct.use_database(db)
    Acct(id="a", email="x")  # healthy data: nothing to note in a scratch set
    with read_only_replica(db):
        assert Acct.check_indexes().ok


def test_check_indexes_reports_missing_unique_entries_on_a_read_only_replica(db: Database) -> None:
    Acct.use_database(db)
    Acct(id="a", email="x")
    Acct(id="b", email="y")
    db.execute("HSET", Acct._keys.instance_hash(b"b"), Acct._fields["email"].slot, "x")  # behind the index's back
    db.execute("DEL", Acct._fields["email"].index_key)  # no entry left: both holders of x unindexed
    with read_only_replica(db):
        report = Acct.check_indexes()
    assert sorted((m.pk, m.value) for m in report.missing) == [(b"a", b"x"), (b"b", b"x")]
    assert report.duplicates == ()  # found by the index alone on a replica: none indexed, none seen


# -- found by a new user: get() given a condition, values_list() on a multi-value field ----------

def test_get_given_a_condition_says_what_to_use(db: Database) -> None:
    import pytest

    Shop.use_database(db)
    Shop(name="a")
    with pytest.raises(TypeError, match=r"Shop\.get\(\) takes a pk or field=value filters, not a condition: "
                                        r"use Shop\.collection\(condition\)\.instances\(\)\.first\(\)"):
        Shop.get(Shop.name == "a")  # type: ignore[call-overload]
    assert Shop.collection(Shop.name == "a").instances().first() == Shop.get(name="a")


def test_values_list_of_a_multi_value_field_names_both_methods(db: Database) -> None:
    import pytest

    from limpyd_typed import QueryError

    Handle.use_database(db)
    with pytest.raises(QueryError, match=r"Handle\.tags holds several values: values\(\) and values_list\(\) read"):
        Handle.collection().values_list(Handle.tags, flat=True)  # type: ignore[call-overload]
