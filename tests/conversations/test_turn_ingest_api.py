import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from turn_helpers import USAGE, USAGE_COST, turn_body, turns_url

from conversations.models import TURN_FIELDS, Conversation, Turn
from conversations.serializers import TurnInSerializer

pytestmark = pytest.mark.django_db


def test_it_creates_a_turn_with_201_and_echoes_it(alice_api, alice_conversation):
    response = alice_api.post(turns_url(alice_conversation), turn_body("u1", session=1, position=0))
    assert response.status_code == 201
    assert response.json()["item_id"] == "u1"
    assert response.json()["text"] == "text of u1"


def test_a_repeated_post_answers_200_and_stores_one_row(alice_api, alice_conversation):
    body = turn_body("a1", "assistant", session=1, position=1)
    alice_api.post(turns_url(alice_conversation), body)
    response = alice_api.post(turns_url(alice_conversation), {**body, "text": "final text"})
    assert response.status_code == 200
    assert response.json()["text"] == "final text"
    assert alice_conversation.turns.count() == 1


def test_a_token_authenticates_like_curl_would(alice_token_api, alice_conversation):
    response = alice_token_api.post(turns_url(alice_conversation), turn_body("u1"), format="json")
    assert response.status_code == 201


def test_a_session_post_without_the_csrf_token_is_refused(alice_api, alice_conversation):
    alice_api.credentials()  # drops the X-CSRFToken header
    response = alice_api.post(turns_url(alice_conversation), turn_body("u1"))
    assert response.status_code == 403
    assert not alice_conversation.turns.exists()


def test_an_anonymous_post_is_refused(client, alice_conversation):
    response = client.post(turns_url(alice_conversation), turn_body("u1"), content_type="application/json")
    assert response.status_code == 401


def test_bob_cannot_post_to_alices_conversation(bob_api, alice_conversation):
    response = bob_api.post(turns_url(alice_conversation), turn_body("u1"))
    assert response.status_code == 404
    assert response.json() == {"detail": "This conversation does not exist. It may have been deleted."}
    assert not alice_conversation.turns.exists()


def test_a_late_transcript_is_accepted_after_the_conversation_ended(alice_api, alice_conversation):
    alice_conversation.status = Conversation.Status.ENDED
    alice_conversation.save()
    response = alice_api.post(turns_url(alice_conversation), turn_body("u1"))
    assert response.status_code == 201


def test_the_browser_body_with_usage_is_stored(alice_api, alice_conversation):
    body = {
        "item_id": "a1",
        "previous_item_id": "u1",
        "session": 1,
        "position": 1,
        "role": "assistant",
        "text": "It is sunny in Oslo.",
        "status": "completed",
        "started_at": "2026-11-24T10:00:01.500Z",
        "ended_at": "2026-11-24T10:00:04Z",
        "audio_end_ms": 2500,
        "usage": USAGE,
    }
    response = alice_api.post(turns_url(alice_conversation), body)
    assert response.status_code == 201
    assert response.json()["usage"]["cost"] == USAGE_COST
    assert response.json()["usage"]["total_tokens"] == 253


def test_a_tool_turn_keeps_its_call(alice_api, alice_conversation):
    body = turn_body(
        "f1",
        "tool",
        text="",
        name="get_weather",
        call_id="call_1",
        arguments='{"city":"Oslo"}',
        output='{"t":3}',
    )
    response = alice_api.post(turns_url(alice_conversation), body)
    turn = Turn.objects.get(item_id="f1")
    assert (turn.tool_name, turn.call_id, turn.arguments, turn.output) == (
        "get_weather",
        "call_1",
        '{"city":"Oslo"}',
        '{"t":3}',
    )
    assert response.json()["name"] == "get_weather"


def test_a_batch_stores_every_turn_and_answers_a_list(alice_api, alice_conversation):
    batch = [turn_body("a1", "assistant", position=1), turn_body("u1", position=0)]
    response = alice_api.post(turns_url(alice_conversation), batch)
    assert response.status_code == 201
    assert [t["item_id"] for t in response.json()] == ["a1", "u1"]
    assert [t.item_id for t in alice_conversation.turns.all()] == ["u1", "a1"]


