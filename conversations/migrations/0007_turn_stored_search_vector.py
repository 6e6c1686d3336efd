"""PostgreSQL: each turn's text search vector stored in the row, indexed with GIN (conversations.search).

Searching compared to_tsvector(text) per turn it checked: the GIN index of 0004 found the matching
rows, but checking the turns of a conversation (the common-word plan) recomputed the vector of each
(~36 µs a turn). A generated column computes it once, when the text is written. It is not a model
field: only PostgreSQL has it, and nothing but the search reads it. Adding it rewrites the table
(about a minute per million turns). Other databases search with a plain LIKE instead.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE conversations_turn ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, COALESCE(text, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS turn_search_vector ON conversations_turn USING gin (search_vector)",
    "DROP INDEX IF EXISTS turn_text_search",
    # The rewritten table has no statistics for the new column yet: without them the planner
    # intersects the whole word's index entries with every conversation (minutes, not ms).
    "ANALYZE conversations_turn",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS turn_text_search ON conversations_turn "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))",
    "ALTER TABLE conversations_turn DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0006_session_grant_budget_spent")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
