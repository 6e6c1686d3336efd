"""Random identifiers shaped like the upstream ones (`event_…`, `item_…`, `ek_…`)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 21) -> str:
    """Return `prefix_` followed by `length` random base62 characters."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


def new_hex_id(prefix: str, length: int = 32) -> str:
    """Return `prefix_` followed by `length` random lowercase hex digits."""
    return f"{prefix}_{secrets.token_hex(length // 2)}"
