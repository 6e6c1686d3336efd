import pytest
from django.db import IntegrityError, transaction

from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db


def test_the_database_rejects_a_second_turn_with_the_same_item_id(alice_conversation):
    Turn.objects.create(conversation=alice_conversation, item_id="item_1", role="user", text="hi")
    with pytest.raises(IntegrityError), transaction.atomic():
        Turn.objects.create(conversation=alice_conversation, item_id="item_1", role="assistant", text="hello")
    assert alice_conversation.turns.count() == 1


def test_the_same_item_id_may_appear_in_two_conversations(alice, alice_conversation):
    other = Conversation.objects.create(owner=alice)
    Turn.objects.create(conversation=alice_conversation, item_id="item_1", role="user")
    Turn.objects.create(conversation=other, item_id="item_1", role="user")
    assert Turn.objects.filter(item_id="item_1").count() == 2


@pytest.mark.parametrize(
    "fields", [{"item_id": ""}, {"role": "system"}, {"status": "maybe"}], ids=["empty-id", "role", "status"]
)
def test_the_database_rejects_invalid_turns(alice_conversation, fields):
    values = {"item_id": "item_1", "role": "user", "status": "completed", **fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        Turn.objects.create(conversation=alice_conversation, **values)


def test_turns_are_listed_by_session_then_position_not_arrival(alice_conversation):
    Turn.objects.create(
        conversation=alice_conversation, item_id="a2", role="assistant", session=1, position=2
    )
    Turn.objects.create(conversation=alice_conversation, item_id="u1", role="user", session=1, position=1)
    Turn.objects.create(conversation=alice_conversation, item_id="u3", role="user", session=2, position=1)
    assert [t.item_id for t in alice_conversation.turns.all()] == ["u1", "a2", "u3"]


def test_conversation_ids_are_uuids_not_counters(alice):
    first, second = Conversation.objects.create(owner=alice), Conversation.objects.create(owner=alice)
    assert len(str(first.pk)) == 36
    assert first.get_absolute_url() == f"/conversations/{first.pk}/"
    assert str(first.pk) != str(second.pk)
