"""Minting and looking up ephemeral client secrets (`ek_…`) held in memory."""

import time
from dataclasses import dataclass

from . import session_config
from .errors import ApiError, invalid_type, invalid_value, unknown_parameter
from .ids import new_hex_id

DEFAULT_TTL = 600
MIN_TTL = 10
MAX_TTL = 7200


@dataclass(frozen=True)
class ClientSecret:
    """A minted secret and the effective session config it starts sessions with."""

    value: str
    expires_at: int
    session: dict


def parse_create_body(body: object) -> tuple[int, dict]:
    """Validate a `POST /realtime/client_secrets` body; return (ttl seconds, session request)."""
    if not isinstance(body, dict):
        raise invalid_type("body", "an object", body)
    for key in body:
        if key not in ("expires_after", "session"):
            raise unknown_parameter(key)
    ttl = DEFAULT_TTL
    expires_after = body.get("expires_after")
    if expires_after is not None:
        ttl = _parse_expires_after(expires_after)
    session = body.get("session", {"type": "realtime"})
    session_config.validate(session)
    return ttl, session


def _parse_expires_after(value: object) -> int:
    if not isinstance(value, dict):
        raise invalid_type("expires_after", "an object", value)
    for key in value:
        if key not in ("anchor", "seconds"):
            raise unknown_parameter(f"expires_after.{key}")
    anchor = value.get("anchor", "created_at")
    if anchor != "created_at":
        raise invalid_value(
            "expires_after.anchor",
            f"Invalid value: '{anchor}'. Supported values are: 'created_at'.",
        )
    seconds = value.get("seconds", DEFAULT_TTL)
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise invalid_type("expires_after.seconds", "an integer", seconds)
    if not MIN_TTL <= seconds <= MAX_TTL:
        raise invalid_value(
            "expires_after.seconds",
            f"Invalid 'expires_after.seconds': expected a value between {MIN_TTL} and "
            f"{MAX_TTL}, but got {seconds} instead.",
        )
    return seconds


class SecretStore:
    """In-memory map of minted secrets; expired ones are refused and pruned."""

    def __init__(self, clock=time.time) -> None:
        self._clock = clock
        self._secrets: dict[str, ClientSecret] = {}

    def mint(self, session_request: dict, ttl: int = DEFAULT_TTL) -> ClientSecret:
        """Mint a secret for a validated session request; return it with the effective session."""
        self._prune()
        session = session_config.effective(session_request)
        secret = ClientSecret(value=new_hex_id("ek"), expires_at=int(self._clock()) + ttl, session=session)
        self._secrets[secret.value] = secret
        return secret

    def lookup(self, value: str) -> ClientSecret:
        """Return the unexpired secret `value`, else raise a 401 ApiError."""
        secret = self._secrets.get(value)
        if secret is None or secret.expires_at <= self._clock():
            raise ApiError(
                "Invalid ephemeral key provided. It may have expired; mint a new client secret.",
                status=401,
                code="invalid_api_key",
            )
        return secret

    def _prune(self) -> None:
        now = self._clock()
        for value in [v for v, s in self._secrets.items() if s.expires_at <= now]:
            del self._secrets[value]
