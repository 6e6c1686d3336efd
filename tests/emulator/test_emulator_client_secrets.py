"""POST /v1/realtime/client_secrets: auth, validation like upstream, the minted secret's shape."""

import time
import typing

import emulator_shapes
import pytest
from emulator_harness import AUTH, SESSION, running
from openai.types.realtime import (
    audio_transcription_param,
    realtime_audio_config_input_param,
    realtime_audio_config_output_param,
    realtime_audio_input_turn_detection_param,
    realtime_session_create_request_param,
)

from emulator import session_config
from emulator.errors import ApiError
from emulator.secrets import SecretStore

URL = "/v1/realtime/client_secrets"


async def test_it_mints_a_secret_with_the_effective_session(app):
    async with running(app) as client:
        response = await client.post(URL, json={"session": SESSION}, headers=AUTH)
        body = await response.json()
    assert response.status == 200
    emulator_shapes.client_secret(body)
    assert abs(body["expires_at"] - (time.time() + 600)) < 5
    session = body["session"]
    assert session["model"] == "gpt-realtime"
    assert session["tools"][0]["name"] == "get_weather"
    assert session["audio"]["input"]["transcription"]["model"] == "gpt-4o-mini-transcribe"
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["audio"]["output"]["voice"] == "alloy"
    assert session["expires_at"] == 0


async def test_it_honours_expires_after_and_the_azure_header(app):
    body = {"expires_after": {"anchor": "created_at", "seconds": 60}, "session": {"type": "realtime"}}
    async with running(app) as client:
        response = await client.post(URL, json=body, headers={"api-key": "sk-test-emulator"})
        minted = await response.json()
    assert response.status == 200
    assert abs(minted["expires_at"] - (time.time() + 60)) < 5


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-wrong-key-1234"}, {"api-key": "nope"}])
async def test_it_refuses_a_bad_api_key(app, headers):
    async with running(app) as client:
        response = await client.post(URL, json={"session": SESSION}, headers=headers)
        body = await response.json()
    assert response.status == 401
    emulator_shapes.error_envelope(body, "invalid_api_key")


async def test_it_refuses_the_beta_header(app):
    async with running(app) as client:
        response = await client.post(
            URL, json={"session": SESSION}, headers={**AUTH, "OpenAI-Beta": "realtime=v1"}
        )
        body = await response.json()
    assert response.status == 400
    emulator_shapes.error_envelope(body, "beta_api_shape_disabled")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"session": {"model": "gpt-realtime"}}, "missing_required_parameter", "session.type"),
        (
            {"session": {"type": "realtime", "modalities": ["audio"]}},
            "unknown_parameter",
            "session.modalities",
        ),
        ({"session": {"type": "realtime", "voice": "marin"}}, "unknown_parameter", "session.voice"),
        (
            {"session": {"type": "realtime", "input_audio_transcription": {"model": "whisper-1"}}},
            "unknown_parameter",
            "session.input_audio_transcription",
        ),
        (
            {"session": {"type": "realtime", "turn_detection": None}},
            "unknown_parameter",
            "session.turn_detection",
        ),
        ({"session": {"type": "realtime", "temperature": 0.8}}, "unknown_parameter", "session.temperature"),
        (
            {"session": {"type": "realtime", "input_audio_format": "pcm16"}},
            "unknown_parameter",
            "session.input_audio_format",
        ),
        ({"session": {"type": "realtime", "model": "gpt-5"}}, "invalid_value", "session.model"),
        (
            {"session": {"type": "realtime", "audio": {"output": {"voice": "robot"}}}},
            "invalid_value",
            "session.audio.output.voice",
        ),
        (
            {"session": {"type": "realtime", "audio": {"output": {"speed": 3}}}},
            "invalid_value",
            "session.audio.output.speed",
        ),
        ({"session": {"type": "realtime", "instructions": 42}}, "invalid_type", "session.instructions"),
        ({"expires_after": {"anchor": "created_at", "seconds": 5}}, "invalid_value", "expires_after.seconds"),
        (
            {"expires_after": {"anchor": "created_at", "seconds": 7201}},
            "invalid_value",
            "expires_after.seconds",
        ),
        ({"expires_after": {"anchor": "now", "seconds": 60}}, "invalid_value", "expires_after.anchor"),
        ({"client_secret": {}}, "unknown_parameter", "client_secret"),
    ],
)
async def test_it_validates_the_body_like_upstream(app, body, code, param):
    async with running(app) as client:
        response = await client.post(URL, json=body, headers=AUTH)
        answer = await response.json()
    assert response.status == 400
    emulator_shapes.error_envelope(answer, code, param)


async def test_it_answers_invalid_json_with_the_envelope(app):
    async with running(app) as client:
        response = await client.post(URL, data=b"{not json", headers=AUTH)
        answer = await response.json()
    assert response.status == 400
    emulator_shapes.error_envelope(answer, None)


def test_expired_secrets_are_refused():
    now = [1000.0]
    store = SecretStore(clock=lambda: now[0])
    secret = store.mint({"type": "realtime"}, ttl=10)
    assert store.lookup(secret.value) is secret
    now[0] += 10
    with pytest.raises(ApiError, match="ephemeral key") as caught:
        store.lookup(secret.value)
    assert caught.value.status == 401


def _keys(typed_dict) -> set[str]:
    return set(typing.get_type_hints(typed_dict))


@pytest.mark.parametrize(
    ("ours", "sdk"),
    [
        (
            session_config._SESSION_FIELDS,
            realtime_session_create_request_param.RealtimeSessionCreateRequestParam,
        ),
        (session_config._SERVER_VAD, realtime_audio_input_turn_detection_param.ServerVad),
        (session_config._SEMANTIC_VAD, realtime_audio_input_turn_detection_param.SemanticVad),
    ],
)
def test_accepted_fields_match_the_sdk(ours, sdk):
    assert set(ours) == _keys(sdk)


SAMPLES = {
    "format": {"type": "audio/pcm"},
    "transcription": None,
    "noise_reduction": None,
    "turn_detection": None,
    "speed": 1.0,
    "voice": "marin",
    "model": "whisper-1",
    "language": "en",
    "prompt": "",
    "delay": "low",
    "keywords": [],
    "languages": [],
}


def _nest(path: tuple[str, ...], leaf: dict) -> dict:
    for key in reversed(path):
        leaf = {key: leaf}
    return {"type": "realtime", **leaf}


@pytest.mark.parametrize(
    ("path", "sdk"),
    [
        (("audio", "input"), realtime_audio_config_input_param.RealtimeAudioConfigInputParam),
        (("audio", "output"), realtime_audio_config_output_param.RealtimeAudioConfigOutputParam),
        (("audio", "input", "transcription"), audio_transcription_param.AudioTranscriptionParam),
    ],
)
def test_nested_fields_of_the_sdk_are_accepted_and_others_refused(path, sdk):
    for key in _keys(sdk):
        session_config.validate(_nest(path, {key: SAMPLES[key]}))
    with pytest.raises(ApiError) as caught:
        session_config.validate(_nest(path, {"bogus": 1}))
    assert caught.value.param == "session." + ".".join(path) + ".bogus"
