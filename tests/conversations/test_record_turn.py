from datetime import UTC, datetime
from decimal import Decimal

import pytest
from turn_helpers import USAGE, USAGE_COST, make_turn, turn_body

from conversations import services
from conversations.models import Conversation, Turn, Usage
from conversations.upstreams import realtime

pytestmark = pytest.mark.django_db


def record(conversation, *bodies):
    turns, created = services.record_turns(conversation=conversation, turns=list(bodies))
    return turns, created


def item_ids(conversation):
    return [t.item_id for t in conversation.turns.in_order()]


def test_it_creates_a_turn_and_says_so(alice_conversation):
    (turn,), created = record(alice_conversation, turn_body("u1", session=1, position=0))
    assert created is True
    assert turn.text == "text of u1"
    assert alice_conversation.turns.count() == 1


def test_a_retry_of_the_same_turn_never_creates_a_second_row(alice_conversation):
    body = turn_body("a1", "assistant", session=1, position=1)
    record(alice_conversation, body)
    (turn,), created = record(alice_conversation, body)
    assert created is False
    assert alice_conversation.turns.count() == 1


def test_a_later_post_updates_an_interrupted_reply(alice_conversation):
    record(
        alice_conversation, turn_body("a1", "assistant", text="The weather in Oslo is sunny and", position=1)
    )
    (turn,), created = record(
        alice_conversation, turn_body("a1", "assistant", text="The weather in Oslo", status="interrupted")
    )
    assert created is False
    assert (turn.text, turn.status, turn.position) == ("The weather in Oslo", "interrupted", 1)


def test_a_later_post_does_not_blank_fields_it_did_not_send(alice_conversation):
    started = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    record(alice_conversation, turn_body("u1", text="", session=2, position=4, started_at=started))
    (turn,), _ = record(alice_conversation, {"item_id": "u1", "role": "user", "text": "Hello there"})
    assert (turn.text, turn.session, turn.position, turn.started_at) == ("Hello there", 2, 4, started)


def test_an_empty_or_null_value_never_overwrites_a_stored_one(alice_conversation):
    record(alice_conversation, turn_body("u1", text="Hello there", audio_end_ms=1200))
    (turn,), _ = record(alice_conversation, turn_body("u1", text="", audio_end_ms=None, started_at=None))
    assert (turn.text, turn.audio_end_ms) == ("Hello there", 1200)


def test_the_user_turn_is_listed_first_even_when_the_reply_arrives_first(alice_conversation):
    record(alice_conversation, turn_body("a1", "assistant", previous_item_id="u1", session=1, position=1))
    record(alice_conversation, turn_body("u1", previous_item_id=None, session=1, position=0))
    record(alice_conversation, turn_body("a2", "assistant", previous_item_id="u2", session=1, position=3))
    record(alice_conversation, turn_body("u2", previous_item_id="a1", session=1, position=2))
    assert item_ids(alice_conversation) == ["u1", "a1", "u2", "a2"]


def test_a_later_realtime_session_comes_after_an_earlier_one(alice_conversation):
    record(alice_conversation, turn_body("s2u", session=2, position=0))
    record(
        alice_conversation, turn_body("s1u", session=1, position=0), turn_body("s1a", "assistant", position=1)
    )
    assert item_ids(alice_conversation) == ["s1u", "s1a", "s2u"]


def test_without_position_a_turn_goes_right_after_its_previous_item(alice_conversation):
    make_turn(alice_conversation, "u1", position=0)
    make_turn(alice_conversation, "a1", "assistant", position=1)
    make_turn(alice_conversation, "u2", position=2)
    record(alice_conversation, turn_body("t1", "tool", previous_item_id="a1"))
    assert item_ids(alice_conversation) == ["u1", "a1", "t1", "u2"]


def test_without_position_or_known_previous_item_a_turn_goes_to_the_end(alice_conversation):
    make_turn(alice_conversation, "u1", position=0)
    make_turn(alice_conversation, "a1", "assistant", position=7)
    (turn,), _ = record(alice_conversation, turn_body("u9", previous_item_id="never-seen"))
    assert (turn.session, turn.position) == (1, 8)
    assert item_ids(alice_conversation)[-1] == "u9"


def test_without_session_or_position_a_turn_joins_the_latest_session(alice_conversation):
    alice_conversation.session_count = 3
    alice_conversation.save()
    (turn,), _ = record(alice_conversation, turn_body("u1"))
    assert (turn.session, turn.position) == (3, 0)


def test_the_first_user_words_become_the_title_when_it_is_blank(alice):
    conversation = Conversation.objects.create(owner=alice)
    record(conversation, turn_body("a1", "assistant", text="Hello! How can I help?"))
    record(
        conversation, turn_body("u1", text="What's the weather like in Oslo and Bergen this weekend, please?")
    )
    conversation.refresh_from_db()
    assert conversation.title == "What's the weather like in Oslo and Bergen…"


