"""Random queries answer what a plain-Python evaluation of the same query over the stored values gives.

Each example empties the database, creates 5 to 25 ``QPerson`` instances whose values come from
small pools (so ties, shared prefixes and boundary values are frequent: '' 'fo' 'foo' 'foo!'
'foo1', NUL bytes, -0.0, inf, 2**53 and 2**53 + 1, 2**64 + 1, one instant at several UTC offsets,
Decimal('1') and Decimal('1.0'), Decimals that one double cannot tell apart...), then runs 2 to 8
random queries on them: a condition tree (depth <= 3) of every operator (== != < <= > >= between
startswith in_, & | ~, on every field and the pk) in the typed form, ANDed with up to two leaves
in the keyword form (``age__gte=...``, ``name__eq=...``, ``headers__from__startswith=...``) given
to ``collection()`` or ``filter()``, a random sort (a field or the pk, ascending or descending,
by value or ``alpha``) and a random Python slice (negative bounds and steps, huge ones). Each query
is compared with an evaluator written here from the README, independently of the library:

- a leaf compares decoded Python values (ints exactly, floats and Decimals as numbers, datetimes
  as instants, dates as dates, str by UTF-8 bytes, bytes as bytes); an int operand of a float
  field is that float, as when it is written to the field; on a multi-value field (Set, Hash
  sub-key) a leaf holds when ANY value matches; a missing value matches no leaf, so ``~`` and
  ``!=`` include the instances without a value;
- the order is the README's: missing values first, then by value (int and Decimal fields exactly,
  float fields as numbers, datetimes by instant, everything else by stored bytes; everything by
  stored bytes with ``alpha``), ties by pk; descending reverses the whole order; a slice is Python's.

Each example first checks every sort of the whole collection (each field and the pk, ascending
and descending, by value and ``alpha``). Checked for each query: ``list()``, ``len()``, ``count()``, the slice run on the server, ``[:1]``,
``first()``, ``exists()``, ``[0]`` and ``[-1]`` (``IndexError`` when empty). Sizes come from the
hypothesis profile (tests/property/conftest.py): the default one runs in a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from limpyd_typed import Collection, Condition, Database, Hash, InstanceHash, Model, Set, String, ValueAttr, field


class QPerson(Model, namespace="qprop"):
    age: InstanceHash[int] = field(index="range")
    weight: String[float] = field(index="range")
    price: InstanceHash[Decimal] = field(index="range")
    seen: InstanceHash[datetime] = field(index="range")
    born: String[date] = field(index="range")
    name: InstanceHash[str] = field(index="text")
    city: InstanceHash[str] = field(index="eq")
    blob: String[bytes] = field(index="text")
    rank: String[int | None] = field(index="range", default=None)
    tags: Set[str] = field(index="text", default=())
    headers: Hash[str] = field(index="text", default={})


Value = int | float | Decimal | datetime | date | str | bytes
Kind = Literal["int", "float", "decimal", "datetime", "date", "str", "bytes"]


# -- value pools ------------------------------------------------------------------------------------

INTS: tuple[int, ...] = (0, 1, -1, -5, 7, 10, 2**53, 2**53 + 1, 2**64 + 1, -(2**64 + 1), 10**20)
FLOATS: tuple[float, ...] = (
    -0.0, 0.0, 1.0, 1.5, -2.5, 0.1, 2.0**53, 2.0**53 + 2, 1e308, -1e-300, 5e-324, float("inf"), float("-inf"),
)
DECIMALS: tuple[Decimal, ...] = tuple(Decimal(text) for text in (
    "1", "1.0", "1.00", "0", "-0", "0.1", "0.10000000000000000001", "-2.5", "1E+2", "100", "1E+400",
    "Infinity", "-Infinity", "123456789012345678901234567890", "123456789012345678901234567891",
    "1E-400", "-1E+400",  # one double holds each of them and 0, or -Infinity: they must not tie
))
UTC = timezone.utc
INSTANTS: tuple[datetime, ...] = (
    datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC),
)
OFFSETS: tuple[timedelta, ...] = (
    timedelta(0), timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(hours=14),
    timedelta(hours=-23, minutes=-59), timedelta(seconds=-1), timedelta(microseconds=1),
)
DATES: tuple[date, ...] = (
    date(1, 1, 1), date(1999, 12, 31), date(2000, 1, 1), date(2000, 1, 2), date(2024, 2, 29), date(9999, 12, 31),
)
STRS: tuple[str, ...] = ("", "foo", "foo1", "fo", "foo!", "f", "a\x00b", "\x00", "foo\x00", "\x01", "é", "\uffff", "\U00010000")
CITIES: tuple[str, ...] = ("Paris", "paris", "", "Lyon", "a\x00", "Lyon\x00")
BYTES: tuple[bytes, ...] = (b"", b"foo", b"foo1", b"fo", b"\x00", b"\x00\x01", b"\x01", b"\xff", b"\xff\xff", b"foo\xff")
SUB_KEYS: tuple[str, ...] = ("from", "to", "fro")


# Instants of the pool at random UTC offsets (also odd ones: seconds, microseconds).
DATETIMES: st.SearchStrategy[datetime] = st.builds(
    lambda instant, offset: instant.astimezone(timezone(offset)),
    st.sampled_from(INSTANTS),
    st.one_of(
        st.sampled_from(OFFSETS),
        st.integers(-86_399, 86_399).map(lambda s: timedelta(seconds=s)),
        st.integers(-86_399_999_999, 86_399_999_999).map(lambda us: timedelta(microseconds=us)),
    ),
)


@dataclass(frozen=True)
class Spec:
    """A field of QPerson as the test sees it: its value kind and pool, what its index answers."""

    name: str
    kind: Kind
    values: st.SearchStrategy[Any]
    index: Literal["eq", "range", "text"]
    multi: bool = False  # Set (any value), or Hash (any value of one sub-key)


SPECS: tuple[Spec, ...] = (
    Spec("age", "int", st.sampled_from(INTS), "range"),
    Spec("weight", "float", st.sampled_from(FLOATS), "range"),
    Spec("price", "decimal", st.sampled_from(DECIMALS), "range"),
    Spec("seen", "datetime", DATETIMES, "range"),
    Spec("born", "date", st.sampled_from(DATES), "range"),
    Spec("name", "str", st.sampled_from(STRS), "text"),
    Spec("city", "str", st.sampled_from(CITIES), "eq"),
    Spec("blob", "bytes", st.sampled_from(BYTES), "text"),
    Spec("rank", "int", st.sampled_from(INTS), "range"),  # optional: None in a third of the instances
    Spec("tags", "str", st.sampled_from(STRS), "text", multi=True),
    Spec("headers", "str", st.sampled_from(STRS), "text", multi=True),
)
SPEC = {spec.name: spec for spec in SPECS}
SCALARS = tuple(spec for spec in SPECS if not spec.multi)
TYPED = tuple(spec for spec in SPECS if spec.name != "headers")  # a Hash is filtered by keywords only


@dataclass(frozen=True)
class Drawn:
    """The values of one instance to create."""

    age: int
    weight: float
    price: Decimal
    seen: datetime
    born: date
    name: str
    city: str
    blob: bytes
    rank: int | None
    tags: frozenset[str]
    headers: dict[str, str]


drawn_people = st.builds(
    Drawn,
    age=SPEC["age"].values,
    weight=SPEC["weight"].values,
    price=SPEC["price"].values,
    seen=SPEC["seen"].values,
    born=SPEC["born"].values,
    name=SPEC["name"].values,
    city=SPEC["city"].values,
    blob=SPEC["blob"].values,
    rank=st.one_of(st.none(), SPEC["rank"].values),
    tags=st.frozensets(SPEC["tags"].values, max_size=3),
    headers=st.dictionaries(st.sampled_from(SUB_KEYS), SPEC["headers"].values, max_size=3),
)


@dataclass(frozen=True)
class Person:
    """What one created instance holds (what the evaluator reads)."""

    pk: int
    drawn: Drawn

    def values(self, name: str, sub_key: str | None = None) -> list[Value]:
        """The values a leaf on this field looks at: none, one, or several (ANY of them)."""
        if name == "pk":
            return [self.pk]
        if name == "tags":
            return list(self.drawn.tags)
        if name == "headers":
            assert sub_key is not None
            return [self.drawn.headers[sub_key]] if sub_key in self.drawn.headers else []
        value: Value | None = getattr(self.drawn, name)
        return [] if value is None else [value]


# -- query trees ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Leaf:
    field: str  # a field name or "pk"
    op: str  # eq ne in lt le gt ge between startswith
    values: tuple[Value, ...]
    sub_key: str | None = None
    explicit: bool = False  # as a keyword: name__eq=v rather than name=v

    def __repr__(self) -> str:
        name = self.field if self.sub_key is None else f"{self.field}[{self.sub_key!r}]"
        return f"({name} {self.op} {', '.join(map(repr, self.values))})"


@dataclass(frozen=True)
class Node:
    op: Literal["and", "or", "not"]
    children: tuple[Tree, ...]

    def __repr__(self) -> str:
        if self.op == "not":
            return f"~{self.children[0]!r}"
        return "(" + f" {'&' if self.op == 'and' else '|'} ".join(map(repr, self.children)) + ")"


Tree = Leaf | Node

EQUALITY = ("eq", "ne", "in")
ORDER = ("lt", "le", "gt", "ge", "between")


_EXTRA: dict[Kind, st.SearchStrategy[Value]] = {
    "int": st.sampled_from((2**53 - 1, 2**64, 3, -(2**64))),
    "float": st.sampled_from((1, -1, 2**53 + 1, 0.5, -0.0)),  # ints are floats for the type checkers
    "decimal": st.sampled_from((Decimal("0.99999"), Decimal("1.000000000000000000001"), Decimal("-0.0"))),
    "datetime": DATETIMES,
    "date": st.sampled_from((date(2000, 1, 1), date(1970, 1, 1))),
    "str": st.sampled_from(("fop", "fo\x00", "foo0", "\U0010ffff")),
    "bytes": st.sampled_from((b"fop", b"\xfe", b"fo\xff")),
}
# Operands: the field's own pool, plus values between and around them.
QUERY_VALUES: dict[str, st.SearchStrategy[Value]] = {spec.name: st.one_of(spec.values, _EXTRA[spec.kind]) for spec in SPECS}
PREFIXES: dict[str, st.SearchStrategy[Value]] = {
    spec.name: st.sampled_from(BYTES + (b"fop",) if spec.kind == "bytes" else STRS + ("fop",)) for spec in SPECS
}


@st.composite
def leaves(draw: st.DrawFn, typed: bool) -> Leaf:
    explicit = draw(st.booleans())
    if draw(st.integers(0, 9)) == 0:
        op = draw(st.sampled_from(EQUALITY if typed else ("eq", "in")))
        pks = st.integers(0, 27)
        return Leaf("pk", op, tuple(draw(st.lists(pks, max_size=3))) if op == "in" else (draw(pks),), None, explicit)
    spec = draw(st.sampled_from(TYPED if typed else SPECS))
    ops = EQUALITY + (ORDER if spec.index != "eq" else ()) + (("startswith",) if spec.index == "text" else ())
    if not typed:
        ops = tuple(op for op in ops if op != "ne")  # keywords have no "not equal"
    op = draw(st.sampled_from(ops))
    values = QUERY_VALUES[spec.name]
    if op == "in":
        operands = tuple(draw(st.lists(values, max_size=3)))
    elif op == "between":
        operands = (draw(values), draw(values))
    elif op == "startswith":
        operands = (draw(PREFIXES[spec.name]),)
    else:
        operands = (draw(values),)
    sub_key = draw(st.sampled_from(SUB_KEYS)) if spec.name == "headers" else None
    return Leaf(spec.name, op, operands, sub_key, explicit)


def trees(depth: int) -> st.SearchStrategy[Tree]:
    leaf = leaves(typed=True)
    if depth == 0:
        return leaf
    child = trees(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda a, b: Node("and", (a, b)), child, child),
        st.builds(lambda a, b: Node("or", (a, b)), child, child),
        st.builds(lambda a: Node("not", (a,)), child),
    )


TREES = trees(3)
KEYWORDS = st.lists(leaves(typed=False), max_size=2, unique_by=lambda leaf: keyword(leaf)[0])


# -- the library's form of a query --------------------------------------------------------------

def attr(name: str) -> ValueAttr[QPerson, Any]:
    found: ValueAttr[QPerson, Any] = getattr(QPerson, name)
    return found


def condition(tree: Tree) -> Condition[QPerson]:
    if isinstance(tree, Node):
        if tree.op == "not":
            return ~condition(tree.children[0])
        left, right = (condition(child) for child in tree.children)
        return left & right if tree.op == "and" else left | right
    a = attr(tree.field)
    values: tuple[Any, ...] = tree.values  # each operand fits its field: drawn from its pool
    ops: dict[str, Callable[[], Condition[QPerson]]] = {
        "eq": lambda: a == values[0],
        "ne": lambda: a != values[0],
        "in": lambda: a.in_(values),
        "lt": lambda: a < values[0],
        "le": lambda: a <= values[0],
        "gt": lambda: a > values[0],
        "ge": lambda: a >= values[0],
        "between": lambda: a.between(values[0], values[1]),
        "startswith": lambda: a.startswith(values[0]),
    }
    return ops[tree.op]()


SUFFIX = {"eq": "", "in": "__in", "lt": "__lt", "le": "__lte", "gt": "__gt", "ge": "__gte",
          "between": "__between", "startswith": "__startswith"}


def keyword(leaf: Leaf) -> tuple[str, object]:
    """The seed-style keyword of a leaf: ``age__gte=30``, ``headers__from__startswith='x'``."""
    name = leaf.field if leaf.sub_key is None else f"{leaf.field}__{leaf.sub_key}"
    name += "__eq" if leaf.op == "eq" and leaf.explicit else SUFFIX[leaf.op]
    value: object = list(leaf.values) if leaf.op == "in" else leaf.values if leaf.op == "between" else leaf.values[0]
    return name, value


# -- the evaluator, written from the README only --------------------------------------------------

def comparable(value: Value) -> Any:
    """What Python compares: numbers, instants and dates as they are, text by its UTF-8 bytes."""
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def operand(leaf: Leaf, value: Value) -> Any:
    """An operand as the field holds it: an int given to a float field is that float (2**53 + 1
    is 2.0**53), as when it is written to the field."""
    if leaf.field in SPEC and SPEC[leaf.field].kind == "float" and isinstance(value, int):
        return float(value)
    return comparable(value)


def leaf_holds(leaf: Leaf, person: Person) -> bool:
    if leaf.op == "ne":
        return not leaf_holds(Leaf(leaf.field, "eq", leaf.values, leaf.sub_key), person)
    operands = [operand(leaf, v) for v in leaf.values]
    tests: dict[str, Callable[[Any], bool]] = {
        "eq": lambda v: v == operands[0],
        "in": lambda v: any(v == operand for operand in operands),
        "lt": lambda v: v < operands[0],
        "le": lambda v: v <= operands[0],
        "gt": lambda v: v > operands[0],
        "ge": lambda v: v >= operands[0],
        "between": lambda v: operands[0] <= v <= operands[1],
        "startswith": lambda v: bool(v.startswith(operands[0])),
    }
    test = tests[leaf.op]
    return any(test(comparable(v)) for v in person.values(leaf.field, leaf.sub_key))


def holds(tree: Tree, person: Person) -> bool:
    if isinstance(tree, Leaf):
        return leaf_holds(tree, person)
    if tree.op == "not":
        return not holds(tree.children[0], person)
    results = [holds(child, person) for child in tree.children]
    return all(results) if tree.op == "and" else any(results)


def stored_text(value: Value) -> bytes:
    """The stored bytes of a value, as the README's table of values says."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (datetime, date)):
        return value.isoformat().encode()
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


