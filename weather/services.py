"""Current weather for a place name from Open-Meteo: geocode, then forecast, both cached."""

import hashlib
import logging
import unicodedata
from datetime import datetime, timedelta, timezone

from django.conf import settings
from django.core.cache import cache
from rest_framework import status

from core import http
from core.errors import ServiceError, UpstreamError

logger = logging.getLogger(__name__)

SERVICE = "weather service"
PLACE_TTL = 24 * 60 * 60
# Open-Meteo refreshes "current" values every 15 minutes.
CURRENT_TTL = 10 * 60

# Open-Meteo variable name -> our field name.
CURRENT_FIELDS = {
    "temperature_2m": "temperature",
    "apparent_temperature": "apparent_temperature",
    "relative_humidity_2m": "humidity",
    "wind_speed_10m": "wind_speed",
}

# WMO weather interpretation codes, as documented at https://open-meteo.com/en/docs
WMO_CODES = {
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "rime fog",
    51: "light drizzle",
    53: "moderate drizzle",
    55: "dense drizzle",
    56: "light freezing drizzle",
    57: "dense freezing drizzle",
    61: "light rain",
    63: "moderate rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "light snowfall",
    73: "moderate snowfall",
    75: "heavy snowfall",
    77: "snow grains",
    80: "light rain showers",
    81: "moderate rain showers",
    82: "violent rain showers",
    85: "light snow showers",
    86: "heavy snow showers",
    95: "thunderstorm",
    96: "thunderstorm with light hail",
    99: "thunderstorm with heavy hail",
}
UNKNOWN_CONDITIONS = "unknown conditions"


class LocationNotFound(ServiceError):
    status_code = status.HTTP_404_NOT_FOUND


def current_weather(*, location: str, language: str = "en") -> dict:
    """Return the current weather at the best match for `location`.

    Raises LocationNotFound when nothing matches, UpstreamError when Open-Meteo fails or times out.
    """
    place = _place(location, language)
    if not place:
        raise LocationNotFound(
            f"I could not find a place called “{location}”. Try a nearby city, or add the country."
        )
    return {**place, **_current(place["latitude"], place["longitude"])}


def _place(location: str, language: str) -> dict:
    normalised = " ".join(unicodedata.normalize("NFKC", location).casefold().split())
    # A hash keeps the key short and free of spaces and control characters (memcached and
    # Redis key rules), whatever the user typed.
    digest = hashlib.sha256(f"{language}\n{normalised}".encode()).hexdigest()
    key = f"weather:place:{digest}"
    place = cache.get(key)
    if place is None:
        body = _get_json(
            settings.OPEN_METEO_GEOCODING_URL,
            params={"name": location, "count": 1, "language": language, "format": "json"},
        )
        # No match is an empty dict, cached too: the assistant tends to ask again.
        place = _read_place(body["results"][0]) if body.get("results") else {}
        cache.set(key, place, PLACE_TTL)
    return place


def _current(latitude: float, longitude: float) -> dict:
    key = f"weather:current:{latitude:.4f},{longitude:.4f}"
    current = cache.get(key)
    if current is None:
        body = _get_json(
            settings.OPEN_METEO_FORECAST_URL,
            params={
                "latitude": latitude,
                "longitude": longitude,
                "current": ",".join([*CURRENT_FIELDS, "weather_code"]),
                "timezone": "auto",
            },
        )
        current = _read_current(body)
        cache.set(key, current, CURRENT_TTL)
    return current


def _get_json(url: str, *, params: dict) -> dict:
    response = http.send("GET", url, service=SERVICE, params=params)
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        # Open-Meteo explains a refused request in "reason" (usually with a 400).
        logger.warning("%s refused the request: %.200s", SERVICE, body.get("reason"))
        raise UpstreamError(f"The {SERVICE} could not answer this question. Please try again later.")
    if response.status_code >= 400 or not isinstance(body, dict):
        raise UpstreamError(f"The {SERVICE} is not working right now. Please try again later.")
    return body


def _read_place(result: dict) -> dict:
    parts = []
    for part in (result.get("name"), result.get("admin1"), result.get("country")):
        if part and part not in parts:
            parts.append(part)
    return {"location": ", ".join(parts), "latitude": result["latitude"], "longitude": result["longitude"]}


def _read_current(body: dict) -> dict:
    try:
        values, units = body["current"], body["current_units"]
        offset = timezone(timedelta(seconds=body.get("utc_offset_seconds", 0)))
        observed_at = datetime.fromisoformat(values["time"]).replace(tzinfo=offset)
    except (KeyError, TypeError, ValueError):
        logger.warning("%s sent a forecast without current values", SERVICE)
        raise UpstreamError(
            f"The {SERVICE} sent an answer I could not read. Please try again later."
        ) from None
    return {
        **{ours: values.get(theirs) for theirs, ours in CURRENT_FIELDS.items()},
        "conditions": WMO_CODES.get(values.get("weather_code"), UNKNOWN_CONDITIONS),
        "units": {ours: units.get(theirs, "") for theirs, ours in CURRENT_FIELDS.items()},
        "observed_at": observed_at.isoformat(),
    }
