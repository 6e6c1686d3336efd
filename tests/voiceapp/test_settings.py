"""Settings come from the environment; production settings pass Django's deployment checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#mK2!pQ9vR4$tW8zB1nL6cF3hJ5gD0sA-unique-and-long-enough-for-production",
    "ALLOWED_HOSTS": "voice.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://voice.example.com",
}


def run(args, env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL", "CACHE_URL"}}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def read_settings(env, *names):
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {list(names)!r}}}))"
    )
    result = run(["-c", code], {"DJANGO_SETTINGS_MODULE": "voiceapp.settings", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_reports_no_issues_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["manage.py", "check"], {**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_defaults_suit_a_laptop():
    values = read_settings({"DEBUG": "true"}, "DATABASES", "CACHES", "OPENAI_BASE_URL", "SECURE_SSL_REDIRECT")
    assert "sqlite3" in values["DATABASES"]
    assert "LocMemCache" in values["CACHES"]
    assert values["OPENAI_BASE_URL"] == "https://api.openai.com/v1"
    assert values["SECURE_SSL_REDIRECT"] == "False"


def test_services_and_upstreams_are_read_from_the_environment():
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/voice",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "OPENAI_BASE_URL": "http://127.0.0.1:8100/v1",
        "OPEN_METEO_FORECAST_URL": "http://127.0.0.1:8100/v1/forecast",
        "REALTIME_MODEL": "gpt-realtime-mini",
        "SECURE_SSL_REDIRECT": "false",
    }
    values = read_settings(
        env,
        "DATABASES",
        "CACHES",
        "OPENAI_BASE_URL",
        "OPEN_METEO_FORECAST_URL",
        "REALTIME_MODEL",
        "SECURE_SSL_REDIRECT",
        "CONTENT_SECURITY_POLICY",
    )
    assert "postgresql" in values["DATABASES"] and "'NAME': 'voice'" in values["DATABASES"]
    assert "RedisCache" in values["CACHES"]
    assert values["OPENAI_BASE_URL"] == "http://127.0.0.1:8100/v1"
    assert values["OPEN_METEO_FORECAST_URL"] == "http://127.0.0.1:8100/v1/forecast"
    assert values["REALTIME_MODEL"] == "gpt-realtime-mini"
    assert values["SECURE_SSL_REDIRECT"] == "False"
    assert "http://127.0.0.1:8100" in values["CONTENT_SECURITY_POLICY"]


@pytest.mark.django_db
def test_health_check_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("ttl", ["9", "7201", "0", "-5"])
def test_an_ephemeral_key_lifetime_outside_10_to_7200_seconds_is_refused_at_start_up(ttl):
    result = run(["manage.py", "check"], {"DEBUG": "true", "REALTIME_TOKEN_TTL": ttl})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "REALTIME_TOKEN_TTL must be between 10 and 7200 seconds" in result.stderr


@pytest.mark.parametrize("ttl", ["10", "7200"])
def test_the_ephemeral_key_lifetime_limits_themselves_are_accepted(ttl):
    assert read_settings({"DEBUG": "true", "REALTIME_TOKEN_TTL": ttl}, "REALTIME_TOKEN_TTL") == {
        "REALTIME_TOKEN_TTL": ttl
    }


def test_the_voice_upstream_defaults_to_realtime_with_current_models():
    names = ("VOICE_API", "REALTIME_MODEL", "LIVE_MODEL", "LIVE_VOICE", "LIVE_BACKEND_MODEL")
    values = read_settings({"DEBUG": "true"}, *names)
    assert values == {
        "VOICE_API": "realtime",
        "REALTIME_MODEL": "gpt-realtime-2.1",
        "LIVE_MODEL": "gpt-live-1",
        "LIVE_VOICE": "marin",
        "LIVE_BACKEND_MODEL": "gpt-5.6-luna",
    }


def test_the_default_models_are_ones_the_sdk_knows_and_have_prices():
    from typing import Literal, get_args, get_origin, get_type_hints

    from django.conf import settings
    from openai.types.live.media_session_config_param import MediaSessionConfigParam
    from openai.types.realtime.realtime_session_create_request_param import RealtimeSessionCreateRequestParam

    def literals(annotation) -> set:
        if get_origin(annotation) is Literal:
            return set(get_args(annotation))
        return set().union(*(literals(arg) for arg in get_args(annotation)))

    realtime = literals(get_type_hints(RealtimeSessionCreateRequestParam)["model"])
    live = literals(get_type_hints(MediaSessionConfigParam)["model"])
    assert "gpt-realtime-2.1" in realtime and "gpt-realtime" in realtime
    assert live == {"gpt-live-1", "gpt-live-1.1"}
    assert "gpt-realtime-2.1" in settings.REALTIME_PRICES and "gpt-5.6-luna" in settings.REALTIME_PRICES
    assert set(settings.LIVE_PRICES) == live


def test_an_unknown_voice_api_refuses_to_start():
    result = run(["manage.py", "check"], {**PRODUCTION_ENV, "VOICE_API": "gpt-live"})
    assert result.returncode != 0
    assert 'VOICE_API must be "realtime" or "live", not \'gpt-live\'.' in result.stderr


def test_with_gpt_live_the_page_may_connect_to_nobody_but_us():
    env = {"DEBUG": "true", "OPENAI_BASE_URL": "http://127.0.0.1:8100/v1"}
    realtime = read_settings(env, "CONTENT_SECURITY_POLICY")["CONTENT_SECURITY_POLICY"]
    assert "'connect-src': [\"'self'\", 'http://127.0.0.1:8100']" in realtime
    live = read_settings({**env, "VOICE_API": "live"}, "CONTENT_SECURITY_POLICY")["CONTENT_SECURITY_POLICY"]
    assert "'connect-src': [\"'self'\"]" in live
