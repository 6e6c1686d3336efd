"""Open-Meteo emulation: `GET /v1/search` (geocoding) and `GET /v1/forecast` (current weather)."""

import math
import zlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from multidict import MultiMapping

from . import cities

CURRENT_UNITS = {
    "temperature_2m": "°C",
    "relative_humidity_2m": "%",
    "apparent_temperature": "°C",
    "is_day": "",
    "precipitation": "mm",
    "rain": "mm",
    "showers": "mm",
    "snowfall": "cm",
    "weather_code": "wmo code",
    "cloud_cover": "%",
    "pressure_msl": "hPa",
    "surface_pressure": "hPa",
    "wind_speed_10m": "km/h",
    "wind_direction_10m": "°",
    "wind_gusts_10m": "km/h",
}
WIND_UNITS = {
    "kmh": ("km/h", 1.0),
    "ms": ("m/s", 1 / 3.6),
    "mph": ("mp/h", 1 / 1.609344),
    "kn": ("kn", 1 / 1.852),
}
_WEATHER_CODES = (0, 1, 2, 3, 45, 51, 61, 63, 80, 95, 71)
_CLOUD_COVER = {0: 3, 1: 22, 2: 51, 3: 96, 45: 100, 51: 88, 61: 93, 63: 100, 80: 84, 95: 100, 71: 98}


class OpenMeteoError(Exception):
    """An Open-Meteo 400 answer: `{"error": true, "reason": ...}`."""

    def response(self) -> web.Response:
        """Return the upstream-shaped error response."""
        return web.json_response({"error": True, "reason": str(self)}, status=400)


def geocode(query: MultiMapping[str]) -> dict:
    """Answer a geocoding search from the bundled city table, in Open-Meteo's JSON shape."""
    name = query.get("name")
    if name is None:
        raise OpenMeteoError("Parameter 'name' is required")
    count = _integer(query, "count", 10)
    if not 1 <= count <= 100:
        raise OpenMeteoError("Parameter 'count' must be between 1 and 100")
    if query.get("format", "json") != "json":
        raise OpenMeteoError("Only format 'json' is supported by the local emulator")
    found = cities.search(name, count) if len(name.strip()) >= 2 else []
    body: dict = {}
    if found:
        body["results"] = [_city_json(city) for city in found]
    body["generationtime_ms"] = round(0.3 + 0.05 * len(found), 6)
    return body


def _city_json(city: cities.City) -> dict:
    result = {
        "id": city.id,
        "name": city.name,
        "latitude": city.latitude,
        "longitude": city.longitude,
        "elevation": float(city.elevation),
        "feature_code": city.feature_code,
        "country_code": city.country_code,
        "timezone": city.timezone,
        "population": city.population,
        "country": city.country,
    }
    if city.admin1:
        result["admin1"] = city.admin1
    return result


def forecast(query: MultiMapping[str], now: datetime | None = None) -> dict | list:
    """Answer a forecast request with deterministic `current` values for each location."""
    latitudes = _floats(query, "latitude")
    longitudes = _floats(query, "longitude")
    if len(latitudes) != len(longitudes):
        raise OpenMeteoError("Parameter 'latitude' and 'longitude' must have the same number of elements")
    for latitude in latitudes:
        if not -90 <= latitude <= 90:
            raise OpenMeteoError(f"Latitude must be in range of -90 to 90°. Given: {latitude}.")
    for longitude in longitudes:
        if not -180 <= longitude <= 180:
            raise OpenMeteoError(f"Longitude must be in range of -180 to 180°. Given: {longitude}.")
    variables = [v for v in ",".join(query.getall("current", [])).split(",") if v]
    for variable in variables:
        if variable not in CURRENT_UNITS:
            raise OpenMeteoError(
                f"Cannot initialize ForecastVariable from invalid String value {variable} for key current"
            )
    fahrenheit = query.get("temperature_unit", "celsius") == "fahrenheit"
    wind_unit = query.get("wind_speed_unit", "kmh")
    if wind_unit not in WIND_UNITS:
        raise OpenMeteoError(
            f"Cannot initialize WindspeedUnit from invalid String value {wind_unit} for key wind_speed_unit"
        )
    inches = query.get("precipitation_unit", "mm") == "inch"
    now = now or datetime.now(UTC)
    answers = [
        _location(lat, lon, query.get("timezone", "GMT"), variables, now, fahrenheit, wind_unit, inches)
        for lat, lon in zip(latitudes, longitudes, strict=True)
    ]
    return answers[0] if len(answers) == 1 else answers


