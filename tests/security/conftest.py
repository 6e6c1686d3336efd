"""Security suite fixtures: OpenAI and Open-Meteo faked at the HTTP boundary with recognisable secrets."""

import json

import httpx
import pytest
import respx
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import _get_new_csrf_string

from tests.weather.conftest import AMSTERDAM, FORECAST_URL, GEOCODING_URL, forecast_body, geocoding_body

BASE = "https://api.openai.com/v1"
SECRETS_URL = f"{BASE}/realtime/client_secrets"
# Distinctive values, so that a leak anywhere (log, page, header, database) is found by a plain search.
SERVER_KEY = "sk-proj-SECURITY-SUITE-server-key-3f9a7c1e5b2d8046"
EPHEMERAL = "ek_SECURITYSUITE68af296e8e408191a1120ab6"


def logged_in_browser(user) -> tuple[dict, dict]:
    """Cookies and headers of a browser that logged in: a session in the test database plus CSRF."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    csrf = _get_new_csrf_string()
    return {"sessionid": session.session_key, "csrftoken": csrf}, {"X-CSRFToken": csrf}


def client_secret_reply(request: httpx.Request) -> httpx.Response:
    """A 200 of POST /realtime/client_secrets shaped as in docs/realtime-api.md, "Client secrets"."""
    session = json.loads(request.content)["session"]
    body = {
        "value": EPHEMERAL,
        "expires_at": 1756310470,
        "session": {**session, "object": "realtime.session", "id": "sess_C9CiUVUzUzYIssh3ELY1d"},
    }
    return httpx.Response(200, json=body, headers={"x-request-id": "req_security_suite"})


@pytest.fixture
def upstreams(settings):
    """OpenAI (client_secrets) and Open-Meteo answering like the real services; nothing else is reachable."""
    settings.OPENAI_API_KEY = SERVER_KEY
    settings.OPENAI_BASE_URL = BASE
    settings.OPENAI_AUTH_STYLE = "openai"
    settings.OPEN_METEO_GEOCODING_URL = GEOCODING_URL
    settings.OPEN_METEO_FORECAST_URL = FORECAST_URL
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.post(SECRETS_URL, name="mint").mock(side_effect=client_secret_reply)
        router.get(GEOCODING_URL, name="geocoding").respond(json=geocoding_body(AMSTERDAM))
        router.get(FORECAST_URL, name="forecast").respond(json=forecast_body())
        yield router
