from limpyd_typed import Database, InstanceHash, Model, Set, String, UniquenessError, field

db = Database.embedded()  # a private server for this run; Database() connects to REDIS_URL or localhost


class Bike(Model):
    database = db
    name: InstanceHash[str] = field(indexable=True, unique=True)
    color: InstanceHash[str | None] = field(default=None)
    wheels: String[int] = field(default=2)
    tags: Set[str] = field(indexable=True, default=())


bike = Bike(name="mountainbike", tags={"offroad"})  # written at once: one atomic script
assert bike.wheels.get() == 2  # int, decoded by the field's type
assert bike.wheels.incr() == 3  # INCRBY; `bike.name.incr()` would be a mypy error
bike.name.hset("tricycle")  # HSET, and the unique index follows in the same script

tricycle = Bike.collection(Bike.name == "tricycle").instances()[0]
assert tricycle == bike and tricycle.wheels.get() == 3
assert list(Bike.collection(tags="offroad")) == [bike.pk.get()]

try:
    Bike(name="tricycle")
except UniquenessError as error:
    print(error)  # Bike.name: value 'tricycle' is already held by Bike pk=1; nothing was written

tricycle.hmset(color="blue")
assert tricycle.hmget("color", "name") == ["blue", "tricycle"]
tricycle.delete()  # every key and index entry, atomically
assert len(Bike.collection()) == 0
db.close()