def sort_key(value: Value, spec: Spec, alpha: bool) -> Any:
    """The README's order: int and Decimal fields exactly by value, float fields as numbers,
    datetimes by instant, everything else by stored bytes; ``alpha``: everything by stored bytes."""
    if alpha or spec.kind not in ("int", "float", "decimal", "datetime"):
        return stored_text(value)
    return value  # Python compares these by value (aware datetimes by instant)


def expected_order(people: Sequence[Person], by: str, alpha: bool, desc: bool) -> list[Person]:
    """Missing values first, then by value, ties by pk; desc reverses the whole order."""
    def key(person: Person) -> tuple[Any, ...]:
        if by == "pk":
            return (1, stored_text(person.pk) if alpha else person.pk, person.pk)
        value: Value | None = getattr(person.drawn, by)
        if value is None:
            return (0, 0, person.pk)
        return (1, sort_key(value, SPEC[by], alpha), person.pk)

    ordered = sorted(people, key=key)
    return ordered[::-1] if desc else ordered


# -- the test ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    tree: Tree | None
    keywords: tuple[Leaf, ...]  # ANDed, given as keyword filters
    via_filter: bool  # keywords given to .filter() rather than to collection()
    by: str | None  # None: no sort() call
    sort_form: Literal["name", "attr", "keyword", "default"]
    alpha: bool
    desc: bool
    window: slice

    def __repr__(self) -> str:
        sort = "" if self.by is None else f".sort({'-' if self.desc else ''}{self.by}{', alpha' if self.alpha else ''})"
        filters = "filter" if self.via_filter else "collection"
        return f"{self.tree!r} {filters}{self.keywords!r}{sort}[{self.window.start}:{self.window.stop}:{self.window.step}]"


