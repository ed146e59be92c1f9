"""The Lua prelude mirrors Python: key parts, index escaping, member pks and the float index form
are computed the same way on the server (scripts/prelude.lua) as in keys.py, indexes.py and
codecs.py, for any input."""

from __future__ import annotations

import math
from importlib import resources

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from limpyd_typed import Database, indexes, replies
from limpyd_typed.codecs import codec_for
from limpyd_typed.keys import escape_part

_PRELUDE = (resources.files("limpyd_typed.scripts") / "prelude.lua").read_text()

# The prelude's helpers, then a body calling them (the library defines them once, then its functions).
_ESCAPES = _PRELUDE + "\n" + "return {esc_key(ARGV[1]), esc_idx(ARGV[1]), unesc_idx(esc_idx(ARGV[1]))}\n"
# member_pk(m, e): the pk of member m of entry e.
_MEMBER_PK = _PRELUDE + "\n" + "return member_pk(ARGV[1], ARGV[2])\n"
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
    entry = indexes.entry([value])
    member = indexes.member(entry, pk)
    assert replies.optional_bytes(_eval(db, _MEMBER_PK, member, entry)) == indexes.pk_of(member) == pk


@_SERVER_TEST
@given(sub_key=_VALUES, value=_VALUES, pk=_VALUES)
@example(sub_key=b"a\x00", value=b"b", pk=b"\x00")
def test_prelude_reads_the_pk_of_a_hash_member_like_python(db: Database, sub_key: bytes, value: bytes, pk: bytes) -> None:
    entry = indexes.entry([sub_key, value])
    member = indexes.member(entry, pk)
    assert replies.optional_bytes(_eval(db, _MEMBER_PK, member, entry)) == pk


@_SERVER_TEST
@given(raw=_VALUES)
def test_prelude_unescapes_like_python(db: Database, raw: bytes) -> None:
    escaped = indexes.escape(raw)
    assert replies.optional_bytes(_eval(db, _UNESC, escaped)) == indexes.unescape(escaped) == raw


_NORM_FLOAT = _PRELUDE + "\n" + 'return norm(ARGV[1], "float")\n'
_NORM_NONE = _PRELUDE + "\n" + 'return norm(ARGV[1], "")\n'


@_SERVER_TEST
@given(value=st.floats(allow_nan=False, allow_infinity=True, allow_subnormal=True))  # NaN is refused
@example(value=2.0)
@example(value=-0.0)
@example(value=5e-324)
@example(value=1.7976931348623157e308)
@example(value=0.1)
@example(value=1e16)
@example(value=math.inf)
@example(value=-math.inf)
def test_prelude_indexes_stored_floats_like_python(db: Database, value: float) -> None:
    codec = codec_for(float)
    raw = codec.encode(value)
    assert replies.optional_bytes(_eval(db, _NORM_FLOAT, raw)) == codec.indexed(raw)


@_SERVER_TEST
@given(text=st.sampled_from(["2", "-3", "1.5", "100000000000000000000", "0.30000000000000004", "1e+20", "-0"])
       | st.integers(-(10**30), 10**30).map(str))
def test_prelude_indexes_incrbyfloat_texts_like_python(db: Database, text: str) -> None:
    # What INCRBYFLOAT writes (no ".0", no exponent) is indexed by both sides alike.
    raw = text.encode()
    assert replies.optional_bytes(_eval(db, _NORM_FLOAT, raw)) == codec_for(float).indexed(raw)


@_SERVER_TEST
@given(raw=_VALUES)
def test_prelude_leaves_other_values_as_they_are(db: Database, raw: bytes) -> None:
    assert replies.optional_bytes(_eval(db, _NORM_NONE, raw)) == raw
