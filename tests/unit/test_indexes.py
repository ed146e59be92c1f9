"""Unit tests of limpyd_typed.indexes: escaping keeps byte order and prefixes, and an entry's lex
range holds exactly the members of that value, never those of a neighbouring value."""

from __future__ import annotations

from hypothesis import assume, example, given
from hypothesis import strategies as st

from limpyd_typed import indexes

# Values built from the bytes that matter to the escaping (0, 1, 2) and their neighbours.
_TRICKY = st.lists(st.sampled_from([0, 1, 2, 3, ord("a"), ord("o"), 0x7F, 0xFF]), max_size=8).map(bytes)
_VALUES = st.binary() | _TRICKY


def _in_lex_range(member: bytes, bounds: tuple[bytes, bytes]) -> bool:
    """Whether ZRANGEBYLEX with these bounds returns ``member`` (score-0 members sort by bytes)."""
    low, high = bounds

    def above(bound: bytes) -> bool:
        if bound == b"-":
            return True
        if bound == b"+":
            return False
        assert bound[:1] in (b"[", b"(")
        return member >= bound[1:] if bound[:1] == b"[" else member > bound[1:]

    def below(bound: bytes) -> bool:
        if bound == b"+":
            return True
        if bound == b"-":
            return False
        assert bound[:1] in (b"[", b"(")
        return member <= bound[1:] if bound[:1] == b"[" else member < bound[1:]

    return above(low) and below(high)


# -- escape ------------------------------------------------------------------------------------

@given(_VALUES, _VALUES)
@example(b"\x00", b"\x01")
@example(b"\x01", b"\x02")
@example(b"\x00", b"")
@example(b"a\x00", b"a\x01")
@example(b"a\x01\x02", b"a\x02")
def test_escape_keeps_byte_order(a: bytes, b: bytes) -> None:
    assert (a < b) == (indexes.escape(a) < indexes.escape(b))
    assert (a == b) == (indexes.escape(a) == indexes.escape(b))


@given(_VALUES)
@example(b"\x00\x00\x01\x01")
def test_escape_never_holds_a_nul_and_unescape_inverts_it(raw: bytes) -> None:
    escaped = indexes.escape(raw)
    assert b"\x00" not in escaped
    assert indexes.unescape(escaped) == raw


@given(_VALUES, _VALUES)
@example(b"a\x00", b"a")
@example(b"\x01\x02", b"\x01")
def test_escape_keeps_prefixes(value: bytes, prefix: bytes) -> None:
    # Prefix queries on raw values are prefix queries on escaped values.
    assert value.startswith(prefix) == indexes.escape(value).startswith(indexes.escape(prefix))


def test_escape_examples() -> None:
    assert indexes.escape(b"abc") == b"abc"
    assert indexes.escape(b"\x00") == b"\x01\x01"
    assert indexes.escape(b"\x01") == b"\x01\x02"
    assert indexes.escape(b"a\x00\x01b") == b"a\x01\x01\x01\x02b"


# -- entries and members -------------------------------------------------------------------------

@given(_VALUES, _VALUES)
@example(b"", b"")
@example(b"foo", b"\x00")
def test_member_gives_its_pk_back(value: bytes, pk: bytes) -> None:
    assert indexes.pk_of(indexes.member(indexes.entry([value]), pk)) == pk


@given(_VALUES, _VALUES)
@example(b"", b"")
@example(b"foo", b"\x00\x01")
@example(b"\x00", b"\xff")
def test_equal_range_holds_every_member_of_its_value(value: bytes, pk: bytes) -> None:
    value_entry = indexes.entry([value])
    assert _in_lex_range(indexes.member(value_entry, pk), indexes.equal_range(value_entry))


@given(_VALUES, _VALUES, _VALUES)
@example(b"foo", b"foo1", b"1")
@example(b"foo", b"foo\x00", b"1")
@example(b"foo", b"foo\x01", b"1")
@example(b"foo", b"foo\x00", b"")
@example(b"foo", b"fo", b"o")
@example(b"foo", b"fo", b"o\x00")
@example(b"", b"\x00", b"")
@example(b"", b"\x01", b"\x00")
@example(b"a", b"a\x00b", b"")
def test_equal_range_holds_no_member_of_another_value(value: bytes, other: bytes, pk: bytes) -> None:
    assume(value != other)
    bounds = indexes.equal_range(indexes.entry([value]))
    assert not _in_lex_range(indexes.member(indexes.entry([other]), pk), bounds)


def _hash_items() -> st.SearchStrategy[tuple[bytes, bytes]]:
    return st.tuples(_VALUES, _VALUES)


@given(_hash_items(), _hash_items(), _VALUES, _VALUES)
@example((b"a\x00", b"b"), (b"a", b"\x00b"), b"1", b"1")
@example((b"a", b"b"), (b"a", b"b\x00"), b"1", b"")
@example((b"a", b""), (b"a\x00", b""), b"", b"")
def test_hash_entries_of_different_items_never_meet(item: tuple[bytes, bytes], other: tuple[bytes, bytes],
                                                     pk: bytes, other_pk: bytes) -> None:
    # A Hash field's entry is (sub-key, value): its range holds all its members, none of another item's.
    entry = indexes.entry(item)
    bounds = indexes.equal_range(entry)
    assert _in_lex_range(indexes.member(entry, pk), bounds)
    assert indexes.pk_of(indexes.member(entry, pk)) == pk
    if item != other:
        assert indexes.entry(other) != entry
        assert not _in_lex_range(indexes.member(indexes.entry(other), other_pk), bounds)


@given(st.lists(st.tuples(_VALUES, _VALUES), max_size=12), _VALUES)
def test_a_sorted_index_groups_members_by_value(pairs: list[tuple[bytes, bytes]], value: bytes) -> None:
    # In byte order, the members of one value form one contiguous run: the lex range.
    members = sorted({indexes.member(indexes.entry([v]), pk) for v, pk in pairs + [(value, b"x")]})
    bounds = indexes.equal_range(indexes.entry([value]))
    inside = [m for m in members if _in_lex_range(m, bounds)]
    assert sorted({pk for v, pk in pairs if v == value} | {b"x"}) == sorted(indexes.pk_of(m) for m in inside)
    positions = [i for i, m in enumerate(members) if _in_lex_range(m, bounds)]
    assert positions == list(range(positions[0], positions[0] + len(positions)))
