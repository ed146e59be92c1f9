"""Every write that can touch an index: building the script calls and reading their answers.

Each function here is one script call, so one round trip, atomic on the server: a client that
dies mid-write leaves either the whole write or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import scripts, templates
from .keys import escape_part
from .database import Arg, one_place
from redis.exceptions import ResponseError

from .exceptions import (BulkCreateError, CommandError, DoesNotExist, ImplementationError, ProtectedError,
                         UniquenessError, shown)

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


def _write_call(model: type[Model[Any]], pk: bytes, fields: Sequence[Field[Any, Any, Any]],
                commands: Sequence[Command], scope: Sequence[bytes] | None) -> tuple[list[str], list[scripts.ScriptArg]]:
    """KEYS and ARGV of the write script running ``commands`` on fields of the instance ``pk``."""
    pk_key = escape_part(pk)
    keys = _Keys(model._keys.pks)
    args: list[scripts.ScriptArg] = [pk, len(fields)]
    for field in fields:
        args += [field.kind, keys.at(field.key_prefix + pk_key), field.slot, field.index_mode,
                 _index_pos(keys, field), field.index_form]
        args += [-1] if scope is None else [len(scope), *scope]
    args.append(len(commands))
    for name, key, *rest in commands:
        args += [len(rest) + 2, name, keys.at(key), *rest]
    return keys.names, args


def _written(model: type[Model[Any]], pk: bytes, fields: Sequence[Field[Any, Any, Any]],
             commands: Sequence[Command], reply: object) -> object:
    """The reply of the write script's last command, or the error it reported (nothing written then)."""
    if isinstance(reply, ResponseError):  # the command itself failed, before anything was written
        names = ", ".join(f.qualname for f in fields)
        raise CommandError(f"{names}: Redis refused {commands[-1][0]}: {scripts.error_reason(reply)}; "
                           f"nothing was written")
    assert isinstance(reply, list)
    if reply[0] == 1:
        return reply[1] if len(reply) > 1 else None
    if reply[1] == b"missing":
        raise DoesNotExist(f"{model.__name__} pk={model._decode_pk(pk)!r} does not exist (deleted?)")
    field = fields[int(reply[2]) - 1]
    if reply[1] == b"range":
        raise CommandError(f"{field.qualname}: the result {reply[3][:40]!r}... is beyond a float's range; nothing was written")
    raise _uniqueness_error(field, reply[3], reply[4])


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
    call = _write_call(model, instance._pk_bytes, fields, commands, scope)
    try:
        reply: object = scripts.WRITE(instance.database, *call)
    except ResponseError as exc:
        reply = exc
    return _written(model, instance._pk_bytes, fields, commands, reply)


