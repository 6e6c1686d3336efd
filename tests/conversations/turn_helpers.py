"""Builders shared by the conversation tests: turn bodies as the browser posts them, stored turns,
and posts from several threads at once."""

import threading

from django.db import connections

from conversations import figures
from conversations.models import Turn

# The usage object of response.done in docs/realtime-api.md, "Usage and cost".
USAGE = {
    "total_tokens": 253,
    "input_tokens": 132,
    "output_tokens": 121,
    "input_token_details": {
        "text_tokens": 119,
        "audio_tokens": 13,
        "image_tokens": 0,
        "cached_tokens": 64,
        "cached_tokens_details": {"text_tokens": 64, "audio_tokens": 0, "image_tokens": 0},
    },
    "output_token_details": {"text_tokens": 30, "audio_tokens": 91},
}
# (119 - 64) * 4 + 64 * 0.4 + 13 * 32 + 30 * 16 + 91 * 64 = 6965.6 USD per 1M -> gpt-realtime prices.
USAGE_COST = "0.006966"


def turn_body(item_id: str, role: str = "user", **fields) -> dict:
    return {"item_id": item_id, "role": role, "text": fields.pop("text", f"text of {item_id}"), **fields}


def make_turn(conversation, item_id: str, role: str = "user", *, position: int = 0, **fields) -> Turn:
    """A turn stored directly (not through the turn API), with the conversation's stored figures
    recounted as a write path would have kept them."""
    fields.setdefault("text", f"text of {item_id}")
    turn = Turn.objects.create(
        conversation=conversation, item_id=item_id, role=role, position=position, **fields
    )
    figures.recount([conversation.pk])
    return turn


def turns_url(conversation) -> str:
    return f"/api/conversations/{conversation.pk}/turns/"


THREADS = 8


def run_in_threads(work):
    """Run work(index) in THREADS threads released together; fail if any of them raised."""
    barrier, errors = threading.Barrier(THREADS), []

    def target(index):
        try:
            barrier.wait()
            work(index)
        except Exception as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