BOUNDS = st.one_of(st.none(), st.integers(-30, 30), st.sampled_from((10**20, -(10**20))))
STEPS = st.one_of(st.none(), st.integers(1, 5), st.integers(-5, -1), st.just(2**70))
SORTABLE = ("pk",) + tuple(spec.name for spec in SCALARS)
SORT_BY = st.one_of(st.none(), st.sampled_from(SORTABLE))


@st.composite
def queries(draw: st.DrawFn) -> Query:
    tree = draw(st.one_of(st.none(), TREES))
    keywords = tuple(draw(KEYWORDS))
    by = draw(SORT_BY)
    window = slice(draw(BOUNDS), draw(BOUNDS), draw(STEPS))
    return Query(tree, keywords, draw(st.booleans()), by, draw(st.sampled_from(("name", "attr", "keyword", "default"))),
                 draw(st.booleans()), draw(st.booleans()), window)


def build(query: Query) -> Collection[QPerson, int]:
    kwargs: dict[str, Any] = dict(keyword(leaf) for leaf in query.keywords)
    conditions = () if query.tree is None else (condition(query.tree),)
    if query.via_filter:
        collection = QPerson.collection().filter(*conditions, **kwargs)
    else:
        collection = QPerson.collection(*conditions, **kwargs)
    if query.by is None:
        return collection
    if query.sort_form == "default" and query.by == "pk":
        return collection.sort(alpha=query.alpha, desc=query.desc)
    if query.sort_form == "name":
        return collection.sort(("-" if query.desc else "") + query.by, alpha=query.alpha)
    if query.sort_form == "attr":
        return collection.sort(attr(query.by), alpha=query.alpha, desc=query.desc)
    return collection.sort(by=query.by, alpha=query.alpha, desc=query.desc)


