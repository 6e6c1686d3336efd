"""The GPT-Live session: create body, resolved `SessionResource`, `session.update`, client commands."""

import copy
import time
import typing

from openai.types.live import ClientEvent, SessionConfig, SessionUpdateConfig
from openai.types.live.built_in_voice import BuiltInVoice

from ..errors import ApiError, invalid_type, invalid_value, missing_parameter, unknown_parameter
from . import strict

MODELS = typing.get_args(typing.get_args(SessionConfig.model_fields["model"].annotation)[1])
VOICES = typing.get_args(BuiltInVoice)
DEFAULT_VOICE = "marin"
DEFAULT_INSTRUCTIONS = "You are a helpful voice assistant. Keep your answers short and friendly."
# Fixed at creation: changing them in session.update is `immutable_field_update`.
IMMUTABLE = tuple(name for name in SessionConfig.model_fields if name not in ("delegation", "triggers"))
BACKEND_TOOLS = ("function", "web_search")
APPENDS = ("session.instructions.append", "session.thinking.append", "session.commentary.append")
_CLIENT_EVENTS = {
    typing.get_args(model.model_fields["type"].annotation)[0]: model
    for model in typing.get_args(typing.get_args(ClientEvent)[0])
}


def parse_create(body: object) -> tuple[dict, str]:
    """Validate a `POST /v1/live/sessions` body like the strict server; return (session, sdp)."""
    if not isinstance(body, dict):
        raise invalid_type("body", "an object", body)
    for key in body:
        if key not in ("session", "transport"):
            raise unknown_parameter(key)
    transport = body.get("transport")
    if transport is None:
        raise missing_parameter("transport")
    if not isinstance(transport, dict):
        raise invalid_type("transport", "an object", transport)
    for key in transport:
        if key not in ("type", "sdp"):
            raise unknown_parameter(f"transport.{key}")
    if "type" not in transport:
        raise missing_parameter("transport.type")
    if transport["type"] != "webrtc":
        raise invalid_value(
            "transport.type", f"Invalid value: '{transport['type']}'. Supported values are: 'webrtc'."
        )
    sdp = transport.get("sdp")
    if sdp is None:
        raise missing_parameter("transport.sdp")
    if not isinstance(sdp, str):
        raise invalid_type("transport.sdp", "a string", sdp)
    if not sdp.strip():
        raise invalid_value("transport.sdp", "Invalid 'transport.sdp': the SDP offer is empty.")
    session = body.get("session")
    if session is None:
        raise missing_parameter("session")
    return _validate_session(session), sdp


def _validate_session(session: object) -> dict:
    if not isinstance(session, dict):
        raise invalid_type("session", "an object", session)
    session = copy.deepcopy(session)
    # WebRTC-only settings the SessionConfig model lacks (`MediaSessionConfigParam` has them).
    webrtc = {key: session.pop(key) for key in ("idle_timeout_s", "wake_policy") if key in session}
    strict.validate(SessionConfig, session, "session")
    _check_tools(session.get("delegation"), "session.delegation")
    _check_webrtc_only(webrtc)
    if "format" in (session.get("audio") or {}):
        raise unknown_parameter("session.audio.format")
    voice = ((session.get("audio") or {}).get("output") or {}).get("voice")
    if isinstance(voice, str) and voice not in VOICES:
        supported = ", ".join(f"'{v}'" for v in VOICES)
        raise invalid_value(
            "session.audio.output.voice", f"Invalid value: '{voice}'. Supported values are: {supported}."
        )
    return session


def _check_tools(delegation: dict | None, path: str) -> None:
    """The SDK lists a dozen backend tool types; the delegation guide supports two."""
    tools = ((delegation or {}).get("responses") or {}).get("tools") or []
    for index, tool in enumerate(tools):
        if tool["type"] not in BACKEND_TOOLS:
            raise invalid_value(
                f"{path}.responses.tools[{index}].type",
                f"Invalid value: '{tool['type']}'. Supported values are: 'function', 'web_search'.",
            )


