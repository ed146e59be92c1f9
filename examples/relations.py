from __future__ import annotations

from typing import ClassVar

from limpyd_typed import FK, M2M, Database, InstanceHash, Model, ProtectedError, Related, field, relation

db = Database.embedded()


class Person(Model):
    database = db
    name: InstanceHash[str] = field(unique=True)
    # Reverse accessors are added by the relations; declaring them types them.
    owned_groups: ClassVar[Related[Group]]
    membership: ClassVar[Related[Group]]


class Group(Model):
    database = db
    name: InstanceHash[str] = field(indexable=True)
    private: InstanceHash[bool] = field(default=False, indexable=True)
    owner: FK[Person] = relation(default=None, related_name="owned_groups", on_delete="protect")
    members: M2M[Person] = relation(default=(), related_name="membership")  # a Redis set of pks
    parent: FK[Group] = relation(to="self", default=None, related_name="subgroups", on_delete="cascade")


ybon, twidi = Person(name="ybon"), Person(name="twidi")
core = Group(name="core devs", owner=ybon)
core.members.sadd(twidi, ybon.pk.get())  # instances or pks
Group(name="secret", private=True, owner=ybon, parent=core)

assert core.owner.instance() == ybon  # Person | None
assert core.members.smembers() == {1, 2}  # set[int]: Person's pks
assert list(ybon.owned_groups(private=True)) == [2]  # a Collection[Group, int]: filter, sort, values...
assert list(twidi.membership().values_list(Group.name, flat=True)) == ["core devs"]
assert list(core.members().filter(Person.name == "twidi")) == [2]  # an M2M is a collection of Person too

twidi.delete()  # removed from every M2M holding it, with the indexes, in the same script
assert core.members.smembers() == {1}

try:
    ybon.delete()  # owner is on_delete="protect"
except ProtectedError as error:
    print(error)  # Person pk=1 was not deleted: Group pk=1 points to Person pk=1 by Group.owner (...)
core.delete()  # parent is on_delete="cascade": the subgroup goes too
assert Group.collection().count() == 0
ybon.delete()
