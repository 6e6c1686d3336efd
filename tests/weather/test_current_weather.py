"""weather.services.current_weather against a faked Open-Meteo."""

import logging

import httpx
import pytest
from django.core.cache import cache
from django.core.cache.backends.base import memcache_key_warnings

from core import http
from core.errors import UpstreamError
from tests.weather.conftest import AMSTERDAM_ANSWER, SAO_PAULO, forecast_body, geocoding_body
from weather import services
from weather.services import LocationNotFound, current_weather


def test_it_returns_the_current_weather_in_words_and_numbers(open_meteo):
    assert current_weather(location="Amsterdam") == AMSTERDAM_ANSWER


def test_it_asks_for_one_json_match_in_the_given_language(open_meteo):
    current_weather(location="Amsterdam", language="nl")

    params = open_meteo.geocoding.calls.last.request.url.params
    assert dict(params) == {"name": "Amsterdam", "count": "1", "language": "nl", "format": "json"}


def test_it_asks_for_the_current_values_at_the_match_in_its_own_timezone(open_meteo):
    current_weather(location="Amsterdam")

    params = open_meteo.forecast.calls.last.request.url.params
    assert params["latitude"] == "52.37403"
    assert params["longitude"] == "4.88969"
    assert params["timezone"] == "auto"
    assert set(params["current"].split(",")) == {
        "temperature_2m",
        "apparent_temperature",
        "relative_humidity_2m",
        "wind_speed_10m",
        "weather_code",
    }


def test_units_follow_what_open_meteo_reports(open_meteo):
    body = forecast_body()
    body["current_units"].update(temperature_2m="°F", apparent_temperature="°F", wind_speed_10m="mp/h")
    open_meteo.forecast.respond(json=body)

    assert current_weather(location="Amsterdam")["units"] == {
        "temperature": "°F",
        "apparent_temperature": "°F",
        "humidity": "%",
        "wind_speed": "mp/h",
    }


def test_observed_at_carries_the_places_utc_offset(open_meteo):
    open_meteo.geocoding.respond(json=geocoding_body(SAO_PAULO))
    open_meteo.forecast.respond(json=forecast_body(offset=-10800, zone="America/Sao_Paulo"))

    assert current_weather(location="São Paulo")["observed_at"] == "2025-01-14T15:00:00-03:00"


def test_the_label_skips_missing_and_repeated_parts(open_meteo):
    singapore = {"name": "Singapore", "latitude": 1.28967, "longitude": 103.85007, "country": "Singapore"}
    open_meteo.geocoding.respond(json=geocoding_body(singapore))

    assert current_weather(location="Singapore")["location"] == "Singapore"


def test_unicode_names_survive_the_round_trip(open_meteo):
    open_meteo.geocoding.respond(json=geocoding_body(SAO_PAULO))

    result = current_weather(location="São Paulo")

    assert open_meteo.geocoding.calls.last.request.url.params["name"] == "São Paulo"
    assert result["location"] == "São Paulo, Brazil"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (0, "clear sky"),
        (3, "overcast"),
        (45, "fog"),
        (75, "heavy snowfall"),
        (99, "thunderstorm with heavy hail"),
    ],
)
def test_weather_codes_become_words(open_meteo, code, words):
    open_meteo.forecast.respond(json=forecast_body(weather_code=code))

    assert current_weather(location="Amsterdam")["conditions"] == words


def test_every_weather_code_open_meteo_documents_has_words():
    documented = {
        0,
        1,
        2,
        3,
        45,
        48,
        51,
        53,
        55,
        56,
        57,
        61,
        63,
        65,
        66,
        67,
        71,
        73,
        75,
        77,
        80,
        81,
        82,
        85,
        86,
    }
    documented |= {95, 96, 99}
    assert set(services.WMO_CODES) == documented


def test_an_undocumented_weather_code_still_reads_as_a_phrase(open_meteo):
    open_meteo.forecast.respond(json=forecast_body(weather_code=42))

    assert current_weather(location="Amsterdam")["conditions"] == "unknown conditions"


def test_missing_values_are_none_rather_than_an_error(open_meteo):
    open_meteo.forecast.respond(json=forecast_body(temperature_2m=None))

    assert current_weather(location="Amsterdam")["temperature"] is None


