"""POST /live/session/: GPT-Live sessions, relayed by the server (no ephemeral keys), for logged-in users only."""

import json
import logging

import httpx
import pytest
from django.test import Client
from openai._utils import maybe_transform
from openai.types.live import LiveCreateParams, LiveCreateResponse
from pydantic import TypeAdapter
from rest_framework.test import APIClient

from conversations.models import Conversation, DailyQuota, SessionGrant

pytestmark = pytest.mark.django_db

URL = "/live/session/"
SERVER_KEY = "sk-proj-server-key-that-must-never-leak-0123456789"
BASE = "https://api.openai.com/v1"
LIVE_URL = f"{BASE}/live/sessions"
OFFER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
    "a=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host\r\na=rtpmap:111 opus/48000/2\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
)
ANSWER = (
    "v=0\r\no=- 1 2 IN IP4 203.0.113.7\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 3478 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 203.0.113.7\r\na=mid:0\r\n"
)
NO_ACCESS = "This server's OpenAI key cannot use GPT-Live; the administrator can set VOICE_API=realtime"


def created_payload(session_id: str = "live_123") -> dict:
    """A 201 body shaped as LiveCreateResponse."""
    return {"session": {"id": session_id}, "transport": {"type": "webrtc", "sdp": ANSWER}}


def upstream_error(status: int, message: str, type_: str, code: str | None, param=None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"message": message, "type": type_, "param": param, "code": code}}
    )


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.VOICE_API = "live"
    settings.OPENAI_API_KEY = SERVER_KEY
    settings.OPENAI_BASE_URL = BASE
    settings.OPENAI_AUTH_STYLE = "openai"


@pytest.fixture
def upstream(respx_mock):
    return respx_mock.post(LIVE_URL).mock(
        return_value=httpx.Response(201, json=created_payload(), headers={"x-request-id": "req_live_42"})
    )


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


def start(api, **body):
    return api.post(URL, {"sdp": OFFER, **body}, format="json")


def test_a_logged_in_user_gets_the_sdp_answer_and_a_new_conversation(alice_api, alice, upstream):
    response = start(alice_api)
    assert response.status_code == 201
    conversation = Conversation.objects.get(owner=alice)
    assert response.json() == {
        "sdp": ANSWER,
        "session_id": "live_123",
        "conversation": str(conversation.pk),
        "session": 1,
        "model": "gpt-live-1",
    }
    assert "no-store" in response["Cache-Control"]
    assert (conversation.upstream, conversation.model, conversation.voice) == ("live", "gpt-live-1", "marin")
    assert conversation.session_count == 1
    assert DailyQuota.objects.get(user=alice).used == 1


def test_the_offer_is_relayed_once_as_json_with_the_server_key(alice_api, upstream):
    start(alice_api)
    assert upstream.call_count == 1
    request = upstream.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {SERVER_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert sent(upstream)["transport"] == {"type": "webrtc", "sdp": OFFER}


def validated(body: dict):
    """`body` as LiveCreateParams keeps of it: validation drops keys the SDK does not know."""

    def plain(value):
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple) or hasattr(value, "__next__"):  # Iterable[...] fields
            return [plain(item) for item in value]
        return value

    return plain(TypeAdapter(LiveCreateParams).validate_python(body))


def test_the_request_body_is_a_valid_live_create_with_no_unknown_fields(
    alice_api, alice_conversation, upstream
):
    start(alice_api)
    assert validated(sent(upstream)) == sent(upstream)
    alice_conversation.turns.create(item_id="u1", role="user", text="Hi", position=0)
    alice_conversation.turns.create(item_id="a1", role="assistant", text="Hello!", position=1)
    start(alice_api, conversation=str(alice_conversation.pk))
    assert sent(upstream)["session"]["input"]
    assert validated(sent(upstream)) == sent(upstream)


def test_the_body_is_what_the_sdk_would_send(alice_api, alice_conversation, upstream):
    # The body is posted without the SDK's transform: it has to be what the transform would produce.
    alice_api.post("/accounts/profile/", {"voice": "cedar", "language": "de"}, format="multipart")
    alice_conversation.turns.create(item_id="u1", role="user", text="Hi", position=0)
    start(alice_api, conversation=str(alice_conversation.pk))
    assert maybe_transform(sent(upstream), LiveCreateParams) == sent(upstream)


def test_the_offline_emulator_accepts_the_body_like_the_strict_server(
    alice_api, alice_conversation, upstream
):
    from emulator.live.config import check_model, parse_create

    alice_conversation.turns.create(item_id="u1", role="user", text="Hi", position=0)
    alice_conversation.turns.create(item_id="a1", role="assistant", text="Hello!", position=1)
    alice_api.post("/accounts/profile/", {"voice": "cedar", "language": "de"}, format="multipart")
    start(alice_api, conversation=str(alice_conversation.pk))
    session, sdp = parse_create(sent(upstream))  # raises the emulator's 400 on anything unknown
    check_model(session["model"], has_access=True)
    assert sdp == OFFER


