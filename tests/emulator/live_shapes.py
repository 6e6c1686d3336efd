"""Strict checks of the GPT-Live emulation against the `openai` package's `openai.types.live` types."""

import json

from emulator_shapes import strict
from openai.types.live import (
    ClientEventParam,
    LiveCreateParams,
    LiveCreateResponse,
    ServerEvent,
    SessionResource,
)
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

SERVER_EVENT = TypeAdapter(ServerEvent)
NESTED_EVENT = TypeAdapter(ResponseStreamEvent)
CLIENT_EVENT = TypeAdapter(ClientEventParam)
CREATE_PARAMS = TypeAdapter(LiveCreateParams)
# What GPT-Live may send on a WebRTC data channel (the rest of ServerEvent is sideband or SIP only).
DATA_CHANNEL_EVENTS = {
    "session.started", "session.updated", "session.closed", "session.usage.updated",
    "session.input_transcript.delta", "session.output_transcript.delta", "session.delegation.created",
    "session.input_audio.muted", "session.input_audio.unmuted", "session.instructions.appended",
    "session.thinking.appended", "session.commentary.appended", "response.event", "error", "info",
}  # fmt: skip


def server_event(payload: dict) -> BaseModel:
    """Validate one data-channel event as `ServerEvent` (and its nested Responses event)."""
    assert payload["type"] in DATA_CHANNEL_EVENTS, payload["type"]
    model = strict(SERVER_EVENT.validate_python(payload), payload)
    assert payload["event_id"].startswith("event_")
    if "session" in payload:
        strict(SessionResource.model_validate(payload["session"]), payload["session"])
        assert payload["session"]["id"].startswith("live_")
        assert payload["session"]["status"] == "active"
    if payload["type"] == "response.event":
        strict(NESTED_EVENT.validate_python(payload["event"]), payload["event"])
    return model


def create_body(payload: dict) -> dict:
    """Check a `POST /v1/live/sessions` body against `LiveCreateParams`; return it unchanged."""
    validated = CREATE_PARAMS.validate_python(payload)
    # `Iterable[...]` fields validate lazily: consume them so a bad element fails here.
    json.loads(json.dumps(validated, default=list))
    return payload


def create_reply(payload: dict) -> LiveCreateResponse:
    """Validate the 201 reply."""
    model = strict(LiveCreateResponse.model_validate(payload), payload)
    assert payload["session"]["id"].startswith("live_")
    assert payload["transport"]["type"] == "webrtc"
    return model


def client_event(payload: dict) -> dict:
    """Validate a command the tests send, so they only send what the SDK can."""
    return CLIENT_EVENT.validate_python(payload)
