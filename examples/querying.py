from datetime import date

from limpyd_typed import Database, InstanceHash, Model, QueryError, Set, field

db = Database.embedded()


class Person(Model):
    database = db
    name: InstanceHash[str] = field(index="text")  # ==, in_, <, <=, >, >=, startswith (byte order)
    age: InstanceHash[int] = field(index="range")  # ==, in_, <, <=, >, >=, between (by value)
    city: InstanceHash[str | None] = field(indexable=True, default=None)  # ==, in_
    born: InstanceHash[date | None] = field(index="range", default=None)
    tags: Set[str] = field(indexable=True, default=())  # holds the value among others


Person(name="John", age=34, city="Paris", born=date(1990, 5, 1), tags={"admin"})
Person(name="Joan", age=28, city="Rome", born=date(1996, 2, 3))
Person(name="Ann", age=45, city="Paris", tags={"admin", "ops"})
Person(name="Bob", age=19)

adults_in_paris = Person.collection(Person.age >= 30, Person.city == "Paris")  # conditions are ANDed
assert list(adults_in_paris) == [1, 3]  # pks, typed int
assert list(Person.collection((Person.city == "Rome") | ~Person.tags.in_(["admin"]))) == [2, 4]
assert list(Person.collection(Person.name.startswith("Jo")).values_list(Person.name, flat=True)) == ["John", "Joan"]
assert list(Person.collection(age__between=(20, 40), city__in=["Paris", "Rome"])) == [1, 2]  # seed-style keywords

oldest_first = Person.collection().sort(by="-age")
rows = list(oldest_first.values_list(Person.name, Person.age))  # list[tuple[str | None, int | None]]
assert rows[:2] == [("Ann", 45), ("John", 34)]
assert oldest_first.instances()[0].name.get() == "Ann"
assert Person.collection().values_list(Person.name, Person.age).get(3) == ("Ann", 45)  # by pk: one round trip
assert Person.collection(Person.born < date(1995, 1, 1)).values("name")[0] == {"name": "John"}
assert Person.collection(city="Paris").count() == 2 and Person.collection(city="Oslo").first() is None

try:
    Person.collection(Person.city.startswith("Pa"))  # city's index answers equality only
except QueryError as error:
    print(error)  # Person.city startswith: needs a text index, field(index='text') on a str or bytes field

assert Person.collection(Person.age < 20).delete() == 1  # each instance deleted atomically, indexes included
db.close()
