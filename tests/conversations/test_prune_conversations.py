from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from turn_helpers import make_turn, turn_body

from conversations import services
from conversations.models import Conversation, Turn

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_and_new(alice):
    old = Conversation.objects.create(owner=alice, title="old")
    make_turn(old, "u1")
    make_turn(old, "a1", "assistant", position=1)
    Conversation.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=40))
    new = Conversation.objects.create(owner=alice, title="new")
    make_turn(new, "u1")
    return old, new


def run(*args):
    out = StringIO()
    call_command("prune_conversations", *args, stdout=out)
    return out.getvalue().strip()


def test_it_does_nothing_when_retention_is_off(old_and_new, settings):
    settings.CONVERSATION_RETENTION_DAYS = 0
    assert run() == "Retention is off (CONVERSATION_RETENTION_DAYS is 0); nothing was deleted."
    assert Conversation.objects.count() == 2


def test_it_deletes_conversations_inactive_for_longer_than_the_setting(old_and_new, settings):
    settings.CONVERSATION_RETENTION_DAYS = 30
    assert run() == "Deleted 1 conversation(s) with 2 turn(s) inactive for more than 30 days."
    assert list(Conversation.objects.values_list("title", flat=True)) == ["new"]
    assert Turn.objects.count() == 1


def test_dry_run_only_counts(old_and_new, settings):
    settings.CONVERSATION_RETENTION_DAYS = 30
    assert run("--dry-run") == "Would delete 1 conversation(s) with 2 turn(s) inactive for more than 30 days."
    assert Conversation.objects.count() == 2


def test_days_overrides_the_setting(old_and_new, settings):
    settings.CONVERSATION_RETENTION_DAYS = 0
    assert run("--days", "50").startswith("Deleted 0 conversation(s)")
    assert run("--days", "10").startswith("Deleted 1 conversation(s)")


def test_a_recent_turn_keeps_an_old_conversation(alice, settings):
    conversation = Conversation.objects.create(owner=alice)
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=timezone.now() - timedelta(days=90), updated_at=timezone.now() - timedelta(days=90)
    )
    services.record_turn(conversation=conversation, body=turn_body("u1"))
    assert run("--days", "30").startswith("Deleted 0 conversation(s)")
