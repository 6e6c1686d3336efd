"""Many conversations as JSON, every turn written by PostgreSQL and streamed with COPY.

At a million turns the account export spent half its time in Python: a tuple, a dict and json.dumps
per turn (docs/performance.md, "Exports (issue 17)"). Here PostgreSQL writes each turn's JSON text
and the separators between turns, `COPY (SELECT …) TO STDOUT` hands the text over, and Python only
renders each conversation's head (the API's serializer, as before) and passes bytes through. The
file is byte for byte that of exports.render_conversations_json, which stays the reference and
SQLite's path (tests/conversations/test_sql_json.py compares the two).
"""

import json
from collections.abc import Callable, Iterator
from functools import cache

from django.db import connection
from django.db.models import CharField, DateTimeField, DecimalField, IntegerField, QuerySet, TextField
from django.utils import timezone

from conversations import exports, selectors
from conversations.models import TURN_FIELDS, TURN_ORDER, USAGE_FIELDS, Conversation, Turn, Usage
from conversations.serializers import ConversationSerializer

ROWS_PER_CHUNK = 200  # COPY rows (turns of a big conversation) joined into one streamed chunk
# COPY would quote (CSV) or escape (text format) a line break inside a row, and it ends each row
# with one: the SQL writes the file's line breaks as this control character, which JSON text never
# holds raw, and Python drops COPY's and turns these back into line breaks.
LINE_BREAK = "\x1e"
_LINE_BREAK = LINE_BREAK.encode()
# Where a conversation's turns begin in a batch's text: Python puts the conversation's head there.
CONVERSATION = "\x1d"
_CONVERSATION = CONVERSATION.encode()
# As exports.json_text: no raw <, > or & in the file. to_json leaves them as they are.
_HTML_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))
# Control characters as CSV's delimiter and quote: a row holds neither, so COPY never quotes it.
_COPY = "COPY ({}) TO STDOUT (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


def available() -> bool:
    """Whether this path writes the export: on PostgreSQL, with times shown in UTC (the turns' times
    are the database's text then; in another time zone the Python renderer converts each)."""
    return connection.vendor == "postgresql" and str(timezone.get_current_timezone()) == "UTC"


