"""The browser's post of a new turn (with its position): one statement on PostgreSQL, the same
stored rows and answer as the transactional path (conversations/turn_insert.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from turn_helpers import USAGE, USAGE_COST, make_turn, turn_body, turns_url

from conversations import services
from conversations.models import TURN_FIELDS, Conversation, Turn, Usage
from conversations.serializers import TurnInSerializer

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one statement is PostgreSQL's"
)


def browser_body(item_id="a1", role="assistant", **fields) -> dict:
    browser = {
        "previous_item_id": "u1",
        "session": 1,
        "position": 1,
        "status": "completed",
        "started_at": "2026-11-24T10:00:01.500Z",
        "ended_at": "2026-11-24T10:00:04Z",
        "audio_end_ms": 2500,
    }
    return turn_body(item_id, role, **{**browser, **fields})


@ON_POSTGRESQL
def test_a_new_turn_with_usage_is_one_statement(alice_conversation):
    with CaptureQueriesContext(connection) as queries:
        body = browser_body(
            usage=USAGE, started_at=None, ended_at=dt.datetime(2026, 11, 24, 10, 0, 4, tzinfo=dt.UTC)
        )
        turn, created = services.record_turn(conversation=alice_conversation, body=body)
    assert created
    assert len(queries) == 1
    assert turn.usage.cost == Decimal(USAGE_COST)


def _prepared_statements() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


@ON_POSTGRESQL
def test_the_statement_is_parsed_and_planned_once_per_connection(alice_api, alice_conversation):
    # Django opens connections with psycopg's preparation off; the insert still prepares its
    # statement, so later posts send only the values (PostgreSQL's own view of the session).
    before = _prepared_statements()
    for position in range(3):
        body = turn_body(f"p{position}", "assistant", session=1, position=position)
        assert alice_api.post(turns_url(alice_conversation), body).status_code == 201
    assert Conversation.objects.filter(pk=alice_conversation.pk).count() == 1  # a query of Django's
    after = _prepared_statements()
    runs = {statement: count - before.get(statement, 0) for statement, count in after.items()}
    assert [count for count in runs.values() if count] == [3]
    # Only the statements asked for are prepared, never Django's own queries.
    assert all(statement.startswith("WITH owner AS ") for statement in after)


def test_the_stored_turn_usage_and_answer_match_the_post(alice_api, alice_conversation):
    response = alice_api.post(turns_url(alice_conversation), browser_body(usage=USAGE))
    assert response.status_code == 201
    stored = Turn.objects.select_related("usage").get(conversation=alice_conversation, item_id="a1")
    assert (stored.session, stored.position, stored.previous_item_id, stored.audio_end_ms) == (
        1,
        1,
        "u1",
        2500,
    )
    assert not stored.position_assigned
    usage = Usage.objects.get(turn=stored)
    assert (usage.user, usage.conversation, usage.model) == (
        alice_conversation.owner,
        alice_conversation,
        "gpt-realtime",
    )
    assert (usage.day, usage.cost, usage.total_tokens) == (dt.date(2026, 11, 24), Decimal(USAGE_COST), 253)
    detail = alice_api.get(f"/api/conversations/{alice_conversation.pk}/").json()
    assert detail["turns"] == [response.json()]


def test_a_model_without_a_price_stores_usage_at_no_cost(alice_api, alice):
    conversation = Conversation.objects.create(owner=alice, model="some-future-model")
    response = alice_api.post(turns_url(conversation), browser_body(usage=USAGE))
    assert response.status_code == 201
    assert response.json()["usage"]["cost"] == "0.000000"
    assert Usage.objects.get().cost == 0


def test_the_first_user_words_title_and_start_the_conversation(alice_api, alice):
    conversation = Conversation.objects.create(owner=alice)
    before = conversation.updated_at
    body = browser_body("u1", "user", text="What is the weather like in Oslo today, please tell me")
    assert alice_api.post(turns_url(conversation), body).status_code == 201
    conversation.refresh_from_db()
    assert conversation.title == "What is the weather like in Oslo today…"
    assert conversation.started_at == dt.datetime(2026, 11, 24, 10, 0, 1, 500000, tzinfo=dt.UTC)
    assert conversation.updated_at > before


def test_a_titled_conversation_keeps_its_title_and_earliest_start(alice_api, alice_conversation):
    alice_conversation.started_at = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    alice_conversation.save()
    assert alice_api.post(turns_url(alice_conversation), browser_body("u1", "user")).status_code == 201
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Weather in Oslo"
    assert alice_conversation.started_at == dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def test_bob_cannot_post_a_positioned_turn_to_alices_conversation(bob_api, alice_conversation):
    before = Conversation.objects.get(pk=alice_conversation.pk).updated_at
    response = bob_api.post(turns_url(alice_conversation), browser_body(usage=USAGE))
    assert response.status_code == 404
    assert not Turn.objects.exists()
    assert not Usage.objects.exists()
    assert Conversation.objects.get(pk=alice_conversation.pk).updated_at == before


def test_an_invalid_post_to_someone_elses_conversation_is_a_404(bob_api, alice_conversation):
    response = bob_api.post(turns_url(alice_conversation), browser_body(role="robot"))
    assert response.status_code == 404


def test_a_retried_positioned_post_answers_200_and_keeps_one_usage(alice_api, alice_conversation):
    body = browser_body(usage=USAGE)
    assert alice_api.post(turns_url(alice_conversation), body).status_code == 201
    response = alice_api.post(turns_url(alice_conversation), {**body, "text": "Sunny, 3 degrees."})
    assert response.status_code == 200
    assert response.json()["text"] == "Sunny, 3 degrees."
    assert (Turn.objects.count(), Usage.objects.count()) == (1, 1)


def test_server_placed_successors_move_after_a_late_positioned_predecessor(alice_api, alice_conversation):
    make_turn(alice_conversation, "u0", position=0)
    # a2 arrived first without a position: the server put it after the last turn.
    make_turn(
        alice_conversation, "a2", "assistant", position=1, previous_item_id="a1", position_assigned=True
    )
    make_turn(alice_conversation, "u3", position=2)
    response = alice_api.post(
        turns_url(alice_conversation), browser_body("a1", previous_item_id="u0", position=1)
    )
    assert response.status_code == 201
    detail = alice_api.get(f"/api/conversations/{alice_conversation.pk}/").json()
    assert [turn["item_id"] for turn in detail["turns"]] == ["u0", "a1", "a2", "u3"]


def test_a_post_accepts_every_turn_field_but_the_server_time_stamps():
    accepted = set(TurnInSerializer().fields)
    assert accepted == set(TURN_FIELDS) - {"created_at", "updated_at"} | {"usage"}