def _check_webrtc_only(webrtc: dict) -> None:
    timeout = webrtc.get("idle_timeout_s")
    if "idle_timeout_s" in webrtc and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        raise invalid_type("session.idle_timeout_s", "an integer", timeout)
    if "idle_timeout_s" in webrtc and timeout < 1:
        raise invalid_value("session.idle_timeout_s", "Invalid 'session.idle_timeout_s': must be at least 1.")
    if "wake_policy" not in webrtc:
        return
    policy = webrtc["wake_policy"]
    if not isinstance(policy, dict):
        raise invalid_type("session.wake_policy", "an object", policy)
    for key in policy:
        if key not in ("type", "vad_threshold"):
            raise unknown_parameter(f"session.wake_policy.{key}")
    if policy.get("type") != "speech":
        raise invalid_value("session.wake_policy.type", "Invalid value. Supported values are: 'speech'.")
    threshold = policy.get("vad_threshold", 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise invalid_value(
            "session.wake_policy.vad_threshold",
            "Invalid 'session.wake_policy.vad_threshold': expected 0 to 1.",
        )


def check_model(model: str, *, has_access: bool) -> None:
    """Refuse unknown models (404) and, by knob, a project without GPT-Live access (403)."""
    if model not in MODELS:
        raise ApiError(
            f"The model `{model}` does not exist or you do not have access to it.",
            status=404,
            code="model_not_found",
        )
    if not has_access:
        raise ApiError(
            f"Project `proj_emulator` does not have access to model `{model}`.",
            status=403,
            code="model_not_found",
        )


def resolve(session: dict, *, session_id: str, lifetime_s: float) -> dict:
    """Return the `SessionResource` with every server default filled in."""
    resource = {
        "id": session_id,
        "expires_at": int(time.time() + lifetime_s),
        "model": session["model"],
        "status": "active",
        "instructions": (session.get("instructions") or "").strip() or DEFAULT_INSTRUCTIONS,
        "input": session.get("input", []),
        "audio": {
            "output": {
                "voice": ((session.get("audio") or {}).get("output") or {}).get("voice") or DEFAULT_VOICE
            }
        },
        "delegation": _resolve_delegation(session.get("delegation")),
        "store": session.get("store", False),
    }
    for optional in ("client", "safety_identifier", "triggers"):
        if optional in session:
            resource[optional] = session[optional]
    return copy.deepcopy(resource)


def _resolve_delegation(delegation: dict | None) -> dict:
    delegation = copy.deepcopy(delegation) or {"type": "client"}
    default_delay = 400 if delegation["type"] == "decisions" else 0
    delegation.setdefault("acknowledgement_delay_ms", default_delay)
    return delegation


def apply_update(resource: dict, update: object) -> dict:
    """Return the resource after a `session.update`; immutable fields raise `immutable_field_update`."""
    if not isinstance(update, dict):
        raise invalid_type("session", "an object", update)
    for key in update:
        if key in IMMUTABLE:
            raise _immutable(f"session.{key}", f"The session's '{key}' cannot change after session startup.")
    strict.validate(SessionUpdateConfig, update, "session")
    _check_tools(update.get("delegation"), "session.delegation")
    resource = copy.deepcopy(resource)
    if "delegation" in update:
        change = update["delegation"]
        current = resource["delegation"]
        if (change or {"type": "client"})["type"] != current["type"]:
            raise _immutable(
                "session.delegation.type", "The delegation type cannot change after session startup."
            )
        for key, value in (change or {}).items():
            if key in ("responses", "decisions"):
                current[key] = {**current.get(key, {}), **value}
            else:
                current[key] = value
    if "triggers" in update:
        resource["triggers"] = update["triggers"]
    return resource


def _immutable(param: str, message: str) -> ApiError:
    return ApiError(message, code="immutable_field_update", param=param)


def parse_command(event: dict) -> None:
    """Validate a client event against the SDK's `ClientEvent` models (strictly, no unknown keys)."""
    model = _CLIENT_EVENTS.get(event.get("type"))
    if model is None:
        supported = ", ".join(f"'{name}'" for name in _CLIENT_EVENTS)
        raise invalid_value(
            "type", f"Invalid value: '{event.get('type')}'. Supported values are: {supported}."
        )
    if model is _CLIENT_EVENTS["session.update"]:
        # The nested session is checked by apply_update, which knows the immutable fields.
        for key in event:
            if key not in ("type", "event_id", "session"):
                raise unknown_parameter(key)
        if "session" not in event:
            raise missing_parameter("session")
        return
    strict.validate(model, event, "")
    if event["type"] in APPENDS and "delegation_id" not in event:
        # Required but nullable (`…AppendEventParam`); the SDK models silently default it.
        raise missing_parameter("delegation_id")
