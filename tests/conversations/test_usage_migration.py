"""Before usage had bounds, SQLite stored whatever the browser sent (a $64M response, 10**12
tokens) and every page that read the row back failed; the migration that adds the bounds brings
such rows back inside their columns."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from migration_helpers import migrate_to, migrate_to_latest

from conversations.models import USAGE_COST_MAX, USAGE_COUNT_MAX, Usage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="PostgreSQL never stored such rows: its columns refuse them."
    ),
]

BEFORE = [("conversations", "0002_turn_link_placement")]
AFTER = [("conversations", "0003_bound_usage_columns")]


def test_the_bounds_migration_repairs_rows_stored_out_of_range(alice):
    try:
        old = migrate_to(BEFORE)
        conversation = old.get_model("conversations", "Conversation").objects.create(
            owner_id=alice.pk, model="gpt-realtime"
        )
        turn = old.get_model("conversations", "Turn").objects.create(
            conversation=conversation, item_id="a1", role="assistant", text="Sunny."
        )
        old.get_model("conversations", "Usage").objects.create(
            turn=turn,
            conversation=conversation,
            user_id=alice.pk,
            model="gpt-realtime",
            day=timezone.localdate(),
            audio_out=10**12,
            total_tokens=10**12,
            cost=Decimal("64000000.000000"),
        )
        migrate_to(AFTER)
    finally:
        migrate_to_latest()

    usage = Usage.objects.get()
    assert (usage.audio_out, usage.total_tokens, usage.cost) == (
        USAGE_COUNT_MAX,
        USAGE_COUNT_MAX,
        USAGE_COST_MAX,
    )
    owner = Client()
    owner.force_login(alice)
    assert owner.get(f"/conversations/{conversation.pk}/").status_code == 200
    assert owner.get(f"/api/conversations/{conversation.pk}/").status_code == 200
