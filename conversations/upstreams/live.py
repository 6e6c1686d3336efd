"""The only code that knows the GPT-Live shapes: session config, the relayed create, usage and price.

GPT-Live has no ephemeral keys: the browser sends its SDP offer to us, we POST it with the session
config to `/live/sessions` with the server key and hand the SDP answer back. Each create is billed
15 seconds up front, so it is never retried. docs/gpt-live.md explains the whole flow.
"""

from decimal import Decimal

from django.conf import settings
from openai.types.live import LiveCreateResponse

from conversations import prices
from conversations.upstreams import (
    GET_WEATHER_TOOL,
    LIVE,
    SessionConfig,
    SessionRequest,
    TokenCounts,
    UpstreamSession,
    openai_client,
)

PATH = "/live/sessions"
NO_ACCESS = "This server's OpenAI key cannot use GPT-Live; the administrator can set VOICE_API=realtime"
SECONDS_PER_MINUTE = Decimal(60)
COST_PLACES = Decimal("0.000001")

# The backend (Responses) model calls it. Strict function tools want every property required and
# no others; strict mode does not combine with parallel tool calls, so the backend asks for one
# place at a time.
STRICT_WEATHER_TOOL = {
    **GET_WEATHER_TOOL,
    "parameters": {**GET_WEATHER_TOOL["parameters"], "additionalProperties": False},
    "strict": True,
}
# What the page may send and receive on its data channel: enough for transcripts, the weather
# tool, mute, usage and closing; nothing that rewrites the session (session.update, instructions).
ALLOWED_CLIENT_EVENTS = [
    "response.item.create",
    "response.create",
    "session.input_audio.mute",
    "session.input_audio.unmute",
    "session.close",
]
ALLOWED_SERVER_EVENTS = [
    *(
        {"type": event}
        for event in (
            "session.started",
            "session.closed",
            "session.usage.updated",
            "session.input_transcript.delta",
            "session.output_transcript.delta",
            "session.delegation.created",
            "session.input_audio.muted",
            "session.input_audio.unmuted",
            "error",
            "info",
        )
    ),
    *(
        {"type": "response.event", "response_event": event}
        for event in (
            "response.created",
            "response.output_item.done",
            "response.completed",
            "response.failed",
            "response.incomplete",
        )
    ),
]


def session_model() -> str:
    """The model a session is started with (the audit row names it, granted or not)."""
    return settings.LIVE_MODEL


def session_config(request: SessionRequest) -> SessionConfig:
    """The GPT-Live session for one create, from settings and the user's preferences."""
    instructions = settings.LIVE_INSTRUCTIONS
    if request.language_name:
        # GPT-Live transcribes on its own, with no language field: say it in the instructions.
        instructions += (
            f"\n\nThe user speaks {request.language_name}. Answer in {request.language_name} "
            "unless they ask for another language."
        )
    if request.instructions:
        instructions += f"\n\nThe user asks you to follow these preferences: {request.instructions}"
    voice = request.voice or settings.LIVE_VOICE
    body = {
        "model": settings.LIVE_MODEL,
        "instructions": instructions,
        "audio": {"output": {"voice": voice}},
        "delegation": {
            "type": "responses",
            "responses": {
                "model": settings.LIVE_BACKEND_MODEL,
                "instructions": settings.LIVE_BACKEND_INSTRUCTIONS,
                "tools": [STRICT_WEATHER_TOOL],
                "tool_choice": "auto",
                "parallel_tool_calls": False,
            },
        },
        "client": {
            "data_channel": {
                "allowed_client_events": ALLOWED_CLIENT_EVENTS,
                "allowed_server_events": ALLOWED_SERVER_EVENTS,
            }
        },
    }
    if request.user_key:
        body["safety_identifier"] = request.user_key
    if request.history:
        body["input"] = [_history_item(role, text) for role, text in request.history]
    return SessionConfig(upstream=LIVE, model=session_model(), voice=voice, body=body)


def _history_item(role: str, text: str) -> dict:
    part = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": part, "text": text}]}


def start(*, config: SessionConfig, offer_sdp: str | None = None) -> UpstreamSession:
    """Relay the browser's SDP offer to POST /live/sessions (exactly once) and return the answer."""
    if not offer_sdp:
        raise ValueError("GPT-Live needs the browser's SDP offer.")

    raw = openai_client.call(
        path=PATH,
        body={"session": config.body, "transport": {"type": "webrtc", "sdp": offer_sdp}},
        cast_to=LiveCreateResponse,
        models=[
            ("LIVE_MODEL", config.model, "session.model"),
            ("LIVE_BACKEND_MODEL", settings.LIVE_BACKEND_MODEL, "session.delegation.responses.model"),
        ],
        access_denied=(401, 403, 404),
        access_sentence=NO_ACCESS,
    )
    try:
        created = raw.parse()
    except ValueError:
        created = None
    if not isinstance(created, LiveCreateResponse):
        raise openai_client.unreadable(PATH, raw)
    session_id = getattr(created.session, "id", None)
    answer = getattr(created.transport, "sdp", None)
    if (
        not isinstance(session_id, str)
        or not session_id
        or not isinstance(answer, str)
        or "v=0" not in answer
    ):
        raise openai_client.unreadable(PATH, raw)
    return UpstreamSession(
        model=config.model,
        voice=config.voice,
        request_id=openai_client.request_id(raw),
        session_id=session_id[:100],
        expires_at=None,  # announced in session.started on the data channel
        browser={"sdp": answer, "session_id": session_id},
    )


def token_model(session_model: str) -> str:
    """Tokens in a GPT-Live conversation are the backend model's."""
    return settings.LIVE_BACKEND_MODEL


def token_counts(usage: dict) -> TokenCounts:
    """Counts of a Responses `ResponseUsage` object (the delegation backend's tokens)."""
    cached = (usage.get("input_tokens_details") or {}).get("cached_tokens") or 0
    return TokenCounts(
        text_in=usage.get("input_tokens") or 0,
        text_cached=cached,
        text_out=usage.get("output_tokens") or 0,  # includes reasoning tokens, billed as output
        total_tokens=usage.get("total_tokens") or 0,
    )


def time_cost(*, model: str, seconds: Decimal, paused_seconds: Decimal | None = None) -> Decimal | None:
    """USD cost of `seconds` of session (a usage snapshot) at LIVE_PRICES; None when unpriced.

    Paused seconds (inference on standby) are part of `seconds` and billed at the standby price.
    """
    per_minute = prices.time_prices(model)
    if per_minute is None:
        return None
    active_price = Decimal(str(per_minute.get("active_per_minute", 0)))
    standby_price = Decimal(str(per_minute.get("standby_per_minute", per_minute.get("active_per_minute", 0))))
    paused = min(paused_seconds or Decimal(0), seconds)
    total = (seconds - paused) * active_price + paused * standby_price
    return (total / SECONDS_PER_MINUTE).quantize(COST_PLACES)
