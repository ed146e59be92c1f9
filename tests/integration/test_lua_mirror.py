"""The Lua prelude mirrors Python: key parts, index escaping and member pks are computed the same
way on the server (scripts/prelude.lua) as in keys.py and indexes.py, for any bytes."""

from __future__ import annotations

from importlib import resources

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from limpyd_typed import Database, indexes, replies
from limpyd_typed.keys import escape_part

_PRELUDE = (resources.files("limpyd_typed.scripts") / "prelude.lua").read_text()

# Built as scripts.Script builds every script: the prelude, a newline, then the body.
_ESCAPES = _PRELUDE + "\n" + "return {esc_key(ARGV[1]), esc_idx(ARGV[1]), unesc_idx(esc_idx(ARGV[1]))}\n"
_MEMBER_PK = _PRELUDE + "\n" + "return member_pk(ARGV[1])\n"
_UNESC = _PRELUDE + "\n" + "return unesc_idx(ARGV[1])\n"

_TRICKY = st.lists(st.sampled_from([0, 1, 2, ord("%"), ord(":"), ord("."), ord("-"), ord("_"), ord("a"), ord("Z"),
                                    ord(" "), ord("{"), ord("*"), 0x7F, 0x80, 0xFF]), max_size=12).map(bytes)
_VALUES = st.binary() | _TRICKY

_SERVER_TEST = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def _eval(db: Database, source: str, *args: bytes) -> object:
    return db.execute("EVAL", source, 0, *args)


@_SERVER_TEST
@given(raw=_VALUES)
@example(raw=b"")
@example(raw=b"\x00")
@example(raw=b"\x01")
@example(raw=b"\x01\x01\x00\x02")
@example(raw=bytes(range(256)))
@example(raw="é:{x}*?[]> %".encode())
def test_prelude_escapes_like_python(db: Database, raw: bytes) -> None:
    reply = replies.bytes_list(_eval(db, _ESCAPES, raw))
    assert reply == [escape_part(raw).encode("ascii"), indexes.escape(raw), raw]


@_SERVER_TEST
@given(value=_VALUES, pk=_VALUES)
@example(value=b"", pk=b"")
@example(value=b"foo", pk=b"\x00\x01")
@example(value=b"\x00", pk=b"1")
def test_prelude_reads_the_pk_of_a_member_like_python(db: Database, value: bytes, pk: bytes) -> None:
    member = indexes.member(indexes.entry([value]), pk)
    assert replies.optional_bytes(_eval(db, _MEMBER_PK, member)) == indexes.pk_of(member) == pk


@_SERVER_TEST
@given(sub_key=_VALUES, value=_VALUES, pk=_VALUES)
@example(sub_key=b"a\x00", value=b"b", pk=b"\x00")
def test_prelude_reads_the_pk_of_a_hash_member_like_python(db: Database, sub_key: bytes, value: bytes, pk: bytes) -> None:
    member = indexes.member(indexes.entry([sub_key, value]), pk)
    assert replies.optional_bytes(_eval(db, _MEMBER_PK, member)) == pk


@_SERVER_TEST
@given(raw=_VALUES)
def test_prelude_unescapes_like_python(db: Database, raw: bytes) -> None:
    escaped = indexes.escape(raw)
    assert replies.optional_bytes(_eval(db, _UNESC, escaped)) == indexes.unescape(escaped) == raw
