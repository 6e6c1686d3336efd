"""The server's OpenAI key never leaves the server, and an ephemeral key appears in exactly one place:
the JSON answer of the mint that created it. Checked over a realistic flow, its failure paths,
every log record at DEBUG, the process output, every response and the database."""

import json
import logging

import httpx
import pytest
from django.apps import apps
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.security.conftest import EPHEMERAL, SECRETS_URL, SERVER_KEY

pytestmark = pytest.mark.django_db


class Recorder:
    """Clients whose every response (headers and body, streamed or not) is kept for the search."""

    def __init__(self):
        self.responses = []

    def client(self, cls=Client, **kwargs):
        client = cls(**kwargs)
        original = client.request

        def request(**request):
            response = original(**request)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            headers = "\n".join(f"{k}: {v}" for k, v in response.items())
            cookies = response.cookies.output()
            self.responses.append(
                (request["PATH_INFO"], response.status_code, headers + cookies, body.decode())
            )
            return response

        client.request = request
        return client


def everything_logged(caplog, capfd) -> str:
    out, err = capfd.readouterr()
    records = [
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    ]
    return "\n".join([*records, out, err])


def database_text() -> str:
    rows = []
    for model in apps.get_models():
        rows += [repr(row) for row in model._default_manager.values()]
    return "\n".join(rows)


@pytest.fixture
def logs(caplog):
    """Every logger at DEBUG, whatever LOGGING says (httpx and axes are quieter by default)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_a_whole_session_never_shows_the_server_key_and_the_ephemeral_key_only_once(
    alice, staff, upstreams, logs, capfd
):
    recorder = Recorder()
    browser = recorder.client(APIClient, enforce_csrf_checks=True)
    browser.get("/accounts/login/")
    form = {
        "username": "alice",
        "password": PASSWORD,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
    }
    login = browser.post("/accounts/login/", form, format="multipart")
    assert login.status_code == 302
    browser.get("/")
    browser.credentials(HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)

    minted = browser.post("/realtime/session/", {}, format="json")
    assert minted.status_code == 201 and minted.json()["client_secret"] == EPHEMERAL
    conversation = minted.json()["conversation"]
    sent = upstreams["mint"].calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {SERVER_KEY}", "the key goes to OpenAI, and only there"

    assert browser.get("/api/weather/", {"location": "Amsterdam"}).status_code == 200
    turns = f"/api/conversations/{conversation}/turns/"
    for body in (
        {"item_id": "u1", "role": "user", "text": "What's the weather in Amsterdam?", "position": 0},
        {"item_id": "t1", "role": "tool", "name": "get_weather", "arguments": '{"location":"Amsterdam"}'},
        {"item_id": "a1", "role": "assistant", "text": "Light rain, 7 degrees.", "position": 2},
    ):
        assert browser.post(turns, body, format="json").status_code == 201
    again = browser.post("/realtime/session/", {"conversation": conversation}, format="json")
    assert again.status_code == 201
    assert (
        browser.patch(f"/api/conversations/{conversation}/", {"status": "ended"}, format="json").status_code
        == 200
    )

    for url in ("/", f"/?conversation={conversation}", "/conversations/", f"/conversations/{conversation}/"):
        assert browser.get(url).status_code == 200
    browser.get("/accounts/profile/")
    for export_format in ("json", "md", "txt", "csv", "srt"):
        browser.get(f"/api/conversations/{conversation}/export/", {"format": export_format})
    browser.get("/api/export/")
    browser.get("/api/conversations/")
    browser.get("/api/schema/")

    admin = recorder.client()
    admin.force_login(staff)
    for url in (
        "/admin/conversations/sessiongrant/",
        "/admin/conversations/conversation/",
        f"/admin/conversations/conversation/{conversation}/change/",
        "/admin/conversations/dailyquota/",
    ):
        assert admin.get(url).status_code == 200
    for grant in apps.get_model("conversations", "SessionGrant").objects.all():
        admin.get(f"/admin/conversations/sessiongrant/{grant.pk}/change/")

    mints = [r for r in recorder.responses if r[0] == "/realtime/session/" and r[1] == 201]
    assert len(mints) == 2 and all(EPHEMERAL in body for *_, body in mints)
    for path, status, headers, body in recorder.responses:
        assert SERVER_KEY not in headers + body, path
        assert EPHEMERAL not in headers, path
        if (path, status) != ("/realtime/session/", 201):
            assert EPHEMERAL not in body, path
    logged = everything_logged(logs, capfd)
    assert "realtime voice session started" in logged, "the log capture saw the app's records"
    assert SERVER_KEY not in logged and EPHEMERAL not in logged
    assert SERVER_KEY not in database_text() and EPHEMERAL not in database_text()


@pytest.mark.parametrize(
    "upstream_answer",
    [
        httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {SERVER_KEY}"}}),
        httpx.Response(500, text=f"Internal error; Authorization: Bearer {SERVER_KEY}"),
        httpx.Response(429, json={"error": {"message": f"Rate limit for {SERVER_KEY}"}}),
        httpx.Response(200, json={"value_is_missing": EPHEMERAL, "echo": SERVER_KEY}),
        httpx.ConnectError(f"cannot connect with {SERVER_KEY}"),
        httpx.ReadTimeout(f"timed out; key {SERVER_KEY}"),
    ],
    ids=["401-echoing-key", "500-echoing-header", "429", "unreadable-200", "connect-error", "timeout"],
)
def test_a_failing_upstream_that_echoes_the_key_does_not_leak_it(
    alice_api, upstreams, logs, capfd, upstream_answer
):
    route = upstreams["mint"]
    if isinstance(upstream_answer, Exception):
        route.mock(side_effect=upstream_answer)
    else:
        route.mock(return_value=upstream_answer)
    response = alice_api.post("/realtime/session/", {}, format="json")
    assert 400 <= response.status_code < 600 and response.status_code != 500
    assert response["Content-Type"] == "application/json"
    shown = response.content.decode() + "\n".join(f"{k}: {v}" for k, v in response.items())
    assert SERVER_KEY not in shown and EPHEMERAL not in shown
    logged = everything_logged(logs, capfd)
    assert SERVER_KEY not in logged and EPHEMERAL not in logged
    assert SERVER_KEY not in database_text() and EPHEMERAL not in database_text()


def test_the_minted_key_is_never_cached_by_the_browser_or_a_proxy(alice_api, upstreams):
    response = alice_api.post("/realtime/session/", {}, format="json")
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_server_key_is_hidden_in_djangos_error_reports(settings, rf):
    from django.views.debug import SafeExceptionReporterFilter

    settings.OPENAI_API_KEY = SERVER_KEY
    cleansed = SafeExceptionReporterFilter().get_safe_settings()
    assert SERVER_KEY not in json.dumps(cleansed, default=str)


def test_the_upstream_request_carries_the_key_only_in_its_header(alice_api, upstreams):
    alice_api.post("/realtime/session/", {}, format="json")
    request = upstreams["mint"].calls.last.request
    assert str(request.url) == SECRETS_URL
    assert SERVER_KEY not in request.content.decode() and SERVER_KEY not in str(request.url)