def test_the_session_delegates_weather_to_the_backend_with_a_strict_function_tool(
    alice_api, upstream, settings
):
    settings.LIVE_BACKEND_MODEL = "gpt-5.6-luna"
    start(alice_api)
    session = sent(upstream)["session"]
    assert session["model"] == "gpt-live-1"
    assert session["audio"] == {"output": {"voice": "marin"}}
    assert "weather" in session["instructions"]
    delegation = session["delegation"]
    assert delegation["type"] == "responses"
    backend = delegation["responses"]
    assert backend["model"] == "gpt-5.6-luna" and backend["instructions"]
    (tool,) = backend["tools"]
    assert tool["type"] == "function" and tool["name"] == "get_weather" and tool["strict"] is True
    assert tool["parameters"]["required"] == ["location"]
    assert tool["parameters"]["additionalProperties"] is False
    assert "audio" not in session["audio"]["output"] and "format" not in session["audio"]


def test_the_page_may_only_send_and_receive_what_it_needs(alice_api, upstream):
    start(alice_api)
    channel = sent(upstream)["session"]["client"]["data_channel"]
    assert "session.update" not in channel["allowed_client_events"]
    assert "session.instructions.append" not in channel["allowed_client_events"]
    assert {"response.item.create", "response.create", "session.close"} <= set(
        channel["allowed_client_events"]
    )
    server = channel["allowed_server_events"]
    assert {"type": "session.started"} in server
    assert {"type": "session.input_transcript.delta"} in server
    assert {"type": "response.event", "response_event": "response.output_item.done"} in server
    assert {"type": "session.closed"} in server and {"type": "session.usage.updated"} in server


def test_the_safety_identifier_is_a_stable_pseudonym_never_the_id_or_email(alice_api, alice, bob, upstream):
    start(alice_api)
    first = sent(upstream)["session"]["safety_identifier"]
    start(alice_api)
    assert sent(upstream)["session"]["safety_identifier"] == first
    assert first.startswith("u_") and len(first) == 34 and first != str(alice.pk)
    assert "alice" not in first
    bob_api = _session_api(bob)
    start(bob_api)
    assert sent(upstream)["session"]["safety_identifier"] != first


def test_the_users_voice_language_and_instructions_shape_the_session(alice_api, alice, upstream):
    alice_api.post(
        "/accounts/profile/",
        {"voice": "cedar", "language": "nl", "instructions": "Call me Al."},
        format="multipart",
    )
    start(alice_api)
    session = sent(upstream)["session"]
    assert session["audio"]["output"]["voice"] == "cedar"
    # GPT-Live has no transcription language field: the language is an instruction.
    assert "The user speaks Dutch" in session["instructions"]
    assert "Call me Al." in session["instructions"]
    assert Conversation.objects.get(owner=alice).voice == "cedar"


def test_continuing_a_conversation_seeds_the_session_with_its_recent_turns(
    alice_api, alice_conversation, upstream
):
    alice_conversation.turns.create(item_id="u1", role="user", text="What's the weather in Oslo?", position=0)
    alice_conversation.turns.create(item_id="t1", role="tool", text="", output="{}", position=1)
    alice_conversation.turns.create(item_id="a1", role="assistant", text="Oslo: 3 °C and snow.", position=2)
    Conversation.objects.filter(pk=alice_conversation.pk).update(session_count=1)
    response = start(alice_api, conversation=str(alice_conversation.pk))
    assert response.status_code == 201
    assert response.json()["session"] == 2
    assert sent(upstream)["session"]["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What's the weather in Oslo?"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Oslo: 3 °C and snow."}]},
    ]  # fmt: skip
    alice_conversation.refresh_from_db()
    assert (alice_conversation.upstream, alice_conversation.model) == ("live", "gpt-live-1")


def test_every_start_is_audited_with_the_live_session_id(alice_api, alice, upstream):
    start(alice_api)
    grant = SessionGrant.objects.get(user=alice)
    assert grant.outcome == "granted"
    assert grant.upstream_session_id == "live_123"
    assert grant.upstream_request_id == "req_live_42"
    assert grant.model == "gpt-live-1"
    assert grant.conversation == Conversation.objects.get(owner=alice)


