"""PostgreSQL: a GIN index over the turns' text search vectors (conversations.search).

The expression is exactly the one SearchVector("text", config=SEARCH_CONFIG) compiles to, so the
planner uses the index for the search filter. Other databases search with a plain LIKE instead.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS turn_text_search ON conversations_turn "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(text, '')))"
)
DROP = "DROP INDEX IF EXISTS turn_text_search"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0003_bound_usage_columns")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
