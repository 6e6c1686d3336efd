"""Bundled table of real cities for the Open-Meteo geocoding emulation (GeoNames data)."""

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """One geocoding result, with the fields Open-Meteo returns."""

    id: int
    name: str
    latitude: float
    longitude: float
    elevation: float
    feature_code: str
    country_code: str
    admin1: str | None
    country: str
    timezone: str
    population: int


def fold(text: str) -> str:
    """Lower-case `text` and strip accents, for accent-insensitive matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


US, GB, DE, CA = "United States", "United Kingdom", "Germany", "Canada"

CITIES: tuple[City, ...] = tuple(
    City(*row)
    for row in (
        (2988507, "Paris", 48.85341, 2.3488, 42, "PPLC", "FR", "Île-de-France", "France", "Europe/Paris", 2138551),
        (4717560, "Paris", 33.66094, -95.55551, 180, "PPLA2", "US", "Texas", US, "America/Chicago", 24782),
        (2950159, "Berlin", 52.52437, 13.41053, 74, "PPLC", "DE", "Land Berlin", DE, "Europe/Berlin", 3426354),
        (2643743, "London", 51.50853, -0.12574, 25, "PPLC", "GB", "England", GB, "Europe/London", 8961989),
        (6058560, "London", 42.98339, -81.23304, 252, "PPL", "CA", "Ontario", CA, "America/Toronto", 346765),
        (2759794, "Amsterdam", 52.37403, 4.88969, 13, "PPLC", "NL", "North Holland", "Netherlands", "Europe/Amsterdam", 741636),
        (3117735, "Madrid", 40.4165, -3.70256, 665, "PPLC", "ES", "Madrid", "Spain", "Europe/Madrid", 3255944),
        (3128760, "Barcelona", 41.38879, 2.15899, 47, "PPLA", "ES", "Catalonia", "Spain", "Europe/Madrid", 1620343),
        (3169070, "Rome", 41.89193, 12.51133, 20, "PPLC", "IT", "Lazio", "Italy", "Europe/Rome", 2318895),
        (3173435, "Milan", 45.46427, 9.18951, 122, "PPLA", "IT", "Lombardy", "Italy", "Europe/Rome", 1371498),
        (2761369, "Vienna", 48.20849, 16.37208, 171, "PPLC", "AT", "Vienna", "Austria", "Europe/Vienna", 1691468),
        (3143244, "Oslo", 59.91273, 10.74609, 26, "PPLC", "NO", "Oslo", "Norway", "Europe/Oslo", 580000),
        (2673730, "Stockholm", 59.32938, 18.06871, 17, "PPLC", "SE", "Stockholm", "Sweden", "Europe/Stockholm", 1515017),
        (2618425, "Copenhagen", 55.67594, 12.56553, 14, "PPLC", "DK", "Capital Region", "Denmark", "Europe/Copenhagen", 1153615),
        (658225, "Helsinki", 60.16952, 24.93545, 26, "PPLC", "FI", "Uusimaa", "Finland", "Europe/Helsinki", 558457),
        (3413829, "Reykjavík", 64.13548, -21.89541, 17, "PPLC", "IS", "Capital Region", "Iceland", "Atlantic/Reykjavik", 118918),
        (2964574, "Dublin", 53.33306, -6.24889, 17, "PPLC", "IE", "Leinster", "Ireland", "Europe/Dublin", 1024027),
        (2650225, "Edinburgh", 55.95206, -3.19648, 47, "PPLA", "GB", "Scotland", GB, "Europe/London", 464990),
        (2643123, "Manchester", 53.48095, -2.23743, 38, "PPLA2", "GB", "England", GB, "Europe/London", 395515),
        (2267057, "Lisbon", 38.71667, -9.13333, 45, "PPLC", "PT", "Lisbon", "Portugal", "Europe/Lisbon", 517802),
        (2800866, "Brussels", 50.85045, 4.34878, 28, "PPLC", "BE", "Brussels Capital", "Belgium", "Europe/Brussels", 1019022),
        (2657896, "Zürich", 47.36667, 8.55, 413, "PPLA", "CH", "Zurich", "Switzerland", "Europe/Zurich", 341730),
        (2661552, "Bern", 46.94809, 7.44744, 542, "PPLC", "CH", "Bern", "Switzerland", "Europe/Zurich", 121631),
        (2660646, "Geneva", 46.20222, 6.14569, 375, "PPLA", "CH", "Geneva", "Switzerland", "Europe/Zurich", 183981),
        (2867714, "Munich", 48.13743, 11.57549, 524, "PPLA", "DE", "Bavaria", DE, "Europe/Berlin", 1260391),
        (2911298, "Hamburg", 53.57532, 10.01534, 10, "PPLA", "DE", "Hamburg", DE, "Europe/Berlin", 1739117),
        (2886242, "Cologne", 50.93333, 6.95, 56, "PPLA2", "DE", "North Rhine-Westphalia", DE, "Europe/Berlin", 963395),
        (3067696, "Prague", 50.08804, 14.42076, 202, "PPLC", "CZ", "Prague", "Czechia", "Europe/Prague", 1165581),
        (756135, "Warsaw", 52.22977, 21.01178, 113, "PPLC", "PL", "Masovia", "Poland", "Europe/Warsaw", 1702139),
        (3094802, "Kraków", 50.06143, 19.93658, 219, "PPLA", "PL", "Lesser Poland", "Poland", "Europe/Warsaw", 755050),
        (3054643, "Budapest", 47.49835, 19.04045, 104, "PPLC", "HU", "Budapest", "Hungary", "Europe/Budapest", 1741041),
        (264371, "Athens", 37.98376, 23.72784, 70, "PPLC", "GR", "Attica", "Greece", "Europe/Athens", 664046),
        (745044, "Istanbul", 41.01384, 28.94966, 39, "PPLA", "TR", "Istanbul", "Türkiye", "Europe/Istanbul", 14804116),
        (703448, "Kyiv", 50.45466, 30.5238, 187, "PPLC", "UA", "Kyiv City", "Ukraine", "Europe/Kyiv", 2797553),
        (524901, "Moscow", 55.75222, 37.61556, 144, "PPLC", "RU", "Moscow", "Russia", "Europe/Moscow", 10381222),
        (5128581, "New York", 40.71427, -74.00597, 10, "PPL", "US", "New York", US, "America/New_York", 8804190),
        (4930956, "Boston", 42.35843, -71.05977, 14, "PPLA", "US", "Massachusetts", US, "America/New_York", 675647),
        (4164138, "Miami", 25.77427, -80.19366, 2, "PPLA2", "US", "Florida", US, "America/New_York", 442241),
        (4887398, "Chicago", 41.85003, -87.65005, 179, "PPLA2", "US", "Illinois", US, "America/Chicago", 2746388),
        (4671654, "Austin", 30.26715, -97.74306, 149, "PPLA", "US", "Texas", US, "America/Chicago", 961855),
        (5419384, "Denver", 39.73915, -104.9847, 1609, "PPLA", "US", "Colorado", US, "America/Denver", 715522),
        (5368361, "Los Angeles", 34.05223, -118.24368, 89, "PPLA2", "US", "California", US, "America/Los_Angeles", 3898747),
        (5391959, "San Francisco", 37.77493, -122.41942, 16, "PPLA2", "US", "California", US, "America/Los_Angeles", 864816),
        (5809844, "Seattle", 47.60621, -122.33207, 56, "PPLA2", "US", "Washington", US, "America/Los_Angeles", 749256),
        (6167865, "Toronto", 43.70011, -79.4163, 175, "PPLA", "CA", "Ontario", CA, "America/Toronto", 2731571),
        (6077243, "Montréal", 45.50884, -73.58781, 216, "PPL", "CA", "Quebec", CA, "America/Toronto", 1762949),
        (6173331, "Vancouver", 49.24966, -123.11934, 70, "PPL", "CA", "British Columbia", CA, "America/Vancouver", 631486),
        (3530597, "Mexico City", 19.42847, -99.12766, 2240, "PPLC", "MX", "Mexico City", "Mexico", "America/Mexico_City", 12294193),
        (3688689, "Bogotá", 4.60971, -74.08175, 2582, "PPLC", "CO", "Bogota D.C.", "Colombia", "America/Bogota", 7674366),
        (3936456, "Lima", -12.04318, -77.02824, 154, "PPLC", "PE", "Lima", "Peru", "America/Lima", 7737002),
        (3448439, "São Paulo", -23.5475, -46.63611, 769, "PPLA", "BR", "São Paulo", "Brazil", "America/Sao_Paulo", 10021295),
        (3451190, "Rio de Janeiro", -22.90642, -43.18223, 8, "PPLA", "BR", "Rio de Janeiro", "Brazil", "America/Sao_Paulo", 6023699),
        (3435910, "Buenos Aires", -34.61315, -58.37723, 25, "PPLC", "AR", "Buenos Aires F.D.", "Argentina", "America/Argentina/Buenos_Aires", 13076300),
        (360630, "Cairo", 30.06263, 31.24967, 23, "PPLC", "EG", "Cairo", "Egypt", "Africa/Cairo", 9606916),
        (2332459, "Lagos", 6.45407, 3.39467, 41, "PPLA2", "NG", "Lagos", "Nigeria", "Africa/Lagos", 9000000),
        (184745, "Nairobi", -1.28333, 36.81667, 1661, "PPLC", "KE", "Nairobi County", "Kenya", "Africa/Nairobi", 2750547),
        (3369157, "Cape Town", -33.92584, 18.42322, 25, "PPLA", "ZA", "Western Cape", "South Africa", "Africa/Johannesburg", 3433441),
        (292223, "Dubai", 25.07725, 55.30927, 5, "PPLA", "AE", "Dubai", "United Arab Emirates", "Asia/Dubai", 3790000),
        (1275339, "Mumbai", 19.07283, 72.88261, 14, "PPLA", "IN", "Maharashtra", "India", "Asia/Kolkata", 12691836),
        (1273294, "Delhi", 28.65195, 77.23149, 227, "PPLA", "IN", "Delhi", "India", "Asia/Kolkata", 11034555),
        (1609350, "Bangkok", 13.75398, 100.50144, 4, "PPLC", "TH", "Bangkok", "Thailand", "Asia/Bangkok", 5104476),
        (1880252, "Singapore", 1.28967, 103.85007, 15, "PPLC", "SG", None, "Singapore", "Asia/Singapore", 3547809),
        (1642911, "Jakarta", -6.21462, 106.84513, 8, "PPLC", "ID", "Jakarta", "Indonesia", "Asia/Jakarta", 8540121),
        (1819729, "Hong Kong", 22.27832, 114.17469, 7, "PPLC", "HK", None, "Hong Kong", "Asia/Hong_Kong", 7396076),
        (1816670, "Beijing", 39.9075, 116.39723, 49, "PPLC", "CN", "Beijing", "China", "Asia/Shanghai", 18960744),
        (1835848, "Seoul", 37.566, 126.9784, 38, "PPLC", "KR", "Seoul", "South Korea", "Asia/Seoul", 10349312),
        (1850147, "Tokyo", 35.6895, 139.69171, 44, "PPLC", "JP", "Tokyo", "Japan", "Asia/Tokyo", 9733276),
        (2147714, "Sydney", -33.86785, 151.20732, 58, "PPLA", "AU", "New South Wales", "Australia", "Australia/Sydney", 4627345),
        (2158177, "Melbourne", -37.814, 144.96332, 31, "PPLA", "AU", "Victoria", "Australia", "Australia/Melbourne", 4246375),
        (2193733, "Auckland", -36.84853, 174.76349, 26, "PPLA", "NZ", "Auckland", "New Zealand", "Pacific/Auckland", 417910),
    )
)  # fmt: skip


def search(name: str, count: int = 10) -> list[City]:
    """Return up to `count` cities whose name starts with `name`, most populous first."""
    query = fold(name).strip()
    matches = [city for city in CITIES if fold(city.name).startswith(query)]
    matches.sort(key=lambda city: (fold(city.name) != query, -city.population))
    return matches[:count]


def nearest(latitude: float, longitude: float, max_degrees: float = 1.0) -> City | None:
    """Return the bundled city closest to a point, if one lies within `max_degrees`."""
    best = min(CITIES, key=lambda c: (c.latitude - latitude) ** 2 + (c.longitude - longitude) ** 2)
    distance = ((best.latitude - latitude) ** 2 + (best.longitude - longitude) ** 2) ** 0.5
    return best if distance <= max_degrees else None
