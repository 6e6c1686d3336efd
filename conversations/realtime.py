"""The only code that knows the upstream Realtime shapes: session config and client_secrets.

Reference: shared/docs/realtime-api.md §2 (GA interface; the beta /realtime/sessions is gone).
"""

from dataclasses import dataclass

from django.conf import settings

from core import http
from core.errors import ServiceError, UpstreamError

GET_WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a place. Call it whenever the user asks about the weather.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "A city or place name, e.g. 'Amsterdam' or 'São Paulo'.",
            }
        },
        "required": ["location"],
    },
}
TURN_DETECTION = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "create_response": True,
    "interrupt_response": True,
}
SERVICE = "voice service"
NOT_CONFIGURED = "The voice service is not configured. Please tell the site administrator."


@dataclass(frozen=True)
class ClientSecret:
    value: str
    expires_at: int
    request_id: str


def session_config(*, voice: str, language: str, extra_instructions: str, history: str = "") -> dict:
    """The realtime session every key is minted for, built from settings and the user's preferences."""
    instructions = settings.REALTIME_INSTRUCTIONS
    if extra_instructions:
        instructions += f"\n\nThe user asks you to follow these preferences: {extra_instructions}"
    if history:
        instructions += f"\n\nThe conversation so far (continue from here):\n{history}"
    transcription = {"model": settings.REALTIME_TRANSCRIPTION_MODEL}
    if language:
        transcription["language"] = language
    return {
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
            "output": {"voice": voice or settings.REALTIME_VOICE},
        },
        "tools": [GET_WEATHER_TOOL],
        "tool_choice": "auto",
    }


def calls_url() -> str:
    """Where the browser posts its SDP offer with the ephemeral key."""
    return f"{settings.OPENAI_BASE_URL}/realtime/calls"


def _auth_headers() -> dict:
    if settings.OPENAI_AUTH_STYLE == "azure":
        return {"api-key": settings.OPENAI_API_KEY}
    return {"Authorization": f"Bearer {settings.OPENAI_API_KEY}"}


def create_client_secret(*, session: dict) -> ClientSecret:
    """POST /realtime/client_secrets; raises ServiceError/UpstreamError with a sentence for the page."""
    if not settings.OPENAI_API_KEY:
        raise ServiceError(NOT_CONFIGURED, status_code=503)
    response = http.send(
        "POST",
        f"{settings.OPENAI_BASE_URL}/realtime/client_secrets",
        service=SERVICE,
        headers=_auth_headers(),
        json={
            "expires_after": {"anchor": "created_at", "seconds": settings.REALTIME_TOKEN_TTL},
            "session": session,
        },
    )
    upstream_status = response.status_code
    if upstream_status in (401, 403):
        raise UpstreamError(NOT_CONFIGURED, status_code=503, upstream_status=upstream_status)
    if upstream_status == 429:
        raise UpstreamError(
            "The voice service is busy right now. Please try again in a moment.",
            status_code=429,
            retry_after=_retry_after(response.headers.get("retry-after")),
            upstream_status=upstream_status,
        )
    if upstream_status >= 400:
        raise UpstreamError(
            "The voice service could not start a session. Please try again later.",
            upstream_status=upstream_status,
        )
    try:
        body = response.json()
        value, expires_at = str(body["value"]), int(body["expires_at"])
    except (ValueError, KeyError, TypeError):
        raise UpstreamError(
            "The voice service sent an answer we could not read. Please try again.",
            upstream_status=upstream_status,
        ) from None
    return ClientSecret(
        value=value, expires_at=expires_at, request_id=response.headers.get("x-request-id", "")[:100]
    )


def _retry_after(header: str | None) -> int:
    try:
        return max(1, min(int(float(header)), 3600))
    except (TypeError, ValueError):
        return 10