def test_a_batch_of_turns_already_stored_answers_200(alice_api, alice_conversation):
    batch = [turn_body("u1", position=0), turn_body("a1", "assistant", position=1)]
    alice_api.post(turns_url(alice_conversation), batch)
    response = alice_api.post(turns_url(alice_conversation), batch)
    assert response.status_code == 200
    assert alice_conversation.turns.count() == 2


def test_a_batch_larger_than_the_limit_is_refused(alice_api, alice_conversation, settings):
    settings.TURN_BATCH_MAX = 2
    batch = [turn_body(f"u{i}", position=i) for i in range(3)]
    response = alice_api.post(turns_url(alice_conversation), batch)
    assert response.status_code == 400
    assert not alice_conversation.turns.exists()


def test_an_empty_batch_is_refused(alice_api, alice_conversation):
    assert alice_api.post(turns_url(alice_conversation), []).status_code == 400


def test_one_invalid_turn_refuses_the_whole_batch_and_names_it(alice_api, alice_conversation):
    batch = [turn_body("u1"), turn_body("x", "system")]
    response = alice_api.post(turns_url(alice_conversation), batch)
    assert response.status_code == 400
    assert response.json() == {"1": {"role": ['"system" is not a valid choice.']}}
    assert not alice_conversation.turns.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "system"},
        {"status": "maybe"},
        {"item_id": ""},
        {"position": -1},
        {"session": 0},
        {"audio_end_ms": -5},
        {"started_at": "yesterday"},
    ],
    ids=["role", "status", "empty-item-id", "position", "session", "audio_end_ms", "started_at"],
)
def test_invalid_fields_are_refused_with_a_field_error(alice_api, alice_conversation, fields):
    response = alice_api.post(turns_url(alice_conversation), {**turn_body("u1"), **fields})
    assert response.status_code == 400
    assert set(response.json()) == set(fields)


def test_an_unknown_field_is_refused(alice_api, alice_conversation):
    response = alice_api.post(turns_url(alice_conversation), {**turn_body("u1"), "speaker": "me"})
    assert response.status_code == 400
    assert response.json()["speaker"][0].startswith("Unknown field.")


def test_text_longer_than_the_limit_is_refused(alice_api, alice_conversation, settings):
    settings.TURN_TEXT_MAX_LENGTH = 10
    response = alice_api.post(turns_url(alice_conversation), turn_body("u1", text="x" * 11))
    assert response.status_code == 400
    assert response.json() == {"text": ["Ensure this field has no more than 10 characters."]}


def test_a_body_over_the_byte_limit_gets_413_json(alice_api, alice_conversation, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice_api.post(turns_url(alice_conversation), turn_body("u1", text="x" * 2000))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is too large."}


def test_malformed_json_gets_400_json(alice_api, alice_conversation):
    response = alice_api.generic(
        "POST", turns_url(alice_conversation), "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid JSON."}


def test_a_form_encoded_body_is_refused(alice_api, alice_conversation):
    response = alice_api.post(
        turns_url(alice_conversation), {"item_id": "u1", "role": "user"}, format="multipart"
    )
    assert response.status_code == 415


def test_a_201_waits_for_a_durable_commit(alice_api, alice_conversation):
    # A 201 means stored: the post never asks PostgreSQL to acknowledge before the WAL is on disk.
    with CaptureQueriesContext(connection) as queries:
        response = alice_api.post(turns_url(alice_conversation), turn_body("u1", position=0))
    assert response.status_code == 201
    assert not [q["sql"] for q in queries if "synchronous_commit" in q["sql"].lower()]


def test_turns_without_position_after_the_largest_position_are_stored_last(alice_api, alice_conversation):
    url = turns_url(alice_conversation)
    assert alice_api.post(url, turn_body("u1", session=1, position=2_147_483_647)).status_code == 201
    for item_id in ("a1", "u2"):
        response = alice_api.post(url, turn_body(item_id, session=1))
        assert response.status_code == 201, response.content
    detail = alice_api.get(f"/api/conversations/{alice_conversation.pk}/").json()
    assert [turn["item_id"] for turn in detail["turns"]] == ["u1", "a1", "u2"]


def test_a_post_accepts_exactly_the_turn_fields_a_client_may_send():
    # TurnInSerializer declares its fields by hand (speed); the one turn shape is models.TURN_FIELDS,
    # less the time stamps the server keeps.
    assert set(TurnInSerializer().fields) == {*TURN_FIELDS, "usage"} - {"created_at", "updated_at"}
