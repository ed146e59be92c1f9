"""Unit tests of limpyd_typed.keys: escaped key parts are injective and glob/tag safe, key names
never collide, and every key of a model hashes to one Redis Cluster slot."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from limpyd_typed.keys import ModelKeys, escape_part, split_key, unescape_part

# Bytes that make near-collisions likely: the separator, the escape character, hex digits that
# could spell an escape, braces, globs, whitespace and a non-ASCII byte.
_TRICKY = st.lists(
    st.sampled_from([b":", b"%", b"3A", b"25", b"a", b"A", b"{", b"}", b"*", b"?", b"[", b"]", b">", b" ",
                     b"\n", b"\t", b"\x00", b"\xc3\xa9", b"-", b"_", b"."]),
    max_size=6,
).map(b"".join)
_PARTS = st.binary() | _TRICKY
_TEXT_PARTS = st.text(max_size=8) | _TRICKY.map(lambda b: b.decode("utf-8", "replace"))

_FORBIDDEN = set(":{}*?[]>") | {" ", "\t", "\n", "\r", "\x0b", "\x0c"}


def _unescape_part(part: str) -> bytes:
    """The inverse of escape_part, written from its documented rule (%XX for unsafe bytes)."""
    out = bytearray()
    i = 0
    while i < len(part):
        if part[i] == "%":
            out.append(int(part[i + 1 : i + 3], 16))
            i += 3
        else:
            out += part[i].encode("ascii")
            i += 1
    return bytes(out)


# -- escape_part ---------------------------------------------------------------------------------

@given(_PARTS, _PARTS)
@example(b":", b"%3A")
@example(b"%", b"%25")
@example(b"a:b", b"a%3Ab")
@example(b"", b"%")
def test_escape_part_is_injective(a: bytes, b: bytes) -> None:
    assume(a != b)
    assert escape_part(a) != escape_part(b)


@given(_PARTS)
def test_escape_part_can_be_read_back(raw: bytes) -> None:
    # A left inverse exists, so no two inputs can share an escaped form.
    assert _unescape_part(escape_part(raw)) == raw


@given(_PARTS)
@example(b":{}*?[]> \t\n\r\x0b\x0c")
def test_escape_part_holds_no_separator_brace_glob_or_whitespace(raw: bytes) -> None:
    escaped = escape_part(raw)
    assert not (set(escaped) & _FORBIDDEN)
    assert re.fullmatch(r"(?:[A-Za-z0-9_.\-]|%[0-9A-F]{2})*", escaped)


@given(_PARTS)
def test_escape_part_leaves_safe_bytes_alone(raw: bytes) -> None:
    safe = bytes(c for c in raw if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "_.-"))
    assert escape_part(safe) == safe.decode("ascii")


@given(st.text())
def test_escape_part_of_str_is_that_of_its_utf8_bytes(text: str) -> None:
    assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in text))
    assert escape_part(text) == escape_part(text.encode("utf-8"))


def test_escape_part_examples() -> None:
    assert escape_part(b"abc-1_2.3") == "abc-1_2.3"
    assert escape_part(b"a:b") == "a%3Ab"
    assert escape_part(b"%") == "%25"
    assert escape_part(b"{x}") == "%7Bx%7D"
    assert escape_part("é") == "%C3%A9"
    assert escape_part(b"") == ""


# -- key names -----------------------------------------------------------------------------------

def _model_keys() -> st.SearchStrategy[ModelKeys]:
    return st.builds(ModelKeys, _TEXT_PARTS, _TEXT_PARTS.filter(bool))


@given(_model_keys(), _TEXT_PARTS, _PARTS, _TEXT_PARTS, _PARTS)
@example(ModelKeys("", "Bike"), "a:b", b"c", "a", b"b:c")
@example(ModelKeys("", "Bike"), "a", b"1:2", "a:1", b"2")
def test_field_keys_of_different_field_and_pk_never_collide(
    keys: ModelKeys, field_a: str, pk_a: bytes, field_b: str, pk_b: bytes
) -> None:
    assume((field_a, pk_a) != (field_b, pk_b))
    assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in field_a + field_b))
    assert keys.field(field_a, pk_a) != keys.field(field_b, pk_b)


@given(_model_keys(), _model_keys(), _TEXT_PARTS, _PARTS)
@example(ModelKeys("a:b", "c"), ModelKeys("a", "b:c"), "f", b"1")
@example(ModelKeys("a", "b}c"), ModelKeys("a", "b"), "f", b"1")
def test_keys_of_different_models_never_collide(a: ModelKeys, b: ModelKeys, field_name: str, pk: bytes) -> None:
    assume((a.namespace, a.model_name) != (b.namespace, b.model_name))
    assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in a.namespace + a.model_name + b.namespace + b.model_name + field_name))
    assert set(_all_keys(a, field_name, pk)).isdisjoint(_all_keys(b, field_name, pk))


@given(_model_keys(), _TEXT_PARTS, _PARTS, _PARTS)
@example(ModelKeys("", "Bike"), "pks", b"pks", b"x")
@example(ModelKeys("", "Bike"), "idx", b"1", b"2")
def test_the_keys_of_one_model_are_all_distinct(keys: ModelKeys, field_name: str, pk_a: bytes, pk_b: bytes) -> None:
    assume(pk_a != pk_b)
    assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in keys.namespace + keys.model_name + field_name))
    names = [keys.pks, keys.next_pk, keys.index(field_name),
             keys.instance_hash(pk_a), keys.field(field_name, pk_a), keys.instance_hash(pk_b), keys.field(field_name, pk_b)]
    assert len(set(names)) == len(names)


def test_key_layout_is_the_documented_one() -> None:
    keys = ModelKeys("ns", "Bike")
    assert keys.pks == "lt:{ns:Bike}:pks"
    assert keys.next_pk == "lt:{ns:Bike}:next_pk"
    assert keys.instance_hash(b"12") == "lt:{ns:Bike}:obj:12"
    assert keys.field("tags", b"a:b") == "lt:{ns:Bike}:f:tags:a%3Ab"
    assert keys.index("name") == "lt:{ns:Bike}:idx:name"
    assert keys.pattern == "lt:{ns:Bike}:*"
    assert keys.instance_prefix + "12" == keys.instance_hash(b"12")
    assert keys.field_prefix("tags") + "7" == keys.field("tags", b"7")


# -- cluster hash slots --------------------------------------------------------------------------

def _crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM: poly 0x1021, init 0), as the Redis Cluster spec defines it."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _hash_slot(key: bytes) -> int:
    """HASH_SLOT of the cluster spec: only the first non-empty {...} tag is hashed, if any."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end != -1 and end != start + 1:
            key = key[start + 1 : end]
    return _crc16(key) % 16384