def test_a_title_the_user_chose_is_kept(alice_conversation):
    record(alice_conversation, turn_body("u1", text="Something else entirely"))
    alice_conversation.refresh_from_db()
    assert alice_conversation.title == "Weather in Oslo"


def test_the_conversation_starts_at_its_earliest_turn(alice_conversation):
    early, late = datetime(2026, 11, 24, 9, 0, tzinfo=UTC), datetime(2026, 11, 24, 9, 5, tzinfo=UTC)
    record(alice_conversation, turn_body("a1", "assistant", started_at=late))
    record(alice_conversation, turn_body("u1", started_at=early))
    alice_conversation.refresh_from_db()
    assert alice_conversation.started_at == early


def test_usage_is_stored_with_its_estimated_cost(alice, alice_conversation):
    record(alice_conversation, turn_body("a1", "assistant", usage=USAGE))
    usage = Usage.objects.get(turn__item_id="a1")
    assert (usage.text_in, usage.text_cached, usage.audio_in, usage.audio_cached) == (119, 64, 13, 0)
    assert (usage.text_out, usage.audio_out, usage.total_tokens) == (30, 91, 253)
    assert usage.cost == Decimal(USAGE_COST)
    assert (usage.user, usage.conversation, usage.model) == (alice, alice_conversation, "gpt-realtime")


def test_a_repeated_usage_post_updates_the_one_usage_row(alice_conversation):
    record(alice_conversation, turn_body("a1", "assistant", usage=USAGE))
    record(alice_conversation, turn_body("a1", "assistant", usage={**USAGE, "total_tokens": 300}))
    assert Usage.objects.get().total_tokens == 300


def test_an_unknown_model_costs_nothing_rather_than_guessing(alice):
    conversation = Conversation.objects.create(owner=alice, model="some-future-model")
    record(conversation, turn_body("a1", "assistant", usage=USAGE))
    assert Usage.objects.get().cost == 0
    assert conversation.price_known is False


def test_prices_come_from_settings(settings):
    settings.REALTIME_PRICES = {"m": {"text_in": 1, "text_out": 2, "audio_in": 3, "audio_out": 4}}
    usage = {
        "input_token_details": {"text_tokens": 1_000_000, "audio_tokens": 0},
        "output_token_details": {"text_tokens": 1_000_000, "audio_tokens": 1_000_000},
    }
    counts = realtime.token_counts(usage)
    assert services.token_cost(model="m", counts=counts) == Decimal("7")
    assert services.token_cost(model="other", counts=counts) is None


def test_ending_twice_keeps_the_first_end_time(alice_conversation):
    services.update_conversation(conversation=alice_conversation, status="ended")
    first = alice_conversation.ended_at
    services.update_conversation(conversation=alice_conversation, status="ended")
    alice_conversation.refresh_from_db()
    assert alice_conversation.status == Conversation.Status.ENDED
    assert alice_conversation.ended_at == first


def test_turns_are_ordered_by_session_position_link_depth_then_arrival(alice_conversation):
    assert Turn._meta.ordering == ["conversation", "session", "position", "link_depth", "id"]


def test_a_predecessor_that_arrives_after_its_successor_is_still_listed_first(alice_conversation):
    # An API client that sends no positions: B2 names A1, which arrives later; C3 names B2.
    record(alice_conversation, turn_body("B2", "assistant", previous_item_id="A1"))
    record(alice_conversation, turn_body("A1"))
    record(alice_conversation, turn_body("C3", previous_item_id="B2"))
    assert item_ids(alice_conversation) == ["A1", "B2", "C3"]


def test_a_late_predecessor_pulls_its_whole_chain_after_it(alice_conversation):
    make_turn(alice_conversation, "u0", position=0)
    record(alice_conversation, turn_body("D4", previous_item_id="C3"))
    record(alice_conversation, turn_body("C3", "assistant", previous_item_id="B2"))
    record(alice_conversation, turn_body("B2", previous_item_id="u0"))
    record(alice_conversation, turn_body("E5", "assistant", previous_item_id="D4"))
    assert item_ids(alice_conversation) == ["u0", "B2", "C3", "D4", "E5"]


def test_a_turn_placed_by_its_client_stays_where_the_client_put_it(alice_conversation):
    record(alice_conversation, turn_body("a1", "assistant", previous_item_id="u1", position=5))
    record(alice_conversation, turn_body("u1", previous_item_id="", position=9))
    assert item_ids(alice_conversation) == ["a1", "u1"]
