"""The voice upstreams: OpenAI Realtime and GPT-Live, chosen by VOICE_API.

Each upstream module is the only code that knows its wire shapes (session body, reply, usage
objects). Both expose the same small interface:

- `session_model() -> str`: the configured session model (audited before the config is built);
- `session_config(request: SessionRequest) -> SessionConfig`: what will be asked for;
- `start(*, config: SessionConfig, offer_sdp: str | None = None) -> UpstreamSession`: one upstream
  call, raising ServiceError/UpstreamError with a sentence for the page;
- `token_counts(usage: dict) -> TokenCounts`: a usage object (as the browser reports it) as plain
  counts, and `token_model(session_model) -> str`: the model whose prices those tokens have.

The orchestration (conversations/minting.py) only sees the dataclasses below.
"""

from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType

REALTIME = "realtime"
LIVE = "live"
NAMES = (REALTIME, LIVE)

# The one tool the voice model may call; the browser runs it through /api/weather/.
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


@dataclass(frozen=True)
class SessionRequest:
    """What the orchestration asks for, in upstream-neutral terms."""

    voice: str = ""  # the user's choice; "" = the upstream's configured default
    language: str = ""  # ISO 639-1 code of the language the user speaks, or ""
    language_name: str = ""  # the same in English words ("Dutch")
    instructions: str = ""  # the user's own preferences, added to ours
    history: tuple[tuple[str, str], ...] = ()  # (role, text) of a continued conversation, oldest first
    user_key: str = ""  # a stable pseudonym of the user (never the id or e-mail)


@dataclass(frozen=True)
class SessionConfig:
    """A session about to be started: what the audit records, plus the upstream's own request body."""

    upstream: str
    model: str
    voice: str
    body: dict = field(repr=False)  # only the upstream module reads this


@dataclass(frozen=True)
class UpstreamSession:
    """A started (live) or authorised (realtime) upstream session."""

    model: str
    voice: str
    request_id: str  # the upstream's x-request-id, for support tickets
    session_id: str  # the upstream session id when the reply names one ("live_…"), else ""
    expires_at: int | None  # Unix seconds, when the upstream says
    browser: dict = field(repr=False)  # what the page needs to connect; may hold a secret: never log


@dataclass(frozen=True)
class TokenCounts:
    """Token counts of one response; inputs include their cached part."""

    text_in: int = 0
    text_cached: int = 0
    audio_in: int = 0
    audio_cached: int = 0
    image_in: int = 0  # priced, not stored
    image_cached: int = 0
    text_out: int = 0
    audio_out: int = 0
    total_tokens: int = 0


def get(name: str) -> ModuleType:
    """The upstream module called `name` ("realtime" or "live")."""
    if name not in NAMES:
        raise ValueError(f"Unknown voice upstream {name!r}; expected one of {', '.join(NAMES)}.")
    return import_module(f"conversations.upstreams.{name}")