@pytest.mark.parametrize(
    ("body", "field", "sentence"),
    [
        ({}, "sdp", "Send the SDP offer of your connection."),
        ({"sdp": ""}, "sdp", "The SDP offer is empty."),
        ({"sdp": "hello"}, "sdp", "This is not an SDP offer (it must start with v=0)."),
        ({"sdp": 42}, "sdp", "This is not an SDP offer (it must start with v=0)."),
        ({"sdp": "v=0\r\n" + "a=x\r\n" * 14_000}, "sdp", "The SDP offer is larger than 64 KB."),
        (
            {"sdp": OFFER, "model": "gpt-live-1.1"},
            "model",
            "Unknown field. Accepted fields: conversation, sdp.",
        ),
        ({"sdp": OFFER, "conversation": "not-a-uuid"}, "conversation", "Must be a valid UUID."),
    ],
    ids=["missing", "empty", "not-sdp", "number", "too-large", "unknown-field", "bad-conversation"],
)
def test_bad_input_is_a_400_with_a_sentence_and_nothing_is_relayed(
    alice_api, alice, upstream, body, field, sentence
):
    response = alice_api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [sentence]
    assert not upstream.called
    assert not SessionGrant.objects.exists() and not DailyQuota.objects.filter(used__gt=0).exists()


