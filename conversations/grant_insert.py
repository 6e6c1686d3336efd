"""A granted voice session recorded in one SQL statement (PostgreSQL).

A session start that the upstream granted writes two rows: the conversation (created, or its
session counted) and the audit row (SessionGrant). The ORM does that in a transaction, four
round trips (BEGIN, two statements, COMMIT); here one statement with a common table expression
writes both, with one (durable) commit. minting._record_start uses it on PostgreSQL and keeps the
transaction for SQLite and for a continued conversation that is gone meanwhile.
"""

import functools

from django.db import connection

from conversations.models import Conversation, SessionGrant

CONVERSATION_COLUMNS = list(Conversation._meta.concrete_fields)
GRANT_COLUMNS = [field for field in SessionGrant._meta.concrete_fields if not field.primary_key]
COUNTED = ("status", "upstream", "model", "voice", "updated_at")  # set when a session is counted


def create(conversation: Conversation, audit: SessionGrant) -> bool:
    """Insert the unsaved `conversation` and the unsaved `audit` row for it in one statement."""
    params = _values(CONVERSATION_COLUMNS, conversation, add=True) + _grant_values(audit)
    if _execute(_create_sql(), params, audit) is None:
        return False
    _stored(conversation, conversation.pk)
    return True


def count_session(conversation: Conversation, audit: SessionGrant) -> bool:
    """Add one voice session to the stored `conversation` (with its fields in COUNTED as set on the
    instance, ended_at cleared) and insert the unsaved `audit` row; False when the conversation is
    gone, and then nothing was written."""
    fields = [Conversation._meta.get_field(name) for name in COUNTED]
    params = [*_values(fields, conversation), conversation.pk, *_grant_values(audit)]
    found = _execute(_count_sql(), params, audit)
    if found is None:
        return False
    conversation.session_count, conversation.ended_at = found[1], None
    return True


def _execute(sql: str, params: list, audit: SessionGrant) -> tuple | None:
    """Run the statement; its row (the audit row's id first), or None when it wrote nothing."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is not None:
        _stored(audit, found[0])
    return found


def _stored(instance, pk) -> None:
    instance.pk = pk
    instance._state.adding, instance._state.db = False, connection.alias


def _values(fields, instance, *, add: bool = False) -> list:
    return [field.get_db_prep_save(field.pre_save(instance, add=add), connection) for field in fields]


def _grant_values(audit: SessionGrant) -> list:
    return _values([field for field in GRANT_COLUMNS if field.name != "conversation"], audit, add=True)


def _grant_insert() -> str:
    """INSERT of the audit row whose conversation is the `conversation` CTE's one row."""
    columns = ", ".join(field.column for field in GRANT_COLUMNS)
    # Parameters are bound client-side as untyped literals; INSERT … SELECT needs their types.
    values = ", ".join(
        "conversation.id" if field.name == "conversation" else f"CAST(%s AS {field.db_type(connection)})"
        for field in GRANT_COLUMNS
    )
    return f"INSERT INTO {SessionGrant._meta.db_table} ({columns}) SELECT {values} FROM conversation RETURNING id"


@functools.cache
def _create_sql() -> str:
    columns = ", ".join(field.column for field in CONVERSATION_COLUMNS)
    placeholders = ", ".join(["%s"] * len(CONVERSATION_COLUMNS))
    return (
        f"WITH conversation AS (INSERT INTO {Conversation._meta.db_table} ({columns}) "
        f"VALUES ({placeholders}) RETURNING id), "
        f"grant_row AS ({_grant_insert()}) "
        "SELECT id FROM grant_row"
    )


@functools.cache
def _count_sql() -> str:
    assignments = ", ".join(f"{Conversation._meta.get_field(name).column} = %s" for name in COUNTED)
    return (
        f"WITH conversation AS (UPDATE {Conversation._meta.db_table} SET {assignments}, "
        "session_count = session_count + 1, ended_at = NULL WHERE id = %s RETURNING id, session_count), "
        f"grant_row AS ({_grant_insert()}) "
        "SELECT grant_row.id, conversation.session_count FROM grant_row, conversation"
    )