def test_crc16_and_hash_slot_match_the_cluster_spec() -> None:
    assert _crc16(b"123456789") == 0x31C3  # the spec's test vector
    assert _hash_slot(b"foo") == 12182
    assert _hash_slot(b"bar") == 5061
    assert _hash_slot(b"{user1000}.following") == _hash_slot(b"{user1000}.followers") == _hash_slot(b"user1000")
    assert _hash_slot(b"foo{}{bar}") == _hash_slot(b"foo{}{bar}")  # empty tag: the whole key is hashed
    assert _hash_slot(b"foo{{bar}}zap") == _hash_slot(b"{bar")


def _all_keys(keys: ModelKeys, field_name: str, pk: bytes) -> list[str]:
    return [keys.pks, keys.next_pk, keys.instance_hash(pk), keys.field(field_name, pk), keys.index(field_name),
            keys.instance_prefix + escape_part(pk),
            keys.field_prefix(field_name) + escape_part(pk)]


@given(_model_keys(), st.lists(st.tuples(_TEXT_PARTS, _PARTS), min_size=1, max_size=5))
@example(ModelKeys("", "Bike"), [("f", b"}"), ("{", b"{x}")])
@example(ModelKeys("{", "}"), [("}", b"{}")])
def test_every_key_of_a_model_is_in_the_slot_of_its_hash_tag(keys: ModelKeys, fields_and_pks: list[tuple[str, bytes]]) -> None:
    assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in keys.namespace + keys.model_name))
    expected = _crc16(f"{escape_part(keys.namespace)}:{escape_part(keys.model_name)}".encode()) % 16384
    for field_name, pk in fields_and_pks:
        assume(not any(0xD800 <= ord(c) <= 0xDFFF for c in field_name))
        for name in _all_keys(keys, field_name, pk):
            assert _hash_slot(name.encode()) == expected, name


@pytest.mark.parametrize("namespace", ["", "ns", "a:b", "{x}"])
def test_the_hash_tag_is_never_empty_and_holds_no_brace(namespace: str) -> None:
    keys = ModelKeys(namespace, "Bike")
    tag = keys.tag.encode()
    start = tag.index(b"{")
    end = tag.index(b"}", start)
    assert end > start + 1
    assert end == len(tag) - 1  # the first '}' closes the tag: nothing inside can close it early


# -- reading keys back (maintenance: which instance and field a scanned key belongs to) -----------

@given(_PARTS)
def test_unescape_part_reads_back_every_escaped_part(raw: bytes) -> None:
    assert unescape_part(escape_part(raw)) == raw


@given(st.text(max_size=8), st.text(max_size=8), _TEXT_PARTS, _PARTS)
def test_split_key_names_the_field_and_pk_of_every_data_key(namespace: str, model: str, field_name: str, pk: bytes) -> None:
    assume(model and all(ord(c) < 0xD800 or ord(c) > 0xDFFF for c in namespace + model + field_name))
    keys = ModelKeys(namespace, model)
    assert split_key(keys, keys.instance_hash(pk)) == ("obj", "", pk)
    assert split_key(keys, keys.field(field_name, pk)) == ("f", field_name, pk)


def test_split_key_tells_the_model_keys_from_data_and_foreign_keys() -> None:
    keys = ModelKeys("ns", "Bike")
    assert split_key(keys, keys.pks) == ("pks", "", b"")
    assert split_key(keys, keys.next_pk) == ("next_pk", "", b"")
    assert split_key(keys, keys.index("name")) == ("idx", "name", b"")
    assert split_key(keys, "lt:{ns:Bike}:stored:abc") == ("stored", "abc", b"")
    assert split_key(keys, "lt:{ns:Bike}:f:name") is None  # no pk: outside the layout
    assert split_key(keys, "lt:{ns:Bike}:weird:1") is None
    assert split_key(keys, "lt:{ns:Bikes}:obj:1") is None  # another model
