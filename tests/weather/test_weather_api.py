"""GET /api/weather/: the endpoint behind the assistant's get_weather tool."""

import httpx
import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.weather.conftest import AMSTERDAM_ANSWER, SAO_PAULO, geocoding_body

pytestmark = pytest.mark.django_db

URL = "/api/weather/"


def test_it_answers_with_the_weather_the_assistant_can_speak(alice_api, open_meteo):
    response = alice_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 200
    assert response.json() == AMSTERDAM_ANSWER


def test_a_token_works_too(alice_token_api, open_meteo):
    response = alice_token_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 200
    assert response.json()["conditions"] == "light rain"


def test_bob_gets_the_same_answer_as_alice(alice_api, bob_api, open_meteo):
    assert (
        bob_api.get(URL, {"location": "Amsterdam"}).json()
        == alice_api.get(URL, {"location": "Amsterdam"}).json()
    )


def test_anonymous_requests_are_refused_without_calling_open_meteo(open_meteo):
    response = APIClient().get(URL, {"location": "Amsterdam"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert not open_meteo.geocoding.called


def test_the_language_reaches_the_geocoder(alice_api, open_meteo):
    alice_api.get(URL, {"location": "Amsterdam", "language": "NL"})

    assert open_meteo.geocoding.calls.last.request.url.params["language"] == "nl"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "location"),
        ({"location": ""}, "location"),
        ({"location": "   "}, "location"),
        ({"location": "x" * 101}, "location"),
        ({"location": "Amsterdam", "language": "dutch"}, "language"),
    ],
)
def test_an_invalid_query_is_a_400_with_a_sentence(alice_api, open_meteo, query, field):
    response = alice_api.get(URL, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0].endswith(".")
    assert not open_meteo.geocoding.called


def test_surrounding_spaces_are_trimmed(alice_api, open_meteo):
    alice_api.get(URL, {"location": "  Amsterdam  "})

    assert open_meteo.geocoding.calls.last.request.url.params["name"] == "Amsterdam"


def test_no_match_is_a_404_with_a_sentence(alice_api, open_meteo):
    open_meteo.geocoding.respond(json=geocoding_body())

    response = alice_api.get(URL, {"location": "Xyzzyville"})

    assert response.status_code == 404
    assert response.json() == {
        "detail": "I could not find a place called “Xyzzyville”. Try a nearby city, or add the country."
    }


def test_an_open_meteo_error_body_is_a_502_without_the_upstream_reason(alice_api, open_meteo):
    open_meteo.geocoding.respond(
        400, json={"error": True, "reason": "Parameter 'count' must be between 1 and 100"}
    )

    response = alice_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 502
    assert response.json() == {
        "detail": "The weather service could not answer this question. Please try again later."
    }


def test_a_server_error_is_a_502(alice_api, open_meteo):
    open_meteo.forecast.respond(503, text="<html><body><h1>503 Service Unavailable</h1></body></html>")

    response = alice_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 502
    assert response.json() == {
        "detail": "The weather service is not working right now. Please try again later."
    }


@pytest.mark.parametrize("error", [httpx.ConnectTimeout, httpx.ReadTimeout])
def test_a_timeout_is_a_504(alice_api, open_meteo, error):
    open_meteo.forecast.mock(side_effect=error)

    response = alice_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 504
    assert response.json() == {"detail": "The weather service did not answer in time. Please try again."}


def test_an_unreachable_open_meteo_is_a_502(alice_api, open_meteo):
    open_meteo.geocoding.mock(side_effect=httpx.ConnectError)

    response = alice_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 502
    assert response.json()["detail"].startswith("The weather service cannot be reached")


def test_a_query_string_in_the_location_reaches_open_meteo_as_one_encoded_name(alice_api, open_meteo):
    alice_api.get(URL, {"location": "Amsterdam&count=100&format=protobuf"})

    request = open_meteo.geocoding.calls.last.request
    assert request.url.params.get_list("name") == ["Amsterdam&count=100&format=protobuf"]
    assert request.url.params.get_list("count") == ["1"]
    assert request.url.params.get_list("format") == ["json"]
    assert b"name=Amsterdam%26count%3D100%26format%3Dprotobuf&" in request.url.raw_path


def test_unicode_names_work(alice_api, open_meteo):
    open_meteo.geocoding.respond(json=geocoding_body(SAO_PAULO))

    response = alice_api.get(URL, {"location": "São Paulo"})

    assert response.status_code == 200
    assert response.json()["location"] == "São Paulo, Brazil"
    request = open_meteo.geocoding.calls.last.request
    assert request.url.params["name"] == "São Paulo"
    assert b"name=S%C3%A3o+Paulo&" in request.url.raw_path


def test_a_repeated_question_does_not_reach_open_meteo_again(alice_api, bob_api, open_meteo):
    first = alice_api.get(URL, {"location": "Amsterdam"})
    again = bob_api.get(URL, {"location": "amsterdam"})

    assert again.json() == first.json()
    assert open_meteo.geocoding.call_count == 1
    assert open_meteo.forecast.call_count == 1


@pytest.fixture
def two_per_minute(monkeypatch):
    # DRF copies DEFAULT_THROTTLE_RATES onto the class at import, so changing settings has no effect.
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "weather": "2/min"}
    )


def test_each_user_is_throttled(alice_api, bob_api, open_meteo, two_per_minute):
    for _ in range(2):
        assert alice_api.get(URL, {"location": "Amsterdam"}).status_code == 200

    response = alice_api.get(URL, {"location": "Amsterdam"})

    assert response.status_code == 429
    assert response.json()["detail"].startswith("Request was throttled.")
    assert 0 < int(response["Retry-After"]) <= 60
    assert bob_api.get(URL, {"location": "Amsterdam"}).status_code == 200


def test_the_openapi_schema_documents_the_endpoint(alice_api):
    schema = alice_api.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"][URL]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["location"]["required"] is True
    assert not parameters["language"].get("required", False)
    assert set(operation["responses"]) == {"200", "400", "401", "404", "429", "502", "504"}
    weather = schema["components"]["schemas"]["Weather"]
    assert set(weather["properties"]) == {
        "location",
        "latitude",
        "longitude",
        "temperature",
        "apparent_temperature",
        "humidity",
        "wind_speed",
        "conditions",
        "units",
        "observed_at",
    }


def test_the_browsable_api_describes_the_endpoint(alice_client, open_meteo):
    response = alice_client.get(URL, {"location": "Amsterdam"}, headers={"accept": "text/html"})

    assert response.status_code == 200
    assert "Current weather for a place name" in response.content.decode()
