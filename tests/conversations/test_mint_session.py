"""POST /realtime/session/: ephemeral Realtime keys for logged-in users only."""

import json
import logging

import httpx
import pytest
from django.test import Client
from openai._utils import maybe_transform
from openai.types.realtime import ClientSecretCreateParams
from pydantic import TypeAdapter

from conversations.models import Conversation, DailyQuota, SessionGrant

pytestmark = pytest.mark.django_db

URL = "/realtime/session/"
SERVER_KEY = "sk-proj-server-key-that-must-never-leak-0123456789"
BASE = "https://api.openai.com/v1"
SECRETS_URL = f"{BASE}/realtime/client_secrets"
EPHEMERAL = "ek_68af296e8e408191a1120ab6383263c2"


def client_secret_payload(session: dict) -> dict:
    """A 200 body shaped as in docs/realtime-api.md, "Client secrets"."""
    return {
        "value": EPHEMERAL,
        "expires_at": 1756310470,
        "session": {
            **session,
            "object": "realtime.session",
            "id": "sess_C9CiUVUzUzYIssh3ELY1d",
            "expires_at": 0,
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "include": None,
            "max_output_tokens": "inf",
        },
    }


def upstream_error(status: int, message: str, type_: str, code: str | None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"message": message, "type": type_, "param": None, "code": code}}
    )


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.VOICE_API = "realtime"
    settings.REALTIME_MODEL = "gpt-realtime"
    settings.OPENAI_API_KEY = SERVER_KEY
    settings.OPENAI_BASE_URL = BASE
    settings.OPENAI_AUTH_STYLE = "openai"


@pytest.fixture
def upstream(respx_mock):
    def reply(request):
        return httpx.Response(
            200,
            json=client_secret_payload(json.loads(request.content)["session"]),
            headers={"x-request-id": "req_0123abcd"},
        )

    return respx_mock.post(SECRETS_URL).mock(side_effect=reply)


def test_a_logged_in_user_gets_an_ephemeral_key_and_a_new_conversation(alice_api, alice, upstream):
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == 201
    body = response.json()
    conversation = Conversation.objects.get(owner=alice)
    assert body == {
        "client_secret": EPHEMERAL,
        "expires_at": 1756310470,
        "conversation": str(conversation.pk),
        "model": "gpt-realtime",
        "calls_url": f"{BASE}/realtime/calls",
        "session": 1,
    }
    assert "no-store" in response["Cache-Control"]
    assert conversation.session_count == 1 and conversation.started_at is not None


def test_the_session_config_sent_upstream_is_the_ga_shape(alice_api, upstream, settings):
    settings.REALTIME_TOKEN_TTL = 45
    alice_api.post(URL, {}, format="json")
    request = upstream.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {SERVER_KEY}"
    assert "OpenAI-Beta" not in request.headers
    sent = json.loads(request.content)
    assert sent["expires_after"] == {"anchor": "created_at", "seconds": 45}
    session = sent["session"]
    assert session["type"] == "realtime"
    assert session["model"] == "gpt-realtime"
    assert session["audio"]["output"]["voice"] == "marin"
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe"}
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["tool_choice"] == "auto"
    (tool,) = session["tools"]
    assert tool["type"] == "function" and tool["name"] == "get_weather"
    assert tool["parameters"]["properties"]["location"]["type"] == "string"
    assert tool["parameters"]["required"] == ["location"]
    assert session["instructions"]


def test_the_users_voice_preferences_shape_the_session(alice_api, alice, upstream):
    alice_api.post(
        "/accounts/profile/",
        {"voice": "cedar", "language": "nl", "instructions": "Speak Dutch."},
        format="multipart",
    )
    alice_api.post(URL, {}, format="json")
    session = json.loads(upstream.calls.last.request.content)["session"]
    assert session["audio"]["output"]["voice"] == "cedar"
    assert session["audio"]["input"]["transcription"]["language"] == "nl"
    assert "Speak Dutch." in session["instructions"]
    assert Conversation.objects.get(owner=alice).voice == "cedar"


def test_continuing_a_conversation_opens_its_next_session_with_the_story_so_far(
    alice_api, alice_conversation, upstream
):
    alice_conversation.turns.create(item_id="item_1", role="user", text="What's the weather in Oslo?")
    alice_conversation.session_count = 1
    alice_conversation.save()
    response = alice_api.post(URL, {"conversation": str(alice_conversation.pk)}, format="json")
    assert response.status_code == 201
    assert response.json()["conversation"] == str(alice_conversation.pk)
    assert response.json()["session"] == 2
    session = json.loads(upstream.calls.last.request.content)["session"]
    assert "User: What's the weather in Oslo?" in session["instructions"]
    assert Conversation.objects.count() == 1


