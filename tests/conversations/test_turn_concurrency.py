"""Concurrent posts of the same turns (several tabs, retries) on PostgreSQL, with real threads."""

import pytest
from django.db import connection
from turn_helpers import THREADS, USAGE, run_in_threads, turn_body

from conversations import services
from conversations.models import Turn, Usage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every write, so it cannot show a race; CI runs this on PostgreSQL.",
    ),
]


def test_the_same_turn_posted_at_once_from_many_tabs_is_stored_once(alice_conversation):
    results = []

    def post(index):
        body = turn_body("a1", "assistant", position=1, text=f"version {index}", usage=USAGE)
        results.append(services.record_turn(conversation=alice_conversation, body=body)[1])

    run_in_threads(post)
    assert Turn.objects.filter(conversation=alice_conversation).count() == 1
    assert Usage.objects.count() == 1
    assert results.count(True) == 1  # exactly one request created it, the others updated it


def test_different_turns_posted_at_once_are_all_kept(alice_conversation):
    def post(index):
        batch = [
            turn_body(f"u{index}", position=2 * index),
            turn_body(f"a{index}", "assistant", position=2 * index + 1),
        ]
        services.record_turns(conversation=alice_conversation, turns=batch)
        # and a retry of a neighbour's turn
        services.record_turn(conversation=alice_conversation, body=turn_body(f"u{(index + 1) % THREADS}"))

    run_in_threads(post)
    stored = list(alice_conversation.turns.values_list("item_id", flat=True))
    assert len(stored) == 2 * THREADS
    assert stored[:4] == ["u0", "a0", "u1", "a1"]