def test_no_match_is_location_not_found(open_meteo):
    open_meteo.geocoding.respond(json=geocoding_body())

    with pytest.raises(LocationNotFound) as raised:
        current_weather(location="Xyzzyville")

    assert raised.value.status_code == 404
    assert "Xyzzyville" in raised.value.message
    assert not open_meteo.forecast.called


def test_an_open_meteo_error_body_is_a_502_and_its_reason_is_only_logged(open_meteo, caplog):
    reason = "Cannot initialize ForecastVariable from invalid String value foo for key current"
    open_meteo.forecast.respond(400, json={"error": True, "reason": reason})

    with caplog.at_level(logging.WARNING, logger="weather.services"), pytest.raises(UpstreamError) as raised:
        current_weather(location="Amsterdam")

    assert raised.value.status_code == 502
    assert reason not in raised.value.message
    assert reason in caplog.text


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_a_502(open_meteo, status):
    open_meteo.geocoding.respond(status, text="<html><body>Bad Gateway</body></html>")

    with pytest.raises(UpstreamError) as raised:
        current_weather(location="Amsterdam")

    assert raised.value.status_code == 502
    assert raised.value.message.startswith("The weather service ")


@pytest.mark.parametrize("body", [{"latitude": 52.366}, {"current": {}, "current_units": {}}])
def test_a_forecast_without_current_values_is_a_502(open_meteo, body):
    open_meteo.forecast.respond(json=body)

    with pytest.raises(UpstreamError) as raised:
        current_weather(location="Amsterdam")

    assert raised.value.status_code == 502


@pytest.mark.parametrize("error", [httpx.ConnectTimeout, httpx.ReadTimeout])
def test_a_timeout_is_a_504(open_meteo, error):
    open_meteo.geocoding.mock(side_effect=error)

    with pytest.raises(UpstreamError) as raised:
        current_weather(location="Amsterdam")

    assert raised.value.status_code == 504
    assert raised.value.message == "The weather service did not answer in time. Please try again."


def test_the_shared_client_has_explicit_short_timeouts():
    timeout = http.client().timeout

    assert 0 < timeout.connect <= 5
    assert all(0 < seconds <= 10 for seconds in (timeout.read, timeout.write, timeout.pool))


def test_a_repeated_question_is_answered_from_the_cache(open_meteo):
    first = current_weather(location="Amsterdam")
    again = current_weather(location="  amsterdam ")

    assert again == first
    assert open_meteo.geocoding.call_count == 1
    assert open_meteo.forecast.call_count == 1


def test_another_language_is_geocoded_again_but_shares_the_weather(open_meteo):
    current_weather(location="Amsterdam")
    current_weather(location="Amsterdam", language="de")

    assert open_meteo.geocoding.call_count == 2
    assert open_meteo.forecast.call_count == 1


def test_no_match_is_cached_too(open_meteo):
    open_meteo.geocoding.respond(json=geocoding_body())

    for _ in range(2):
        with pytest.raises(LocationNotFound):
            current_weather(location="Xyzzyville")

    assert open_meteo.geocoding.call_count == 1


def test_failures_are_not_cached(open_meteo):
    open_meteo.forecast.respond(503)
    with pytest.raises(UpstreamError):
        current_weather(location="Amsterdam")

    open_meteo.forecast.respond(json=forecast_body())
    assert current_weather(location="Amsterdam")["temperature"] == 7.4


def test_places_are_kept_for_a_day_and_weather_for_ten_minutes(open_meteo, monkeypatch):
    stored = {}
    real_set = cache.set
    monkeypatch.setattr(
        cache,
        "set",
        lambda key, value, timeout: stored.update({key: timeout}) or real_set(key, value, timeout),
    )

    current_weather(location="Amsterdam")

    assert sorted(stored.values()) == [10 * 60, 24 * 60 * 60]


@pytest.mark.parametrize("location", ["Amsterdam&count=100", "São Paulo", "a b\tc\nd", "x" * 100, "東京"])
def test_cache_keys_are_safe_for_memcached_and_redis(open_meteo, monkeypatch, location):
    keys = []
    real_set = cache.set
    monkeypatch.setattr(cache, "set", lambda key, *args: keys.append(key) or real_set(key, *args))

    current_weather(location=location)

    assert keys
    for key in keys:
        assert list(memcache_key_warnings(cache.make_key(key))) == []