def _location(
    latitude: float,
    longitude: float,
    timezone: str,
    variables: list[str],
    now: datetime,
    fahrenheit: bool,
    wind_unit: str,
    inches: bool,
) -> dict:
    near = cities.nearest(latitude, longitude, max_degrees=0.5)
    zone = _zone(timezone, near)
    local = now.astimezone(zone).replace(second=0, microsecond=0)
    local = local.replace(minute=local.minute - local.minute % 15)
    offset = int(local.utcoffset().total_seconds())
    values = _values(latitude, longitude, near, local.hour)
    units = dict(CURRENT_UNITS)
    if fahrenheit:
        units["temperature_2m"] = units["apparent_temperature"] = "°F"
        for key in ("temperature_2m", "apparent_temperature"):
            values[key] = round(values[key] * 9 / 5 + 32, 1)
    label, factor = WIND_UNITS[wind_unit]
    for key in ("wind_speed_10m", "wind_gusts_10m"):
        units[key] = label
        values[key] = round(values[key] * factor, 1)
    if inches:
        for key in ("precipitation", "rain", "showers"):
            units[key] = "inch"
            values[key] = round(values[key] / 25.4, 3)
        units["snowfall"] = "inch"
        values["snowfall"] = round(values["snowfall"] / 2.54, 3)
    body = {
        "latitude": round(round(latitude / 0.02) * 0.02, 4),
        "longitude": round(round(longitude / 0.02) * 0.02, 4),
        "generationtime_ms": round(0.02 + (_seed(latitude, longitude) % 50) / 1000, 6),
        "utc_offset_seconds": offset,
        "timezone": zone.key if zone.key != "UTC" else "GMT",
        "timezone_abbreviation": _abbreviation(offset),
        "elevation": float(near.elevation if near else 50),
    }
    if variables:
        body["current_units"] = {"time": "iso8601", "interval": "seconds"} | {v: units[v] for v in variables}
        body["current"] = {"time": local.strftime("%Y-%m-%dT%H:%M"), "interval": 900} | {
            v: values[v] for v in variables
        }
    return body


def _values(latitude: float, longitude: float, near: cities.City | None, hour: int) -> dict:
    """Weather derived from the coordinates only, so tests can predict it."""
    seed = _seed(latitude, longitude)
    temperature = round(28 - 0.45 * abs(latitude) + (seed % 90) / 10 - 4.5, 1)
    codes = _WEATHER_CODES if temperature < 2 else _WEATHER_CODES[:-1]
    code = codes[seed % len(codes)]
    wet = code in (51, 61, 63, 80, 95)
    wind = round(4 + (seed // 7) % 25 + ((seed // 3) % 10) / 10, 1)
    pressure = round(1000 + (seed // 11) % 30 + ((seed // 5) % 10) / 10, 1)
    elevation = near.elevation if near else 50
    return {
        "temperature_2m": temperature,
        "relative_humidity_2m": 45 + (seed // 13) % 50,
        "apparent_temperature": round(temperature - 1.2 - wind / 20, 1),
        "is_day": int(7 <= hour < 19),
        "precipitation": 0.6 if wet else 0.0,
        "rain": 0.6 if code in (51, 61, 63, 95) else 0.0,
        "showers": 0.6 if code == 80 else 0.0,
        "snowfall": 0.35 if code == 71 else 0.0,
        "weather_code": code,
        "cloud_cover": _CLOUD_COVER[code],
        "pressure_msl": pressure,
        "surface_pressure": round(pressure - elevation / 8.3, 1),
        "wind_speed_10m": wind,
        "wind_direction_10m": (seed // 17) % 360,
        "wind_gusts_10m": round(wind * 1.9, 1),
    }


def _seed(latitude: float, longitude: float) -> int:
    return zlib.crc32(f"{latitude:.2f},{longitude:.2f}".encode())


def _zone(timezone: str, near: cities.City | None) -> ZoneInfo:
    if timezone == "auto":
        return ZoneInfo(near.timezone) if near else ZoneInfo("UTC")
    if timezone in ("GMT", "UTC"):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise OpenMeteoError(f"Invalid timezone '{timezone}'") from None


def _abbreviation(offset: int) -> str:
    if offset == 0:
        return "GMT"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"GMT{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def _floats(query: MultiMapping[str], key: str) -> list[float]:
    raw = query.get(key)
    if raw is None:
        raise OpenMeteoError(f"Value of type 'String' required for key '{key}'.")
    try:
        values = [float(part) for part in raw.split(",")]
    except ValueError:
        raise OpenMeteoError(f"Value of type 'Float' required for key '{key}'. Given: {raw}.") from None
    if not all(math.isfinite(v) for v in values):
        raise OpenMeteoError(f"Value of type 'Float' required for key '{key}'. Given: {raw}.")
    return values


def _integer(query: MultiMapping[str], key: str, default: int) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise OpenMeteoError(f"Value of type 'Int' required for key '{key}'. Given: {raw}.") from None


async def search_view(request: web.Request) -> web.Response:
    """GET /v1/search — Open-Meteo geocoding."""
    try:
        return web.json_response(geocode(request.query))
    except OpenMeteoError as error:
        return error.response()


async def forecast_view(request: web.Request) -> web.Response:
    """GET /v1/forecast — Open-Meteo current conditions."""
    try:
        return web.json_response(forecast(request.query))
    except OpenMeteoError as error:
        return error.response()