def render_conversations_json(
    conversations: QuerySet[Conversation], progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """exports.render_conversations_json(selectors.transcripts(conversations)) as UTF-8 bytes.
    `progress` is told how many conversations are written, a batch of them at a time."""
    yield b"["
    serializer, done = ConversationSerializer(), 0
    for batch, big in selectors.conversation_batches(conversations):
        heads = [
            (
                (exports.CONVERSATION_END + "," if done or index else "")
                + exports.conversation_head(conversation, serializer)
            ).encode()
            for index, conversation in enumerate(batch)
        ]
        if big:
            yield heads[0]
            yield from _copy(_big_sql(), [batch[0].pk])
        else:
            text = b"".join(_copy(_batch_sql(), [[conversation.pk for conversation in batch]]))
            turns = text.split(_CONVERSATION)[1:]  # the text starts with the first one's mark
            for head, own in zip(heads, turns, strict=True):
                yield head
                yield own
        for written in range(done + 1, done + len(batch) + 1) if progress else ():
            progress(written)  # the batch's bytes are all handed out by now
        done += len(batch)
    yield (exports.CONVERSATION_END if done else "").encode() + b"]"


def _copy(sql: str, params: list) -> Iterator[bytes]:
    rows: list[bytes] = []
    # Parameters bound here: Django's debug cursor (DEBUG, tests) takes a COPY statement alone.
    statement = connection.ops.compose_sql(sql, params)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in copy:
            rows.append(row)
            if len(rows) == ROWS_PER_CHUNK:
                yield _unmarked(rows)
                rows = []
    if rows:
        yield _unmarked(rows)


def _unmarked(rows: list[bytes]) -> bytes:
    # Two replaces cost a tenth of one bytes.translate that deletes.
    text = b"".join(rows).replace(b"\n", b"").replace(_LINE_BREAK, b"\n")
    for raw, escape in _HTML_ESCAPES:
        text = text.replace(raw, escape)
    return text


# --- The SQL -------------------------------------------------------------------------------------


@cache
def _batch_sql() -> str:
    """Several conversations (their ids in export order) as one row: each conversation's mark
    (CONVERSATION), then its turns in order; a conversation without turns is its mark alone. A batch
    is a few thousand turns (selectors.BATCH_TURNS): one row saves Python a step per turn."""
    row = "row_number() OVER w"
    piece = (
        f"CASE WHEN {row} = 1 THEN '{CONVERSATION}' ELSE '' END"
        f" || CASE WHEN t.id IS NULL THEN '' ELSE {_separator(row)} || {_turn()} END"
    )
    return _COPY.format(
        "SELECT string_agg(piece, '' ORDER BY ord, rn) FROM ("
        f"SELECT b.ord, {row} AS rn, {piece} AS piece"
        " FROM unnest(%s::uuid[]) WITH ORDINALITY AS b (id, ord)"
        f" LEFT JOIN {Turn._meta.db_table} t ON t.conversation_id = b.id {_usage_join()}"
        f" WINDOW w AS (PARTITION BY b.ord ORDER BY {_order()})) AS pieces"
    )


@cache
def _big_sql() -> str:
    """One conversation's turns, a row each, in the order of its index: no sort however many."""
    row = "row_number() OVER w"
    return _COPY.format(
        f"SELECT {_separator(row)} || {_turn()}"
        f" FROM {Turn._meta.db_table} t {_usage_join()} WHERE t.conversation_id = %s"
        f" WINDOW w AS (ORDER BY {_order()}) ORDER BY {_order()}"
    )


def _usage_join() -> str:
    # A lookup per turn by its unique index keeps the turns in their index's order. (OFFSET 0 keeps
    # the planner from making it a join, which it may hash after a scan of all usage rows.)
    table, column = Usage._meta.db_table, Usage._meta.get_field("turn").column
    return f"LEFT JOIN LATERAL (SELECT * FROM {table} WHERE {column} = t.id OFFSET 0) u ON true"


def _order() -> str:
    return ", ".join(f"t.{_column(Turn, name)}" for name in TURN_ORDER)


def _separator(row: str) -> str:
    """Before a turn, as exports._json_turns writes it: a line break before the first and before
    each batch of JSON_BATCH, ", " inside one. (`%%`: the SQL goes through psycopg's parameters.)"""
    return (
        f"CASE WHEN {row} = 1 THEN '{LINE_BREAK}'"
        f" WHEN {row} %% {exports.JSON_BATCH} = 1 THEN ',{LINE_BREAK}' ELSE ', ' END"
    )


@cache
def _turn() -> str:
    """A turn's JSON text as selectors.transcript's dict dumps: TURN_FIELDS, then `usage`."""
    usage = _object([(name, _value(Usage, name, "u")) for name in USAGE_FIELDS])
    return _object(
        [(key, _value(Turn, field, "t")) for key, field in TURN_FIELDS.items()]
        + [("usage", f"CASE WHEN u.id IS NULL THEN 'null' ELSE {usage} END")]
    )


def _object(members: list[tuple[str, str]]) -> str:
    """SQL joining a JSON object with json.dumps's separators, ", " and ": "."""
    keys = [("{" if index == 0 else ", ") + json.dumps(key) + ": " for index, (key, _) in enumerate(members)]
    return (
        " || ".join(f"{_literal(key)} || {value}" for key, (_, value) in zip(keys, members, strict=True))
        + " || '}'"
    )


def _value(model, name: str, alias: str) -> str:
    """SQL of one column's JSON text, as json.dumps writes the value the Python path holds."""
    field = model._meta.get_field(name)
    column = f"{alias}.{_column(model, name)}"
    if isinstance(field, DateTimeField):
        text = "'\"' || " + selectors.IsoTime.POSTGRESQL % {"expressions": column} + " || '\"'"
    elif isinstance(field, DecimalField):
        text = f"'\"' || {column}::text || '\"'"  # the Python path holds str(Decimal): the same digits
    elif isinstance(field, IntegerField):
        text = f"{column}::text"
    elif isinstance(field, CharField | TextField) and field.choices and all(map(_plain, field.flatchoices)):
        text = f"'\"' || {column} || '\"'"  # one of the choices (a check constraint), nothing to escape
    elif isinstance(field, CharField | TextField):
        # to_json escapes as json.dumps(ensure_ascii=False) does; many columns are mostly empty.
        text = f"CASE WHEN {column} = '' THEN '\"\"' ELSE to_json({column})::text END"
    else:
        raise TypeError(f"no JSON text in SQL for {model.__name__}.{name} ({type(field).__name__})")
    return f"coalesce({text}, 'null')" if field.null else text


def _plain(choice: tuple) -> bool:
    """Whether a choice's value is its own JSON string's content: no escaping, nothing for HTML."""
    value = choice[0]
    return isinstance(value, str) and json.dumps(value) == f'"{value}"' and not set(value) & set("<>&")


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