def test_an_offer_of_exactly_64_kb_is_accepted(alice_api, upstream):
    offer = OFFER + "a=x" * ((64 * 1024 - len(OFFER)) // 3)
    offer += "a" * (64 * 1024 - len(offer))
    assert len(offer.encode()) == 64 * 1024
    assert alice_api.post(URL, {"sdp": offer}, format="json").status_code == 201


def test_bob_cannot_continue_alices_conversation(bob, alice_conversation, upstream):
    response = start(_session_api(bob), conversation=str(alice_conversation.pk))
    assert response.status_code == 404
    assert not upstream.called


def test_anonymous_visitors_and_api_tokens_cannot_start_sessions(alice_token_api, upstream):
    anonymous = Client().post(URL, {"sdp": OFFER}, content_type="application/json")
    assert anonymous.status_code in (401, 403) and "detail" in anonymous.json()
    assert start(alice_token_api).status_code in (401, 403)
    assert not upstream.called


def test_a_post_without_the_csrf_token_is_refused(alice, upstream):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post(URL, {"sdp": OFFER}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not upstream.called


@pytest.mark.parametrize(
    ("upstream_response", "status", "sentence"),
    [
        (upstream_error(401, "Incorrect API key provided: sk-proj-****6789.", "invalid_request_error", "invalid_api_key"), 503, NO_ACCESS),
        (upstream_error(403, "You are not allowed to use this endpoint.", "invalid_request_error", None), 503, NO_ACCESS),
        (upstream_error(404, "Not found.", "invalid_request_error", None), 503, NO_ACCESS),
        (upstream_error(429, "Too many concurrent sessions.", "requests", "rate_limit_exceeded"), 429, "busy"),
        (upstream_error(400, "Unknown parameter: 'session.voice'.", "invalid_request_error", "unknown_parameter", "session.voice"), 502, "could not start"),
        (upstream_error(500, "The server had an error.", "server_error", None), 502, "could not start"),
        (httpx.Response(201, text="<html>oops</html>"), 502, "could not read"),
        (httpx.Response(201, json={"session": {"id": "live_1"}}), 502, "could not read"),
    ],
    ids=["401", "403", "404", "429", "400", "500", "garbage", "no-answer"],
)  # fmt: skip
def test_upstream_failures_become_sentences_are_not_retried_and_give_the_quota_back(
    alice_api, alice, respx_mock, upstream_response, status, sentence
):
    route = respx_mock.post(LIVE_URL).mock(return_value=upstream_response)
    response = start(alice_api)
    assert response.status_code == status
    assert sentence in response.json()["detail"]
    assert route.call_count == 1  # each create bills 15 seconds: never twice
    assert "sk-proj" not in response.content.decode()
    assert DailyQuota.objects.get(user=alice).used == 0
    assert not Conversation.objects.exists()
    grant = SessionGrant.objects.get(user=alice)
    assert grant.outcome in ("not_configured", "upstream_error")
    assert grant.upstream_status == upstream_response.status_code


@pytest.mark.parametrize(
    ("error", "status", "sentence"),
    [
        (httpx.ReadTimeout("slow"), 504, "The voice service did not answer in time. Please try again."),
        (
            httpx.ConnectError("refused"),
            502,
            "The voice service cannot be reached right now. Please try again later.",
        ),
    ],
)
def test_a_timeout_or_unreachable_upstream_is_one_attempt_and_a_sentence(
    alice_api, alice, respx_mock, caplog, error, status, sentence
):
    route = respx_mock.post(LIVE_URL).mock(side_effect=error)
    response = start(alice_api)
    assert (response.status_code, response.json()["detail"]) == (status, sentence)
    assert route.call_count == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "/live/sessions" in warnings[0]
    assert DailyQuota.objects.get(user=alice).used == 0


def test_an_upstream_rate_limit_passes_retry_after_on(alice_api, respx_mock):
    respx_mock.post(LIVE_URL).mock(
        return_value=httpx.Response(
            429,
            headers={"retry-after": "12"},
            json={"error": {"message": "Rate limit", "type": "requests", "param": None, "code": None}},
        )
    )
    response = start(alice_api)
    assert response.status_code == 429 and response["Retry-After"] == "12"


@pytest.mark.parametrize(
    ("upstream_response", "setting"),
    [
        (upstream_error(404, "The model `gpt-live-1` does not exist.", "invalid_request_error", "model_not_found"), "LIVE_MODEL"),
        (upstream_error(400, "Invalid value: 'gpt-5.6-luna'.", "invalid_request_error", "invalid_value", "session.delegation.responses.model"), "LIVE_BACKEND_MODEL"),
        (upstream_error(400, "The model gpt-5.6-luna has been retired.", "invalid_request_error", None), "LIVE_BACKEND_MODEL"),
    ],
    ids=["live-model", "backend-param", "backend-message"],
)  # fmt: skip
def test_a_retired_model_reads_as_a_sentence_and_names_the_setting(
    alice_api, alice, respx_mock, caplog, upstream_response, setting
):
    respx_mock.post(LIVE_URL).mock(return_value=upstream_response)
    response = start(alice_api)
    assert response.status_code == 503
    assert response.json()["detail"].startswith("The voice model is not available right now.")
    assert f"set {setting} to a current model" in SessionGrant.objects.get(user=alice).detail
    assert any(setting in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_without_a_server_key_nothing_is_relayed(alice_api, alice, settings, upstream):
    settings.OPENAI_API_KEY = ""
    response = start(alice_api)
    assert response.status_code == 503
    assert (
        response.json()["detail"]
        == "The voice service is not configured. Please tell the site administrator."
    )
    assert not upstream.called
    assert SessionGrant.objects.get(user=alice).outcome == "not_configured"


def test_the_daily_quota_counts_live_sessions_too(alice_api, alice, upstream, settings):
    settings.REALTIME_SESSIONS_PER_DAY = 2
    statuses = [start(alice_api).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert upstream.call_count == 2
    assert SessionGrant.objects.filter(user=alice, outcome="quota_exceeded").count() == 1


def test_the_endpoint_of_the_other_upstream_answers_409_with_a_sentence(
    alice_api, alice, settings, upstream, respx_mock
):
    settings.VOICE_API = "realtime"
    response = start(alice_api)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This server now runs its voice sessions on the OpenAI Realtime API. Please reload the page."
    }
    settings.VOICE_API = "live"
    secrets = respx_mock.post(f"{BASE}/realtime/client_secrets")
    response = alice_api.post("/realtime/session/", {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This server now runs its voice sessions on GPT-Live. Please reload the page."
    }
    assert not upstream.called and not secrets.called
    assert not SessionGrant.objects.exists() and not DailyQuota.objects.exists()


def test_azure_gets_the_same_body_with_the_api_key_header(alice_api, respx_mock, settings):
    azure = "https://contoso.openai.azure.com/openai/v1"
    settings.OPENAI_BASE_URL = azure
    settings.OPENAI_AUTH_STYLE = "azure"
    settings.LIVE_MODEL = "my-gpt-live-deployment"
    route = respx_mock.post(f"{azure}/live/sessions").mock(
        return_value=httpx.Response(201, json=created_payload("sess_123"))
    )
    response = start(alice_api)
    assert response.status_code == 201
    assert response.json()["session_id"] == "sess_123"
    headers = route.calls.last.request.headers
    assert headers["api-key"] == SERVER_KEY
    assert "Authorization" not in headers
    assert sent(route)["session"]["model"] == "my-gpt-live-deployment"


def test_no_key_or_offer_reaches_the_logs(alice_api, upstream, respx_mock, caplog):
    caplog.set_level(logging.DEBUG)
    start(alice_api)
    respx_mock.post(LIVE_URL).mock(return_value=upstream_error(401, "Incorrect API key provided: sk-proj-****6789.", "invalid_request_error", "invalid_api_key"))  # fmt: skip
    start(alice_api)
    assert caplog.records
    assert SERVER_KEY not in caplog.text and "sk-proj" not in caplog.text
    assert "a=candidate" not in caplog.text


def test_the_reply_shape_is_the_sdks():
    """The mocked reply is what the SDK parses (keeps these tests honest)."""
    LiveCreateResponse.model_validate(created_payload())


def _session_api(user):
    api = APIClient()
    api.force_login(user)
    return api
