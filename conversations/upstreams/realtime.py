"""The only code that knows the OpenAI Realtime (GA) shapes: session config, client secret, usage.

The browser connects itself: we mint a short-lived client secret (`ek_…`) with the server key and
the page posts its SDP offer to `/realtime/calls` with it. docs/gpt-live.md compares this with
GPT-Live.
"""

from django.conf import settings
from openai.types.realtime import ClientSecretCreateResponse

from conversations.upstreams import (
    GET_WEATHER_TOOL,
    REALTIME,
    SessionConfig,
    SessionRequest,
    TokenCounts,
    UpstreamSession,
    openai_client,
)

TURN_DETECTION = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "create_response": True,
    "interrupt_response": True,
}
PATH = "/realtime/client_secrets"


def session_model() -> str:
    """The model a session is started with (the audit row names it, granted or not)."""
    return settings.REALTIME_MODEL


def session_config(request: SessionRequest) -> SessionConfig:
    """The Realtime session every key is minted for, built from settings and the user's preferences."""
    instructions = settings.REALTIME_INSTRUCTIONS
    if request.instructions:
        instructions += f"\n\nThe user asks you to follow these preferences: {request.instructions}"
    if request.history:
        lines = "\n".join(f"{role.title()}: {text}" for role, text in request.history)
        instructions += f"\n\nThe conversation so far (continue from here):\n{lines}"
    transcription = {"model": settings.REALTIME_TRANSCRIPTION_MODEL}
    if request.language:
        transcription["language"] = request.language
    voice = request.voice or settings.REALTIME_VOICE
    body = {
        "type": "realtime",
        "model": settings.REALTIME_MODEL,
        "output_modalities": ["audio"],
        "instructions": instructions,
        "audio": {
            "input": {
                "transcription": transcription,
                "noise_reduction": {"type": "near_field"},
                "turn_detection": TURN_DETECTION,
            },
            "output": {"voice": voice},
        },
        "tools": [GET_WEATHER_TOOL],
        "tool_choice": "auto",
    }
    return SessionConfig(upstream=REALTIME, model=session_model(), voice=voice, body=body)


def calls_url() -> str:
    """Where the browser posts its SDP offer with the ephemeral key."""
    return f"{settings.OPENAI_BASE_URL}/realtime/calls"


def start(*, config: SessionConfig, offer_sdp: str | None = None) -> UpstreamSession:
    """Mint a client secret for `config` (POST /realtime/client_secrets); the browser posts its own offer."""

    raw = openai_client.call(
        path=PATH,
        body={
            "expires_after": {"anchor": "created_at", "seconds": settings.REALTIME_TOKEN_TTL},
            "session": config.body,
        },
        cast_to=ClientSecretCreateResponse,
        models=[
            ("REALTIME_MODEL", config.model, "session.model"),
            (
                "REALTIME_TRANSCRIPTION_MODEL",
                settings.REALTIME_TRANSCRIPTION_MODEL,
                "session.audio.input.transcription.model",
            ),
        ],
    )
    try:
        secret = raw.parse()
    except ValueError:
        secret = None
    value = getattr(secret, "value", None) if isinstance(secret, ClientSecretCreateResponse) else None
    expires_at = getattr(secret, "expires_at", None)
    if not isinstance(value, str) or not value or not isinstance(expires_at, int):
        raise openai_client.unreadable(PATH, raw)
    return UpstreamSession(
        model=config.model,
        voice=config.voice,
        request_id=openai_client.request_id(raw),
        session_id="",  # the call id arrives when the browser posts its offer to /realtime/calls
        expires_at=expires_at,
        browser={"client_secret": value, "expires_at": expires_at, "calls_url": calls_url()},
    )


def token_model(session_model: str) -> str:
    """Tokens in a Realtime conversation are the session model's."""
    return session_model


def token_counts(usage: dict) -> TokenCounts:
    """Counts of a Realtime `response.usage` object (response.done)."""
    details = usage.get("input_token_details") or {}
    cached = details.get("cached_tokens_details") or {}
    out = usage.get("output_token_details") or {}
    return TokenCounts(
        text_in=details.get("text_tokens") or 0,
        text_cached=cached.get("text_tokens") or 0,
        audio_in=details.get("audio_tokens") or 0,
        audio_cached=cached.get("audio_tokens") or 0,
        image_in=details.get("image_tokens") or 0,
        image_cached=cached.get("image_tokens") or 0,
        text_out=out.get("text_tokens") or 0,
        audio_out=out.get("audio_tokens") or 0,
        total_tokens=usage.get("total_tokens") or 0,
    )
