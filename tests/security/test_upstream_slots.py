"""Every upstream call holds one of its service's slots: the weather tool (core/http.py) and the
voice service (openai-python) are refused at once when theirs are all taken."""

import contextlib

import pytest

from core.upstream_slots import upstream_slot

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def all_slots_taken(service, limit):
    with contextlib.ExitStack() as stack:
        for _ in range(limit):
            stack.enter_context(upstream_slot(service))
        yield


def test_the_weather_tool_is_refused_while_its_slots_are_taken(settings, alice_api, upstreams):
    settings.UPSTREAM_MAX_CONCURRENT = 2
    with all_slots_taken("weather service", 2):
        response = alice_api.get("/api/weather/", {"location": "Amsterdam"})
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The weather service is answering slowly right now. Please try again in a moment."
    }
    assert response["Retry-After"] == "10"
    assert not upstreams["geocoding"].called
    assert alice_api.get("/api/weather/", {"location": "Amsterdam"}).status_code == 200


def test_a_voice_session_is_refused_while_its_slots_are_taken(settings, alice_api, upstreams):
    settings.UPSTREAM_MAX_CONCURRENT = 1
    with all_slots_taken("voice service", 1):
        response = alice_api.post("/realtime/session/", {}, format="json")
    assert response.status_code == 503
    assert "answering slowly" in response.json()["detail"]
    assert not upstreams["mint"].called
    assert alice_api.post("/realtime/session/", {}, format="json").status_code == 201
