"""Open-Meteo emulation: geocoding search and current forecast in the real JSON shapes."""

import pytest
from emulator_harness import running


async def _get(app, path: str, **params) -> tuple[int, object]:
    async with running(app) as client:
        response = await client.get(path, params=params)
        return response.status, await response.json()


async def test_search_finds_a_city_in_open_meteo_shape(app):
    status, body = await _get(app, "/v1/search", name="Berlin", count="1", language="en", format="json")
    assert status == 200
    assert set(body) == {"results", "generationtime_ms"}
    (berlin,) = body["results"]
    assert berlin["name"] == "Berlin"
    assert berlin["country_code"] == "DE"
    assert berlin["timezone"] == "Europe/Berlin"
    for field in (
        "id",
        "latitude",
        "longitude",
        "elevation",
        "feature_code",
        "population",
        "country",
        "admin1",
    ):
        assert field in berlin


@pytest.mark.parametrize(
    ("query", "expected"), [("zurich", "Zürich"), ("SAO PAULO", "São Paulo"), ("kraków", "Kraków")]
)
async def test_search_ignores_case_and_accents(app, query, expected):
    status, body = await _get(app, "/v1/search", name=query)
    assert body["results"][0]["name"] == expected


async def test_search_matches_prefixes_most_populous_first(app):
    status, body = await _get(app, "/v1/search", name="Paris", count="5")
    assert [r["country_code"] for r in body["results"]] == ["FR", "US"]
    status, body = await _get(app, "/v1/search", name="ber", count="2")
    assert [r["name"] for r in body["results"]] == ["Berlin", "Bern"]


async def test_search_without_match_has_no_results_key(app):
    status, body = await _get(app, "/v1/search", name="Atlantis")
    assert status == 200
    assert set(body) == {"generationtime_ms"}


async def test_search_without_name_is_a_400(app):
    status, body = await _get(app, "/v1/search", count="3")
    assert status == 400
    assert body["error"] is True
    assert body["reason"]


async def test_forecast_returns_only_the_requested_current_variables(app):
    status, body = await _get(
        app,
        "/v1/forecast",
        latitude="52.52",
        longitude="13.41",
        current="temperature_2m,weather_code",
        timezone="auto",
    )
    assert status == 200
    assert set(body) == {
        "latitude",
        "longitude",
        "generationtime_ms",
        "utc_offset_seconds",
        "timezone",
        "timezone_abbreviation",
        "elevation",
        "current_units",
        "current",
    }
    assert body["timezone"] == "Europe/Berlin"
    assert body["current_units"] == {
        "time": "iso8601",
        "interval": "seconds",
        "temperature_2m": "°C",
        "weather_code": "wmo code",
    }
    assert set(body["current"]) == {"time", "interval", "temperature_2m", "weather_code"}
    assert body["current"]["interval"] == 900
    assert isinstance(body["current"]["temperature_2m"], float)
    assert isinstance(body["current"]["weather_code"], int)


async def test_forecast_is_deterministic_per_place(app):
    params = {
        "latitude": "48.85",
        "longitude": "2.35",
        "current": "temperature_2m,wind_speed_10m,relative_humidity_2m",
    }
    first = (await _get(app, "/v1/forecast", **params))[1]["current"]
    second = (await _get(app, "/v1/forecast", **params))[1]["current"]
    other = (await _get(app, "/v1/forecast", **{**params, "latitude": "59.91"}))[1]["current"]
    assert {k: v for k, v in first.items() if k != "time"} == {k: v for k, v in second.items() if k != "time"}
    assert first["temperature_2m"] != other["temperature_2m"]


async def test_forecast_converts_units(app):
    params = {"latitude": "48.85", "longitude": "2.35", "current": "temperature_2m"}
    celsius = (await _get(app, "/v1/forecast", **params))[1]
    fahrenheit = (await _get(app, "/v1/forecast", **params, temperature_unit="fahrenheit"))[1]
    assert fahrenheit["current_units"]["temperature_2m"] == "°F"
    assert fahrenheit["current"]["temperature_2m"] == pytest.approx(
        celsius["current"]["temperature_2m"] * 9 / 5 + 32, abs=0.11
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"latitude": "91", "longitude": "3"}, "Latitude must be in range of -90 to 90°. Given: 91.0."),
        ({"latitude": "10", "longitude": "181"}, "Longitude must be in range of -180 to 180°. Given: 181.0."),
        ({"longitude": "3"}, "Value of type 'String' required for key 'latitude'."),
    ],
)
async def test_forecast_rejects_bad_coordinates(app, params, reason):
    status, body = await _get(app, "/v1/forecast", **params)
    assert status == 400
    assert body == {"error": True, "reason": reason}


async def test_forecast_rejects_unknown_variables(app):
    status, body = await _get(app, "/v1/forecast", latitude="1", longitude="2", current="sunshine")
    assert status == 400
    assert "sunshine" in body["reason"]