def test_the_body_is_a_valid_client_secret_create_that_the_sdk_would_send_unchanged(
    alice_api, alice_conversation, upstream
):
    # The body is posted without the SDK's transform: it has to be what the transform would produce.
    alice_api.post(
        "/accounts/profile/",
        {"voice": "cedar", "language": "nl", "instructions": "Speak Dutch."},
        format="multipart",
    )
    alice_conversation.turns.create(item_id="u1", role="user", text="Hi", position=0)
    alice_conversation.turns.create(item_id="a1", role="assistant", text="Hello!", position=1)
    for body in ({}, {"conversation": str(alice_conversation.pk)}):
        assert alice_api.post(URL, body, format="json").status_code == 201
        sent = json.loads(upstream.calls.last.request.content)
        assert maybe_transform(sent, ClientSecretCreateParams) == sent
        TypeAdapter(ClientSecretCreateParams).validate_python(sent)


def test_bob_cannot_mint_a_key_for_alices_conversation(bob, alice_conversation, upstream):
    bob_api = _session_api(bob)
    response = bob_api.post(URL, {"conversation": str(alice_conversation.pk)}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "This conversation does not exist. It may have been deleted."}
    assert not upstream.called


def test_a_malformed_conversation_id_is_a_clear_400(alice_api, upstream):
    response = alice_api.post(URL, {"conversation": "not-a-uuid"}, format="json")
    assert response.status_code == 400
    assert "conversation" in response.json()
    assert not upstream.called


