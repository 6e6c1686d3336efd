"""The figures of each conversation"s turns and usage stored on the conversation (conversations/figures.py),
filled in for the existing rows: two UPDATE … FROM over grouped subqueries, one pass over each table
(PostgreSQL and SQLite 3.33+). The columns" defaults (0 and NULL) are right for the conversations without
turns or usage."""

from decimal import Decimal

from django.db import migrations, models

FROM_TURNS = (
    "UPDATE conversations_conversation SET turn_count = t.n, last_turn_at = t.last FROM ("
    "SELECT conversation_id, COUNT(*) AS n, MAX(COALESCE(ended_at, started_at, created_at)) AS last "
    "FROM conversations_turn GROUP BY conversation_id) AS t "
    "WHERE conversations_conversation.id = t.conversation_id"
)
FROM_USAGE = (
    "UPDATE conversations_conversation SET total_tokens = u.tokens, total_cost = u.cost FROM ("
    "SELECT conversation_id, SUM(total_tokens) AS tokens, SUM(cost) AS cost "
    "FROM conversations_usage GROUP BY conversation_id) AS u "
    "WHERE conversations_conversation.id = u.conversation_id"
)


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FROM_TURNS)
        cursor.execute(FROM_USAGE)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0008_turn_drop_conversation_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="last_turn_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="total_cost",
            field=models.DecimalField(decimal_places=6, default=Decimal("0"), editable=False, max_digits=24),
        ),
        migrations.AddField(
            model_name="conversation",
            name="total_tokens",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="conversation",
            name="turn_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
