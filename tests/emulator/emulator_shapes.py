"""Strict checks of emulator payloads against the official `openai` package's types."""

from openai.types.realtime import (
    ClientSecretCreateResponse,
    RealtimeServerEvent,
    RealtimeSessionCreateResponse,
)
from openai.types.shared import ErrorObject
from pydantic import BaseModel, TypeAdapter

SERVER_EVENT = TypeAdapter(RealtimeServerEvent)
SESSION_RESPONSE_ONLY = {"object", "id", "expires_at"}
ID_PREFIXES = {"event_id": "event_", "item_id": "item_", "response_id": "resp_", "call_id": "call_"}


def _no_extras(value: object, path: str) -> None:
    if isinstance(value, BaseModel):
        extra = set(value.model_extra or ())
        if path.endswith("Event.session"):
            # The SDK types session.created/updated with the request model, which lacks the
            # response-only fields upstream sends; those are checked against the response model.
            extra -= SESSION_RESPONSE_ONLY
        assert not extra, f"fields unknown to the SDK at {path}: {extra}"
        for name in type(value).model_fields:
            _no_extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_extras(item, f"{path}[{index}]")


def strict(model: BaseModel, payload: dict) -> BaseModel:
    """Fail on fields the SDK does not know and on values it had to coerce."""
    _no_extras(model, type(model).__name__)
    assert model.model_dump(mode="json", exclude_unset=True) == payload
    return model


def server_event(payload: dict) -> BaseModel:
    """Validate one data-channel event as `RealtimeServerEvent`; check the id prefixes."""
    model = strict(SERVER_EVENT.validate_python(payload), payload)
    if payload["type"] in ("session.created", "session.updated"):
        session = payload["session"]
        strict(RealtimeSessionCreateResponse.model_validate(session), session)
        assert session["id"].startswith("sess_")
    for field, prefix in ID_PREFIXES.items():
        if isinstance(payload.get(field), str) and payload[field]:
            assert payload[field].startswith(prefix), (field, payload[field])
    return model


def client_secret(payload: dict) -> ClientSecretCreateResponse:
    """Validate a `POST /realtime/client_secrets` answer."""
    model = strict(ClientSecretCreateResponse.model_validate(payload), payload)
    assert payload["value"].startswith("ek_")
    assert payload["session"]["id"].startswith("sess_")
    return model


def error_envelope(payload: dict, code: str | None, param: str | None = None) -> None:
    """Check the REST error envelope and its code/param."""
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"message", "type", "param", "code"}
    strict(ErrorObject.model_validate(payload["error"]), payload["error"])
    assert payload["error"]["code"] == code
    assert payload["error"]["param"] == param