def test_anonymous_visitors_get_json_not_a_login_redirect(upstream):
    response = Client().post(URL, {}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert not upstream.called


def test_an_api_token_cannot_mint_voice_sessions(alice_token_api, upstream):
    assert alice_token_api.post(URL, {}, format="json").status_code in (401, 403)
    assert not upstream.called


def test_a_post_without_the_csrf_token_is_refused(alice, upstream):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post(URL, {}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not upstream.called


def test_get_is_not_allowed(alice_api):
    assert alice_api.get(URL).status_code == 405


def test_without_a_server_key_nothing_is_called_upstream(alice_api, alice, settings, upstream):
    settings.OPENAI_API_KEY = ""
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The voice service is not configured. Please tell the site administrator."
    }
    assert not upstream.called
    assert not Conversation.objects.exists()
    assert SessionGrant.objects.get(user=alice).outcome == "not_configured"


@pytest.mark.parametrize(
    ("upstream_response", "status", "sentence"),
    [
        (upstream_error(401, "Incorrect API key provided: sk-proj-****abcd.", "invalid_request_error", "invalid_api_key"), 503, "not configured"),
        (upstream_error(403, "Project does not have access.", "invalid_request_error", None), 503, "not configured"),
        (upstream_error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"), 429, "busy"),
        (upstream_error(400, "Unknown parameter: 'session.modalities'.", "invalid_request_error", "unknown_parameter"), 502, "could not start"),
        (upstream_error(500, "The server had an error.", "server_error", None), 502, "could not start"),
        (httpx.Response(200, text="<html>oops</html>"), 502, "could not read"),
    ],
    ids=["401", "403", "429", "400", "500", "garbage"],
)  # fmt: skip
def test_upstream_failures_become_sentences_and_give_the_quota_back(
    alice_api, alice, respx_mock, upstream_response, status, sentence
):
    respx_mock.post(SECRETS_URL).mock(return_value=upstream_response)
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == status
    assert sentence in response.json()["detail"]
    assert "sk-proj" not in response.content.decode()
    assert DailyQuota.objects.get(user=alice).used == 0
    assert not Conversation.objects.exists()
    grant = SessionGrant.objects.get(user=alice)
    assert grant.outcome in ("not_configured", "upstream_error")
    assert grant.upstream_status == upstream_response.status_code


def test_an_upstream_rate_limit_passes_retry_after_on(alice_api, respx_mock):
    respx_mock.post(SECRETS_URL).mock(
        return_value=httpx.Response(
            429,
            headers={"retry-after": "7"},
            json={
                "error": {
                    "message": "Rate limit",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        )
    )
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == 429
    assert response["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("error", "status"), [(httpx.ReadTimeout("slow"), 504), (httpx.ConnectError("refused"), 502)]
)
def test_a_timeout_or_unreachable_upstream_is_a_clear_error(alice_api, respx_mock, error, status):
    respx_mock.post(SECRETS_URL).mock(side_effect=error)
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == status
    assert response.json()["detail"].startswith("The voice service")


def test_exactly_the_daily_quota_is_granted(alice_api, alice, bob, upstream, settings):
    settings.REALTIME_SESSIONS_PER_DAY = 3
    statuses = [alice_api.post(URL, {}, format="json").status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert upstream.call_count == 3
    refused = alice_api.post(URL, {}, format="json")
    assert "all 3 voice sessions for today" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 86400
    assert SessionGrant.objects.filter(user=alice, outcome="quota_exceeded").count() == 2
    # Bob's quota is his own.
    assert _session_api(bob).post(URL, {}, format="json").status_code == 201


def test_every_mint_is_audited_without_the_secret(alice_api, alice, upstream):
    alice_api.post(URL, {}, format="json")
    grant = SessionGrant.objects.get(user=alice)
    assert grant.outcome == "granted"
    assert grant.upstream_request_id == "req_0123abcd"
    assert grant.conversation == Conversation.objects.get(owner=alice)
    assert grant.model == "gpt-realtime"
    values = " ".join(str(getattr(grant, f.attname)) for f in SessionGrant._meta.fields)
    assert EPHEMERAL not in values and SERVER_KEY not in values


def test_staff_see_mints_in_the_admin(staff, alice_api, upstream):
    alice_api.post(URL, {}, format="json")
    admin = Client()
    admin.force_login(staff)
    page = admin.get("/admin/conversations/sessiongrant/")
    assert page.status_code == 200
    assert "req_0123abcd" in page.content.decode()
    assert EPHEMERAL not in page.content.decode()


def test_no_key_reaches_the_logs(alice_api, upstream, respx_mock, caplog):
    caplog.set_level(logging.DEBUG)
    alice_api.post(URL, {}, format="json")
    respx_mock.post(SECRETS_URL).mock(return_value=upstream_error(500, "boom", "server_error", None))
    alice_api.post(URL, {}, format="json")
    assert caplog.records, "expected the mint and the failure to be logged"
    assert SERVER_KEY not in caplog.text
    assert EPHEMERAL not in caplog.text


def test_azure_endpoints_use_the_api_key_header(alice_api, respx_mock, settings):
    azure = "https://contoso.openai.azure.com/openai/v1"
    settings.OPENAI_BASE_URL = azure
    settings.OPENAI_AUTH_STYLE = "azure"
    route = respx_mock.post(f"{azure}/realtime/client_secrets").mock(
        return_value=httpx.Response(200, json=client_secret_payload({"type": "realtime"}))
    )
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == 201
    assert response.json()["calls_url"] == f"{azure}/realtime/calls"
    headers = route.calls.last.request.headers
    assert headers["api-key"] == SERVER_KEY
    assert "Authorization" not in headers


def _session_api(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(user)
    return api


@pytest.mark.parametrize(
    "upstream_response",
    [
        upstream_error(404, "The model `gpt-realtime` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
        httpx.Response(400, json={"error": {"message": "Invalid value: 'gpt-realtime'. Supported values are: 'gpt-realtime-2.1'.", "type": "invalid_request_error", "param": "session.model", "code": "invalid_value"}}),
        upstream_error(400, "The model gpt-realtime has been deprecated and is no longer available.", "invalid_request_error", None),
    ],
    ids=["model_not_found", "invalid_value", "deprecated"],
)  # fmt: skip
def test_a_retired_model_reads_as_a_sentence_and_tells_the_admin_which_setting_to_change(
    alice_api, alice, respx_mock, caplog, upstream_response
):
    respx_mock.post(SECRETS_URL).mock(return_value=upstream_response)
    response = alice_api.post(URL, {}, format="json")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("The voice model is not available right now.")
    assert "REALTIME_MODEL" not in response.json()["detail"]
    grant = SessionGrant.objects.get(user=alice)
    assert grant.outcome == "not_configured"
    assert "set REALTIME_MODEL to a current model" in grant.detail
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "REALTIME_MODEL" in warning.getMessage()
    assert DailyQuota.objects.get(user=alice).used == 0


def test_a_retired_transcription_model_names_its_own_setting(alice_api, alice, respx_mock):
    respx_mock.post(SECRETS_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "message": "Invalid value: 'gpt-4o-mini-transcribe'.",
                    "type": "invalid_request_error",
                    "param": "session.audio.input.transcription.model",
                    "code": "invalid_value",
                }
            },
        )
    )
    assert alice_api.post(URL, {}, format="json").status_code == 503
    assert "set REALTIME_TRANSCRIPTION_MODEL" in SessionGrant.objects.get(user=alice).detail


@pytest.mark.parametrize(
    "failure",
    [upstream_error(500, "The server had an error.", "server_error", None), httpx.ReadTimeout("slow")],
    ids=["500", "timeout"],
)
def test_a_failed_mint_is_not_retried_and_is_logged_once(alice_api, respx_mock, caplog, failure):
    route = respx_mock.post(SECRETS_URL).mock(side_effect=[failure])
    alice_api.post(URL, {}, format="json")
    assert route.call_count == 1
    warnings = [
        r for r in caplog.records if r.levelno >= logging.WARNING and "voice service" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "/realtime/client_secrets" in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("limit", "sentence"),
    [
        (0, "Voice sessions are switched off for today. Please come back tomorrow."),
        (1, "You have used your one voice session for today. Please come back tomorrow."),
        (3, "You have used all 3 voice sessions for today. Please come back tomorrow."),
    ],
)
def test_the_quota_sentence_reads_well_for_any_limit(alice_api, upstream, settings, limit, sentence):
    settings.REALTIME_SESSIONS_PER_DAY = limit
    for _ in range(limit):
        assert alice_api.post(URL, {}, format="json").status_code == 201
    refused = alice_api.post(URL, {}, format="json")
    assert refused.status_code == 429
    assert refused.json()["detail"] == sentence
