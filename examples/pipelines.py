from limpyd_typed import Database, InstanceHash, Model, Pipeline, PipelineError, String, UniquenessError, field

db = Database.embedded()


class Person(Model):
    database = db
    name: InstanceHash[str] = field(unique=True)
    city: InstanceHash[str | None] = field(indexable=True, default=None)
    hits: String[int] = field(default=0)


for name, city in [("Jean", "Paris"), ("Francois", "Paris"), ("John", "New York"), ("Paul", "Paris")]:
    Person(name=name, city=city)

parisians = list(Person.collection(city="Paris").instances())  # read before: inside, commands are queued
with db.pipeline() as p:  # everything queued is sent at the end of the block: one round trip
    names = [p.call(person.name.get) for person in parisians]  # list[Deferred[str | None]]
    hits = p.call(parisians[0].hits.incr, 5)  # Deferred[int]
    moved = p.call(parisians[1].city.hset, "Lyon")  # an indexed write: its atomic script, queued
    paul = p.call(Person, name="Paula", city="Lyon")  # Deferred[Person]
assert [n.value for n in names] == ["Jean", "Francois", "Paul"]
assert hits.value == 5 and paul.value.city.get() == "Lyon"
assert list(Person.collection(city="Lyon")) == [2, 5]  # the index followed both writes

p = db.pipeline(transaction=False)  # no MULTI/EXEC around the commands
clash = p.call(parisians[2].name.hset, "Jean")
try:
    clash.value  # read before the pipeline ran
except PipelineError as error:
    print(error)  # Person.name.hset() of pk=4: no value yet, its pipeline has not run (...)
results = p.execute(raise_on_error=False)  # errors in place of values (by default: raised)
assert isinstance(results[0], UniquenessError) and parisians[2].name.get() == "Paul"  # nothing written


def add_hit(pipeline: Pipeline) -> None:
    current = parisians[0].hits.get()  # before multi(): read at once, on the WATCHing connection
    pipeline.multi()
    pipeline.call(parisians[0].hits.set, (current or 0) + 1)  # queued, sent by EXEC


assert db.transaction(add_hit, parisians[0].hits) == [True]  # run again if hits changed meanwhile
assert parisians[0].hits.get() == 6
db.close()
