"""A new turn in one SQL statement (PostgreSQL): the common case of turn ingest.

The browser posts each Realtime item once, with its session and position. Such a post is one
`INSERT … ON CONFLICT DO NOTHING` whose common table expressions also check that the conversation
is the user's, store the usage row and touch the conversation (last activity, start, title, and
its stored figures: conversations/figures.py): one round trip and one commit, the same rows
services.record_turn's transaction writes.

Anything else stores nothing here and goes through services.record_turn: a post without a
position (the server places it), an item already stored (an update), a turn whose server-placed
successors are stored already (they move), and a conversation that is not the user's (a 404).
"""

import functools
import sys

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from conversations.models import Conversation, Turn, Usage

TURN_COLUMNS = [field for field in Turn._meta.concrete_fields if not field.primary_key]
USAGE_COLUMNS = [field for field in Usage._meta.concrete_fields if field.name not in ("id", "turn")]
MOMENT = Turn._meta.get_field("created_at")


def insert(turn: Turn, *, title: str, usage: Usage | None, owner_id: int) -> Turn | None:
    """Store the unsaved, positioned `turn` (with its unsaved `usage`, and `title` for a conversation
    that has none yet) in one statement; the stored turn, or None when nothing was stored."""
    # The wrapper itself: each attribute of the `connection` proxy is a thread-local lookup, and
    # preparing the ~25 values asks it several times each.
    db = connections[DEFAULT_DB_ALIAS]
    params = [
        turn.conversation_id,
        owner_id,
        *_values(TURN_COLUMNS, turn, db),
        turn.conversation_id,
        turn.item_id,
    ]
    if usage is not None:
        params += _values(USAGE_COLUMNS, usage, db)
    started = turn.started_at or turn.created_at
    params += [MOMENT.get_db_prep_save(value, db) for value in (timezone.now(), started, started)]
    if title:
        params.append(title)
    params.append(turn.conversation_id)
    with prepared_cursor(db) as cursor:
        cursor.execute(_sql(usage is not None, bool(title)), params)
        found = cursor.fetchone()
    if found is None:
        return None
    turn.pk = found[0]
    turn._state.adding, turn._state.db = False, db.alias
    if usage is not None:
        usage.pk = found[1]
        usage._state.adding, usage._state.db = False, db.alias
    Turn.usage.related.set_cached_value(turn, usage)  # None: known to have none, no query to ask
    return turn


# psycopg prepares nothing on a connection whose prepare_threshold is None, even when asked to
# (prepare=True), and Django opens every connection so, to keep connection poolers working. A
# threshold no statement reaches keeps preparation explicit: only the statements below are
# prepared (Django's own cursors bind client-side and are never prepared either way).
EXPLICIT_ONLY = sys.maxsize


class _PreparedCursor(psycopg.Cursor):
    """Binds the parameters server-side and prepares each statement shape once per database
    connection: later posts send only the parameters, and PostgreSQL neither parses nor plans the
    statement again (Django's own cursors bind client-side: the text is parsed on every post).
    Behind PgBouncer in transaction mode this needs its `max_prepared_statements`."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True, **kwargs)

    def _maybe_prepare_gen(self, pgq, **kwargs):
        # psycopg remembers the statement text only when it sends it unprepared; Django reads it
        # for connection.queries (DEBUG, tests).
        self._query = pgq
        return super()._maybe_prepare_gen(pgq, **kwargs)


def prepared_cursor(db):
    db.ensure_connection()
    raw = db.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = EXPLICIT_ONLY
    with db.wrap_database_errors:
        cursor = _PreparedCursor(raw)
    # Django's wrapper: database errors as Django's, and the statement in connection.queries.
    return db._prepare_cursor(cursor)


def _values(fields, instance, db) -> list:
    return [field.get_db_prep_save(field.pre_save(instance, add=True), db) for field in fields]


def _cast(field) -> str:
    # INSERT … SELECT needs the parameters' column types (a bound str or None has none).
    return f"CAST(%s AS {field.db_type(connection)})"


def _columns(fields) -> str:
    return ", ".join(field.column for field in fields)


@functools.cache
def _sql(usage: bool, title: bool) -> str:
    """The statement, built once per shape; its parameters come in the order insert() lists them."""
    conversations, turns = Conversation._meta.db_table, Turn._meta.db_table
    sql = (
        f"WITH owner AS (SELECT id FROM {conversations} WHERE id = %s AND owner_id = %s), "
        f"new AS (INSERT INTO {turns} ({_columns(TURN_COLUMNS)}) "
        f"SELECT {', '.join(map(_cast, TURN_COLUMNS))} FROM owner "
        # Server-placed turns that follow this item have to move: services.record_turn does that.
        f"WHERE NOT EXISTS (SELECT 1 FROM {turns} s WHERE s.conversation_id = %s "
        "AND s.position_assigned AND s.previous_item_id = %s) "
        "ON CONFLICT (conversation_id, item_id) DO NOTHING "
        "RETURNING id, COALESCE(ended_at, started_at, created_at) AS moment)"
    )
    if usage:
        sql += (
            f", new_usage AS (INSERT INTO {Usage._meta.db_table} (turn_id, {_columns(USAGE_COLUMNS)}) "
            f"SELECT new.id, {', '.join(map(_cast, USAGE_COLUMNS))} FROM new RETURNING id, total_tokens, cost)"
        )
    # Last activity (for retention), the earliest start, the figures (figures.py: one more turn, its
    # usage, the latest turn time; GREATEST skips a NULL), and the title when there is none yet.
    moment = _cast(MOMENT)
    sets = [
        f"updated_at = {moment}",
        f"started_at = CASE WHEN c.started_at IS NULL OR c.started_at > {moment} "
        f"THEN {moment} ELSE c.started_at END",
        "turn_count = c.turn_count + 1",
        "last_turn_at = GREATEST(c.last_turn_at, new.moment)",
    ]
    if usage:
        sets += [
            "total_tokens = c.total_tokens + new_usage.total_tokens",
            "total_cost = c.total_cost + new_usage.cost",
        ]
    if title:
        sets.append("title = CASE WHEN c.title = '' THEN %s ELSE c.title END")
    sources = "new, new_usage" if usage else "new"
    sql += f", touched AS (UPDATE {conversations} c SET {', '.join(sets)} FROM {sources} WHERE c.id = %s) "
    if usage:
        return sql + "SELECT new.id, new_usage.id FROM new, new_usage"
    return sql + "SELECT new.id, NULL FROM new"