def update_instances(model: type[Model[Any]], pks: Sequence[bytes], values: Stored, batch_size: int) -> int:
    """Assign ``values`` to the instances ``pks``: one atomic script each, pipelined by batches.

    Returns how many were updated (an instance deleted meanwhile is skipped). Refused before
    anything is sent when a unique value would go to more than one instance.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    shared = [f for f in values if f.options.unique and values[f]]
    if shared and len(pks) > 1:
        raise UniquenessError(f"{shared[0].qualname} is unique: update() would give {len(pks)} instances "
                              f"the same value; nothing was written")
    fields = list(values)
    updated = 0
    for start in range(0, len(pks), batch_size):
        calls, all_commands = [], []
        for pk in pks[start:start + batch_size]:
            pk_key = escape_part(pk)
            commands = [c for f, stored in values.items() for c in f.replace_commands(f.key_prefix + pk_key, stored)]
            all_commands.append(commands)
            calls.append(_write_call(model, pk, fields, commands, None))
        answers = scripts.WRITE.many(model.database, calls)
        for pk, commands, reply in zip(pks[start:start + batch_size], all_commands, answers):
            try:
                _written(model, pk, fields, commands, reply)
                updated += 1
            except DoesNotExist:
                continue
    return updated


Stored = Mapping["Field[Any, Any, Any]", list[bytes]]


def _create_row(template: templates.CreateTemplate, pk: bytes | None, values: Stored) -> list[scripts.ScriptArg]:
    """The ARGV of one row of the create script (after the model's template head)."""
    descriptor_of = template.descriptor_of
    args: list[scripts.ScriptArg] = ["auto" if pk is None else "given", pk or b"", len(values)]
    for field, stored in values.items():
        args += [descriptor_of[field], len(stored), *stored]
    return args


def _created(model: type[Model[Any]], template: templates.CreateTemplate, reply: object) -> bytes:
    """The pk the create script answered for one row, or the error it reported (nothing written then)."""
    if isinstance(reply, bytes):  # the pk created
        return reply
    assert isinstance(reply, list)
    if reply[1] == b"exists":
        raise UniquenessError(
            f"{model.__name__}: an instance with pk={model._decode_pk(reply[2])!r} already exists; nothing was written"
        )
    if reply[1] == b"stray":
        raise CommandError(f"{model.__name__}: key {reply[3].decode(errors='replace')} of pk="
                           f"{model._decode_pk(reply[2])!r} exists, but no such instance does (written outside "
                           f"the library?): rebuild_indexes() deletes such keys; nothing was written")
    if reply[1] == b"error":
        raise CommandError(f"{model.__name__}: Redis refused the create: {scripts.error_reason(reply[2])}; "
                           f"nothing was written")
    field = template.fields[int(reply[2]) - 1]
    raise _uniqueness_error(field, reply[3], reply[4])


def create_instance(model: type[Model[Any]], pk: bytes | None, values: Stored) -> bytes:
    """Create an instance with its field values and index entries; returns its pk."""
    template = templates.create_template(model)
    try:
        reply = scripts.CREATE(model.database, template.keys, [*template.head, *_create_row(template, pk, values)])
    except ResponseError as exc:
        raise CommandError(f"{model.__name__}: Redis refused the create: {scripts.error_reason(exc)}; "
                           f"nothing was written") from None
    assert isinstance(reply, list)
    return _created(model, template, reply[0])


def create_instances(model: type[Model[Any]], rows: Sequence[tuple[bytes | None, Stored]], batch_size: int) -> list[bytes]:
    """Create many instances, one script call per batch of ``batch_size`` rows.

    The script creates the rows of its batch in order, each checked before anything of it is
    written, so each row is atomic and its indexes exact (the whole batch is, in fact, one atomic
    call: the server runs nothing else meanwhile, which bounds a sensible ``batch_size``).
    Rows sharing a unique value (or a pk) are refused before anything is sent. A row refused by
    the server (a unique value already held) writes nothing; the batch's other rows stand, no
    later batch is sent, and BulkCreateError says which row failed and which pks were created.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    _refuse_shared_uniques(model, rows)
    template = templates.create_template(model)
    created: list[bytes] = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        args = list(template.head)
        for pk, values in batch:
            args += _create_row(template, pk, values)
        # A batch of one call: a pipeline at work refuses it (bulk_create cannot be queued).
        reply = scripts.CREATE.many(model.database, [(template.keys, args)])[0]
        if isinstance(reply, Exception):  # a command of the script failed (a key of the wrong type)
            raise BulkCreateError(f"{model.__name__}.bulk_create: Redis refused the batch of rows {start} to "
                                  f"{start + len(batch) - 1}: {scripts.error_reason(reply)}; rows of it before "
                                  f"the failing one may be written ({len(created)} created before it)",
                                  created=[model._decode_pk(pk) for pk in created])
        assert isinstance(reply, list)
        failures: list[str] = []
        for offset, answer in enumerate(reply):
            try:
                created.append(_created(model, template, answer))
            except (UniquenessError, CommandError) as exc:
                failures.append(f"row {start + offset}: {exc}")
        if failures:
            raise BulkCreateError(f"{model.__name__}.bulk_create: {len(failures)} row(s) not written "
                                  f"({len(created)} created): " + "; ".join(failures[:5]),
                                  created=[model._decode_pk(pk) for pk in created])
    return created


def _refuse_shared_uniques(model: type[Model[Any]], rows: Sequence[tuple[bytes | None, Stored]]) -> None:
    """Two rows of one bulk holding the same unique value (or pk): refused before anything is sent."""
    seen: dict[tuple[str, bytes], int] = {}
    pk_field = model._pk_field()
    for number, (pk, values) in enumerate(rows):
        held: list[tuple[Field[Any, Any, Any], bytes]] = [(pk_field, pk)] if pk is not None else []
        for field, stored in values.items():
            if field.options.unique:
                own = stored[1::2] if field.kind == "zset" else stored  # ZADD takes score, member pairs
                held += [(field, raw) for raw in own]
        for field, raw in held:
            first = seen.setdefault((field.name, field.index_value(raw)), number)
            if first != number:
                raise UniquenessError(f"{field.qualname}: rows {first} and {number} of bulk_create both hold "
                                      f"{shown(field.decode(raw))}; nothing was written")


DeletePlan = tuple[list["type[Model[Any]]"], list[scripts.ScriptArg]]


def _places(models: list[type[Model[Any]]]) -> list[tuple[object, ...] | None]:
    """Where each model's data lives (Database.location): what a plan's cross-database check read."""
    return [getattr(getattr(m, "database", None), "location", None) for m in models]


def _delete_plan(model: type[Model[Any]]) -> DeletePlan:
    """The models the delete script knows (the instance's model, then every model reached by the
    relations pointing to it: their instances may drop the pk, or be deleted in cascade) and the
    script's arguments describing them.

    Computing one walks the relations, a few microseconds of every delete: it is kept on the model
    with what it was computed from (the relations linked, where the models' data lives).
    """
    from . import relations

    cached: tuple[int, list[tuple[object, ...] | None], DeletePlan] | None = model.__dict__.get("_delete_plan")
    if cached is not None:
        generation, places, plan = cached
        if generation == relations.generation and places == _places(plan[0]):
            return plan
    generation = relations.generation
    plan = _new_delete_plan(model)  # raises, and caches nothing, when it cannot propagate
    setattr(model, "_delete_plan", (generation, _places(plan[0]), plan))  # noqa: B010 - not a declared attribute
    return plan


def _new_delete_plan(model: type[Model[Any]]) -> DeletePlan:
    from .relations import inbound

    order = [model]
    args: list[scripts.ScriptArg] = []
    i = 0
    while i < len(order):
        current = order[i]
        stored = _stored_fields(current)
        args += [current._keys.pks, len(stored)]
        for field in stored:
            args += [field.kind, field.key_prefix, field.slot, field.index_key, field.index_form]
        relations = inbound(current)
        foreign = [f for f in relations
                   if not one_place(getattr(f.model, "database", None), getattr(model, "database", None))]
        if foreign:
            raise ImplementationError(f"{foreign[0].qualname} points to {current.__name__} from another database: "
                                      f"a delete cannot propagate there; host both models on one database")
        args.append(len(relations))
        for field in relations:
            if field.model not in order:
                order.append(field.model)
            args += [order.index(field.model) + 1, _stored_fields(field.model).index(field) + 1, field.rel.on_delete]
        i += 1
    return order, [len(order), *args]


def _stored_fields(model: type[Model[Any]]) -> list[Field[Any, Any, Any]]:
    return [f for f in model._fields.values() if not f.is_pk]


def _delete_keys(model: type[Model[Any]], pk_key: str) -> list[str]:
    """The KEYS of the delete script: the pks set, the instance's data keys, its model's index keys."""
    pks, prefixes, index_keys = templates.per_model(model, "_delete_key_parts", _delete_key_parts)
    return [pks, *(prefix + pk_key for prefix in prefixes), *index_keys]


def _delete_key_parts(model: type[Model[Any]]) -> tuple[str, list[str], list[str]]:
    stored = _stored_fields(model)
    prefixes = list(dict.fromkeys(f.key_prefix for f in stored))  # InstanceHash fields share one key
    return model._keys.pks, prefixes, [f.index_key for f in stored if f.index_key]


def _deleted(plan: list[type[Model[Any]]], pk: bytes, reply: object) -> bool:
    """Whether the delete script deleted the instance (False: it did not exist)."""
    model = plan[0]
    if isinstance(reply, Exception):
        raise CommandError(f"{model.__name__}: Redis refused the delete: {scripts.error_reason(reply)}; "
                           f"nothing was deleted")
    assert isinstance(reply, list)
    if reply[0] == 1:
        return True
    if reply[1] == b"missing":
        return False
    _, _, source_pos, field_pos, held, referrer = reply
    source = plan[int(source_pos) - 1]
    field = _stored_fields(source)[int(field_pos) - 1]
    raise ProtectedError(
        f"{model.__name__} pk={model._decode_pk(pk)!r} was not deleted: {source.__name__} "
        f"pk={source._decode_pk(referrer)!r} points to {_target_name(field)} pk={field.decode(held)!r} "
        f"by {field.qualname} (on_delete='protect'); nothing was deleted"
    )


def _target_name(field: Field[Any, Any, Any]) -> str:
    from .fields.related import RelationField

    return field.target.__name__ if isinstance(field, RelationField) else "?"


def delete_instance(instance: Model[Any]) -> None:
    """Delete an instance: its keys, its index entries, and what its relations say (one script)."""
    model = type(instance)
    plan, args = _delete_plan(model)
    try:
        reply = scripts.DELETE(instance.database, _delete_keys(model, instance._pk_key), [instance._pk_bytes, *args])
    except ResponseError as exc:  # the script reads everything before its first write
        reply = exc
    if not _deleted(plan, instance._pk_bytes, reply):
        raise DoesNotExist(f"{model.__name__} pk={instance.pk_value!r} does not exist (deleted already?)")


def delete_instances(model: type[Model[Any]], pks: Sequence[bytes]) -> int:
    """Delete many instances, each in its own atomic script, all in one pipelined round trip.

    Returns how many existed (an instance deleted meanwhile by another client is skipped). An
    instance refused by a protected relation is not deleted; the others of the batch are, and the
    ProtectedError raised at the end says how many.
    """
    plan, args = _delete_plan(model)
    replies_ = scripts.DELETE.many(model.database, [(_delete_keys(model, escape_part(pk)), [pk, *args]) for pk in pks])
    deleted, refused = 0, None
    for pk, reply in zip(pks, replies_):
        try:
            deleted += _deleted(plan, pk, reply)
        except ProtectedError as exc:
            refused = refused or exc
    if refused is not None:
        raise ProtectedError(refused.reason, deleted, "instance(s) of this batch")
    return deleted
