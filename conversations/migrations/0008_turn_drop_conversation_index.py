"""Drop the turns table's index on conversation_id alone (issue 17, ingest).

The unique (conversation_id, item_id) index and turn_conversation_order both start with the
column, so every lookup by conversation (the listings, the exports, the cascade when a
conversation or an account is deleted, PostgreSQL's own foreign-key check) uses one of them; the
third index only cost every new turn one more index insert. Only the index goes: Django's
AlterField would also drop and re-add the foreign key, which re-checks every row.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "conversations_turn_conversation_id_5017480b"  # the name 0001 gave it, on every database


class Migration(migrations.Migration):
    dependencies = [("conversations", "0007_turn_stored_search_vector")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="turn",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="turns",
                        to="conversations.conversation",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "conversations_turn" ("conversation_id")',
                    elidable=False,
                ),
            ],
        ),
    ]
