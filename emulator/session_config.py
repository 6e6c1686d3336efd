"""Validation and defaults of the GA realtime session object (client_secrets, session.update)."""

import copy
from collections.abc import Callable

from .errors import invalid_type, invalid_value, missing_parameter, unknown_parameter
from .ids import new_id

MODELS = (
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-realtime-1.5",
    "gpt-realtime-2",
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-mini",
    "gpt-realtime-mini-2025-10-06",
    "gpt-realtime-mini-2025-12-15",
)
TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
    "gpt-transcribe",
    "gpt-live-transcribe",
)
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
DEFAULT_MODEL = "gpt-realtime"
DEFAULT_INSTRUCTIONS = (
    "You are a helpful, witty, and friendly AI. Act like a human, but remember that you aren't "
    "a human and that you can't do human things in the real world. Your voice and personality "
    "should be warm and engaging, with a lively and playful tone. Talk quickly."
)

Checker = Callable[[object, str], None]


def _string(value: object, path: str) -> None:
    if not isinstance(value, str):
        raise invalid_type(path, "a string", value)


def _boolean(value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise invalid_type(path, "a boolean", value)


def _anything(value: object, path: str) -> None:
    """Accept any JSON value (JSON Schemas, metadata)."""


def _enum(*choices: str) -> Checker:
    def check(value: object, path: str) -> None:
        _string(value, path)
        if value not in choices:
            supported = ", ".join(f"'{choice}'" for choice in choices)
            raise invalid_value(path, f"Invalid value: '{value}'. Supported values are: {supported}.")

    return check


def _number(low: float, high: float, *, integer: bool = False) -> Checker:
    kind = "integer" if integer else "decimal"

    def check(value: object, path: str) -> None:
        wanted = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise invalid_type(path, f"a{'n' if integer else ''} {kind}", value)
        if value < low:
            raise invalid_value(
                path,
                f"Invalid '{path}': {kind} below minimum value. "
                f"Expected a value >= {low}, but got {value} instead.",
            )
        if value > high:
            raise invalid_value(
                path,
                f"Invalid '{path}': {kind} above maximum value. "
                f"Expected a value <= {high}, but got {value} instead.",
            )

    return check


def _nullable(checker: Checker) -> Checker:
    def check(value: object, path: str) -> None:
        if value is not None:
            checker(value, path)

    return check


def _list(checker: Checker, *, min_items: int = 0, max_items: int = 1000) -> Checker:
    def check(value: object, path: str) -> None:
        if not isinstance(value, list):
            raise invalid_type(path, "an array", value)
        if not min_items <= len(value) <= max_items:
            raise invalid_value(
                path,
                f"Invalid '{path}': expected an array of {min_items} to {max_items} items, "
                f"but got {len(value)} items instead.",
            )
        for index, item in enumerate(value):
            checker(item, f"{path}[{index}]")

    return check


def _object(fields: dict[str, Checker], *, required: tuple[str, ...] = ()) -> Checker:
    def check(value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise invalid_type(path, "an object", value)
        for key in value:
            if key not in fields:
                raise unknown_parameter(f"{path}.{key}")
        for key in required:
            if key not in value:
                raise missing_parameter(f"{path}.{key}")
        for key, item in value.items():
            fields[key](item, f"{path}.{key}")

    return check


def _audio_format(value: object, path: str) -> None:
    _object({"type": _enum("audio/pcm", "audio/pcmu", "audio/pcma"), "rate": _anything})(value, path)
    if "rate" in value:
        if value.get("type", "audio/pcm") != "audio/pcm":
            raise unknown_parameter(f"{path}.rate")
        if value["rate"] != 24000:
            raise invalid_value(
                f"{path}.rate",
                f"Invalid value: '{value['rate']}'. Supported values are: '24000'.",
            )


_SERVER_VAD = {
    "type": _enum("server_vad"),
    "threshold": _number(0.0, 1.0),
    "prefix_padding_ms": _number(0, 10_000, integer=True),
    "silence_duration_ms": _number(0, 10_000, integer=True),
    "idle_timeout_ms": _nullable(_number(5_000, 30_000, integer=True)),
    "create_response": _boolean,
    "interrupt_response": _boolean,
}
_SEMANTIC_VAD = {
    "type": _enum("semantic_vad"),
    "eagerness": _enum("low", "medium", "high", "auto"),
    "create_response": _boolean,
    "interrupt_response": _boolean,
}


def _turn_detection(value: object, path: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid_type(path, "an object", value)
    if "type" not in value:
        raise missing_parameter(f"{path}.type")
    _enum("server_vad", "semantic_vad")(value["type"], f"{path}.type")
    fields = _SERVER_VAD if value["type"] == "server_vad" else _SEMANTIC_VAD
    _object(fields)(value, path)


def _voice(value: object, path: str) -> None:
    if isinstance(value, dict):
        _object({"id": _string}, required=("id",))(value, path)
    else:
        _enum(*VOICES)(value, path)


def _max_output_tokens(value: object, path: str) -> None:
    if value == "inf":
        return
    _number(1, 4096, integer=True)(value, path)


def _tool(value: object, path: str) -> None:
    if isinstance(value, dict) and value.get("type") == "mcp":
        raise invalid_value(f"{path}.type", "MCP tools are not supported by the local emulator.")
    _object(
        {
            "type": _enum("function"),
            "name": _string,
            "description": _string,
            "parameters": _object_any,
        },
        required=("name",),
    )(value, path)


def _object_any(value: object, path: str) -> None:
    if not isinstance(value, dict):
        raise invalid_type(path, "an object", value)


def _tool_choice(value: object, path: str) -> None:
    if isinstance(value, dict):
        _object({"type": _enum("function"), "name": _string}, required=("type", "name"))(value, path)
    else:
        _enum("auto", "none", "required")(value, path)


def _tracing(value: object, path: str) -> None:
    if value is None or value == "auto":
        return
    if not isinstance(value, dict):
        _enum("auto")(value, path)
    _object({"workflow_name": _string, "group_id": _string, "metadata": _object_any})(value, path)


def _truncation(value: object, path: str) -> None:
    if isinstance(value, dict):
        _object(
            {
                "type": _enum("retention_ratio"),
                "retention_ratio": _number(0.0, 1.0),
                "token_limits": _object({"post_instructions": _number(0, 10**7, integer=True)}),
            },
            required=("type", "retention_ratio"),
        )(value, path)
    else:
        _enum("auto", "disabled")(value, path)


_TRANSCRIPTION = _object(
    {
        "model": _enum(*TRANSCRIPTION_MODELS),
        "language": _string,
        "prompt": _string,
        "delay": _enum("minimal", "low", "medium", "high", "xhigh"),
        "keywords": _list(_string),
        "languages": _list(_string),
    }
)
_AUDIO = _object(
    {
        "input": _object(
            {
                "format": _audio_format,
                "transcription": _nullable(_TRANSCRIPTION),
                "noise_reduction": _nullable(
                    _object({"type": _enum("near_field", "far_field"), "strength": _number(0, 1)})
                ),
                "turn_detection": _turn_detection,
            }
        ),
        "output": _object({"format": _audio_format, "voice": _voice, "speed": _number(0.25, 1.5)}),
    }
)
_SESSION_FIELDS: dict[str, Checker] = {
    "type": _enum("realtime"),
    "model": _enum(*MODELS),
    "instructions": _string,
    "output_modalities": _list(_enum("audio", "text"), min_items=1, max_items=1),
    "audio": _AUDIO,
    "tools": _list(_tool),
    "tool_choice": _tool_choice,
    "max_output_tokens": _max_output_tokens,
    "tracing": _tracing,
    "truncation": _truncation,
    "prompt": _nullable(_object({"id": _string, "version": _nullable(_string), "variables": _object_any})),
    "include": _nullable(_list(_enum("item.input_audio_transcription.logprobs"))),
    "parallel_tool_calls": _boolean,
    "reasoning": _nullable(_object({"effort": _enum("minimal", "low", "medium", "high", "xhigh")})),
}


def validate(session: object, *, path: str = "session") -> dict:
    """Check a session object like upstream does; raise ApiError, else return it unchanged."""
    if not isinstance(session, dict):
        raise invalid_type(path, "an object", session)
    if "type" not in session:
        raise missing_parameter(f"{path}.type")
    if session["type"] == "transcription":
        raise invalid_value(f"{path}.type", "Transcription sessions are not supported by the local emulator.")
    _object(_SESSION_FIELDS)(session, path)
    return session


def turn_detection_defaults(kind: str) -> dict:
    """Return the full turn detection object upstream reports for `kind`."""
    if kind == "semantic_vad":
        return {
            "type": "semantic_vad",
            "eagerness": "auto",
            "create_response": True,
            "interrupt_response": True,
        }
    return {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }


def defaults() -> dict:
    """Return the effective config of a session created with only `type: realtime`."""
    pcm = {"type": "audio/pcm", "rate": 24000}
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "",
        "model": DEFAULT_MODEL,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": 0,
        "include": None,
        "audio": {
            "input": {
                "format": dict(pcm),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": turn_detection_defaults("server_vad"),
            },
            "output": {"format": dict(pcm), "voice": "alloy", "speed": 1.0},
        },
    }


def apply(current: dict, update: dict) -> dict:
    """Return `current` with a validated (partial) session object applied, upstream style."""
    merged = copy.deepcopy(current)
    _merge(merged, update)
    merged.pop("parallel_tool_calls", None)
    return merged


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if key == "turn_detection" and isinstance(value, dict):
            previous = target.get(key) or {}
            base = turn_detection_defaults(value["type"])
            if previous.get("type") == value["type"]:
                base.update(previous)
            base.update(value)
            target[key] = base
        elif key == "format" and isinstance(value, dict):
            kind = value.get("type", "audio/pcm")
            target[key] = {"type": kind, "rate": 24000} if kind == "audio/pcm" else {"type": kind}
        elif key in ("audio", "input", "output") and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def effective(request: dict) -> dict:
    """Return the full session config (with a new `sess_` id) for a validated request."""
    config = apply(defaults(), request)
    config["id"] = new_id("sess")
    return config
