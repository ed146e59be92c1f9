"""Every write that can touch an index: building the script calls and reading their answers.

Each function here is one script call, so one round trip, atomic on the server: a client that
dies mid-write leaves either the whole write or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import scripts
from .keys import escape_part
from .database import Arg
from redis.exceptions import ResponseError

from .exceptions import CommandError, DoesNotExist, UniquenessError, shown

if TYPE_CHECKING:
    from .fields.base import Field
    from .model import Model

# A command on one key: (name, key, args...).
Command = tuple[str, str, *tuple[Arg, ...]]


class _Keys:
    """The KEYS of one script call, each key once, referenced by 1-based position."""

    def __init__(self, *first: str) -> None:
        self.names: list[str] = []
        self._pos: dict[str, int] = {}
        for name in first:
            self.at(name)

    def at(self, name: str) -> int:
        pos = self._pos.get(name)
        if pos is None:
            self.names.append(name)
            pos = self._pos[name] = len(self.names)
        return pos


def _index_pos(keys: _Keys, field: Field[Any, Any, Any]) -> int:
    return keys.at(field.index_key) if field.index_key else 0


def _uniqueness_error(field: Field[Any, Any, Any], raw: bytes, holder: bytes) -> UniquenessError:
    value: object = raw
    try:
        value = field.decode(raw)
    except ValueError:
        pass
    return UniquenessError(
        f"{field.qualname}: value {shown(value)} is already held by {field.model.__name__} "
        f"pk={field.model._decode_pk(holder)!r}; nothing was written"
    )


def write_fields(
    instance: Model[Any],
    fields: Sequence[Field[Any, Any, Any]],
    commands: Sequence[Command],
    scope: Sequence[bytes] | None = None,
) -> object:
    """Run ``commands`` on fields of ``instance`` and move their index entries, in one script.

    ``scope``: for one Set, SortedSet or Hash field, the members (or sub-keys) the commands can
    change; the script then reads only those, not the whole field, to update the index.
    """
    model = type(instance)
    keys = _Keys(model._keys.pks)
    args: list[scripts.ScriptArg] = [instance._pk_bytes, len(fields)]
    for field in fields:
        key = field.key_prefix + instance._pk_key
        args += [field.kind, keys.at(key), field.slot, field.index_mode, _index_pos(keys, field), field.index_form]
        args += [-1] if scope is None else [len(scope), *scope]
    args.append(len(commands))
    for name, key, *rest in commands:
        args += [len(rest) + 2, name, keys.at(key), *rest]
    try:
        reply = scripts.WRITE(instance.database, keys.names, args)
    except ResponseError as exc:  # the command itself failed, before anything was written
        names = ", ".join(f.qualname for f in fields)
        reason = str(exc).split(" script: ")[0]  # drop the script's sha and line
        raise CommandError(f"{names}: Redis refused {commands[-1][0]}: {reason}; nothing was written") from None
    assert isinstance(reply, list)
    if reply[0] == 1:
        return reply[1] if len(reply) > 1 else None
    if reply[1] == b"missing":
        raise DoesNotExist(f"{model.__name__} pk={instance.pk_value!r} does not exist (deleted?)")
    field = fields[int(reply[2]) - 1]
    if reply[1] == b"range":
        raise CommandError(f"{field.qualname}: the result {reply[3][:40]!r}... is beyond a float's range; nothing was written")
    raise _uniqueness_error(field, reply[3], reply[4])


def create_instance(model: type[Model[Any]], pk: bytes | None, values: Mapping[Field[Any, Any, Any], list[bytes]]) -> bytes:
    """Create an instance with its field values and index entries; returns its pk."""
    keys = _Keys(model._keys.pks, model._keys.next_pk)
    args: list[scripts.ScriptArg] = ["auto" if pk is None else "given", pk or b"", len(values)]
    for field, stored in values.items():
        args += [field.kind, field.key_prefix, field.slot, field.index_mode, _index_pos(keys, field),
                 field.index_form, len(stored), *stored]
    reply = scripts.CREATE(model.database, keys.names, args)
    assert isinstance(reply, list)
    if reply[0] == 1:
        created: bytes = reply[1]
        return created
    if reply[1] == b"exists":
        raise UniquenessError(
            f"{model.__name__}: an instance with pk={model._decode_pk(reply[2])!r} already exists; nothing was written"
        )
    field = list(values)[int(reply[2]) - 1]
    raise _uniqueness_error(field, reply[3], reply[4])


def _delete_call(model: type[Model[Any]], pk: bytes) -> tuple[list[str], list[scripts.ScriptArg]]:
    """KEYS and ARGV of the delete script for the instance ``pk``."""
    pk_key = escape_part(pk)
    stored = [f for f in model._fields.values() if not f.is_pk]
    # Each data key once: every InstanceHash field shares the instance hash.
    data_keys = list(dict.fromkeys(f.key_prefix + pk_key for f in stored))
    keys = _Keys(model._keys.pks, *data_keys)
    indexed = [f for f in stored if f.indexed]
    args: list[scripts.ScriptArg] = [pk, len(data_keys), len(indexed)]
    for field in indexed:
        args += [field.kind, keys.at(field.key_prefix + pk_key), field.slot, _index_pos(keys, field), field.index_form]
    return keys.names, args


def delete_instance(instance: Model[Any]) -> None:
    """Delete every key of an instance and every index entry it holds."""
    model = type(instance)
    reply = scripts.DELETE(instance.database, *_delete_call(model, instance._pk_bytes))
    assert isinstance(reply, list)
    if reply[0] != 1:
        raise DoesNotExist(f"{model.__name__} pk={instance.pk_value!r} does not exist (deleted already?)")


def delete_instances(model: type[Model[Any]], pks: Sequence[bytes]) -> int:
    """Delete many instances, each in its own atomic script, all in one pipelined round trip.

    Returns how many existed (an instance deleted meanwhile by another client is skipped).
    """
    replies_ = scripts.DELETE.many(model.database, [_delete_call(model, pk) for pk in pks])
    return sum(1 for reply in replies_ if isinstance(reply, list) and reply[0] == 1)
