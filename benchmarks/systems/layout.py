"""The key layout of the two floors written by hand: the least a person store needs.

``b:obj:<pk>`` hash of the values, ``b:pks`` set of pks, ``b:name`` hash name -> pk (unique),
``b:city:<city>`` set of pks, ``b:age`` sorted set of pks scored by age, ``b:next`` pk counter.
The GeoNames rows: ``g:obj:<id>``, ``g:pks``, ``g:name:<name>``, ``g:cc:<code>`` sets, ``g:pop`` zset.
"""

from __future__ import annotations

from ..common import CityRow, PersonRow, Values

OBJ = "b:obj:"
PKS = "b:pks"
NAMES = "b:name"
CITY = "b:city:"
AGE = "b:age"
NEXT = "b:next"
FIELDS = ("name", "city", "age", "email", "score")

G_OBJ = "g:obj:"
G_PKS = "g:pks"
G_NAME = "g:name:"
G_CC = "g:cc:"
G_POP = "g:pop"


def mapping(row: PersonRow) -> dict[str, str]:
    return {"name": row.name, "city": row.city, "age": str(row.age), "email": row.email, "score": repr(row.score)}


def city_mapping(row: CityRow) -> dict[str, str]:
    return {"name": row.name, "country_code": row.country_code, "population": str(row.population),
            "latitude": repr(row.latitude), "longitude": repr(row.longitude), "timezone": row.timezone}


def decoded(raw: list[bytes | None]) -> Values:
    """(name, city, age, email, score) from the raw HMGET values, typed as limpyd_typed gives them."""
    name, city, age, email, score = raw
    return (
        None if name is None else name.decode(),
        None if city is None else city.decode(),
        None if age is None else int(age),
        None if email is None else email.decode(),
        None if score is None else float(score),
    )