def evaluate(query: Query, people: Sequence[Person]) -> list[int]:
    found = [p for p in people
             if (query.tree is None or holds(query.tree, p)) and all(leaf_holds(leaf, p) for leaf in query.keywords)]
    if query.by is None:
        return [p.pk for p in expected_order(found, "pk", False, False)]
    return [p.pk for p in expected_order(found, query.by, query.alpha, query.desc)]


def create(drawn: Drawn) -> Person:
    instance = QPerson(age=drawn.age, weight=drawn.weight, price=drawn.price, seen=drawn.seen, born=drawn.born,
                       name=drawn.name, city=drawn.city, blob=drawn.blob, rank=drawn.rank, tags=drawn.tags,
                       headers=drawn.headers)
    return Person(instance.pk_value, drawn)


def fields_of(tree: Tree | None) -> set[str]:
    if tree is None:
        return set()
    if isinstance(tree, Leaf):
        return {tree.field}
    return set().union(*(fields_of(child) for child in tree.children))


def explain(query: Query, people: Sequence[Person], got: list[int], expected: list[int]) -> str:
    """The values that decide this query, for the instances either side returned."""
    names = sorted((fields_of(query.tree) | {leaf.field for leaf in query.keywords} | {query.by or "pk"}) - {"pk"})
    lines = [f"got {got}", f"expected {expected}"]
    for person in people:
        if person.pk in got or person.pk in expected:
            values = ", ".join(f"{name}={getattr(person.drawn, name)!r}" for name in names)
            lines.append(f"  pk {person.pk}: {values}")
    return "\n".join(lines)


