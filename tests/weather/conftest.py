"""Open-Meteo faked at the HTTP boundary (respx), answering with payloads shaped like the real ones."""

from types import SimpleNamespace

import pytest

GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"

AMSTERDAM = {
    "id": 2759794,
    "name": "Amsterdam",
    "latitude": 52.37403,
    "longitude": 4.88969,
    "elevation": 13.0,
    "feature_code": "PPLC",
    "country_code": "NL",
    "admin1_id": 2749879,
    "admin2_id": 2759793,
    "timezone": "Europe/Amsterdam",
    "population": 741636,
    "country_id": 2750405,
    "country": "Netherlands",
    "admin1": "North Holland",
    "admin2": "Gemeente Amsterdam",
}
SAO_PAULO = {
    "id": 3448439,
    "name": "São Paulo",
    "latitude": -23.5475,
    "longitude": -46.63611,
    "elevation": 769.0,
    "feature_code": "PPLA",
    "country_code": "BR",
    "admin1_id": 3448433,
    "timezone": "America/Sao_Paulo",
    "population": 10021295,
    "country_id": 3469034,
    "country": "Brazil",
    "admin1": "São Paulo",
}


# What the weather API answers for AMSTERDAM with forecast_body()'s defaults.
AMSTERDAM_ANSWER = {
    "location": "Amsterdam, North Holland, Netherlands",
    "latitude": 52.37403,
    "longitude": 4.88969,
    "temperature": 7.4,
    "apparent_temperature": 3.9,
    "humidity": 87,
    "wind_speed": 18.7,
    "conditions": "light rain",
    "units": {"temperature": "°C", "apparent_temperature": "°C", "humidity": "%", "wind_speed": "km/h"},
    "observed_at": "2025-01-14T15:00:00+01:00",
}


def geocoding_body(*results: dict) -> dict:
    """A geocoding answer; with no match Open-Meteo leaves out "results" altogether."""
    body = {"results": list(results)} if results else {}
    return {**body, "generationtime_ms": 0.6890297}


def forecast_body(*, latitude=52.366, longitude=4.901, offset=3600, zone="Europe/Amsterdam", **current):
    return {
        "latitude": latitude,
        "longitude": longitude,
        "generationtime_ms": 0.0438690185546875,
        "utc_offset_seconds": offset,
        "timezone": zone,
        "timezone_abbreviation": "GMT+1",
        "elevation": 13.0,
        "current_units": {
            "time": "iso8601",
            "interval": "seconds",
            "temperature_2m": "°C",
            "apparent_temperature": "°C",
            "relative_humidity_2m": "%",
            "wind_speed_10m": "km/h",
            "weather_code": "wmo code",
        },
        "current": {
            "time": "2025-01-14T15:00",
            "interval": 900,
            "temperature_2m": 7.4,
            "apparent_temperature": 3.9,
            "relative_humidity_2m": 87,
            "wind_speed_10m": 18.7,
            "weather_code": 61,
            **current,
        },
    }


@pytest.fixture
def open_meteo(respx_mock):
    """Both Open-Meteo APIs answering for Amsterdam; a test replaces an answer with `.respond()`/`.mock()`."""
    return SimpleNamespace(
        geocoding=respx_mock.get(GEOCODING_URL).respond(json=geocoding_body(AMSTERDAM)),
        forecast=respx_mock.get(FORECAST_URL).respond(json=forecast_body()),
    )