def explain_sort(by: str, people: Sequence[Person], got: list[int]) -> str:
    by_pk = {person.pk: person for person in people}
    shown = [f"{pk}: {getattr(by_pk[pk].drawn, by)!r}" if by != "pk" else str(pk) for pk in got]
    return "got " + ", ".join(shown)


@pytest.fixture
def people_db(db: Database) -> Iterator[Database]:
    QPerson.use_database(db)
    yield db


# Sizes come from the profile; a failure is shrunk to one small example (report_multiple_bugs off:
# a smaller example may fail on another check) without the explain phase, which would rerun
# hundreds of examples here: the note() of each query already shows what ran.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None,
          report_multiple_bugs=False, phases=[phase for phase in settings().phases if phase != Phase.explain])
@given(data=st.lists(drawn_people, min_size=5, max_size=25), drawn=st.lists(queries(), min_size=2, max_size=8))
def test_queries_answer_what_python_evaluates(people_db: Database, data: list[Drawn], drawn: list[Query]) -> None:
    people_db.connection.flushdb()
    people = [create(values) for values in data]
    # Every sort of the whole collection: the pools make ties and near ties frequent.
    for by in SORTABLE:
        for alpha in (False, True):
            for desc in (False, True):
                expected = [p.pk for p in expected_order(people, by, alpha, desc)]
                got = list(QPerson.collection().sort(by, alpha=alpha, desc=desc))
                assert got == expected, f"sort({by!r}, alpha={alpha}, desc={desc}): {explain_sort(by, people, got)}"
    for query in drawn:
        note(repr(query))
        expected = evaluate(query, people)
        collection = build(query)
        got = list(collection)
        assert got == expected, f"list(): {explain(query, people, got, expected)}"
        assert len(collection) == len(expected), "len() of the run collection"
        assert build(query).count() == len(expected), "count()"
        assert len(build(query)) == len(expected), "len()"
        assert build(query)[query.window] == expected[query.window], "the slice, run on the server"
        assert build(query)[:1] == expected[:1], "[:1]"
        assert build(query).first() == (expected[0] if expected else None), "first()"
        assert build(query).exists() is bool(expected), "exists()"
        if expected:
            assert build(query)[0] == expected[0], "[0]"
            assert build(query)[-1] == expected[-1], "[-1]"
        else:
            with pytest.raises(IndexError):
                build(query)[0]
